"""Read a published package (never the live warehouse) into Polars frames, and say what it covers.

Everything the site states about coverage comes from here: the snapshot range and kinds (the
manifest), the last snapshot of each source and which snapshots were simulated (the package's own
snapshot_coverage table), and from which month on a monthly series is still partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from dashboards.simulated import simulated_statement

# Which snapshots decide the coverage of a (platform, entity) series.
SOURCE_OF = {
    ("civitai", "model"): "civitai_models",
    ("civitai", "image"): "civitai_images",
    ("huggingface", "model"): "hf_models",
}


class PackageError(RuntimeError):
    """The folder is not a hubwatch package."""


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Package:
    path: Path
    manifest: dict[str, Any]
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    def has(self, name: str) -> bool:
        return (self.path / "data" / f"{name}.parquet").is_file()

    def table(self, name: str) -> pl.DataFrame:
        if name not in self._cache:
            self._cache[name] = pl.read_parquet(self.path / "data" / f"{name}.parquet")
        return self._cache[name]

    def optional(self, name: str) -> pl.DataFrame | None:
        """A table other packages may lack (added after them): None when this one has none."""
        return self.table(name) if self.has(name) else None

    def describe(self, table: str, column: str | None = None) -> str:
        """The description dbt persisted for a table (or one of its columns), as the manifest has it."""
        meta = self.manifest.get("tables", {}).get(table, {})
        if column is None:
            return meta.get("description", "")
        return next((c.get("description", "") for c in meta.get("schema", []) if c["name"] == column), "")

    @property
    def simulated(self) -> bool:
        return bool(self.manifest.get("simulated"))

    @property
    def publish_date(self) -> str:
        return str(self.manifest["publish_date"])

    @property
    def rules_version(self) -> str:
        return str(self.manifest.get("rules_version", "unknown"))

    @property
    def snapshot_range(self) -> tuple[str, str]:
        first, last = self.manifest["snapshot_range"]
        return str(first), str(last)

    @property
    def footnote(self) -> str:
        first, last = self.snapshot_range
        kinds = ", ".join(self.manifest.get("kinds", []))
        return f"Rule set {self.rules_version}; snapshots {first} to {last} ({kinds}); package {self.publish_date}."

    @cached_property
    def snapshots(self) -> pl.DataFrame:
        """source, snapshot_date, kind of every complete snapshot the package was built from: the
        manifest's own list when it names each snapshot's kind, else the package's snapshot_coverage."""
        listed = self.manifest.get("snapshots")
        wanted = {"source", "snapshot_date", "kind"}
        if isinstance(listed, list) and listed and all(isinstance(x, dict) and wanted <= x.keys() for x in listed):
            return (
                pl.DataFrame([{k: str(x[k]) for k in wanted} for x in listed])
                .with_columns(pl.col("snapshot_date").str.slice(0, 10).str.to_date())
                .select("source", "snapshot_date", "kind")
                .sort("source", "snapshot_date")
            )
        if self.has("snapshot_coverage"):
            return (
                self.table("snapshot_coverage")
                .select("source", "snapshot_date", "kind")
                .sort("source", "snapshot_date")
            )
        return pl.DataFrame(schema={"source": pl.String, "snapshot_date": pl.Date, "kind": pl.String})

    @cached_property
    def last_snapshot(self) -> dict[str, date]:
        """The latest complete snapshot of each source."""
        rows = self.snapshots.group_by("source").agg(pl.col("snapshot_date").max())
        return dict(rows.iter_rows())

    def horizon(self, platform: str, entity: str) -> date:
        """Items created before this day are all in the package (as far as its snapshots can see).

        The last snapshot of the series' source (else the package's last snapshot); for images, less
        the 90th percentile of the feed's delay when the package measures it (image_feed_delay):
        images still unrated or unlisted then would fill the last days later.
        """
        source = SOURCE_OF.get((platform, entity))
        last = self.last_snapshot.get(source) if source else None
        horizon = last or date.fromisoformat(self.snapshot_range[1])
        delay = self.optional("image_feed_delay")
        if entity == "image" and delay is not None and delay.height and "delay_days_p90" in delay.columns:
            latest = delay.sort("snapshot_date").drop_nulls("delay_days_p90")
            if latest.height:
                horizon -= timedelta(days=float(latest["delay_days_p90"][-1]))
        return horizon

    def first_partial_month(self, platform: str, entity: str) -> date:
        """Months from this one on are partial: the snapshots do not cover them whole."""
        return month_start(self.horizon(platform, entity))

    def partial_month(self, platform: str, entity: str, month: date) -> bool:
        """A month is complete only when every day of it lies before the horizon."""
        return next_month(month) > self.horizon(platform, entity)

    def simulated_statement(self) -> str | None:
        """Which snapshots are simulated, exactly: all of them, or the sources and dates that are."""
        return simulated_statement(self.snapshots.iter_rows(), self.simulated)


def open_package(path: Path) -> Package:
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise PackageError(f"{path} is not a published package (no manifest.json): run `hubwatch publish` first")
    return Package(path.resolve(), orjson.loads(manifest.read_bytes()))

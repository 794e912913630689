"""Read a published package (never the live warehouse) into Polars frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl


class PackageError(RuntimeError):
    """The folder is not a hubwatch package."""


@dataclass(frozen=True)
class Package:
    path: Path
    manifest: dict[str, Any]

    def table(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.path / "data" / f"{name}.parquet")

    @property
    def simulated(self) -> bool:
        return bool(self.manifest.get("simulated"))

    @property
    def footnote(self) -> str:
        first, last = self.manifest["snapshot_range"]
        kinds = ", ".join(self.manifest.get("kinds", []))
        return (
            f"Rule set {self.manifest['rules_version']}; snapshots {first} to {last} ({kinds}); "
            f"package {self.manifest['publish_date']}."
        )


def open_package(path: Path) -> Package:
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise PackageError(f"{path} is not a published package (no manifest.json): run `hubwatch publish` first")
    return Package(path.resolve(), orjson.loads(manifest.read_bytes()))

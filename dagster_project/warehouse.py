"""Everything `dbt build` needs that dbt cannot do itself (dbt itself runs in one place only:
the `@dbt_assets` of dagster_project/defs/transform, which tests and benchmarks run too).

dbt must read only complete, intact snapshots, and DuckDB errors on a glob that matches no
file. So before every build: each raw/ partition is verified against its manifest (a ledger
remembers verified manifests, so a daily build hashes only the new snapshot; --full-refresh
verifies everything again), an empty Parquet file with the right schema stands in for a
source that has no snapshot yet, and the verified locations are passed to dbt as vars, with
the home, the salt's path and hubwatch's version (so nothing is passed through os.environ).
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from ingest import __version__, civitai, huggingface
from ingest.files import dumps, sql_text, write_atomic
from ingest.home import ensure_creator_salt
from ingest.http import CrawlError
from ingest.landing import SOURCES, BadSnapshot, verify_snapshot

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")  # the dbt of this environment, PATH or not
TABLES = {
    "civitai_models": ("models", "model_versions", "model_files"),
    "civitai_images": ("images",),
    "hf_models": ("models", "model_files"),
}
LEDGER = "verified_snapshots.json"
PENDING_REFRESH = "full_refresh_pending.json"


class BuildError(CrawlError):
    """The warehouse could not be built; the message says why in one line."""


def empty_tables() -> dict[str, pl.DataFrame]:
    """Zero-row tables with exactly the schemas ingest writes, keyed 'source/table'."""
    frames = {
        **{f"civitai_models/{k}": v for k, v in civitai.normalise_models([]).items()},
        **{f"civitai_images/{k}": v for k, v in civitai.normalise_images([]).items()},
        "hf_models/models": huggingface.normalise_models([]),
        "hf_models/model_files": huggingface.normalise_files([], date(1, 1, 1)),
    }
    return frames


def verify_raw(home: Path, full: bool = False) -> dict[str, list[date]]:
    """Verify every raw/ partition (new ones only, unless full); return complete dates per source."""
    ledger_path = home / LEDGER
    ledger = {} if full or not ledger_path.is_file() else orjson.loads(ledger_path.read_bytes())
    dates: dict[str, list[date]] = {}
    for source in SOURCES:
        root = home / "raw" / source
        for partition in sorted(root.glob("*")) if root.is_dir() else []:
            if not partition.name.startswith("snapshot_date="):
                raise BuildError(f"{partition} is not a snapshot partition (expected snapshot_date=YYYY-MM-DD)")
            manifest_file = partition / "manifest.json"
            key = partition.relative_to(home).as_posix()
            stamp = hashlib.sha256(manifest_file.read_bytes()).hexdigest() if manifest_file.is_file() else None
            if stamp is None or ledger.get(key) != stamp:
                try:
                    verify_snapshot(partition)
                except BadSnapshot as error:
                    raise BuildError(str(error)) from None
                ledger[key] = stamp
            dates.setdefault(source, []).append(date.fromisoformat(partition.name.split("=", 1)[1]))
    write_atomic(ledger_path, dumps(ledger))
    return dates


def vanished_snapshots(home: Path) -> list[str]:
    """Snapshots an earlier build loaded that are no longer in raw/ as they were: withdrawn (or
    removed by hand), even if the date was imported or taken again since. Incremental models
    keep the rows of such a snapshot, so the build must rebuild every table (a full refresh);
    until one succeeds they stay listed in PENDING_REFRESH, so a failed rebuild is retried."""
    ledger_path, pending_path = home / LEDGER, home / PENDING_REFRESH
    ledger = orjson.loads(ledger_path.read_bytes()) if ledger_path.is_file() else {}
    pending = orjson.loads(pending_path.read_bytes()) if pending_path.is_file() else []
    withdrawn = {
        orjson.loads(p.read_bytes()).get("manifest_sha256") for p in home.glob("withdrawn/*/*/withdrawal.json")
    }
    gone = []
    for key, stamp in ledger.items():
        manifest = home / key / "manifest.json"
        retaken = manifest.is_file() and hashlib.sha256(manifest.read_bytes()).hexdigest() != stamp
        if not manifest.is_file() or (retaken and stamp in withdrawn):
            gone.append(key)
    vanished = sorted(set(pending) | set(gone))
    if vanished != pending:
        write_atomic(pending_path, dumps(vanished))
    return vanished


def refreshed(home: Path) -> None:
    """A full refresh succeeded: no vanished snapshot's rows are left in the warehouse."""
    (home / PENDING_REFRESH).unlink(missing_ok=True)


def describe_vanished(keys: list[str]) -> str:
    """One line for the operator: which snapshots left raw/, and what the build does about it."""
    names = [key.removeprefix("raw/").replace("/snapshot_date=", " ") for key in keys]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    them = "it" if len(names) == 1 else "them"
    return f"{shown} left raw/ (withdrawn) since an earlier build: rebuilding every table without {them} (full refresh)"


def sql_list(paths: list[str]) -> str:
    """A DuckDB list literal of string paths, quotes escaped."""
    return "[" + ", ".join(f"'{sql_text(p)}'" for p in paths) + "]"


def dbt_vars(home: Path, dates: dict[str, list[date]]) -> dict[str, Any]:
    """Where dbt's raw sources are: a glob over verified partitions, or an empty stand-in."""
    if not any(dates.values()):
        raise BuildError(f"no complete snapshots under {home / 'raw'}: take one with `hubwatch snapshot` first")
    stand_ins = home / "warehouse_schemas"
    files: dict[str, str] = {"manifests": sql_list([f"{home}/raw/*/snapshot_date=*/manifest.json"])}
    for source, tables in TABLES.items():
        for table in tables:
            key = f"{source}/{table}"
            if dates.get(source):
                files[key] = sql_list([f"{home}/raw/{source}/snapshot_date=*/{table}.parquet"])
            else:
                stand_in = stand_ins / source / "snapshot_date=0001-01-01" / f"{table}.parquet"
                if not stand_in.is_file():
                    stand_in.parent.mkdir(parents=True, exist_ok=True)
                    empty_tables()[key].write_parquet(stand_in)
                files[key] = sql_list([str(stand_in)])
    return {"raw_files": files}


def build_args(home: Path, full_refresh: bool = False, partial: bool = False) -> list[str]:
    """`dbt build` with its vars, once raw/ is verified (BuildError names what was refused). A partial
    build runs only the tests whose every parent it builds (dbt's cautious indirect selection): a
    test that also reads a table outside the selection may find it missing or stale."""
    salt = ensure_creator_salt(home)
    raw_vars = dbt_vars(home, verify_raw(home, full=full_refresh))
    settings = {"hubwatch_home": str(home), "hubwatch_version": __version__, "creator_salt_path": str(salt)}
    args = ["build", "--vars", orjson.dumps({**raw_vars, **settings}).decode()]
    if partial:
        args += ["--indirect-selection", "cautious"]
    return [*args, "--full-refresh"] if full_refresh else args

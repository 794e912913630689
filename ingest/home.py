"""The layout of $HUBWATCH_HOME, in one place.

raw/<source>/snapshot_date=YYYY-MM-DD/      complete snapshots (readers look only here)
staging/<source>/snapshot_date=YYYY-MM-DD/  snapshots being taken
withdrawn/<source>/snapshot_date=YYYY-MM-DD[.<UTC stamp>]/
                                            withdrawn snapshots, whole, with withdrawal.json
secrets/creator_salt                        the salt of creator-name hashes (never published)
warehouse.duckdb                            the warehouse dbt writes (the default engine, DuckDB)
spark/                                      `hubwatch build --engine spark`: Spark's warehouse of Parquet
                                            tables, its metastore and scratch space, and public.duckdb
                                            (the public tables it built, handed to DuckDB for publish)
builds/<run_id>.json, builds/latest.json    build records: what each build read, how it ended
verified_snapshots.json                     the ledger of verified raw/ partitions (manifest sha256, sizes, mtimes)
built_logic.json, spark/built_logic.json    the dbt logic that built each model of each engine's warehouse
dbt/target/<UTC time>-<run>/                dbt's artefacts of the last few builds
publish/YYYY-MM-DD/, publish/latest         the dated packages
dagster/, logs/                             run history and logs (logs/errors.log: tracebacks of unexpected errors)
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

from ingest.errors import CrawlError
from ingest.files import write_atomic

MANIFEST = "manifest.json"  # written last: a snapshot is complete only when it exists


def hubwatch_home() -> Path:
    """The data directory: $HUBWATCH_HOME, default ./data."""
    return Path(os.environ.get("HUBWATCH_HOME", "data")).resolve()


def partition_name(snapshot_date: date) -> str:
    return f"snapshot_date={snapshot_date.isoformat()}"


def parse_as_of(value: str) -> date:
    """A snapshot's date as a person gave it (--as-of, `withdraw`'s DATE), refused in one line."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CrawlError(f"invalid --as-of {value!r}: expected a date as YYYY-MM-DD") from None


def snapshot_path(home: Path, source: str, snapshot_date: date) -> Path:
    return home / "raw" / source / partition_name(snapshot_date)


def withdrawn_path(home: Path, source: str, snapshot_date: date) -> Path:
    return home / "withdrawn" / source / partition_name(snapshot_date)


def staging_path(home: Path, source: str, snapshot_date: date) -> Path:
    return home / "staging" / source / partition_name(snapshot_date)


ENGINES = ("duckdb", "spark")


def warehouse_path(home: Path, engine: str = "duckdb") -> Path:
    """The DuckDB file holding an engine's public tables: the warehouse itself (DuckDB), or the
    tables a Spark build handed over (publish reads whichever engine built last)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    return home / "warehouse.duckdb" if engine == "duckdb" else home / "spark" / "public.duckdb"


def build_record_path(home: Path, run_id: str) -> Path:
    return home / "builds" / f"{run_id}.json"


def built_logic_path(home: Path, engine: str = "duckdb") -> Path:
    """The fingerprint of the dbt logic that built each model of an engine's warehouse
    (dagster_project/model_logic.py)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    return home / "built_logic.json" if engine == "duckdb" else home / engine / "built_logic.json"


def latest_build_path(home: Path) -> Path:
    """The record of the last build that started (publish reads only this)."""
    return home / "builds" / "latest.json"


def withdrawal_files(home: Path) -> list[Path]:
    """withdrawn/<source>/<partition>/withdrawal.json of every withdrawn snapshot, in path order."""
    return sorted((home / "withdrawn").glob("*/*/withdrawal.json"))


def ensure_creator_salt(home: Path) -> Path:
    """The salt for creator-name hashes: made once, kept outside every package (mode 600)."""
    path = home / "secrets" / "creator_salt"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(path, secrets.token_hex(32).encode())
        path.chmod(0o600)
    return path

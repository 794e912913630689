"""DuckDB reads a raw table without union_by_name only when every one of its files has the same
columns and types (dagster_project/raw_schemas.py): reading by the first file's columns would drop
a later file's extra column silently, and merging by name reads every footer at each bind."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import orjson
import polars as pl
import pytest
import yaml

from dagster_project.raw_schemas import SCHEMAS, mixed_tables
from dagster_project.runs import build_warehouse
from dagster_project.warehouse import DBT_DIR, dbt_vars
from ingest.fakehub import FakeHub, build_world
from ingest.files import dumps
from ingest.landing import MANIFEST
from tests.test_crash_harness import DAY, NEXT_DAY, SOURCES, take_in_process


def write(path: Path, frame: pl.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def day_files(root: Path, frames: list[pl.DataFrame]) -> list[Path]:
    """One file per day, Hive-partitioned as raw/ is."""
    return [write(root / f"snapshot_date=2025-01-0{i + 1}" / "t.parquet", frame) for i, frame in enumerate(frames)]


BASE = pl.DataFrame({"model_id": [1, 2], "name": ["a", "b"]})


def test_files_of_one_schema_are_read_by_the_first_files_columns(tmp_path):
    files = day_files(tmp_path / "raw", [BASE, BASE.with_columns(model_id=pl.lit(3, dtype=pl.Int64)), BASE.head(1)])
    assert mixed_tables(tmp_path, {"t": files}) == set()


@pytest.mark.parametrize(
    "other",
    [
        BASE.with_columns(tags=pl.lit("x")),  # a column the first file lacks (a newer snapshot)
        BASE.drop("name"),  # a column missing (an older snapshot)
        BASE.with_columns(model_id=pl.col("model_id").cast(pl.Int32)),  # another type
        BASE.with_columns(name=pl.col("name").map_elements(lambda n: [n], return_dtype=pl.List(pl.String))),
    ],
    ids=["extra-column", "missing-column", "narrower-type", "list-type"],
)
def test_a_file_with_other_columns_or_types_keeps_union_by_name(tmp_path, other):
    files = day_files(tmp_path / "raw", [BASE, other, BASE])
    same = day_files(tmp_path / "raw2", [BASE, BASE])
    assert mixed_tables(tmp_path, {"t": files, "same": same}) == {"t"}


def test_a_file_changed_since_its_schema_was_read_is_read_again(tmp_path):
    files = day_files(tmp_path / "raw", [BASE, BASE])
    assert mixed_tables(tmp_path, {"t": files}) == set()
    assert (tmp_path / SCHEMAS).is_file()
    write(files[1], BASE.with_columns(tags=pl.lit("x")))  # replaced: another size and mtime
    assert mixed_tables(tmp_path, {"t": files}) == {"t"}


def test_an_unreadable_file_keeps_union_by_name_and_is_not_remembered(tmp_path):
    files = day_files(tmp_path / "raw", [BASE, BASE])
    files[1].write_bytes(b"PAR1 not parquet")
    same = day_files(tmp_path / "raw2", [BASE, BASE])
    assert mixed_tables(tmp_path, {"t": files, "same": same}) == {"t"}
    remembered = (tmp_path / SCHEMAS).read_text()
    assert "raw/snapshot_date=2025-01-01/t.parquet" in remembered
    assert "raw/snapshot_date=2025-01-02/t.parquet" not in remembered


def source_read(table: str) -> str:
    """The `read` of a raw source, as dbt/models/staging/_sources.yml declares it."""
    sources = yaml.safe_load((DBT_DIR / "models" / "staging" / "_sources.yml").read_text())["sources"]
    (raw,) = (s for s in sources if s["name"] == "raw")
    return next(t["meta"]["read"] for t in raw["tables"] if t["name"] == table)


@pytest.mark.parametrize("mixed", [False, True])
def test_the_sources_read_keeps_every_column_of_every_file(tmp_path, mixed):
    """The staging read as the build makes it (macros/raw_sources.sql: {files} and {union_by_name}
    replaced) over files of one schema, or of two: every row and every column of every file."""
    later = BASE.with_columns(tags=pl.lit("x")) if mixed else BASE
    files = day_files(tmp_path / "raw", [BASE, later])
    union = "t" in mixed_tables(tmp_path, {"t": files})
    assert union == mixed
    read = (
        source_read("civitai_models")
        .replace("{files}", f"['{tmp_path}/raw/snapshot_date=*/t.parquet']")
        .replace("{union_by_name}", "true" if union else "false")
    )
    with duckdb.connect() as con:
        rows = con.sql(f"select * from {read} order by snapshot_date, model_id")  # noqa: S608
        columns, found = rows.columns, rows.fetchall()
    assert len(found) == 4
    if mixed:
        assert [row[columns.index("tags")] for row in found] == [None, None, "x", "x"]


def test_a_build_reads_each_raw_table_by_its_own_files(tmp_path):
    """dbt_vars decides per raw table from the files its glob finds: a listing of another shape in
    one partition makes that table alone merge by name."""
    home = tmp_path / "home"
    with FakeHub(build_world(seed=3, n_models=6, n_images=12, n_repos=3)) as hub:
        take_in_process(home, "civitai_models", hub)
    before = dbt_vars(home, {"civitai_models": [date(2025, 1, 1)]})["raw_files"]
    assert not any(entry.get("union_by_name") for entry in before.values())
    (listing,) = (home / "raw" / "civitai_models").glob("snapshot_date=*/models.listing.parquet")
    older = pl.read_parquet(listing, hive_partitioning=False).drop("download_count")
    write(home / "raw" / "civitai_models" / "snapshot_date=2000-01-01" / listing.name, older)
    after = dbt_vars(home, {"civitai_models": [date(2025, 1, 1)]})["raw_files"]
    assert {key for key, entry in after.items() if entry.get("union_by_name")} == {"civitai_models/models.listing"}


def test_a_warehouse_builds_over_snapshots_stored_with_fewer_columns(tmp_path):
    """Real homes hold snapshots written by older versions: here the first listing lacks a counter
    the second has. The first file's columns alone would fail the read (or, the other way round,
    drop the column silently); the build merges by name and the older snapshot's counter is null."""
    home = tmp_path / "home"
    with FakeHub(build_world(seed=4, n_models=6, n_images=12, n_repos=3)) as hub:
        for source in SOURCES:
            take_in_process(home, source, hub)
        take_in_process(home, "civitai_models", hub, NEXT_DAY)
    partition = home / "raw" / "civitai_models" / f"snapshot_date={DAY.isoformat()}"
    listing = partition / "models.listing.parquet"
    older = pl.read_parquet(listing, hive_partitioning=False).drop("thumbs_up_count")
    write(listing, older)
    manifest = orjson.loads((partition / MANIFEST).read_bytes())  # as the older version recorded it
    manifest["files"][listing.name] = {
        "bytes": listing.stat().st_size,
        "sha256": hashlib.sha256(listing.read_bytes()).hexdigest(),
    }
    (partition / MANIFEST).write_bytes(dumps(manifest))
    outcome = build_warehouse(home)
    assert outcome.success, outcome.error
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        counted = con.sql(
            "select snapshot_date, count(*), count(thumbs_up_count) from staging.stg_civitai__models"
            " group by all order by 1"
        ).fetchall()
    assert [(day, n_counted > 0) for day, _, n_counted in counted] == [(DAY, False), (NEXT_DAY, True)]
    assert counted[0][1] == older.height  # every row of the older snapshot read

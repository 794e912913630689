"""The hand-over of a Spark build's public tables to DuckDB (no JVM: Parquet files stand in for
Spark's tables): declared columns in declared order and types, descriptions kept, a missing
column fails in one line, and a failed hand-over leaves the previous file whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import orjson
import pytest

from dagster_project.spark_export import ExportError, export_public_tables, spark_warehouse_dir
from dagster_project.warehouse import refreshed, vanished_snapshots
from ingest.home import warehouse_path
from tests.conftest import HUBWATCH


def node(schema: str, name: str, columns: dict[str, str], kind: str = "model") -> dict:
    return {
        "resource_type": kind,
        "schema": schema,
        "name": name,
        "alias": name,
        "description": f"the {name} table",
        "columns": {c: {"data_type": t, "description": f"{c} it is"} for c, t in columns.items()},
    }


def write_manifest(path: Path, nodes: list[dict]) -> Path:
    path.write_bytes(orjson.dumps({"nodes": {f"model.hubwatch.{n['name']}": n for n in nodes}}))
    return path


def spark_table(home: Path, schema: str, table: str, sql: str, partition: str | None = None) -> None:
    """A table as Spark leaves it: Parquet files in a folder (Hive partition folders if partitioned)."""
    folder = spark_warehouse_dir(home) / f"{schema}.db" / table
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        if partition:
            con.execute(f"copy ({sql}) to '{folder}' (format parquet, partition_by ({partition}))")
        else:
            con.execute(f"copy ({sql}) to '{folder / 'part-00000.parquet'}' (format parquet)")


def test_declared_columns_in_declared_order_and_types(tmp_path):
    home = tmp_path
    # Spark stores the partition column last, and its integers may be narrower than declared
    spark_table(
        home,
        "marts",
        "shares",
        "select 'civitai' as platform, 3::integer as n, 0.5::double as share, date '2025-01-01' as snapshot_date",
        partition="snapshot_date",
    )
    spark_table(home, "marts", "empty_one", "select 'x' as a where false")
    spark_table(home, "rules", "rules_real_person_names", "select 'amy adams' as name")
    manifest = write_manifest(
        tmp_path / "manifest.json",
        [
            node("marts", "shares", {"snapshot_date": "date", "platform": "varchar", "n": "bigint", "share": "double"}),
            node("marts", "empty_one", {"a": "varchar"}),
            node("marts", "never_written", {"a": "varchar", "b": "bigint"}),
            node("rules", "rules_real_person_names", {"name": "varchar"}, kind="seed"),
            node("staging", "not_public", {"a": "varchar"}),
        ],
    )
    export_public_tables(home, manifest)
    with duckdb.connect(str(warehouse_path(home, "spark")), read_only=True) as con:
        described = [(n, t) for n, t, *_ in con.sql("describe marts.shares").fetchall()]
        assert described == [("snapshot_date", "DATE"), ("platform", "VARCHAR"), ("n", "BIGINT"), ("share", "DOUBLE")]
        assert con.sql("select * from marts.shares").fetchall()[0][1:] == ("civitai", 3, 0.5)
        assert con.sql("select count(*) from marts.never_written").fetchall() == [(0,)]
        assert con.sql("select name from rules.rules_real_person_names").fetchall() == [("amy adams",)]
        assert con.sql(
            "select comment from duckdb_columns() where table_name = 'shares' and column_name = 'n'"
        ).fetchall() == [("n it is",)]
        tables = {t for (t,) in con.sql("select table_name from duckdb_tables()").fetchall()}
        assert "not_public" not in tables


def test_a_missing_column_fails_and_the_previous_file_stays(tmp_path):
    home = tmp_path
    spark_table(home, "marts", "shares", "select 'civitai' as platform")
    good = write_manifest(tmp_path / "good.json", [node("marts", "shares", {"platform": "varchar"})])
    export_public_tables(home, good)
    before = warehouse_path(home, "spark").read_bytes()
    bad = write_manifest(tmp_path / "bad.json", [node("marts", "shares", {"platform": "varchar", "n": "bigint"})])
    with pytest.raises(ExportError, match=r"marts\.shares .* lacks declared column\(s\) n"):
        export_public_tables(home, bad)
    assert warehouse_path(home, "spark").read_bytes() == before
    assert not list(warehouse_path(home, "spark").parent.glob(".*tmp*"))


def test_a_vanished_snapshot_is_dropped_by_each_engine_in_turn(tmp_path):
    """A snapshot withdrawn after both engines built it must leave both warehouses: the DuckDB build
    that notices it (and re-verifies raw/, forgetting it) lists it for Spark's next build too."""
    home = tmp_path
    key = "raw/civitai_models/snapshot_date=2025-01-01"
    (home / "verified_snapshots.json").write_bytes(
        orjson.dumps({"version": 2, "partitions": {key: {"manifest_sha256": "0" * 64, "files": {}}}})
    )
    (home / "warehouse.duckdb").touch()
    (home / "spark").mkdir()
    assert vanished_snapshots(home, "duckdb") == [key]
    (home / "verified_snapshots.json").write_bytes(orjson.dumps({"version": 2, "partitions": {}}))  # re-verified
    refreshed(home, "duckdb")
    assert vanished_snapshots(home, "duckdb") == []
    assert vanished_snapshots(home, "spark") == [key]
    refreshed(home, "spark")
    assert vanished_snapshots(home, "spark") == []


def test_spark_without_java_is_one_line_and_touches_nothing(tmp_path):
    home = tmp_path / "home"
    (home / "raw" / "civitai_models" / "snapshot_date=2025-01-01").mkdir(parents=True)
    env = {"HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent), "HUBWATCH_HOME": str(home)}
    run = subprocess.run(
        [HUBWATCH, "build", "--engine", "spark"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "hubwatch: error: --engine spark needs Java 17 (`make java` installs Debian's openjdk-17-jre-headless), "
        "or JAVA_HOME"
    ]
    assert sorted(p.name for p in home.iterdir()) == ["raw"]

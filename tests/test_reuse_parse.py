"""A build starts from the newest earlier parse of its own engine (dbt's partial parsing): a home
built on both engines must not hand Spark's build DuckDB's parse (dbt would parse in full) or the
reverse. No dbt run: the build folders are laid out as dbt leaves them."""

from __future__ import annotations

from pathlib import Path

import orjson

from dagster_project.warehouse import PARTIAL_PARSE, parsed_for, reuse_parse


def build_folder(home: Path, name: str, engine: str | None) -> Path:
    """A build's dbt folder: dbt's manifest (its metadata first, naming the adapter) and its parse."""
    folder = home / "dbt" / "target" / name
    folder.mkdir(parents=True)
    if engine:
        metadata = {"metadata": {"dbt_schema_version": "v12", "adapter_type": engine}, "nodes": {}}
        (folder / "manifest.json").write_bytes(orjson.dumps(metadata, option=orjson.OPT_INDENT_2))
    (folder / PARTIAL_PARSE).write_bytes(f"parsed for {engine}".encode())
    return folder


def test_each_engine_reuses_its_own_newest_parse(tmp_path):
    home = tmp_path / "home"
    build_folder(home, "20261129T010000Z-aaaaaaaa", "spark")
    build_folder(home, "20261129T020000Z-bbbbbbbb", "duckdb")
    build_folder(home, "20261129T030000Z-cccccccc", "spark")
    build_folder(home, "20261129T040000Z-dddddddd", "duckdb")
    build_folder(home, "20261129T050000Z-eeeeeeee", None)  # a build that failed before dbt wrote a manifest
    root = home / "dbt" / "target"
    spark_target, duckdb_target = root / "20261129T060000Z-ffffffff", root / "20261129T060000Z-99999999"
    assert reuse_parse(home, spark_target, "spark") == root / "20261129T030000Z-cccccccc" / PARTIAL_PARSE
    assert (spark_target / PARTIAL_PARSE).read_bytes() == b"parsed for spark"
    assert reuse_parse(home, duckdb_target) == root / "20261129T040000Z-dddddddd" / PARTIAL_PARSE
    assert (duckdb_target / PARTIAL_PARSE).read_bytes() == b"parsed for duckdb"


def test_no_parse_of_the_engine_means_a_full_parse(tmp_path):
    home = tmp_path / "home"
    build_folder(home, "20261129T010000Z-aaaaaaaa", "duckdb")
    target = home / "dbt" / "target" / "20261129T020000Z-bbbbbbbb"
    assert reuse_parse(home, target, "spark") is None
    assert not (target / PARTIAL_PARSE).exists()


def test_the_engine_is_read_from_dbts_own_manifest(tmp_path):
    """The real manifest of this checkout (make manifest) names DuckDB."""
    checkout_target = Path(__file__).parent.parent / "dbt" / "target"
    assert parsed_for(checkout_target) == "duckdb"
    assert parsed_for(tmp_path) is None

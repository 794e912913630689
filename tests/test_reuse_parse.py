"""A build starts from the newest earlier parse of its own engine (dbt's partial parsing): a home
built on both engines must not hand Spark's build DuckDB's parse (dbt would parse in full) or the
reverse. No dbt run: the build folders are laid out as dbt leaves them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson

from dagster_project import warehouse
from dagster_project.dbt_child import PARENT_ENV, home_of_target, wants_home
from dagster_project.warehouse import (
    DBT_CHILD,
    DBT_DIR,
    PARSE_CACHE_ENV,
    PARTIAL_PARSE,
    cached_parse,
    keep_parse,
    parsed_for,
    reuse_parse,
)


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


def test_a_homes_first_build_starts_from_the_parse_another_home_saved_for_the_same_vars(tmp_path, monkeypatch):
    """dbt parses the whole project when its target folder holds no parse (~5 CPU-s of a small build):
    a home's first build takes the parse another home's build kept for the very same vars (dbt itself
    checks the files, the profile and its version, and parses what changed), never one for other
    vars or another engine."""
    monkeypatch.setenv(PARSE_CACHE_ENV, str(tmp_path / "cache"))
    args = ["build", "--vars", '{"raw_files": {"manifests": "[\'raw/*/snapshot_date=*/manifest.json\']"}}']
    other_vars = ["build", "--vars", '{"raw_files": {}}']
    first = build_folder(tmp_path / "a", "20261129T010000Z-aaaaaaaa", "duckdb")
    assert keep_parse(first, args, "duckdb") is not None
    home = tmp_path / "b"
    target = home / "dbt" / "target" / "20261129T020000Z-bbbbbbbb"
    assert reuse_parse(home, target, "duckdb", other_vars) is None
    assert reuse_parse(home, target, "spark", args) is None
    assert not (target / PARTIAL_PARSE).exists()
    assert reuse_parse(home, target, "duckdb", args) == cached_parse(args, "duckdb")
    assert (target / PARTIAL_PARSE).read_bytes() == b"parsed for duckdb"
    # the home's own newest parse of the engine comes first (a daily build: the same home's vars)
    own = build_folder(home, "20261129T015000Z-cccccccc", "duckdb")
    (own / PARTIAL_PARSE).write_bytes(b"the home's own")
    later = home / "dbt" / "target" / "20261129T030000Z-dddddddd"
    assert reuse_parse(home, later, "duckdb", args) == own / PARTIAL_PARSE
    # another checkout's parse names that checkout's files (dbt loads seeds from them): never taken
    monkeypatch.setattr(warehouse, "DBT_DIR", tmp_path / "another-checkout" / "dbt")
    assert (
        reuse_parse(tmp_path / "c", tmp_path / "c" / "dbt" / "target" / "20261129T040000Z-eeeeeeee", "duckdb", args)
        is None
    )
    monkeypatch.undo()
    monkeypatch.setenv(PARSE_CACHE_ENV, "off")
    assert cached_parse(args, "duckdb") is None
    assert keep_parse(first, args, "duckdb") is None


def test_the_cache_keeps_the_newest_parses_only(tmp_path, monkeypatch):
    monkeypatch.setenv(PARSE_CACHE_ENV, str(tmp_path / "cache"))
    first = build_folder(tmp_path / "a", "20261129T010000Z-aaaaaaaa", "duckdb")
    for n in range(5):
        keep_parse(first, ["build", "--vars", f'{{"n": {n}}}'], "duckdb", keep=3)
    assert len(list((tmp_path / "cache").glob("*.msgpack"))) == 3
    assert cached_parse(["build", "--vars", '{"n": 4}'], "duckdb").is_file()


def test_dbt_with_home_relative_vars_starts_only_in_a_home(tmp_path):
    """hubwatch-dbt runs dbt in the home of its target folder; vars relative to a home with no home
    to run in would make dbt read and write beside the dbt project: refused in one line, before dbt."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "DBT_TARGET_PATH": str(elsewhere)}
    env.pop(PARENT_ENV, None)
    args = [str(DBT_CHILD), "build", "--vars", orjson.dumps({"hubwatch_home": "."}).decode()]
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "relative to its home" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.rglob("*.duckdb")) and not (DBT_DIR / "warehouse.duckdb").exists()
    assert wants_home(args[1:]) and not wants_home(["build", "--vars", '{"hubwatch_home": "/h"}'])
    assert home_of_target(str(tmp_path / "h" / "dbt" / "target" / "x")) == (tmp_path / "h").resolve()

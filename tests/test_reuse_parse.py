"""A build starts from the newest earlier parse of its own engine (dbt's partial parsing): a home
built on both engines must not hand Spark's build DuckDB's parse (dbt would parse in full) or the
reverse (no dbt run: the build folders are laid out as dbt leaves them). And a DuckDB build gives
dbt nothing of its home in what dbt hashes (its vars, the profile's connection values), only at run
time, so a parse made in one home (or by `make manifest`) serves every home: dbt still parses a
file changed since, and refuses a parse made for the project in another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import orjson

from dagster_project.dbt_child import PARENT_ENV, RUN_FILE, run_settings
from dagster_project.warehouse import (
    DBT_CHILD,
    DBT_DIR,
    PARTIAL_PARSE,
    build_args,
    parse_vars,
    parsed_for,
    reuse_parse,
    write_run_file,
)
from ingest.fakehub import FakeHub, build_world
from tests.test_crash_harness import SOURCES, take_in_process


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


# -- a parse made in one home serves every home ------------------------------------------------------


def test_homes_at_different_paths_give_dbt_the_same_arguments_and_their_paths_at_run_time(tmp_path):
    """Two homes holding the same snapshots: the same `dbt build` arguments (vars included, which
    are `make manifest`'s: parse_vars), none naming a home; each home's paths go into its build's
    run file, absolute (the raw files and the salt), but for the warehouse, relative to the home
    dbt runs in."""
    first = tmp_path / "first" / "home"
    with FakeHub(build_world(seed=5, n_models=12, n_images=30, n_repos=6)) as hub:
        for source in SOURCES:
            take_in_process(first, source, hub)
    second = tmp_path / "elsewhere" / "copy"
    shutil.copytree(first, second)
    given = {}
    for home in (first, second):
        target = home / "dbt" / "target" / "20261129T190000Z-aaaaaaaa"
        args = build_args(home, target=target)
        given[home] = (args, run_settings(str(target)))
        assert str(tmp_path) not in " ".join(args)
        assert orjson.loads(args[args.index("--vars") + 1]) == parse_vars()
    (args_1, run_1), (args_2, run_2) = given.values()
    assert args_1 == args_2
    assert run_2["home"] == str(second) and run_2["env"]["HUBWATCH_HOME"] == str(second)
    assert run_2["env"]["HUBWATCH_DBT_WAREHOUSE"] == "warehouse.duckdb"
    raw = orjson.loads(run_2["env"]["HUBWATCH_DBT_RAW"])
    assert raw["civitai_images/images"] == f"['{second}/raw/civitai_images/snapshot_date=*/images.parquet']"
    assert str(first) not in run_2["env"]["HUBWATCH_DBT_RAW"]
    # Spark's build keeps its paths in the vars (its metastore records each table's absolute location)
    spark = build_args(second, engine="spark")
    assert str(second) in spark[spark.index("--vars") + 1]


def dbt_parse(project: Path, home: Path, target: Path) -> str:
    """`dbt parse` of `project` as a DuckDB build runs dbt for `home` (hubwatch-dbt, the build's run
    file in its target folder, the vars of `make manifest` for that project); dbt's log."""
    write_run_file(target, home, {})
    env = {
        **os.environ,
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
    }
    env.pop(PARENT_ENV, None)
    variables = {**parse_vars(), "dbt_project_dir": str(project)}
    args = [str(DBT_CHILD), "parse", "--vars", orjson.dumps(variables).decode()]
    done = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return (target / "dbt.log").read_text()


def test_a_parse_made_in_one_home_serves_another_and_a_changed_model_is_parsed_again(tmp_path):
    """A new home at another path starts from a parse made in a first home (as a fresh home starts
    from `make manifest`'s, which dagster-dbt copies in): dbt partial-parses, re-parsing only the
    model file changed since, whose new SQL is in the manifest. The same parse offered for a copy
    of the project in another folder is refused by dbt's own check (the project's folder is in
    the vars), since it names the first folder's files."""
    project = tmp_path / "checkout" / "dbt"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    first = tmp_path / "first" / "home"
    first_target = first / "dbt" / "target" / "20261129T010000Z-aaaaaaaa"
    first_log = dbt_parse(project, first, first_target)
    assert "Unable to do partial parsing" in first_log or "saved manifest not found" in first_log
    assert (first_target / RUN_FILE).is_file() and not (first / "warehouse.duckdb").exists()

    model = project / "models" / "marts" / "nsfw_share_monthly.sql"
    model.write_text(model.read_text() + "\n-- changed after the first parse\n")
    second = tmp_path / "elsewhere" / "second"
    target = second / "dbt" / "target" / "20261129T020000Z-bbbbbbbb"
    target.mkdir(parents=True)
    shutil.copy(first_target / PARTIAL_PARSE, target / PARTIAL_PARSE)
    log = dbt_parse(project, second, target)
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 1 files changed" in log
    nodes = orjson.loads((target / "manifest.json").read_bytes())["nodes"]
    assert "-- changed after the first parse" in nodes["model.hubwatch.nsfw_share_monthly"]["raw_code"]

    moved = tmp_path / "moved" / "dbt"
    shutil.copytree(project, moved, ignore=shutil.ignore_patterns("target", "logs"))
    third = tmp_path / "third"
    third_target = third / "dbt" / "target" / "20261129T030000Z-cccccccc"
    third_target.mkdir(parents=True)
    shutil.copy(target / PARTIAL_PARSE, third_target / PARTIAL_PARSE)
    assert "Unable to do partial parsing because config vars" in dbt_parse(moved, third, third_target)


def test_under_dg_dev_the_checkouts_parse_is_remade_only_by_make_manifest(tmp_path, monkeypatch):
    """The code location loaded under `dg dev` (which sets DAGSTER_IS_DEV_CLI) remakes the checkout's
    parse the one way it is made, `make manifest` (a build's vars: the parse every home's first build
    starts from; make parses only when a dbt file changed), never with dagster-dbt's own `dbt parse`
    (no vars: no build could start from it); loaded anywhere else (a CLI run, a test) it runs nothing.
    The checkout here is a stand-in whose `make manifest` only says it ran."""
    from dagster_project.defs.project import dbt_project
    from dagster_project.warehouse import remake_parse_under_dev

    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "Makefile").write_text(
        ".venv/.synced:\n\techo installed >> made.txt\nmanifest: .venv/.synced\n\techo made >> made.txt\n"
    )
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    remake_parse_under_dev(dbt_project, checkout)
    assert not (checkout / "made.txt").exists()
    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
    remake_parse_under_dev(dbt_project, checkout)
    assert (checkout / "made.txt").read_text() == "made\n"  # the environment is not re-installed
    (checkout / "Makefile").write_text("manifest:\n\tfalse\n")  # a model being edited: dbt's parse fails
    remake_parse_under_dev(dbt_project, checkout)  # the code location still loads, on the manifest there

"""What a daily `hubwatch build` pays before dbt starts: the code location loaded once, for the
build's own home, and no import the build does not use."""

import ast
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from dagster_project import runs
from ingest.home import snapshot_path
from ingest.sources import SOURCES
from tests.conftest import REAL, hub_env

CIVITAI_2023 = "civitai_v1_models_items_2023-07_selection.json"
HF_2024 = "hf_api_models_default_list_2024-11.json"


def test_a_build_loads_the_code_location_once_for_its_own_home(tmp_path, monkeypatch):
    import dagster_project.definitions

    loaded, asked = [], {}
    real = dagster_project.definitions.defs

    def counting_defs():
        loaded.append(runs.partitions_home)  # the home the partitions are made from, at load time
        return real()

    def fake_run_job(home, job_name, **kwargs):
        asked.update(kwargs, job_name=job_name)
        return "outcome"

    monkeypatch.setattr(dagster_project.definitions, "defs", counting_defs)
    monkeypatch.setattr(runs, "run_job", fake_run_job)
    home = tmp_path / "home"
    assert runs.build_warehouse(home) == "outcome"
    assert loaded == [home]
    assert asked["job_name"] == "rebuild_from_raw_job"
    assert asked["definitions"] is not None and asked["asset_selection"]
    assert all(key.path[0] not in ("raw", "publish", "dashboards") for key in asked["asset_selection"])


def test_every_load_of_the_definitions_carries_the_component_types_dagster_describes_described_once(
    tmp_path, monkeypatch
):
    """The installed component types are described once a process (runs.component_types_described_once):
    each load still carries, with its own component tree, exactly what Dagster describes."""
    from dagster.components.core import snapshot
    from dagster.components.core.load_defs import PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY as KEY
    from dagster.components.core.package_entry import discover_entry_point_package_objects
    from dagster_shared.serdes.objects.package_entry import json_for_all_components

    entries = discover_entry_point_package_objects()
    assert entries, "no component types installed: nothing here to describe once"
    described = json_for_all_components([snapshot.get_package_entry_snap(k, o) for k, o in entries.items()])
    calls = []
    describe = snapshot.get_package_entry_snap
    monkeypatch.setattr(snapshot, "get_package_entry_snap", lambda *a: calls.append(a) or describe(*a))
    first, second = runs.code_location(tmp_path / "home"), runs.code_location(tmp_path / "home")
    assert first.metadata[KEY].value == second.metadata[KEY].value == described
    assert first.component_tree is not second.component_tree and second.component_tree is not None
    assert len(calls) in (0, len(entries))  # described by this test's first load, or by an earlier one


def test_loading_the_definitions_imports_no_dashboards():
    code = (
        "import sys; from dagster_project.definitions import defs; defs(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('plotly', 'dashboards')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.strip() == "[]"


# The jobs `hubwatch` runs from their own small definitions, each with the asset selections its
# commands run (None: the whole job): publish and dashboards run publish_job; snapshot, the daily
# job's raw/* assets (one source, or several in one run). A run executes the job's subset for its
# selection (JobDefinition.execute_in_process: get_subset), so that subset is what must be the same.
DAY = "2025-03-01"
RUNS = {
    "publish_job": [None, [["dashboards", "site"]]],
    "daily_snapshot_job": [[["raw", source]] for source in SOURCES] + [[["raw", source] for source in SOURCES]],
}


def small_locations(home: Path) -> dict:
    from dagster_project.publish_location import publish_location
    from dagster_project.snapshot_location import snapshot_location

    return {"publish_job": publish_location(), "daily_snapshot_job": snapshot_location(home, DAY)}


def run_shapes(definitions, job_name: str) -> list[dict]:
    """What a run of job_name executes for each of its selections: every op with the asset and check
    keys it materialises or evaluates, the ops' definitions (config schema, required resources,
    inputs, outputs) and their dependencies as Dagster snapshots them, the job's tags and partitions."""
    import dagster as dg
    from dagster._core.definitions.dependency import NodeHandle
    from dagster._serdes import serialize_value

    from ingest.landing import no_progress

    job = runs.with_progress(definitions, no_progress).resolve_job_def(job_name)
    shapes = []
    for selection in RUNS[job_name]:
        ran = job.get_subset(asset_selection=frozenset(dg.AssetKey(k) for k in selection)) if selection else job
        snapshot = ran.get_job_snapshot()
        ops = {
            node.name: sorted(
                key.to_user_string()
                for key in ran.asset_layer.get_selected_entity_keys_for_node(NodeHandle(node.name, None))
            )
            for node in ran.graph.nodes
        }
        shapes.append(
            {
                "ops": dict(sorted(ops.items())),
                "op_definitions": serialize_value(snapshot.node_defs_snapshot),
                "dependencies": serialize_value(snapshot.dep_structure_snapshot),
                "tags": dict(snapshot.tags),
                "partitions": repr(ran.partitions_def),
            }
        )
    return shapes


def test_the_small_definitions_run_the_code_locations_jobs_without_loading_dbt(tmp_path):
    """`hubwatch publish`/`dashboards` run publish_job from publish_location(), `hubwatch snapshot` the
    daily job's raw/* assets from snapshot_location(): for every selection they run, the same ops with
    the same assets, checks, config and dependencies as the whole code location's job, in a process
    that imports neither dagster-dbt nor dbt-core (about half of such a process's CPU)."""
    code = (
        "import sys, json; from pathlib import Path; from tests.test_startup import RUNS, run_shapes, small_locations; "
        "locations = small_locations(Path(sys.argv[1])); "
        "print(json.dumps({job: run_shapes(locations[job], job) for job in RUNS})); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dbt', 'dagster_dbt')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=600, check=True
    )
    shapes, imported = done.stdout.strip().splitlines()
    assert imported == "[]"
    small = json.loads(shapes)
    whole = runs.code_location(tmp_path, DAY)
    for job in RUNS:
        assert small[job] == run_shapes(whole, job), job
    assert [list(shape["ops"]) for shape in small["publish_job"]] == [["publish__package"]] * 2
    assert small["publish_job"][0]["ops"]["publish__package"] == ["dashboards/site", "publish/package"]
    every_source = small["daily_snapshot_job"][-1]["ops"]
    assert {f"raw/{source}" for source in SOURCES} <= set().union(*every_source.values())
    assert any(key.endswith(":freshness_check") for keys in every_source.values() for key in keys)
    assert small["daily_snapshot_job"][0]["partitions"].startswith("TimeWindowPartitionsDefinition(start=")


# A command run as `hubwatch` runs it, reporting at exit (last line on stderr) every top-level package
# the process imported.
AUDIT = (
    "import atexit, sys; "
    "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules}), file=sys.stderr)); "
    "from dagster_project.cli import main; main()"
)
DBT = {"dbt", "dagster_dbt"}
HTTP = {"httpx", "tenacity"}


def packages_imported_by(*args: str, env: dict[str, str]) -> set[str]:
    done = subprocess.run([sys.executable, "-c", AUDIT, *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr  # e.g. Dagster's, from loading definitions
    return set(ast.literal_eval(done.stderr.strip().splitlines()[-1]))


@pytest.mark.slow
def test_each_command_imports_only_what_it_runs(fakehub, home):
    """A snapshot loads Dagster but not dbt; a Civitai snapshot or import, a withdrawal, the settings
    check and `--help` never import huggingface_hub (only parsing Hugging Face items does); an import
    or a withdrawal runs no Dagster at all; a withdrawal and `--help` import neither Polars nor the
    HTTP client (together ~0.3 CPU-s of such a process)."""
    env = hub_env(fakehub, home)
    snapshot = packages_imported_by("snapshot", "--sources", "civitai_models", "--as-of", DAY, env=env)
    assert "dagster" in snapshot and not snapshot & (DBT | {"huggingface_hub"})
    civitai = packages_imported_by(
        "import", "civitai-models-json", str(REAL / CIVITAI_2023), "--as-of", "2023-07-05", env=env
    )
    assert "polars" in civitai and not civitai & (DBT | {"dagster", "huggingface_hub"})
    hf = packages_imported_by("import", "hf-models-json", str(REAL / HF_2024), "--as-of", "2024-11-27", env=env)
    assert "huggingface_hub" in hf and not hf & (DBT | {"dagster"})  # the audit sees a lazy import
    withdrawn = packages_imported_by("withdraw", "civitai_models", DAY, "--reason", "a test", env=env)
    assert not withdrawn & (DBT | HTTP | {"dagster", "huggingface_hub", "polars"})
    assert not (snapshot_path(home, "civitai_models", date.fromisoformat(DAY))).exists()  # it ran
    helped = packages_imported_by("--help", env=env)
    assert not helped & (DBT | HTTP | {"dagster", "huggingface_hub", "polars", "rich"})


def test_dagster_creates_a_new_homes_databases_and_each_run_shard_in_wal_from_the_first_statement(tmp_path):
    """Each database Dagster creates (a new home's runs, index and schedules; a run's event shard) is
    in WAL with synchronous=NORMAL from its first connection, so creating its tables is not a sync per
    statement (a new home: ~290 -> ~95 fdatasync); a database that already holds data keeps its mode."""
    import sqlite3

    import dagster as dg
    from sqlalchemy import create_engine, event, text
    from sqlalchemy.engine import Engine

    runs.relax_sqlite_sync()
    seen = []

    def record(dbapi_connection, _record) -> None:  # runs after relax_sqlite_sync's own listener
        (name,) = [row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"]
        modes = [dbapi_connection.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "synchronous")]
        seen.append((Path(name).name, *modes))

    event.listen(Engine, "connect", record)
    try:
        instance = runs.use_instance(tmp_path / "home")
        result = dg.materialize([dg.asset(lambda: 1, name="one")], instance=instance)
        old = tmp_path / "old.db"
        with sqlite3.connect(old) as made:
            made.execute("create table t (x)")
        with create_engine(f"sqlite:///{old}").connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "delete"
    finally:
        event.remove(Engine, "connect", record)
    assert result.success
    names = {name for name, *_ in seen}
    assert {"runs.db", "index.db", "schedules.db", f"{result.run_id}.db"} <= names
    assert all(modes == ["wal", 1] for name, *modes in seen if name != "old.db"), seen

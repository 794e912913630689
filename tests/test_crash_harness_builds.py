"""The crash harness, builds: SIGKILL a build at each named step (ingest/crash.py), rerun, and
compare its marts with an uninterrupted build's (the snapshot steps: test_crash_harness.py).

The killed build is a real `hubwatch build` process, killed for real (at `dbt-finished`, a process
of its own running the same job over the incremental models and what they read:
tests/build_driver.py); the rerun runs in this process (dagster_project.runs.build_warehouse, what
`hubwatch build` runs), which spares a Python, Dagster and dbt start-up. The scene is the daily
job's home the orchestration tests share (conftest.daily_runs_home), which costs no build of its
own: its copy from before the last day (a warehouse of two days) is the base, the last day's
partitions the day added, and the last day's build of the same raw/, uninterrupted, the reference."""

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.runs import build_warehouse
from ingest.crash import BUILD_STEPS
from ingest.home import snapshot_path
from publish.package import WAREHOUSE_ONLY_COLUMNS
from tests.conftest import BAN_DAYS, FAST_ENV, HUBWATCH, SOURCES, copy_home, copy_snapshot
from tests.test_crash_harness import KILLED, ROOT

pytestmark = pytest.mark.slow


def marts(home: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, without what names the build itself (its time, its dbt invocation,
    when it wrote a row: WAREHOUSE_ONLY_COLUMNS)."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        tables = [
            t for (t,) in con.sql("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        rows = {}
        for table in sorted(tables):
            left_out = ("built_at", "dbt_invocation_id", *WAREHOUSE_ONLY_COLUMNS.get(table, ()))
            columns = [c for (c,) in con.sql(f"select column_name from duckdb_columns() where table_name = '{table}'")  # noqa: S608 (a test's own paths)
                       .fetchall() if c not in left_out]  # fmt: skip
            select = ", ".join(f'"{c}"' for c in columns)
            rows[table] = con.sql(f"select {select} from marts.{table} order by all").fetchall()  # noqa: S608 (a test's own paths)
    return rows


def add_next_day(home: Path, shared: Path) -> None:
    """The last day's snapshots of the shared home, into a copy of its base."""
    for source in SOURCES:
        copy_snapshot(snapshot_path(shared, source, NEXT_DAY), home / "raw")


NEXT_DAY = date.fromisoformat(BAN_DAYS[-1])


@pytest.fixture(scope="module")
def builds(daily_runs_home):
    """A built warehouse of two days (the base), the home holding the next day's snapshots, and
    the reference: the marts of the base plus that day, built without interruption (the daily
    job's build of it), and the environment of a `hubwatch build` (no hub: a build reads raw/)."""
    shared, base, outcomes = daily_runs_home
    assert all(outcome.success for outcome in outcomes.values()), {d: o.error for d, o in outcomes.items()}
    reference = marts(shared)
    with duckdb.connect(str(base / "warehouse.duckdb"), read_only=True) as con:  # the premise: a day behind
        [(last,)] = con.sql("select max(snapshot_date) from marts.model_snapshots").fetchall()
    assert str(last) == BAN_DAYS[-2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "CIVITAI_", "HF_"))}
    return base, shared, reference, {**env, **FAST_ENV}


def build_outputs(target: Path) -> dict[str, int]:
    """What a dbt build leaves in a target folder and `dbt parse` never does (its run results, its
    graph, compiled SQL and dagster-dbt's per-run folders), with when each was written. A `make
    manifest` (`make dev` runs it, defs/project.py) re-parses the project into the checkout's target
    when a dbt file changed, which may happen on the other xdist worker while this module builds."""
    built = ("run_results.json", "graph.gpickle", "graph_summary.json")
    return {p.name: p.stat().st_mtime_ns for p in target.iterdir() if p.is_dir() or p.name in built}


def dbt_processes_of(home: Path) -> list[int]:
    """Live (not zombie) dbt processes started for this home."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"dbt" in cmdline and f"HUBWATCH_HOME={home}".encode() in environ and state != "Z":
            found.append(int(proc.name))
    return found


def test_every_build_step_is_in_the_harness():
    assert {step.split(":")[0] for step in BUILD_CASES} == set(BUILD_STEPS)


BUILD_CASES = ("raw-verified", "dbt-event:60", "dbt-finished")


@pytest.mark.parametrize("step", BUILD_CASES)
def test_a_build_killed_at_each_step_finishes_on_rerun_with_the_marts_of_an_uninterrupted_build(
    builds, tmp_path, monkeypatch, step
):
    base, shared, reference, env = builds
    home = copy_home(base, tmp_path / "home")
    add_next_day(home, shared)
    env = {**env, "HUBWATCH_HOME": str(home), "HUBWATCH_KEEP_DBT_TARGETS": "2"}
    checkout = build_outputs(ROOT / "dbt" / "target")
    # the killed build: `hubwatch build` itself, but killed once dbt has finished: the build's job over every
    # incremental model and what it reads (tests/build_driver.py), what a whole build leaves there at a third
    # of the cost (the next build rebuilds every other table whole, whatever this one did)
    command = [sys.executable, "-m", "tests.build_driver", str(home)] if step == "dbt-finished" else [HUBWATCH, "build"]
    killed = subprocess.run(command, env={**env, "HUBWATCH_CRASH_AT": step}, cwd=ROOT, capture_output=True)
    assert killed.returncode == KILLED, f"never reached {step}: {killed.stderr[-500:]}"
    deadline = time.monotonic() + 3
    while dbt_processes_of(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dbt_processes_of(home) == [], "dbt outlived the build that started it"
    duckdb.connect(str(home / "warehouse.duckdb")).close()  # the warehouse lock is free at once

    monkeypatch.setenv("HUBWATCH_KEEP_DBT_TARGETS", "2")
    rerun = build_warehouse(home)  # the next build, in this process: it reaps the killed run and finishes
    assert rerun.success, rerun.error
    assert marts(home) == reference
    # dbt's artefacts: under the home, never in the code checkout, and only the last few kept
    assert build_outputs(ROOT / "dbt" / "target") == checkout, "a build wrote into the code checkout"
    kept = sorted(p for p in (home / "dbt" / "target").iterdir() if p.is_dir())
    assert len(kept) == 2 and (kept[-1] / "run_results.json").is_file()

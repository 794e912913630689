"""Orchestration: definitions load, the daily job runs end to end over fakehub and its checks
speak (the drop check at the ban), the schedule targets today, failures are recorded, and two
runs at once queue on the one-writer pool instead of colliding."""

import csv
import io
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest

from dagster_project import runs
from dagster_project.definitions import defs
from dagster_project.defs.automation.sensors import record_failed_runs
from dagster_project.defs.ingest.assets import partitions_start
from dagster_project.defs.resources import HubwatchSettings
from dagster_project.runs import build_warehouse, run_job, use_instance
from ingest.fakehub import Faults, truth
from ingest.landing import complete_snapshots
from tests.conftest import BAN_DAYS, copy_home, hub_env, hubwatch_here

pytestmark = pytest.mark.slow


def test_definitions_load_with_the_prepared_manifest():
    definitions = defs()
    keys = {key.to_user_string() for key in definitions.resolve_all_asset_keys()}
    assert {
        "raw/civitai_models",
        "raw/civitai_images",
        "raw/hf_models",
        "marts/models",
        "marts/lifecycle_by_snapshot",
    } <= keys
    assert definitions.resolve_job_def("daily_snapshot_job") and definitions.resolve_job_def("rebuild_from_raw_job")
    assert definitions.resolve_schedule_def("daily_snapshot_job_schedule")
    assert definitions.resolve_sensor_def("record_failed_runs")
    assert definitions.resolve_assets_def(dg.AssetKey(["marts", "models"])).op.pool == "duckdb_writer"
    assert definitions.resolve_assets_def(dg.AssetKey(["raw", "civitai_models"])).op.pool == "api_civitai"


def test_schedule_requests_todays_partition():
    schedule = defs().resolve_schedule_def("daily_snapshot_job_schedule")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.execution_timezone == "UTC"
    today = datetime.now(UTC).date()  # the partitions start at the home's first snapshot, else today
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(today.year, today.month, today.day, 6, 0, tzinfo=UTC)
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [today.isoformat()]


AUTOMATION_CASES = [(None, "STOPPED STOPPED"), ("off", "STOPPED STOPPED"), ("on", "RUNNING RUNNING")]
AUTOMATION = "dagster_project.defs.automation"


@pytest.fixture(scope="module")
def automation_statuses(tmp_path_factory) -> dict[str, str]:
    """Per switch (HUBWATCH_SCHEDULE unset, off, on), the schedule's and the sensor's default status,
    as a fresh load of the definitions reads it: the automation modules (which read the switch when
    imported) imported anew under each switch, in this process (its Dagster start-up already paid);
    then the modules this process had are put back, with the environment."""
    statuses = {}
    kept = {name: module for name, module in sys.modules.items() if name.startswith(AUTOMATION)}
    parent = sys.modules[AUTOMATION.rsplit(".", 1)[0]]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUBWATCH_HOME", str(tmp_path_factory.mktemp("automation") / "home"))
        try:
            for switch, _status in AUTOMATION_CASES:
                patch.delenv("HUBWATCH_SCHEDULE", raising=False)
                if switch is not None:
                    patch.setenv("HUBWATCH_SCHEDULE", switch)
                for name in [n for n in sys.modules if n.startswith(AUTOMATION)]:
                    del sys.modules[name]
                d = defs()
                statuses[str(switch)] = (
                    d.resolve_schedule_def("daily_snapshot_job_schedule").default_status.value
                    + " "
                    + d.resolve_sensor_def("record_failed_runs").default_status.value
                )
        finally:
            for name in [n for n in sys.modules if n.startswith(AUTOMATION)]:
                del sys.modules[name]
            sys.modules.update(kept)
            parent.automation = kept[AUTOMATION]
    return statuses


@pytest.mark.parametrize(("switch", "status"), AUTOMATION_CASES)
def test_the_schedule_and_sensor_run_only_where_switched_on(automation_statuses, switch, status):
    assert automation_statuses[str(switch)] == status


def test_the_code_location_is_named_hubwatch():
    from dagster_dg_core.context import DgContext

    assert DgContext.for_project_environment(Path(__file__).parent.parent, {}).code_location_name == "hubwatch"


def test_partitions_start_at_the_homes_first_snapshot(tmp_path):
    home = tmp_path / "home"
    today = datetime.now(UTC).date().isoformat()
    assert partitions_start(home, None, None) == today  # nothing taken yet: today's is the first
    for source, day in (
        ("civitai_models", "2025-03-01"),
        ("hf_models", "2025-02-10"),
        ("civitai_images", "2025-04-01"),
    ):
        (home / "raw" / source / f"snapshot_date={day}").mkdir(parents=True)
        (home / "raw" / source / f"snapshot_date={day}" / "manifest.json").write_text("{}")
    (home / "raw" / "hf_models" / "snapshot_date=2024-01-01").mkdir()  # incomplete: no manifest
    assert partitions_start(home, None, None) == "2025-02-10"
    assert partitions_start(home, "2025-01-01", None) == "2025-01-01"  # a configured start
    assert partitions_start(home, None, "2024-06-01") == "2024-06-01"  # a CLI run on an earlier date


@pytest.fixture(scope="module")
def daily_runs(daily_runs_home):
    """The daily job for three simulated dates across the ban, executed as the schedule would
    (conftest.daily_runs_home, made once per session: read it; tests that run more copy it)."""
    home, _before_last_day, outcomes = daily_runs_home
    return home, outcomes


def test_daily_job_populates_the_marts_and_passes_its_checks(daily_runs):
    home, outcomes = daily_runs
    for day, outcome in outcomes.items():
        assert outcome.success, (day, outcome.error)
        assert outcome.checks["failed"] == 0, outcome.failed_checks
        assert "marts/model_snapshots" in outcome.materialized
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        dates = con.sql("select distinct snapshot_date from marts.model_snapshots order by 1").fetchall()
        assert [d for (d,) in dates] == [date.fromisoformat(d) for d in BAN_DAYS]
        assert con.sql("select count(*) from marts.images").fetchall()[0][0] > 0


def test_the_drop_check_fires_across_the_ban_and_only_there(daily_runs):
    _home, outcomes = daily_runs
    warned = {day: [c for c in o.failed_checks if "no_sudden_drop" in c] for day, o in outcomes.items()}
    assert warned == {
        "2025-05-21": [],
        "2025-05-22": ["raw/civitai_models:no_sudden_drop (WARN)"],
        "2025-05-23": [],
    }
    assert outcomes["2025-05-22"].checks["warned"] >= 1  # counted in the run's summary, not only listed


def test_each_days_check_result_is_kept_under_its_partition(daily_runs):
    home, _outcomes = daily_runs
    storage = use_instance(home).event_log_storage
    key = dg.AssetCheckKey(dg.AssetKey(["raw", "civitai_models"]), "no_sudden_drop")
    records = storage.get_asset_check_execution_history(key, limit=20)
    passed = {r.partition: r.event.dagster_event.event_specific_data.passed for r in records}
    assert passed == {"2025-05-21": True, "2025-05-22": False, "2025-05-23": True}


def test_partitions_start_at_the_first_snapshot_of_the_home(daily_runs, monkeypatch):
    home, _outcomes = daily_runs
    monkeypatch.setenv("HUBWATCH_HOME", str(home))
    monkeypatch.delenv("HUBWATCH_PARTITIONS_START", raising=False)
    # as a fresh process (`make dev`) loads them: no home left by an in-process run of another test
    monkeypatch.setattr(runs, "partitions_home", None)
    monkeypatch.setattr(runs, "partitions_floor", None)
    assets = defs().resolve_assets_def(dg.AssetKey(["raw", "civitai_models"]))
    assert assets.partitions_def.get_first_partition_key() == "2025-05-21"


def test_diff_lists_the_models_the_ban_removed(daily_runs, small_world):
    """The packages published before and after the simulated 2025-05-22 ban, compared (`hubwatch diff`
    as the command runs it, in this process: tests/test_diff.py keeps its process)."""
    home, outcomes = daily_runs
    assert {"publish/package"} <= set(outcomes["2025-05-22"].materialized)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBWATCH_")}
    done = hubwatch_here("diff", "--home", str(home), "--csv", "--table", "models", "2025-05-21", "2025-05-22", env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    disappeared = [r for r in rows if r["change"] == "disappeared"]
    keys = [(orjson.loads(r["key"]), r["removal_kind"]) for r in disappeared]
    gone = {int(k["model_id"]): kind for k, kind in keys if k["platform"] == "civitai"}
    vanished = truth.civitai_model_ids(small_world, date(2025, 5, 21)) - truth.civitai_model_ids(
        small_world, date(2025, 5, 22)
    )
    banned = {m.model_id for m in small_world.models if m.poi and m.model_id in vanished}
    assert banned and banned <= vanished  # the ban is most of what the day removed
    assert set(gone) == vanished
    assert "absent" in {gone[m] for m in banned}  # hidden by the ban, not taken down or archived before
    assert set(gone.values()) <= {"absent", "taken_down", "archived"}
    assert {r["removed_on"] for r in disappeared} == {"2025-05-22"}
    summary = hubwatch_here("diff", "--home", str(home), "2025-05-21", "2025-05-22", env=env)
    assert f"models that disappeared from A to B: {len(disappeared)} (" in summary.stdout


def test_failing_hub_fails_the_run_after_retries_and_the_sensor_records_it(fakehub, tmp_path):
    home = tmp_path / "home"
    fakehub.faults = Faults(always="500")
    env = hub_env(fakehub, home, HUBWATCH_MAX_RETRIES="1", HUBWATCH_STEP_RETRIES="1", HUBWATCH_STEP_RETRY_DELAY="0.1")
    done = hubwatch_here("snapshot", "--sources", "civitai_models", "--as-of", "2025-05-21", env=env)
    assert done.returncode != 0
    url = f"{fakehub.civitai_base}/models?limit=100&nsfw=true&archived=true&sort=Oldest"
    assert done.stderr.strip().splitlines() == [
        f"hubwatch: error: civitai_models: giving up on {url} after 2 attempts: 500: HTTP 500 from {url}"
    ]
    assert fakehub.requests == 4  # two HTTP attempts, and the whole step retried once
    assert complete_snapshots(home, "civitai_models") == []

    instance = use_instance(home)
    run = instance.get_runs(limit=1)[0]
    assert run.status == dg.DagsterRunStatus.FAILURE
    failure = next(
        e
        for e in instance.all_logs(run.run_id)
        if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="record_failed_runs",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure.dagster_event,
    ).for_run_failure()
    record_failed_runs(context, settings=HubwatchSettings(home=str(home)))
    recorded = [orjson.loads(line) for line in (home / "logs" / "failed_runs.jsonl").read_bytes().splitlines()]
    assert recorded[-1]["run_id"] == run.run_id and recorded[-1]["partition"] == "2025-05-21"


def test_two_builds_at_once_queue_on_the_writer_pool(daily_runs, fakehub, tmp_path):
    """The second build is started while the first one's dbt step runs: its run is under way
    before that step ends, and its own dbt step starts only after (the pool's one slot), so both
    succeed with no lock error. Timestamps from the instance's event log. The first is a process
    of its own running the job `hubwatch build` runs over every incremental model and what they
    read (tests/build_driver.py: the same run_job, instance, pool and dbt step as the command's,
    at a third of a whole build's nodes; the command's own process is test_cli_errors',
    test_withdraw's and test_warehouse's); the second runs the same job in this process (a second
    process: the pool holds across processes), which spares it a Python, Dagster and dbt start-up,
    over one small table (upstream_of: its dbt step writes the same warehouse file under the same
    pool as a whole build's, at a fraction of its cost). Neither runs the asset checks (run_job's
    checks: they run in the same dbt step, and no one reads them here)."""
    home = copy_home(daily_runs[0], tmp_path / "home")
    env = hub_env(fakehub, home)
    record_path = home / "builds" / "latest.json"
    before = orjson.loads(record_path.read_bytes())["run_id"]
    first = subprocess.Popen(
        [sys.executable, "-m", "tests.build_driver", str(home), "--no-checks"],
        env=env,
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the first build's dbt step has begun (its record says running)
            record = orjson.loads(record_path.read_bytes()) if record_path.is_file() else {}
            if record.get("run_id") != before and record.get("result") == "running":
                break
            time.sleep(0.2)
        else:
            pytest.fail("the first build never started its dbt step")
        second = build_warehouse(home, upstream_of="rules_changelog", checks=False)
    finally:
        _out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err  # tests/build_driver.py exits 1 when its run failed
    assert "lock" not in err.lower()
    assert second.success, (second.error, second.failed_checks)
    assert "lock" not in (second.error or "").lower()

    instance = use_instance(home)
    runs = sorted(instance.get_runs(limit=2), key=lambda run: event_time(instance, run.run_id, "RUN_START"))
    a, b = (run.run_id for run in runs)
    assert (a, b) == (record["run_id"], second.run_id)
    assert event_time(instance, b, "RUN_START") < event_time(instance, a, "STEP_SUCCESS", "warehouse")
    assert event_time(instance, b, "STEP_START", "warehouse") >= event_time(instance, a, "STEP_SUCCESS", "warehouse")


def event_time(instance, run_id: str, event_type: str, step_key: str | None = None) -> float:
    """When a run's event of that type (for that step) was logged."""
    [entry] = [
        e
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType[event_type])
        if step_key is None or e.step_key == step_key
    ]
    return entry.timestamp


def test_a_failing_daily_run_leaves_the_last_publish_untouched(daily_runs, fakehub, monkeypatch, tmp_path):
    from ingest.files import sha256_file

    shared, outcomes = daily_runs
    home = copy_home(shared, tmp_path / "home")
    assert "publish/package" in outcomes["2025-05-23"].materialized
    latest = (home / "publish" / "latest").resolve()
    before = {p: sha256_file(p) for p in latest.rglob("*") if p.is_file()}
    fakehub.faults = Faults(always="500")
    for key, value in hub_env(fakehub, home, HUBWATCH_MAX_RETRIES="0").items():
        monkeypatch.setenv(key, value)
    outcome = run_job(home, "daily_snapshot_job", partition_key="2025-05-24")
    assert not outcome.success and "giving up" in outcome.error
    assert "publish/package" not in outcome.materialized
    assert (home / "publish" / "latest").resolve() == latest
    assert {p: sha256_file(p) for p in latest.rglob("*") if p.is_file()} == before


def test_a_step_waiting_for_a_pool_slot_sleeps_until_its_next_claim_check():
    """A run in this process whose step waits for the writer pool's one slot (a second build while
    another's dbt step runs) sleeps between its claims instead of spinning a core for the other
    build's whole dbt step: Dagster's in-process executor sleeps for the interval to the next
    pending claim check, which must be positive while that check lies ahead."""
    from types import SimpleNamespace

    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    runs.pool_waits_sleep()  # what every run of this process has (dagster_project.runs applies it)
    waiting = SimpleNamespace(_pending_claims={"warehouse"}, _pending_timeouts={"warehouse": time.time() + 2})
    assert 1 < InstanceConcurrencyContext.interval_to_next_pending_claim_check(waiting) <= 2
    due = SimpleNamespace(_pending_claims={"warehouse"}, _pending_timeouts={"warehouse": time.time() - 1})
    assert InstanceConcurrencyContext.interval_to_next_pending_claim_check(due) == 0

"""Shared test helpers: fixture paths, a fakehub on loopback, and running the CLI as a user would."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

from ingest import pagestore
from ingest.fakehub import FakeHub, Faults, build_world
from ingest.sources import SOURCES

# Whole-step retries (minutes apart, for the scheduled pipeline) are a setting of each run: CLI
# and run_job runs default to none (HUBWATCH_STEP_RETRIES), so tests wait for no retry.
FIXTURES = Path(__file__).parent / "fixtures"
HUBWATCH = str(Path(sys.executable).with_name("hubwatch"))  # the installed command, as a user runs it
REAL = FIXTURES / "real"
# Fast, bounded politeness for crawls against fakehub (the defaults are for the real hubs).
FAST_ENV = {
    "HUBWATCH_RATE": "0",
    "HUBWATCH_BACKOFF_INITIAL": "0.01",
    "HUBWATCH_BACKOFF_MAX": "0.05",
    "HUBWATCH_TIMEOUT": "0.5",
    "HUBWATCH_MAX_RETRIES": "8",
}


@pytest.fixture(autouse=True)
def signal_handlers_restored():
    """A test that runs a Dagster job in this process without run_job (dg.materialize,
    execute_in_process) leaves SIGTERM mapped to SIGINT's handler, which is "ignored" in a worker
    started in the background: every later subprocess of that worker then ignored SIGTERM
    (test_signals failed after test_startup on the same worker)."""
    from dagster_project.runs import signal_handlers_kept

    with signal_handlers_kept():
        yield


def load_real(name: str):
    return orjson.loads((REAL / name).read_bytes())


@pytest.fixture(scope="session")
def small_world():
    return build_world(seed=11, n_models=300, n_images=2500, n_repos=120)


@pytest.fixture
def fakehub(small_world):
    """A fault-free fakehub; tests that want faults set `hub.faults`."""
    with FakeHub(small_world, Faults()) as hub:
        yield hub


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def hub_env(hub: FakeHub, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "CIVITAI_", "HF_"))}
    env.update(FAST_ENV)
    env.update(
        HUBWATCH_HOME=str(home),
        CIVITAI_API_BASE=hub.civitai_base,
        HF_ENDPOINT=hub.hf_endpoint,
        HUBWATCH_HF_FILES_BUDGET="1000",
    )
    env.update(extra)
    return env


def hubwatch(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed `hubwatch` command the way a user would."""
    return subprocess.run([HUBWATCH, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def hubwatch_here(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`hubwatch *args` as `hubwatch` would run it (the installed command's click group, its one-line
    errors, its exit code, its stdout and stderr), in this process under env, without a process's
    start-up (measured: 0.1 CPU-s for `withdraw` or `sql`, 0.5 for `import`, ~1.5 for a command that
    runs a Dagster job: imports, definitions, a new instance). For tests about
    what a command does; what needs a process (an exit status the OS sees, signals, what reaches a
    process's stderr from outside click) keeps one test of the installed command per error path.
    Everything the command changes in this process is put back: os.environ whole, the root
    logger (the command's logging.basicConfig writes to its stderr, as in a process), the
    loggers it quiets, the home the code location's partitions start from (runs.use_partitions_of).
    A warning the command raises reaches its stderr as in a process (Python's default filters, not
    pytest's capture). An exception that escapes the command (a traceback a user would see) fails
    the test instead of becoming an exit code."""
    import logging
    import time
    import warnings

    from click.testing import CliRunner

    from dagster_project import runs
    from dagster_project.cli import main

    saved_env = dict(os.environ)
    root = logging.getLogger()
    saved_root = root.handlers[:], root.level
    quieted = {name: logging.getLogger(name).level for name in ("httpx", "dagster", "dagster.builtin", "dagster_dbt")}
    saved_partitions = runs.partitions_home, runs.partitions_floor
    try:
        os.environ.clear()
        os.environ.update(env)
        time.tzset()  # a TZ in env is the command's time zone, as in its process
        root.handlers = []  # so the command's basicConfig installs its own handler, onto its stderr
        with warnings.catch_warnings():
            as_in_a_process()
            result = CliRunner().invoke(main, list(args), prog_name="hubwatch", catch_exceptions=False)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        time.tzset()
        root.handlers, level = saved_root
        root.setLevel(level)
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)
        runs.partitions_home, runs.partitions_floor = saved_partitions
    return subprocess.CompletedProcess([HUBWATCH, *args], result.exit_code, result.stdout, result.stderr)


def as_in_a_process() -> None:
    """Python's default warning filters (a process started without -W: deprecations shown only in
    __main__) and warnings written to the current sys.stderr, where pytest would record them:
    inside warnings.catch_warnings(), which puts both back."""
    import sys
    import warnings

    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: sys.stderr.write(
        warnings.formatwarning(message, category, filename, lineno, line)
    )


def copy_snapshot(partition: Path, raw: Path) -> None:
    """A raw partition into another home's raw/, with the page packs its pages are stored in (a
    partition alone is not the whole snapshot). Packs are named by their content and never
    modified, so merging two homes' pack folders is safe."""
    shutil.copytree(partition, raw / partition.parent.name / partition.name)
    packs = pagestore.packs_dir(partition)
    if packs.is_dir():
        shutil.copytree(packs, raw / partition.parent.name / packs.name, dirs_exist_ok=True)


# -- built warehouses, shared ------------------------------------------------------------------
# A build costs ~40-85 s of dbt and Dagster; a `hubwatch build` subprocess adds ~16 s of imports.
# Tests build in this process through the same Dagster job the command runs, and tests that only
# read a warehouse share one build per world and days (see shared_home); a test that changes a
# home copies it first (copy_home). The CLI's own process (exit code, output) keeps its tests.


def snapshot_days(
    hub: FakeHub,
    home: Path,
    days,
    *,
    sources: tuple[str, ...] = SOURCES,
    period: str = "Month",
) -> None:
    """Simulated snapshots of each source on each day, in this process (`hubwatch snapshot --as-of`
    without its subprocess), at no politeness delay."""
    from ingest.snapshots import Endpoints, snapshot_each_day

    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    snapshot_each_day(endpoints, home, days, sources=sources, images_period=period)


def build(
    home: Path, *, full_refresh: bool = False, tz: str | None = None, must_pass: bool = True, checks: bool = True
):
    """`hubwatch build` in this process: dagster_project.runs.build_warehouse, the very job the
    command runs (verification, dbt, build record), without its subprocess. tz: the time zone the
    build runs in (TZ, as a user's shell would set it). checks=False leaves out the asset checks
    (run_job's checks: dbt runs no test, ~half a whole build's nodes), for a test that reads the
    tables and none of the checks; its record then says `partial`. Returns the RunOutcome;
    must_pass asserts it succeeded, with what failed."""
    from dagster_project.runs import build_warehouse

    with time_zone(tz):
        outcome = build_warehouse(home, full_refresh=full_refresh, checks=checks)
    if must_pass:
        assert outcome.success, (outcome.error, outcome.failed_checks)
    return outcome


def snapshot_and_build(world, home: Path, days, *, sources: tuple[str, ...] = SOURCES, period: str = "Month"):
    """A fakehub world snapshotted on each day, then built: the home most measure tests read."""
    with FakeHub(world) as hub:
        snapshot_days(hub, home, days, sources=sources, period=period)
    return build(home)


def shared_root(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this session sees (the base temp of the whole run);
    without xdist, this session's own base temp."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_home(tmp_path_factory, name: str, make) -> tuple[Path, dict]:
    """A home made once per test session, whichever xdist worker asks first (the others wait on a
    file lock, then read it). make(home) fills it in place (a home's paths are absolute, so it is
    not moved) and returns what the tests want to know of the making (JSON: e.g. a build's checks),
    saved beside it; a make that failed leaves no mark of completion and is made again from
    scratch. Returns (home, what make returned). Read it read-only; copy it (copy_home) to change it."""
    from filelock import FileLock

    root = shared_root(tmp_path_factory) / "shared-homes"
    root.mkdir(exist_ok=True)
    home, made = root / name / "home", root / name / "made.json"
    with FileLock(str(root / f"{name}.lock")):
        if not made.is_file():
            shutil.rmtree(root / name, ignore_errors=True)
            home.mkdir(parents=True)
            made.write_bytes(orjson.dumps(make(home) or {}))
    return home, orjson.loads(made.read_bytes())


def outcome_facts(outcome) -> dict:
    """What tests read of a build run, as JSON (a RunOutcome, without its materialisation metadata)."""
    return {
        "success": outcome.success,
        "run_id": outcome.run_id,
        "error": outcome.error,
        "checks": outcome.checks,
        "failed_checks": outcome.failed_checks,
    }


def copy_home(home: Path, to: Path) -> Path:
    """A private copy of a shared home, for a test that writes to it (far cheaper than a build)."""
    shutil.copytree(home, to, symlinks=True)
    return to


REAL_2023_SELECTION = REAL / "civitai_v1_models_items_2023-07_selection.json"
REAL_2025_LIST = REAL / "civitai_v1_models_list_limit10_2025-08.json"
REAL_2023_URL = "https://github.com/dfanr/CivitaiModelList"


@pytest.fixture(scope="session")
def real_crawls(tmp_path_factory, small_world) -> tuple[Path, dict]:
    """Real answers of both API generations, each imported with `hubwatch import` as a user runs
    it (the July 2023 crawl's selection, named by its URL; the 2025 list), then built: test_import
    reads what became of the imports, test_model_measures the measures of the build. Returns the
    home and, per import, its exit code and stderr, and the build's outcome."""

    def make(home: Path) -> dict:
        with FakeHub(small_world) as hub:
            env = hub_env(hub, home)
            imports = [
                hubwatch(
                    "import", "civitai-models-json", str(REAL_2023_SELECTION), "--as-of", "2023-07-05",
                    "--source-url", REAL_2023_URL, env=env,
                ),
                hubwatch("import", "civitai-models-json", str(REAL_2025_LIST), "--as-of", "2025-08-14", env=env),
            ]  # fmt: skip
        done = [{"returncode": i.returncode, "stderr": i.stderr} for i in imports]
        if any(i.returncode for i in imports):
            return {"imports": done, "build": None}
        return {"imports": done, "build": outcome_facts(build(home, must_pass=False))}

    return shared_home(tmp_path_factory, "real-crawls", make)


@pytest.fixture(scope="session")
def rendered_package(tmp_path_factory) -> Path:
    """tests/dashboard_package.py's package (every table and the policy events) with its site
    rendered, once per session: the dashboard tests that only read that site read this one (a test
    that changes a package writes its own)."""

    def make(folder: Path) -> dict:
        from dashboards.site import render_site
        from tests.dashboard_package import write_package

        package = write_package(folder)
        render_site(package)
        return {"package": str(package)}

    _folder, made = shared_home(tmp_path_factory, "dashboard-package", make)
    return Path(made["package"])


# -- worlds-a: homes shared across modules --------------------------------------------------------
# One built home where several modules built the same world over the same days (test_publish and
# test_integrity); each module copies it (copy_home) before it publishes or builds into it.

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
TWO_DAYS = ["2025-04-01", "2025-06-01"]
SPARE_DAY = "2025-07-01"


def hostile_world(world):
    """The small world with one ordinary model renamed to an HTML injection and made the most
    downloaded (so the dashboards' index page lists it): whatever shows hub text must escape it."""
    import copy

    hostile = copy.deepcopy(world)
    model = next(
        m
        for m in hostile.models
        if not m.poi and not m.real_person_name and not m.never_listed and m.deleted_at is None
    )
    model.name = HOSTILE_NAME
    model.versions[0].downloads_per_day = 1e7
    return hostile


@pytest.fixture(scope="session")
def two_days_built(tmp_path_factory, small_world) -> tuple[Path, Path]:
    """The hostile small world snapshotted on TWO_DAYS (every source, in this process) and built
    as `hubwatch build` builds it; SPARE_DAY's snapshots taken apart, beside it, for tests that add
    new data. The home lies under a folder named o'brien: every path that reaches SQL (the
    warehouse, the creator salt in dbt, later the package files) must be quoted. Once per session;
    returns (home, spare). Read-only: copy it (copy_home) to publish or build in it."""

    def make(home: Path) -> dict:
        with FakeHub(hostile_world(small_world)) as hub:
            snapshot_days(hub, home, TWO_DAYS)
            snapshot_days(hub, home.parent / "spare", [SPARE_DAY])
        build(home)
        return {}

    home, _made = shared_home(tmp_path_factory, "o'brien", make)
    return home, home.parent / "spare"


def publish_in_process(home: Path, day: str | None = None, *, force: bool = False, include_names: bool = False):
    """`hubwatch publish [--date day] [--force] [--include-names]` in this process: the very job the
    command runs (publish_job), without its subprocess's imports. Returns the RunOutcome. Tests of
    what the command itself prints keep running the command."""
    from dagster_project.publish_location import publish_location
    from dagster_project.runs import run_job

    config = {"publish_date": day, "force": force, "include_names": include_names}
    run_config = {"ops": {"publish__package": {"config": config}}}
    return run_job(home, "publish_job", run_config=run_config, definitions=publish_location())


# -- worlds-b: the daily job's home, shared by the orchestration and crash-harness build tests ---------
# Three daily runs across the simulated 2025-05-22 ban (snapshots, checks, build, publish each) are the
# orchestration tests' world; the crash harness's builds need a built warehouse, the next day's
# snapshots and an uninterrupted build of both, which the same runs already hold: the home as it
# stood after the second day, the third day's partitions, and the third day's build.
BAN_DAYS = ("2025-05-21", "2025-05-22", "2025-05-23")


@pytest.fixture(scope="session")
def daily_runs_home(tmp_path_factory, small_world):
    """The daily job for BAN_DAYS, executed in this process as the schedule would, once per
    session. Returns (home, base, outcomes): base is a copy of the home made before the last day's
    run (a warehouse of the first two days); outcomes, per day, what outcome_facts says of its run
    plus the asset keys it materialised (`materialized`), as attributes."""
    from types import SimpleNamespace

    from dagster_project.runs import run_job

    def make(home: Path) -> dict:
        base = home.parent / "before-last-day"
        outcomes = {}
        patch = pytest.MonkeyPatch()
        try:
            with FakeHub(small_world) as hub:
                for key, value in hub_env(hub, home).items():
                    patch.setenv(key, value)
                for day in BAN_DAYS:
                    if day == BAN_DAYS[-1]:
                        copy_home(home, base)
                    outcome = run_job(home, "daily_snapshot_job", partition_key=day)
                    outcomes[day] = {**outcome_facts(outcome), "materialized": sorted(outcome.materialized)}
        finally:
            patch.undo()
        return {"base": str(base), "outcomes": outcomes}

    home, made = shared_home(tmp_path_factory, "daily-runs", make)
    outcomes = {day: SimpleNamespace(**facts) for day, facts in made["outcomes"].items()}
    return home, Path(made["base"]), outcomes


# -- worlds-d: a command's job in this process, under the command's environment ------------------
# A test about what a command prints keeps running the command; the runs that only set a scene or
# redo work (a rerun after a failure) run the same job here, in the environment the command had.


def command_environment(patch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """os.environ (through patch, undone with it) as it is for a `hubwatch` run with env (hub_env's):
    the settings a job reads at run time (endpoints, credentials, politeness) are the command's."""
    for key in list(os.environ):
        if key not in env:
            patch.delenv(key)
    for key, value in env.items():
        patch.setenv(key, value)


def snapshot_in_process(env: dict[str, str], day: str, sources: list[str]):
    """`hubwatch snapshot --sources ... --as-of day` in this process: the command's own
    snapshot_sources (the daily snapshot job for those sources, in the home env names), without its
    subprocess's start-up. Returns the RunOutcome (the command exits 0 exactly when it succeeded)."""
    import io

    from dagster_project.cli import Reporter, snapshot_sources

    with pytest.MonkeyPatch.context() as patch, Reporter(io.StringIO()) as reporter:
        command_environment(patch, env)
        return snapshot_sources(Path(env["HUBWATCH_HOME"]), day, sources, reporter)


# -- worlds-e: one measures home for the model and image measures ------------------------------------
# test_model_measures and test_image_measures built the small world apart (the model measures on four
# days across the API's stats generations, every source; the image measures on two days, Civitai's
# models and images only, the AllTime window). One home serves both: the four days, every source,
# the AllTime window (a superset of what each read: the model measures read no image; the image
# measures read every image alive on any of the four days, later than any day they had).
MEASURES_DAYS = [date(2024, 1, 15), date(2024, 9, 1), date(2025, 6, 1), date(2025, 12, 1)]
MEASURES_PERIOD = "AllTime"


@pytest.fixture(scope="session")
def measures_home(tmp_path_factory, small_world) -> Path:
    """The small world snapshotted on MEASURES_DAYS (every source, the AllTime image window) and
    built, once per session (shared_home). Read it; copy it (copy_home) to write to it."""
    home, _made = shared_home(
        tmp_path_factory,
        "measures",
        lambda home: outcome_facts(snapshot_and_build(small_world, home, MEASURES_DAYS, period=MEASURES_PERIOD)),
    )
    return home


# -- worlds-e: crawls without fsync where durability is not what a test asks -------------------------
@pytest.fixture
def no_fsync(monkeypatch):
    """os.fsync a no-op for one test: its files are still written whole under a temporary name and
    renamed (ingest.files, ingest.pagestore), only not forced to the disk. For tests that count what
    crawls saw (each snapshot fsyncs dozens of files: on a disk shared with other jobs, seconds a
    snapshot). What survives a power loss is test_crash_safety's and the crash harness's question."""
    monkeypatch.setattr(os, "fsync", lambda _fd: None)


# -- worlds-f: the state a build leaves for the next, at a third of a build ----------------------------
# Where a test builds only so that a later build has a warehouse to start from, what it needs of the
# first build is the state the next one meets: every incremental model (and what they read). Every
# other table is rebuilt whole by any later build, whatever the first did (tests/build_driver.py).


@contextlib.contextmanager
def time_zone(tz: str | None):
    """TZ set for the duration (as a user's shell would set it), then put back; None: left alone."""
    import time

    saved = os.environ.get("TZ")
    if tz:
        os.environ["TZ"] = tz
        time.tzset()
    try:
        yield
    finally:
        if tz:
            if saved is None:
                os.environ.pop("TZ", None)
            else:
                os.environ["TZ"] = saved
            time.tzset()


def build_incremental_state(home: Path, *, tz: str | None = None, checks: bool = True):
    """`hubwatch build`'s job in this process over every incremental model and what they read
    (tests/build_driver.py's selection; its checks run): the warehouse a later build meets, at about
    a third of a whole build's nodes. Its build record says `partial` (publish refuses it); the next
    whole build makes every other table. checks=False leaves out its asset checks (run_job's
    checks: dbt runs no test, ~60 % of its nodes), where no one reads them. Returns the RunOutcome;
    asserts it succeeded."""
    from dagster_project.runs import code_location, run_job
    from tests.build_driver import incremental_and_upstream

    definitions = code_location(home)
    config = {"ops": {"warehouse": {"config": {"full_refresh": False, "engine": "duckdb"}}}}
    keys = incremental_and_upstream(definitions)
    with time_zone(tz):
        job = "rebuild_from_raw_job"
        outcome = run_job(home, job, run_config=config, asset_selection=keys, definitions=definitions, checks=checks)
    assert outcome.success, (outcome.error, outcome.failed_checks)
    return outcome


def build_upstream(home: Path, tables, *, full_refresh: bool = False, checks: bool = True, state_only: bool = False):
    """`hubwatch build`'s job in this process over what the named tables ("schema.name", any layer)
    need: them and everything upstream, with their checks (build_warehouse(upstream_of=...) takes
    marts only). checks=False: without them (run_job's checks), for a build whose checks no one
    reads. state_only: of those, only the incremental models and what they read (tests/build_driver.py),
    for a build whose other tables no one reads before the next build rebuilds them whole.
    Returns the RunOutcome; asserts it succeeded."""
    import dagster as dg

    from dagster_project.runs import code_location, run_job

    definitions = code_location(home)
    wanted = dg.AssetSelection.assets(*(dg.AssetKey(t.split(".")) for t in tables)).upstream()
    needed = wanted.resolve(definitions.resolve_asset_graph())
    if state_only:
        from tests.build_driver import incremental_and_upstream

        needed = needed & set(incremental_and_upstream(definitions))
    keys = [k for k in definitions.resolve_all_asset_keys() if k in needed and k.path[0] != "raw"]
    config = {"ops": {"warehouse": {"config": {"full_refresh": full_refresh, "engine": "duckdb"}}}}
    outcome = run_job(
        home, "rebuild_from_raw_job", run_config=config, asset_selection=keys, definitions=definitions, checks=checks
    )
    assert outcome.success, (outcome.error, outcome.failed_checks)
    return outcome

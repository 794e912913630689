"""Run the Dagster jobs in-process from the CLI, on the instance the UI shows.

DAGSTER_HOME is $HUBWATCH_HOME/dagster, so every run started by `hubwatch` appears in
`make dev`'s run history, and the concurrency pools (one warehouse writer) hold across
processes. Dagster's own console chatter is silenced: the CLI prints its own progress, and a
failure comes back as the one line the failing step raised.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from ingest.landing import PageEvent

INSTANCE_CONFIG = Path(__file__).with_name("dagster.yaml")
PID_TAG, HOST_TAG = "hubwatch/pid", "hubwatch/host"
# What the code location's definitions are loaded for: the home whose first snapshot starts the daily
# partitions, and the partition a CLI run asks for (a simulated or imported date may precede it).
# Set (use_partitions_of) just before the definitions load; `dg dev` leaves them unset ($HUBWATCH_HOME).
partitions_home: Path | None = None
partitions_floor: str | None = None


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    error: str | None
    materialized: dict[str, dict[str, Any]]  # asset key -> materialisation metadata
    checks: dict[str, int]  # passed / failed / warned
    failed_checks: list[str]


def prepare_dagster_home(home: Path) -> Path:
    """$HUBWATCH_HOME/dagster, holding hubwatch's instance config (the CLI's runs and `make dev` share it)."""
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.is_file():
        shutil.copyfile(INSTANCE_CONFIG, config)
    return dagster_home


def pool_waits_sleep() -> None:
    """Dagster's executor (1.13) sleeps, while a step waits for a pool slot, for
    InstanceConcurrencyContext.interval_to_next_pending_claim_check, which returns min(0, ...): never
    a positive wait, so a build queued on duckdb_writer behind another spun a core for the other's
    whole dbt step (dagster-io/dagster#20367 named it, closed unmerged). The interval to the next
    claim check, as its callers expect; the claims themselves are Dagster's own. Idempotent."""
    import time

    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    def interval_to_next_pending_claim_check(self) -> float:
        if not self._pending_claims:
            return 0.0
        now = time.time()
        return max(0.0, min((ready_at - now for ready_at in self._pending_timeouts.values()), default=0.0))

    InstanceConcurrencyContext.interval_to_next_pending_claim_check = interval_to_next_pending_claim_check


def component_types_described_once() -> None:
    """Each load of the code location's definitions (code_location: every run_job of a process, as
    a test worker's in-process builds) also describes every component type installed, for Dagster's
    UI (the root's plugin_component_types_json metadata): pydantic JSON schemas of ~0.09 CPU-s, four
    fifths of a load after a process's first. The installed packages do not change while a process
    runs: described at the first load, and each later load carries that same metadata with its own
    component tree (what Dagster's get_library_json_enriched_defs returns). Idempotent."""
    from dagster.components.core import load_defs

    describe = load_defs.get_library_json_enriched_defs
    if getattr(describe, "described_once", False):
        return
    import dagster as dg

    described: list = []

    def get_library_json_enriched_defs(tree):
        if not described:
            described.append(describe(None).metadata)
        return dg.Definitions(metadata=described[0], component_tree=tree)

    get_library_json_enriched_defs.described_once = True
    load_defs.get_library_json_enriched_defs = get_library_json_enriched_defs


pool_waits_sleep()
component_types_described_once()


def use_instance(home: Path):
    """The instance in $HUBWATCH_HOME/dagster (what `make dev` uses as DAGSTER_HOME), with
    hubwatch's instance config; opened from its folder, so no environment variable is set."""
    from dagster import DagsterInstance

    relax_sqlite_sync()
    return DagsterInstance.from_config(str(prepare_dagster_home(home)))


def relax_sqlite_sync() -> None:
    """Dagster's SQLite storage commits every event (a build logs ~1400: one per table and per
    check, each planned and done) and fsyncs each commit; on a shared disk that was half of a small
    build's wall time (cProfile: 44 s in commit, 20 s in close of 258 s). Its databases are in WAL
    mode, where SQLite's own advice is `synchronous=NORMAL`: no fsync per commit, never corrupt, and
    a killed process loses nothing (only a power loss may drop the last events of the run history;
    the evidence, raw/ and the build records, is written by hubwatch with its own fsyncs). While a
    run executes, its storage files are also kept open (storage_kept_open)."""

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if event.contains(Engine, "connect", _normal_sync_in_wal):
        return
    event.listen(Engine, "connect", _normal_sync_in_wal)


def _normal_sync_in_wal(dbapi_connection, _record) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        (mode,) = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() == "delete" and dbapi_connection.execute("PRAGMA page_count").fetchone()[0] == 0:
            # a database file being created (a new home's runs, index and schedules, each run's own
            # event shard): Dagster creates its tables, then turns WAL on; in WAL from the start, the
            # ~30 statements that create them are not each fsynced (a new home's instance took ~2.4 s
            # of wall time on a loaded disk), and the file ends the same (WAL, as Dagster makes it).
            # Another process creating it at the same moment may hold it: then Dagster's way, as before
            with contextlib.suppress(sqlite3.OperationalError):
                (mode,) = dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchone()
        if str(mode).lower() == "wal":
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
            # a kept-open database checkpoints its WAL every 16 pages (64 KiB; SQLite's default is 1000
            # pages), so a run's history needs only a few hundred KB more disk than when each close did;
            # a build's run every BUILD_WAL_PAGES (storage_kept_open)
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={_run_wal_pages}")


WAL_PAGES = 16
BUILD_WAL_PAGES = 1000
"""A build stores ~1,400 events (a table's materialisation and a check's evaluation per dbt node): at
16 pages its run checkpointed ~640 times, each syncing the WAL twice and the database once (strace
of a year-tier day: 3,814 fdatasyncs in the parent); at SQLite's default of 1000 pages (4 MiB of WAL
at most, per file, during the run) a handful. Durability is the same kind: with synchronous=NORMAL
a killed process loses nothing; only a power loss may drop the run history's events since the last
checkpoint, now up to a build's whole history (Dagster's record; the build record, which publish
trusts, and the warehouse have their own syncs). Other runs keep 16: a snapshot on a nearly full disk
(test_cli_errors' levels) needs its small WAL."""
_run_wal_pages = WAL_PAGES  # what SQLite connections opened during the current run get
BUILD_JOB = "rebuild_from_raw_job"  # the job of the dbt assets (a build; with publish's assets too)


@contextlib.contextmanager
def storage_kept_open(instance, wal_pages: int = WAL_PAGES):
    """While a run executes, Dagster's SQLite run and event storages reuse one engine, and one open
    connection, per database file.

    Dagster's own SQLite storages create a SQLAlchemy engine for every statement and close its
    connection at once (NullPool): a build's ~1,400 events made ~7,400 engines, each compiling its
    SQL afresh (SQLAlchemy caches compiled statements per engine), opening the file and, when it was
    the last connection of a WAL database, checkpointing and deleting the WAL (syncs) for the next
    commit to create again. Here each file gets one engine whose pool keeps its connection between
    statements. Nothing else changes: every event is still its own transaction, committed before
    Dagster goes on (as durable as before: WAL with synchronous=NORMAL, relax_sqlite_sync), and the
    WAL is checkpointed by SQLite every WAL_PAGES and once when the engines close at the end of the
    run; a killed process leaves the WAL, which the next connection recovers. wal_pages: the WAL
    autocheckpoint of the connections opened during the run (BUILD_WAL_PAGES for a build)."""
    global _run_wal_pages
    events, runs = instance.event_log_storage, instance.run_storage
    patched = []
    engines: dict[str, Any] = {}
    if type(events).__name__ == "SqliteEventLogStorage" and "_connect" not in vars(events):
        events._connect = _pooled_event_connect(events, engines)
        events.has_table = _remembered_tables(events, engines)
        events._has_asset_key_col_on_connection = _remembered(events._has_asset_key_col_on_connection)
        events.has_secondary_index = _remembered(events.has_secondary_index)
        patched += [
            (events, "_connect"),
            (events, "has_table"),
            (events, "_has_asset_key_col_on_connection"),
            (events, "has_secondary_index"),
        ]
    if type(runs).__name__ == "SqliteRunStorage" and "connect" not in vars(runs):
        runs.connect = _pooled_run_connect(runs, engines)
        patched.append((runs, "connect"))
    _run_wal_pages = wal_pages
    try:
        yield
    finally:
        for storage, name in patched:
            delattr(storage, name)
        for engine in engines.values():
            with contextlib.suppress(Exception):
                engine.dispose()
        _run_wal_pages = WAL_PAGES


_engines_lock = threading.Lock()


def _engine(engines: dict[str, Any], url: str):
    """The run's engine for one database file, made on first use. It keeps one connection open between
    uses (more, closed when returned, only while one is busy: another thread, or has_table asked
    inside a transaction). A pooled sqlite3 connection moves between threads, one at a time."""
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    with _engines_lock:
        if url not in engines:
            engines[url] = create_engine(
                url,
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=8,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
        return engines[url]


def _pooled_event_connect(storage, engines: dict[str, Any]):
    """SqliteEventLogStorage._connect (same lock, same lazy creation of a shard, one transaction per
    use) on a kept engine per shard."""

    @contextlib.contextmanager
    def connect(shard: str):
        with storage._db_lock:
            engine = _engine(engines, storage.conn_string_for_shard(shard))
            if shard not in storage._initialized_dbs:
                storage._initdb(engine)
                storage._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    return connect


def _remembered_tables(storage, engines: dict[str, Any]):
    """SqliteEventLogStorage.has_table, asked before every asset check event is stored (~800 times a
    build, each on a new engine), on the kept index engine; a table once found is remembered for the
    run (no run drops Dagster's tables while it executes). Like Dagster's own, it takes no lock: it is
    asked while a storage connection is held (the pool then lends a second connection)."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME

    found: set[str] = set()

    def has_table(table_name: str) -> bool:
        if table_name not in found:
            with _engine(engines, storage.conn_string_for_shard(INDEX_SHARD_NAME)).connect() as conn:
                if conn.dialect.has_table(conn, table_name):
                    found.add(table_name)
        return table_name in found

    return has_table


def _remembered(ask: Callable[..., bool]) -> Callable[..., bool]:
    """One of SqlEventLogStorage's questions about its own schema, asked before it stores or reads an
    asset's event: whether the asset index has a column (_has_asset_key_col_on_connection: SQLAlchemy's
    inspector reads every column, PRAGMA table_xinfo) or a secondary index is built (has_secondary_index,
    a query); a 30-asset run asked 150 and 60 times, ~10 % of a build's CPU in this process. A yes is
    remembered for the run, as has_table's (no run drops a column or an index's record while it
    executes; a migration that adds one is seen when it happens: a no is asked again). The last
    argument is what is asked about (the column's or the index's name)."""
    found: set[str] = set()

    def remembered(*args) -> bool:
        name = args[-1]
        if name not in found and ask(*args):
            found.add(name)
        return name in found

    return remembered


def _pooled_run_connect(storage, engines: dict[str, Any]):
    """SqliteRunStorage.connect (one transaction per use) on a kept engine."""

    @contextlib.contextmanager
    def connect():
        with _engine(engines, storage._conn_string).connect() as conn, conn.begin():
            yield conn

    return connect


def with_progress(definitions, on_page: Callable[[PageEvent], None]):
    """The code location with its `progress` resource bound to on_page (the CLI's display)."""
    import dagster as dg

    return dg.Definitions(
        assets=definitions.assets,
        asset_checks=definitions.asset_checks,
        jobs=definitions.jobs,
        schedules=definitions.schedules,
        sensors=definitions.sensors,
        resources={**(definitions.resources or {}), "progress": dg.ResourceDefinition.hardcoded_resource(on_page)},
        loggers=definitions.loggers,
        executor=definitions.executor,
    )


def reap_dead_runs(instance) -> list[str]:
    """Fail runs whose hubwatch process died (e.g. SIGKILL) and free their pool slots.

    Dagster's daemon does this for runs it launched; a run executed in a CLI process that was
    killed would otherwise hold its concurrency slot for ever and block every later run.
    """
    from dagster import DagsterRunStatus, RunsFilter

    reaped = []
    active = RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])
    for run in instance.get_runs(filters=active):
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid and host == socket.gethostname() and not _alive(int(pid)):
            instance.report_run_failed(run, "the hubwatch process running it stopped (killed or crashed)")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    return reaped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def signal_handlers_kept():
    """Put SIGINT's and SIGTERM's handlers back as they were before a run. Dagster's in-process
    execution leaves SIGTERM mapped to SIGINT's handler (dagster._utils.interrupts): in a process
    started in the background (SIGINT ignored) SIGTERM became ignored too, in it and in every
    process it started afterwards, so `kill` no longer stopped them."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread sets handlers, Dagster's included
        return
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:  # None: set outside Python, which cannot be restored
                signal.signal(signum, handler)


def code_location(home: Path, partition_key: str | None = None):
    """The code location's definitions for a run on this home (its daily partitions start at the
    home's first snapshot, or earlier at partition_key). Loading them builds every asset, check and
    job of defs/ and the dbt manifest's ~470 nodes (1.4 s on a loaded machine): a caller that needs
    them before run_job (build_warehouse: the asset keys) passes them on instead of loading twice."""
    from dagster_project.definitions import defs

    use_partitions_of(home, partition_key)
    return defs()


def use_partitions_of(home: Path, partition_key: str | None = None) -> None:
    """Definitions loaded after this declare their daily partitions from this home (its first
    snapshot), or from partition_key if that is earlier (defs/ingest/assets.py reads both)."""
    global partitions_home, partitions_floor
    partitions_home, partitions_floor = home, partition_key


def run_job(
    home: Path,
    job_name: str,
    *,
    partition_key: str | None = None,
    asset_selection: Sequence[Any] | None = None,
    run_config: dict[str, Any] | None = None,
    on_page: Callable[[PageEvent], None] | None = None,
    settings: dict[str, Any] | None = None,
    definitions=None,
    checks: bool = True,
) -> RunOutcome:
    """Execute a job of the code location in this process and say how it went. The home and any
    settings go to the `settings` resource; on_page becomes the `progress` resource. definitions:
    the code_location(home, partition_key) the caller already loaded (loaded here otherwise). checks:
    False runs the selected assets without their asset checks (Dagster's asset-check selection: a
    build then runs no dbt test), for a run whose checks no one reads, such as a build that only
    makes the warehouse another run starts from."""
    instance = use_instance(home)
    reap_dead_runs(instance)
    for name in ("dagster", "dagster.builtin", "dagster_dbt"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    definitions = definitions or code_location(home, partition_key)
    from ingest.landing import no_progress

    job = with_progress(definitions, on_page or no_progress).resolve_job_def(job_name)
    if not checks:
        assets = set(asset_selection) if asset_selection else set(job.asset_layer.executable_asset_keys)
        job, asset_selection = job.get_subset(asset_selection=assets, asset_check_selection=set()), None
    # An attended CLI run relies on the HTTP client's retries (scheduled runs also retry steps)
    attended = {"step_retries": int(os.environ.get("HUBWATCH_STEP_RETRIES", "0"))}
    config = {
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
        "resources": {"settings": {"config": {"home": str(home), **attended, **(settings or {})}}},
        **(run_config or {}),
    }
    log_path = home / "logs" / f"{job_name}.log"  # dbt's own output, re-emitted on stdout by dagster-dbt
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Dagster writes its own storage failures straight to stderr (a page of SQL per event): they
    # go to the log too, and the CLI says what failed in one line
    log = Quiet(log_path.open("w"))
    try:
        with (
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
            storage_kept_open(instance, BUILD_WAL_PAGES if job_name == BUILD_JOB else WAL_PAGES),
            signal_handlers_kept(),
        ):
            result = job.execute_in_process(
                instance=instance,
                partition_key=partition_key,
                asset_selection=asset_selection,
                run_config=config,
                raise_on_error=False,
                tags={PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()},
            )
    finally:
        log.close()
    outcomes = {"passed": 0, "failed": 0, "warned": 0}
    failed_checks = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            outcomes["passed"] += 1
            continue
        outcomes["warned" if evaluation.severity.value == "WARN" else "failed"] += 1
        failed_checks.append(
            f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({evaluation.severity.value})"
            + (f": {evaluation.description}" if evaluation.description else "")  # what a check says it saw
        )
    materialized = {
        event.asset_key.to_user_string(): {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }
    error = None if result.success else first_error(result)
    return RunOutcome(result.success, result.run_id, error, materialized, outcomes, failed_checks)


class Quiet(io.TextIOBase):
    """A text stream into a log file that never fails the run: a full disk loses log lines only."""

    def __init__(self, target):
        self.target = target

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.target.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.target.close()
        super().close()


def first_error(result) -> str:
    """What the failed steps raised, one line: a Failure's description, else the root cause."""
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data.user_failure_data
        if data and data.description:
            messages.append(data.description)
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        messages.append(error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name)
    return "; ".join(dict.fromkeys(messages)) or "the run failed"


def build_warehouse(
    home: Path,
    full_refresh: bool = False,
    upstream_of: str | tuple[str, ...] | None = None,
    engine: str = "duckdb",
    checks: bool = True,
) -> RunOutcome:
    """`hubwatch build`: the dbt assets alone (rebuild_from_raw_job also publishes), as users,
    tests and benchmarks all run them. upstream_of (a mart's name, or several) builds only what
    those tables need: a partial build, which its build record says and publish refuses. engine:
    duckdb (the default) or spark, the same dbt project on Apache Spark. checks: run_job's."""
    import dagster as dg

    definitions = code_location(home)
    keys = [k for k in definitions.resolve_all_asset_keys() if k.path[0] not in ("raw", "publish", "dashboards")]
    if upstream_of:
        marts = (upstream_of,) if isinstance(upstream_of, str) else upstream_of
        needed = dg.AssetSelection.assets(*(dg.AssetKey(["marts", mart]) for mart in marts)).upstream()
        wanted = needed.resolve(definitions.resolve_asset_graph())
        keys = [k for k in keys if k in wanted]
    config = {"ops": {"warehouse": {"config": {"full_refresh": full_refresh, "engine": engine}}}}
    return run_job(home, BUILD_JOB, run_config=config, asset_selection=keys, definitions=definitions, checks=checks)


def record_failed_run(home: Path, run_id: str, job: str, partition: str | None, message: str) -> None:
    """One line in $HUBWATCH_HOME/logs/failed_runs.jsonl, where an operator (and the coverage page)
    finds failed runs."""
    path = home / "logs" / "failed_runs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "at": datetime.now(UTC).isoformat(),
        "run_id": run_id,
        "job": job,
        "partition": partition,
        "error": message,
    }
    with path.open("ab") as handle:
        handle.write(orjson.dumps(line) + b"\n")

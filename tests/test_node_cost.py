"""What each dbt node of a build pays for besides its own query: the DuckDB connection dbt-duckdb
opens for it, and dbt's log of it (README, Performance: "A build's cost per dbt node")."""

from __future__ import annotations

import os

import dagster as dg
import orjson
import pytest

from dagster_project.warehouse import DBT_DIR

SETTINGS = ("memory_limit", "threads", "preserve_insertion_order", "TimeZone")


class CountingConnection:
    """A DuckDB connection whose cursors record each statement run on them."""

    def __init__(self, connection):
        self.connection = connection
        self.statements: list[str] = []

    def cursor(self):
        return CountingCursor(self.connection.cursor(), self.statements)

    def __getattr__(self, name):
        return getattr(self.connection, name)


class CountingCursor:
    def __init__(self, cursor, statements: list[str]):
        self._cursor, self._statements = cursor, statements

    def execute(self, sql, *args):
        self._statements.append(sql)
        return self._cursor.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def local_credentials(home):
    """The profile's DuckDB target rendered as dbt renders it for a build of `home` (the var
    hubwatch passes), then made into dbt-duckdb's credentials as dbt makes them."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(os.environ))  # what dbt's env_var() reads, as at dbt's start
    raw = read_profile(str(DBT_DIR))["hubwatch"]
    _target, data = Profile.render_profile(raw, "hubwatch", "local", ProfileRenderer({"hubwatch_home": str(home)}))
    data.pop("threads")  # dbt's own, not the adapter's
    return Profile._credentials_from_profile(data, "hubwatch", "local")


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles"])
def test_every_node_connection_has_the_warehouse_settings_with_one_statement(tmp_path, monkeypatch, zone):
    """dbt-duckdb opens a cursor of the one database for every node. The database-wide settings are
    given once, when the warehouse opens (they were SET again on each of ~500 cursors a build); only
    the time zone, a per-connection setting, is set per cursor, and every cursor has them all."""
    from dbt.adapters.duckdb.environments.local import LocalEnvironment

    monkeypatch.setenv("TZ", zone)  # a machine elsewhere: months and days must still be UTC
    monkeypatch.setenv("HUBWATCH_DUCKDB_MEMORY", "3GB")
    monkeypatch.setenv("HUBWATCH_DUCKDB_THREADS", "1")
    environment = LocalEnvironment(local_credentials(tmp_path))
    first = environment.handle()  # opens the warehouse file
    database = environment.conn
    counting = environment.conn = CountingConnection(database)
    try:
        assert environment.creds.path == f"{tmp_path}/warehouse.duckdb"
        for _node in range(3):
            handle = environment.handle()
            cursor = handle.cursor()
            values = {name: cursor.execute(f"select current_setting('{name}')").fetchone()[0] for name in SETTINGS}
            assert values == {
                "memory_limit": "2.7 GiB",  # 3 GB as DuckDB shows it
                "threads": 1,
                "preserve_insertion_order": False,
                "TimeZone": "UTC",
            }
            handle.close()
        opened = [s for s in counting.statements if not s.startswith("select current_setting")]
        assert opened == ["SET TimeZone = 'UTC'"] * 3, opened
    finally:
        environment.conn = database
        first.close()


def test_dbt_log_keeps_every_debug_line_as_plain_text(measures_home):
    """dbt.log keeps each node's SQL and the parse (debug level) in dbt's text form, not JSON:
    dagster-dbt asks for JSON on dbt's stdout only."""
    targets = sorted((measures_home / "dbt" / "target").glob("2*"))
    log = "".join(f.read_text() for f in targets[-1].glob("dbt.log*"))
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines and not any(line.startswith("{") and line.rstrip().endswith("}") for line in lines[:200])
    assert not any(line.startswith("\x1b[") for line in lines)  # no colour code before each line
    assert "[debug]" in log
    results = orjson.loads((targets[-1] / "run_results.json").read_bytes())["results"]
    model = next(r for r in results if r["unique_id"].startswith("model."))
    assert f"On {model['unique_id']}:" in log  # the SQL dbt ran for it


def tiny_definitions(job_name: str):
    """A job of an asset and its check under `job_name`, with the resource run_job configures."""
    from dagster_project.defs.resources import HubwatchSettings

    @dg.asset
    def table() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 1})

    @dg.asset_check(asset=table)
    def has_rows() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    return dg.Definitions(
        assets=[table],
        asset_checks=[has_rows],
        jobs=[dg.define_asset_job(job_name)],
        resources={"settings": HubwatchSettings()},
    )


@pytest.mark.parametrize("job_name", ["rebuild_from_raw_job", "daily_snapshot_job", "publish_job"])
def test_a_build_run_checkpoints_its_history_less_often_than_other_runs(tmp_path, job_name):
    """A build stores ~1,400 events: its run's SQLite files checkpoint their WAL every BUILD_WAL_PAGES
    (SQLite's default), not every 16 pages (~640 checkpoints, ~3,800 syncs a year-tier day); every
    other run keeps the small WAL a nearly full disk needs, and so does what comes after a build."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from dagster_project import runs

    runs.relax_sqlite_sync()  # hubwatch's settings first, then this test's look at them
    autocheckpoints: list[int] = []

    def look(dbapi_connection, _record) -> None:
        autocheckpoints.append(dbapi_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    event.listen(Engine, "connect", look)
    try:
        outcome = runs.run_job(tmp_path / "home", job_name, definitions=tiny_definitions(job_name))
        during = list(autocheckpoints)
        runs.use_instance(tmp_path / "home").get_runs()  # a connection after the run
    finally:
        event.remove(Engine, "connect", look)
    assert outcome.success, outcome.error
    if job_name == runs.BUILD_JOB:
        assert runs.BUILD_WAL_PAGES in during and runs.BUILD_WAL_PAGES >= 1000, during
    else:
        assert set(during) == {runs.WAL_PAGES}, during
    assert autocheckpoints[len(during) :] and set(autocheckpoints[len(during) :]) == {runs.WAL_PAGES}

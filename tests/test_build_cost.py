"""What one build costs outside dbt's nodes: Dagster's run history on kept connections, and a dbt
resource that starts no dbt of its own (benchmarks/build_cost.py measures the whole build)."""

from __future__ import annotations

import gc
import os
import re
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import dagster as dg
import duckdb
import orjson
from packaging.version import Version
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dagster_project.build import HubwatchDbt
from dagster_project.defs.project import dbt_project
from dagster_project.runs import WAL_PAGES, storage_kept_open, use_instance
from dagster_project.warehouse import DBT_CHILD

N_ASSETS = 30


def many_checked_assets() -> dg.Definitions:
    """N_ASSETS assets, each with a check: the events of a build in miniature (planned, materialised,
    checked), with check events, whose storage asks has_table while holding a connection."""
    assets, checks = [], []
    for index in range(N_ASSETS):

        @dg.asset(name=f"table_{index}")
        def table() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"rows": 1})

        @dg.asset_check(asset=table, name="has_rows")
        def has_rows() -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)

        assets.append(table)
        checks.append(has_rows)
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=[dg.define_asset_job("all")])


def settings(dbapi_connection) -> tuple[str, int, int] | None:
    """journal mode, synchronous level and WAL autocheckpoint pages of an open sqlite3 connection
    (None once it is closed)."""
    try:
        return tuple(dbapi_connection.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS)
    except sqlite3.ProgrammingError:
        return None


PRAGMAS = ("journal_mode", "synchronous", "wal_autocheckpoint")


def test_a_run_stores_every_event_on_a_few_kept_connections(tmp_path):
    instance = use_instance(tmp_path / "home")
    job = many_checked_assets().resolve_job_def("all")
    opened = []

    def count(dbapi_connection, _record) -> None:
        opened.append(dbapi_connection)

    event.listen(Engine, "connect", count)
    try:
        with storage_kept_open(instance):
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            kept = [settings(c) for c in opened if settings(c)]
    finally:
        event.remove(Engine, "connect", count)
    # the connections kept open have hubwatch's WAL settings, a new run shard's first one too (it
    # once had none: a 4 MB WAL and a sync per commit; runs.relax_sqlite_sync puts it in WAL at once)
    assert kept and all(s == ("wal", 1, WAL_PAGES) for s in kept), kept
    assert result.success
    stored = instance.all_logs(result.run_id)
    kinds = [e.dagster_event.event_type_value for e in stored if e.is_dagster_event]
    assert kinds.count("ASSET_MATERIALIZATION") == N_ASSETS
    assert kinds.count("ASSET_CHECK_EVALUATION") == N_ASSETS
    assert len(stored) > 4 * N_ASSETS
    # Dagster alone opens a connection (and an engine) per statement: several per event
    assert len(opened) <= 12, f"{len(opened)} SQLite connections for {len(stored)} events"
    # the run's storages are Dagster's own again, and what the run stored is there for the next reader
    assert "_connect" not in vars(instance.event_log_storage)
    assert "connect" not in vars(instance.run_storage)
    again = use_instance(tmp_path / "home")
    assert len(again.all_logs(result.run_id)) == len(stored)
    checks = again.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("table_0"), "has_rows")]
    )
    assert checks[dg.AssetCheckKey(dg.AssetKey("table_0"), "has_rows")].run_id == result.run_id


def test_a_run_reads_the_asset_index_schema_once_not_per_event(tmp_path):
    """Dagster's event storage asks whether the asset index has a column (SQLAlchemy's inspector:
    PRAGMA table_xinfo) and whether a secondary index is built (a query) before it stores or reads
    an asset's event; while a run executes (storage_kept_open) what it found is remembered. The
    run measured is the second on its home, as a daily build is (its assets' index rows exist)."""
    instance = use_instance(tmp_path / "home")
    job = many_checked_assets().resolve_job_def("all")
    with storage_kept_open(instance):
        assert job.execute_in_process(instance=instance, raise_on_error=False).success
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        with storage_kept_open(instance):
            result = job.execute_in_process(instance=instance, raise_on_error=False)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert result.success
    # the inspector reads the columns with table_xinfo (has_table: table_info); Dagster asks about two
    # columns and one index here, 150 and 60 times when each question was asked again
    columns = [s for s in statements if "table_xinfo" in s and '"asset_keys"' in s]
    indexes = [s for s in statements if "FROM secondary_indexes" in s]
    assert 0 < len(columns) <= 2 and 0 < len(indexes) <= 2, (len(columns), len(indexes))
    # afterwards the storage asks Dagster's way again
    assert not {"_has_asset_key_col_on_connection", "has_secondary_index"} & set(vars(instance.event_log_storage))


def test_the_dbt_resource_knows_the_version_dbt_itself_reports():
    """The resource takes the version of the installed dbt-core instead of running `dbt --version`
    before each build; hubwatch-dbt runs that same dbt, so both must say the same."""
    resource = HubwatchDbt(project_dir=dbt_project, dbt_executable=str(DBT_CHILD))
    reported = subprocess.run([str(DBT_CHILD), "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", reported)
    assert installed, reported
    assert resource._cli_version == Version(installed.group(1)) == Version(version("dbt-core"))
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_a_hubwatch_command_freezes_survivors_while_it_runs_and_undoes_it_after():
    """Every hubwatch command (a build's Dagster parent among them) freezes what survives a full
    collection (gc_tuning); a process that goes on after the command (a test's CliRunner) is left
    with no callback and nothing frozen."""
    from click.testing import CliRunner

    from dagster_project import gc_tuning
    from dagster_project.cli import main

    @click.command("gc-probe")
    def probe() -> None:
        gc.collect()  # a full collection: its survivors are frozen now
        click.echo(f"{gc_tuning._freeze_after_full_collection in gc.callbacks} {gc.get_freeze_count() > 0}")

    gc.unfreeze()
    main.add_command(probe)
    try:
        result = CliRunner().invoke(main, ["gc-probe"])
    finally:
        main.commands.pop("gc-probe")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["True", "True"], result.output
    assert gc_tuning._freeze_after_full_collection not in gc.callbacks
    assert gc.get_freeze_count() == 0


def test_hubwatch_dbt_freezes_what_survives_a_full_collection():
    """hubwatch-dbt runs dbt in its own process with freeze_survivors on: after a full collection the
    survivors (dbt's imports, then its manifest) are frozen, so later full collections skip them."""
    script = (
        "import gc\n"
        "from dagster_project.gc_tuning import freeze_survivors\n"
        "gc.unfreeze(); before = gc.get_freeze_count(); freeze_survivors(); undo = freeze_survivors()\n"
        "gc.collect(1); young = gc.get_freeze_count(); gc.collect()\n"
        "print(before, young, gc.get_freeze_count() > 0, gc.callbacks.count(gc.callbacks[-1]))\n"
        "undo(); print(gc.get_freeze_count(), len(gc.callbacks))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "0", "True", "1", "0", "0"], out


def test_hubwatch_dbt_is_dbt_with_its_exit_codes():
    """dbt runs inside hubwatch-dbt's own process (no exec any more): same output, same exit codes."""
    dbt = Path(sys.executable).with_name("dbt")
    ours = subprocess.run([str(DBT_CHILD), "no-such-command"], capture_output=True, text=True)
    theirs = subprocess.run([str(dbt), "no-such-command"], capture_output=True, text=True)
    assert ours.returncode == theirs.returncode == 2, (ours.stderr, theirs.stderr)
    assert ours.stderr == theirs.stderr and "no-such-command" in ours.stderr


LOGGED_LINES_PROBE = """
import io, json, sys
from pathlib import Path
from dbt_common.events import logger as dbt_logger
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager_client import add_logger_to_manager, cleanup_event_logger
from dbt_common.events.functions import fire_event, get_stdout_config
from dbt_common.events.logger import LineFormat
from dbt_common.events.types import Note, PrintEvent
from dbt.events.logging import _get_logfile_config
from dagster_project.dbt_child import lines_only_where_logged

made = []
create_line = dbt_logger._JsonLogger.create_line
dbt_logger._JsonLogger.create_line = lambda self, msg: made.append(msg.info.msg) or create_line(self, msg)

def run(folder):
    cleanup_event_logger()
    stdout = get_stdout_config(LineFormat.Json, False, EventLevel.INFO, False)  # as dagster-dbt asks
    stdout.output_stream = io.StringIO()
    add_logger_to_manager(stdout)
    log = _get_logfile_config(str(folder / "dbt.log"), False, LineFormat.DebugText, EventLevel.DEBUG, 10**7)
    add_logger_to_manager(log)
    made.clear()
    fire_event(Note(msg="a debug line"), level=EventLevel.DEBUG)
    fire_event(Note(msg="an info line"), level=EventLevel.INFO)
    fire_event(PrintEvent(msg="a printed line"))
    fire_event(Note(msg="a warning"), level=EventLevel.WARN)
    cleanup_event_logger()
    lines = [json.loads(line)["info"] for line in stdout.output_stream.getvalue().splitlines()]
    text = [line.split("]", 1)[-1] for line in (folder / "dbt.log").read_text().splitlines() if line.strip()]
    return [[line["level"], line["msg"]] for line in lines], text, list(made)

folder = Path(sys.argv[1])
(folder / "before").mkdir(); (folder / "after").mkdir()
before = run(folder / "before")
lines_only_where_logged()
print(json.dumps({"before": before, "after": run(folder / "after")}))
"""


def test_hubwatch_dbt_makes_a_line_only_for_a_logger_that_keeps_it(tmp_path):
    """dbt's JSON stdout logger (info, for dagster-dbt) made a JSON line of every debug event and
    Python's logging then dropped it; hubwatch-dbt makes only the lines a logger keeps. What each
    logger writes is the same (stdout: info and up, a print event included; dbt.log: every line), and
    no JSON is made for the debug line. Fails if dbt_common's logger internals it rests on move."""
    probe = subprocess.run(
        [sys.executable, "-c", LOGGED_LINES_PROBE, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert probe.returncode == 0, probe.stderr
    seen = orjson.loads(probe.stdout)
    stdout = [["info", "an info line"], ["info", "a printed line"], ["warn", "a warning"]]
    log = [f" [MainThread]: {line}" for line in ("a debug line", "an info line", "a printed line", "a warning")]
    assert seen["before"] == [stdout, log, ["a debug line", "an info line", "a printed line", "a warning"]]
    assert seen["after"] == [stdout, log, ["an info line", "a printed line", "a warning"]]


TYPE_TESTER_PROBE = """
import json
import agate
from agate.data_types import date
from dbt_common.clients import agate_helper
from dagster_project.dbt_child import type_testers_shared

dates = []
constants = date.parsedatetime.Constants
date.parsedatetime.Constants = lambda *a, **k: dates.append(1) or constants(*a, **k)
rows = [{"name": "a", "n": 1, "day": "2025-04-01", "empty": ""}, {"name": "null", "n": 2, "day": None, "empty": ""}]

def tables():
    dates.clear()
    made = [agate_helper.table_from_data_flat(rows, ["name", "n", "day", "empty"]) for _ in range(3)]
    made += [agate_helper.empty_table() for _ in range(3)]
    shapes = [[[type(t).__name__ for t in table.column_types], [list(r) for r in table.rows]] for table in made]
    return shapes, len(dates)

before = tables()
type_testers_shared()
print(json.dumps({"before": before, "after": tables()}))
"""


def test_hubwatch_dbt_shares_agate_type_testers():
    """dbt makes an agate table of every statement's result (an empty one when there is none), and
    each new TypeTester built agate's date types (parsedatetime's locale tables, ~1 ms). hubwatch-dbt
    shares one tester per setting: the same tables (types and values: a string stays a string, 'null'
    included), with no date type built again. Fails if dbt_common's agate_helper it rests on moves."""
    probe = subprocess.run([sys.executable, "-c", TYPE_TESTER_PROBE], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    seen = orjson.loads(probe.stdout)
    tables, dates_before = seen["before"]
    assert tables == seen["after"][0]
    assert tables[0] == [["Text", "Integer", "Text", "Text"], [["a", 1, "2025-04-01", ""], ["null", 2, None, ""]]]
    # date types (3 a dbt tester, 2 agate's default): three testers and three empty tables before;
    # after, the one tester for these string columns (the empty tables' was made with the patch)
    assert (dates_before, seen["after"][1]) == (3 * 3 + 3 * 2, 3)


def probed(script: str, *args: object) -> dict:
    """What a probe script run in a Python process of its own printed (JSON); it must succeed."""
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


TEMPLATE_PROBE = """
import json, sys
from pathlib import Path
import jinja2
from dbt.clients.jinja import get_rendered
from dbt_common.clients import jinja as dbt_jinja
from dagster_project.dbt_child import templates_compiled_once

generated = []
generate = jinja2.Environment._generate
jinja2.Environment._generate = lambda self, *a, **k: generated.append(1) or generate(self, *a, **k)
TEXT = "{% set x = n ~ n %}select {{ x }} as n{% for c in cols %}, {{ c | upper }}{% endfor %}"

def render():
    generated.clear()
    ctx = {"n": 7, "cols": ["a", "b"]}
    text = get_rendered(TEXT, ctx)
    native = get_rendered("{{ n * 2 }}", ctx, native=True)  # dbt's native environment: an int
    try:
        get_rendered("{{ unclosed ", ctx)
        error = None
    except Exception as failure:
        error = f"{type(failure).__name__}: {failure}"
    envs = [dbt_jinja.get_environment(native=k) for k in (False, True)]
    kinds = {type(env).__name__ for env in envs}
    classes = all(isinstance(env, dbt_jinja.MacroFuzzEnvironment) for env in envs)
    return [text, native, type(native).__name__, error, len(generated), sorted(kinds), classes]

cache = Path(sys.argv[1])
out = {"plain": render()}
save = templates_compiled_once(cache)
out["cached"] = render()
save()
print(json.dumps(out))
"""


def test_hubwatch_dbt_compiles_a_template_once_across_processes(tmp_path):
    """dbt compiled every Jinja template it renders in each process; hubwatch-dbt keeps the compiled
    code in a cache file between processes. The rendered text, a native value and a syntax error are
    the same with it, and a later process generates no code for what an earlier one compiled (which
    environments and versions keep their own code: the next test). Fails if dbt_common's MacroFuzzEnvironment (the
    class of dbt's every Jinja environment) or Jinja's compile it rests on moves."""
    cache = tmp_path / "jinja_code.marshal"

    def probe() -> dict:
        return probed(TEMPLATE_PROBE, cache)

    first = probe()
    assert cache.is_file()
    second = probe()
    text, native = "select 77 as n, A, B", 14
    envs = ["MacroFuzzEnvironment", "NativeSandboxEnvironment"]
    plain = first["plain"]
    assert plain[:3] == [text, native, "int"] and plain[3].startswith("CompilationError")
    assert plain[5:] == [envs, True] and plain[4] == 2  # code for the text and the native one (not the broken)
    assert first["cached"][:4] == second["cached"][:4] == second["plain"][:4] == plain[:4]
    # the first process generated its templates' code again with the cache (it was empty); the
    # second, with it, generates none (the broken template fails again, in Jinja's parser)
    assert first["cached"][4] == plain[4]
    assert second["cached"][4] == 0, second


def test_a_template_compiled_under_other_settings_is_another_cache_entry():
    """Jinja's generated code depends on the environment, not only on the text: its class (dbt's text
    or native one), its compile-time settings (the lexer's delimiters and whitespace rules,
    autoescape, finalize), its filters and tests, and the versions of Python, Jinja and dbt. A
    template compiled under any other of these must not reuse another's code."""
    from importlib.metadata import version

    from dbt_common.clients.jinja import MacroFuzzEnvironment, NativeSandboxEnvironment

    from dagster_project.dbt_child import compile_versions, template_key

    versions = compile_versions()

    def key(env_class=MacroFuzzEnvironment, versions=versions, filters=None, **settings) -> bytes:
        env = env_class(**settings)
        env.filters.update(filters or {})
        return template_key(env, versions, "{{ x }}\n", None, None, False)

    assert key() == key()
    others = [
        key(),
        key(trim_blocks=True),
        key(autoescape=True),
        key(finalize=str),
        key(variable_start_string="[["),
        key(NativeSandboxEnvironment),
        key(filters={"as_text": str}),
        key(versions=(*versions[:-1], "0.0.0")),
    ]
    assert len(set(others)) == len(others)
    assert {version("dbt-core"), version("dbt-common")} <= set(versions)


EXIT_PROBE = """
import atexit, sys, threading, time
from pathlib import Path
import duckdb
from dagster_project.dbt_child import exit_after_exit_handlers

folder, how = Path(sys.argv[1]), sys.argv[2]
exited_with = exit_after_exit_handlers()  # first, as hubwatch-dbt's main registers it before dbt
import logging, logging.handlers  # after it, as in hubwatch-dbt: dbt imports logging


class TornDown:
    def __del__(self):
        (folder / "torn_down").write_text("yes")


kept = TornDown()  # freed by Python's teardown only
# held in memory until logging's exit handler closes it: the line reaches the file only then
log_file = logging.FileHandler(folder / "dbt.log")
held = logging.handlers.MemoryHandler(10_000, flushLevel=logging.CRITICAL, target=log_file)
logging.getLogger("probe").addHandler(held)
logging.getLogger("probe").warning("last line")
database = duckdb.connect(str(folder / "warehouse.duckdb"))
database.execute("create table t as select 42 as n")
database.close()  # as dbt does when its task ends (its connections released)
atexit.register(lambda: (folder / "handler").write_text("ran"))  # another exit handler, as dbt's


def slow():  # Python joins a thread that is still running before it runs the exit handlers
    time.sleep(0.3)
    (folder / "thread").write_text("done")


threading.Thread(target=slow).start()
sys.stdout.write("buffered output")
code = "not exited"
try:
    sys.exit(int(how) if how.isdigit() else how)
except SystemExit as done:
    code = done.code
    raise
finally:
    exited_with(code)
"""


def test_hubwatch_dbt_ends_after_the_exit_handlers_without_pythons_teardown(tmp_path):
    """Once dbt has exited with a code, hubwatch-dbt ends its process after the exit handlers (its
    threads joined, logging's handler closing dbt's log, stdout flushed) with dbt's exit code,
    skipping Python's teardown (~0.3 CPU-s a dbt child). A process that ends with a message, or
    with an error raised after dbt exited (its caches' saving), tears down as Python does."""

    def probe(folder: Path, how: str) -> subprocess.CompletedProcess:
        folder.mkdir()
        return subprocess.run(
            [sys.executable, "-c", EXIT_PROBE, str(folder), how], capture_output=True, text=True, check=False
        )

    for code in ("0", "3"):
        folder = tmp_path / code
        done = probe(folder, code)
        assert done.returncode == int(code), done.stderr
        assert done.stdout == "buffered output" and done.stderr == ""
        assert (folder / "thread").read_text() == "done" and (folder / "handler").read_text() == "ran"
        assert "last line" in (folder / "dbt.log").read_text()  # written by logging's exit handler
        assert not (folder / "torn_down").exists()  # no teardown
        assert duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True).sql("from t").fetchall() == [(42,)]
    folder = tmp_path / "message"
    done = probe(folder, "a message")
    assert (done.returncode, done.stderr.strip()) == (1, "a message")
    assert (folder / "torn_down").read_text() == "yes" and (folder / "handler").read_text() == "ran"


MAIN_PROBE = """
import sys, types
from dagster_project import dbt_child

dbt = types.ModuleType("dbt.cli.main")  # dbt itself stands aside: it exits with the code asked for
dbt.cli = lambda: int(sys.argv[1])
sys.modules["dbt.cli.main"] = dbt


def save():
    if sys.argv[2] == "fails":
        raise RuntimeError("saving a cache failed")


dbt_child.lines_only_where_logged = dbt_child.type_testers_shared = lambda: None
dbt_child.templates_compiled_once = dbt_child.json_schemas_built_once = lambda: save
dbt_child.main()
"""


def test_hubwatch_dbt_exits_with_dbts_code_only_when_what_follows_dbt_succeeded():
    """hubwatch-dbt's main ends with dbt's exit code once its caches are saved; an error in saving
    them (after dbt exited 0) is not a success: the process tears down with the error, exit 1."""

    def run(code: int, saving: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", MAIN_PROBE, str(code), saving]
        env = {k: v for k, v in os.environ.items() if k not in ("HUBWATCH_DBT_PARENT", "DBT_TARGET_PATH")}
        return subprocess.run(command, capture_output=True, text=True, check=False, env=env)

    assert run(3, "works").returncode == 3
    failed = run(0, "fails")
    assert failed.returncode == 1 and "saving a cache failed" in failed.stderr


def test_importing_hubwatch_dbt_imports_neither_logging_nor_multiprocessing():
    """hubwatch-dbt's exit handler must be registered before logging's and multiprocessing's (it
    runs last, after theirs): importing the module must not import them."""
    probe = "import sys, dagster_project.dbt_child; print(sorted({'logging', 'multiprocessing'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


SCHEMA_PROBE = """
import json, sys
from pathlib import Path
from dbt_common import dataclass_schema
from dbt.contracts.project import Project, ProjectFlags
from dagster_project.dbt_child import json_schemas_built_once

built = []
build = dataclass_schema.build_json_schema
dataclass_schema.build_json_schema = lambda cls: built.append(cls.__name__) or build(cls)

def validate():
    errors = []
    for cls, data in [
        (Project, {"name": "p", "version": "1.0", "profile": "p", "config-version": 2}),
        (Project, {"name": "p", "version": 1.5, "models": "not a mapping"}),
        (ProjectFlags, {"partial_parse": True}),
        (ProjectFlags, {"partial_parse": "yes"}),
    ]:
        try:
            cls.validate(data)
            errors.append(None)
        except dataclass_schema.ValidationError as error:
            errors.append(str(error))
    return errors

save = json_schemas_built_once(Path(sys.argv[1]))
out = {"errors": validate(), "built": sorted(set(built))}
save()
print(json.dumps(out))
"""


def test_hubwatch_dbt_builds_a_configuration_schema_once_across_processes(tmp_path):
    """dbt builds the JSON schema of each configuration class (dbt_project.yml's, the profile's) to
    validate them, in every process; hubwatch-dbt keeps them in a cache file between processes. The
    second process builds none, and what validation accepts and the errors it reports are the same.
    Fails if dbt_common's dbtClassMixin.json_schema (which its validate calls) moves."""
    cache = tmp_path / "json_schemas.marshal"

    def probe() -> dict:
        return probed(SCHEMA_PROBE, cache)

    first, second = probe(), probe()
    assert first["built"] == ["Project", "ProjectFlags"]
    assert second["built"] == []
    assert first["errors"] == second["errors"]
    assert [error is None for error in first["errors"]] == [True, False, True, False]


def test_a_schema_is_kept_per_class_and_versions_of_what_defines_it():
    """A schema is keyed by its class and the versions of Python, dbt-core, dbt-common,
    dbt-adapters and mashumaro (which builds it), an adapter's class also by its own package's
    (dbt-duckdb); a class of any other package is never cached."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.contracts.project import Project, ProjectFlags
    from dbt_common.dataclass_schema import dbtClassMixin

    from dagster_project.dbt_child import schema_key

    versions = ("3.11", "1.11.16", "1.39.0", "1.24.5", "3.14")
    keys = {schema_key(cls, versions) for cls in (Project, ProjectFlags, DuckDBCredentials)}
    assert len(keys) == 3 and None not in keys
    assert schema_key(Project, versions) != schema_key(Project, (*versions[:-1], "3.15"))
    assert version("dbt-duckdb") in schema_key(DuckDBCredentials, versions)

    class Elsewhere(dbtClassMixin):
        pass

    Elsewhere.__module__ = "some_package.config"
    assert schema_key(Elsewhere, versions) is None


def test_the_delete_insert_macro_replaced_is_dbt_duckdbs_as_compared():
    """dbt/macros/delete_insert.sql replaces dbt-duckdb's duckdb__get_delete_insert_merge_sql with the
    same statements plus the config stored_keys; it was compared with dbt-duckdb 1.11.1's. When
    dbt-duckdb's macro changes, this fails: compare the two again, then update the digest."""
    import hashlib

    import dbt.include.duckdb

    macro = Path(dbt.include.duckdb.__file__).parent / "macros/materializations/incremental_strategy/delete_insert.sql"
    assert hashlib.sha256(macro.read_bytes()).hexdigest() == (
        "dabf5936546934416ff7a11dd7e451ac8d46781c354ffca7a2dce6de2a35ad74"
    ), f"dbt-duckdb {version('dbt-duckdb')} changed its delete+insert: compare dbt/macros/delete_insert.sql"

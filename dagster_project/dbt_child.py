"""`hubwatch-dbt`: dbt, bound to the life of the hubwatch process that started it.

dagster-dbt starts dbt as a plain child process. When that parent is killed (SIGKILL, OOM), dbt
would go on for seconds to minutes holding the warehouse's DuckDB lock, so the next build fails
on the lock. This wrapper asks Linux to SIGKILL it when its parent dies (prctl
PR_SET_PDEATHSIG, kept across exec), checks the parent is still the one that started it, and then
runs dbt's command line in this process (no extra process, same arguments, same exit code).

It also runs dbt inside the home, with what dbt reads at run time only, when `hubwatch build` left
them in dbt's target folder (RUN_FILE: the home and environment variables, written by
warehouse.build_args): the DuckDB warehouse's path relative to the home, the raw files' lists and
the home itself. dbt hashes its vars and the profile's connection values to decide whether a saved
parse still holds, so with no home path in either, a parse made in one home (or by `make
manifest`) serves every home, instead of a full parse of the project (~3 CPU-s) in each new one.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import hashlib
import json
import marshal
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from dagster_project.gc_tuning import freeze_survivors
from ingest.files import write_atomic

PR_SET_PDEATHSIG = 1
PARENT_ENV = "HUBWATCH_DBT_PARENT"  # the pid of the process that asked for dbt
RUN_FILE = "hubwatch_run.json"  # in dbt's target folder: {"home": dir dbt runs in, "env": {name: value}}
PATH_ENVS = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")
DBT = Path(sys.executable).with_name("dbt")
# compiled Jinja templates, kept between dbt processes: beside the checkout's parse (`make manifest`)
TEMPLATE_CACHE = Path(__file__).resolve().parent.parent / "dbt" / "target" / "jinja_code.marshal"
TEMPLATE_CACHE_MAX = 5_000  # templates (~2 KB each); past it only the last process's are kept
# JSON schemas of dbt's configuration classes, kept between dbt processes beside the templates
SCHEMA_CACHE = TEMPLATE_CACHE.with_name("json_schemas.marshal")
SCHEMA_PACKAGES = ("dbt-core", "dbt-common", "dbt-adapters", "mashumaro")  # dbt's classes, the schema builder


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover (not Linux)
        pass


def run_settings(target: str | None) -> dict | None:
    """What `hubwatch build` left for this dbt run in its target folder, or None."""
    try:
        return json.loads((Path(target) / RUN_FILE).read_bytes()) if target else None
    except FileNotFoundError:
        return None


def run_in_home(settings: dict) -> None:
    """Move into the home with the run's environment. dbt finds its project, profile, target and
    log folders where they were (dagster-dbt names them, some relative to the project folder dbt is
    started in; the profile, unnamed, is in that folder)."""
    here = Path.cwd()
    if "DBT_PROFILES_DIR" not in os.environ and (here / "profiles.yml").is_file():
        os.environ["DBT_PROFILES_DIR"] = str(here)
    os.environ.setdefault("DBT_PROJECT_DIR", str(here))
    for name in PATH_ENVS:
        if name in os.environ:
            os.environ[name] = str(here / os.environ[name])  # an absolute path stays as it is
    os.environ.update(settings["env"])
    os.chdir(settings["home"])


def lines_only_where_logged() -> None:
    """dbt makes each logger's line before asking whether that logger keeps it: its stdout logger
    (JSON, for dagster-dbt, at dbt's default level info) turned every debug event into a JSON line
    (the event as a dict, json.dumps, the secret scrubber) that Python's logging then dropped for
    its level, ~8 of every 9 events a build. A line is now made only for a logger whose level takes
    it, the level each line is sent at being dbt's own (a print event as error); every line that was
    written is written the same. Rests on dbt_common's _Logger (write_line, _python_logger,
    _is_print_event, _log_level_map): tests/test_build_cost.py fails if they move."""
    from dbt_common.events import logger as dbt_logger
    from dbt_common.events.base_types import EventLevel

    write_line = dbt_logger._Logger.write_line
    if getattr(write_line, "only_where_logged", False):
        return

    def write_line_if_logged(self, msg) -> None:
        python_logger = self._python_logger
        level = EventLevel.ERROR if dbt_logger._is_print_event(msg) else EventLevel(msg.info.level)
        if python_logger is None or python_logger.isEnabledFor(dbt_logger._log_level_map[level]):
            write_line(self, msg)

    write_line_if_logged.only_where_logged = True
    dbt_logger._Logger.write_line = write_line_if_logged


def type_testers_shared() -> None:
    """dbt turns each statement's result into an agate table, and each new agate TypeTester builds
    agate's date types, whose parsedatetime constants (a locale's tables) cost ~1 ms each time: a
    result with string columns got a new tester (dbt_common's build_type_tester), a statement with no
    result (most of them) an empty table with agate's default tester. A tester only reads its
    settings, and dbt already shares one for results without strings (DEFAULT_TYPE_TESTER): now one
    per set of string columns, and one for every empty table. The tables are the same. Rests on
    dbt_common.clients.agate_helper (build_type_tester, empty_table, looked up at each call):
    tests/test_build_cost.py fails if they move."""
    import agate
    from dbt_common.clients import agate_helper

    if getattr(agate_helper.build_type_tester, "shared", False):
        return
    build_type_tester = agate_helper.build_type_tester
    one_per_setting = functools.lru_cache(maxsize=256)(
        lambda text_columns, null_values: build_type_tester(text_columns, string_null_values=null_values)
    )

    def shared_type_tester(text_columns, string_null_values=("null", "")) -> agate.TypeTester:
        null_values = None if string_null_values is None else tuple(string_null_values)
        return one_per_setting(frozenset(text_columns), null_values)

    empty = agate.TypeTester()
    shared_type_tester.shared = True
    agate_helper.build_type_tester = shared_type_tester
    agate_helper.empty_table = lambda: agate.Table(rows=[], column_types=empty)


# what Jinja reads from an environment while compiling (its lexer's settings, jinja2.lexer.get_lexer's
# key, and the code generator's): two environments alike in these compile a text to the same code
COMPILE_SETTINGS = (
    "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
    "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
)  # fmt: skip


def compile_versions() -> tuple[str, ...]:
    """The versions a compiled template's code depends on beyond its environment: Python's (a code
    object is Python's own), Jinja's (its compiler) and dbt's (dbt_common's parser and extensions
    name the macros they make; dbt-core's the context and filters): an upgrade compiles anew."""
    from importlib.metadata import version

    import jinja2

    return (sys.version, jinja2.__version__, version("dbt-core"), version("dbt-common"))


def template_key(env, versions: tuple[str, ...], source: str, name, filename, defer_init: bool) -> bytes:
    """What Jinja's generated code depends on: the template's text and names, the environment's class
    (dbt's text or native one), code generator, extensions, compile-time settings, filters and tests
    (their names and what each is passed: the compiler reads both), autoescape as it applies to this
    template and finalize by what it is and is passed, and the versions (compile_versions)."""

    def named(value) -> str:
        return getattr(value, "__qualname__", None) or repr(value)

    def passed(functions: dict) -> list:
        return sorted((key, str(getattr(function, "jinja_pass_arg", None))) for key, function in functions.items())

    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    kind = (
        named(type(env)),
        type(env).__module__,
        named(env.code_generator_class),
        sorted(env.extensions),
        [getattr(env, setting) for setting in COMPILE_SETTINGS],
        autoescape,
        (named(env.finalize), str(getattr(env.finalize, "jinja_pass_arg", None))),
        passed(env.filters),
        passed(env.tests),
    )
    return hashlib.sha256(repr((versions, kind, source, name, filename, defer_init)).encode()).digest()


def kept_between_processes(cache: Path) -> dict:
    """What earlier dbt processes of this checkout kept in cache (a marshalled dict), else nothing."""
    try:  # written by dbt processes of this checkout, as trusted as its __pycache__
        known = marshal.loads(cache.read_bytes())  # noqa: S302
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return known if isinstance(known, dict) else {}


def saver(cache: Path, known: dict, used: dict, limit: int | None = None) -> Callable[[], None]:
    """What keeps, at the process's end, what it used (known, plus what it made anew) in cache;
    past limit entries only what this process used. Replaced whole: a reader sees one or the other;
    a read-only checkout (or one without `make manifest`'s target folder) keeps none, and the next
    process makes them again."""

    def save() -> None:
        if used.keys() <= known.keys():
            return
        merged = {**known, **used} if limit is None or len(known) + len(used) <= limit else used
        with contextlib.suppress(OSError, ValueError):
            write_atomic(cache, marshal.dumps(merged))

    return save


def templates_compiled_once(cache: Path = TEMPLATE_CACHE) -> Callable[[], None]:
    """Each dbt process compiled every template it renders (each node's SQL, each macro it calls,
    each test's arguments) from Jinja source to Python code again: ~800 templates, ~8 % of a small
    build's dbt. The code of a template dbt compiled before (the same text, environment and
    versions: template_key) is now read from the cache instead, and what this run compiled anew is
    added to it. The code and the rendered SQL are the same; a template that fails to compile is
    never cached, so its error is dbt's own. Off while dbt's macro debugging is on (it writes each
    compiled template's source out). Rests on dbt_common.clients.jinja's MacroFuzzEnvironment (the
    class of every dbt Jinja environment, its native one a subclass) and Jinja's Environment.compile:
    tests/test_build_cost.py fails if they move. Returns what saves the cache (at the process's end)."""
    from dbt_common.clients import jinja as dbt_jinja

    env_class = dbt_jinja.MacroFuzzEnvironment
    versions = compile_versions()
    if getattr(env_class.compile, "cached", False):
        return lambda: None
    known = kept_between_processes(cache)
    used: dict[bytes, object] = {}
    compile_template = env_class.compile

    def cached_compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str) or dbt_jinja.MACRO_DEBUGGING:
            return compile_template(self, source, name, filename, raw, defer_init)
        key = template_key(self, versions, source, name, filename, defer_init)
        code = known.get(key) or used.get(key)
        if code is None:
            code = compile_template(self, source, name, filename, raw, defer_init)
        used[key] = code
        return code

    cached_compile.cached = True
    env_class.compile = cached_compile
    return saver(cache, known, used, TEMPLATE_CACHE_MAX)


def schema_key(cls: type, versions: tuple[str, ...]) -> str | None:
    """What a dbt dataclass's JSON schema depends on: the class, Python's and SCHEMA_PACKAGES'
    versions (dbt-core's, dbt-common's and dbt-adapters' classes, and mashumaro, which builds the
    schema) and, for an adapter's class (dbt.adapters.<name>: its credentials), its package
    dbt-<name>'s. None (not cached) for a class of any other package, or of an adapter whose
    package is not named so."""
    from importlib.metadata import PackageNotFoundError, version

    parts = cls.__module__.split(".")
    if parts[0] not in ("dbt", "dbt_common"):
        return None
    if parts[:2] == ["dbt", "adapters"] and len(parts) > 3:
        try:
            versions = (*versions, version(f"dbt-{parts[2]}"))
        except PackageNotFoundError:
            return None
    return repr((versions, cls.__module__, cls.__qualname__))


def json_schemas_built_once(cache: Path = SCHEMA_CACHE) -> Callable[[], None]:
    """To validate dbt_project.yml, the profile and the selectors, each dbt process built the JSON
    schema of their classes again (mashumaro's build_json_schema, ~0.25 CPU-s of the ~2 a dbt child
    costs when it runs nothing); no dbt option skips that validation. A schema built before for the
    same class and versions (schema_key) is now read from the cache instead, and what this process
    built anew is added to it; the schemas, so the validation and its errors, are the same. Rests on
    dbt_common's dbtClassMixin.json_schema, which its validate calls: tests/test_build_cost.py fails
    if it moves. Returns what saves the cache (at the process's end)."""
    from importlib.metadata import version

    from dbt_common.dataclass_schema import dbtClassMixin

    build = dbtClassMixin.__dict__["json_schema"].__func__
    if getattr(build, "cached", False):
        return lambda: None
    versions = (sys.version, *(version(name) for name in SCHEMA_PACKAGES))
    known = kept_between_processes(cache)
    used: dict[str, dict] = {}

    @functools.cache
    def cached_json_schema(cls) -> dict:
        key = schema_key(cls, versions)
        if key is None:
            return build(cls)
        schema = known.get(key) or build(cls)
        used[key] = schema
        return schema

    cached_json_schema.cached = True
    dbtClassMixin.json_schema = classmethod(cached_json_schema)
    return saver(cache, known, used)


def exit_after_exit_handlers() -> Callable[[object], None]:
    """Python's teardown of dbt's process (its modules and every object freed one by one, the last
    collections) cost ~0.3 of the ~2.4 CPU-s a dbt child costs when it runs nothing. Once dbt has
    exited with a code, this process now ends as soon as every exit handler has run: Python joins
    the threads first, then runs the handlers, the last registered first, and this one, registered
    before dbt is imported, last (so nothing may import logging or multiprocessing before it:
    tests/test_build_cost.py holds that importing this module does not). The other handlers (dbt's
    log files closed by logging's, multiprocessing's semaphores released) have then run; the
    warehouse was closed before, by dbt itself (its connections released when its task ends; a
    command that keeps one open, such as `dbt show`, would leave DuckDB's WAL to the next opening,
    which replays it); stdout and stderr are flushed, and the process exits with dbt's code. A
    process that ends any other way (an uncaught exception, also one raised after dbt exited, a
    message given to sys.exit, a flush that fails) tears down as Python does. Returns what records
    dbt's exit code (SystemExit.code: None or an int)."""
    codes: list[int] = []

    def end() -> None:
        if codes:
            try:
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
            except (OSError, ValueError):
                return  # Python's own shutdown reports it (exit status 120)
            os._exit(codes[-1])

    def record(code: object) -> None:
        if code is None or isinstance(code, int):
            codes.append(int(code or 0))

    atexit.register(end)
    return record


def main() -> None:
    die_with_parent()
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        sys.exit("hubwatch-dbt: the hubwatch process that asked for dbt is gone; not starting")
    settings = run_settings(os.environ.get("DBT_TARGET_PATH"))
    if settings:
        run_in_home(settings)
    # dbt in this process (what the `dbt` script does: no extra pid, same arguments, same exit code),
    # with survivors of full collections frozen (gc_tuning: ~1.5 of dbt's ~27 CPU-s a day's build);
    # unfrozen before exit, so that Python's shutdown, where there is one, still releases them
    # (DuckDB's bindings report objects left at exit on stderr); once dbt has exited with a code the
    # process ends after the exit handlers, without the shutdown (registered first: it runs last)
    exited_with = exit_after_exit_handlers()
    undo = freeze_survivors()
    save_templates = save_schemas = lambda: None  # noqa: E731
    code: object = "not exited"  # not a code: a process that never reached dbt's exit tears down
    try:
        from dbt.cli.main import cli

        lines_only_where_logged()
        type_testers_shared()
        save_templates = templates_compiled_once()
        save_schemas = json_schemas_built_once()
        sys.argv = [str(DBT), *sys.argv[1:]]
        sys.exit(cli())
    except SystemExit as done:
        code = done.code
        raise
    finally:
        save_templates()
        save_schemas()
        undo()
        exited_with(code)  # only reached when the saving did not raise: an error there tears down


if __name__ == "__main__":
    main()

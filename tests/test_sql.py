"""`hubwatch sql`: a sealed, read-only session over a published package. Every statement that only
reads runs; every one that could write (or reach a file, a URL or an extension) is refused with
nothing run; several statements run in order; DuckDB's own hints reach the user; outputs are
written only where asked; and the command starts without importing Dagster, dbt, Polars or the HTTP client.
The installed command's process answers one refusal and one read; the other cases run its click group
in this process (conftest.hubwatch_here)."""

import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import orjson
import pytest

from publish.query import Package, sealed
from tests.conftest import HUBWATCH, hubwatch_here

PACKAGE_DATE = "2025-06-01"


@pytest.fixture
def home(tmp_path) -> Path:
    """A home with one published package (a small `models` table) and a secret beside it."""
    home = tmp_path / "home"
    package = home / "publish" / PACKAGE_DATE
    package.mkdir(parents=True)
    with duckdb.connect(str(package / "hubwatch.duckdb")) as con:
        con.execute(
            "create table models as select * from (values "
            "('civitai', '1', 'first', timestamptz '2025-05-22 10:00:00+00'), "
            "('civitai', '2', 'second', timestamptz '2025-05-23 11:30:00+00')) "
            "as t(platform, model_id, name, created_at)"
        )
    manifest = {"publish_date": PACKAGE_DATE, "rules_version": "v1", "simulated": True}
    (package / "manifest.json").write_bytes(orjson.dumps(manifest))
    (home / "publish" / "latest").symlink_to(PACKAGE_DATE)
    (home / "secrets").mkdir()
    (home / "secrets" / "creator_salt").write_text("not-for-anyone")
    return home


def user_env(home: Path) -> dict[str, str]:
    """A user's environment for `hubwatch sql`: the home given by $HUBWATCH_HOME."""
    return {"HUBWATCH_HOME": str(home), "PATH": "/usr/bin:/bin"}


def sql_process(home: Path, *args: str) -> subprocess.CompletedProcess:
    """`hubwatch sql` as a user runs it, the installed command in its own process, from the home's
    parent folder: one refusal and one read go through it."""
    return subprocess.run(
        [HUBWATCH, "sql", *args], env=user_env(home), cwd=home.parent, capture_output=True, text=True, timeout=60
    )


def sql(home: Path, *args: str) -> subprocess.CompletedProcess:
    """The same command, its click group run in this process (conftest.hubwatch_here) from the same
    folder, without a process's start-up."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home.parent)
        return hubwatch_here("sql", *args, env=user_env(home))


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def assert_refused(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, done
    assert done.stdout == ""
    assert done.stderr.startswith("hubwatch: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


WRITES = [
    "insert into models values ('civitai', '3', 'x', now())",
    "update models set name = 'x'",
    "delete from models",
    "create table t as select 1",
    "create temp table t as select 1",
    "create view v as select 1",
    "create macro m() as 1",
    "drop table models",
    "alter table models add column x int",
    "copy models to 'out.csv'",
    "copy (select 42) to 'out.csv'",
    "explain analyze copy (select 42) to 'out.csv'",
    "explain copy (select 42) to 'out.csv'",
    "/* hidden */ explain analyze /* again */ copy (select 42) to 'out.csv'",
    "explain (format json) copy (select 42) to 'out.csv'",
    "export database 'exported'",
    "attach 'other.duckdb' as other",
    "detach memory",
    "install httpfs",
    "load httpfs",
    "set threads = 1",
    "set enable_external_access = true",
    "reset lock_configuration",
    "set variable x = 1",
    "use memory",
    "pragma enable_profiling = 'json'",
    "pragma profiling_output = 'profile.json'",
    "pragma enable_profiling",
    "pragma force_checkpoint",
    "call enable_logging()",
    "checkpoint",
    "vacuum",
    "analyze",
    "prepare p as select 1",
    "execute p",
    "create secret (type s3)",
]


@pytest.mark.parametrize("statement", WRITES)
def test_every_statement_that_can_write_is_refused_and_nothing_runs(home, statement):
    before = files_under(home.parent)
    done = (sql_process if statement == WRITES[0] else sql)(home, statement)  # the first as its own process
    assert_refused(done, "refused, nothing was run")
    assert files_under(home.parent) == before  # no out.csv, no profile, no attached file


def test_a_refused_statement_among_several_refuses_them_all(home):
    done = sql(home, "select 'printed?' as a; copy (select 42) to 'out.csv'; select 3")
    assert_refused(done, "statement 2: COPY")
    assert "printed?" not in done.stdout and not (home.parent / "out.csv").exists()


def test_explain_analyze_of_a_select_runs(home):
    done = sql(home, "explain analyze select count(*) from models")
    assert done.returncode == 0, done.stderr
    assert "Total Time" in done.stdout


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"a,b\n1,2\n")

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


DISABLED = "file system operations are disabled by configuration"
NO_SCAN = "does not exist"  # a bare path is not scanned as a file at all: no such table


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        ("select * from read_text('/etc/hostname')", DISABLED),
        ("select * from read_csv('/etc/passwd')", DISABLED),
        ("select * from read_blob('/etc/passwd')", DISABLED),
        ("select * from '/etc/passwd'", NO_SCAN),
        ("select * from glob('/etc/*')", DISABLED),
        ("select * from read_text('{home}/secrets/creator_salt')", DISABLED),
        ("select * from read_text('{home}/publish/{date}/manifest.json')", DISABLED),
        ("select * from read_csv('{url}/data.csv')", DISABLED),
        ("select * from '{url}/data.parquet'", DISABLED),
        ("select * from read_json('{url}/data.json')", DISABLED),
    ],
)
def test_no_file_outside_the_database_and_no_url_can_be_read(home, http_url, query, refusal):
    done = sql(home, query.format(home=home, date=PACKAGE_DATE, url=http_url))
    assert_refused(done, refusal)
    assert "not-for-anyone" not in done.stderr and "root:" not in done.stderr
    assert Recorder.requests == []  # nothing was fetched, nor an extension to fetch it with


@pytest.mark.parametrize(
    "query",
    [
        "select count(*) from models",
        "from models",
        "with m as (select * from models) select name from m",
        "values (1, 2)",
        "table models",
        "describe models",
        "show tables",
        "summarize models",
        "explain select * from models",
        "pragma table_info('models')",
        "pragma show_tables",
        "pragma database_size",
        "pragma version",
        "call pragma_table_info('models')",
        "call duckdb_tables()",
        "select * from duckdb_columns() where table_name = 'models'",
        "begin; select 1; commit",
    ],
)
def test_every_statement_that_only_reads_runs(home, query):
    done = (sql_process if query == "select count(*) from models" else sql)(home, query)  # one as its own process
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_several_statements_run_in_order_and_none_is_dropped(home):
    done = sql(home, "select 'first' as a; select 'second' as b; select count(*) as n from models")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("first") < out.index("second") < out.index("int64")


def test_a_failing_statement_says_which_it_was_after_the_ones_before_it_ran(home):
    done = sql(home, "select 'ran' as a; select * from modls")
    assert done.returncode == 1
    assert "ran" in done.stdout
    assert "statement 2 of 2 failed" in done.stderr


@pytest.mark.parametrize(
    ("query", "hint"),
    [
        ("select * from modls", 'Did you mean "models"?'),
        ("select model_idd from models", 'Candidate bindings: "model_id"'),
        ("selec 1", "syntax error at or near"),
    ],
)
def test_duckdbs_own_hints_are_printed_whole(home, query, hint):
    done = sql(home, query)
    assert done.returncode == 1
    assert done.stderr.startswith("hubwatch: error: ")
    assert hint in done.stderr, done.stderr
    assert "LINE 1:" in done.stderr  # the caret under the offending word too


def test_times_are_printed_in_utc(home):
    done = sql(home, "--csv", "select created_at from models order by 1")
    assert done.stdout.splitlines() == ["created_at", "2025-05-22 10:00:00+00", "2025-05-23 11:30:00+00"]


def test_csv_and_json_go_to_stdout_and_write_nothing(home, tmp_path):
    before = files_under(tmp_path)
    as_csv = sql(home, "--csv", "select model_id, name from models order by model_id")
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.splitlines() == ["model_id,name", "1,first", "2,second"]
    as_json = sql(home, "--json", "select model_id, name from models order by model_id")
    assert as_json.returncode == 0, as_json.stderr
    assert orjson.loads(as_json.stdout) == [{"model_id": "1", "name": "first"}, {"model_id": "2", "name": "second"}]
    assert files_under(tmp_path) == before


def test_parquet_is_written_where_asked_with_the_packages_citation(home, tmp_path):
    out = tmp_path / "result.parquet"
    done = sql(home, "--parquet", str(out), "select * from models")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert duckdb.sql(f"select count(*) from '{out}'").fetchall() == [(2,)]  # noqa: S608 (a test's own path and values)
    meta = {k.decode(): v.decode() for _f, k, v in duckdb.sql(f"select * from parquet_kv_metadata('{out}')").fetchall()}  # noqa: S608 (a test's own path and values)
    assert meta["publish_date"] == PACKAGE_DATE and meta["rules_version"] == "v1" and meta["simulated"] == "true"
    assert len(meta["manifest_sha256"]) == 64
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


@pytest.mark.parametrize(
    "inside", ["publish/latest/out.parquet", f"publish/{PACKAGE_DATE}/data/out.parquet", "publish/x.parquet"]
)
def test_parquet_is_never_written_inside_the_package(home, inside):
    before = files_under(home)
    done = sql(home, "--parquet", str(home / inside), "select 1")
    assert_refused(done, "refusing to write inside")
    assert files_under(home) == before


def test_file_outputs_take_one_query(home, tmp_path):
    done = sql(home, "--csv", "select 1; select 2")
    assert_refused(done, "--csv writes the result of one query")
    done = sql(home, "--parquet", str(tmp_path / "x.parquet"), "pragma show_tables")
    assert_refused(done, "--parquet writes the result of one query")
    assert not (tmp_path / "x.parquet").exists()


def test_a_missing_package_says_where_it_looked_and_creates_nothing(tmp_path):
    home = tmp_path / "nothing-here"
    done = sql(home, "select 1")
    assert_refused(done, f"no published package at {home}/publish/latest", "--home")
    assert not home.exists()


def test_another_package_by_date_or_path(home):
    older = home / "publish" / "2025-05-01"
    older.mkdir()
    with duckdb.connect(str(older / "hubwatch.duckdb")) as con:
        con.execute("create table models as select 'civitai' as platform, '9' as model_id")
    for spec in ("2025-05-01", str(older), str(older / "hubwatch.duckdb")):
        done = sql(home, "--package", spec, "--csv", "select model_id from models")
        assert done.stdout.splitlines() == ["model_id", "9"], (spec, done.stderr)


def test_the_session_is_sealed(home):
    package = Package(home / "publish" / PACKAGE_DATE / "hubwatch.duckdb", None)
    with sealed(package.database) as con:
        settings = dict(
            con.sql(
                "select name, value from duckdb_settings() where name in ('enable_external_access', "
                "'lock_configuration', 'autoinstall_known_extensions', 'autoload_known_extensions', 'access_mode')"
            ).fetchall()
        )
    assert settings == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "access_mode": "read_only",
    }


def test_sql_starts_without_dagster_dbt_polars_or_the_http_client(home):
    """What `hubwatch sql` imports (its start-up time is measured, not tested: see the report)."""
    code = (
        "import sys\n"
        "from dagster_project.cli import main\n"
        f"sys.argv = ['hubwatch', 'sql', '--home', {str(home)!r}, 'select 1']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0, done.code\n"
        "light = {'dashboards', 'dashboards.simulated'}  # the simulated note's plain-Python statement\n"
        "heavy = sorted({m.split('.')[0] for m in set(sys.modules) - light} & {'dagster', 'dagster_dbt', 'dbt', "
        "'polars', 'huggingface_hub', 'dashboards', 'plotly', 'httpx', 'tenacity', 'rich'})\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


@pytest.mark.parametrize("output", [(), ("--csv",), ("--json",)])
def test_a_result_from_a_simulated_package_says_so_on_stderr_and_leaves_stdout_as_it_was(home, output):
    """A researcher pasting a result from the demo's package must not take it for a real hub's: the
    command names the package as SIMULATED DATA (its manifest's statement) on stderr, never in the
    result itself (a CSV or JSON on stdout stays exactly the query's)."""
    manifest_path = home / "publish" / PACKAGE_DATE / "manifest.json"
    statement = "all 2 snapshots (civitai_models; 2025-05-22 to 2025-05-23) come from hubwatch's simulator"
    manifest_path.write_bytes(
        orjson.dumps({**orjson.loads(manifest_path.read_bytes()), "simulated_snapshots": statement})
    )
    done = sql(home, *output, "select model_id from models order by 1")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"hubwatch: note: package {PACKAGE_DATE} is SIMULATED DATA: {statement}\n"
    assert "SIMULATED" not in done.stdout and "1" in done.stdout
    manifest_path.write_bytes(orjson.dumps({**orjson.loads(manifest_path.read_bytes()), "simulated": False}))
    assert sql(home, *output, "select 1").stderr == ""  # a real hub's package: nothing added


def test_a_simulated_packages_duckdb_file_queried_alone_still_says_so(home, tmp_path):
    """`--package PATH/hubwatch.duckdb` (a package's file, here copied out of its folder): with no
    manifest beside it, the file's own snapshot_coverage says which snapshots are simulated."""
    database = tmp_path / "copied.duckdb"
    shutil.copyfile(home / "publish" / PACKAGE_DATE / "hubwatch.duckdb", database)
    with duckdb.connect(str(database)) as con:
        con.execute(
            "create table snapshot_coverage as select * from (values"
            " ('civitai_models', date '2025-05-22', 'simulated'), ('hf_models', date '2025-05-22', 'real'))"
            " as t(source, snapshot_date, kind)"
        )
    done = sql(home, "--package", str(database), "select count(*) from models")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "hubwatch: note: package copied.duckdb is SIMULATED DATA: 1 of 2 snapshots come from hubwatch's"
        " simulator, not a real hub: civitai_models of 2025-05-22\n"
    )


def test_a_result_whose_manifest_cannot_be_read_is_printed_with_a_one_line_note(home):
    (home / "publish" / PACKAGE_DATE / "manifest.json").write_text("{not json")
    done = sql(home, "select 1 as one")
    assert done.returncode == 0 and "one" in done.stdout, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "manifest.json cannot be read" in done.stderr, done.stderr

"""The dbt project's own tests and quoting macros, on small hand-made tables: each test fails on the
violation its comment names and passes on a valid case, and the one SQL-literal macro quotes.

The SQL is the project's, rendered with Jinja as dbt would (ref() -> a table name; the project's
macros, adapter.dispatch choosing an engine's implementation), and run in DuckDB; no dbt run is
needed, so each case costs milliseconds.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

DBT = Path(__file__).parent.parent / "dbt"


class Adapter:
    """adapter.dispatch as dbt resolves it for one engine: that engine's `<engine>__<name>` macro."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.macros = None

    def dispatch(self, name: str):
        return getattr(self.macros, f"{self.engine}__{name}")


def render(sql: str, engine: str = "duckdb", **context) -> str:
    """The SQL with every macro of dbt/macros/ at hand. dbt's `return(x)` ends a macro with x; the
    dispatching macros are `{{ return(...) }}` alone, so printing x renders the same text."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])  # noqa: S701 (SQL, not HTML)
    adapter = Adapter(engine)
    base = {"adapter": adapter, "return": lambda value: value, **context}
    library = environment.from_string(macros(*(p.stem for p in sorted((DBT / "macros").glob("*.sql")))))
    adapter.macros = library.make_module(base)
    found = {k: v for k, v in vars(adapter.macros).items() if isinstance(v, jinja2.runtime.Macro)}
    return environment.from_string(sql).render(**base, **found)


def singular(name: str) -> str:
    return render((DBT / "tests" / f"{name}.sql").read_text(), ref=lambda model: model)


def generic(name: str, model: str, config=None, **arguments) -> str:
    """A generic test's SQL; config(...) in its body (e.g. fail_calc) goes to `config`, if given."""
    text = (DBT / "tests" / "generic" / f"{name}.sql").read_text()
    body = re.search(r"{%\s*test\s+\w+\(.*?\)\s*%}(.*?){%\s*endtest\s*%}", text, re.S).group(1)
    return render(body, model=model, config=config or (lambda **_: ""), **arguments)


def macros(*files: str) -> str:
    return "".join((DBT / "macros" / f"{f}.sql").read_text() for f in files)


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


# -- build_info: exactly one row --------------------------------------------------------------


@pytest.mark.parametrize(("rows", "fails"), [(0, True), (1, False), (2, True)])
def test_exactly_one_row_fails_on_none_and_on_two(con, rows, fails):
    con.execute("create table build_info as select 'v1' as rules_version from range(?)", [rows])
    assert bool(con.sql(generic("exactly_one_row", "build_info")).fetchall()) is fails


# -- not-null columns: one test per model ------------------------------------------------------


def test_columns_not_null_names_each_column_with_nulls_and_counts_them(con):
    """One node checks all of a model's not-null columns: a failure still says which column, and
    dbt's failure count (its fail_calc) is the number of nulls, as the separate tests' added up."""
    con.execute(
        "create table t as select * from (values (1, 'x', null, 1.0), (null, 'y', null, 2.0), (null, 'z', 'c', 3.0))"
        " as v(a, b, c, d)"
    )
    configs = {}
    sql = generic("columns_not_null", "t", config=lambda **kw: configs.update(kw) or "", columns=["a", "b", "c", "d"])
    assert sorted(con.sql(sql).fetchall()) == [("a", 2), ("c", 2)]
    assert con.execute(f"select {configs['fail_calc']} from ({sql})").fetchall() == [(4,)]  # noqa: S608 (the test's SQL)
    con.execute("update t set a = 0, c = ''")
    assert con.sql(sql).fetchall() == []
    assert con.execute(f"select {configs['fail_calc']} from ({sql})").fetchall() == [(0,)]  # noqa: S608 (the test's SQL)


def table_scans(con, sql: str) -> int:
    """How many times DuckDB's plan for the query reads a table."""
    return "\n".join(row[1] for row in con.execute(f"explain {sql}").fetchall()).count("Type: Sequential Scan")


def test_columns_not_null_reads_the_table_once(con):
    """However many columns it checks, the table is scanned once (one aggregate), where a query
    per column (dbt's not_null tests, here in one union) reads it once per column."""
    con.execute(
        "create table t as select nullif(range % 7, 0) as a, nullif(range % 5, 0) as b, nullif(range % 3, 0) as c"
        " from range(1000)"
    )
    sql = generic("columns_not_null", "t", columns=["a", "b", "c"])
    per_column = " union all ".join(f"select '{c}', count(*) from t where {c} is null" for c in "abc")  # noqa: S608
    assert table_scans(con, per_column) == 3
    assert table_scans(con, sql) == 1


def test_columns_accepted_values_counts_each_columns_rows_outside_its_list(con):
    """As dbt's accepted_values per column (a null is no failure; quote false compares as written),
    in one node: a row per column with values outside its list, and how many rows hold them."""
    con.execute(
        "create table t as select * from (values ('civitai', 'live', false), ('x', 'bad', true), ('y', 'live', null),"
        " (null, 'live', false)) as v(platform, kind, divergent)"
    )
    configs = {}
    accepted = [
        {"column": "platform", "values": ["civitai", "huggingface"]},
        {"column": "kind", "values": ["live", "simulated", "o'brien"]},
        {"column": "divergent", "values": [False], "quote": False},
    ]
    sql = generic("columns_accepted_values", "t", config=lambda **kw: configs.update(kw) or "", accepted=accepted)
    assert sorted(con.sql(sql).fetchall()) == [("divergent", 1), ("kind", 1), ("platform", 2)]
    assert con.execute(f"select {configs['fail_calc']} from ({sql})").fetchall() == [(4,)]  # noqa: S608 (the test's SQL)
    con.execute("update t set platform = 'huggingface', kind = 'simulated', divergent = false")
    assert con.sql(sql).fetchall() == []


def test_expressions_are_true_names_each_expression_that_fails(con):
    """As expression_is_true per expression (rows where it is false; null is no failure), in one
    node and one scan: a row per expression with the rows that break it."""
    con.execute("create table t as select * from (values (1, 2), (3, 2), (5, 4), (null, 1)) as v(a, b)")
    configs = {}
    expressions = ["a <= b", "b >= 2", "a is null or a > 0", "coalesce(a, 0) < 9"]
    sql = generic("expressions_are_true", "t", config=lambda **kw: configs.update(kw) or "", expressions=expressions)
    assert sorted(con.sql(sql).fetchall()) == [("a <= b", 2), ("b >= 2", 1)]
    assert con.execute(f"select {configs['fail_calc']} from ({sql})").fetchall() == [(3,)]  # noqa: S608 (the test's SQL)
    assert table_scans(con, sql) == 1


def test_columns_in_unit_interval_names_each_share_outside_0_1_or_null(con, tmp_path):
    """As share_in_unit_interval per column (below 0, above 1, null or NaN fails), in one node and
    one scan: a row per column with the rows that break it, quoted by the build record."""
    from dagster_project.build_record import merged_test_rows

    con.execute(
        "create table t as select * from (values (0.0, 1.0), (1.5, 0.5), (null, -0.1), (0.5, 'nan'::double),"
        " (1.0, 0.0)) as v(a, b)"
    )
    configs = {}
    sql = generic("columns_in_unit_interval", "t", config=lambda **kw: configs.update(kw) or "", columns=["a", "b"])
    assert sorted(con.sql(sql).fetchall()) == [("a", 2), ("b", 2)]
    assert con.execute(f"select {configs['fail_calc']} from ({sql})").fetchall() == [(4,)]  # noqa: S608 (the test's SQL)
    assert table_scans(con, sql) == 1
    warehouse = tmp_path / "warehouse.duckdb"
    con.execute(f"attach '{warehouse}' as w")
    con.execute("create table w.t as select * from t where a is distinct from 1.5")
    failed = {"unique_id": "test.hubwatch.share_in_unit_interval_t", "compiled_code": sql}
    con.execute("detach w")
    assert merged_test_rows(failed, warehouse) == " (shares outside [0, 1]: b 2; a 1)"
    con.execute("update t set a = 0.25, b = 0.75")
    assert con.sql(sql).fetchall() == []


def test_a_failed_merged_test_is_described_by_its_rows(tmp_path):
    """The build record and the error line quote a merged test's rows (its name no longer says
    which column or expression failed); any other test, or an unreadable warehouse, adds nothing."""
    from dagster_project.build_record import merged_test_rows

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table t as select * from (values (1, 2), (3, 2), (5, 4), (null, 1)) as v(a, b)")
    sql = generic("expressions_are_true", "t", expressions=["a <= b", "b >= 2", "b > 0"])
    failed = {"unique_id": "test.hubwatch.expression_is_true_t.0123456789", "compiled_code": sql}
    assert merged_test_rows(failed, warehouse) == " (rows where false: a <= b 2; b >= 2 1)"
    assert merged_test_rows({**failed, "unique_id": "test.hubwatch.unique_combination_t_a.01"}, warehouse) == ""
    assert merged_test_rows(failed, None) == "" == merged_test_rows(failed, tmp_path / "missing.duckdb")


def test_no_column_level_not_null_is_left_in_the_project():
    """A column's own `not_null` test is a dbt node of its own (~40 ms of dbt per build); the
    project checks a model's not-null columns in one `columns_not_null` test (README, "Checks")."""
    left = []
    for path in sorted([*(DBT / "models").rglob("*.yml"), *(DBT / "seeds").rglob("*.yml")]):
        for section in ("models", "seeds", "snapshots"):
            for model in (yaml.safe_load(path.read_text()) or {}).get(section) or []:
                for column in model.get("columns") or []:
                    tests = column.get("data_tests") or column.get("tests") or []
                    if any(t == "not_null" or (isinstance(t, dict) and "not_null" in t) for t in tests):
                        left.append(f"{path.name}: {model['name']}.{column['name']}")
    assert not left, left


# -- a grain within the rows a build loaded -----------------------------------------------------


@pytest.mark.parametrize(("repeated_on", "fails"), [(date(2025, 1, 1), False), (date(2025, 1, 2), True)])
def test_a_grain_checked_within_some_rows_fails_on_a_repeat_among_them_only(con, repeated_on, fails):
    """`rows` limits a grain test to the rows of the snapshots a build loaded (the Civitai stats
    view over every snapshot): a repeat in the newest snapshot fails, one in an older does not."""
    con.execute(
        "create table stats as select * from (values (date '2025-01-01', 1), (date '2025-01-02', 1), (?, 2), (?, 2))"
        " as t(snapshot_date, model_id)",
        [repeated_on, repeated_on],
    )
    sql = generic(
        "unique_combination",
        "stats",
        combination=["snapshot_date", "model_id"],
        changed_rows=None,
        rows="snapshot_date = date '2025-01-02'",
        unique_index=None,  # no unique index named: `rows` limits the grouping as written
    )
    assert bool(con.sql(sql).fetchall()) is fails


# -- lifecycle: the counts add up, exactly ----------------------------------------------------

D1, D2, D3 = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


def lifecycle_world(con) -> None:
    """m1 stays; m2 is removed at D2; m3 is taken down at D1 and gone at D2 (left with a mode);
    m4 is seen at D1, absent at D2, back at D3; m5 is new at D2; m6 is new at D3."""
    con.execute(
        "create table int_snapshots (platform varchar, entity varchar, snapshot_date date, prev_snapshot_date date)"
    )
    con.execute(
        "insert into int_snapshots values ('civitai', 'model', ?, null), ('civitai', 'model', ?, ?), "
        "('civitai', 'model', ?, ?), ('civitai', 'image', ?, null)",
        [D1, D2, D1, D3, D2, D1],
    )
    con.execute("create table model_snapshots (platform varchar, model_id varchar, snapshot_date date, status varchar)")
    sightings = {
        D1: [("m1", "active"), ("m2", "active"), ("m3", "taken_down"), ("m4", "active")],
        D2: [("m1", "active"), ("m5", "active")],
        D3: [("m1", "active"), ("m4", "active"), ("m5", "active"), ("m6", "active")],
    }
    for day, models in sightings.items():
        for model_id, status in models:
            con.execute("insert into model_snapshots values ('civitai', ?, ?, ?)", [model_id, day, status])
    # the build that loaded each model snapshot (here one full refresh loaded them all)
    con.execute(
        "create table int_model_snapshot_changes as select platform, snapshot_date, timestamp '2025-03-02' as loaded_at"
        " from int_snapshots where entity = 'model'"
    )
    # platform, snapshot_date, n_visible, n_new, n_removed, n_taken_down, n_archived, n_real_person_removed
    con.execute(
        """create table lifecycle_by_snapshot as select * from (values
            ('civitai', date '2025-01-01', 4, 4, 0, 1, 0, 0),
            ('civitai', date '2025-02-01', 2, 1, 2, 0, 0, 0),
            ('civitai', date '2025-03-01', 4, 1, 0, 0, 0, 0)
        ) as t(platform, snapshot_date, n_visible, n_new, n_removed, n_taken_down, n_archived, n_real_person_removed)"""
    )


def test_lifecycle_counts_add_up_on_a_consistent_history(con):
    lifecycle_world(con)
    assert con.sql(singular("lifecycle_counts_add_up")).fetchall() == []


@pytest.mark.parametrize(
    ("day", "column", "change"), [(D2, "n_visible", -1), (D3, "n_visible", 1), (D2, "n_removed", 1)]
)
def test_lifecycle_counts_that_do_not_add_up_fail(con, day, column, change):
    """Too few visible models (the old upper-bound check let that pass), too many, or a removal
    counted twice: each breaks the equality on that snapshot's row."""
    lifecycle_world(con)
    con.execute(f"update lifecycle_by_snapshot set {column} = {column} + ? where snapshot_date = ?", [change, day])  # noqa: S608 (a column name of this test)
    failing = [row[1] for row in con.sql(singular("lifecycle_counts_add_up")).fetchall()]
    assert day in failing and set(failing) <= {day, D3}  # a visible count is also the next row's "before"


def test_lifecycle_counts_are_checked_on_the_snapshots_the_latest_build_loaded(con):
    """A daily build loaded D3 alone: its row is checked (against D2's, which it reads), D2's is
    not (the build that loaded it checked it; nothing it depends on has changed since)."""
    lifecycle_world(con)
    con.execute(
        "update int_model_snapshot_changes set loaded_at = timestamp '2025-02-02' where snapshot_date < ?", [D3]
    )
    con.execute("update lifecycle_by_snapshot set n_removed = n_removed + 1 where snapshot_date = ?", [D2])
    assert con.sql(singular("lifecycle_counts_add_up")).fetchall() == []
    con.execute("update lifecycle_by_snapshot set n_new = n_new + 1 where snapshot_date = ?", [D3])
    assert [row[1] for row in con.sql(singular("lifecycle_counts_add_up")).fetchall()] == [D3]


# -- images and their last sightings ---------------------------------------------------------

LAST_SIGHTINGS = """
create table int_image_last_seen as select * from (values
    (1, date '2025-01-01', date '2025-02-01', 'v2', date '2024-12-01', true, false, timestamp '2025-02-02 00:00'),
    (2, date '2025-01-01', date '2025-01-01', 'v1', date '2024-12-01', false, false, timestamp '2025-01-02 00:00'),
    (3, date '2025-02-01', date '2025-02-01', 'v2', date '2025-01-01', true, true, timestamp '2025-02-02 00:00')
) as t(image_id, first_seen, last_seen, last_seen_version, month, nsfw_any, nsfw_strict, loaded_at)
"""


def images_world(con) -> None:
    con.execute(LAST_SIGHTINGS)
    con.execute(
        """create table images as
           select 'civitai' as platform, cast(image_id as varchar) as image_id, first_seen, last_seen,
                  last_seen_version, month, nsfw_any, nsfw_strict
           from int_image_last_seen"""
    )


def test_images_that_match_their_last_sightings_pass(con):
    images_world(con)
    assert con.sql(singular("images_match_their_last_sightings")).fetchall() == []


@pytest.mark.parametrize(
    "change",
    [
        "update images set nsfw_any = not nsfw_any where image_id = '3'",  # same count, another sighting's tier
        "update images set month = date '2020-01-01' where image_id = '1'",
        "update images set image_id = '4' where image_id = '3'",  # a different image in its place
        "delete from images where image_id = '2'",  # one missing (an older one: the count catches it)
    ],
)
def test_images_that_differ_from_their_last_sightings_fail(con, change):
    """The old test compared row counts only: the first three cases kept the count and passed."""
    images_world(con)
    con.execute(change)
    assert con.sql(singular("images_match_their_last_sightings")).fetchall()


# -- SQL literals from paths and settings -----------------------------------------------------


def test_sql_string_quotes_a_path_with_a_quote():
    sql = render(macros("sql_string") + "{{ sql_string(value) }}", value="/data/o'brien/home")
    assert sql.strip() == "'/data/o''brien/home'"


def test_sql_string_on_spark_escapes_quotes_and_backslashes():
    """Spark's parser reads backslash escapes in string literals (and its seeds are pasted in as
    literals): a quote and a backslash must both come through as themselves."""
    sql = render("{{ sql_string(value) }}", engine="spark", value="the rapper's \\d name")
    assert sql == "'the rapper\\'s \\\\d name'"


def test_creator_hash_reads_a_salt_under_a_home_with_a_quote(con, tmp_path):
    salt = tmp_path / "o'brien" / "home" / "secrets" / "creator_salt"
    salt.parent.mkdir(parents=True)
    salt.write_text("pepper")
    expression = render(
        macros("sql_string", "creator_hash") + "{{ creator_hash('name') }}",
        var=lambda name: {"creator_salt_path": str(salt)}[name],
    )
    [(hashed, expected)] = con.sql(
        f"select {expression}, sha256('pepper' || name) from (select 'alice' as name)"  # noqa: S608 (the macro's own SQL)
    ).fetchall()
    assert hashed == expected

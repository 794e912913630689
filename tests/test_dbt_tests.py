"""The dbt project's own tests and quoting macros, on small hand-made tables: each test fails on the
violation its comment names and passes on a valid case, and the one SQL-literal macro quotes.

The SQL is the project's, rendered with Jinja as dbt would (ref() -> a table name; the project's
macros, adapter.dispatch choosing an engine's implementation), and run in DuckDB; no dbt run is
needed, so each case costs milliseconds.
"""

from __future__ import annotations

import re
import types
from datetime import date
from pathlib import Path

import duckdb
import jinja2
import orjson
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


def generic(name: str, model: str, config=None, context=None, **arguments) -> str:
    """A generic test's SQL, called as dbt calls it (the test block as a macro: its arguments'
    defaults apply); config(...) in its body (e.g. fail_calc) goes to `config`, if given; context:
    more of dbt's context (e.g. `exceptions`)."""
    text = (DBT / "tests" / "generic" / f"{name}.sql").read_text()
    text = re.sub(r"{%(-?)\s*test\s+(\w+)\(", r"{%\1 macro \2(", text)
    text = re.sub(r"{%(-?)\s*endtest\s*(-?)%}", r"{%\1 endmacro \2%}", text)
    call = f"{{{{ {name}(model=model, **arguments) }}}}"
    return render(text + call, model=model, arguments=arguments, config=config or (lambda **_: ""), **(context or {}))


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


# -- a model's checks: one test per model and severity ----------------------------------------


def failing(con, sql: str) -> list[tuple]:
    """A checks test's rows, sorted (kind, checked, n_failing)."""
    return sorted(con.sql(sql).fetchall())


def failure_count(con, sql: str, fail_calc: str) -> int:
    """dbt's failure count of a test: its fail_calc over the test's rows."""
    return con.execute(f"select {fail_calc} from ({sql})").fetchone()[0]  # noqa: S608 (the test's SQL)


def test_checks_names_each_kind_that_fails_with_what_failed_and_how_often(con):
    """One node checks a model's grain, further keys, not-null columns, accepted values, shares and
    invariants: each check that some rows fail is a row (its kind, the column, key or expression,
    how many rows fail it, or keys repeat), and dbt's failure count is their sum."""
    con.execute(
        """create table t as select * from (values
            (1, 'a', 'civitai', 0.5, 1, 2),
            (1, 'b', 'civitai', 1.5, 3, 2),
            (2, 'b', 'x', null, 1, null),
            (3, 'c', null, 0.0, 5, 4)
        ) as v(id, code, platform, share, a, b)"""
    )
    configs = {}
    sql = generic(
        "checks",
        "t",
        config=lambda **kw: configs.update(kw) or "",
        grain=["id"],
        unique=[["code"]],
        not_null=["id", "platform", "b"],
        accepted_values=[{"column": "platform", "values": ["civitai", "huggingface"]}],
        unit_interval=["share"],
        expressions=["a <= b", "a > 0"],
    )
    assert failing(con, sql) == [
        ("accepted_values", "platform", 1),  # 'x'; a null is no failure
        ("expressions", "a <= b", 2),  # (3, 2) and (5, 4); (1, null) is no failure
        ("grain", "id", 1),  # one key repeated
        ("not_null", "b", 1),
        ("not_null", "platform", 1),
        ("unique", "code", 1),
        ("unit_interval", "share", 2),  # 1.5 and null
    ]
    assert failure_count(con, sql, configs["fail_calc"]) == 9
    con.execute("delete from t where id <> 3")
    con.execute("update t set platform = 'huggingface', b = 5")
    assert failing(con, sql) == []
    assert failure_count(con, sql, configs["fail_calc"]) == 0


def test_a_checks_test_with_nothing_to_check_is_a_compile_error():
    """A `checks` test given no kind of check would be empty SQL: dbt stops at compile, naming it."""

    class CompilerError(Exception):
        pass

    def refuse(message):
        raise CompilerError(message)

    exceptions = types.SimpleNamespace(raise_compiler_error=refuse)
    with pytest.raises(CompilerError, match="checks on t: no check given"):
        generic("checks", "t", context={"exceptions": exceptions})
    assert "count(*) - count(a)" in generic("checks", "t", context={"exceptions": exceptions}, not_null=["a"])


def test_checks_counts_each_columns_nulls(con):
    """As a not_null test per column would, in one node: a row per column with nulls, their count."""
    con.execute(
        "create table t as select * from (values (1, 'x', null, 1.0), (null, 'y', null, 2.0), (null, 'z', 'c', 3.0))"
        " as v(a, b, c, d)"
    )
    sql = generic("checks", "t", not_null=["a", "b", "c", "d"])
    assert failing(con, sql) == [("not_null", "a", 2), ("not_null", "c", 2)]
    con.execute("update t set a = 0, c = ''")
    assert failing(con, sql) == []


def table_scans(con, sql: str) -> int:
    """How many times DuckDB's plan for the query reads a table."""
    return "\n".join(row[1] for row in con.execute(f"explain {sql}").fetchall()).count("Type: Sequential Scan")


def test_checks_reads_the_table_once_for_its_columns_and_once_per_key(con):
    """However many columns and expressions it checks, they are one aggregate, one scan (a query
    per column, as dbt's not_null tests, reads the table once per column); each key is one
    grouping more."""
    con.execute(
        "create table t as select range as id, nullif(range % 7, 0) as a, nullif(range % 5, 0) as b,"
        " nullif(range % 3, 0) as c from range(1000)"
    )
    columns = {"not_null": ["a", "b", "c"], "expressions": ["a < b or b < c"], "unit_interval": ["a / 7"]}
    per_column = " union all ".join(f"select '{c}', count(*) from t where {c} is null" for c in "abc")  # noqa: S608
    assert table_scans(con, per_column) == 3
    assert table_scans(con, generic("checks", "t", **columns)) == 1
    assert table_scans(con, generic("checks", "t", grain=["id"], **columns)) == 2
    assert table_scans(con, generic("checks", "t", grain=["id"])) == 1


def test_checks_accepted_values_counts_each_columns_rows_outside_its_list(con):
    """As dbt's accepted_values per column (a null is no failure; quote false compares as written):
    a row per column with values outside its list, and how many rows hold them."""
    con.execute(
        "create table t as select * from (values ('civitai', 'live', false), ('x', 'bad', true), ('y', 'live', null),"
        " (null, 'live', false)) as v(platform, kind, divergent)"
    )
    accepted = [
        {"column": "platform", "values": ["civitai", "huggingface"]},
        {"column": "kind", "values": ["live", "simulated", "o'brien"]},
        {"column": "divergent", "values": [False], "quote": False},
    ]
    sql = generic("checks", "t", accepted_values=accepted)
    assert failing(con, sql) == [
        ("accepted_values", "divergent", 1),
        ("accepted_values", "kind", 1),
        ("accepted_values", "platform", 2),
    ]
    con.execute("update t set platform = 'huggingface', kind = 'simulated', divergent = false")
    assert failing(con, sql) == []


def test_checks_expressions_names_each_expression_that_fails(con):
    """As expression_is_true per expression (rows where it is false; null is no failure): a row
    per expression with the rows that break it."""
    con.execute("create table t as select * from (values (1, 2), (3, 2), (5, 4), (null, 1)) as v(a, b)")
    expressions = ["a <= b", "b >= 2", "a is null or a > 0", "coalesce(a, 0) < 9"]
    sql = generic("checks", "t", expressions=expressions)
    assert failing(con, sql) == [("expressions", "a <= b", 2), ("expressions", "b >= 2", 1)]


def test_checks_unit_interval_names_each_share_outside_0_1_or_null(con):
    """A share below 0, above 1, null or NaN fails: a row per column with the rows that break it."""
    con.execute(
        "create table t as select * from (values (0.0, 1.0), (1.5, 0.5), (null, -0.1), (0.5, 'nan'::double),"
        " (1.0, 0.0)) as v(a, b)"
    )
    sql = generic("checks", "t", unit_interval=["a", "b"])
    assert failing(con, sql) == [("unit_interval", "a", 2), ("unit_interval", "b", 2)]
    con.execute("update t set a = 0.25, b = 0.75")
    assert failing(con, sql) == []


def test_checks_counts_the_keys_repeated_not_the_rows(con):
    """A grain (or a further unique key) fails with the number of keys more than one row holds,
    as the grain test's rows were one per repeated key."""
    con.execute("create table t as select * from (values (1, 'a'), (1, 'a'), (1, 'a'), (2, 'b'), (2, 'b')) as v(x, y)")
    assert failing(con, generic("checks", "t", grain=["x", "y"], unique=[["y"]])) == [
        ("grain", "x, y", 2),
        ("unique", "y", 2),
    ]


def test_checks_rows_per_group_counts_the_groups_of_another_size(con):
    """rows_per_group fails with the number of the column's values under which the model holds
    another number of rows than the expected query says: one row more (an older row left beside a
    rewritten one), one fewer, or a value only one side has; grain_rows then groups only its rows."""
    con.execute("create table t as select * from (values (1, 'a', 1), (2, 'a', 1), (3, 'b', 0)) as v(id, g, new)")
    con.execute("create table e as select * from (values ('a', 2), ('b', 1)) as v(g, n_rows)")
    expected = {"group": "g", "expected": "select g, n_rows from e"}
    sql = generic("checks", "t", grain=["id"], grain_rows="new = 1", rows_per_group=expected)
    assert failing(con, sql) == []
    con.execute("insert into t values (1, 'b', 0)")  # id 1 again, in another group, not written anew
    assert failing(con, sql) == [("rows_per_group", "g", 1)]
    con.execute("insert into t values (4, 'c', 1), (2, 'a', 1)")  # a group e lacks; id 2 repeated among new rows
    assert failing(con, sql) == [("grain", "id", 1), ("rows_per_group", "g", 3)]


def test_a_failed_checks_test_is_described_by_its_rows(tmp_path):
    """The build record and the error line quote a checks test's rows (its name says only which
    model), grouped by kind, the most failing first; any other test, or an unreadable warehouse,
    adds nothing."""
    from dagster_project.build_record import merged_test_rows

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table t as select * from (values (1, 2, 'x', 0.5), (1, 2, null, 1.5), (5, 4, 'y', null))"
            " as v(a, b, c, share)"
        )
    sql = generic(
        "checks",
        "t",
        grain=["a", "b"],
        not_null=["c", "share"],
        accepted_values=[{"column": "c", "values": ["x"]}],
        unit_interval=["share"],
        expressions=["a <= b", "b >= 2"],
    )
    failed = {"unique_id": "test.hubwatch.checks_t.0123456789", "compiled_code": sql}
    assert merged_test_rows(failed, warehouse) == (
        " (repeated grain keys: a, b 1; nulls: c 1; share 1; values not accepted: c 1;"
        " shares outside [0, 1]: share 2; rows where false: a <= b 1)"
    )
    assert merged_test_rows({**failed, "unique_id": "test.hubwatch.exactly_one_row_t.01"}, warehouse) == ""
    assert merged_test_rows(failed, None) == "" == merged_test_rows(failed, tmp_path / "missing.duckdb")


def data_tests(path: Path):
    """(model, column or None, test entry) for every data test a YAML file declares."""
    for section in ("models", "seeds", "snapshots"):
        for model in (yaml.safe_load(path.read_text()) or {}).get(section) or []:
            for test in model.get("data_tests") or model.get("tests") or []:
                yield model["name"], None, test
            for column in model.get("columns") or []:
                for test in column.get("data_tests") or column.get("tests") or []:
                    yield model["name"], column["name"], test


def test_a_model_has_one_checks_test_per_severity_named_after_it():
    """Each dbt test costs a build ~30 ms of dbt's own Python (and is an asset check): a model's
    grain, not-null columns, accepted values, shares and invariants are one `checks` test per
    severity, named `checks_<model>` (`checks_<model>_warn`), which the build record recognises by
    name (README, "Checks"). A column's own test, or a second checks test of one severity, fails."""
    left, named = [], {}
    for path in sorted([*(DBT / "models").rglob("*.yml"), *(DBT / "seeds").rglob("*.yml")]):
        for model, column, test in data_tests(path):
            kind = test if isinstance(test, str) else next(iter(test))
            if column is not None and kind != "relationships":
                left.append(f"{path.name}: {model}.{column}: {kind}")
            elif column is None and kind not in ("checks", "exactly_one_row", "share_within_limit"):
                left.append(f"{path.name}: {model}: {kind}")
            elif kind == "checks":
                severity = ((test["checks"].get("config") or {}).get("severity") or "error").lower()
                expected = f"checks_{model}" + ("" if severity == "error" else f"_{severity}")
                named.setdefault(expected, []).append(test["checks"].get("name"))
    assert not left, left
    assert {name: found for name, found in named.items() if found != [name]} == {}
    assert "checks_models" in named and "checks_models_warn" in named


# -- a grain within the rows a build loaded -----------------------------------------------------


@pytest.mark.parametrize(("repeated_on", "fails"), [(date(2025, 1, 1), False), (date(2025, 1, 2), True)])
def test_a_grain_checked_within_some_rows_fails_on_a_repeat_among_them_only(con, repeated_on, fails):
    """`grain_rows` limits a grain to the rows of the snapshots a build loaded (the Civitai stats
    view over every snapshot): a repeat in the newest snapshot fails, one in an older does not."""
    con.execute(
        "create table stats as select * from (values (date '2025-01-01', 1), (date '2025-01-02', 1), (?, 2), (?, 2))"
        " as t(snapshot_date, model_id)",
        [repeated_on, repeated_on],
    )
    sql = generic(
        "checks",
        "stats",
        grain=["snapshot_date", "model_id"],
        grain_rows="snapshot_date = date '2025-01-02'",  # no grain_index named: it limits the grouping as written
    )
    assert bool(con.sql(sql).fetchall()) is fails


@pytest.mark.parametrize(("written", "fails"), [(2, True), (1, False)])
def test_a_grain_checked_for_the_changed_rows_looks_for_their_keys_in_every_row(con, written, fails):
    """`grain_changed_rows` looks for the keys of the rows the latest build wrote, across the whole
    table: a key the build wrote again that an older row holds fails; a repeat among older rows
    alone (checked by the build that wrote them) does not."""
    con.execute(
        "create table images as select * from (values (1, 1), (1, ?), (2, 1), (2, 1)) as t(image_id, build)", [written]
    )
    sql = generic("checks", "images", grain=["image_id"], grain_changed_rows="build = 2")
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
        # one image twice in place of another: the same count, a row one side holds more often
        "delete from images where image_id = '2'; insert into images select * from images where image_id = '3'",
    ],
)
def test_images_that_differ_from_their_last_sightings_fail(con, change):
    """The old test compared row counts only: the first three cases kept the count and passed."""
    images_world(con)
    con.execute(change)
    assert con.sql(singular("images_match_their_last_sightings")).fetchall()


def rows_each_operator_received(con, sql: str, tmp_path) -> dict[str, list[int]]:
    """DuckDB's profile of one query: for each operator type, the rows each of its instances
    received from its first child (a materialized CTE: the rows it held)."""
    profile = tmp_path / "profile.json"
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"pragma profiling_output = '{profile}'")
    con.sql(sql).fetchall()
    con.execute("pragma disable_profiling")
    received: dict[str, list[int]] = {}

    def walk(operator: dict) -> None:
        children = operator.get("children", [])
        if children:
            received.setdefault(operator["type"], []).append(children[0]["intermediate_rows"])
        for child in children:
            walk(child)

    for operator in orjson.loads(profile.read_bytes())["operator"]:
        walk(operator)
    return received


def test_images_that_match_their_last_sightings_are_compared_without_holding_their_rows(con, tmp_path):
    """A full refresh compares every image: the old test grouped both tables whole (2 x 43M rows at
    the large tier) and ran out of DuckDB's 5GB there. Sides that match pass on their fingerprints
    alone: no row reaches a grouping, no CTE holds more than one row."""
    images_world(con)
    received = rows_each_operator_received(con, singular("images_match_their_last_sightings"), tmp_path)
    assert received["HASH_GROUP_BY"] == [0]
    assert max(received["CTE"]) == 1
    con.execute("update images set nsfw_strict = not nsfw_strict where image_id = '1'")
    received = rows_each_operator_received(con, singular("images_match_their_last_sightings"), tmp_path)
    assert received["HASH_GROUP_BY"] == [4]  # images 1 and 3 of both sides (last seen since the latest build's)


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


def test_the_snapshots_rewritten_since_counted_are_each_named_once(con):
    """A table of counts recounts the snapshots holding rows of the per-image tables written since
    it counted (incremental_images.sql): the query names each such snapshot once, not once per row
    written. Once per row, a daily build at 44M images fetched 1.3M dates into dbt (agate, then a
    Jinja loop) for int_image_counts_by_last_seen: 10-15 s a day (large tier, 2026-12-01)."""
    con.execute("create table per_image (last_seen date, loaded_at timestamp)")
    con.execute("create table counts (loaded_at timestamp)")
    con.execute("insert into counts values (timestamp '2025-01-02 00:00:00')")
    con.execute(
        "insert into per_image select date '2025-01-01' + cast(i % 2 as integer), timestamp '2025-01-03 00:00:00'"
        " from range(1000) t(i)"
    )
    con.execute("insert into per_image values (date '2024-12-01', timestamp '2025-01-01 00:00:00')")  # counted
    sql = render("{{ groups_rewritten_since_counted(['per_image']) }}", this="counts")
    assert sorted(con.sql(sql).fetchall()) == [("2025-01-01",), ("2025-01-02",)]

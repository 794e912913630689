"""The dbt project is portable to Spark by dispatch, checked at compile time with no JVM.

Every model, snapshot test and hook is compiled for the `spark` target against a stand-in Spark
session (tests/spark_compile.py) and each compiled statement must be Spark SQL: sqlglot parses it
with its Spark dialect, it calls only functions Spark has (pyspark's own list), and it holds none
of the DuckDB forms Spark's parser would refuse or read otherwise (qualify, `union all by name`,
`* exclude`, lambdas, list literals and 1-based subscripts, unnest). Engine differences live in
dbt/macros/ only: no model, test or YAML file names an engine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyspark.sql.functions
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.tokens import TokenType

DBT = Path(__file__).resolve().parent.parent / "dbt"
SPARK_FUNCTIONS = {name.lower() for name in dir(pyspark.sql.functions) if not name.startswith("_")}
ENGINE_BRANCH = re.compile(r"target\.type|target\.name|adapter\.type\(|\bduckdb__|\bspark__")


def spark_problems(sql: str) -> list[str]:
    """Why a statement is not Spark SQL ([] when it is)."""
    try:
        trees = sqlglot.parse(sql, read="spark")
    except sqlglot.errors.ParseError as error:
        return [f"not Spark SQL: {str(error).splitlines()[0]}"]
    problems = []
    tokens = Spark().tokenize(sql)
    for before, name, after in zip([None, *tokens[:-1]], tokens, [*tokens[1:], None], strict=True):
        if name.token_type == TokenType.L_BRACKET:
            problems.append("a [ ] list literal or subscript (Spark's [] is 0-based: element_at)")
        elif name.token_type == TokenType.FROM and (before is None or before.token_type == TokenType.L_PAREN):
            problems.append("a FROM-first query (Spark: select ... from)")
        elif name.token_type == TokenType.UNNEST:
            problems.append("unnest (Spark: explode)")
        elif (
            name.token_type == TokenType.VAR
            and after is not None
            and after.token_type == TokenType.L_PAREN
            and (before is None or before.token_type not in (TokenType.ALIAS, TokenType.DOT))
            and name.text.lower() not in SPARK_FUNCTIONS
        ):
            problems.append(f"{name.text}() is no Spark function")
        elif name.token_type == TokenType.VARCHAR and (after is None or after.token_type != TokenType.L_PAREN):
            problems.append("varchar without a length (Spark 4 refuses it: type_text())")
    for tree in filter(None, trees):
        for node in tree.walk():
            if isinstance(node, exp.Qualify):
                problems.append("qualify")
            elif isinstance(node, exp.SetOperation) and node.args.get("by_name"):
                problems.append("union by name")
            elif isinstance(node, exp.Star) and (node.args.get("except") or node.args.get("replace")):
                problems.append("* exclude / replace")
    return problems


@pytest.mark.parametrize(
    "duckdb_only",
    [
        "select * from t qualify row_number() over (order by a) = 1",
        "select a from t union all by name select a from u",
        "select * exclude (a) from t",
        "select cast(a as varchar) from t",
        "select list_transform(tags, lambda t: lower(t)) from t",
        "select [1, 2] as pair from t",
        "select tags[1] from t",
        "select unnest(tags) from t",
        "select strftime(d, '%Y') from t",
        "select string_split(a, ' ') from t",
        "select arg_max(a, b) from t",
        "select json_extract_string(a, '$.b') from t",
        "select * from read_parquet('x.parquet')",
        "select a from (from t)",
    ],
)
def test_the_check_refuses_duckdb_only_sql(duckdb_only):
    assert spark_problems(duckdb_only), duckdb_only


def test_the_check_accepts_spark_sql():
    sql = (
        "select element_at(tags, 1), transform(tags, t -> lower(t)), explode(array('a', 'b')) as tag, "
        "max_by(a, b), get_json_object(c, '$.d') from t as x(tags, a, b, c) group by all"
    )
    assert spark_problems(sql) == []


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("spark-compile")
    run = subprocess.run(
        [sys.executable, "-m", "tests.spark_compile", str(target)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=DBT.parent,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return target / "compiled" / "hubwatch"


def test_every_model_and_test_compiles_to_spark_sql(compiled):
    files = sorted(compiled.rglob("*.sql"))
    models = [f for f in files if f.relative_to(compiled).parts[0] == "models"]
    assert len(models) >= len(list((DBT / "models").rglob("*.sql"))), "a model did not compile for Spark"
    problems = {
        str(f.relative_to(compiled)): found for f in files if (found := sorted(set(spark_problems(f.read_text()))))
    }
    assert problems == {}


def test_no_engine_branch_outside_the_dispatch_macros():
    files = [p for p in DBT.rglob("*") if p.suffix in (".sql", ".yml", ".csv") and "target" not in p.parts]
    branching = [
        str(p.relative_to(DBT))
        for p in files
        if p.parts[len(DBT.parts)] != "macros" and ENGINE_BRANCH.search(p.read_text())
    ]
    assert branching == []

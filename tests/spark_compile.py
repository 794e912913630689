"""`python -m tests.spark_compile TARGET_DIR`: the dbt project compiled for Spark, without a JVM.

dbt-spark's session connection asks pyspark for a SparkSession at each query; here that session is
a stand-in that runs nothing: every catalog query finds no table (so every incremental model
compiles as its first, full build) and every other query returns one row holding ''. The compiled
SQL lands in TARGET_DIR/compiled/ for tests/test_portability.py to parse as Spark SQL.
"""

from __future__ import annotations

import re
import sys
from types import SimpleNamespace

import orjson
from dbt.adapters.spark import session
from dbt.cli.main import dbtRunner

from dagster_project.warehouse import DBT_DIR, TABLES
from ingest import rowstore

RAW_LOCATIONS = {  # where the on-run-start hook would find raw/ (nothing is read)
    "manifests": {"path": "/nowhere/raw", "file": "manifest.json"},
    **{f"{s}/{t}": {"path": f"/nowhere/raw/{s}", "file": f"{t}.parquet"} for s, ts in TABLES.items() for t in ts},
    **{  # a crawled model table's listings and stored rows (ingest/rowstore.py)
        f"{s}/{t}.{kind}": {"path": f"/nowhere/raw/{s}", "file": f"{t}.{kind}.parquet"}
        for s, ts in rowstore.VOLATILE.items()
        for t in ts
        for kind in ("listing", "rows")
    },
}


class Field(SimpleNamespace):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, nullable=True, dataType=SimpleNamespace(simpleString=lambda: "string"))


class FakeFrame:
    """What SparkSession.sql returns: no rows for a catalog query, one '' for any other."""

    def __init__(self, sql: str) -> None:
        statement = re.sub(r"^\s*(/\*.*?\*/\s*)*", "", sql, flags=re.DOTALL).lower()  # dbt's query comment
        catalog = statement.startswith(("show ", "describe ", "create ", "drop "))
        self.schema = SimpleNamespace(fields=[] if catalog else [Field("value")])
        self.rows = [] if catalog else [("",)]

    def collect(self) -> list[tuple]:
        return list(self.rows)

    def take(self, n: int) -> list[tuple]:
        return self.rows[:n]


class FakeSession:
    def sql(self, sql: str) -> FakeFrame:
        return FakeFrame(sql)


class FakeBuilder:
    def enableHiveSupport(self) -> FakeBuilder:  # noqa: N802 (pyspark's name)
        return self

    def config(self, *_args) -> FakeBuilder:
        return self

    def getOrCreate(self) -> FakeSession:  # noqa: N802 (pyspark's name)
        return FakeSession()


def main(target: str) -> int:
    session.SparkSession = SimpleNamespace(builder=FakeBuilder())
    result = dbtRunner().invoke(
        [
            "compile",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target",
            "spark",
            "--target-path",
            target,
            "--no-partial-parse",
            "--quiet",
            "--vars",
            orjson.dumps(
                {"hubwatch_home": "/nowhere", "creator_salt_path": "/nowhere/salt", "raw_locations": RAW_LOCATIONS}
            ).decode(),
        ]
    )
    if not result.success:
        print(f"dbt compile for Spark failed: {result.exception}", file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

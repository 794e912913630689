"""After `hubwatch build --engine spark`: the public tables Spark built, handed to DuckDB.

Spark writes its tables as Parquet under $HUBWATCH_HOME/spark/warehouse/<schema>.db/<table>/
(Hive partition folders for the incremental ones). Publish, `hubwatch sql` and the dashboards read
one DuckDB file, so the marts (and the rules seed publish reads) are copied into
$HUBWATCH_HOME/spark/public.duckdb: every declared column of each mart, in the declared order and
cast to the declared type (dbt-spark cannot enforce the marts' contracts: this is where a column
missing or of a type that does not cast fails the build), with dbt's descriptions as comments, as
dbt-duckdb's persist_docs leaves them. The file is written aside and renamed into place, so a
failed hand-over leaves the previous one whole. Plain Python: DuckDB reads the Parquet, no JVM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson

from ingest.files import sql_text
from ingest.home import warehouse_path

HANDED_OVER_SEEDS = ("rules_real_person_names",)  # publish reads it to redact names


class ExportError(RuntimeError):
    """The public tables could not be handed over; the message says why in one line."""


def spark_warehouse_dir(home: Path) -> Path:
    """Where Spark keeps its tables (spark.sql.warehouse.dir in dbt/profiles.yml)."""
    return home / "spark" / "warehouse"


def public_nodes(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The marts models and the seeds publish needs, from dbt's manifest.json."""
    nodes = [
        n
        for n in manifest["nodes"].values()
        if (n["resource_type"] == "model" and n["schema"] == "marts")
        or (n["resource_type"] == "seed" and n["name"] in HANDED_OVER_SEEDS)
    ]
    return sorted(nodes, key=lambda n: (n["schema"], n["alias"]))


def table_select(node: dict[str, Any], location: Path, con: duckdb.DuckDBPyConnection) -> str:
    """SELECT of one Spark table's rows as DuckDB declares them (every contract column, cast)."""
    files = sorted(location.rglob("*.parquet")) if location.is_dir() else []
    columns = node.get("columns") or {}
    declared = [(name, col.get("data_type")) for name, col in columns.items()]
    if not files:  # Spark writes no file for an empty table
        if not declared or any(kind is None for _, kind in declared):
            raise ExportError(f"{node['schema']}.{node['alias']} has no Parquet file under {location}")
        return "select " + ", ".join(f"cast(null as {kind}) as {name}" for name, kind in declared) + " where false"
    scan = f"read_parquet('{sql_text(str(location))}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
    present = {name for (name, *_) in con.sql(f"describe select * from {scan}").fetchall()}  # noqa: S608 (a path)
    if not declared:
        return f"select * from {scan}"  # noqa: S608 (a path)
    missing = [name for name, _ in declared if name not in present]
    if missing:
        raise ExportError(
            f"{node['schema']}.{node['alias']} as Spark built it lacks declared column(s) {', '.join(missing)}"
        )
    expressions = [f"cast({name} as {kind}) as {name}" if kind else name for name, kind in declared]
    return f"select {', '.join(expressions)} from {scan}"  # noqa: S608 (names from dbt's manifest)


def export_public_tables(home: Path, dbt_manifest: Path) -> Path:
    """Copy Spark's public tables into $HUBWATCH_HOME/spark/public.duckdb (replaced whole)."""
    manifest = orjson.loads(dbt_manifest.read_bytes())
    final = warehouse_path(home, "spark")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(tmp)) as con:
            con.execute("set TimeZone = 'UTC'")
            for node in public_nodes(manifest):
                schema, table = node["schema"], node["alias"]
                location = spark_warehouse_dir(home) / f"{schema}.db" / table
                con.execute(f"create schema if not exists {schema}")
                try:
                    con.execute(f"create table {schema}.{table} as {table_select(node, location, con)}")
                except duckdb.Error as error:
                    raise ExportError(f"{schema}.{table}: {str(error).splitlines()[0]}") from None
                con.execute(f"comment on table {schema}.{table} is '{sql_text(node.get('description') or '')}'")
                for name, column in (node.get("columns") or {}).items():
                    text = sql_text(column.get("description") or "")
                    con.execute(f"comment on column {schema}.{table}.{name} is '{text}'")
        tmp.rename(final)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return final

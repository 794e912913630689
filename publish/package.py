"""The dated, citable package: $HUBWATCH_HOME/publish/YYYY-MM-DD/.

Every public `marts` table as Parquet (zstd) and, except the two row-per-item histories, CSV; a
read-only DuckDB file holding them all;
manifest.json (row counts, schema, sha256 of every file, rules, snapshot range, kinds, tool
versions), SHA256SUMS, a Frictionless datapackage.json and CODEBOOK.md from the column
descriptions dbt wrote into the warehouse. Names of depicted people are left out unless
include_names: the `name` of a real-person model is nulled, a real-person Hugging Face repo id
becomes a salted hash (the same in every table, so joins still work), and tags that are
public figures' names are hashed too. Creator names never reach the warehouse's marts at all.

A publish is atomic: it is written to a staging folder and renamed; `latest` is re-pointed
after; an existing date is never replaced without force.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from ingest import __version__
from ingest.files import dumps, file_entry, replace_dir, sql_text, write_atomic
from ingest.home import ensure_creator_salt

PUBLIC_TABLES = (
    "model_snapshots",
    "models",
    "images",
    "nsfw_share_monthly",
    "nsfw_share_by_snapshot",
    "real_person_monthly",
    "tag_trends_monthly",
    "subculture_trends_monthly",
    "base_model_mix_monthly",
    "lifecycle_by_snapshot",
    "cross_platform_matches",
    "monthly_coverage",
    "snapshot_coverage",
    "rules_changelog",
    "build_info",
)
PARQUET_ONLY = ("images", "model_snapshots")
"""Row-per-item histories (one row per image; per model per day) get no CSV: on the large tier
they were 6.4 GB and 2.4 GB of CSV, far past a spreadsheet's row limit, and writing them took a
third of the publish. They are in the Parquet files and the DuckDB file like every table."""
FRICTIONLESS_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "datetime",
}


class PublishError(RuntimeError):
    """The package cannot be written; the message says why in one line."""


@dataclass(frozen=True)
class Published:
    path: Path
    manifest: dict[str, Any]


def redactions(include_names: bool) -> dict[str, str]:
    """SELECT expressions that replace columns holding depicted people's names.

    They read two session variables set before use: `salt` and `names` (the public-figure names,
    narrowed to those that occur in the table: a tag list is scanned only when it holds one).
    """
    if include_names:
        return {}

    def hashed(col: str) -> str:
        return f"'redacted:' || left(sha256(getvariable('salt') || {col}), 16)"

    is_name = "list_contains(getvariable('names'), {col})"
    return {
        "name": "case when real_person then null else name end",
        "model_id": (f"case when platform = 'huggingface' and real_person then {hashed('model_id')} else model_id end"),
        "tags": (
            "case when list_has_any(tags, getvariable('names')) then "
            f"list_transform(tags, lambda t: case when {is_name.format(col='t')} then {hashed('t')} else t end) "
            "else tags end"
        ),
        # cross_platform_matches: the repo of a real-person re-upload, and the matching file (often
        # named after the person)
        **{
            col: f"case when civitai_real_person then {hashed(col)} else {col} end"
            for col in ("hf_model_id", "civitai_file_name", "hf_file_name")
        },
        "tag": f"case when {is_name.format(col='tag')} then {hashed('tag')} else tag end",
    }


def table_select(con: duckdb.DuckDBPyConnection, table: str, replace: dict[str, str]) -> str:
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]
    expressions = [f"{replace[c]} as {c}" if c in replace else c for c in columns]
    return f"select {', '.join(expressions)} from marts.{table}"  # noqa: S608 (identifiers from the catalog)


def publish(
    home: Path, *, publish_date: date | None = None, force: bool = False, include_names: bool = False
) -> Published:
    warehouse = home / "warehouse.duckdb"
    if not warehouse.is_file():
        raise PublishError(f"no warehouse at {warehouse}: run `hubwatch build` first")
    day = publish_date or datetime.now(UTC).date()
    root = home / "publish"
    final = root / day.isoformat()
    if final.exists() and not force:
        raise PublishError(f"{final} is already published (use --force to replace it)")
    staging = root / f".staging-{day.isoformat()}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "data").mkdir(parents=True)
    salt = ensure_creator_salt(home).read_text().strip()
    try:
        manifest = _write_package(warehouse, staging, day, salt, include_names)
        replace_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point_latest(root, final)
    return Published(final, manifest)


def _write_package(warehouse: Path, staging: Path, day: date, salt: str, include_names: bool) -> dict[str, Any]:
    replace = redactions(include_names)
    database = staging / "hubwatch.duckdb"
    tables: dict[str, Any] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # months and timestamps in UTC whatever the machine's zone
        con.execute("set variable salt = ?", [salt])
        info = con.sql("select * from marts.build_info").fetchall()
        build = dict(zip([d[0] for d in con.sql("select * from marts.build_info").description], info[0], strict=True))
        kinds = [k for (k,) in con.sql("select distinct kind from marts.snapshot_coverage order by 1").fetchall()]
        docs = _column_docs(con)
        changelog = _changelog(con)
        # each table's SELECT (with its redactions) runs once, into the package's DuckDB file, read
        # straight from the warehouse; the Parquet and CSV files are then copied from that file
        con.execute(f"attach '{sql_text(str(database))}' as package (read_write)")
        for table in PUBLIC_TABLES:
            con.execute(_names_in(table) if _has_column(con, table, "tags") else _names_in(None))
            select = table_select(con, table, {k: v for k, v in replace.items() if _has_column(con, table, k)})
            con.execute(f"create table package.{table} as {select}")  # noqa: S608 (identifiers from the catalog)
            tables[table] = _describe(con, table, docs.get(table, {}))
        con.execute("detach package")
    database.chmod(0o444)
    # every file is hashed (in a thread, once) while DuckDB writes the next
    with duckdb.connect(str(database), read_only=True) as con, ThreadPoolExecutor(max_workers=1) as pool:
        con.execute("set TimeZone = 'UTC'")
        hashing = {database.name: pool.submit(file_entry, database)}
        for table in PUBLIC_TABLES:
            base = staging / "data" / table
            quoted = sql_text(str(base))  # the home's path may hold a quote
            con.execute(f"copy {table} to '{quoted}.parquet' (format parquet, compression zstd)")
            hashing[f"data/{table}.parquet"] = pool.submit(file_entry, base.with_suffix(".parquet"))
            if f"data/{table}.csv" in tables[table]["files"]:
                con.execute(
                    f"copy ({csv_select(table, tables[table]['schema'])}) to '{quoted}.csv' (format csv, header true)"
                )
                hashing[f"data/{table}.csv"] = pool.submit(file_entry, base.with_suffix(".csv"))
        hashed = {name: entry.result() for name, entry in hashing.items()}
    simulated = "simulated" in kinds
    manifest = {
        "title": f"hubwatch snapshot package {day.isoformat()}",
        "publish_date": day.isoformat(),
        "published_at": datetime.now(UTC).isoformat(),
        "rules_version": build["rules_version"],
        "snapshot_range": [str(build["first_snapshot"]), str(build["last_snapshot"])],
        "kinds": kinds,
        "simulated": simulated,
        "names_included": include_names,
        "tools": {
            "hubwatch": __version__,
            "dbt": build["dbt_version"],
            "duckdb": build["duckdb_version"],
        },
        "tables": tables,
    }
    write_atomic(staging / "CODEBOOK.md", codebook(manifest, changelog).encode())
    write_atomic(staging / "datapackage.json", dumps(datapackage(manifest, hashed)))
    files = {}  # every file in the package; the data files and the database were hashed above
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            name = path.relative_to(staging).as_posix()
            files[name] = hashed.get(name) or file_entry(path)
    manifest["files"] = files
    sums = "".join(f"{entry['sha256']}  {name}\n" for name, entry in files.items())
    write_atomic(staging / "SHA256SUMS", sums.encode())
    write_atomic(staging / "manifest.json", dumps(manifest))
    return manifest


def _names_in(table: str | None) -> str:
    """Sets `names`: the public-figure names found among the table's tags (all of them if None)."""
    names = "select name from rules.rules_real_person_names"
    if table is not None:
        names = f"select distinct tag from (select unnest(tags) as tag from marts.{table}) where tag in ({names})"
    return f"set variable names = (select coalesce(list(name), []::varchar[]) from ({names}) as found(name))"


def _changelog(con) -> list[dict[str, Any]]:
    """The rules changelog, oldest first (none in a warehouse built before it existed)."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'marts' and table_name = 'rules_changelog'"
    ).fetchall():
        return []
    cursor = con.execute("select * from marts.rules_changelog order by changed_on, rules_version, measure")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_column(con, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_columns() where schema_name = 'marts' and table_name = ? and column_name = ?",
            [table, column],
        ).fetchall()
    )


def _column_docs(con) -> dict[str, dict[str, str]]:
    """Descriptions dbt persisted as DuckDB comments: table -> column ('' for the table) -> text."""
    docs: dict[str, dict[str, str]] = {}
    for table, comment in con.sql(
        "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
    ).fetchall():
        docs.setdefault(table, {})[""] = comment or ""
    for table, column, comment in con.sql(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
    ).fetchall():
        docs.setdefault(table, {})[column] = comment or ""
    return docs


def _describe(con, table: str, docs: dict[str, str]) -> dict[str, Any]:
    """Row count, schema and files of a table in the attached package; its descriptions are stored
    on it too."""
    qualified = f"package.{table}"
    schema = [
        {"name": name, "type": kind, "description": docs.get(name, "")}
        for name, kind, *_ in con.sql(f"describe {qualified}").fetchall()  # noqa: S608
    ]
    con.execute(f"comment on table {qualified} is '{sql_text(docs.get('', ''))}'")
    for column in schema:
        con.execute(f"comment on column {qualified}.{column['name']} is '{sql_text(column['description'])}'")
    return {
        "rows": con.sql(f"select count(*) from {qualified}").fetchall()[0][0],  # noqa: S608
        "description": docs.get("", ""),
        "files": [f"data/{table}.parquet"] + ([] if table in PARQUET_ONLY else [f"data/{table}.csv"]),
        "schema": schema,
    }


def csv_select(table: str, schema: list[dict[str, Any]]) -> str:
    """The table with its UTC timestamps pre-printed: DuckDB prints a TIMESTAMPTZ through ICU, about
    four times slower than a plain TIMESTAMP; the text is the same ('2025-05-22 10:00:00+00')."""
    columns = [
        f"make_timestamp(epoch_us({c['name']}))::varchar || '+00' as {c['name']}"
        if c["type"] == "TIMESTAMP WITH TIME ZONE"
        else c["name"]
        for c in schema
    ]
    return f"select {', '.join(columns)} from {table}"  # noqa: S608 (identifiers from the catalog)


def datapackage(manifest: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A Frictionless Data Package describing the CSV files (Parquet files sit beside them; the
    tables without a CSV, PARQUET_ONLY, are named in its description)."""
    resources = []
    for table, meta in manifest["tables"].items():
        if f"data/{table}.csv" not in meta["files"]:
            continue
        csv_file = files[f"data/{table}.csv"]
        resources.append(
            {
                "name": table,
                "path": f"data/{table}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": meta["description"],
                "hash": f"sha256:{csv_file['sha256']}",
                "bytes": csv_file["bytes"],
                "schema": {
                    "fields": [
                        {
                            "name": c["name"],
                            "type": FRICTIONLESS_TYPES.get(c["type"], "string"),
                            **({"format": "any"} if FRICTIONLESS_TYPES.get(c["type"]) in ("datetime", "date") else {}),
                            "description": c["description"],
                        }
                        for c in meta["schema"]
                    ]
                },
            }
        )
    return {
        "name": f"hubwatch-{manifest['publish_date']}",
        "title": manifest["title"] + (" (SIMULATED DATA)" if manifest["simulated"] else ""),
        "description": "Model-hub metadata measures: NSFW share, real-person models, subcultures, lifecycle. "
        f"The row-per-item tables {' and '.join(PARQUET_ONLY)} are in data/*.parquet and hubwatch.duckdb only.",
        "version": manifest["publish_date"],
        "created": manifest["published_at"],
        "keywords": ["civitai", "hugging face", "deepfake", "nsfw", "model hubs"],
        "resources": resources,
    }


def codebook(manifest: dict[str, Any], changelog: list[dict[str, Any]] | None = None) -> str:
    """CODEBOOK.md: every table and column, in the words dbt documents them with, and what changed
    in the rules between rule sets (the rules_changelog table's rows)."""
    lines = [
        f"# hubwatch codebook — package {manifest['publish_date']}",
        "",
        f"Rule set `{manifest['rules_version']}`; snapshots {manifest['snapshot_range'][0]} to "
        f"{manifest['snapshot_range'][1]}; kinds: {', '.join(manifest['kinds'])}.",
    ]
    if manifest["simulated"]:
        lines += [
            "",
            "**SIMULATED DATA**: some snapshots come from hubwatch's simulator, not from a real hub.",
        ]
    lines += [
        "",
        "Creator names appear only as salted hashes. Names of depicted people are "
        + (
            "included in this package."
            if manifest["names_included"]
            else "left out: real-person models' names are empty; their Hugging Face repo ids, the names of "
            "their matching files, and any tag that is a public figure's name, are salted hashes."
        ),
        "",
        "Verify the files with `sha256sum -c SHA256SUMS`. Cite as: hubwatch snapshot package "
        f"{manifest['publish_date']} (rules {manifest['rules_version']}).",
    ]
    if changelog:
        lines += [
            "",
            "## Rules changelog",
            "",
            "| rules | since | measure | change | reason |",
            "|---|---|---|---|---|",
        ]
        lines += [
            "| "
            + " | ".join(
                str(row[k]).replace("|", "/") for k in ("rules_version", "changed_on", "measure", "change", "reason")
            )
            + " |"
            for row in changelog
        ]
    for table, meta in manifest["tables"].items():
        lines += [
            "",
            f"## {table}",
            "",
            meta["description"],
            "",
            f"{meta['rows']} rows. Files: {', '.join(f'`{name}`' for name in meta['files'])} and table `{table}` in "
            "`hubwatch.duckdb`.",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c['name']} | {c['type']} | {' '.join(c['description'].split()).replace('|', '/')} |"
            for c in meta["schema"]
        ]
    return "\n".join(lines) + "\n"


def _point_latest(root: Path, final: Path) -> None:
    """publish/latest -> the newest dated package (a relative symlink, swapped atomically)."""
    newest = max(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "latest")
    tmp = root / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(newest)
    tmp.replace(root / "latest")


def verify_package(path: Path) -> list[str]:
    """Files whose sha256 differs from the manifest (empty when the package is intact)."""
    manifest = orjson.loads((path / "manifest.json").read_bytes())
    return [name for name, entry in manifest["files"].items() if file_entry(path / name)["sha256"] != entry["sha256"]]

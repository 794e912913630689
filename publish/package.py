"""The dated, citable package: $HUBWATCH_HOME/publish/YYYY-MM-DD/.

Every public `marts` table as Parquet (zstd) and, except the two row-per-item histories, CSV; a
read-only DuckDB file holding them all; a Frictionless datapackage.json and CODEBOOK.md from the
column descriptions dbt wrote into the warehouse; the dashboards (dashboards/); manifest.json
(row counts, schema, sha256 of every file but itself, SHA256SUMS, CITATION.cff and citation.js;
the build record and the input snapshots with their manifest sha256, withdrawn snapshots, rules,
tool versions); then CITATION.cff and citation.js holding the manifest's sha256 (the citation
id); SHA256SUMS last, listing every file but itself. Names of depicted people are left out
unless include_names: the `name` of a real-person model is nulled, a real-person Hugging Face
repo id becomes a salted hash (the same in every table, so joins still work), and tags that are
public figures' names are hashed too. Creator names never reach the warehouse's marts at all.

Only a build that succeeded over every complete snapshot in raw/ is published (publish/build.py).
A publish is one atomic step: the whole package, site included, is written and checksummed in
publish/.staging-*, moved into place in one rename (an existing date, only with force, is
swapped in one step), then `latest` is re-pointed by renaming a new symlink over it: a kill or
a full disk at any instant leaves the previous state or the new one. A dated package is never
modified in place: re-rendering its site (`hubwatch dashboards --force`) makes a new package that
replaces it, and says so in its manifest. The next publish cleans what a stopped one left.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from ingest import __version__
from ingest.files import dumps, file_entry, fsync_tree, replace_dir, sha256_file, sql_text, write_atomic
from ingest.home import ensure_creator_salt, warehouse_path, withdrawal_files
from publish import citation
from publish.build import PublishError, build_reference, last_snapshot, usable_build

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
    "image_feed_delay",
    "rules_changelog",
    "build_info",
    "policy_events",
    # creators (salted hashes and aggregates only), engagement, the SD 1.5 lineage, the studies (#21)
    "creators",
    "creator_monthly",
    "creator_concentration_monthly",
    "engagement_monthly",
    "real_person_downloads_by_snapshot",
    "sd15_lineage_monthly",
    "sd15_lineage_by_snapshot",
    "study_comparisons",
    # what images are made with, and prompt vocabulary as counts only (#21)
    "image_resources",
    "images_made_with_monthly",
    "images_by_base_model_family_monthly",
    "top_models_by_images_monthly",
    "prompt_families_monthly",
    "minor_terms_nsfw_monthly",
)
PARQUET_ONLY = ("images", "model_snapshots", "image_resources")
"""Row-per-item histories (one row per image; per model per day) get no CSV: on the large tier
they were 6.4 GB and 2.4 GB of CSV, far past a spreadsheet's row limit, and writing them took a
third of the publish. They are in the Parquet files and the DuckDB file like every table."""
# columns a public table keeps in the warehouse for the builds' own bookkeeping (when a build wrote
# the row: what a later build compares with), not data and different on every build and engine; no
# package carries them
WAREHOUSE_ONLY_COLUMNS = {"image_resources": ("loaded_at",)}
FRICTIONLESS_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "datetime",
}
SEALS = ("manifest.json", "CITATION.cff", "citation.js", "SHA256SUMS")
"""Written after the manifest, so it covers every other file; SHA256SUMS covers these too."""
DATED = re.compile(r"\d{4}-\d{2}-\d{2}")
WITHDRAWAL_FIELDS = ("source", "snapshot_date", "reason", "withdrawn_at", "manifest_sha256")


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


def marts_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every marts table's columns, in order, from one read of the catalogue (a query of it per
    table and column was a fifth of a publish)."""
    columns: dict[str, list[str]] = {}
    for table, column in con.sql(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts' "
        "order by table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append(column)
    return columns


def table_select(table: str, columns: list[str], replace: dict[str, str]) -> str:
    """The table's SELECT (columns: its own, from marts_columns) with the redacting expressions in
    place of the columns they replace."""
    if not columns:
        raise PublishError(f"the warehouse has no table marts.{table}: its build predates it; run `hubwatch build`")
    expressions = [f"{replace[c]} as {c}" if c in replace else c for c in columns]
    return f"select {', '.join(expressions)} from marts.{table}"  # noqa: S608 (identifiers from the catalog)


def publish(
    home: Path, *, publish_date: date | None = None, force: bool = False, include_names: bool = False
) -> Published:
    """Write publish/<date>/ from the last build, if it succeeded over every complete snapshot in
    raw/; the date defaults to the build's last snapshot and may be neither later nor in the future."""
    root = home / "publish"
    with publishing(root):
        record = usable_build(home)
        engine = record.get("engine") or "duckdb"  # whichever engine built last: its public tables
        warehouse = warehouse_path(home, engine)
        if not warehouse.is_file():
            raise PublishError(f"no warehouse at {warehouse}: run `hubwatch build` first")
        day = package_date(publish_date, record)
        final = root / day.isoformat()
        replaces = replaced(final, force, "hubwatch publish --force")
        salt = ensure_creator_salt(home).read_text().strip()

        def fill(staging: Path) -> tuple[dict[str, Any], dict[str, Any]]:
            manifest, hashed = _write_tables(warehouse, staging, day, salt, include_names, record)
            manifest.update(
                build=build_reference(home, record),
                inputs=record["inputs"],
                withdrawn=withdrawn_snapshots(home),
                replaces=replaces,
            )
            write_atomic(staging / "CODEBOOK.md", codebook(manifest).encode())
            write_atomic(staging / "datapackage.json", dumps(datapackage(manifest, hashed)))
            return manifest, hashed

        manifest = stage_and_move(root, final, fill)
    return Published(final, manifest)


def rerender(home: Path, *, publish_date: date | None = None, force: bool = False) -> Published:
    """Render the site of a published package again (default: latest) as a new package of the same
    date that replaces it, only with force (recorded in its manifest): a dated package is never
    modified in place. Its data files are hard links to the old package's (never written to)."""
    root = home / "publish"
    with publishing(root):
        source = root / publish_date.isoformat() if publish_date else latest_package(root)
        if source is None or not (source / "manifest.json").is_file():
            raise PublishError(f"no published package at {source or root / 'latest'}: run `hubwatch publish` first")
        final = root / source.name
        if not force:
            raise PublishError(
                f"{final} is published and never modified in place: `hubwatch dashboards --force` renders its "
                "site into a new package that replaces it (recorded in its manifest)"
            )
        replaces = replaced(final, force, "hubwatch dashboards --force")
        old = orjson.loads((final / "manifest.json").read_bytes())

        def fill(staging: Path) -> tuple[dict[str, Any], dict[str, Any]]:
            hashed = {}
            for name, entry in old["files"].items():
                if name.startswith("dashboards/"):
                    continue
                if not (final / name).is_file() or sha256_file(final / name) != entry["sha256"]:
                    raise PublishError(f"{final / name} does not match its manifest: the package is not re-rendered")
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                os.link(final / name, staging / name)
                hashed[name] = entry
            manifest = {k: v for k, v in old.items() if k != "files"}
            manifest.update(published_at=datetime.now(UTC).isoformat(), replaces=replaces)
            return manifest, hashed

        manifest = stage_and_move(root, final, fill)
    return Published(final, manifest)


def package_date(requested: date | None, record: dict[str, Any]) -> date:
    """A package is dated by its data: by default the build's last snapshot; never after it, and
    never in the future (such a package would hold `latest` for ever)."""
    today, last = datetime.now(UTC).date(), last_snapshot(record)
    day = requested or min(last, today)
    if day > today:
        raise PublishError(f"--date {day} is in the future (today is {today}, UTC): a package is dated by its data")
    if day > last:
        raise PublishError(
            f"--date {day} is after the last snapshot the build read ({last}): a package is dated by its data"
        )
    return day


def replaced(final: Path, force: bool, how: str) -> dict[str, Any] | None:
    """What a forced publish replaces (the old manifest's sha256, recorded in the new manifest);
    without force a published date is refused."""
    if not final.exists():
        return None
    if not force:
        raise PublishError(
            f"{final} is already published and never modified in place (use --force to replace it with a new package)"
        )
    old = final / "manifest.json"
    return {"manifest_sha256": sha256_file(old) if old.is_file() else None, "by": how}


def withdrawn_snapshots(home: Path) -> list[dict[str, Any]]:
    """Every snapshot withdrawn from raw/ (withdrawn/*/*/withdrawal.json), for the manifest."""
    withdrawn = []
    for path in withdrawal_files(home):
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            raise PublishError(f"{path} is not valid JSON: fix or remove that withdrawal record") from None
        withdrawn.append({k: data.get(k) for k in WITHDRAWAL_FIELDS})
    return withdrawn


Fill = Callable[[Path], tuple[dict[str, Any], dict[str, Any]]]


def render_site(staging: Path, manifest: dict[str, Any]) -> Path:
    """The package's dashboards (dashboards.site). Imported here, when a package is published:
    every process that loads the Dagster definitions imports this module, and a build does not
    need Plotly and the pages (about 0.9 s of imports on a loaded machine)."""
    from dashboards.site import render_site as render

    return render(staging, manifest)


def stage_and_move(root: Path, final: Path, fill: Fill) -> dict[str, Any]:
    """The whole package in publish/.staging-*: data (fill), site, manifest, citation files and
    SHA256SUMS, flushed to disk; then moved into place in one step and `latest` re-pointed."""
    staging = root / f".staging-{final.name}-{os.getpid()}"
    staging.mkdir(parents=True)
    try:
        manifest, hashed = fill(staging)
        render_site(staging, manifest)  # inside the package, before anything is checksummed
        manifest = seal(staging, manifest, hashed)
        fsync_tree(staging)
        move_into_place(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after a swap it holds the replaced package
    point_latest(root)
    return manifest


def seal(staging: Path, manifest: dict[str, Any], hashed: dict[str, Any]) -> dict[str, Any]:
    """manifest.json over every file but the seals, then CITATION.cff and citation.js (holding the
    manifest's sha256), then SHA256SUMS over every file but itself."""
    manifest["files"] = {
        name: hashed.get(name) or file_entry(staging / name) for name in package_files(staging) if name not in SEALS
    }
    write_atomic(staging / "manifest.json", dumps(manifest))
    manifest_sha256 = sha256_file(staging / "manifest.json")
    cff = citation.citation_cff(manifest["citation"], manifest_sha256, manifest["tools"]["publisher"]["hubwatch"])
    write_atomic(staging / "CITATION.cff", cff.encode())
    write_atomic(staging / "citation.js", citation_js(manifest, manifest_sha256).encode())
    sums = {**{n: e["sha256"] for n, e in manifest["files"].items()}}
    for name in SEALS[:-1]:
        sums[name] = sha256_file(staging / name)
    write_atomic(staging / "SHA256SUMS", "".join(f"{sha}  {name}\n" for name, sha in sorted(sums.items())).encode())
    return manifest


def package_files(folder: Path) -> list[str]:
    """Every file of a package, as relative POSIX names, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def citation_fields(manifest: dict[str, Any], manifest_sha256: str) -> dict[str, Any]:
    """What citing this package takes (citation.js, for the site): its title and date, rules,
    licence, whether simulated, and the manifest's sha256, which names every file's bytes."""
    cited = manifest["citation"]
    return {
        "title": cited["title"],
        "publish_date": manifest["publish_date"],
        "rules_version": manifest["rules_version"],
        "snapshot_range": manifest["snapshot_range"],
        "manifest_sha256": manifest_sha256,
        "simulated": manifest["simulated"],
        "licenses": [licence["name"] for licence in cited["licenses"]],
        "text": citation.citation_text(cited, manifest_sha256),
        **({"homepage": cited["homepage"]} if cited.get("homepage") else {}),
    }


def citation_js(manifest: dict[str, Any], manifest_sha256: str) -> str:
    """For the static site's "cite this package" block, offline (`<script src="../citation.js">`)."""
    data = orjson.dumps(citation_fields(manifest, manifest_sha256), option=orjson.OPT_SORT_KEYS).decode()
    return "window.hubwatchCitation = " + data.replace("<", "\\u003c") + ";\n"


def move_into_place(staging: Path, final: Path) -> None:
    """A new date: one rename. A replaced date: the two folders swapped in one step where the
    system can (else two renames; an interrupted pair is rolled back by the next publish)."""
    replace_dir(staging, final)


def latest_package(root: Path) -> Path | None:
    """The newest complete package by date, never one dated in the future (`latest` points here)."""
    today = datetime.now(UTC).date().isoformat()
    dated = [
        p
        for p in root.iterdir()
        if DATED.fullmatch(p.name)
        and p.name <= today
        and p.is_dir()
        and not p.is_symlink()
        and (p / "manifest.json").is_file()
        and (p / "SHA256SUMS").is_file()
    ]
    return max(dated, key=lambda p: p.name) if dated else None


def point_latest(root: Path) -> None:
    """publish/latest -> the newest complete package (a relative symlink, swapped by one rename)."""
    newest = latest_package(root)
    link = root / "latest"
    if newest is None or (link.is_symlink() and os.readlink(link) == newest.name):
        return
    tmp = root / f".latest-{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(newest.name)
    tmp.replace(link)


@contextmanager
def publishing(root: Path) -> Iterator[None]:
    """One publish at a time (a lock in publish/), starting from a clean folder: what a stopped
    publish left is removed or rolled back, and `latest` repaired."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(f"another publish is running in {root}") from None
        try:
            clean_orphans(root)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def clean_orphans(root: Path) -> None:
    """Remove staging folders and temporary links of stopped publishes; put back a package whose
    replacement was interrupted between two renames; remove a legacy site staging folder left
    inside a package; re-point `latest` at the newest complete package."""
    for staging in root.glob(".staging-*"):
        shutil.rmtree(staging, ignore_errors=True)
    for tmp in [*root.glob(".latest-*.tmp"), root / ".latest.tmp"]:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
    for aside in root.glob(".replaced-*"):
        final = root / aside.name.removeprefix(".replaced-")
        if final.exists():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.rename(final)
    for leftover in root.glob("*/.dashboards-staging"):
        shutil.rmtree(leftover, ignore_errors=True)
    point_latest(root)


def _write_tables(
    warehouse: Path, staging: Path, day: date, salt: str, include_names: bool, record: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data: the package's DuckDB file straight from the warehouse, Parquet and CSV copied from
    it; returns the manifest so far and the files hashed on the way."""
    from dashboards.simulated import simulated_statement  # here: loading the definitions imports no dashboards/

    replace = redactions(include_names)
    database = staging / "hubwatch.duckdb"
    (staging / "data").mkdir()
    tables: dict[str, Any] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # months and timestamps in UTC whatever the machine's zone
        con.execute("set variable salt = ?", [salt])
        missing_tables(con)
        build = build_info(con, record)
        coverage = con.sql("select source, snapshot_date, kind from marts.snapshot_coverage").fetchall()
        kinds = sorted({kind for _source, _day, kind in coverage})
        docs = _column_docs(con)
        read = citation.snapshot_sources(con)
        cited = citation.package_citation(
            day, build["rules_version"], "simulated" in kinds, read, citation.CitationConfig.from_env()
        )
        changelog = _changelog(con)
        # each table's SELECT (with its redactions) runs once, into the package's DuckDB file, read
        # straight from the warehouse; the Parquet and CSV files are then copied from that file
        con.execute(f"attach '{sql_text(str(database))}' as package (read_write)")
        columns = marts_columns(con)
        con.execute("begin")  # one transaction: the tables, their comments, then one commit
        for table in PUBLIC_TABLES:
            present = [c for c in columns.get(table, []) if c not in WAREHOUSE_ONLY_COLUMNS.get(table, ())]
            con.execute(_names_in(table) if "tags" in present else _names_in(None))
            select = table_select(table, present, {k: v for k, v in replace.items() if k in present})
            con.execute(f"create table package.{table} as {select}")  # noqa: S608 (identifiers from the catalog)
            tables[table] = _describe(con, table, docs.get(table, {}))
        con.execute("commit")
        con.execute("detach package")
    database.chmod(0o444)
    # every file is hashed (in a thread, once) while DuckDB writes the next
    with duckdb.connect(str(database), read_only=True) as con, ThreadPoolExecutor(max_workers=1) as pool:
        con.execute("set TimeZone = 'UTC'")
        hashing = {database.name: pool.submit(file_entry, database)}
        for table in PUBLIC_TABLES:
            base = staging / "data" / table
            quoted = sql_text(str(base))  # the home's path may hold a quote
            marks = citation.kv_metadata_sql(citation.file_metadata(cited, table))  # kept by a file passed on alone
            con.execute(f"copy {table} to '{quoted}.parquet' (format parquet, compression zstd, kv_metadata {marks})")
            hashing[f"data/{table}.parquet"] = pool.submit(file_entry, base.with_suffix(".parquet"))
            if f"data/{table}.csv" in tables[table]["files"]:
                con.execute(
                    f"copy ({csv_select(table, tables[table]['schema'])}) to '{quoted}.csv' (format csv, header true)"
                )
                hashing[f"data/{table}.csv"] = pool.submit(file_entry, base.with_suffix(".csv"))
                write_atomic(
                    base.parent / f"{table}.csv.meta.json", citation.sidecar_bytes(citation.csv_sidecar(cited, table))
                )
        hashed = {name: entry.result() for name, entry in hashing.items()}
    manifest = {
        "title": cited["title"],  # "(SIMULATED DATA)" when it is
        "publish_date": day.isoformat(),
        "published_at": datetime.now(UTC).isoformat(),
        "rules_version": build["rules_version"],
        "snapshot_range": [str(build["first_snapshot"]), str(build["last_snapshot"])],
        "kinds": kinds,
        "simulated": "simulated" in kinds,
        "simulated_snapshots": simulated_statement(coverage, "simulated" in kinds),
        "names_included": include_names,
        "tools": {
            "hubwatch": build["hubwatch_version"],
            "dbt": build["dbt_version"],
            "duckdb": build["duckdb_version"],
            # the engine that built the tables (build_info of a warehouse from before engines: DuckDB)
            "engine": {"name": build.get("engine") or "duckdb", "version": build.get("engine_version")},
            "publisher": {"hubwatch": __version__, "duckdb": duckdb.__version__, "python": platform.python_version()},
        },
        "tables": tables,
        "rules_changelog": changelog,
        "citation": cited,
    }
    return manifest, hashed


def missing_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every public table must be in the warehouse (one that was never built is refused in one line,
    instead of a query over a table that is not there)."""
    present = {t for (t,) in con.sql("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
    missing = [t for t in PUBLIC_TABLES if t not in present]
    if missing:
        raise PublishError(
            f"the warehouse has no table marts.{missing[0]}"
            + (f" (nor {len(missing) - 1} other public tables)" if len(missing) > 1 else "")
            + ": it was never built; run `hubwatch build`"
        )


def build_info(con: duckdb.DuckDBPyConnection, record: dict[str, Any]) -> dict[str, Any]:
    """marts.build_info, which must have been written by the dbt invocation the record names (else
    the warehouse is not what the build record says, e.g. dbt was run by hand since)."""
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = 'build_info'"
        ).fetchall()
    ]
    if "dbt_invocation_id" not in columns:
        raise PublishError(
            "the warehouse's build_info names no dbt invocation (built by an older hubwatch): run `hubwatch build`"
        )
    rows = con.sql("select * from marts.build_info").fetchall()
    if len(rows) != 1:
        raise PublishError(f"marts.build_info holds {len(rows)} rows instead of one: run `hubwatch build`")
    info = dict(zip([d[0] for d in con.sql("select * from marts.build_info").description], rows[0], strict=True))
    if info["dbt_invocation_id"] != record.get("dbt_invocation_id"):
        raise PublishError(
            f"the warehouse was written by dbt invocation {info['dbt_invocation_id']}, not by the last recorded "
            f"build (run {record['run_id']}, invocation {record.get('dbt_invocation_id')}): run `hubwatch build`"
        )
    return info


def _names_in(table: str | None) -> str:
    """Sets `names`: the public-figure names found among the table's tags (all of them if None)."""
    names = "select name from rules.rules_real_person_names"
    if table is not None:
        names = f"select distinct tag from (select unnest(tags) as tag from marts.{table}) where tag in ({names})"  # noqa: S608 (a name from PUBLIC_TABLES)
    return f"set variable names = (select coalesce(list(name), []::varchar[]) from ({names}) as found(name))"  # noqa: S608 (built above)


def _changelog(con) -> list[dict[str, Any]]:
    """The rules changelog, oldest first (none in a warehouse built before it existed)."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'marts' and table_name = 'rules_changelog'"
    ).fetchall():
        return []
    cursor = con.execute("select * from marts.rules_changelog order by changed_on, rules_version, measure")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
        for name, kind, *_ in con.sql(f"describe {qualified}").fetchall()  # noqa: S608 (a name from PUBLIC_TABLES)
    ]
    comments = [f"comment on table {qualified} is '{sql_text(docs.get('', ''))}'"] + [
        f"comment on column {qualified}.{column['name']} is '{sql_text(column['description'])}'" for column in schema
    ]
    con.execute(";\n".join(comments))  # one call: a statement per column was a tenth of a publish
    return {
        "rows": con.sql(f"select count(*) from {qualified}").fetchall()[0][0],  # noqa: S608 (a name from PUBLIC_TABLES)
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
        "title": manifest["title"],
        "description": "Model-hub metadata measures: NSFW share, real-person models, subcultures, lifecycle. "
        f"The row-per-item tables {' and '.join(PARQUET_ONLY)} are in data/*.parquet and hubwatch.duckdb only.",
        "version": manifest["publish_date"],
        "created": manifest["published_at"],
        **citation.datapackage_fields(manifest["citation"]),
        "resources": resources,
    }


def codebook(manifest: dict[str, Any]) -> str:
    """CODEBOOK.md: every table and column, in the words dbt documents them with, and what changed
    in the rules between rule sets (the rules_changelog table's rows)."""
    lines = [
        f"# hubwatch codebook — package {manifest['publish_date']}",
        "",
        f"Rule set `{manifest['rules_version']}`; snapshots {manifest['snapshot_range'][0]} to "
        f"{manifest['snapshot_range'][1]}; kinds: {', '.join(manifest['kinds'])}.",
    ]
    if manifest["simulated"]:
        lines += ["", f"**SIMULATED DATA**: {manifest['simulated_snapshots']}."]
    lines += [
        "",
        "Civitai creators' names appear only as salted hashes (`creator_hash`). A Hugging Face model's id is "
        "its public address on the hub, `owner/name`, so it names the account that owns it. Names of depicted "
        "people are "
        + (
            "included in this package."
            if manifest["names_included"]
            else "left out: real-person models' names are empty; their Hugging Face repo ids, the names of "
            "their matching files, and any tag that is a public figure's name, are salted hashes."
        ),
        "",
        f"Verify the files with `sha256sum -c SHA256SUMS`. Cite as: {manifest['title']} (rules "
        f"{manifest['rules_version']}), with the manifest sha256 given in CITATION.cff. Licence of these tables: "
        f"{', '.join(x['name'] for x in manifest['citation']['licenses'])}; "
        "the hubs' own terms are named in datapackage.json (`sources`). Each Parquet file carries the package "
        "date, rule set and simulated flag in its key-value metadata, each CSV in `<table>.csv.meta.json`.",
    ]
    changelog = manifest.get("rules_changelog") or []
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

"""`hubwatch sql`: read-only queries of a published package, in a sealed DuckDB session.

Two locks, each enough on its own for what it covers:
- the statements are checked before any runs: only the kinds that cannot write are let through
  (SELECT and its forms, EXPLAIN [ANALYZE] of one, informational PRAGMA and CALL); one refused
  statement refuses the whole input, so nothing is half-run or silently dropped;
- the session is sealed: the package's database opened read-only, external access off (no file
  outside it, no URL, no ATTACH, COPY or EXPORT), extensions neither installed nor loaded, and
  the configuration locked so no statement can undo any of it. Only the one output file hubwatch
  itself writes (--csv/--json/--parquet) is allowed, and only hubwatch's own COPY names it.

Importing this module must stay cheap (no Dagster, dbt or Polars): `hubwatch sql` starts in well
under a second.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb
import orjson

from ingest.files import sha256_file, sql_text

DATABASE = "hubwatch.duckdb"
RESULT = "hubwatch_result"  # the name hubwatch's own COPY reads a result by
# PRAGMAs (and CALLs of their table functions) that only describe the database
READ_PRAGMAS = frozenset(
    {
        "collations",
        "database_list",
        "database_size",
        "functions",
        "metadata_info",
        "platform",
        "show",
        "show_databases",
        "show_tables",
        "show_tables_expanded",
        "storage_info",
        "table_info",
        "user_agent",
        "version",
    }
)
READ_FUNCTION_PREFIXES = ("duckdb_", "pragma_")
FORMATS = ("table", "csv", "json", "parquet")
_COMMENT_OR_SPACE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
_EXPLAIN = re.compile(r"explain\b(?:\s+analy[sz]e\b)?\s*(?:\([^()]*\))?", re.I)
_NAME_AFTER = re.compile(r"(pragma|call)\s+([a-z_][a-z0-9_]*)\s*(?:[(=;]|$)", re.I)


class QueryError(RuntimeError):
    """The query cannot run; the message is DuckDB's own (hints included) or says why."""


@dataclass(frozen=True)
class Package:
    """A published package to read: its DuckDB file and, when it is a package folder, the folder."""

    database: Path
    folder: Path | None

    @property
    def manifest(self) -> dict:
        path = self.folder / "manifest.json" if self.folder else None
        return orjson.loads(path.read_bytes()) if path and path.is_file() else {}

    def citation(self) -> dict[str, str]:
        """What a result taken from this package should carry: its date, rules, simulated flag and
        the sha256 of its manifest (the package's citation id)."""
        manifest = self.manifest
        folder_manifest = self.folder / "manifest.json" if self.folder else None
        simulated = " (SIMULATED DATA)" if manifest.get("simulated") else ""
        cited = {
            "source": f"hubwatch snapshot package {manifest.get('publish_date', self.database.name)}{simulated}",
            "publish_date": str(manifest.get("publish_date", "")),
            "rules_version": str(manifest.get("rules_version", "")),
            "simulated": str(manifest.get("simulated", "")).lower(),
        }
        if folder_manifest and folder_manifest.is_file():
            cited["manifest_sha256"] = sha256_file(folder_manifest)
        return {k: v for k, v in cited.items() if v}


def simulated_note(package: Package) -> str | None:
    """What a result of this package must be followed by when it is simulated (None when it is not):
    the manifest's statement of which snapshots are; for a DuckDB file outside a package folder, its
    own snapshot_coverage table's. A manifest that cannot be read is said too (the result stands)."""
    from dashboards.simulated import simulated_statement  # plain Python: `hubwatch sql` stays light

    try:
        manifest = package.manifest
    except (OSError, ValueError) as error:
        return f"package {package.folder}: its manifest.json cannot be read ({error}); check it with `hubwatch verify`"
    if package.folder is None:
        with sealed(package.database) as con:
            try:
                rows = con.sql("select source, snapshot_date, kind from snapshot_coverage").fetchall()
            except duckdb.Error:  # not a package's file: nothing says it is simulated
                rows = []
        which = simulated_statement(rows, False)
    else:
        which = (
            (manifest.get("simulated_snapshots") or simulated_statement((), True))
            if manifest.get("simulated")
            else None
        )
    name = manifest.get("publish_date") or (package.folder or package.database).name
    return f"package {name} is SIMULATED DATA: {which}" if which else None


def package_path(text: str, home: Path) -> Path:
    """A package as a user names it: a path that exists, else a date (or `latest`) published under
    the home's publish/, else the path as given (the caller says it is missing)."""
    candidate = Path(text).expanduser()
    if not candidate.exists() and re.fullmatch(r"\d{4}-\d{2}-\d{2}|latest", text):
        return home / "publish" / text
    return candidate


def resolve_package(spec: str | Path | None, home: Path) -> Package:
    """A package named by date (under the home's publish/), folder or DuckDB file; default latest."""
    text = str(spec) if spec is not None else "latest"
    candidate = package_path(text, home)
    if candidate.is_dir():
        database = candidate / DATABASE
        if not database.is_file():
            hint = " run `hubwatch build` and `hubwatch publish` first" if text == "latest" else ""
            raise QueryError(f"no published package at {candidate} (no {DATABASE} in it);{hint}".rstrip(";"))
        return Package(database.resolve(), candidate.resolve())
    if candidate.is_file():
        return Package(candidate.resolve(), None)
    if spec is None:
        raise QueryError(
            f"no published package at {candidate}: run `hubwatch build` and `hubwatch publish` first "
            "(or pass --home to the home that holds one)"
        )
    raise QueryError(f"no package {text!r}: expected a date published under {home / 'publish'}, a folder or a file")


@contextlib.contextmanager
def sealed(database: Path, *, writable: tuple[Path, ...] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only session over one DuckDB file that can reach nothing else (but `writable`)."""
    spill = Path(tempfile.mkdtemp(prefix="hubwatch-sql-"))  # spills of big sorts: never the package
    try:
        try:
            con = duckdb.connect(
                str(database),
                read_only=True,
                config={
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    "temp_directory": str(spill),
                },
            )
        except duckdb.Error as error:
            raise QueryError(f"cannot open {database} read-only: {error}") from None
        try:
            con.execute("set TimeZone = 'UTC'")  # as in the warehouse: months and printed times are UTC
            if writable:
                paths = ", ".join(f"'{sql_text(str(p))}'" for p in writable)
                con.execute(f"set allowed_paths = [{paths}]")
            con.execute("set enable_external_access = false")
            con.execute("set lock_configuration = true")
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _text_after_comments(text: str) -> str:
    return text[_COMMENT_OR_SPACE.match(text).end() :]


def refusal(con: duckdb.DuckDBPyConnection, statement) -> str | None:
    """Why a statement may not run (None: it only reads)."""
    kind = statement.type.name
    text = _text_after_comments(statement.query)
    if kind in ("SELECT", "TRANSACTION"):  # BEGIN/COMMIT change nothing on a read-only file
        return None
    if kind == "EXPLAIN":
        prefix = _EXPLAIN.match(text)
        if prefix is None:
            return "EXPLAIN (unrecognised form)"
        try:
            inner = con.extract_statements(text[prefix.end() :])
        except duckdb.Error:
            return "EXPLAIN (unrecognised form)"
        if len(inner) != 1 or inner[0].type.name == "EXPLAIN":
            return "EXPLAIN (unrecognised form)"
        reason = refusal(con, inner[0])
        return f"EXPLAIN of {reason}" if reason else None
    if kind in ("PRAGMA", "CALL"):
        named = _NAME_AFTER.match(text)
        name = named.group(2).lower() if named else ""
        if name in READ_PRAGMAS or (kind == "CALL" and name.startswith(READ_FUNCTION_PREFIXES)):
            return None
        return f"{kind} {name}".strip()
    return kind


def check(con: duckdb.DuckDBPyConnection, query: str) -> list:
    """The statements of `query`, each allowed to run; else QueryError naming every refused one."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as error:
        raise QueryError(str(error)) from None
    if not statements:
        raise QueryError("empty query: give a SELECT (or another statement that only reads)")
    refused = []
    for number, statement in enumerate(statements, 1):
        reason = refusal(con, statement)
        if reason:
            where = f"statement {number}: " if len(statements) > 1 else ""
            refused.append(f"{where}{reason}")
    if refused:
        raise QueryError(
            "refused, nothing was run: hubwatch sql is read-only, it runs only statements that read (SELECT, "
            f"EXPLAIN, informational PRAGMA), not {'; '.join(refused)}"
        )
    return statements


def run(
    package: Package,
    query: str,
    *,
    stdout: IO[bytes],
    output: str = "table",
    out_file: Path | None = None,
    protected: tuple[Path, ...] = (),
    max_rows: int = 1000,
) -> None:
    """Check every statement, then run them in order, each shown as a table on stdout; or run one
    query into CSV or JSON on stdout, or into a Parquet file (renamed into place when whole, with
    the package's citation in its key-value metadata)."""
    if output not in FORMATS:
        raise QueryError(f"unknown output {output!r}")
    if output == "table":
        with sealed(package.database) as con:
            _show_all(con, check(con, query), max_rows, stdout)
        return
    with tempfile.TemporaryDirectory(prefix="hubwatch-sql-") as scratch:
        target = Path(scratch) / f"result.{output}"
        if output == "parquet":
            target = _parquet_staging(out_file, (package.folder, package.database.parent, *protected))
        try:
            with sealed(package.database, writable=(target,)) as con:
                statements = check(con, query)
                if len(statements) != 1 or statements[0].type.name != "SELECT":
                    kinds = ", ".join(s.type.name for s in statements)
                    raise QueryError(f"--{output} writes the result of one query (SELECT …); got {kinds}")
                copy = f"copy {RESULT} to '{sql_text(str(target))}' ({_copy_options(output, package)})"
                try:
                    _relation(con, statements[0]).query(RESULT, copy)
                except duckdb.Error as error:
                    raise QueryError(str(error).strip()) from None
            if output == "parquet":
                target.replace(out_file)
                return
        finally:
            if output == "parquet":
                target.unlink(missing_ok=True)
        with target.open("rb") as result:
            shutil.copyfileobj(result, stdout)
        stdout.flush()


def _show_all(con: duckdb.DuckDBPyConnection, statements: list, max_rows: int, stdout: IO[bytes]) -> None:
    """Each statement's result in order; a failure says which statement it was."""
    for number, statement in enumerate(statements, 1):
        try:
            relation = _relation(con, statement)
            if relation is None:  # a statement with no result (BEGIN, COMMIT)
                continue
            if statement.type.name == "EXPLAIN":  # the plan is drawn text already
                text = "\n".join(str(row[-1]) for row in relation.fetchall())
            else:
                text = _render(relation, max_rows)
        except duckdb.Error as error:
            where = f"statement {number} of {len(statements)} failed: " if len(statements) > 1 else ""
            raise QueryError(where + str(error).strip()) from None
        stdout.write(text.rstrip("\n").encode() + b"\n")
        stdout.flush()


def _parquet_staging(out_file: Path | None, protected: tuple[Path | None, ...]) -> Path:
    """Where --parquet writes before the rename into place: beside FILE, never inside a package."""
    if out_file is None:
        raise QueryError("--parquet needs a file to write")
    final = out_file.expanduser().resolve()
    for folder in filter(None, protected):
        if final.is_relative_to(folder.resolve()):
            raise QueryError(f"--parquet {out_file}: refusing to write inside {folder.resolve()} (published packages)")
    if final.is_dir():
        raise QueryError(f"--parquet {out_file} is a folder; give a file name")
    if not final.parent.is_dir():
        raise QueryError(f"--parquet {out_file}: folder {final.parent} does not exist")
    return final.with_name(f".{final.name}.{os.getpid()}.tmp")


def _copy_options(output: str, package: Package) -> str:
    if output == "csv":
        return "format csv, header true"
    if output == "json":
        return "format json, array true"
    metadata = ", ".join(f"'{sql_text(k)}': '{sql_text(v)}'" for k, v in package.citation().items())
    return f"format parquet, compression zstd, kv_metadata {{{metadata}}}"


def _relation(con: duckdb.DuckDBPyConnection, statement):
    """The statement as a relation. DuckDB's relation API leaves the LINE/caret lines out of a
    binder or catalog error; a SELECT that fails to bind fails again through execute() at the same
    step, before running anything, and that error is raised instead, whole."""
    try:
        return con.sql(statement.query)
    except duckdb.Error as error:
        if statement.type.name != "SELECT":
            raise
        try:
            con.execute(statement.query)
        except duckdb.Error as whole:
            raise whole from None
        raise error from None


def _render(relation, max_rows: int) -> str:
    """DuckDB's own box rendering, with up to max_rows rows."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        relation.show(max_rows=max_rows, max_width=200)
    return buffer.getvalue()

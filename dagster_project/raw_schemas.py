"""Whether a raw table's files all have the same columns, so DuckDB may read them by the first's.

dbt reads each raw table through a glob over every snapshot (macros/raw_sources.sql). With
`union_by_name`, DuckDB reads every matched file's footer each time a statement binds the table:
at a year of daily snapshots ~20 ms per raw table per statement, ~0.6 s of a daily build's dbt
time, growing with every day kept. Without it, DuckDB binds the first file's columns only and
reads the others by name: a later file with a column the first lacks would lose that column
silently, a file without one of the first's columns fails the read. So `union_by_name` stays on
for a table whose files differ (snapshots of an older hubwatch, imports) and goes off when every
file has the same columns and types.

Each file's schema is read once (DuckDB's own `parquet_schema`, so the types are the ones it
binds) and remembered in $HUBWATCH_HOME/raw_schemas.json by the file's size and mtime, as the
verification ledger remembers partitions: a daily build reads only the new files' footers. A file
whose schema cannot be read makes its table mixed (the read keeps `union_by_name`, and dbt's own
read reports the file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import orjson

from ingest.files import dumps, write_atomic

SCHEMAS = "raw_schemas.json"  # in the home: relative path -> [size, mtime_ns, schema fingerprint]
VERSION = 1
# what parquet_schema says of each file's schema elements: every part of how DuckDB binds them
READ_SCHEMAS = """
    select file_name, name, type, type_length, repetition_type, num_children, converted_type, scale,
        precision, field_id, logical_type, duckdb_type
    from parquet_schema(?)
"""


def mixed_tables(home: Path, tables: dict[str, list[Path]]) -> set[str]:
    """The tables (keys of `tables`: each table's files) whose files do not all share one schema.

    The remembered schemas are kept for exactly the files given (the caller gives every raw
    table's), so the file does not grow with files that are gone."""
    known = _read(home / SCHEMAS)
    stats = {path: path.stat() for files in tables.values() for path in files}
    keys = {path: path.relative_to(home).as_posix() for path in stats}
    remembered: dict[str, list] = {}
    unread: list[Path] = []
    for path, stat in stats.items():
        entry = known.get(keys[path])
        if entry and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            remembered[keys[path]] = entry
        else:
            unread.append(path)
    for path, fingerprint in fingerprints(unread).items():
        stat = stats[path]
        remembered[keys[path]] = [stat.st_size, stat.st_mtime_ns, fingerprint]
    if remembered != known:
        write_atomic(home / SCHEMAS, dumps({"version": VERSION, "files": remembered}))
    mixed = set()
    for table, files in tables.items():
        found = {remembered[keys[path]][2] if keys[path] in remembered else None for path in files}
        if None in found or len(found) > 1:
            mixed.add(table)
    return mixed


def fingerprints(paths: list[Path]) -> dict[Path, str]:
    """Each file's schema as a hash of its elements (order aside: DuckDB reads columns by name, and
    a nested column's own order is part of its duckdb_type). A file DuckDB cannot read has none."""
    if not paths:
        return {}
    elements: dict[str, list[tuple]] = {str(path): [] for path in paths}
    with duckdb.connect() as con:
        try:
            rows = con.execute(READ_SCHEMAS, [list(elements)]).fetchall()
        except duckdb.Error:  # a file it cannot read: each file alone, so only that one has none
            rows = []
            for name in list(elements):
                try:
                    rows += con.execute(READ_SCHEMAS, [name]).fetchall()
                except duckdb.Error:
                    del elements[name]
    for file_name, *element in rows:
        elements[file_name].append(tuple(element))
    return {Path(name): _hash(found) for name, found in elements.items()}


def _hash(elements: list[tuple]) -> str:
    return hashlib.sha256(orjson.dumps(sorted(elements, key=repr))).hexdigest()[:16]


def _read(path: Path) -> dict[str, list]:
    """The remembered schemas; none when the file is missing, damaged or of another version."""
    try:
        saved = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(saved, dict) or saved.get("version") != VERSION or not isinstance(saved.get("files"), dict):
        return {}
    return saved["files"]

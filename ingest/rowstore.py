"""The raw row store: a crawled model table costs what changed, and every snapshot still reads whole.

A daily crawl of a hub lists almost the same models every day, changed only in their counters, so
writing each snapshot's normalised model tables whole stored a full copy a day (76 % of what an
ordinary day added to raw/). Since format `rows/1` a crawled snapshot's model tables are stored as:

    raw/<source>/snapshot_date=D/<table>.listing.parquet   one row per row of the table, in its order:
                                                            where its stored row is (rows_file,
                                                            rows_index), and its counters (VOLATILE)
    raw/<source>/_packs/<table>.<rows_file>.parquet         stored rows: every column but the counters,
                                                            with rows_file and rows_index; written
                                                            once, shared, never modified

A row whose columns other than its counters equal a row of the previous snapshot taken with the same
parameters (same source and scope: an import shares raw/civitai_models/ but never its rows) points
at that stored row; only new or changed rows are stored, in one new file per table and snapshot.
The listing holds the counters themselves: they change every day, they are the change. Stored files
live outside the snapshot's partition, like the page packs, so a withdrawn or retaken snapshot
leaves them in place and later snapshots built on them stay whole; the manifest's `row_store`
names every file a snapshot reads (sha256 and bytes) and the table's columns in order, so `hubwatch
build`'s verification of raw/ and `hubwatch verify` catch any changed byte. Before anything is
written the table is rebuilt from its listing and stored rows and compared with the table it stands
for; a table that would not read back exactly is stored whole (`<table>.parquet`, as before).

`read_table` reads any snapshot's table as the normaliser made it, in either form; the dbt staging
models read the same through the `raw` sources `<table>` (whole tables: imports, snapshots stored
before) and `<table>_listing` joined to `<table>_rows` (macros/stored_rows.sql).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import polars as pl

from ingest import pagestore
from ingest.files import write_atomic

FORMAT = "rows/1"
FILE, INDEX = "rows_file", "rows_index"  # where a listed row is stored: which file, which row of it
LISTING = ".listing.parquet"
MAX_FILES = 6  # earlier stored files one table may read from (see _within_files)
# The columns of each table that change from day to day while the item does not: its counters. They
# stay in the listing; every other column is compared with the previous snapshot's rows. Kept in step
# with dbt/macros/stored_rows.sql, which takes exactly these from the listing.
VOLATILE: dict[str, dict[str, tuple[str, ...]]] = {
    "civitai_models": {
        "models": (
            "download_count",
            "thumbs_up_count",
            "thumbs_down_count",
            "favorite_count",
            "comment_count",
            "tipped_amount_count",
        ),
        "model_versions": ("download_count",),
        "model_files": (),
    },
    "hf_models": {
        "models": ("downloads_30d", "downloads_all_time", "likes"),
        "model_files": (),
    },
}


class RowStoreError(Exception):
    """A listed row cannot be read back from the stored rows (a missing or altered file)."""


def stored_tables(source: str) -> dict[str, tuple[str, ...]]:
    """The tables of a source that are stored as listings, each with its counters."""
    return VOLATILE.get(source, {})


def listing_path(partition: Path, table: str) -> Path:
    return partition / f"{table}{LISTING}"


def rows_name(table: str, rows_file: str) -> str:
    return f"{table}.{rows_file}.parquet"


# -- reading -----------------------------------------------------------------------------------------
def read_table(partition: Path, table: str, columns: list[str] | None = None) -> pl.DataFrame:
    """A snapshot's table exactly as the normaliser made it (columns, types, row order), whole or
    listed. RowStoreError when a stored row it lists is missing."""
    listing = listing_path(partition, table)
    if not listing.is_file():
        return pl.read_parquet(partition / f"{table}.parquet", columns=columns)
    manifest = orjson.loads((partition / "manifest.json").read_bytes())
    order = manifest["row_store"]["tables"][table]["columns"]
    frame = _listed_table(pagestore.packs_dir(partition), table, pl.read_parquet(listing), order)
    return frame.select(columns) if columns else frame


def _listed_table(packs: Path, table: str, listing: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    return rebuild(listing, stored_rows(packs, table, listing[FILE].unique().to_list()), order)


def stored_rows(packs: Path, table: str, rows_files: list[str]) -> pl.DataFrame:
    """The rows stored in these files (columns but the counters, with rows_file and rows_index)."""
    frames = []
    for rows_file in sorted(rows_files):
        path = packs / rows_name(table, rows_file)
        if not path.is_file():
            raise RowStoreError(f"{path} is missing: the rows a snapshot lists in it cannot be read")
        frames.append(pl.read_parquet(path))
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame()


def rebuild(listing: pl.DataFrame, rows: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    """The table a listing stands for: each listed row's stored columns and its own counters, in the
    listing's row order and the table's column order."""
    if listing.is_empty():
        return pl.DataFrame(schema={c: (listing.schema.get(c) or rows.schema.get(c)) for c in order})
    found = rows.with_columns(pl.lit(True).alias("__found"))
    joined = listing.with_row_index("__position").join(found, on=[FILE, INDEX], how="left")
    if joined.height != listing.height:
        raise RowStoreError("a stored row is there twice (the stored rows are altered)")
    if joined["__found"].null_count():
        raise RowStoreError(f"{joined['__found'].null_count()} listed rows are not in the stored rows")
    return joined.sort("__position").select(order)


# -- writing -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listed:
    """A table as it is stored: its listing (written in the partition) and the stored files it reads."""

    listing: pl.DataFrame
    columns: list[str]
    rows_files: list[str]


def split(frame: pl.DataFrame, volatile: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(stored columns, counters) of a table, each in the table's order."""
    return [c for c in frame.columns if c not in volatile], [c for c in frame.columns if c in volatile]


def previous_rows(packs: Path, table: str, previous: Path | None) -> pl.DataFrame | None:
    """The stored rows the previous snapshot (same source and parameters) lists, or None."""
    if previous is None or not listing_path(previous, table).is_file():
        return None
    refs = pl.read_parquet(listing_path(previous, table), columns=[FILE, INDEX])
    try:
        rows = stored_rows(packs, table, refs[FILE].unique().to_list())
    except RowStoreError:  # an earlier file is gone: store this table's rows anew
        return None
    return rows.join(refs.unique(), on=[FILE, INDEX], how="semi")


def store(
    frame: pl.DataFrame, table: str, volatile: tuple[str, ...], packs: Path, previous: Path | None
) -> Listed | None:
    """Store a table's new and changed rows in _packs/ and return its listing; None when the table
    is better stored whole (no rows) or would not read back exactly (then nothing is written)."""
    if frame.is_empty():
        return None
    stored, counters = split(frame, volatile)
    earlier = previous_rows(packs, table, previous)
    if earlier is not None and dict(earlier.select(stored).schema) != dict(frame.select(stored).schema):
        earlier = None  # stored by another version of the normaliser: compared, nothing would match
    rows_file = uuid.uuid4().hex
    listing, new_rows = _match(frame.select(stored), earlier, rows_file)
    listing = listing.with_columns(frame.select(counters))
    rows = new_rows if earlier is None else pl.concat([earlier.select(new_rows.columns), new_rows])
    if not rebuild(listing, rows, frame.columns).equals(frame):  # never happens; never trusted either
        return None
    files = sorted(set(listing[FILE].unique().to_list()))
    if new_rows.height:
        _write(packs / rows_name(table, rows_file), new_rows)
    return Listed(listing, frame.columns, files)


def _match(stored: pl.DataFrame, earlier: pl.DataFrame | None, rows_file: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each row's place (rows_file, rows_index): an equal earlier row's, else a new row of rows_file.
    Rows are matched on a hash of every stored column and then compared column by column; the
    earlier files read from are kept to MAX_FILES (rows of the least used are stored again)."""
    position = pl.int_range(pl.len(), dtype=pl.UInt32)
    keyed = pl.DataFrame({"__hash": stored.hash_rows()}).with_columns(position.alias("__position"))
    if earlier is not None and earlier.height:
        known = earlier.with_columns(__hash=earlier.select(stored.columns).hash_rows()).unique(
            "__hash", keep="first", maintain_order=True
        )
        keyed = keyed.join(known.select("__hash", FILE, INDEX), on="__hash", how="left", maintain_order="left")
        keyed = _only_equal(keyed, stored, known)
        keyed = _within_files(keyed)
    else:
        keyed = keyed.with_columns(pl.lit(None, pl.String).alias(FILE), pl.lit(None, pl.Int32).alias(INDEX))
    new = keyed[FILE].is_null()
    new_index = (new.cast(pl.Int32).cum_sum() - 1).alias("__new_index")
    keyed = keyed.with_columns(new_index).with_columns(
        pl.when(pl.col(FILE).is_null()).then(pl.lit(rows_file)).otherwise(pl.col(FILE)).alias(FILE),
        pl.when(pl.col(INDEX).is_null()).then(pl.col("__new_index")).otherwise(pl.col(INDEX)).alias(INDEX),
    )
    new_rows = stored.filter(new).with_columns(
        pl.lit(rows_file).alias(FILE), pl.int_range(pl.len(), dtype=pl.Int32).alias(INDEX)
    )
    return keyed.select(FILE, INDEX), new_rows


def _only_equal(keyed: pl.DataFrame, stored: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Unmatch a row whose hash found an earlier row that is not equal to it (a hash collision)."""
    matched = keyed[FILE].is_not_null()
    if not matched.any():
        return keyed
    mine = stored.filter(matched)
    theirs = keyed.filter(matched).select(FILE, INDEX).join(known, on=[FILE, INDEX], how="left", maintain_order="left")
    equal = pl.Series([True] * mine.height)
    for column in stored.columns:
        equal = equal & mine[column].eq_missing(theirs[column]).fill_null(False)
    collided = pl.Series([False] * keyed.height).scatter(matched.arg_true(), ~equal)
    return keyed.with_columns(
        pl.when(collided).then(None).otherwise(pl.col(FILE)).alias(FILE),
        pl.when(collided).then(None).otherwise(pl.col(INDEX)).alias(INDEX),
    )


def _within_files(keyed: pl.DataFrame) -> pl.DataFrame:
    """Read from fewer than MAX_FILES earlier files: once a table would read from more, the rows of
    its least used files are stored again, with the day's new rows, and it reads on from the
    MAX_FILES // 2 most used. Each merge makes a file larger than those it replaces, so a row is
    stored again only while it sits in one of the smallest files: a few times in its life, not
    every few days (the first day's file, the most used, is never merged)."""
    used = keyed.filter(pl.col(FILE).is_not_null())[FILE].value_counts(sort=True)
    if used.height < MAX_FILES:
        return keyed
    stale = pl.col(FILE).is_not_null() & ~pl.col(FILE).is_in(used[FILE].head(MAX_FILES // 2).implode())
    return keyed.with_columns(
        pl.when(stale).then(None).otherwise(pl.col(FILE)).alias(FILE),
        pl.when(stale).then(None).otherwise(pl.col(INDEX)).alias(INDEX),
    )


def _write(path: Path, frame: pl.DataFrame) -> None:
    """A stored file, written whole under a temporary name, fsynced, then renamed (never modified
    after); its folder made if no page made it first (a snapshot written without pages)."""
    buffer = io.BytesIO()
    write_small(frame, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue())


def write_small(frame: pl.DataFrame, target: Path | BinaryIO) -> None:
    """A listing or a file of stored rows: small and written once, so zstd's strongest level, and no
    column statistics (a few hundred bytes per column, more than a day's change of some tables)."""
    frame.write_parquet(target, compression="zstd", compression_level=19, statistics=False)


def manifest_entry(listed: dict[str, Listed], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest's `row_store`: its format, each listed table's columns, every stored file read."""
    return {"format": FORMAT, "tables": {name: {"columns": t.columns} for name, t in listed.items()}, "files": files}


# -- what dbt reads ----------------------------------------------------------------------------------
def empty_listing(table: pl.DataFrame, volatile: tuple[str, ...]) -> pl.DataFrame:
    """Zero rows with a listing's schema, for a table with this (empty) whole form."""
    _stored, counters = split(table, volatile)
    return pl.DataFrame(schema={FILE: pl.String, INDEX: pl.Int32, **{c: table.schema[c] for c in counters}})


def empty_rows(table: pl.DataFrame, volatile: tuple[str, ...]) -> pl.DataFrame:
    """Zero rows with a stored-rows file's schema."""
    stored, _counters = split(table, volatile)
    return pl.DataFrame(schema={**{c: table.schema[c] for c in stored}, FILE: pl.String, INDEX: pl.Int32})


def dbt_sources(
    home: Path, source: str, table: str, empty: pl.DataFrame, stand_ins: Path
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The dbt `raw` sources `<table>.listing` and `<table>.rows` of a listed table, each as (the
    files DuckDB reads, the folder and file name Spark reads). Both are globs, like the whole tables'
    (listings: every partition's; stored rows: every file of the table in _packs/): when they were
    dbt vars, naming each stored file made every new day a full parse; given at run time now
    (dagster_project/warehouse.py, write_run_file), a glob still keeps what dbt is given short.
    The files the complete snapshots' manifests name are verified before a build; a file no
    listing names (left by a snapshot killed before it was complete) is read but joins no row. A
    source with none reads an empty stand-in file of the right schema (DuckDB errors on no file)."""
    root = home / "raw" / source
    listings = sorted(root.glob(f"snapshot_date=*/{table}{LISTING}"))
    volatile = stored_tables(source)[table]
    found: dict[str, tuple[list[str], dict[str, str]]] = {}
    if listings:
        found["listing"] = (
            [f"{root}/snapshot_date=*/{table}{LISTING}"],
            {"path": str(root), "file": f"{table}{LISTING}"},
        )
        packs = root / pagestore.PACKS
        found["rows"] = (
            [f"{packs}/{rows_name(table, '*')}"],
            {"path": str(packs), "file": f"{table}.*.parquet"},
        )
    else:
        for kind, frame in (("listing", empty_listing(empty, volatile)), ("rows", empty_rows(empty, volatile))):
            folder = (
                stand_ins / f"{source}-{kind}"
            )  # a listing is Hive-partitioned: snapshot_date comes from its folder
            stand_in = (
                folder / "snapshot_date=0001-01-01" if kind == "listing" else folder
            ) / f"{table}.{kind}.parquet"
            if not stand_in.is_file():
                stand_in.parent.mkdir(parents=True, exist_ok=True)
                frame.write_parquet(stand_in)
            found[kind] = ([str(stand_in)], {"path": str(folder), "file": stand_in.name})
    return {f"{source}/{table}.{kind}": value for kind, value in found.items()}

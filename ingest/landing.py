"""The raw snapshot store: immutable, dated, checksummed, never silently partial.

Layout under $HUBWATCH_HOME:

    raw/<source>/snapshot_date=YYYY-MM-DD/      a COMPLETE snapshot (readers look only here)
        pages.jsonl.zst                         each page's meta: request URL (secrets stripped), status,
                                                time, item ids, sha256 of the body, where the body is
        <table>.parquet                         normalised rows (typed columns; see `publish`), or for a
        <table>.listing.parquet                 crawl's model tables a listing: where each row is stored
                                                and its counters (ingest/rowstore.py)
        manifest.json                           written last: what, when, how, sha256 of every file
    raw/<source>/_packs/<sha256>.pack            page bodies exactly as received, as zstd frames (a page
                                                whose items an earlier snapshot held: a delta against
                                                those pages); shared, never modified (ingest/pagestore.py)
    raw/<source>/_packs/<table>.<id>.parquet     stored model rows, each written once when first seen as it
                                                is; shared by the listings, never modified (ingest/rowstore.py)
    staging/<source>/snapshot_date=YYYY-MM-DD/  a snapshot being taken (invisible to readers)
        checkpoint.json                         rewritten after every page: phase, where to resume
        pages/000001.zst, pages/000001.meta.json  a page's frame and meta, until the pages are packed

Snapshots stored before the packs (pages/000001.json.gz + pages/000001.meta.json in the partition)
are read as they are.

A page is committed when its meta file exists and the checkpoint counts it; a crawl killed at
any instant resumes from the checkpoint, re-fetching at most the one uncommitted page, so no
page is lost or stored twice. The checkpoint's phase says when every page is stored, so a run
killed after that publishes without fetching anything. Publishing packs the pages (pages.jsonl.zst
in the partition, their frames in one pack), writes the tables and the manifest (last), and moves
the finished snapshot from staging/ to raw/ by one rename (over an old one: the two swap places
in one rename).
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import logging
import math
import operator
import shutil
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import polars as pl

from ingest import __version__, pagestore, rowstore
from ingest.crash import crash_point
from ingest.files import dumps, file_entry, replace_dir, replaced_atomically, sha256_file, write_atomic
from ingest.home import MANIFEST, snapshot_path, staging_path
from ingest.http import CrawlError, Fetched, env_number, redact_url
from ingest.quality import Quality, typed_values
from ingest.sources import SOURCES

KINDS = ("live", "simulated", "imported")
CHECKPOINT = "checkpoint.json"

log = logging.getLogger("hubwatch.landing")


class BadPartition(CrawlError):
    """A folder in raw/ whose name is not snapshot_date=<a real date>."""


def partition_date(path: Path) -> date:
    """The date a raw/ partition is named after; a one-line error naming the folder otherwise."""
    value = path.name.removeprefix("snapshot_date=")
    if value != path.name:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BadPartition(
        f"{path} is not a snapshot partition (expected snapshot_date=YYYY-MM-DD, a real date); move it out of raw/"
    )


def complete_snapshots(home: Path, source: str) -> list[date]:
    """Dates of the complete snapshots of a source, oldest first."""
    root = home / "raw" / source
    if not root.is_dir():
        return []
    dates = []
    for child in root.glob("snapshot_date=*"):
        day = partition_date(child)
        if (child / MANIFEST).is_file():
            dates.append(day)
    return sorted(dates)


def snapshot_inputs(home: Path) -> list[dict[str, Any]]:
    """Every complete snapshot in raw/ as a build reads it: source, date, kind and the sha256 of its
    manifest.json (which holds the sha256 of every file, so it names the snapshot's exact bytes)."""
    inputs = []
    for source in SOURCES:
        for day in complete_snapshots(home, source):
            manifest = snapshot_path(home, source, day) / MANIFEST
            data = manifest.read_bytes()
            inputs.append(
                {
                    "source": source,
                    "snapshot_date": day.isoformat(),
                    "kind": orjson.loads(data).get("kind"),
                    "manifest_sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    return inputs


def read_manifest(home: Path, source: str, snapshot_date: date) -> dict[str, Any]:
    return orjson.loads((snapshot_path(home, source, snapshot_date) / MANIFEST).read_bytes())


class BadSnapshot(CrawlError):
    """A directory in raw/ that is not a complete, intact snapshot."""


def verify_snapshot(path: Path) -> dict[str, Any]:
    """Check a raw/ partition against its manifest (every file present, every sha256 equal).

    Returns the manifest; raises BadSnapshot naming the partition or file otherwise.
    """
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        raise BadSnapshot(f"{path} has no {MANIFEST}: it is not a complete snapshot (move it out of raw/)")
    try:
        manifest = orjson.loads(manifest_file.read_bytes())
        files = stored_files(path, manifest)
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise BadSnapshot(f"{manifest_file} is not a hubwatch manifest") from None
    for target, entry in files.items():
        if not target.is_file():
            raise BadSnapshot(f"{target} is listed in the manifest but missing")
        if sha256_file(target) != entry["sha256"]:
            raise BadSnapshot(f"{target} does not match the sha256 in its manifest (corrupt or altered)")
    return manifest


def stored_files(partition: Path, manifest: dict[str, Any]) -> dict[Path, dict[str, Any]]:
    """Every file a snapshot is made of, with its manifest entry (sha256, bytes): the partition's own
    files and the packs in raw/<source>/_packs/ its pages are rebuilt from."""
    files = {partition / name: entry for name, entry in manifest["files"].items()}
    packs = pagestore.packs_dir(partition)
    for name, entry in ((manifest.get("page_store") or {}).get("packs") or {}).items():
        files[packs / name] = entry
    for name, entry in ((manifest.get("row_store") or {}).get("files") or {}).items():
        files[packs / name] = entry
    return files


def verify_pages(partition: Path) -> int:
    """verify_snapshot, then every page rebuilt from the store and checked against its sha256, and
    every listed table rebuilt from its stored rows (what `hubwatch verify-raw` does); the number of
    pages. BadSnapshot names what is wrong."""
    manifest = verify_snapshot(partition)
    try:
        for table in (manifest.get("row_store") or {}).get("tables") or {}:
            if rowstore.read_table(partition, table).height != manifest["items"].get(table):
                raise rowstore.RowStoreError(f"{table} does not have the rows its manifest counts")
        return pagestore.verify_pages(partition)
    except (pagestore.StoreError, rowstore.RowStoreError, OSError) as error:
        raise BadSnapshot(f"{partition}: {error}") from None


def is_loopback(url: str) -> bool:
    """True when a base URL points at this machine (fakehub or a local replay server)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(a.startswith("127.") or a == "::1" for a in addresses)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of parsed items are alive.

    Normalisation makes no reference cycles, but every allocation of a container counts
    towards a collection that walks all live items: with it on, parsing grows quadratic-ish.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def rows_to_frame(
    rows: list[dict[str, Any]], schema: dict[str, pl.DataType], quality: Quality | None = None, table: str = ""
) -> pl.DataFrame:
    """Rows (dicts) -> a typed frame, built column by column.

    A value of the wrong type becomes null and is counted in `quality` as `table.column` (list
    columns are built by the normalisers from already-checked lists). List cells go through JSON
    and Polars' own decoder: building a list column from Python lists costs a Series per cell,
    which made normalisation several times slower.
    """
    quality = quality or Quality()
    transposed = zip(*map(operator.itemgetter(*schema), rows), strict=True) if rows else ([] for _ in schema)
    columns = []
    for (name, dtype), values in zip(schema.items(), transposed, strict=True):
        if isinstance(dtype, pl.List):
            encoded = pl.Series(name, [orjson.dumps(v).decode() for v in values], pl.String)
            columns.append(encoded.str.json_decode(dtype))
        else:
            typed = typed_values(values, dtype, f"{table}.{name}", quality)
            columns.append(pl.Series(name, typed, dtype=dtype, strict=False))
    return pl.DataFrame(columns)


def plan_key(kind: str, host: str, plan: dict[str, Any]) -> str:
    """What a staged crawl must match to be resumed (else it was taken with other parameters)."""
    identity = {"kind": kind, "host": host, "plan": plan}
    return hashlib.sha256(orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)).hexdigest()


class SnapshotExists(CrawlError):
    """The complete snapshot is already there; it is never overwritten without --force."""

    def __init__(self, message: str, recovered: bool = False):
        super().__init__(message)
        self.recovered = recovered  # True when this run finished an interrupted publish of it


class PageBudgetReached(Exception):
    """--max-pages pages were taken this run; the snapshot stays staged and resumable."""


@dataclass(frozen=True)
class PageEvent:
    source: str
    pages: int
    items: int
    started_at: datetime


def no_progress(event: PageEvent) -> None:
    """Where page events go when nobody watches (schedules, the UI: the `progress` resource's default)."""


@dataclass(frozen=True)
class CrawlBounds:
    """How far a crawl may go before hubwatch decides the server is not making progress.

    A server that answers empty pages with a fresh cursor, or pages of the same items for ever,
    would otherwise be crawled until the disk is full. Every field can be set from the environment.
    """

    max_empty_pages: int = 50  # empty pages in a row, each with a next cursor
    page_growth: float = 10.0  # pages, as a multiple of the previous snapshot taken the same way
    min_page_limit: int = 1000  # the page limit is never below this

    @classmethod
    def from_env(cls) -> CrawlBounds:
        return cls(
            max_empty_pages=env_number("HUBWATCH_MAX_EMPTY_PAGES", cls.max_empty_pages, int, minimum=1),
            page_growth=env_number("HUBWATCH_MAX_PAGE_GROWTH", cls.page_growth, float, minimum=1),
            min_page_limit=env_number("HUBWATCH_MIN_PAGE_LIMIT", cls.min_page_limit, int, minimum=1),
        )


class StagedSnapshot:
    """A snapshot being taken: pages land in staging/ with a checkpoint after each one.

    Use as a context manager (it holds a lock so two crawls of the same snapshot can't mix, and
    first finishes or tidies whatever a killed run left, see `recover_staged`). The checkpoint's
    `phase` says where the snapshot is at every instant:

        crawling   pages are being stored; `state` is where the crawl goes on (None: from the start)
        crawled    every page is stored; a rerun fetches nothing and goes on to publish
        (sealed)   manifest.json is written in staging/ and the checkpoint removed; the next run
                   moves it into raw/
        (in raw/)  published

    A crawl function stores each page with `add_page`, giving the state after it, or None for its
    last page (or `finish_crawl` when it learns it is done without a new page); it starts from
    `state` and does nothing when `crawled` is already true. `publish` normalises into Parquet,
    writes the manifest last and moves the folder into raw/ (over an old one: in one rename).
    """

    def __init__(
        self,
        home: Path,
        source: str,
        snapshot_date: date,
        *,
        kind: str,
        host: str,
        plan: dict[str, Any],
        force: bool = False,
        max_pages: int | None = None,
        on_page: Callable[[PageEvent], None] | None = None,
        bounds: CrawlBounds | None = None,
    ):
        if source not in SOURCES:
            raise CrawlError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
        if kind not in KINDS:
            raise CrawlError(f"unknown snapshot kind {kind!r}")
        self.home, self.source, self.snapshot_date = home, source, snapshot_date
        self.kind, self.host, self.plan = kind, host, plan
        self.force, self.max_pages, self.on_page = force, max_pages, on_page
        self.bounds = bounds or CrawlBounds.from_env()
        self.final = snapshot_path(home, source, snapshot_date)
        self.dir = staging_path(home, source, snapshot_date)
        self.recovered = Recovery()
        self.page_limit: tuple[int, date, int] | None = None  # (limit, previous date, its pages)
        self._lock_handle = None
        self._pages_this_run = 0
        self._seen_cursors: set[tuple[str, str]] = set()  # (stream, cursor)
        self._frames = pagestore.Frames(pagestore.packs_dir(self.final))
        self._bases: pagestore.BaseIndex | None = None  # the previous snapshot's pages, on first use

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> StagedSnapshot:
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self._lock_handle = (self.dir.parent / f"{self.dir.name}.lock").open("w")
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_handle.close()
            self._lock_handle = None
            raise CrawlError(f"another crawl of {self.source} {self.snapshot_date} is running") from None
        try:
            self.recovered = recover_staged(self.home, self.source, self.snapshot_date)
            published = self.recovered.published
            if self.final.exists():
                if not (self.final / MANIFEST).is_file():
                    raise BadSnapshot(
                        f"{self.final} has no {MANIFEST}: it is not a complete snapshot (hubwatch never leaves "
                        "one so); move it out of raw/ and run again"
                    )
                if published or not self.force:
                    raise SnapshotExists(
                        f"{self.source} snapshot of {self.snapshot_date} is already complete "
                        f"at {self.final} (use --force to retake it)",
                        recovered=published,
                    )
            self.page_limit = page_limit(self.home, self.source, self.snapshot_date, self.plan, self.bounds)
            self.checkpoint = self._load_or_start()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_handle:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            self._lock_handle.close()
            self._lock_handle = None

    def _plan_key(self) -> str:
        return plan_key(self.kind, self.host, self.plan)

    def _load_or_start(self) -> dict[str, Any]:
        checkpoint = self._read_checkpoint()
        if checkpoint is not None:
            if checkpoint.get("plan_key") == self._plan_key():
                return self._resume(checkpoint)
            log.warning("discarding staged %s %s: taken with other parameters", self.source, self.snapshot_date)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "pages").mkdir(parents=True)
        checkpoint = {
            "plan_key": self._plan_key(),
            "phase": "crawling",
            "started_at": _now(),
            "pages": 0,
            "items": 0,
            "state": None,
            "errors": {},
            "resumes": 0,
            "empty_pages": 0,
            "extra": {},
        }
        write_atomic(self.dir / CHECKPOINT, dumps(checkpoint))
        return checkpoint

    def _read_checkpoint(self) -> dict[str, Any] | None:
        checkpoint_file = self.dir / CHECKPOINT
        if not checkpoint_file.is_file():
            return None
        try:
            return orjson.loads(checkpoint_file.read_bytes())
        except orjson.JSONDecodeError:  # written atomically, so only by hand or a failing disk
            log.warning("discarding staged %s %s: its checkpoint is unreadable", self.source, self.snapshot_date)
            return None

    def _resume(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        # a checkpoint from before phases: state None after a page meant the crawl had ended
        checkpoint.setdefault("phase", "crawled" if checkpoint["pages"] and checkpoint["state"] is None else "crawling")
        checkpoint.setdefault("empty_pages", 0)
        checkpoint.setdefault("extra", {})
        checkpoint["resumes"] += 1
        self._drop_uncommitted_pages(checkpoint["pages"])
        self._seen_cursors = {
            (meta["stream"], meta["cursor"]) for meta in self.page_metas(checkpoint["pages"]) if meta["cursor"]
        }
        log.info(
            "resuming %s %s after page %d (%s)",
            self.source,
            self.snapshot_date,
            checkpoint["pages"],
            checkpoint["phase"],
        )
        return checkpoint

    def _drop_uncommitted_pages(self, committed: int) -> None:
        """A page written by a killed run but not counted by the checkpoint is fetched again."""
        for path in (self.dir / "pages").glob("*"):
            number = path.name.split(".", 1)[0]
            if not number.isdigit() or int(number) > committed:
                path.unlink()

    # -- pages ---------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any] | None:
        """Where the crawl goes on from: the state saved with the last committed page."""
        return self.checkpoint["state"]

    @property
    def crawled(self) -> bool:
        """Every page is stored: the crawl has nothing left to fetch."""
        return self.checkpoint["phase"] == "crawled"

    @property
    def extra(self) -> dict[str, Any]:
        """What the crawl reported when it finished (goes into the manifest)."""
        return self.checkpoint["extra"]

    @property
    def pages_done(self) -> int:
        return self.checkpoint["pages"]

    def check_cursor(self, stream: str, cursor: str | None) -> None:
        """A cursor the server hands out twice in one stream would loop forever: fail instead."""
        if cursor is None:
            return
        if (stream, cursor) in self._seen_cursors:
            raise CrawlError(
                f"the server returned cursor {cursor!r} a second time (page {self.pages_done + 1}); refusing to loop"
            )

    def check_bounds(self, stream: str, items: int, cursor: str | None) -> int:
        """Refuse the next page when the server is not making progress; the empty pages in a row."""
        number = self.pages_done + 1
        if self.page_limit and number > self.page_limit[0]:
            limit, previous, previous_pages = self.page_limit
            raise CrawlError(
                f"page {number} would pass the limit of {limit} pages ({self.bounds.page_growth:g}x the "
                f"{previous_pages} pages of the {previous} snapshot, HUBWATCH_MAX_PAGE_GROWTH); is the server looping? "
                "The crawl stays staged; nothing is in raw/"
            )
        pointing_on = items == 0 and cursor is not None
        same_stream = self.checkpoint.get("empty_stream") == stream
        empty = (self.checkpoint["empty_pages"] + 1 if same_stream else 1) if pointing_on else 0
        if empty > self.bounds.max_empty_pages:
            raise CrawlError(
                f"{empty} empty pages in a row, each pointing to another (HUBWATCH_MAX_EMPTY_PAGES="
                f"{self.bounds.max_empty_pages}); the server is not making progress. The crawl stays staged; "
                "nothing is in raw/"
            )
        return empty

    def add_page(
        self,
        fetched: Fetched,
        *,
        stream: str,
        items: int,
        cursor: str | None,
        state: dict[str, Any] | None,
        errors: Counter[str],
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Commit one page: body, then meta, then the checkpoint that counts it.

        `state` is where the crawl goes on after this page; None means this was the last page, and
        the checkpoint then says `crawled` in the same write (with `extra` for the manifest).
        """
        if self.crawled:
            raise CrawlError(f"{self.source} {self.snapshot_date}: the crawl already ended; no page may follow")
        self.check_cursor(stream, cursor)
        empty = self.check_bounds(stream, items, cursor)
        number = self.pages_done + 1
        stem = self.dir / "pages" / f"{number:06d}"
        ids = pagestore.page_ids(fetched.payload)
        frame, bases = pagestore.encode(fetched.body, self.base_index().choose(stream, ids), self._frames)
        write_atomic(stem.with_suffix(".zst"), frame)
        meta = {
            "page": number,
            "stream": stream,
            "url": redact_url(fetched.url),
            "status": fetched.status,
            "fetched_at": fetched.fetched_at.isoformat(),
            "attempts": fetched.attempts,
            "items": items,
            "cursor": cursor,
            "body_sha256": hashlib.sha256(fetched.body).hexdigest(),
            "body_bytes": len(fetched.body),
            "ids": ids,
            "bases": bases,
        }
        write_atomic(stem.with_suffix(".meta.json"), dumps(meta))
        crash_point("page-stored")
        if cursor is not None:
            self._seen_cursors.add((stream, cursor))
        self.checkpoint.update(
            pages=number,
            items=self.checkpoint["items"] + items,
            state=state,
            errors=dict(Counter(self.checkpoint["errors"]) + errors),
            empty_pages=empty,
            empty_stream=stream,
        )
        if state is None:
            self.checkpoint.update(phase="crawled", extra={**self.extra, **(extra or {})})
        write_atomic(self.dir / CHECKPOINT, dumps(self.checkpoint))
        crash_point("page-committed")
        if state is None:
            crash_point("crawled")
        self._pages_this_run += 1
        if self.on_page:
            self.on_page(
                PageEvent(
                    self.source,
                    number,
                    self.checkpoint["items"],
                    datetime.fromisoformat(self.checkpoint["started_at"]),
                )
            )
        if self.max_pages is not None and self._pages_this_run >= self.max_pages and state is not None:
            raise PageBudgetReached

    def finish_crawl(self, *, extra: dict[str, Any] | None = None, errors: Counter[str] | None = None) -> None:
        """The crawl learned it is complete without storing another page (one checkpoint write)."""
        if self.crawled:
            return
        self.checkpoint.update(
            phase="crawled",
            extra={**self.extra, **(extra or {})},
            errors=dict(Counter(self.checkpoint["errors"]) + (errors or Counter())),
        )
        write_atomic(self.dir / CHECKPOINT, dumps(self.checkpoint))
        crash_point("crawled")

    def base_index(self) -> pagestore.BaseIndex:
        """Which frames of the previous snapshot (same source and parameters) held which items."""
        if self._bases is None:
            previous = previous_snapshot(self.home, self.source, self.snapshot_date, self.plan)
            entries = []
            if previous is not None and pagestore.index_file(previous):
                entries = pagestore.read_index(previous)
            self._bases = pagestore.BaseIndex(entries)
        return self._bases

    def page_metas(self, upto: int | None = None) -> Iterator[dict[str, Any]]:
        if pagestore.index_file(self.dir):  # packed (a rerun after the pages were packed)
            yield from pagestore.read_index(self.dir)
            return
        last = self.pages_done if upto is None else upto
        for number in range(1, last + 1):
            yield orjson.loads((self.dir / "pages" / f"{number:06d}.meta.json").read_bytes())

    def pages(self, stream: str | None = None) -> Iterator[tuple[dict[str, Any], Any]]:
        """Committed pages in order, as (meta, parsed body)."""
        for meta in self.page_metas():
            if stream is not None and meta["stream"] != stream:
                continue
            yield meta, orjson.loads(pagestore.page_body(self.dir, meta, self._frames))

    def record_failure(self, message: str) -> None:
        """Keep the last error with the staged crawl, for the operator; nothing is published."""
        self.checkpoint["last_error"] = {"at": _now(), "message": message}
        with suppress(OSError):
            write_atomic(self.dir / CHECKPOINT, dumps(self.checkpoint))

    # -- publish -------------------------------------------------------------------------
    def publish(
        self,
        tables: dict[str, pl.DataFrame | pl.LazyFrame],
        *,
        extra: dict[str, Any] | None = None,
        row_group_size: int | None = None,
    ) -> dict[str, Any]:
        """Write the normalised tables and the manifest (last), then move into raw/.

        A LazyFrame (an import's Parquet parts) is streamed into its file, never held whole, in
        row groups of row_group_size rows (memory grows with the row group). Until the manifest is
        written the checkpoint stays (phase `crawled`: a rerun normalises again); the manifest's
        `replaces` names the snapshot a --force retake replaces, which is how a rerun tells a
        finished retake from the old snapshot it swapped out.
        """
        self.finish_crawl()
        packs = self._pack_pages()
        counts = {}
        listed = self._list_rows(tables)
        for name, frame in tables.items():
            target = self.dir / f"{name}.parquet"
            if name in listed:
                counts[name] = frame.height
                frame, target = listed[name].listing, rowstore.listing_path(self.dir, name)
            for other in {self.dir / f"{name}.parquet", rowstore.listing_path(self.dir, name)} - {target}:
                other.unlink(missing_ok=True)  # a killed run's table in the other form: one form only
            # the folder is fsynced as a whole before it moves into raw/; a full disk keeps the pages
            with replaced_atomically(target, fsync=False) as tmp:
                if isinstance(frame, pl.LazyFrame):
                    frame.sink_parquet(tmp, compression="zstd", statistics=True, row_group_size=row_group_size)
                    counts[name] = pl.scan_parquet(tmp).select(pl.len()).collect().item()
                elif name in listed:
                    rowstore.write_small(frame, tmp)
                else:
                    frame.write_parquet(tmp, compression="zstd", statistics=True)
                    counts[name] = frame.height
        crash_point("tables-written")
        files = {
            path.relative_to(self.dir).as_posix(): {"sha256": sha256_file(path), "bytes": path.stat().st_size}
            for path in sorted(self.dir.rglob("*"))
            if path.is_file() and path.name not in (CHECKPOINT, MANIFEST) and not path.name.startswith(".")
        }
        manifest = {
            "source": self.source,
            "snapshot_date": self.snapshot_date.isoformat(),
            "kind": self.kind,
            "host": self.host,
            "params": self.plan,
            "pages": self.pages_done,
            "items": counts,
            "complete": True,
            "errors": self.checkpoint["errors"],
            "resumes": self.checkpoint["resumes"],
            "started_at": self.checkpoint["started_at"],
            "finished_at": _now(),
            "hubwatch_version": __version__,
            "replaces": _manifest_identity(self.final),
            "files": files,
            **({"page_store": {"format": pagestore.FORMAT, "packs": packs}} if packs else {}),
            **({"row_store": self._row_store(listed)} if listed else {}),
            **self.extra,
            **(extra or {}),
        }
        write_atomic(self.dir / MANIFEST, dumps(manifest))
        crash_point("manifest-written")
        (self.dir / CHECKPOINT).unlink()
        crash_point("sealed")
        _move_into_raw(self.dir, self.final)
        return manifest

    def _list_rows(self, tables: dict[str, pl.DataFrame | pl.LazyFrame]) -> dict[str, rowstore.Listed]:
        """The model tables of a crawl stored as listings: their rows new or changed since the previous
        snapshot taken the same way stored in _packs/ (ingest/rowstore.py); the others are written whole,
        as are an import's (a one-off load of whole input files, kept with its raw_json)."""
        listed: dict[str, rowstore.Listed] = {}
        if self.kind == "imported":
            return listed
        previous = None
        for name, volatile in rowstore.stored_tables(self.source).items():
            frame = tables.get(name)
            if isinstance(frame, pl.DataFrame):
                if previous is None:
                    previous = previous_snapshot(self.home, self.source, self.snapshot_date, self.plan) or False
                stored = rowstore.store(frame, name, volatile, self._frames.packs, previous or None)
                if stored is not None:
                    listed[name] = stored
        if listed:
            crash_point("rows-stored")
        return listed

    def _row_store(self, listed: dict[str, rowstore.Listed]) -> dict[str, Any]:
        files = {
            name: file_entry(self._frames.packs / name)
            for table, stored in listed.items()
            for name in (rowstore.rows_name(table, rows_file) for rows_file in stored.rows_files)
        }
        return rowstore.manifest_entry(listed, dict(sorted(files.items())))

    def _pack_pages(self) -> dict[str, dict[str, Any]]:
        """Move the staged pages into one pack (raw/<source>/_packs/) and the page index; the packs the
        snapshot needs, with their sha256 and size. Done once: a rerun finds the index and only
        finishes removing pages/. A page staged as gzip (before the packs) is packed as a frame."""
        index, folder = pagestore.index_file(self.dir) or self.dir / pagestore.INDEX, self.dir / "pages"
        if not index.is_file() and self.pages_done:
            metas = [meta if "bases" in meta else self._staged_as_gzip(meta) for meta in self.page_metas()]
            name, spans, _size = pagestore.write_pack(self._frames.packs, map(self._staged_frame, metas))
            entries = [
                {**meta, "frame": {"pack": name, "offset": offset, "length": length}}
                for meta, (offset, length) in zip(metas, spans, strict=True)
            ]
            write_atomic(index, pagestore.index_bytes(entries))
            crash_point("pages-packed")
        if folder.is_dir():
            shutil.rmtree(folder)
        if not index.is_file():
            return {}
        needed = pagestore.packs_needed(pagestore.read_index(self.dir))
        return {name: file_entry(self._frames.packs / name) for name in sorted(needed)}

    def _staged_frame(self, meta: dict[str, Any]) -> bytes:
        stem = self.dir / "pages" / f"{meta['page']:06d}"
        if stem.with_suffix(".zst").is_file():
            return stem.with_suffix(".zst").read_bytes()
        return pagestore.compress_alone(pagestore.page_body(self.dir, meta, self._frames))

    def _staged_as_gzip(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The meta of a page a crawl staged as gzip before the packs: packed alone, ids found now."""
        body = pagestore.page_body(self.dir, meta, self._frames)
        try:
            ids = pagestore.page_ids(orjson.loads(body))
        except orjson.JSONDecodeError:
            ids = []
        return {**meta, "body_bytes": len(body), "ids": ids, "bases": []}


def previous_snapshot(home: Path, source: str, snapshot_date: date, plan: dict[str, Any]) -> Path | None:
    """The newest complete snapshot of a source before a date taken with the same parameters."""
    for day in reversed(complete_snapshots(home, source)):
        if day < snapshot_date and read_manifest(home, source, day).get("params") == plan:
            return snapshot_path(home, source, day)
    return None


# -- recovery ------------------------------------------------------------------------------------
def _manifest_identity(partition: Path) -> dict[str, str] | None:
    """The sha256 (and finish time) of a partition's manifest, or None when it has none."""
    manifest_file = partition / MANIFEST
    if not manifest_file.is_file():
        return None
    data = manifest_file.read_bytes()
    return {
        "manifest_sha256": hashlib.sha256(data).hexdigest(),
        "finished_at": orjson.loads(data).get("finished_at"),
    }


def _replaced_sha(partition: Path) -> str | None:
    manifest = orjson.loads((partition / MANIFEST).read_bytes())
    return (manifest.get("replaces") or {}).get("manifest_sha256")


def _aside(staged: Path) -> Path:
    return staged.with_name(f"{staged.name}.replaced")


def _move_into_raw(staged: Path, final: Path) -> None:
    # over an old snapshot: the two swap places in one rename and the old one is then removed
    # (where that system call is missing, the old one waits in staging/<...>.replaced)
    replace_dir(staged, final, aside=_aside(staged))


@dataclass(frozen=True)
class Recovery:
    """What a run finished or tidied up after a killed one (logged, and in the run's metadata)."""

    notes: tuple[str, ...] = ()
    published: bool = False  # a snapshot (or a --force retake) the killed run had finished is now in raw/


def recover_staged(home: Path, source: str, snapshot_date: date) -> Recovery:
    """Finish or tidy up what a killed run left for one snapshot; say (and log) what was done.

    Called under the snapshot's lock before anything else. The cases, each a crash window:
    temporary files of an interrupted write; a sealed snapshot (manifest written) not yet in
    raw/, moved in or swapped in if it is a retake of what raw/ holds; the old snapshot a retake
    swapped out, removed; the old snapshot set aside by the two-rename fallback, removed once the
    new one is in, else put back.
    """
    staged, final = staging_path(home, source, snapshot_date), snapshot_path(home, source, snapshot_date)
    aside = _aside(staged)
    label = f"{source} {snapshot_date}"
    done: list[str] = []
    published = False
    for tmp in staged.rglob(".*.tmp") if staged.is_dir() else []:
        tmp.unlink()
    sealed = staged.is_dir() and (staged / MANIFEST).is_file() and _intact(staged, label, done)
    if aside.is_dir():
        if final.exists():  # the retake is in: only the old one was left to remove
            shutil.rmtree(aside)
            published = True
            done.append("removed the previous snapshot an interrupted --force had set aside")
        elif sealed:  # set aside, the new one not yet moved in: it is the newer in every case
            staged.rename(final)
            shutil.rmtree(aside)
            sealed, published = False, True
            done.append("published the retake an interrupted --force had finished")
        else:
            aside.rename(final)
            done.append("put back the previous snapshot an interrupted --force had set aside")
    if sealed:
        staged_sha = _manifest_identity(staged)["manifest_sha256"]
        final_sha = (_manifest_identity(final) or {}).get("manifest_sha256")
        if final_sha is None and not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            staged.rename(final)
            published = True
            done.append("published the snapshot an interrupted run had finished")
        elif final_sha is not None and _replaced_sha(staged) == final_sha:
            _move_into_raw(staged, final)
            published = True
            done.append("published the retake an interrupted --force had finished (it replaces the old one)")
        elif final_sha is not None and _replaced_sha(final) == staged_sha:  # the retake is in already
            shutil.rmtree(staged)
            published = True
            done.append("removed the old snapshot an interrupted --force had swapped out of raw/")
        else:
            log.warning("%s: %s holds a finished snapshot that raw/ does not expect; left as it is", label, staged)
    for note in done:
        log.warning("%s: %s", label, note)
    return Recovery(tuple(done), published)


def _intact(staged: Path, label: str, done: list[str]) -> bool:
    """A sealed staging folder is published only whole; a damaged one goes back to its checkpoint."""
    try:
        verify_snapshot(staged)
        return True
    except BadSnapshot as error:
        (staged / MANIFEST).unlink()
        if not (staged / CHECKPOINT).is_file():
            shutil.rmtree(staged)
        done.append(f"dropped a damaged unpublished snapshot ({error})")
        return False


def page_limit(
    home: Path, source: str, snapshot_date: date, plan: dict[str, Any], bounds: CrawlBounds
) -> tuple[int, date, int] | None:
    """The most pages this crawl may take: a multiple of the newest earlier snapshot taken with the
    same parameters (None when there is none)."""
    for day in reversed(complete_snapshots(home, source)):
        if day >= snapshot_date:
            continue
        manifest = read_manifest(home, source, day)
        if manifest.get("params") == plan and manifest.get("pages"):
            pages = int(manifest["pages"])
            return max(bounds.min_page_limit, math.ceil(bounds.page_growth * pages)), day, pages
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat()

"""The raw snapshot store: immutable, dated, checksummed, never silently partial.

Layout under $HUBWATCH_HOME:

    raw/<source>/snapshot_date=YYYY-MM-DD/      a COMPLETE snapshot (readers look only here)
        pages/000001.json.gz                    a response body exactly as received (gzip)
        pages/000001.meta.json                  its request URL (secrets stripped), status, time
        <table>.parquet                         normalised rows (typed columns + the raw item JSON)
        manifest.json                           written last: what, when, how, sha256 of every file
    staging/<source>/snapshot_date=YYYY-MM-DD/  a snapshot being taken (invisible to readers)
        checkpoint.json                         rewritten after every page: where to resume

A page is committed when its meta file exists and the checkpoint counts it; a crawl killed at
any instant resumes from the checkpoint, re-fetching at most the one uncommitted page, so no
page is lost or stored twice. The finished snapshot moves from staging/ to raw/ by one rename.
"""

from __future__ import annotations

import fcntl
import gc
import gzip
import hashlib
import logging
import operator
import shutil
import socket
import zlib
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

from ingest import __version__
from ingest.files import dumps, replace_dir, sha256_file, write_atomic
from ingest.home import snapshot_path, staging_path
from ingest.http import CrawlError, Fetched
from ingest.quality import Quality, typed_values
from ingest.sources import SOURCES

KINDS = ("live", "simulated", "imported")
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.json"

log = logging.getLogger("hubwatch.landing")


def complete_snapshots(home: Path, source: str) -> list[date]:
    """Dates of the complete snapshots of a source, oldest first."""
    root = home / "raw" / source
    if not root.is_dir():
        return []
    dates = []
    for child in root.glob("snapshot_date=*"):
        if (child / MANIFEST).is_file():
            dates.append(date.fromisoformat(child.name.removeprefix("snapshot_date=")))
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
        files = manifest["files"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise BadSnapshot(f"{manifest_file} is not a hubwatch manifest") from None
    for name, entry in files.items():
        target = path / name
        if not target.is_file():
            raise BadSnapshot(f"{target} is listed in the manifest but missing")
        if sha256_file(target) != entry["sha256"]:
            raise BadSnapshot(f"{target} does not match the sha256 in its manifest (corrupt or altered)")
    return manifest


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


class PageBudgetReached(Exception):
    """--max-pages pages were taken this run; the snapshot stays staged and resumable."""


@dataclass(frozen=True)
class PageEvent:
    source: str
    pages: int
    items: int
    started_at: datetime


class StagedSnapshot:
    """A snapshot being taken: pages land in staging/ with a checkpoint after each one.

    Use as a context manager (it holds a lock so two crawls of the same snapshot can't mix).
    `state` is where to resume (None on a fresh start); `add_page` commits a page and the
    state after it; `publish` normalises into Parquet, writes the manifest last and moves the
    whole directory into raw/.
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
    ):
        if source not in SOURCES:
            raise CrawlError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
        if kind not in KINDS:
            raise CrawlError(f"unknown snapshot kind {kind!r}")
        self.home, self.source, self.snapshot_date = home, source, snapshot_date
        self.kind, self.host, self.plan = kind, host, plan
        self.force, self.max_pages, self.on_page = force, max_pages, on_page
        self.final = snapshot_path(home, source, snapshot_date)
        self.dir = staging_path(home, source, snapshot_date)
        self._lock_handle = None
        self._pages_this_run = 0
        self._seen_cursors: set[tuple[str, str]] = set()  # (stream, cursor)

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> StagedSnapshot:
        if self.final.exists() and not self.force:
            raise SnapshotExists(
                f"{self.source} snapshot of {self.snapshot_date} is already complete "
                f"at {self.final} (use --force to retake it)"
            )
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self._lock_handle = (self.dir.parent / f"{self.dir.name}.lock").open("w")
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_handle.close()
            raise CrawlError(f"another crawl of {self.source} {self.snapshot_date} is running") from None
        self.checkpoint = self._load_or_start()
        return self

    def __exit__(self, *exc) -> None:
        if self._lock_handle:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            self._lock_handle.close()

    def _plan_key(self) -> str:
        return plan_key(self.kind, self.host, self.plan)

    def _load_or_start(self) -> dict[str, Any]:
        checkpoint_file = self.dir / CHECKPOINT
        if checkpoint_file.is_file() and not self.force:
            checkpoint = orjson.loads(checkpoint_file.read_bytes())
            if checkpoint.get("plan_key") == self._plan_key():
                checkpoint["resumes"] += 1
                self._seen_cursors = {
                    (meta["stream"], meta["cursor"]) for meta in self.page_metas(checkpoint["pages"]) if meta["cursor"]
                }
                log.info(
                    "resuming %s %s after page %d",
                    self.source,
                    self.snapshot_date,
                    checkpoint["pages"],
                )
                return checkpoint
            log.warning("discarding staged %s %s: taken with other parameters", self.source, self.snapshot_date)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "pages").mkdir(parents=True)
        checkpoint = {
            "plan_key": self._plan_key(),
            "started_at": _now(),
            "pages": 0,
            "items": 0,
            "state": None,
            "errors": {},
            "resumes": 0,
        }
        write_atomic(self.dir / CHECKPOINT, dumps(checkpoint))
        return checkpoint

    # -- pages ---------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any] | None:
        """Where the crawl goes on from: the state saved with the last committed page."""
        return self.checkpoint["state"]

    @property
    def pages_done(self) -> int:
        return self.checkpoint["pages"]

    def check_cursor(self, stream: str, cursor: str | None) -> None:
        """A cursor the server hands out twice in one stream would loop forever: fail instead."""
        if cursor is None:
            return
        if (stream, cursor) in self._seen_cursors:
            raise CrawlError(
                f"{self.source}: the server returned cursor {cursor!r} a second time "
                f"(page {self.pages_done + 1}); refusing to loop"
            )

    def add_page(
        self,
        fetched: Fetched,
        *,
        stream: str,
        items: int,
        cursor: str | None,
        state: dict[str, Any] | None,
        errors: Counter[str],
    ) -> None:
        """Commit one page: body, then meta, then the checkpoint that counts it."""
        self.check_cursor(stream, cursor)
        number = self.pages_done + 1
        stem = self.dir / "pages" / f"{number:06d}"
        write_atomic(stem.with_suffix(".json.gz"), gzip.compress(fetched.body, compresslevel=6, mtime=0))
        meta = {
            "page": number,
            "stream": stream,
            "url": fetched.url,
            "status": fetched.status,
            "fetched_at": fetched.fetched_at.isoformat(),
            "attempts": fetched.attempts,
            "items": items,
            "cursor": cursor,
            "body_sha256": hashlib.sha256(fetched.body).hexdigest(),
        }
        write_atomic(stem.with_suffix(".meta.json"), dumps(meta))
        if cursor is not None:
            self._seen_cursors.add((stream, cursor))
        self.checkpoint.update(
            pages=number,
            items=self.checkpoint["items"] + items,
            state=state,
            errors=dict(Counter(self.checkpoint["errors"]) + errors),
        )
        write_atomic(self.dir / CHECKPOINT, dumps(self.checkpoint))
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

    def page_metas(self, upto: int | None = None) -> Iterator[dict[str, Any]]:
        last = self.pages_done if upto is None else upto
        for number in range(1, last + 1):
            yield orjson.loads((self.dir / "pages" / f"{number:06d}.meta.json").read_bytes())

    def pages(self, stream: str | None = None) -> Iterator[tuple[dict[str, Any], Any]]:
        """Committed pages in order, as (meta, parsed body)."""
        for meta in self.page_metas():
            if stream is not None and meta["stream"] != stream:
                continue
            stored = (self.dir / "pages" / f"{meta['page']:06d}.json.gz").read_bytes()
            body = zlib.decompress(stored, wbits=31)  # gzip framing, faster than gzip.decompress
            yield meta, orjson.loads(body)

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
        row groups of row_group_size rows (memory grows with the row group)."""
        counts = {}
        for name, frame in tables.items():
            target = self.dir / f"{name}.parquet"
            tmp = target.with_name(f".{target.name}.tmp")
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(tmp, compression="zstd", statistics=True, row_group_size=row_group_size)
                counts[name] = pl.scan_parquet(tmp).select(pl.len()).collect().item()
            else:
                frame.write_parquet(tmp, compression="zstd", statistics=True)
                counts[name] = frame.height
            tmp.replace(target)
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
            "files": files,
            **(extra or {}),
        }
        (self.dir / CHECKPOINT).unlink()
        write_atomic(self.dir / MANIFEST, dumps(manifest))
        self._move_into_raw()
        return manifest

    def _move_into_raw(self) -> None:
        # --force: the old snapshot stays whole (set aside in staging/) until the new one is in
        replace_dir(self.dir, self.final, aside=self.dir.with_name(f"{self.dir.name}.replaced"))


def _now() -> str:
    return datetime.now(UTC).isoformat()

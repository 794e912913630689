"""The raw page store: every response body exactly as received, checksummed, and stored once.

A daily crawl of a hub sees almost the same items every day, changed only in their counters, so
storing each day's pages whole (as gzip) grew the store by a full copy a day. Since format
`zstd-packs/1` a snapshot's page bodies are zstd frames in one pack file, and a page whose items an
earlier snapshot already held is a *delta*: compressed with those earlier pages' bodies as its
dictionary (zstd's raw-content dictionary, as `zstd --patch-from`), so it costs what changed.

    raw/<source>/snapshot_date=D/pages.jsonl.zst   one line per page (zstd): its meta (URL with secrets stripped,
                                               status, time, items, cursor, the ids of the items it
                                               holds, the sha256 and size of its body as received),
                                               where its frame is (pack, offset, length) and its bases
    raw/<source>/__packs/<sha256>.pack           one snapshot's frames back to back, named by their own
                                               sha256, never modified, never deleted

A base is always a frame compressed alone (never a delta), so any page is rebuilt from at most a few
frames, and a pack is shared: a base outlives the snapshot that first stored it, when that snapshot
is withdrawn or retaken. Each page's body is checked against its sha256 when it is stored; the
manifest holds the sha256 of the index and of every pack the snapshot needs (`page_store`), so the
build's verification catches any changed byte, and `verify_pages` rebuilds every page and checks it.

Snapshots stored before are read as they are: format 1 (pages/NNNNNN.json.gz + pages/NNNNNN.meta.json)
and `zstd-packs/1` (the same index uncompressed, pages.jsonl: 14-20 KB a day of the fakehub
benchmark's 270 KB, now 3-4 KB).
"""

from __future__ import annotations

import hashlib
import math
import os
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson
import zstandard as zstd

from ingest.files import sha256_file

FORMAT = "zstd-packs/2"  # /1 kept the same index uncompressed, as pages.jsonl (still read)
PACKS = "_packs"  # raw/<source>/_packs/: shared by the source's snapshots; the leading "_" hides it
# from Spark's and Hive's file listing, so raw/<source>/ stays a plain Hive-partitioned table for them
INDEX = "pages.jsonl.zst"  # in the partition: one line per page, one zstd frame
LEGACY_INDEX = "pages.jsonl"  # the same lines uncompressed (format zstd-packs/1)
INDEX_LEVEL = 19  # the index is small and written once: its ids and pack names compress 4-7x
LEVEL = 9  # zstd level of every frame (19 is 10x slower for 5% less)
BIG_BODY = 64 << 20  # bodies larger than this (whole imported files) are compressed at level 3
DELTA_SHARE = 0.5  # a delta is kept when it is smaller than this share of the page compressed alone
MAX_BASES = 4  # earlier pages a delta may use as its dictionary
MAX_DICTIONARY = 64 << 20  # bytes of dictionary a delta may use
CACHE_BYTES = 256 << 20  # decompressed base bodies kept in memory while a crawl runs


class StoreError(Exception):
    """A page cannot be rebuilt exactly from the store (a missing or altered pack)."""


def packs_dir(partition: Path) -> Path:
    """raw/<source>/_packs/ of a partition in raw/, staging/ or withdrawn/ (all under one home)."""
    return partition.parents[2] / "raw" / partition.parent.name / PACKS


def page_items(payload: Any) -> list[Any]:
    """The items a page holds, as sent: {"items": [...]} pages, lists, or one item."""
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and "id" in payload:
        return [payload]
    return []


def page_ids(payload: Any) -> list[Any]:
    """The ids of the items a page holds: how a page finds the earlier pages that held the same
    items. Ids are kept as sent (int or str)."""
    items = page_items(payload)
    return [item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), int | str)]


def ref_key(ref: dict[str, Any]) -> tuple[str, int, int]:
    return ref["pack"], ref["offset"], ref["length"]


class Frames:
    """Reads frames from a source's packs and rebuilds page bodies (base bodies cached, LRU)."""

    def __init__(self, packs: Path, cache_bytes: int = CACHE_BYTES):
        self.packs = packs
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._cached = 0
        self._plain = zstd.ZstdDecompressor(max_window_size=1 << 31)

    def frame(self, ref: dict[str, Any]) -> bytes:
        path = self.packs / ref["pack"]
        try:
            with path.open("rb") as handle:
                handle.seek(ref["offset"])
                data = handle.read(ref["length"])
        except FileNotFoundError:
            raise StoreError(f"{path} is missing: a page stored in it cannot be rebuilt") from None
        if len(data) != ref["length"]:
            raise StoreError(f"{path} is shorter than its pages say (truncated)")
        return data

    def base(self, ref: dict[str, Any]) -> bytes:
        """A base body: a frame compressed alone, checked against its sha256."""
        key = ref_key(ref)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        body = self._decompress(self.frame(ref), None, ref)
        if hashlib.sha256(body).hexdigest() != ref["sha256"]:
            raise StoreError(f"{self.packs / ref['pack']}: a base page does not match its sha256 (altered)")
        self._cache[key] = body
        self._cached += len(body)
        while self._cached > self.cache_bytes and len(self._cache) > 1:
            _key, dropped = self._cache.popitem(last=False)
            self._cached -= len(dropped)
        return body

    def dictionary(self, bases: list[dict[str, Any]]) -> bytes:
        return b"".join(self.base(ref) for ref in bases)

    def body(self, frame: bytes, bases: list[dict[str, Any]], where: Any = "") -> bytes:
        """A page body from its frame and its bases (not checked: see `page_body`)."""
        return self._decompress(frame, self.dictionary(bases) if bases else None, where)

    def _decompress(self, frame: bytes, dictionary: bytes | None, where: Any) -> bytes:
        try:
            if dictionary is None:
                return self._plain.decompress(frame)
            raw = zstd.ZstdCompressionDict(dictionary, dict_type=zstd.DICT_TYPE_RAWCONTENT)
            return zstd.ZstdDecompressor(dict_data=raw, max_window_size=1 << 31).decompress(frame)
        except zstd.ZstdError as error:
            raise StoreError(f"a stored page ({where}) does not decompress: {error}") from None


def compress_alone(body: bytes) -> bytes:
    level = LEVEL if len(body) <= BIG_BODY else 3
    return zstd.ZstdCompressor(level=level, write_content_size=True).compress(body)


def compress_delta(body: bytes, dictionary: bytes) -> bytes:
    """body compressed with dictionary as raw content (`zstd --patch-from`): the window covers both."""
    window_log = min(31, max(10, math.ceil(math.log2(len(dictionary) + len(body) + 1))))
    params = zstd.ZstdCompressionParameters.from_level(
        LEVEL, source_size=len(body), window_log=window_log, write_content_size=True
    )
    raw = zstd.ZstdCompressionDict(dictionary, dict_type=zstd.DICT_TYPE_RAWCONTENT)
    return zstd.ZstdCompressor(dict_data=raw, compression_params=params).compress(body)


class BaseIndex:
    """Which earlier frames held which items: built from the previous snapshot's pages.jsonl.

    Each item id points to the frames its page was built from (the page itself if it was stored
    alone, else its bases), so bases stay frames compressed alone, however long the chain of days.
    """

    def __init__(self, entries: Iterable[dict[str, Any]] = ()):
        self.by_item: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.sizes: dict[tuple[str, int, int], int] = {}
        for entry in entries:
            if entry.get("bases"):
                refs = entry["bases"]
            else:
                refs = [{**entry["frame"], "sha256": entry["body_sha256"], "bytes": entry["body_bytes"]}]
            kind = stream_kind(entry["stream"])
            for ref in refs:
                self.sizes[ref_key(ref)] = ref["bytes"]
            for item in entry.get("ids") or ():
                self.by_item[(kind, str(item))] = refs

    def __bool__(self) -> bool:
        return bool(self.by_item)

    def choose(self, stream: str, ids: list[Any]) -> list[dict[str, Any]]:
        """The frames that held most of these items (at most MAX_BASES, MAX_DICTIONARY bytes)."""
        kind = stream_kind(stream)
        votes: Counter[tuple[str, int, int]] = Counter()
        refs: dict[tuple[str, int, int], dict[str, Any]] = {}
        for item in ids:
            for ref in self.by_item.get((kind, str(item)), ()):
                key = ref_key(ref)
                votes[key] += 1
                refs[key] = ref
        chosen, total = [], 0
        for key, _votes in votes.most_common():
            if len(chosen) == MAX_BASES or total + self.sizes[key] > MAX_DICTIONARY:
                break
            chosen.append(refs[key])
            total += self.sizes[key]
        return sorted(chosen, key=ref_key)  # a stable order: the dictionary is their bodies in this order


def stream_kind(stream: str) -> str:
    """hf `list:0` and `list:1` hold the same kind of item; `files` pages another."""
    return stream.split(":", 1)[0]


def encode(body: bytes, bases: list[dict[str, Any]], frames: Frames) -> tuple[bytes, list[dict[str, Any]]]:
    """The frame to store for a page body, and the bases it needs (none: compressed alone). A delta
    is kept only when it is well smaller than the page alone, and only once it is seen to rebuild
    the body exactly."""
    alone = compress_alone(body)
    if not bases:
        return alone, []
    try:
        dictionary = frames.dictionary(bases)
    except StoreError:  # an earlier pack is damaged: store this page whole
        return alone, []
    delta = compress_delta(body, dictionary)
    if len(delta) >= DELTA_SHARE * len(alone) or frames.body(delta, bases) != body:
        return alone, []
    return delta, bases


# -- a partition's pages ---------------------------------------------------------------------------
def index_file(partition: Path) -> Path | None:
    """A packed partition's page index (pages.jsonl.zst, or pages.jsonl of format zstd-packs/1), or
    None when its pages are not packed."""
    return next((partition / name for name in (INDEX, LEGACY_INDEX) if (partition / name).is_file()), None)


def read_index(partition: Path) -> list[dict[str, Any]]:
    """The page index of a packed partition, one entry per page, in page order."""
    path = index_file(partition)
    if path is None:
        raise FileNotFoundError(partition / INDEX)
    data = path.read_bytes()
    if path.name == INDEX:
        data = zstd.ZstdDecompressor().decompress(data)
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def index_bytes(entries: list[dict[str, Any]]) -> bytes:
    """pages.jsonl.zst: the entries as JSON lines (keys sorted), in one zstd frame that records its size."""
    lines = b"".join(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n" for entry in entries)
    return zstd.ZstdCompressor(level=INDEX_LEVEL, write_content_size=True).compress(lines)


def legacy_metas(partition: Path) -> list[dict[str, Any]]:
    """The per-page metas of a format-1 partition (or of pages still staged), in page order."""
    folder = partition / "pages"
    metas = [orjson.loads(p.read_bytes()) for p in folder.glob("*.meta.json")] if folder.is_dir() else []
    return sorted(metas, key=lambda meta: meta["page"])


def page_body(partition: Path, meta: dict[str, Any], frames: Frames | None = None) -> bytes:
    """One page's body exactly as received, from whichever form it is stored in; StoreError when
    it does not rebuild to its sha256."""
    frames = frames or Frames(packs_dir(partition))
    stem = partition / "pages" / f"{meta['page']:06d}"
    if "frame" in meta:  # packed
        body = frames.body(frames.frame(meta["frame"]), meta.get("bases") or [], meta["page"])
    elif stem.with_suffix(".zst").is_file():  # staged, not yet packed
        body = frames.body(stem.with_suffix(".zst").read_bytes(), meta.get("bases") or [], meta["page"])
    else:  # format 1: gzip
        body = zlib.decompress(stem.with_suffix(".json.gz").read_bytes(), wbits=31)
    if meta.get("body_sha256") and hashlib.sha256(body).hexdigest() != meta["body_sha256"]:
        raise StoreError(f"page {meta['page']} of {partition} does not match its sha256 (altered)")
    return body


def page_entries(partition: Path) -> list[dict[str, Any]]:
    """Every page's meta, packed (pages.jsonl) or not (pages/*.meta.json, format 1 or staged)."""
    return read_index(partition) if index_file(partition) else legacy_metas(partition)


def read_pages(partition: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    """(meta, body exactly as received) of every page of a partition, in order, each checked."""
    frames = Frames(packs_dir(partition))
    for meta in page_entries(partition):
        yield meta, page_body(partition, meta, frames)


def raw_items(partition: Path, stream_prefix: str = "") -> Iterator[Any]:
    """Every item of a crawled snapshot exactly as the hub sent it (what the tables' `raw_json`
    column held before the packs), page by page, from the pages whose stream starts with
    stream_prefix (hf: "list" for the listing, "files" for the per-repo file pages)."""
    for meta, body in read_pages(partition):
        if meta["stream"].startswith(stream_prefix):
            yield from page_items(orjson.loads(body))


def verify_pages(partition: Path) -> int:
    """Rebuild every page and check it against its sha256; the number of pages (StoreError otherwise)."""
    return sum(1 for _ in read_pages(partition))


# -- packing ----------------------------------------------------------------------------------------
def write_pack(packs: Path, frames: Iterable[bytes]) -> tuple[str, list[tuple[int, int]], int]:
    """Write frames back to back into _packs/<sha256>.pack (atomically; kept as it is when a whole
    pack of that name is already there); returns its name, each frame's (offset, length), its size."""
    packs.mkdir(parents=True, exist_ok=True)
    _remove_dead_temporaries(packs)
    tmp = packs / f".pack.{os.getpid()}.tmp"
    digest, spans, offset = hashlib.sha256(), [], 0
    try:
        with tmp.open("wb") as handle:
            for frame in frames:
                handle.write(frame)
                digest.update(frame)
                spans.append((offset, len(frame)))
                offset += len(frame)
            handle.flush()
            os.fsync(handle.fileno())
        name = f"{digest.hexdigest()}.pack"
        final = packs / name
        if final.is_file() and final.stat().st_size == offset and sha256_file(final) == digest.hexdigest():
            tmp.unlink()
        else:
            tmp.replace(final)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    return name, spans, offset


def _remove_dead_temporaries(packs: Path) -> None:
    """A pack half-written by a process that was killed (its pid is gone) is removed."""
    for tmp in packs.glob(".pack.*.tmp"):
        pid = tmp.name.split(".")[2]
        if pid.isdigit() and not _alive(int(pid)):
            with suppress(OSError):
                tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def packs_needed(entries: list[dict[str, Any]]) -> set[str]:
    """Every pack a partition's pages are rebuilt from: their own and their bases'."""
    names = set()
    for entry in entries:
        names.add(entry["frame"]["pack"])
        names.update(ref["pack"] for ref in entry.get("bases") or ())
    return names

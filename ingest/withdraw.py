"""Withdrawing a snapshot: it leaves raw/ whole, in one rename, with its reason; nothing is deleted.

A bad import or a broken crawl must be taken back without deleting files by hand. The whole
partition moves to `withdrawn/<source>/snapshot_date=YYYY-MM-DD/` (a `.<UTC stamp>` suffix when
that date was withdrawn before) holding `withdrawal.json` = {source, snapshot_date, reason,
withdrawn_at, manifest_sha256}. The date is then free to be imported or taken again, and the
next build notices the snapshot is gone and rebuilds without it (dagster_project/warehouse.py).
"""

from __future__ import annotations

import fcntl
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from ingest.errors import CrawlError
from ingest.files import dumps, sha256_file, write_atomic
from ingest.home import MANIFEST, snapshot_path, staging_path, withdrawn_path
from ingest.sources import SOURCES

WITHDRAWAL = "withdrawal.json"


def withdraw(home: Path, source: str, snapshot_date: date, reason: str, now: datetime | None = None) -> Path:
    """Move a complete snapshot out of raw/; returns where it now is."""
    if source not in SOURCES:
        raise CrawlError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    reason = (reason or "").strip()
    if not reason:
        raise CrawlError("a withdrawal needs a reason (--reason TEXT): it is kept with the snapshot")
    partition = snapshot_path(home, source, snapshot_date)
    if not (partition / MANIFEST).is_file():
        raise CrawlError(f"{source} has no complete snapshot dated {snapshot_date} (nothing at {partition})")
    now = now or datetime.now(UTC)
    lock_path = staging_path(home, source, snapshot_date)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with (lock_path.parent / f"{lock_path.name}.lock").open("w") as lock:  # the lock a crawl of it holds
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CrawlError(f"a crawl of {source} {snapshot_date} is running; withdraw it afterwards") from None
        record = {
            "source": source,
            "snapshot_date": snapshot_date.isoformat(),
            "reason": reason,
            "withdrawn_at": now.isoformat(),
            "manifest_sha256": sha256_file(partition / MANIFEST),
        }
        target = free_target(withdrawn_path(home, source, snapshot_date), now)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(partition / WITHDRAWAL, dumps(record))
        try:
            partition.rename(target)  # the one step: raw/ loses it whole, withdrawn/ gains it whole
        except OSError as error:
            (partition / WITHDRAWAL).unlink(missing_ok=True)
            raise CrawlError(f"could not move {partition} to {target}: {error.strerror}") from None
    return target


def free_target(target: Path, now: datetime) -> Path:
    """The partition's name in withdrawn/, stamped when that date was withdrawn before."""
    if not target.exists():
        return target
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = target.with_name(f"{target.name}.{stamp}"), 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.{stamp}-{n}")
    return candidate


def withdrawals(home: Path) -> list[dict[str, Any]]:
    """Every withdrawal record under withdrawn/, oldest first."""
    records = [orjson.loads(p.read_bytes()) for p in (home / "withdrawn").glob(f"*/*/{WITHDRAWAL}")]
    return sorted(records, key=lambda r: (r.get("withdrawn_at", ""), r.get("source", "")))

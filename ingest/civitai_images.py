"""Civitai's image feed without holes: every snapshot reaches back to where the last one stopped.

The API's `period` windows (Day, Week, ...) leave holes: a run that is missed, fails or comes late
loses its day for good, and snapshots taken less often than their window see only the window
before each of them. So a feed snapshot reads `/images` newest first (`sort=Newest`, every browsing
level, cursor paging) from the present back to the previous complete feed snapshot's high-water
mark (the newest `createdAt` it saw) less an overlap, and stops after the first page whose every
dated item is older than that line. Any cadence, and any missed or late run, then leaves no hole;
an image seen by two snapshots is one row in the warehouse.

- The first feed snapshot of a home backfills the whole feed, or back to `since`
  (`--images-since`). Against live Civitai that takes days: a run stops cleanly once its time
  budget is spent (`HUBWATCH_IMAGES_BUDGET`), and the next run continues the staged crawl under
  the date it started on (its content is the feed as it stood then; what arrived since is the
  next snapshot's), then takes its own.
- Images enter the feed only once rated, sometimes weeks after creation; one rated after the
  crawls passed its place is caught by a re-sweep, a snapshot that reaches back to `since` (never
  less far than the chain needs): explicit with `--images-since`, and automatic every
  `resweep_every_days` days, `resweep_days` days behind the previous snapshot's line.
- Cursors only ever come from the server (never built from a date or an id: quirk 8 of the API
  reference). Progress (cursor, stop line, high-water mark) is the staged snapshot's state under
  "images_feed", saved with every page, so a crawl stopped or killed anywhere resumes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import orjson

from ingest.civitai import page_items
from ingest.home import snapshot_path
from ingest.http import CrawlError, PoliteClient
from ingest.landing import CHECKPOINT, PageBudgetReached, StagedSnapshot, complete_snapshots, read_manifest
from ingest.timestamps import parse_timestamp, parse_timestamps

SOURCE = "civitai_images"
STATE_KEY = "images_feed"
FEED_PARAMS = {
    "limit": 200,
    "browsingLevel": 31,
    "sort": "Newest",
    "period": "AllTime",
    "withTags": "true",
    "withMeta": "true",
}
# an item dated later than this after its page was fetched is counted, never trusted as a mark
FUTURE_TOLERANCE = timedelta(hours=1)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeBudgetReached(PageBudgetReached):
    """The run's time budget is spent: the crawl stays staged and the next run continues it."""


def parse_duration(text: str, what: str) -> timedelta:
    """`90s`, `45m`, `6h`, `2d`, `1w`, or plain seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise CrawlError(f"invalid {what} {text!r}: expected a duration such as 90m, 6h or 2d")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2].lower()])


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise CrawlError(f"invalid {name} {raw!r}: expected a whole number of days (0 turns it off)")
    return int(raw)


@dataclass(frozen=True)
class FeedSettings:
    """How a feed snapshot reaches back, and how long one run may crawl."""

    overlap: timedelta = timedelta(hours=6)
    since: date | None = None  # sweep back at least to this date (first snapshot: backfill from it)
    budget: timedelta | None = timedelta(hours=4)  # None: no limit
    resweep_days: int = 30  # an automatic re-sweep reaches this many days further back (0: never)
    resweep_every_days: int = 7  # ... when no snapshot of the last this-many days did

    @classmethod
    def from_env(cls, **overrides: Any) -> FeedSettings:
        """HUBWATCH_IMAGES_OVERLAP, _BUDGET, _RESWEEP_DAYS, _RESWEEP_EVERY; overrides win."""
        env = os.environ
        given = {k: v for k, v in overrides.items() if v is not None}
        values: dict[str, Any] = {
            "overlap": given.pop("overlap", env.get("HUBWATCH_IMAGES_OVERLAP", "6h")),
            "budget": given.pop("budget", env.get("HUBWATCH_IMAGES_BUDGET", "4h")),
            "resweep_days": _env_int("HUBWATCH_IMAGES_RESWEEP_DAYS", cls.resweep_days),
            "resweep_every_days": _env_int("HUBWATCH_IMAGES_RESWEEP_EVERY", cls.resweep_every_days),
            **given,
        }
        for name in ("overlap", "budget"):
            if not isinstance(values[name], timedelta):
                values[name] = parse_duration(values[name], f"images {name}")
        values["budget"] = values["budget"] or None  # 0 means no limit
        return cls(**values)

    def deadline(self) -> float | None:
        """The monotonic instant this run must stop crawling at (None: never)."""
        return None if self.budget is None else time.monotonic() + self.budget.total_seconds()


@dataclass(frozen=True)
class Previous:
    """The complete feed snapshot a new one continues from."""

    snapshot_date: date
    high_water_mark: datetime


def plan(base: str) -> dict[str, Any]:
    return {"url": f"{base}/images", "params": FEED_PARAMS, "scope": "all", "mode": "feed"}


# -- where a snapshot starts and stops -------------------------------------------------------
def _feed_of(home: Path, day: date) -> dict[str, Any]:
    """The feed record of a complete snapshot's manifest ({} for windowed or imported ones)."""
    feed = read_manifest(home, SOURCE, day).get(STATE_KEY) or {}
    return feed if feed.get("mode") == "feed" else {}


def previous_feed(home: Path, day: date) -> Previous | None:
    """The latest complete feed snapshot dated before `day` that knows its high-water mark."""
    for earlier in reversed(complete_snapshots(home, SOURCE)):
        if earlier >= day:
            continue
        mark = parse_timestamp(_feed_of(home, earlier).get("high_water_mark"))
        if mark is not None:
            return Previous(earlier, mark)
    return None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, clock_time(0), tzinfo=UTC)


def resweep_due(home: Path, day: date, settings: FeedSettings) -> bool:
    """True when no complete feed snapshot of the last `resweep_every_days` days (before `day`)
    re-swept (automatically, or reaching as far back by itself: a backfill, a wide --images-since):
    a missed re-sweep day only moves the re-sweep to the next run."""
    if settings.resweep_days <= 0:
        return False
    for earlier in complete_snapshots(home, SOURCE):
        if not day - timedelta(days=settings.resweep_every_days) < earlier < day:
            continue
        feed = _feed_of(home, earlier)
        if not feed:
            continue
        stop_at = parse_timestamp(feed.get("stop_at"))
        wide = stop_at is None or stop_at <= _midnight(earlier - timedelta(days=settings.resweep_days))
        if wide or feed.get("resweep") == "automatic":
            return False
    return True


def start_state(home: Path, day: date, settings: FeedSettings, *, kind: str, host: str) -> dict[str, Any]:
    """Where a fresh feed snapshot dated `day` will stop, and why."""
    previous = previous_feed(home, day)
    since, resweep = (_midnight(settings.since), "explicit") if settings.since else (None, None)
    if since is None and previous is not None and resweep_due(home, day, settings):
        # back `resweep_days` behind where the previous snapshot reached, whatever the cadence: an
        # image rated within that many days of its creation is then never lost
        reach = timedelta(days=settings.resweep_days) + settings.overlap
        since, resweep = previous.high_water_mark - reach, "automatic"
    floors = [f for f in (since, previous.high_water_mark - settings.overlap if previous else None) if f]
    return {
        "mode": "feed",
        "kind": kind,
        "host": host,
        "cursor": None,
        "done": False,
        "stop_reason": None,
        "stop_at": _iso(min(floors)) if floors else None,  # None: the whole feed (a first backfill)
        "since": _iso(since),
        "resweep": resweep,
        "overlap_seconds": int(settings.overlap.total_seconds()),
        "previous_snapshot": previous.snapshot_date.isoformat() if previous else None,
        "previous_high_water_mark": _iso(previous.high_water_mark) if previous else None,
        "high_water_mark": None,
        "oldest_created_at": None,
        "items_past_stop": 0,
        "items_future": 0,
        "items_undated": 0,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


# -- crawling ----------------------------------------------------------------------------------
def advance(feed: dict[str, Any], items: list[Any], next_cursor: str | None, fetched_at: datetime) -> dict[str, Any]:
    """The feed state after one page: the mark, the counts, and whether the crawl is done."""
    raw = [item.get("createdAt") if isinstance(item, dict) else None for item in items]
    # the page's times and the feed's three in one parse: each call costs ~1.4 ms whatever its length
    known = [feed["stop_at"], feed["high_water_mark"], feed["oldest_created_at"]]
    *page_times, stop_at, high_water_mark, oldest_known = parse_timestamps(
        [None if v is None else str(v) for v in (*raw, *known)]
    ).to_list()
    dated = [t for t in page_times if t is not None]
    horizon = fetched_at + FUTURE_TOLERANCE
    trusted = [t for t in dated if t <= horizon]
    marks = [t for t in (*trusted, high_water_mark) if t is not None]
    oldest = [t for t in (*dated, oldest_known) if t is not None]
    state = {
        **feed,
        "cursor": next_cursor,
        "high_water_mark": _iso(max(marks)) if marks else None,
        "oldest_created_at": _iso(min(oldest)) if oldest else None,
        "items_past_stop": feed["items_past_stop"] + sum(1 for t in dated if stop_at and t < stop_at),
        "items_future": feed["items_future"] + len(dated) - len(trusted),
        "items_undated": feed["items_undated"] + len(items) - len(dated),
    }
    if next_cursor is None:
        state.update(done=True, stop_reason="end_of_feed")
    elif stop_at is not None and dated and max(dated) < stop_at:
        state.update(done=True, stop_reason="reached_stop")
    return state


def crawl_images(
    staged: StagedSnapshot,
    client: PoliteClient,
    feed_plan: dict[str, Any],
    *,
    home: Path,
    settings: FeedSettings,
    deadline: float | None,
) -> dict[str, Any]:
    """Read the feed newest first until the stop line; returns the manifest's feed record.

    Resumes from the staged state; after each committed page, stops cleanly (TimeBudgetReached)
    once the deadline has passed, so every run makes progress of at least one page.
    """
    feed = (staged.state or {}).get(STATE_KEY) or start_state(
        home, staged.snapshot_date, settings, kind=staged.kind, host=staged.host
    )
    while not feed["done"]:
        query = {**feed_plan["params"], **({"cursor": feed["cursor"]} if feed["cursor"] else {})}
        fetched = client.get_json(feed_plan["url"], query)
        items, next_cursor = page_items(fetched.payload, fetched.url)
        feed = advance(feed, items, next_cursor, fetched.fetched_at)
        try:
            staged.add_page(
                fetched,
                stream="items",
                items=len(items),
                cursor=next_cursor,
                state={STATE_KEY: feed},
                errors=client.take_errors(),
            )
        except PageBudgetReached:
            if not feed["done"]:
                raise
        if not feed["done"] and deadline is not None and time.monotonic() >= deadline:
            raise TimeBudgetReached(f"time budget spent after page {staged.pages_done}")
    return {STATE_KEY: manifest_record(feed)}


def manifest_record(feed: dict[str, Any]) -> dict[str, Any]:
    """What the manifest says about the crawl; the mark carries over when nothing was dated."""
    record = {k: v for k, v in feed.items() if k not in ("cursor", "done", "kind", "host")}
    if record["high_water_mark"] is None and record["previous_high_water_mark"] is not None:
        record["high_water_mark"] = record["previous_high_water_mark"]
        record["high_water_mark_from"] = "previous snapshot"
    else:
        record["high_water_mark_from"] = "this snapshot" if record["high_water_mark"] else None
    return record


def staged_feed_dates(home: Path, *, before: date, kind: str, host: str) -> Iterator[date]:
    """Dates of staged, unfinished feed crawls of this kind and host older than `before`,
    oldest first: the next run continues each before it starts its own."""
    root = home / "staging" / SOURCE
    if not root.is_dir():
        return
    for child in sorted(root.glob("snapshot_date=*")):
        try:
            day = date.fromisoformat(child.name.removeprefix("snapshot_date="))
        except ValueError:
            continue  # a lock file or a retake set aside
        checkpoint = child / CHECKPOINT
        if day >= before or not checkpoint.is_file() or snapshot_path(home, SOURCE, day).exists():
            continue
        state = orjson.loads(checkpoint.read_bytes()).get("state") or {}
        feed = state.get(STATE_KEY) or {}
        if feed.get("kind") == kind and feed.get("host") == host:
            yield day

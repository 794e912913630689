"""Take one dated snapshot of one source: pick its date and kind, crawl, normalise, publish.

Live APIs show only the present, so a live snapshot is dated today (UTC). `as_of` is accepted
only when the source's base URL is a loopback address (fakehub or a local replay server); the
date is then sent in the `X-Hubwatch-As-Of` header and the manifest says `simulated`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from ingest import civitai, civitai_images, cross_host, huggingface, rowstore
from ingest.home import parse_as_of, snapshot_path
from ingest.http import CrawlError, Credentials, PoliteClient, Politeness, redact_host, strip_userinfo
from ingest.landing import (
    SOURCES,
    CrawlBounds,
    PageBudgetReached,
    PageEvent,
    SnapshotExists,
    StagedSnapshot,
    complete_snapshots,
    gc_paused,
    is_loopback,
    read_manifest,
)
from ingest.quality import Quality

AS_OF_HEADER = "X-Hubwatch-As-Of"
DEFAULT_CIVITAI_API_BASE = "https://civitai.com/api/v1"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class Endpoints:
    """Where the sources live and the optional credentials (held in memory only).

    A base URL may carry user:password@ (a proxy's Basic auth); it is taken out of the URL and
    sent as a header to that origin only, so no URL hubwatch stores or logs ever holds it.
    """

    civitai_base: str = field(default=DEFAULT_CIVITAI_API_BASE, repr=False)
    hf_endpoint: str = field(default=DEFAULT_HF_ENDPOINT, repr=False)
    civitai_api_key: str | None = field(default=None, repr=False)
    hf_token: str | None = field(default=None, repr=False)
    # more Civitai hosts (CIVITAI_API_BASES after its first): image snapshots cross-check them
    civitai_other_bases: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_env(cls) -> Endpoints:
        env = os.environ
        bases = cross_host.civitai_bases(env, DEFAULT_CIVITAI_API_BASE)
        return cls(
            civitai_base=bases[0],
            civitai_other_bases=bases[1:],
            hf_endpoint=env.get("HF_ENDPOINT", DEFAULT_HF_ENDPOINT).rstrip("/"),
            civitai_api_key=env.get("CIVITAI_API_KEY") or None,
            hf_token=env.get("HF_TOKEN") or None,
        )

    def base_for(self, source: str) -> str:
        """The source's base URL without credentials: what is requested, stored and logged."""
        return strip_userinfo(self._configured(source))

    def credentials_for(self, source: str) -> Credentials | None:
        """The token (or the base URL's user:password) for the source's own origin."""
        secret = self.hf_token if source.startswith("hf_") else self.civitai_api_key
        return Credentials.for_base(self._configured(source), secret)

    def _configured(self, source: str) -> str:
        return self.hf_endpoint if source.startswith("hf_") else self.civitai_base


@dataclass(frozen=True)
class SnapshotResult:
    source: str
    snapshot_date: date
    status: str  # complete | exists | paused
    path: Path
    manifest: dict[str, Any] | None = None
    paused_by: str | None = None  # max_pages | time_budget
    # staged image-feed crawls of earlier dates that this run finished first (see civitai_images)
    finished_earlier: tuple[SnapshotResult, ...] = ()
    recovered: tuple[str, ...] = ()  # what this run finished or tidied up after a killed one


def snapshot_date_and_kind(base_url: str, as_of: str | None) -> tuple[date, str]:
    """Live crawls are dated today (UTC); past dates only from loopback (simulated) sources."""
    local = is_loopback(base_url)
    if as_of is None:
        return datetime.now(UTC).date(), "simulated" if local else "live"
    day = parse_as_of(as_of)
    if not local:
        host = urlsplit(base_url).hostname
        raise CrawlError(
            f"--as-of is only for simulated or replayed sources: {host} is not a loopback address "
            "(live APIs show only the present)"
        )
    return day, "simulated"


def as_of_for(partition: str, base_url: str) -> str | None:
    """The as_of of a daily partition: None (a live crawl) for today's partition of a live host,
    the partition's date otherwise (a loopback host: simulated)."""
    day = date.fromisoformat(partition)
    if day == datetime.now(UTC).date() and not is_loopback(base_url):
        return None
    return partition


def vanished_share(home: Path, source: str, day: date) -> tuple[float, int, date | None]:
    """Share and number of the previous complete snapshot's models that this one no longer lists,
    and that previous snapshot's date (None: this is the first)."""
    earlier = [d for d in complete_snapshots(home, source) if d < day]
    if not earlier:
        return 0.0, 0, None
    ids = [
        set(rowstore.read_table(snapshot_path(home, source, d), "models", columns=["model_id"])["model_id"])
        for d in (earlier[-1], day)
    ]
    gone = len(ids[0] - ids[1])
    return gone / max(len(ids[0]), 1), gone, earlier[-1]


def take_snapshot(
    source: str,
    *,
    home: Path,
    endpoints: Endpoints,
    as_of: str | None = None,
    max_pages: int | None = None,
    force: bool = False,
    images_period: str | None = None,
    image_feed: civitai_images.FeedSettings | None = None,
    hf_scope: huggingface.HfScope | None = None,
    politeness: Politeness | None = None,
    on_page: Callable[[PageEvent], None] | None = None,
    bounds: CrawlBounds | None = None,
) -> SnapshotResult:
    """Crawl one source into the raw store; resumes a staged crawl of the same date.

    A run killed at any point is finished by the next: pages already stored are not fetched
    again, a crawl whose pages are all stored goes straight to publishing, and a snapshot sealed
    in staging/ moves into raw/ (see StagedSnapshot). Civitai images are crawled as a feed since
    the previous complete snapshot (civitai_images), unless `images_period` asks for the API's own
    window; a feed crawl first finishes any staged feed crawl of an earlier date (a backfill that
    outlasted its run's time budget).
    """
    if source not in SOURCES:
        raise CrawlError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    base = endpoints.base_for(source)
    day, kind = snapshot_date_and_kind(base, as_of)
    feed = None
    if source == "civitai_images" and images_period is None:
        feed = image_feed or civitai_images.FeedSettings.from_env()
    scope = hf_scope or huggingface.HfScope.from_env()
    run = _Run(
        source=source,
        home=home,
        endpoints=endpoints,
        base=base,
        kind=kind,
        simulated=as_of is not None,
        plan=_plan(source, base, images_period, scope),
        hf_scope=scope,
        feed=feed,
        deadline=feed.deadline() if feed else None,
        max_pages=max_pages,
        politeness=politeness,
        on_page=on_page,
        bounds=bounds,
    )
    finished: list[SnapshotResult] = []
    if feed is not None:
        for earlier in civitai_images.staged_feed_dates(home, before=day, kind=kind, host=redact_host(base)):
            result = run.take(earlier, force=False)
            if result.status == "paused":
                return replace(result, finished_earlier=tuple(finished))
            finished.append(result)
    return replace(run.take(day, force=force), finished_earlier=tuple(finished))


@dataclass(frozen=True)
class _Run:
    """What one `take_snapshot` call needs to take a snapshot of one date of its source."""

    source: str
    home: Path
    endpoints: Endpoints
    base: str
    kind: str
    simulated: bool
    plan: dict[str, Any]
    hf_scope: huggingface.HfScope
    feed: civitai_images.FeedSettings | None
    deadline: float | None
    max_pages: int | None
    politeness: Politeness | None
    on_page: Callable[[PageEvent], None] | None
    bounds: CrawlBounds | None

    def take(self, day: date, *, force: bool) -> SnapshotResult:
        source, home = self.source, self.home
        final = snapshot_path(home, source, day)
        # a simulated snapshot sees the hub as it was on its own date, even when continued later
        headers = {AS_OF_HEADER: day.isoformat()} if self.simulated else {}
        staged = StagedSnapshot(
            home,
            source,
            day,
            kind=self.kind,
            host=redact_host(self.base),
            plan=self.plan,
            force=force,
            max_pages=self.max_pages,
            on_page=self.on_page,
            bounds=self.bounds,
        )
        credentials = self.endpoints.credentials_for(source)
        try:
            with staged, PoliteClient(self.politeness, headers, credentials=credentials) as client:
                if not staged.crawled:
                    try:
                        staged.finish_crawl(extra=self._crawl(staged, client))
                    except PageBudgetReached as stop:
                        budget = isinstance(stop, civitai_images.TimeBudgetReached)
                        return SnapshotResult(
                            source,
                            day,
                            "paused",
                            staged.dir,
                            paused_by="time_budget" if budget else "max_pages",
                            recovered=staged.recovered.notes,
                        )
                    except CrawlError as error:
                        staged.record_failure(str(error))
                        raise
                checked = self._cross_host(headers)
                quality = Quality()
                with gc_paused():
                    tables = _normalise(source, staged, self.hf_scope, home, quality)
                tables = without_raw_json(tables)
                manifest = staged.publish(tables, extra={**self._window_record(), **quality.manifest(), **checked})
        except SnapshotExists as exists:
            if exists.recovered:
                manifest = read_manifest(home, source, day)
                return SnapshotResult(source, day, "complete", final, manifest, recovered=staged.recovered.notes)
            return SnapshotResult(source, day, "exists", final, recovered=staged.recovered.notes)
        return SnapshotResult(source, day, "complete", final, manifest, recovered=staged.recovered.notes)

    def _crawl(self, staged: StagedSnapshot, client: PoliteClient) -> dict[str, Any]:
        """Crawl every page not yet stored; what the manifest should add (kept in the checkpoint)."""
        if self.feed is not None:
            return civitai_images.crawl_images(
                staged, client, self.plan, home=self.home, settings=self.feed, deadline=self.deadline
            )
        if self.source.startswith("civitai_"):  # models, or images in the API's own window (--images-period)
            civitai.crawl(staged, client, self.plan["url"], self.plan["params"])
            return {}
        huggingface.crawl(staged, client, self.base, self.hf_scope, self.home)
        return {}

    def _cross_host(self, headers: dict[str, str]) -> dict[str, Any]:
        """An image snapshot with more than one Civitai host configured probes them all (cross_host)."""
        others = self.endpoints.civitai_other_bases
        if self.source != "civitai_images" or not others:
            return {}
        bases = (self.base, *(strip_userinfo(b) for b in others))
        secrets = dict(zip(bases, (self.endpoints.civitai_base, *others), strict=True))

        def client_for(base: str) -> PoliteClient:
            credentials = Credentials.for_base(secrets[base], self.endpoints.civitai_api_key)
            return PoliteClient(self.politeness, headers, credentials=credentials)

        return {cross_host.RECORD_KEY: cross_host.check(bases, client_for, cross_host.CrossHostSettings.from_env())}

    def _window_record(self) -> dict[str, Any]:
        """An image snapshot of the API's own window says so in its manifest (it is no link of the feed)."""
        if self.source == "civitai_images" and self.feed is None:
            return {civitai_images.STATE_KEY: {"mode": "period", "period": self.plan["params"]["period"]}}
        return {}


def snapshot_each_day(endpoints: Endpoints, home: Path, days, *, sources=SOURCES, **options: Any) -> None:
    """Every source's snapshot on each day in turn, in this process and at no politeness delay: how
    the tests and the benchmarks lay down a simulated history from fakehub (the CLI and the
    schedule go through Dagster's snapshot job instead). options: take_snapshot's own."""
    for day in days:
        for source in sources:
            take_snapshot(
                source,
                home=home,
                endpoints=endpoints,
                as_of=str(day),
                politeness=Politeness(requests_per_second=0),
                **options,
            )


def without_raw_json(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """A crawl's tables as stored: its pages keep every item exactly as received (the page index says
    which page holds which ids), so the tables keep no second copy of each item (`raw_json`) that
    would be stored again every day. Imports keep it (their pages are whole files)."""
    return {name: frame.drop("raw_json", strict=False) for name, frame in tables.items()}


def _plan(source: str, base: str, images_period: str | None, scope: huggingface.HfScope) -> dict[str, Any]:
    if source == "civitai_models":
        return {"url": f"{base}/models", "params": civitai.MODELS_PARAMS, "scope": "all"}
    if source == "civitai_images":
        if images_period is None:
            return civitai_images.plan(base)
        return {"url": f"{base}/images", "params": civitai.images_params(images_period), "scope": "all"}
    return {"url": f"{base}/api/models", **scope.plan(), "scope": "text-to-image"}


def _normalise(source, staged, scope, home, quality):
    if source == "civitai_models":
        return civitai.normalise_models(civitai.items_of(staged.pages()), quality)
    if source == "civitai_images":
        return civitai.normalise_images(civitai.items_of(staged.pages()), quality)
    previous = huggingface.previous_files(home, staged.snapshot_date)
    return huggingface.normalise(staged, scope, previous, quality)

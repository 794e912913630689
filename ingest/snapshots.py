"""Take one dated snapshot of one source: pick its date and kind, crawl, normalise, publish.

Live APIs show only the present, so a live snapshot is dated today (UTC). `as_of` is accepted
only when the source's base URL is a loopback address (fakehub or a local replay server); the
date is then sent in the `X-Hubwatch-As-Of` header and the manifest says `simulated`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest import civitai, huggingface
from ingest.home import snapshot_path
from ingest.http import CrawlError, Credentials, PoliteClient, Politeness, redact_host, strip_userinfo
from ingest.landing import (
    SOURCES,
    CrawlBounds,
    PageBudgetReached,
    PageEvent,
    SnapshotExists,
    StagedSnapshot,
    gc_paused,
    is_loopback,
    read_manifest,
)

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

    @classmethod
    def from_env(cls) -> Endpoints:
        env = os.environ
        return cls(
            civitai_base=env.get("CIVITAI_API_BASE", DEFAULT_CIVITAI_API_BASE).rstrip("/"),
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
    recovered: tuple[str, ...] = ()  # what this run finished or tidied up after a killed one


def parse_as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CrawlError(f"invalid --as-of {value!r}: expected a date as YYYY-MM-DD") from None


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


def take_snapshot(
    source: str,
    *,
    home: Path,
    endpoints: Endpoints,
    as_of: str | None = None,
    max_pages: int | None = None,
    force: bool = False,
    images_period: str = "Day",
    hf_scope: huggingface.HfScope | None = None,
    politeness: Politeness | None = None,
    on_page: Callable[[PageEvent], None] | None = None,
    bounds: CrawlBounds | None = None,
) -> SnapshotResult:
    """Crawl one source into the raw store; resumes a staged crawl of the same date.

    A run killed at any point is finished by the next: pages already stored are not fetched
    again, a crawl whose pages are all stored goes straight to publishing, and a snapshot sealed
    in staging/ moves into raw/ (see StagedSnapshot).
    """
    if source not in SOURCES:
        raise CrawlError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    base = endpoints.base_for(source)
    day, kind = snapshot_date_and_kind(base, as_of)
    final = snapshot_path(home, source, day)
    scope = hf_scope or huggingface.HfScope.from_env()
    plan = _plan(source, base, images_period, scope)
    headers = {AS_OF_HEADER: day.isoformat()} if as_of else {}
    staged = StagedSnapshot(
        home,
        source,
        day,
        kind=kind,
        host=redact_host(base),
        plan=plan,
        force=force,
        max_pages=max_pages,
        on_page=on_page,
        bounds=bounds,
    )
    try:
        with staged, PoliteClient(politeness, headers, credentials=endpoints.credentials_for(source)) as client:
            if not staged.crawled:
                try:
                    _crawl(source, staged, client, base, plan, scope, home)
                except PageBudgetReached:
                    return SnapshotResult(source, day, "paused", staged.dir, recovered=staged.recovered.notes)
                except CrawlError as error:
                    staged.record_failure(str(error))
                    raise
            with gc_paused():
                tables = _normalise(source, staged, scope, home)
            manifest = staged.publish(tables)
    except SnapshotExists as exists:
        if exists.recovered:
            manifest = read_manifest(home, source, day)
            return SnapshotResult(source, day, "complete", final, manifest, staged.recovered.notes)
        return SnapshotResult(source, day, "exists", final, recovered=staged.recovered.notes)
    return SnapshotResult(source, day, "complete", final, manifest, staged.recovered.notes)


def _plan(source: str, base: str, images_period: str, scope: huggingface.HfScope) -> dict[str, Any]:
    if source == "civitai_models":
        return {"url": f"{base}/models", "params": civitai.MODELS_PARAMS, "scope": "all"}
    if source == "civitai_images":
        return {"url": f"{base}/images", "params": civitai.images_params(images_period), "scope": "all"}
    return {"url": f"{base}/api/models", **scope.plan(), "scope": "text-to-image"}


def _crawl(source, staged, client, base, plan, scope, home) -> None:
    if source.startswith("civitai_"):
        civitai.crawl(staged, client, plan["url"], plan["params"])
    else:
        huggingface.crawl(staged, client, base, scope, home)


def _normalise(source, staged, scope, home):
    if source == "civitai_models":
        return civitai.normalise_models(civitai.items_of(staged.pages()))
    if source == "civitai_images":
        return civitai.normalise_images(civitai.items_of(staged.pages()))
    previous = huggingface.previous_files(home, staged.snapshot_date)
    return huggingface.normalise(staged, scope, previous)

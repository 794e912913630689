"""Take one dated snapshot of one source: pick its date and kind, crawl, normalise, publish.

Live APIs show only the present, so a live snapshot is dated today (UTC). `as_of` is accepted
only when the source's base URL is a loopback address (fakehub or a local replay server); the
date is then sent in the `X-Hubwatch-As-Of` header and the manifest says `simulated`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest import civitai, huggingface
from ingest.home import snapshot_path
from ingest.http import CrawlError, PoliteClient, Politeness
from ingest.landing import (
    SOURCES,
    PageBudgetReached,
    PageEvent,
    SnapshotExists,
    StagedSnapshot,
    gc_paused,
    is_loopback,
)
from ingest.quality import Quality

AS_OF_HEADER = "X-Hubwatch-As-Of"
DEFAULT_CIVITAI_API_BASE = "https://civitai.com/api/v1"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class Endpoints:
    """Where the sources live and the optional credentials (held in memory only)."""

    civitai_base: str = DEFAULT_CIVITAI_API_BASE
    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    civitai_api_key: str | None = None
    hf_token: str | None = None

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
        return self.hf_endpoint if source.startswith("hf_") else self.civitai_base

    def auth_for(self, source: str) -> dict[str, str]:
        secret = self.hf_token if source.startswith("hf_") else self.civitai_api_key
        return {"Authorization": f"Bearer {secret}"} if secret else {}


@dataclass(frozen=True)
class SnapshotResult:
    source: str
    snapshot_date: date
    status: str  # complete | exists | paused
    path: Path
    manifest: dict[str, Any] | None = None


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
) -> SnapshotResult:
    """Crawl one source into the raw store; resumes a staged crawl of the same date."""
    if source not in SOURCES:
        raise CrawlError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    base = endpoints.base_for(source)
    day, kind = snapshot_date_and_kind(base, as_of)
    if snapshot_path(home, source, day).exists() and not force:
        return SnapshotResult(source, day, "exists", snapshot_path(home, source, day))
    scope = hf_scope or huggingface.HfScope.from_env()
    plan = _plan(source, base, images_period, scope)
    headers = {**endpoints.auth_for(source), **({AS_OF_HEADER: day.isoformat()} if as_of else {})}
    staged = StagedSnapshot(
        home,
        source,
        day,
        kind=kind,
        host=urlsplit(base).netloc,
        plan=plan,
        force=force,
        max_pages=max_pages,
        on_page=on_page,
    )
    try:
        with staged, PoliteClient(politeness, headers) as client:
            try:
                extra = _crawl(source, staged, client, base, plan, scope, home)
            except PageBudgetReached:
                return SnapshotResult(source, day, "paused", staged.dir)
            except CrawlError as error:
                staged.record_failure(str(error))
                raise
            quality = Quality()
            with gc_paused():
                tables = _normalise(source, staged, scope, home, quality)
            manifest = staged.publish(tables, extra={**extra, **quality.manifest()})
    except SnapshotExists:
        return SnapshotResult(source, day, "exists", snapshot_path(home, source, day))
    return SnapshotResult(source, day, "complete", snapshot_path(home, source, day), manifest)


def _plan(source: str, base: str, images_period: str, scope: huggingface.HfScope) -> dict[str, Any]:
    if source == "civitai_models":
        return {"url": f"{base}/models", "params": civitai.MODELS_PARAMS, "scope": "all"}
    if source == "civitai_images":
        return {"url": f"{base}/images", "params": civitai.images_params(images_period), "scope": "all"}
    return {"url": f"{base}/api/models", **scope.plan(), "scope": "text-to-image"}


def _crawl(source, staged, client, base, plan, scope, home) -> dict[str, Any]:
    if source.startswith("civitai_"):
        civitai.crawl(staged, client, plan["url"], plan["params"])
        return {}
    return huggingface.crawl(staged, client, base, scope, home)


def _normalise(source, staged, scope, home, quality):
    if source == "civitai_models":
        return civitai.normalise_models(civitai.items_of(staged.pages()), quality)
    if source == "civitai_images":
        return civitai.normalise_images(civitai.items_of(staged.pages()), quality)
    previous = huggingface.previous_files(home, staged.snapshot_date)
    return huggingface.normalise(staged, scope, previous, quality)

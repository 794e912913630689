"""Both Civitai hosts: does each serve the same images at every browsing level?

Since 2026-04-15 Civitai serves NSFW content under civitai.red; its API is said to stay reachable on
both hosts, and clients broke for days when it was not. A snapshot is taken from one host (the first
of CIVITAI_API_BASES); when several are named, an image snapshot also probes every host the same way,
one browsing level at a time (`/images?browsingLevel=<bit>&sort=Newest&period=<window>`, at most
`pages_per_level` pages each: the API gives no totals), and its manifest records what each host
served. A level whose counts differ by more than `tolerance` of the larger, or a host that could not
be read, is a divergence: the snapshot is kept (it never fails for this), snapshot_coverage shows it
and the build warns.

Both probes of a level stop after the same number of pages, so two hosts that serve a level equally
give equal counts, and a host that hides a level gives none.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.civitai import page_items
from ingest.http import CrawlError, PoliteClient, redact_url

LEVELS = (1, 2, 4, 8, 16)  # PG, PG-13, R, X, XXX (32, Blocked, is never listed)
RECORD_KEY = "cross_host"


def civitai_bases(env: dict[str, str] | None = None, default: str = "https://civitai.com/api/v1") -> tuple[str, ...]:
    """The Civitai API bases to use, the snapshot's own first: CIVITAI_API_BASES (comma-separated),
    else CIVITAI_API_BASE alone."""
    env = os.environ if env is None else env
    listed = [b.strip().rstrip("/") for b in env.get("CIVITAI_API_BASES", "").split(",") if b.strip()]
    if listed:
        return tuple(dict.fromkeys(listed))
    return (env.get("CIVITAI_API_BASE", default).rstrip("/"),)


@dataclass(frozen=True)
class CrossHostSettings:
    pages_per_level: int = 2
    limit: int = 200
    period: str = "Week"
    tolerance: float = 0.05

    @classmethod
    def from_env(cls) -> CrossHostSettings:
        """HUBWATCH_CROSS_HOST_PAGES (pages per level and host), HUBWATCH_CROSS_HOST_TOLERANCE."""
        env = os.environ
        try:
            pages = int(env.get("HUBWATCH_CROSS_HOST_PAGES", cls.pages_per_level))
            tolerance = float(env.get("HUBWATCH_CROSS_HOST_TOLERANCE", cls.tolerance))
        except ValueError as error:
            raise CrawlError(f"invalid cross-host setting: {error}") from None
        if pages < 1 or not 0 <= tolerance < 1:
            raise CrawlError("invalid cross-host setting: pages must be >= 1 and tolerance in [0, 1)")
        return cls(pages_per_level=pages, tolerance=tolerance)


def probe_level(client: PoliteClient, base: str, level: int, settings: CrossHostSettings) -> dict[str, Any]:
    """Items one host lists at one browsing level, up to the page budget; `complete` when the level
    ended before it."""
    params: dict[str, Any] = {
        "limit": settings.limit,
        "browsingLevel": level,
        "sort": "Newest",
        "period": settings.period,
    }
    items, cursor = 0, None
    for _ in range(settings.pages_per_level):
        fetched = client.get_json(f"{base}/images", {**params, **({"cursor": cursor} if cursor else {})})
        page, cursor = page_items(fetched.payload, fetched.url)
        items += len(page)
        if cursor is None:
            return {"items": items, "complete": True}
    return {"items": items, "complete": False}


def divergent_levels(levels: dict[str, dict[str, dict[str, Any]]], tolerance: float) -> list[int]:
    """Levels whose item counts differ between hosts by more than `tolerance` of the larger."""
    out = []
    for level, by_host in levels.items():
        counts = [r["items"] for r in by_host.values() if "items" in r]
        if len(counts) > 1 and max(counts) - min(counts) > tolerance * max(counts):
            out.append(int(level))
    return sorted(out)


def check(
    bases: tuple[str, ...],
    client_for: Callable[[str], PoliteClient],
    settings: CrossHostSettings,
) -> dict[str, Any]:
    """Probe every host at every level; the manifest's cross_host record. A host that fails is
    recorded as unreachable (with the error) and counts as a divergence; nothing is raised."""
    shown = [redact_url(b) for b in bases]
    levels: dict[str, dict[str, dict[str, Any]]] = {str(level): {} for level in LEVELS}
    unreachable: dict[str, str] = {}
    for base, name in zip(bases, shown, strict=True):
        try:
            with client_for(base) as client:
                for level in LEVELS:
                    levels[str(level)][name] = probe_level(client, base, level, settings)
        except CrawlError as error:
            unreachable[name] = str(error)[:300]
            for level in LEVELS:
                levels[str(level)].setdefault(name, {"error": "unreachable"})
    divergent = divergent_levels(levels, settings.tolerance)
    return {
        "bases": shown,
        "bases_text": ", ".join(shown),
        "endpoint": "images",
        "period": settings.period,
        "pages_per_level": settings.pages_per_level,
        "limit": settings.limit,
        "tolerance": settings.tolerance,
        "levels": levels,
        "unreachable": unreachable,
        "divergent_levels": divergent,
        "divergent_levels_text": ",".join(str(level) for level in divergent),
        "divergent": bool(divergent or unreachable),
    }


def describe(record: dict[str, Any]) -> str | None:
    """One warning line for the operator, or None when the hosts agree."""
    if not record.get("divergent"):
        return None
    parts = []
    if record["divergent_levels"]:
        names = {1: "PG", 2: "PG-13", 4: "R", 8: "X", 16: "XXX"}
        levels = ", ".join(names[level] for level in record["divergent_levels"])
        counts = "; ".join(
            f"{names[int(level)]}: "
            + ", ".join(f"{host} {r.get('items', 'unreachable')}" for host, r in record["levels"][level].items())
            for level in map(str, record["divergent_levels"])
        )
        parts.append(f"the Civitai hosts list different images at level(s) {levels} ({counts})")
    if record["unreachable"]:
        parts.append("unreachable: " + ", ".join(record["unreachable"]))
    return "cross-host check: " + "; ".join(parts)

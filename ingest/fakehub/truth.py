"""Ground truth: what a complete crawl of the simulated hub at a given date must contain.

Computed straight from the world with the same visibility rules the server applies, without
paging, faults or normalisation, so a test can compare a stored snapshot with it exactly.
"""

from __future__ import annotations

from datetime import date, timedelta

from ingest.fakehub.api import PERIOD_DAYS
from ingest.fakehub.world import World, clock_of


def civitai_model_ids(world: World, day: date) -> set[int]:
    """Models a complete `/models?nsfw=true&archived=true` crawl sees."""
    t = clock_of(day)
    return {m.model_id for m in world.models if m.listed_at(t, 31, archived=True)}


def civitai_image_ids(world: World, day: date, period: str) -> set[int]:
    """Images a complete `/images?browsingLevel=31&period=<period>` crawl sees."""
    t = clock_of(day)
    days = PERIOD_DAYS.get(period.lower())
    since = t - timedelta(days=days) if days else None
    return {i.image_id for i in world.images if i.listed_at(t, 31, since)}


def hf_model_ids(world: World, day: date) -> set[str]:
    """Image models and image adapters on the Hub (the default scope)."""
    t = clock_of(day)
    return {r.repo_id for r in world.repos if r.in_scope and r.exists_at(t)}


def hf_file_hashes(world: World, day: date) -> set[tuple[str, str]]:
    """(repo, sha256) of every LFS file of every in-scope LoRA repo."""
    t = clock_of(day)
    return {
        (r.repo_id, sha)
        for r in world.repos
        if r.in_scope and r.exists_at(t) and "lora" in r.tags
        for _name, _size, sha in r.files
        if sha
    }

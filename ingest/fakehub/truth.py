"""Ground truth: what a complete crawl of the simulated hub at a given date must contain.

Computed straight from the world with the same visibility rules the server applies, without
paging, faults or normalisation, so a test can compare a stored snapshot with it exactly.
"""

from __future__ import annotations

from datetime import date, timedelta

from ingest.fakehub.api import PERIOD_DAYS
from ingest.fakehub.world import World, clock_of


def civitai_undated_model_ids(world: World, day: date) -> set[int]:
    """Listed models a crawl cannot date: `modelVersions: []` (a real 2023 shape)."""
    t = clock_of(day)
    return {m.model_id for m in world.models if m.listed_at(t, 31, archived=True) and m.hides_versions}


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


# -- the marts ------------------------------------------------------------------------------
# What the warehouse must compute from complete snapshots taken on `days`, per the rules in
# dbt/ (rule set v1), derived here from the world's own truth (who is a real person, whose
# name is planted, which file was re-uploaded) rather than by re-running those rules.

REAL_PERSON_TAG_SET = {
    "actor",
    "actress",
    "celebrity",
    "real person",
    "porn actress",
    "adult actress",
    "porn star",
    "deepfake",
    "public figure",
}


def _month(t) -> date:
    return date(t.year, t.month, 1)


def _civitai_sightings(world: World, days: list[date]) -> dict[date, dict[int, str | None]]:
    """For each day, the listed models and the moderation mode each carried then."""
    out = {}
    for day in sorted(days):
        t = clock_of(day)
        out[day] = {m.model_id: m.mode_at(t) for m in world.models if m.listed_at(t, 31, archived=True)}
    return out


def _hf_sightings(world: World, days: list[date]) -> dict[date, set[str]]:
    return {day: {r.repo_id for r in world.repos if r.in_scope and r.exists_at(clock_of(day))} for day in sorted(days)}


def _flagged_files(world: World, civitai_days: list[date]) -> dict[str, date]:
    """SHA-256 of files of real-person Civitai models -> the first snapshot that listed them."""
    first: dict[str, date] = {}
    for day in sorted(civitai_days):
        t = clock_of(day)
        for m in world.models:
            if m.listed_at(t, 31, archived=True) and m.mode_at(t) is None and _civitai_flagged(m):
                for v in m.listed_versions_at(t):
                    for f in v.files:
                        first.setdefault(f.sha256.lower(), day)
    return first


def _civitai_flagged(m) -> bool:
    return m.poi or bool(REAL_PERSON_TAG_SET & set(m.tags)) or m.real_person_name is not None


def _hf_files(repo) -> set[str]:
    return {sha for _n, _s, sha in repo.files if sha and "lora" in repo.tags}


def model_truth(world: World, civitai_days: list[date], hf_days: list[date]) -> dict[tuple[str, str], dict]:
    """Every model ever seen, with the attributes the `models` mart must hold."""
    out: dict[tuple[str, str], dict] = {}
    sightings = _civitai_sightings(world, civitai_days)
    by_id = {m.model_id: m for m in world.models}
    for day, listed in sightings.items():
        t = clock_of(day)
        for model_id in listed:
            m = by_id[model_id]
            level = m.nsfw_level_at(t)
            out[("civitai", str(model_id))] = {
                "month": m.crawl_month,  # None: listed without versions, so undated
                "nsfw_any": m.nsfw or bool(level & 62),
                "nsfw_strict": m.nsfw or bool(level & 60),
                "declared": m.poi,
                "tagged": bool(REAL_PERSON_TAG_SET & set(m.tags)),
                "name_match": m.real_person_name is not None,
                "hash_match": False,  # every simulated Civitai file is unique to its model
                "gender": m.target_gender,
            }
    flagged = _flagged_files(world, civitai_days)
    repos = {r.repo_id: r for r in world.repos}
    by_model = {m.model_id: m for m in world.models}
    for day, listed in _hf_sightings(world, hf_days).items():
        for repo_id in listed:
            r = repos[repo_id]
            source = by_model.get(r.reupload_of)
            key = ("huggingface", repo_id)
            hash_match = any(flagged.get(sha, date.max) <= day for sha in _hf_files(r))
            previous = out.get(key, {})
            out[key] = {
                "month": _month(r.created_at),
                "nsfw_any": "not-for-all-audiences" in r.tags,
                "nsfw_strict": "not-for-all-audiences" in r.tags,
                "declared": False,
                "tagged": bool(REAL_PERSON_TAG_SET & set(r.tags)),
                "name_match": bool(source and source.real_person_name),
                "hash_match": hash_match or previous.get("hash_match", False),
                "gender": "female" if "woman" in r.tags else "unknown",
            }
    for row in out.values():
        row["real_person"] = row["declared"] or row["tagged"] or row["name_match"] or row["hash_match"]
    return out


def image_truth(world: World, days: list[date], period: str) -> dict[int, dict]:
    out = {}
    by_id = {i.image_id: i for i in world.images}
    for day in days:
        for image_id in civitai_image_ids(world, day, period):
            i = by_id[image_id]
            out[image_id] = {
                "month": _month(i.created_at),
                "nsfw_any": i.browsing_level >= 2,
                "nsfw_strict": i.browsing_level >= 4,
            }
    return out


def nsfw_share_monthly(models: dict, images: dict) -> dict[tuple[str, str, date], tuple[int, int, int]]:
    """(platform, entity, month) -> (n_items, n_nsfw_any, n_nsfw_strict)."""
    out: dict[tuple[str, str, date], list[int]] = {}
    rows = [(p, "model", r) for (p, _id), r in models.items()] + [("civitai", "image", r) for r in images.values()]
    for platform, entity, r in rows:
        if r["month"] is None:  # undated items are left out of the monthly tables
            continue
        counts = out.setdefault((platform, entity, r["month"]), [0, 0, 0])
        counts[0] += 1
        counts[1] += r["nsfw_any"]
        counts[2] += r["nsfw_strict"]
    return {k: tuple(v) for k, v in out.items()}


REAL_PERSON_COUNTS = (
    "n_models",
    "n_real_person",
    "n_declared",
    "n_tagged",
    "n_name_match",
    "n_hash_match",
    "n_real_person_nsfw",
    "n_female",
    "n_male",
    "n_unknown_gender",
)


def real_person_monthly(models: dict) -> dict[tuple[str, date], dict[str, int]]:
    out: dict[tuple[str, date], dict[str, int]] = {}
    for (platform, _id), r in models.items():
        if r["month"] is None:  # undated items are left out of the monthly tables
            continue
        c = out.setdefault((platform, r["month"]), dict.fromkeys(REAL_PERSON_COUNTS, 0))
        c["n_models"] += 1
        c["n_real_person"] += r["real_person"]
        c["n_declared"] += r["declared"]
        c["n_tagged"] += r["tagged"]
        c["n_name_match"] += r["name_match"]
        c["n_hash_match"] += r["hash_match"]
        c["n_real_person_nsfw"] += r["real_person"] and r["nsfw_strict"]
        if r["real_person"]:
            c[{"female": "n_female", "male": "n_male"}.get(r["gender"], "n_unknown_gender")] += 1
    return out


def lifecycle_by_snapshot(world: World, civitai_days: list[date], hf_days: list[date], models: dict) -> dict:
    """(platform, day) -> (n_visible, n_new, n_removed, n_taken_down, n_archived, n_real_person_removed)."""
    out = {}
    chains = {
        "civitai": {
            d: {str(k): v for k, v in listed.items()} for d, listed in _civitai_sightings(world, civitai_days).items()
        },
        "huggingface": {d: dict.fromkeys(listed) for d, listed in _hf_sightings(world, hf_days).items()},
    }
    for platform, chain in chains.items():
        seen: set[str] = set()
        first_mode: dict[tuple[str, str], date] = {}
        previous: dict[str, str | None] | None = None
        for day, listed in chain.items():
            for model_id, mode in listed.items():
                if mode:
                    first_mode.setdefault((model_id, mode), day)
            removed = {m for m, mode in (previous or {}).items() if mode is None and m not in listed}
            out[(platform, day)] = (
                len(listed),
                len(set(listed) - seen),
                len(removed),
                sum(1 for (_m, mode), d in first_mode.items() if mode == "TakenDown" and d == day),
                sum(1 for (_m, mode), d in first_mode.items() if mode == "Archived" and d == day),
                sum(1 for m in removed if models[(platform, m)]["real_person"]),
            )
            seen |= set(listed)
            previous = listed
    return out


def cross_platform_matches(world: World, civitai_days: list[date], hf_days: list[date]) -> set[tuple[str, int]]:
    """(hf repo, civitai version) pairs sharing a file's SHA-256, among what snapshots listed."""
    civitai_files: dict[str, set[int]] = {}
    for day in civitai_days:
        t = clock_of(day)
        for m in world.models:
            if m.listed_at(t, 31, archived=True) and m.mode_at(t) is None:
                for v in m.listed_versions_at(t):
                    for f in v.files:
                        civitai_files.setdefault(f.sha256.lower(), set()).add(v.version_id)
    repos = {r.repo_id: r for r in world.repos}
    listed = set().union(*_hf_sightings(world, hf_days).values()) if hf_days else set()
    return {
        (repo_id, version_id)
        for repo_id in listed
        for sha in _hf_files(repos[repo_id])
        for version_id in civitai_files.get(sha, ())
    }

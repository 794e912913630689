"""Ground truth: what a complete crawl of the simulated hub at a given date must contain.

Computed straight from the world with the same visibility rules the server applies, without
paging, faults or normalisation, so a test can compare a stored snapshot with it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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


# -- image snapshot schedules ----------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One image snapshot of a schedule: its date, the instant it saw the hub, and how far back
    it was asked to sweep at least (`--images-since`; None: only what the chain requires)."""

    day: date
    at: datetime
    since: datetime | None = None


def schedule(
    days: Iterable[date],
    *,
    skipped: Iterable[date] = (),
    late: dict[date, timedelta] | None = None,
    since: dict[date, datetime] | None = None,
) -> list[Run]:
    """The runs of a schedule: `days` less the skipped ones, each at noon UTC unless late."""
    gone, late, since = set(skipped), late or {}, since or {}
    return [
        Run(day, clock_of(day) + late.get(day, timedelta(0)), since.get(day))
        for day in sorted(set(days))
        if day not in gone
    ]


def image_ids_listed(world: World, at: datetime) -> set[int]:
    """Every image `/images?browsingLevel=31` lists at an instant (rated, alive, not hidden)."""
    return {i.image_id for i in world.images if i.listed_at(at, 31, None)}


def image_ids_must_see(world: World, runs: list[Run], overlap: timedelta) -> set[int]:
    """Images a schedule of hole-free image snapshots must have seen in some snapshot.

    Each run must list every image the feed shows at its instant that was created after the
    previous run's instant less the overlap, and back to its `since` when it has one; the first
    run goes back to its `since`, or to the beginning. (A crawl may see more: its last page
    reaches past that line, and it counts back from its newest item rather than its instant.)
    """
    return set(image_first_seen(world, runs, overlap))


def image_first_seen(world: World, runs: list[Run], overlap: timedelta) -> dict[int, date]:
    """The first run of the schedule that must have seen each image (see image_ids_must_see)."""
    first: dict[int, date] = {}
    previous: Run | None = None
    for run in sorted(runs, key=lambda r: r.day):
        floors = [f for f in (run.since, previous.at - overlap if previous else None) if f is not None]
        floor = min(floors) if floors else None
        for image in world.images:
            if image.listed_at(run.at, 31, None) and (floor is None or image.created_at >= floor):
                first.setdefault(image.image_id, run.day)
        previous = run
    return first


def image_ids_ever_listed(world: World, runs: list[Run]) -> set[int]:
    """Every image some run of the schedule could have seen: the most any crawl can hold."""
    return set().union(*(image_ids_listed(world, run.at) for run in runs)) if runs else set()


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
# dbt/ (rule set v2), derived here from the world's own truth (who is a real person, whose
# name is planted, which file was re-uploaded) rather than by re-running those rules. The one
# rule spelled out again here is the file-hash tier's, because it is about files, not people:
# only a model's own weight files count, and a file shared in a snapshot never matches.

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
WEIGHT_FILE_TYPES = {"Model", "Pruned Model"}  # dbt/seeds/rules_civitai_file_types.csv
WEIGHT_FILE_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf")
MAX_CARRIERS = 3  # more models of one platform than this carrying a file in a snapshot: shared


def _month(t) -> date | None:
    return date(t.year, t.month, 1) if t is not None else None


def _civitai_sightings(world: World, days: list[date]) -> dict[date, dict[int, str | None]]:
    """For each day, the listed models and the moderation mode each carried then."""
    out = {}
    for day in sorted(days):
        t = clock_of(day)
        out[day] = {m.model_id: m.mode_at(t) for m in world.models if m.listed_at(t, 31, archived=True)}
    return out


def _hf_sightings(world: World, days: list[date]) -> dict[date, set[str]]:
    return {day: {r.repo_id for r in world.repos if r.in_scope and r.exists_at(clock_of(day))} for day in sorted(days)}


def _civitai_flagged(m) -> bool:
    return m.poi or bool(REAL_PERSON_TAG_SET & set(m.tags)) or m.real_person_name is not None


# A file as a snapshot shows it: (model or repo id, sha256 lower-case, is one of its own weights).
File = tuple[str, str, bool]


def _civitai_files_on(world: World, day: date) -> list[File]:
    """Files of the models a Civitai snapshot lists (a model under moderation shows none)."""
    t = clock_of(day)
    return [
        (str(m.model_id), f.sha256.lower(), f.type in WEIGHT_FILE_TYPES)
        for m in world.models
        if m.listed_at(t, 31, archived=True) and m.mode_at(t) is None
        for v in m.listed_versions_at(t)
        for f in v.files
    ]


def _hf_files_on(world: World, day: date) -> list[File]:
    """LFS files of the in-scope LoRA repos a Hugging Face snapshot lists (the ones it fetches)."""
    t = clock_of(day)
    return [
        (r.repo_id, sha, name.lower().endswith(WEIGHT_FILE_EXTENSIONS))
        for r in world.repos
        if r.in_scope and r.exists_at(t) and "lora" in r.tags
        for name, _size, sha in r.files
        if sha
    ]


def _shared(files: list[File]) -> set[str]:
    """Hashes shared in one snapshot: some model ships them as a non-weight file, or more than
    MAX_CARRIERS models carry them."""
    carriers: dict[str, set[str]] = {}
    companions = set()
    for model_id, sha, is_weight in files:
        carriers.setdefault(sha, set()).add(model_id)
        if not is_weight:
            companions.add(sha)
    return companions | {sha for sha, ids in carriers.items() if len(ids) > MAX_CARRIERS}


def _flagged_files(world: World, civitai_days: list[date]) -> dict[tuple[str, str], date]:
    """(sha256, flagged model) -> the first snapshot that listed it: the own weight files of
    real-person Civitai models, not shared in that snapshot."""
    by_id = {str(m.model_id): m for m in world.models}
    first: dict[tuple[str, str], date] = {}
    for day in sorted(civitai_days):
        files = _civitai_files_on(world, day)
        shared = _shared(files)
        for model_id, sha, is_weight in files:
            if is_weight and sha not in shared and _civitai_flagged(by_id[model_id]):
                first.setdefault((sha, model_id), day)
    return first


def _hash_matches(files: list[File], flagged: dict[tuple[str, str], date], day: date, platform: str) -> set[str]:
    """Models of one snapshot with an own, unshared weight file flagged by then on another model."""
    shared = _shared(files)
    known: dict[str, set[str]] = {}
    for (sha, flagged_id), since in flagged.items():
        if since <= day:
            known.setdefault(sha, set()).add(flagged_id)
    return {
        model_id
        for model_id, sha, is_weight in files
        if is_weight and sha not in shared and known.get(sha, set()) - ({model_id} if platform == "civitai" else set())
    }


def model_truth(world: World, civitai_days: list[date], hf_days: list[date]) -> dict[tuple[str, str], dict]:
    """Every model ever seen, with the attributes the `models` mart must hold."""
    out: dict[tuple[str, str], dict] = {}
    flagged = _flagged_files(world, civitai_days)
    by_id = {m.model_id: m for m in world.models}
    for day, listed in _civitai_sightings(world, civitai_days).items():
        t = clock_of(day)
        matched = _hash_matches(_civitai_files_on(world, day), flagged, day, "civitai")
        for model_id in listed:
            m = by_id[model_id]
            level = m.nsfw_level_at(t)
            key = ("civitai", str(model_id))
            out[key] = {
                "month": m.crawl_month,  # None: listed without versions, so undated
                "nsfw_any": m.nsfw or bool(level & 62),
                "nsfw_strict": m.nsfw or bool(level & 60),
                "declared": m.poi,
                "tagged": bool(REAL_PERSON_TAG_SET & set(m.tags)),
                "name_match": m.real_person_name is not None,  # planted namesakes of fiction have none
                "hash_match": str(model_id) in matched or out.get(key, {}).get("hash_match", False),
                "gender": m.target_gender,
            }
    repos = {r.repo_id: r for r in world.repos}
    for day, listed in _hf_sightings(world, hf_days).items():
        matched = _hash_matches(_hf_files_on(world, day), flagged, day, "huggingface")
        for repo_id in listed:
            r = repos[repo_id]
            source = by_id.get(r.reupload_of)
            key = ("huggingface", repo_id)
            out[key] = {
                "month": _month(r.created_at),
                "nsfw_any": "not-for-all-audiences" in r.tags,
                "nsfw_strict": "not-for-all-audiences" in r.tags,
                "declared": False,
                "tagged": bool(REAL_PERSON_TAG_SET & set(r.tags)),
                "name_match": bool(source and source.real_person_name),
                "hash_match": repo_id in matched or out.get(key, {}).get("hash_match", False),
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
        if r["month"] is None:  # undated: counted in monthly_coverage only
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
        if r["month"] is None:
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
    """(hf repo, civitai version) pairs sharing an own weight file that no snapshot of either
    platform shows shared, among what snapshots listed."""
    shared: set[str] = set()
    for day in civitai_days:
        shared |= _shared(_civitai_files_on(world, day))
    for day in hf_days:
        shared |= _shared(_hf_files_on(world, day))
    civitai_files: dict[str, set[int]] = {}
    for day in civitai_days:
        t = clock_of(day)
        for m in world.models:
            if m.listed_at(t, 31, archived=True) and m.mode_at(t) is None:
                for v in m.listed_versions_at(t):
                    for f in v.files:
                        if f.type in WEIGHT_FILE_TYPES and f.sha256.lower() not in shared:
                            civitai_files.setdefault(f.sha256.lower(), set()).add(v.version_id)
    hf_files = {(repo_id, sha) for day in hf_days for repo_id, sha, is_weight in _hf_files_on(world, day) if is_weight}
    return {(repo_id, version_id) for repo_id, sha in hf_files for version_id in civitai_files.get(sha, ())}


def monthly_coverage(models: dict, images: dict) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(platform, entity) -> (n_items, n_dated, n_undated) of the population the monthly tables count."""
    out: dict[tuple[str, str], list[int]] = {}
    rows = [(p, "model", r) for (p, _id), r in models.items()] + [("civitai", "image", r) for r in images.values()]
    for platform, entity, r in rows:
        counts = out.setdefault((platform, entity), [0, 0, 0])
        counts[0] += 1
        counts[1 if r["month"] is not None else 2] += 1
    return {k: tuple(v) for k, v in out.items()}


# -- what images are made with (#21 item 1) -----------------------------------------------------
IMAGE_MADE_WITH_COUNTS = (
    "n_images",
    "n_with_resources",
    "n_resolved",
    "n_real_person",
    "n_real_person_declared",
    "n_real_person_tagged",
    "n_real_person_name_match",
    "n_real_person_hash_match",
    "n_real_person_nsfw_images",
    "n_nsfw_model",
    "n_nsfw_images",
    "n_refs",
    "n_refs_resolved",
    "n_refs_unknown_version",
    "n_refs_unknown_hash",
    "n_refs_ambiguous_hash",
    "n_refs_unindexed_hash",
    "n_refs_no_identifier",
)


def _listed_versions_and_hashes(world: World, civitai_days: list[date]) -> tuple[set[int], dict[str, set[int]]]:
    """Versions some models snapshot listed, and the AutoV2 hash -> versions of their weight
    files (a model under moderation lists its versions without files)."""
    versions: set[int] = set()
    hashes: dict[str, set[int]] = {}
    for day in civitai_days:
        t = clock_of(day)
        for m in world.models:
            if not m.listed_at(t, 31, archived=True):
                continue
            for v in m.listed_versions_at(t):
                versions.add(v.version_id)
                if m.mode_at(t) is None:
                    for f in v.files:
                        if f.type in WEIGHT_FILE_TYPES:
                            hashes.setdefault(f.sha256[:10].lower(), set()).add(v.version_id)
    return versions, hashes


def image_references(world: World, image) -> list[tuple[str, int | None, str | None]]:
    """What fakehub's item for an image names, as (kind, version id, hash): kind `id`, `autov2`,
    `autov1` or `name` (see world.RESOURCE_SHAPES and api.resource_meta)."""
    from ingest.fakehub.api import autov2

    shape, ids = image.resource_shape, [v for v in (image.version_id, image.extra_version_id) if v is not None]
    if shape == "ids":
        return [("id", v, None) for v in ids] * 2  # modelVersionIds and meta.civitaiResources
    if shape == "ids_only":
        return [("id", v, None) for v in ids]
    if shape == "a1111":
        main = autov2(world, image.version_id)
        refs = [("autov2", None, autov2(world, v)) for v in ids] + [("name", None, None)]  # meta.resources
        return refs + [("autov2", None, main)] * 2 if main else refs  # meta.hashes and "Model hash"
    if shape == "autov1":
        return [("autov1", None, "x")]
    return []


def images_made_with(
    world: World, image_days: list[date], civitai_days: list[date], hf_days: list[date], period: str, families: dict
) -> dict[str, dict]:
    """The expected `images_made_with_monthly`, `images_by_base_model_family_monthly` and
    `top_models_by_images_monthly` (as {month: [(model_id, n_images)] } before the cut)."""
    images = image_truth(world, image_days, period)
    models = model_truth(world, civitai_days, hf_days)
    listed, hashes = _listed_versions_and_hashes(world, civitai_days)
    by_id = {i.image_id: i for i in world.images}
    versions = world.versions
    monthly: dict[date, dict[str, int]] = {}
    by_family: dict[tuple[date, str], list[int]] = {}
    by_model: dict[tuple[date, str], list[int]] = {}
    for image_id, row in images.items():
        image, month = by_id[image_id], row["month"]
        c = monthly.setdefault(month, dict.fromkeys(IMAGE_MADE_WITH_COUNTS, 0))
        used: set[int] = set()
        refs = image_references(world, image)
        for kind, version_id, hash_ in refs:
            if kind == "id":
                reason = "resolved" if version_id in listed else "unknown_version"
            elif kind == "autov2" and hash_ is None:
                reason = "no_identifier"
            elif kind == "autov2":
                carriers = hashes.get(hash_, set())
                reason = "resolved" if len(carriers) == 1 else "ambiguous_hash" if carriers else "unknown_hash"
                version_id = next(iter(carriers)) if len(carriers) == 1 else None
            elif kind == "autov1":
                reason = "unindexed_hash"
            else:
                reason = "no_identifier"
            c[f"n_refs_{reason}"] += 1
            if reason == "resolved":
                used.add(version_id)
        c["n_refs"] += len(refs)
        c["n_images"] += 1
        c["n_with_resources"] += bool(refs)
        c["n_nsfw_images"] += row["nsfw_strict"]
        if not used:
            continue
        model_rows = {str(versions[v][0].model_id): models[("civitai", str(versions[v][0].model_id))] for v in used}
        c["n_resolved"] += 1
        real = any(m["real_person"] for m in model_rows.values())
        c["n_real_person"] += real
        for tier in ("declared", "tagged", "name_match", "hash_match"):
            c[f"n_real_person_{tier}"] += any(m[tier] for m in model_rows.values())
        c["n_real_person_nsfw_images"] += real and row["nsfw_strict"]
        c["n_nsfw_model"] += any(m["nsfw_strict"] for m in model_rows.values())
        for family in {families.get(versions[v][1].base_model, "other") for v in used}:
            counts = by_family.setdefault((month, family), [0, 0])
            counts[0] += 1
            counts[1] += row["nsfw_strict"]
        for model_id in model_rows:
            counts = by_model.setdefault((month, model_id), [0, 0])
            counts[0] += 1
            counts[1] += row["nsfw_strict"]
    top: dict[date, list[tuple[str, int, int]]] = {}
    for (month, model_id), (n, nsfw) in by_model.items():
        top.setdefault(month, []).append((model_id, n, nsfw))
    top = {m: sorted(rows, key=lambda r: (-r[1], r[0]))[:20] for m, rows in top.items()}
    return {
        "monthly": monthly,
        "by_family": {k: tuple(v) for k, v in by_family.items()},
        "top": top,
    }


# -- both Civitai hosts (#21 item 6) -------------------------------------------------------------
def cross_host_levels(world: World, day: date, hidden: int, pages: int = 2, limit: int = 200) -> dict[int, tuple]:
    """level -> (items the main host's probe counts, items the second host's probe counts), for a
    `period=Week` probe of at most `pages` pages; `hidden` is what the second host hides then."""
    t = clock_of(day)
    since = t - timedelta(days=PERIOD_DAYS["week"])
    out = {}
    for level in (1, 2, 4, 8, 16):
        listed = sum(1 for i in world.images if i.listed_at(t, level, since))
        main = min(listed, pages * limit)
        out[level] = (main, 0 if level & hidden else main)
    return out


def cross_host_divergent_levels(world: World, day: date, hidden: int, tolerance: float = 0.05) -> list[int]:
    return [
        level
        for level, (a, b) in cross_host_levels(world, day, hidden).items()
        if max(a, b) - min(a, b) > tolerance * max(a, b)
    ]


# -- prompt vocabulary (#21 item 2) --------------------------------------------------------------
def prompt_families(world: World, image_days: list[date], period: str, seed_rows: list[dict]) -> dict[str, dict]:
    """The expected `prompt_families_monthly` ({(month, family): (n_images, n_nsfw_images)} and
    {month: (n_with_prompt, n_nsfw_with_prompt)}) and `minor_terms_nsfw_monthly` counts, with the
    families found by the seed's patterns in Python (ingest.prompt_terms.families_of)."""
    from ingest.fakehub.api import prompt_of
    from ingest.prompt_terms import families_of, normalise_prompt

    images = image_truth(world, image_days, period)
    by_id = {i.image_id: i for i in world.images}
    families: dict[tuple[date, str], list[int]] = {}
    totals: dict[date, list[int]] = {}
    minor: dict[date, list[int]] = {}
    for image_id, row in images.items():
        image, month = by_id[image_id], row["month"]
        nsfw, explicit = row["nsfw_strict"], image.browsing_level in (8, 16)
        found = families_of(normalise_prompt(prompt_of(image)), seed_rows)
        t = totals.setdefault(month, [0, 0])
        t[0] += 1
        t[1] += nsfw
        for family in found:
            c = families.setdefault((month, family), [0, 0])
            c[0] += 1
            c[1] += nsfw
        coded = "civitai_minor_nouns" in found or {"civitai_minor_adjectives", "civitai_minor_partial_nouns"} <= found
        m = minor.setdefault(
            month, [0, 0, 0, 0, 0, 0]
        )  # images, with prompt, nsfw with prompt, coded, +nsfw, +explicit
        m[0] += 1
        m[1] += 1
        m[2] += nsfw
        m[3] += coded
        m[4] += coded and nsfw
        m[5] += coded and explicit
    return {
        "families": {k: tuple(v) for k, v in families.items()},
        "totals": {k: tuple(v) for k, v in totals.items()},
        "minor": {k: tuple(v) for k, v in minor.items()},
    }

"""Ground truth of the creators, engagement and SD 1.5 lineage measures (issue #21), from the world.

Built on `truth.model_truth` (which models each snapshot listed, and how the world made them):
what the API served each day is read off the world here (counters by API generation, creators,
base models), and the measures are computed the plain Python way, so the marts can be compared
to them exactly.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from datetime import date, datetime, timedelta

from ingest.fakehub import truth
from ingest.fakehub.api import FAVOURITES_REMOVED, THUMBS_UP_SINCE
from ingest.fakehub.world import (
    BAN,
    BASE_MODELS,
    RUNWAY_REPOS,
    SD15_DERIVATIVE,
    SD15_MIRROR,
    CivitaiModel,
    HfRepo,
    World,
    clock_of,
)

COUNTERS = ("downloads", "thumbs_up", "favourites", "comments", "likes")
BAN_DAY = BAN.date()


def creator_hash(salt: str, username: str | None) -> str | None:
    """The salted creator hash the warehouse keys creators by (macro creator_hash)."""
    return None if username is None else hashlib.sha256((salt.strip() + username).encode()).hexdigest()


def civitai_counters(model: CivitaiModel, t: datetime) -> dict[str, int | None]:
    """The model's counters as the API generation of instant t serves them, favourites only
    where that generation counts them (before thumbs up replaced them)."""
    if (t - model.created_at) < timedelta(days=1):  # minutes-old models: every counter null
        return dict.fromkeys(COUNTERS)
    d = model.downloads_at(t)
    counted = t < THUMBS_UP_SINCE
    assert t < FAVOURITES_REMOVED or not counted
    return {
        "downloads": None if model.hides_downloads else d,
        "thumbs_up": None if counted else d // 12,
        "favourites": d // 20 if counted else None,
        "comments": d // 150,
        "likes": None,
    }


def hf_counters(repo: HfRepo, t: datetime) -> dict[str, int | None]:
    days = (t - repo.created_at).total_seconds() / 86400
    return {
        "downloads": int(repo.downloads_per_day * days),
        "thumbs_up": None,
        "favourites": None,
        "comments": None,
        "likes": repo.likes,
    }


def _downloads(civitai: dict, repos: dict, platform: str, model_id: str, t: datetime) -> int | None:
    counters = civitai_counters(civitai[model_id], t) if platform == "civitai" else hf_counters(repos[model_id], t)
    return counters["downloads"]


def _hf_base(repo: HfRepo) -> str | None:
    """The repo's first base model tag (`base_model:<id>` or `base_model:<relation>:<id>`)."""
    for tag in repo.tags:
        if tag.startswith("base_model:"):
            rest = tag.removeprefix("base_model:")
            relation, _, repo_id = rest.partition(":")
            return repo_id if repo_id and relation in {"adapter", "finetune", "merge", "quantized"} else rest
    return None


def sightings(world: World, civitai_days: list[date], hf_days: list[date]) -> dict[tuple[str, str], list[date]]:
    """(platform, id) -> the days a complete model snapshot listed it, in order."""
    out: dict[tuple[str, str], list[date]] = {}
    for day in sorted(civitai_days):
        t = clock_of(day)
        for m in world.models:
            if m.listed_at(t, 31, archived=True):
                out.setdefault(("civitai", str(m.model_id)), []).append(day)
    for day in sorted(hf_days):
        t = clock_of(day)
        for r in world.repos:
            if r.in_scope and r.exists_at(t):
                out.setdefault(("huggingface", r.repo_id), []).append(day)
    return out


def model_rows(world: World, civitai_days: list[date], hf_days: list[date], salt: str) -> dict[tuple[str, str], dict]:
    """Every model ever seen, with model_truth's attributes and, at its last sighting, its
    counters, creator hash, creation instant and base model."""
    models = truth.model_truth(world, civitai_days, hf_days)
    seen = sightings(world, civitai_days, hf_days)
    civitai = {str(m.model_id): m for m in world.models}
    repos = {r.repo_id: r for r in world.repos}
    out = {}
    for key, row in models.items():
        platform, model_id = key
        t = clock_of(seen[key][-1])
        if platform == "civitai":
            m = civitai[model_id]
            versions = m.listed_versions_at(t)
            # downloads at the last sighting; the other counters at the last sighting that counted them
            counted = [civitai_counters(m, clock_of(day)) for day in seen[key]]
            last = {c: next((x[c] for x in reversed(counted) if x[c] is not None), None) for c in COUNTERS}
            extra = {
                **last,
                "downloads": counted[-1]["downloads"],
                "creator_hash": creator_hash(salt, m.creator),
                "created_at": m.created_at if versions else None,
                "base_model": versions[-1].base_model if versions else None,
            }
        else:
            r = repos[model_id]
            extra = {
                **hf_counters(r, t),
                "creator_hash": creator_hash(salt, model_id.split("/")[0]),
                "created_at": r.created_at,
                "base_model": _hf_base(r),
            }
        out[key] = {**row, **extra, "sightings": seen[key]}
    return out


# -- engagement ----------------------------------------------------------------------------------
def engagement_monthly(rows: dict) -> dict[tuple[str, date, str, bool], tuple]:
    """(platform, month, split, flagged) -> (n_models, then per counter: n, total, mean, median)."""
    groups: dict[tuple[str, date, str, bool], list[dict]] = {}
    for (platform, _id), r in rows.items():
        if r["month"] is None:
            continue
        groups.setdefault((platform, r["month"], "real_person", r["real_person"]), []).append(r)
        groups.setdefault((platform, r["month"], "nsfw", r["nsfw_strict"]), []).append(r)
    out = {}
    for key, members in groups.items():
        values = [len(members)]
        for c in COUNTERS:
            xs = [r[c] for r in members if r[c] is not None]
            values += [len(xs), sum(xs) if xs else None]
            values += [sum(xs) / len(xs) if xs else None, float(statistics.median(xs)) if xs else None]
        out[key] = tuple(values)
    return out


def real_person_downloads_by_snapshot(
    world: World, civitai_days: list[date], hf_days: list[date], rows: dict
) -> dict[tuple[str, date], tuple]:
    """(platform, day) -> (n_listed, n_listed_with_downloads, downloads_listed, n_seen,
    downloads_added, downloads_accrued, n_counter_falls, downloads_fallen) of the real-person models:
    a model adds its counter at its first sighting with one, then only its increases."""
    civitai = {str(m.model_id): m for m in world.models}
    repos = {r.repo_id: r for r in world.repos}
    out = {}
    for platform, days in (("civitai", civitai_days), ("huggingface", hf_days)):
        previous: dict[str, int] = {}
        seen: set[str] = set()
        accrued = 0
        for day in sorted(days):
            t = clock_of(day)
            listed = [
                mid for (p, mid), r in rows.items() if p == platform and r["real_person"] and day in r["sightings"]
            ]
            counts = [(mid, _downloads(civitai, repos, platform, mid, t)) for mid in listed]
            counted = [(mid, d) for mid, d in counts if d is not None]
            added = falls = fallen = 0
            for mid, d in counted:
                before = previous.get(mid)
                if before is None:
                    added += d
                elif d >= before:
                    added += d - before
                else:
                    falls += 1
                    fallen += before - d
                previous[mid] = d
            seen |= set(listed)
            accrued += added
            out[(platform, day)] = (
                len(listed),
                len(counted),
                sum(d for _m, d in counted) if counted else None,
                len(seen),
                added,
                accrued,
                falls,
                fallen,
            )
    return out


# -- creators ------------------------------------------------------------------------------------
def _sum_or_none(xs: list[int | None]) -> int | None:
    counted = [x for x in xs if x is not None]
    return sum(counted) if counted else None


def creator_monthly(rows: dict) -> dict[tuple[str, str, date], tuple]:
    """(platform, creator_hash, month) -> (n_models, n_real_person, n_nsfw, n_with_downloads, downloads_total)."""
    groups: dict[tuple[str, str, date], list[dict]] = {}
    for (platform, _id), r in rows.items():
        if r["creator_hash"] is not None and r["month"] is not None:
            groups.setdefault((platform, r["creator_hash"], r["month"]), []).append(r)
    return {
        key: (
            len(ms),
            sum(r["real_person"] for r in ms),
            sum(r["nsfw_strict"] for r in ms),
            sum(r["downloads"] is not None for r in ms),
            _sum_or_none([r["downloads"] for r in ms]),
        )
        for key, ms in groups.items()
    }


def creator_concentration_monthly(rows: dict) -> dict[tuple[str, date], tuple]:
    """(platform, month) -> (n_creators, n_models, n_models_without_creator, n_real_person,
    n_real_person_creators, n_top_1pct, n_real_person_top_1pct, share_top_1pct, n_top_10pct,
    n_real_person_top_10pct, share_top_10pct, gini_real_person)."""
    panels = creator_monthly(rows)
    months = {(p, r["month"]) for (p, _id), r in rows.items() if r["month"] is not None}
    out = {}
    for platform, month in months:
        counts = sorted(v[1] for (p, _h, m), v in panels.items() if p == platform and m == month)
        n_models = sum(v[0] for (p, _h, m), v in panels.items() if p == platform and m == month)
        without = sum(
            1 for (p, _id), r in rows.items() if p == platform and r["month"] == month and r["creator_hash"] is None
        )
        n, total = len(counts), sum(counts)
        tops = []
        for percent in (1, 10):
            k = math.ceil(n * percent / 100)
            held = sum(counts[n - k :]) if k else 0
            tops += [k, held, held / total if total else None]
        ranked = sum(i * x for i, x in enumerate(counts, start=1))
        gini = float(2 * ranked - (n + 1) * total) / (n * total) if total else None
        out[(platform, month)] = (n, n_models, without, total, sum(1 for x in counts if x > 0), *tops, gini)
    return out


def creators(world: World, civitai_days: list[date], hf_days: list[date], rows: dict) -> dict[tuple[str, str], tuple]:
    """(platform, creator_hash) -> (n_models, n_real_person, n_nsfw, n_with_downloads,
    downloads_total, first_month, last_month, n_real_person_before_ban, n_real_person_after_ban,
    n_reuploads_after_ban, n_reupload_accounts_after_ban, continued_after_ban)."""
    model_of_version = {v.version_id: str(m.model_id) for m in world.models for v in m.versions}
    reuploads: dict[str, set[str]] = {}
    for repo_id, version_id in truth.cross_platform_matches(world, civitai_days, hf_days):
        source = rows.get(("civitai", model_of_version[version_id]))
        repo = rows[("huggingface", repo_id)]
        if source and source["real_person"] and source["creator_hash"] and repo["created_at"].date() >= BAN_DAY:
            reuploads.setdefault(source["creator_hash"], set()).add(repo_id)
    groups: dict[tuple[str, str], list[dict]] = {}
    for (platform, _id), r in rows.items():
        if r["creator_hash"] is not None:
            groups.setdefault((platform, r["creator_hash"]), []).append(r)
    out = {}
    for (platform, h), ms in groups.items():
        months = [r["month"] for r in ms if r["month"] is not None]
        dated = [r for r in ms if r["real_person"] and r["created_at"] is not None]
        before = sum(r["created_at"].date() < BAN_DAY for r in dated)
        after = sum(r["created_at"].date() >= BAN_DAY for r in dated)
        repos = reuploads.get(h, set()) if platform == "civitai" else set()
        accounts = {repo_id.split("/")[0] for repo_id in repos}
        out[(platform, h)] = (
            len(ms),
            sum(r["real_person"] for r in ms),
            sum(r["nsfw_strict"] for r in ms),
            sum(r["downloads"] is not None for r in ms),
            _sum_or_none([r["downloads"] for r in ms]),
            min(months) if months else None,
            max(months) if months else None,
            before,
            after,
            len(repos) if platform == "civitai" else None,
            len(accounts) if platform == "civitai" else None,
            before > 0 and (after > 0 or len(repos) > 0),
        )
    return out


# -- the SD 1.5 lineage --------------------------------------------------------------------------
def _lineage_repos() -> dict[str, str]:
    """The Hugging Face repos of the lineage the world planted, lower-cased -> relation."""
    sd15_home = next(hf for name, _since, _w, hf in BASE_MODELS if name == "SD 1.5")
    return {
        **dict.fromkeys((r.lower() for r in RUNWAY_REPOS), "SD 1.5"),
        SD15_MIRROR.lower(): "mirror",
        sd15_home.lower(): "mirror",
        SD15_DERIVATIVE.lower(): "named derivative",
    }


CIVITAI_LINEAGE = {"SD 1.5": "SD 1.5", "SD 1.5 LCM": "named derivative", "SD 1.5 Hyper": "named derivative"}


def lineage_of(platform: str, model_id: str, base_model: str | None) -> tuple[str, bool] | None:
    """(relation, is_named) of a model of the lineage, None for any other model."""
    if platform == "civitai":
        relation = CIVITAI_LINEAGE.get(base_model or "")
        return (relation, False) if relation else None
    repos = _lineage_repos()
    if model_id.lower() in repos:
        return repos[model_id.lower()], True
    relation = repos.get((base_model or "").lower())
    return (relation, False) if relation else None


def sd15_lineage_monthly(rows: dict, last_days: dict[str, date]) -> dict[tuple[str, date], tuple]:
    """(platform, month) -> (n_all_models, n_models, share_of_new_models, n_named, n_on_sd15,
    n_on_mirror, n_on_derivative, n_still_listed, n_with_downloads, downloads_total)."""
    out: dict[tuple[str, date], list] = {}
    for (platform, model_id), r in rows.items():
        if r["month"] is None:
            continue
        c = out.setdefault((platform, r["month"]), [0, 0, 0, 0, 0, 0, 0, 0, []])
        c[0] += 1
        lineage = lineage_of(platform, model_id, r["base_model"])
        if lineage is None:
            continue
        relation, named = lineage
        c[1] += 1
        c[2] += named
        c[3] += not named and relation == "SD 1.5"
        c[4] += not named and relation == "mirror"
        c[5] += not named and relation == "named derivative"
        c[6] += last_days[platform] in r["sightings"]
        c[7] += r["downloads"] is not None
        c[8].append(r["downloads"])
    return {
        k: (v[0], v[1], v[1] / v[0], v[2], v[3], v[4], v[5], v[6], v[7], _sum_or_none(v[8])) for k, v in out.items()
    }


def sd15_lineage_by_snapshot(
    world: World, civitai_days: list[date], hf_days: list[date], rows: dict
) -> dict[tuple[str, date], tuple]:
    """(platform, day) -> (n_listed, n_named_listed, n_new, n_gone, n_with_downloads, downloads_listed)."""
    civitai = {str(m.model_id): m for m in world.models}
    repos = {r.repo_id: r for r in world.repos}
    out = {}
    for platform, days in (("civitai", civitai_days), ("huggingface", hf_days)):
        lineage = {
            mid: lineage_of(p, mid, r["base_model"])
            for (p, mid), r in rows.items()
            if p == platform and lineage_of(p, mid, r["base_model"])
        }
        seen: set[str] = set()
        previous: set[str] = set()
        for day in sorted(days):
            t = clock_of(day)
            listed = {mid for mid in lineage if day in rows[(platform, mid)]["sightings"]}
            downloads = [_downloads(civitai, repos, platform, mid, t) for mid in listed]
            counted = [d for d in downloads if d is not None]
            out[(platform, day)] = (
                len(listed),
                sum(lineage[mid][1] for mid in listed),
                len(listed - seen),
                len(previous - listed),
                len(counted),
                sum(counted) if counted else None,
            )
            seen |= listed
            previous = listed
    return out

"""What the simulated hub answers: pure functions from (world, instant, query) to a response.

Shapes follow Civitai REST v1 (2025+ shape) and the Hugging Face Hub `/api/models`; filters
follow the real servers: PG-only defaults, `nsfw`/`browsingLevel` masks, archived models only on
request, real-person and minor content hidden from 2025-05-22, rows dropped after the LIMIT
(short pages), cursor paging on Civitai and `Link: rel="next"` paging on the Hub.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson

from ingest.fakehub.world import CivitaiImage, CivitaiModel, HfRepo, World, epoch_ms

Response = tuple[int, dict[str, str], Any]
NSFW_PARAM_MASKS = {"none": 1, "false": 1, "soft": 3, "mature": 7, "x": 31, "blocked": 32, "true": 60}
LABELS = {1: "None", 2: "Soft", 4: "Mature", 8: "X", 16: "X", 32: "Blocked"}
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
CDN = "https://image.civitai.invalid"


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _iso_zoneless(t: datetime) -> str:
    """Civitai's /models list items of 2024: no zone, trailing zeros of the fraction dropped."""
    fraction = f"{t.microsecond // 1000:03d}".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "")


_ms = epoch_ms


def _error(status: int, message: str) -> Response:
    return status, {}, {"error": message}


def _flag(query: dict[str, list[str]], name: str) -> bool:
    """Civitai's z.coerce.boolean: any non-empty value, even "false", is true."""
    return bool(query.get(name, [""])[0])


def _one(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    return query.get(name, [default])[0]


def _limit(query, default: int, maximum: int) -> int | Response:
    raw = _one(query, "limit", str(default))
    if not raw.isdigit() or int(raw) > maximum:
        return _error(400, f"limit must be a number between 0 and {maximum}")
    return int(raw) or default


def _after(rows: list, keys: list[tuple], cursor: str | None) -> tuple[list, list[tuple]]:
    """Rows strictly after the cursor key (rows are already in cursor order)."""
    if not cursor or cursor.startswith("start"):
        return rows, keys
    parts = cursor.split("|")
    try:
        key = tuple(int(p) for p in parts[:2])
    except ValueError:
        return [], []
    start = next((i for i, k in enumerate(keys) if k > key), len(keys))
    return rows[start:], keys[start:]


# -- Civitai ---------------------------------------------------------------------------------
def civitai_models(world: World, t: datetime, query: dict[str, list[str]], hidden: int = 0) -> Response:
    """`hidden`: levels this host does not serve (a second host: see FakeHub.civitai_second_base)."""
    limit = _limit(query, 100, 100)
    if isinstance(limit, tuple):
        return limit
    page = _one(query, "page")
    if page and page.isdigit() and int(page) * limit > 1000:
        return _error(429, "You've requested too many pages, please use cursors instead")
    mask = (31 if _one(query, "nsfw", "").lower() == "true" else 1) & ~hidden
    archived = _flag(query, "archived")
    types = set(query.get("types", []))
    tag = _one(query, "tag")
    ids = {int(i) for raw in query.get("ids", []) for i in raw.split(",") if i.strip().isdigit()}
    rows = [
        m
        for m in world.models
        if m.selected_at(t, mask, archived)
        and (not types or m.type in types)
        and (not tag or tag in m.tags)
        and (not ids or m.model_id in ids)
    ]
    sort = _one(query, "sort", "Highest Rated")
    if sort == "Oldest":
        keyed = sorted(((_ms(m.last_version_at(t)), m.model_id), m) for m in rows)
    elif sort == "Newest":
        keyed = sorted(((-_ms(m.last_version_at(t)), -m.model_id), m) for m in rows)
    else:  # Highest Rated / Most Downloaded: by downloads, then id, both descending
        keyed = sorted(((-m.downloads_at(t), -m.model_id), m) for m in rows)
    keys, models = [k for k, _ in keyed], [m for _, m in keyed]
    models, keys = _after(models, keys, _one(query, "cursor"))
    window = models[:limit]
    has_more = len(models) > limit
    visible = [m for m in window if not m.never_listed]  # dropped after the LIMIT: short pages
    metadata = {}
    if has_more:
        metadata["nextCursor"] = "|".join(str(k) for k in keys[limit - 1])
    return 200, {}, {"items": [model_item(m, t, mask) for m in visible], "metadata": metadata}


def civitai_model(world: World, t: datetime, model_id: int) -> Response:
    for model in world.models:
        if model.model_id == model_id and model.by_id_visible_at(t):
            return 200, {}, model_item(model, t, 31)
    return _error(404, f"No model with id {model_id}")


def civitai_model_version(world: World, t: datetime, version_id: int) -> Response:
    found = world.versions.get(version_id)
    if found:
        model, version = found
        if model.by_id_visible_at(t) and version in model.listed_versions_at(t) and version.nsfw_level & 31:
            item = _version_item(model, version, t, 31)
            item.update(
                modelId=model.model_id,
                createdAt=_iso(version.created_at),
                model={"name": model.name, "type": model.type, "nsfw": model.nsfw, "poi": model.poi},
            )
            return 200, {}, item
    return _error(404, f"No model version with id {version_id}")


# When Civitai's model `stats` changed shape (see the API reference): favourites were replaced by
# thumbs up in 2024-02 (favoriteCount, ratingCount and rating stayed, always 0) and removed on
# 2025-11-24. A snapshot gets the shape of the day it was taken.
THUMBS_UP_SINCE = datetime(2024, 2, 1, tzinfo=UTC)
FAVOURITES_REMOVED = datetime(2025, 11, 24, tzinfo=UTC)


def model_stats(model: CivitaiModel, t: datetime) -> dict[str, Any]:
    """The model's `stats` as the API generation of instant t serves them: every counter null for
    a model less than a day old, downloads (and tips) null when the creator hides them."""
    downloads = model.downloads_at(t)
    shown = None if model.hides_downloads else downloads
    if t < THUMBS_UP_SINCE:
        stats = {
            "downloadCount": shown,
            "favoriteCount": downloads // 20,
            "commentCount": downloads // 150,
            "ratingCount": downloads // 300,
            "rating": 4.8,
        }
    else:
        stats = {
            "downloadCount": shown,
            **({"favoriteCount": 0} if t < FAVOURITES_REMOVED else {}),
            "thumbsUpCount": downloads // 12,
            "thumbsDownCount": downloads // 900,
            "commentCount": downloads // 150,
            **({"ratingCount": 0, "rating": 0} if t < FAVOURITES_REMOVED else {}),
            "tippedAmountCount": None if model.hides_downloads else downloads // 40,
        }
    if (t - model.created_at) < timedelta(days=1):
        stats = dict.fromkeys(stats)
    return stats


def model_item(model: CivitaiModel, t: datetime, mask: int) -> dict[str, Any]:
    stats = model_stats(model, t)
    item = {
        "id": model.model_id,
        "name": model.name,
        "description": f"<p>{model.name} for {model.versions[0].base_model}.</p>",
        "allowNoCredit": True,
        "allowCommercialUse": ["Image", "RentCivit"],
        "allowDerivatives": True,
        "allowDifferentLicense": True,
        "type": model.type,
        "minor": model.minor,
        "sfwOnly": False,
        "poi": model.poi,
        "nsfw": model.nsfw,
        "nsfwLevel": model.nsfw_level_at(t),
        "availability": "Public",
        "cosmetic": None,
        "supportsGeneration": model.type == "Checkpoint",
        "stats": stats,
        "creator": {"username": model.creator, "image": None},
        "tags": list(model.tags),
        "modelVersions": [_version_item(model, v, t, mask) for v in reversed(model.listed_versions_at(t))],
    }
    mode = model.mode_at(t)
    if mode:
        item["mode"] = mode
    return item


def _version_item(model: CivitaiModel, version, t: datetime, mask: int) -> dict[str, Any]:
    mode = model.mode_at(t)
    index = model.versions.index(version)
    files = (
        []
        if mode
        else [
            {
                "id": f.file_id,
                "sizeKB": f.size_kb,
                "name": f.name,
                "type": f.type,
                "pickleScanResult": "Success",
                "virusScanResult": "Success",
                "metadata": {"format": "SafeTensor", "size": None, "fp": None},
                "hashes": {"AutoV2": f.sha256[:10], "SHA256": f.sha256},
                "downloadUrl": f"https://civitai.invalid/api/download/models/{version.version_id}",
                "primary": f.primary,
            }
            for f in version.files
        ]
    )
    level = version.nsfw_level
    shown = [bit for bit in (1, 2, 4, 8, 16) if level & bit & mask]
    images = (
        []
        if mode == "TakenDown"
        else [
            {
                "id": version.version_id * 10 + k,
                "url": f"{CDN}/{version.version_id}-{k}/width=450/{version.version_id * 10 + k}.jpeg",
                "nsfwLevel": bit,
                "width": 832,
                "height": 1216,
                "hash": "U5F~aE~q",
                "type": "image",
                "minor": model.minor,
                "poi": model.poi,
                "hasMeta": True,
            }
            for k, bit in enumerate(shown[:2])
        ]
    )
    item = {
        "id": version.version_id,
        "index": len(model.versions_at(t)) - 1 - index,
        "name": version.name,
        "baseModel": version.base_model,
        "baseModelType": "Standard",
        # a quarter of the versions in the zone-less 2024 shape: both shapes in one crawl
        "publishedAt": (_iso_zoneless if version.version_id % 4 == 0 else _iso)(version.created_at),
        "availability": "Public",
        "nsfwLevel": level,
        "description": None,
        "trainedWords": list(version.trained_words),
        "stats": {"downloadCount": None, "thumbsUpCount": 0, "thumbsDownCount": 0},
        "supportsGeneration": False,
        "files": files,
        "images": images,
    }
    if mode != "Archived":
        item["downloadUrl"] = f"https://civitai.invalid/api/download/models/{version.version_id}"
    return item


def images_mask(query: dict[str, list[str]]) -> int | None:
    raw = _one(query, "browsingLevel")
    if raw is not None:
        return int(raw) if raw.isdigit() else None
    return NSFW_PARAM_MASKS.get((_one(query, "nsfw", "none") or "none").lower())


def civitai_images(
    world: World, t: datetime, query: dict[str, list[str]], page_cap: int | None = None, hidden: int = 0
) -> Response:
    """`page_cap` serves pages shorter than asked (as a busy server may): at most that many items;
    `hidden`: levels this host does not serve.

    Reads the world's images in their sorted feed order from the cursor on, until one more than
    a page is listed: a page costs what it serves (and the images it passes), not the world."""
    limit = _limit(query, 100, 200)
    if isinstance(limit, tuple):
        return limit
    limit = min(limit, page_cap) if page_cap else limit
    mask = images_mask(query)
    if mask is None:
        return _error(400, "browsingLevel must be a number")
    mask &= ~hidden
    period = (_one(query, "period", "AllTime") or "AllTime").lower()
    since = t - timedelta(days=PERIOD_DAYS[period]) if period in PERIOD_DAYS else None
    cursor = _cursor_key(_one(query, "cursor"))
    if cursor == ():  # a cursor no page gave: nothing after it
        return 200, {}, {"items": [], "metadata": {}}
    images, keys = world.images_newest_first()
    start, end = 0, len(images)
    if _one(query, "sort", "Newest") == "Oldest":
        images, keys = images[::-1], [(-ms, -image_id) for ms, image_id in reversed(keys)]
    else:  # skip what is newer than t or older than the window: neither is listed
        start = bisect.bisect_left(keys, (-_ms(t) - 1,))
        end = bisect.bisect_left(keys, (-_ms(since) + 1,)) if since is not None else end
    if cursor is not None:
        start = max(start, bisect.bisect_right(keys, cursor))
    listed: list[int] = []
    for index in range(start, end):
        if images[index].listed_at(t, mask, since):
            listed.append(index)
            if len(listed) > limit:
                break
    metadata = {}
    if len(listed) > limit:
        metadata["nextCursor"] = "|".join(str(k) for k in keys[listed[limit - 1]])
    with_tags = _one(query, "withTags", "") == "true"
    with_meta = _one(query, "withMeta", "") == "true"
    items = [image_item(images[index], world, with_tags, with_meta) for index in listed[:limit]]
    return 200, {}, {"items": items, "metadata": metadata}


def _cursor_key(cursor: str | None) -> tuple[int, ...] | None:
    """The sort key a cursor stands for (as `_after` reads it): None from the start, () when it
    is not one the server gave."""
    if not cursor or cursor.startswith("start"):
        return None
    try:
        return tuple(int(p) for p in cursor.split("|")[:2])
    except ValueError:
        return ()


def image_item(image: CivitaiImage, world: World, with_tags: bool, with_meta: bool) -> dict[str, Any]:
    item = {
        "id": image.image_id,
        "url": f"{CDN}/{image.image_id}/original=true/{image.image_id}.jpeg",
        "hash": "UHB{Y{9#NHxZ",
        "width": 832,
        "height": 1216,
        "nsfwLevel": LABELS[image.browsing_level],
        "type": "image",
        "nsfw": image.browsing_level != 1,
        "browsingLevel": image.browsing_level,
        "createdAt": _iso(image.created_at),
        "postId": image.image_id // 3,
        "stats": {
            "cryCount": 0,
            "laughCount": 1,
            "likeCount": image.image_id % 97,
            "dislikeCount": 0,
            "heartCount": image.image_id % 31,
            "commentCount": image.image_id % 5,
        },
        "meta": {
            "prompt": prompt_of(image),
            **({"negativePrompt": image.negative_prompt} if image.negative_prompt else {}),
            "steps": 28,
            "cfgScale": 6,
            **resource_meta(image, world),
        }
        if with_meta
        else None,
        "username": image.username,
        "baseModel": image.base_model,
        "modelVersionIds": [v for v in (image.version_id, image.extra_version_id) if v is not None]
        if image.resource_shape in ("ids", "ids_only")
        else [],
    }
    if with_tags:
        item["tags"] = [{"id": 1000 + sum(map(ord, name)), "name": name} for name in image.tags]
    return item


def prompt_of(image: CivitaiImage) -> str:
    """The image's prompt: its extras, its tags, and a marker no package may ever hold
    (tests look for it in every file of a package)."""
    return ", ".join([*image.prompt_extra, *image.tags, f"zqprompt{image.image_id}"])


def autov2(world: World, version_id: int) -> str | None:
    """The AutoV2 hash (first 10 hex of the SHA-256, lower case as A1111 writes it) of a
    version's primary weight file."""
    _model, version = world.versions[version_id]
    primary = [f for f in version.files if f.primary and f.type in ("Model", "Pruned Model")]
    return primary[0].sha256[:10].lower() if primary else None


def resource_meta(image: CivitaiImage, world: World) -> dict[str, Any]:
    """The generation-metadata keys that name what an image was made with (see RESOURCE_SHAPES)."""
    if image.resource_shape == "ids":
        refs = [{"type": "checkpoint", "modelVersionId": image.version_id}]
        if image.extra_version_id is not None:
            refs.append({"type": "lora", "modelVersionId": image.extra_version_id, "weight": 0.8})
        return {"civitaiResources": refs}
    if image.resource_shape == "a1111":
        model, _version = world.versions[image.version_id]
        main = autov2(world, image.version_id)
        resources = [{"name": model.name, "type": "model", "hash": main}]
        if image.extra_version_id is not None:
            extra, _ = world.versions[image.extra_version_id]
            resources.append(
                {"name": extra.name, "type": "lora", "hash": autov2(world, image.extra_version_id), "weight": 0.7}
            )
        resources.append({"name": "easynegative", "type": "embed"})  # no hash: names nothing resolvable
        return {"resources": resources, "hashes": {"model": main or ""}, "Model hash": main or "", "Model": model.name}
    if image.resource_shape == "autov1":
        return {"Model hash": hashlib.sha256(str(image.image_id).encode()).hexdigest()[:8], "Model": "some_model_v1"}
    return {}


# -- Hugging Face ----------------------------------------------------------------------------
def hf_models(world: World, t: datetime, query: dict[str, list[str]], base_url: str) -> Response:
    raw_limit = _one(query, "limit", "1000")
    limit = min(int(raw_limit), 1000) if raw_limit and raw_limit.isdigit() and int(raw_limit) else 1000
    filters = query.get("filter", [])
    pipeline = _one(query, "pipeline_tag")
    author = _one(query, "author")
    search = _one(query, "search")
    rows = [
        r
        for r in world.repos
        if r.exists_at(t)
        and all(f in r.tags for f in filters)
        and (not pipeline or r.pipeline_tag == pipeline)
        and (not author or r.repo_id.split("/")[0] == author)
        and (not search or search.lower() in r.repo_id.lower())
    ]
    sort = _one(query, "sort", "trendingScore")
    if sort == "createdAt":
        keyed = sorted(((-_ms(r.created_at), r.repo_id), r) for r in rows)
    else:  # downloads / likes / trendingScore: by downloads, always descending
        keyed = sorted(((-_downloads_30d(r, t), r.repo_id), r) for r in rows)
    start = 0
    cursor = _one(query, "cursor")
    if cursor:
        try:
            after = tuple(orjson.loads(base64.urlsafe_b64decode(cursor.encode())))
        except ValueError:
            return _error(400, "Invalid cursor")
        start = next((i for i, (k, _) in enumerate(keyed) if k > after), len(keyed))
    page = keyed[start : start + limit]
    headers = {}
    if start + limit < len(keyed):
        token = base64.urlsafe_b64encode(orjson.dumps(list(page[-1][0]))).decode()
        params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
        headers["Link"] = f'<{base_url}/api/models?{urlencode([*params, ("cursor", token)])}>; rel="next"'
    expand = query.get("expand", []) + query.get("expand[]", [])
    return 200, headers, [hf_item(r, t, expand) for _k, r in page]


def _downloads_30d(repo: HfRepo, t: datetime) -> int:
    days = (t - repo.created_at).total_seconds() / 86400
    return int(repo.downloads_per_day * min(days, 30.0))


def hf_item(repo: HfRepo, t: datetime, expand: list[str]) -> dict[str, Any]:
    days = (t - repo.created_at).total_seconds() / 86400
    full = {
        "author": repo.repo_id.split("/")[0],
        "sha": repo.sha_at(t),
        "lastModified": _iso(repo.last_modified_at(t)),
        "createdAt": _iso(repo.created_at),
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": _downloads_30d(repo, t),
        "downloadsAllTime": int(repo.downloads_per_day * days),
        "likes": repo.likes,
        "trendingScore": repo.likes // 10,
        "library_name": repo.library_name,
        "tags": list(repo.tags),
        "pipeline_tag": repo.pipeline_tag,
        "cardData": {"tags": [x for x in repo.tags if ":" not in x], "license": "other"},
    }
    item = {"_id": repo.repo_id.encode().hex()[:24], "id": repo.repo_id}
    if expand:
        item.update({k: v for k, v in full.items() if k in expand})
    else:
        keys = (
            "likes",
            "trendingScore",
            "private",
            "downloads",
            "tags",
            "pipeline_tag",
            "library_name",
            "createdAt",
        )
        item.update({k: full[k] for k in keys})
        item["modelId"] = repo.repo_id
    return item


def hf_model(world: World, t: datetime, repo_id: str, query: dict[str, list[str]]) -> Response:
    for repo in world.repos:
        if repo.repo_id == repo_id and repo.exists_at(t):
            item = hf_item(repo, t, [])
            item.update(
                {
                    k: v
                    for k, v in hf_item(
                        repo,
                        t,
                        [
                            "author",
                            "sha",
                            "lastModified",
                            "gated",
                            "disabled",
                            "downloadsAllTime",
                            "cardData",
                        ],
                    ).items()
                }
            )
            blobs = _one(query, "blobs", "") in ("true", "True", "1")
            item["siblings"] = [
                {"rfilename": name}
                if not blobs
                else {
                    "rfilename": name,
                    "size": size,
                    "blobId": (sha or name.encode().hex())[:40],
                    **({"lfs": {"size": size, "sha256": sha, "pointerSize": 135}} if sha else {}),
                }
                for name, size, sha in repo.files
            ]
            return 200, {}, item
    return 404, {"X-Error-Code": "RepoNotFound"}, {"error": "Repository not found"}

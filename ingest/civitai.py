"""Civitai REST v1: complete cursor crawls of /models and /images, and their normalisation.

Why these parameters (see the API reference in README):
- /models defaults to PG only and hides archived models, so a complete crawl asks for
  `nsfw=true` (all levels) and `archived=true`, sorted `Oldest` (by lastVersionAt ascending:
  a model updated mid-crawl moves to the end and is seen twice, never missed; the normaliser
  keeps its last sighting).
- /images defaults to PG only; `browsingLevel=31` asks for PG..XXX. The window is the API's
  own `period` (Day for a daily snapshot) sorted `Newest`. `withTags`/`withMeta` are sent
  always: servers that predate them ignore unknown parameters.
- Only an absent `nextCursor` ends a crawl. Short or empty pages are normal (the server drops
  hidden rows after its LIMIT, and a database timeout returns an empty page).

Both the 2023 shape (no nsfwLevel, string allowCommercialUse, version createdAt) and the 2025+
shape (bitmask nsfwLevel, publishedAt only, nullable stats) parse; every counter is nullable
and the raw item is kept whole in `raw_json`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import polars as pl

from ingest.http import CrawlError, PoliteClient
from ingest.landing import StagedSnapshot, rows_to_frame
from ingest.prompt_terms import normalise_prompt
from ingest.quality import Quality, as_dict, as_list, dicts_in, ints_in, strings_in
from ingest.sources import IMAGE_PERIODS
from ingest.timestamps import parse_timestamps, unparsed

MODELS_PARAMS = {"limit": 100, "nsfw": "true", "archived": "true", "sort": "Oldest"}


def images_params(period: str) -> dict[str, Any]:
    if period not in IMAGE_PERIODS:
        raise CrawlError(f"unknown images period {period!r}; expected one of {', '.join(IMAGE_PERIODS)}")
    return {
        "limit": 200,
        "browsingLevel": 31,
        "sort": "Newest",
        "period": period,
        "withTags": "true",
        "withMeta": "true",
    }


# -- crawling --------------------------------------------------------------------------------
def crawl(snapshot: StagedSnapshot, client: PoliteClient, url: str, params: dict[str, Any]) -> None:
    """Follow `metadata.nextCursor` from where the snapshot left off until it is absent.

    The page without a next cursor is stored with state None: the checkpoint then says the crawl
    is done, so a rerun after a kill fetches nothing (the bounds on empty and excess pages are
    StagedSnapshot's, see `add_page`).
    """
    if snapshot.crawled:
        return
    cursor = (snapshot.state or {}).get("cursor")
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        fetched = client.get_json(url, query)
        items, next_cursor = page_items(fetched.payload, fetched.url)
        snapshot.add_page(
            fetched,
            stream="items",
            items=len(items),
            cursor=next_cursor,
            state={"cursor": next_cursor} if next_cursor else None,
            errors=client.take_errors(),
        )
        if next_cursor is None:
            return
        cursor = next_cursor


def page_items(payload: Any, url: str) -> tuple[list[dict[str, Any]], str | None]:
    """The items and next cursor of a /models or /images page; a wrong shape is an error."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise CrawlError(f"{url} did not return a page of items: {str(payload)[:120]}")
    metadata = payload.get("metadata") or {}
    cursor = metadata.get("nextCursor")
    return payload["items"], (str(cursor) if cursor not in (None, "") else None)


# -- normalisation ---------------------------------------------------------------------------
UTC_MS = pl.Datetime("ms", "UTC")
MODEL_SCHEMA = {
    "model_id": pl.Int64,
    "name": pl.String,
    "type": pl.String,
    "nsfw": pl.Boolean,
    "nsfw_level": pl.Int64,
    "poi": pl.Boolean,
    "minor": pl.Boolean,
    "sfw_only": pl.Boolean,
    "mode": pl.String,
    "availability": pl.String,
    "creator_username": pl.String,
    "tags": pl.List(pl.String),
    "base_models": pl.List(pl.String),
    "download_count": pl.Int64,
    "thumbs_up_count": pl.Int64,
    "thumbs_down_count": pl.Int64,
    "favorite_count": pl.Int64,
    "comment_count": pl.Int64,
    "tipped_amount_count": pl.Int64,
    "n_versions": pl.Int64,
    "created_at": UTC_MS,  # see CREATION_DATE_ORDER
    "created_at_source": pl.String,  # which field gave created_at (null: undated)
    "last_version_at": UTC_MS,
    "raw_json": pl.String,
}
VERSION_SCHEMA = {
    "model_id": pl.Int64,
    "version_id": pl.Int64,
    "name": pl.String,
    "base_model": pl.String,
    "nsfw_level": pl.Int64,
    "trained_words": pl.List(pl.String),
    "download_count": pl.Int64,
    "created_at": UTC_MS,
    "published_at": UTC_MS,
}
FILE_SCHEMA = {
    "model_id": pl.Int64,
    "version_id": pl.Int64,
    "file_id": pl.Int64,
    "name": pl.String,
    "type": pl.String,
    "size_kb": pl.Float64,
    "is_primary": pl.Boolean,
    "sha256": pl.String,
    "autov2": pl.String,
}
IMAGE_SCHEMA = {
    "image_id": pl.Int64,
    "created_at": UTC_MS,
    "browsing_level": pl.Int64,
    "nsfw_level_label": pl.String,
    "nsfw": pl.Boolean,
    "type": pl.String,
    "width": pl.Int64,
    "height": pl.Int64,
    "post_id": pl.Int64,
    "username": pl.String,
    "base_model": pl.String,
    "model_version_ids": pl.List(pl.Int64),
    "tags": pl.List(pl.String),
    "like_count": pl.Int64,
    "heart_count": pl.Int64,
    "comment_count": pl.Int64,
    "has_meta": pl.Boolean,
    "raw_json": pl.String,
}
# What an image says it was made with, one row per reference, in the order the item gives them:
# `modelVersionIds` (since 2025-06), `meta.civitaiResources` (Civitai's generator: version ids),
# `meta.resources` (A1111: name, type, AutoV2 hash), `meta.hashes` (name -> hash) and
# `meta["Model hash"]`. Nothing is resolved here (dbt resolves ids and hashes against the models
# crawls); a reference that names nothing usable is still a row (every column null but `source`),
# so dbt counts it. resource_name is free text (often a person's name): never published.
IMAGE_RESOURCE_SCHEMA = {
    "image_id": pl.Int64,
    "position": pl.Int64,
    "source": pl.String,
    "model_version_id": pl.Int64,
    "hash": pl.String,  # lower-case hex as the image gave it
    "hash_kind": pl.String,  # autov1 (8 hex) | autov2 (10) | sha256 (64) | other
    "resource_name": pl.String,
    "resource_type": pl.String,
    "weight": pl.Float64,
}
HASH_KINDS = {8: "autov1", 10: "autov2", 64: "sha256"}
# An image's prompt and negative prompt, as the warehouse matches them (prompt_terms.normalise_prompt);
# internal only: no public table carries them, packages carry counts of term families.
IMAGE_PROMPT_SCHEMA = {"image_id": pl.Int64, "prompt": pl.String, "negative_prompt": pl.String}
# A model's creation date, first that is present: the earliest of its versions' times, each
# version's time being its createdAt (the 2023 shape), else its publishedAt (list items since
# 2024 carry no version createdAt); then the model's own publishedAt, then its createdAt. A model
# with none of them (real 2023 items with `modelVersions: []`) is kept, undated, and counted.
CREATION_DATE_ORDER = ("version.createdAt", "version.publishedAt", "model.publishedAt", "model.createdAt")


def normalise_models(items: Iterable[Any], quality: Quality | None = None) -> dict[str, pl.DataFrame]:
    """Model items -> models, model_versions and model_files tables (last sighting wins).

    Never raises on an odd item: values of the wrong type become null and are counted in
    `quality` (as are timestamps that do not parse and models left undated).
    """
    quality = quality if quality is not None else Quality()
    latest = latest_by_id(items, "models", int, quality)
    models, versions, files = [], [], []
    for model_id, item in latest.items():
        item_versions = dicts_in(item.get("modelVersions"), "models.modelVersions", quality)
        stats = as_dict(item.get("stats"), "models.stats", quality)
        creator = as_dict(item.get("creator"), "models.creator", quality)
        if item.get("baseModels") is not None:
            base_models = strings_in(item.get("baseModels"), "models.baseModels", quality)
        else:
            base_models = sorted({v["baseModel"] for v in item_versions if isinstance(v.get("baseModel"), str)})
        models.append(
            {
                "model_id": model_id,
                "name": item.get("name"),
                "type": item.get("type"),
                "nsfw": item.get("nsfw"),
                "nsfw_level": item.get("nsfwLevel"),
                "poi": item.get("poi"),
                "minor": item.get("minor"),
                "sfw_only": item.get("sfwOnly"),
                "mode": item.get("mode"),
                "availability": item.get("availability"),
                "creator_username": creator.get("username"),
                "tags": tag_names(item.get("tags"), "models.tags", quality),
                "base_models": base_models,
                "download_count": stats.get("downloadCount"),
                "thumbs_up_count": stats.get("thumbsUpCount"),
                "thumbs_down_count": stats.get("thumbsDownCount"),
                "favorite_count": stats.get("favoriteCount"),
                "comment_count": stats.get("commentCount"),
                "tipped_amount_count": stats.get("tippedAmountCount"),
                "n_versions": len(item_versions),
                "published_at": item.get("publishedAt"),  # model-level times: fallbacks only
                "created_at": item.get("createdAt"),
                "raw_json": orjson.dumps(item).decode(),
            }
        )
        for version in item_versions:
            version_id = version.get("id")
            versions.append(
                {
                    "model_id": model_id,
                    "version_id": version_id,
                    "name": version.get("name"),
                    "base_model": version.get("baseModel"),
                    "nsfw_level": version.get("nsfwLevel"),
                    "trained_words": strings_in(version.get("trainedWords"), "model_versions.trainedWords", quality),
                    "download_count": as_dict(version.get("stats"), "model_versions.stats", quality).get(
                        "downloadCount"
                    ),
                    "created_at": version.get("createdAt"),
                    "published_at": version.get("publishedAt"),
                }
            )
            for file in dicts_in(version.get("files"), "model_versions.files", quality):
                hashes = as_dict(file.get("hashes"), "model_files.hashes", quality)
                sha = hashes.get("SHA256")
                primary = file.get("primary")
                if primary is not None and not isinstance(primary, bool):
                    quality.odd("model_files.primary")
                files.append(
                    {
                        "model_id": model_id,
                        "version_id": version_id,
                        "file_id": file.get("id"),
                        "name": file.get("name"),
                        "type": file.get("type"),
                        "size_kb": file.get("sizeKB"),
                        "is_primary": primary is True,
                        "sha256": sha.lower() if isinstance(sha, str) else sha,
                        "autov2": hashes.get("AutoV2"),
                    }
                )
    version_frame = _frame(versions, VERSION_SCHEMA, "model_versions", quality)
    model_frame = _frame(models, MODEL_ROW_SCHEMA, "models", quality)
    model_frame = with_creation_dates(model_frame, version_frame)
    quality.undated["models"] += model_frame["created_at"].null_count()
    return {
        "models": model_frame.sort("model_id"),
        "model_versions": version_frame.sort("model_id", "version_id"),
        # one row per file (a file listed under two versions keeps the lower), so the warehouse's
        # staging view need not re-deduplicate every file of every snapshot
        "model_files": _frame(files, FILE_SCHEMA, "model_files", quality)
        .sort("version_id", "file_id")
        .unique("file_id", keep="first", maintain_order=True)
        .sort("model_id", "version_id", "file_id"),
    }


# what each model row holds before its creation date is decided: the model-level times (read
# only as the last fallbacks) instead of the derived columns
MODEL_ROW_SCHEMA = {
    **{k: v for k, v in MODEL_SCHEMA.items() if k not in ("created_at_source", "last_version_at")},
    "published_at": UTC_MS,
}


def with_creation_dates(models: pl.DataFrame, versions: pl.DataFrame) -> pl.DataFrame:
    """created_at, created_at_source and last_version_at, in CREATION_DATE_ORDER."""
    version_time = pl.coalesce("created_at", "published_at")
    by_model = (
        versions.select(
            "model_id",
            time=version_time,
            source=pl.when(pl.col("created_at").is_not_null())
            .then(pl.lit(CREATION_DATE_ORDER[0]))
            .when(pl.col("published_at").is_not_null())
            .then(pl.lit(CREATION_DATE_ORDER[1])),
        )
        .drop_nulls("time")
        .group_by("model_id")
        .agg(
            version_created=pl.col("time").min(),
            version_source=pl.col("source").sort_by("time").first(),
            last_version_at=pl.col("time").max(),
        )
    )
    joined = models.join(by_model, on="model_id", how="left")
    return joined.with_columns(
        created_at=pl.coalesce("version_created", "published_at", "created_at"),
        created_at_source=pl.when(pl.col("version_created").is_not_null())
        .then("version_source")
        .when(pl.col("published_at").is_not_null())
        .then(pl.lit(CREATION_DATE_ORDER[2]))
        .when(pl.col("created_at").is_not_null())
        .then(pl.lit(CREATION_DATE_ORDER[3])),
    ).select(MODEL_SCHEMA.keys())


def normalise_images(items: Iterable[Any], quality: Quality | None = None) -> dict[str, pl.DataFrame]:
    """Image items -> the images table (one row per image id, last sighting wins)."""
    quality = quality if quality is not None else Quality()
    latest = latest_by_id(items, "images", int, quality)
    rows = []
    for image_id, item in latest.items():
        stats = as_dict(item.get("stats"), "images.stats", quality)
        nsfw = item.get("nsfw")
        label = item.get("nsfwLevel")
        rows.append(
            {
                "image_id": image_id,
                "created_at": item.get("createdAt"),
                "browsing_level": item.get("browsingLevel"),
                # /images gives a lossy string; 2023 showcase images put the string in `nsfw`
                "nsfw_level_label": label if isinstance(label, str) else (nsfw if isinstance(nsfw, str) else None),
                "nsfw": nsfw if isinstance(nsfw, bool) else None,
                "type": item.get("type"),
                "width": item.get("width"),
                "height": item.get("height"),
                "post_id": item.get("postId"),
                "username": item.get("username"),
                "base_model": item.get("baseModel"),
                "model_version_ids": ints_in(item.get("modelVersionIds"), "images.modelVersionIds", quality),
                "tags": tag_names(item.get("tags"), "images.tags", quality),
                "like_count": stats.get("likeCount"),
                "heart_count": stats.get("heartCount"),
                "comment_count": stats.get("commentCount"),
                "has_meta": item.get("meta") is not None,
                "raw_json": orjson.dumps(item).decode(),
            }
        )
    resources = [row for image_id, item in latest.items() for row in image_resources(image_id, item, quality)]
    prompts = [row for image_id, item in latest.items() if (row := image_prompt(image_id, item, quality))]
    return {
        "image_prompts": _frame(prompts, IMAGE_PROMPT_SCHEMA, "image_prompts", quality).sort("image_id"),
        "images": _frame(rows, IMAGE_SCHEMA, "images", quality).sort("image_id"),
        "image_resources": _frame(resources, IMAGE_RESOURCE_SCHEMA, "image_resources", quality).sort(
            "image_id", "position"
        ),
    }


def image_meta(item: dict[str, Any], quality: Quality) -> dict[str, Any]:
    """An image's generation metadata: flat, or wrapped `{"id", "meta"}` (the legacy path)."""
    meta = as_dict(item.get("meta"), "images.meta", quality)
    if set(meta) <= {"id", "meta"} and "meta" in meta:
        return as_dict(meta["meta"], "images.meta", quality)
    return meta


def image_prompt(image_id: int, item: dict[str, Any], quality: Quality) -> dict[str, Any] | None:
    """The image's normalised prompt and negative prompt (None when it has neither)."""
    meta = image_meta(item, Quality())  # an odd meta is counted once, by image_resources
    prompt, negative = normalise_prompt(meta.get("prompt")), normalise_prompt(meta.get("negativePrompt"))
    for key, value in (("prompt", meta.get("prompt")), ("negativePrompt", meta.get("negativePrompt"))):
        if value is not None and not isinstance(value, str):
            quality.odd(f"images.meta.{key}")
    if prompt is None and negative is None:
        return None
    return {"image_id": image_id, "prompt": prompt, "negative_prompt": negative}


def image_resources(image_id: int, item: dict[str, Any], quality: Quality) -> list[dict[str, Any]]:
    """Every resource reference an image item carries (see IMAGE_RESOURCE_SCHEMA)."""
    meta = image_meta(item, quality)
    refs: list[dict[str, Any]] = []

    def add(source: str, **values: Any) -> None:
        hash_ = values.get("hash")
        hash_ = hash_.strip().lower() if isinstance(hash_, str) and hash_.strip() else None
        refs.append(
            {
                "image_id": image_id,
                "position": len(refs),
                "source": source,
                "model_version_id": _version_id(values.get("model_version_id")),
                "hash": hash_,
                "hash_kind": None if hash_ is None else HASH_KINDS.get(len(hash_), "other"),
                "resource_name": _text(values.get("name")),
                "resource_type": _text(values.get("type")),
                "weight": _number(values.get("weight")),
            }
        )

    # an odd element of modelVersionIds is counted once, by the images row
    for version_id in ints_in(item.get("modelVersionIds"), "images.modelVersionIds", Quality()):
        add("modelVersionIds", model_version_id=version_id)
    for ref in as_list(meta.get("civitaiResources"), "images.meta.civitaiResources", quality):
        ref = ref if isinstance(ref, dict) else {}  # kept as a row that names nothing (counted by dbt)
        add(
            "meta.civitaiResources",
            model_version_id=ref.get("modelVersionId"),
            type=ref.get("type"),
            weight=ref.get("weight", ref.get("strength")),
            name=ref.get("modelVersionName"),
        )
    for ref in as_list(meta.get("resources"), "images.meta.resources", quality):
        ref = ref if isinstance(ref, dict) else {}
        add(
            "meta.resources", hash=ref.get("hash"), name=ref.get("name"), type=ref.get("type"), weight=ref.get("weight")
        )
    for name, hash_ in as_dict(meta.get("hashes"), "images.meta.hashes", quality).items():
        if isinstance(hash_, str) and hash_.strip():  # `{"model": ""}` (a real shape) names nothing
            add("meta.hashes", hash=hash_, name=name)
    model_hash = meta.get("Model hash")
    if isinstance(model_hash, str) and model_hash.strip():
        add("meta.Model hash", hash=model_hash, name=meta.get("Model"), type="model")
    return refs


def _version_id(value: Any) -> int | None:
    """A version id as sent: an integer, or its digits as text (the generator's JSON varies)."""
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def latest_by_id(items: Iterable[Any], table: str, id_type: type, quality: Quality) -> dict[Any, dict[str, Any]]:
    """The last sighting of each item by its id; an item that is not an object or has no id of
    the right type cannot be keyed and is left out (counted; the stored page keeps it)."""
    latest: dict[Any, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            quality.odd(f"{table}.item")
        elif type(item.get("id")) is not id_type:
            quality.odd(f"{table}.id")
        else:
            latest[item["id"]] = item
    return latest


def model_item_from_version(version: dict[str, Any]) -> dict[str, Any]:
    """A /model-versions/{id} response as a one-version model item, so it normalises the same.

    It carries its parent's name, type and flags under `model` (the only per-version place
    `poi` and `nsfw` appear), which is all a model row needs besides the version itself.
    """
    parent = version.get("model") or {}
    return {
        "id": version["modelId"],
        **{k: parent[k] for k in ("name", "type", "nsfw", "poi", "mode") if k in parent},
        "modelVersions": [{k: v for k, v in version.items() if k != "model"}],
    }


def items_of(pages: Iterable[tuple[dict[str, Any], Any]]) -> Iterable[dict[str, Any]]:
    for _meta, payload in pages:
        yield from payload["items"]


def tag_names(tags: Any, name: str, quality: Quality) -> list[str]:
    """Model tags are names; image tags (withTags) are {id, name}; keep the names."""
    names = []
    odd = 0
    for tag in as_list(tags, name, quality):
        value = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(value, str):
            names.append(value)
        else:
            odd += 1
    quality.odd(name, odd)
    return names


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any], table: str, quality: Quality) -> pl.DataFrame:
    """Rows -> a typed frame; timestamps go through the one parser and every value that does not
    parse is counted (the raw text stays in the item's raw_json)."""
    times = [c for c, dtype in schema.items() if dtype == UTC_MS]
    frame = rows_to_frame(rows, {c: pl.String if c in times else d for c, d in schema.items()}, quality, table)
    for column in times:
        raw = frame[column]
        parsed = parse_timestamps(raw)
        quality.unparsed[f"{table}.{column}"] += unparsed(raw, parsed)
        frame = frame.with_columns(parsed.alias(column))
    return frame

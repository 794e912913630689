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

MODELS_PARAMS = {"limit": 100, "nsfw": "true", "archived": "true", "sort": "Oldest"}
IMAGE_PERIODS = ("Day", "Week", "Month", "Year", "AllTime")


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
    "created_at": pl.String,  # parsed to datetime below
    "last_version_at": pl.String,
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
    "created_at": pl.String,
    "published_at": pl.String,
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
    "created_at": pl.String,
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
TIME_COLUMNS = ("created_at", "last_version_at", "published_at")


def normalise_models(items: Iterable[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """Model items -> models, model_versions and model_files tables (last sighting wins)."""
    latest: dict[int, dict[str, Any]] = {}
    for item in items:
        latest[int(item["id"])] = item
    models, versions, files = [], [], []
    for model_id, item in latest.items():
        item_versions = item.get("modelVersions") or []
        version_times = [_version_time(v) for v in item_versions if _version_time(v)]
        stats = item.get("stats") or {}
        creator = item.get("creator") or {}
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
                "tags": _tag_names(item.get("tags")),
                "base_models": item.get("baseModels")
                or sorted({v["baseModel"] for v in item_versions if v.get("baseModel")}),
                "download_count": stats.get("downloadCount"),
                "thumbs_up_count": stats.get("thumbsUpCount"),
                "thumbs_down_count": stats.get("thumbsDownCount"),
                "favorite_count": stats.get("favoriteCount"),
                "comment_count": stats.get("commentCount"),
                "tipped_amount_count": stats.get("tippedAmountCount"),
                "n_versions": len(item_versions),
                "created_at": min(version_times) if version_times else None,
                "last_version_at": max(version_times) if version_times else None,
                "raw_json": orjson.dumps(item).decode(),
            }
        )
        for version in item_versions:
            versions.append(
                {
                    "model_id": model_id,
                    "version_id": version.get("id"),
                    "name": version.get("name"),
                    "base_model": version.get("baseModel"),
                    "nsfw_level": version.get("nsfwLevel"),
                    "trained_words": [str(w) for w in version.get("trainedWords") or []],
                    "download_count": (version.get("stats") or {}).get("downloadCount"),
                    "created_at": version.get("createdAt"),
                    "published_at": version.get("publishedAt"),
                }
            )
            for file in version.get("files") or []:
                hashes = file.get("hashes") or {}
                sha = hashes.get("SHA256")
                files.append(
                    {
                        "model_id": model_id,
                        "version_id": version.get("id"),
                        "file_id": file.get("id"),
                        "name": file.get("name"),
                        "type": file.get("type"),
                        "size_kb": file.get("sizeKB"),
                        "is_primary": bool(file.get("primary", False)),
                        "sha256": sha.lower() if sha else None,
                        "autov2": hashes.get("AutoV2"),
                    }
                )
    return {
        "models": _frame(models, MODEL_SCHEMA).sort("model_id"),
        "model_versions": _frame(versions, VERSION_SCHEMA).sort("model_id", "version_id"),
        # one row per file (a file listed under two versions keeps the lower), so the warehouse's
        # staging view need not re-deduplicate every file of every snapshot
        "model_files": _frame(files, FILE_SCHEMA)
        .sort("version_id", "file_id")
        .unique("file_id", keep="first", maintain_order=True)
        .sort("model_id", "version_id", "file_id"),
    }


def normalise_images(items: Iterable[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """Image items -> the images table (one row per image id, last sighting wins)."""
    latest: dict[int, dict[str, Any]] = {}
    for item in items:
        latest[int(item["id"])] = item
    rows = []
    for image_id, item in latest.items():
        stats = item.get("stats") or {}
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
                "model_version_ids": item.get("modelVersionIds") or [],
                "tags": _tag_names(item.get("tags")),
                "like_count": stats.get("likeCount"),
                "heart_count": stats.get("heartCount"),
                "comment_count": stats.get("commentCount"),
                "has_meta": item.get("meta") is not None,
                "raw_json": orjson.dumps(item).decode(),
            }
        )
    return {"images": _frame(rows, IMAGE_SCHEMA).sort("image_id")}


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


def _version_time(version: dict[str, Any]) -> str | None:
    return version.get("createdAt") or version.get("publishedAt")


def _tag_names(tags: Any) -> list[str]:
    """Model tags are names; image tags (withTags) are {id, name}; keep the names."""
    if not tags:
        return []
    names = [tag.get("name") if isinstance(tag, dict) else tag for tag in tags]
    return [name if isinstance(name, str) else str(name) for name in names if name is not None]


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    frame = rows_to_frame(rows, schema)
    times = [c for c in TIME_COLUMNS if c in schema]
    return frame.with_columns(pl.col(c).str.to_datetime(time_unit="ms", time_zone="UTC", strict=False) for c in times)

"""Hugging Face Hub: text-to-image models and image adapters, with file sha256s for LoRAs.

The listing asks `/api/models` exactly as `HfApi.list_models` does (same `filter`,
`pipeline_tag`, `sort`, repeated `expand` parameters, `Link: rel="next"` paging) and parses
every item with huggingface_hub's own `ModelInfo`. It fetches pages through hubwatch's polite
client rather than through `list_models` itself because the snapshot store must keep each page
as received and resume a killed crawl from its last cursor, and `list_models` hides both.
File sha256s come from `/api/models/{repo}?blobs=true` (what `model_info(files_metadata=True)`
asks), parsed the same way.

Scope (documented in README, configurable through `HfScope`): the union of the listing
queries below, kept when an item is text-to-image, a `template:sd-lora`, or an adapter/LoRA
whose base model is an image model (a known image base prefix, or any text-to-image repo seen
in the same crawl). LoRAs of language models that `filter=lora` also returns are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import orjson
import polars as pl

from ingest import rowstore
from ingest.home import snapshot_path
from ingest.http import CrawlError, PoliteClient, env_number, redact_url
from ingest.landing import StagedSnapshot, complete_snapshots, rows_to_frame
from ingest.quality import Quality, as_dict, dicts_in, strings_in
from ingest.timestamps import parse_timestamps, unparsed

EXPAND = (
    "author",
    "cardData",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "library_name",
    "likes",
    "pipeline_tag",
    "private",
    "sha",
    "tags",
)
ADAPTER_TAGS = frozenset({"lora", "template:sd-lora"})


@dataclass(frozen=True)
class HfScope:
    """Which Hub repos a snapshot covers, and how many repos' file hashes it may fetch."""

    queries: tuple[tuple[tuple[str, str], ...], ...] = (
        (("pipeline_tag", "text-to-image"),),
        (("filter", "lora"),),
        (("filter", "template:sd-lora"),),
    )
    image_base_prefixes: tuple[str, ...] = (
        "stabilityai/stable-diffusion",
        "stabilityai/sdxl",
        "runwayml/stable-diffusion",
        "stable-diffusion-v1-5/",
        "CompVis/stable-diffusion",
        "black-forest-labs/FLUX",
        "playgroundai/",
        "PixArt-alpha/",
        "Kwai-Kolors/",
        "Tongyi-MAI/Z-Image",
        "Qwen/Qwen-Image",
        "HiDream-ai/",
        "OnomaAIResearch/Illustrious",
        "Laxhar/noobai",
        "cagliostrolab/animagine",
    )
    page_size: int = 1000
    files_budget: int = 500

    @classmethod
    def from_env(cls) -> HfScope:
        return cls(files_budget=env_number("HUBWATCH_HF_FILES_BUDGET", cls.files_budget, int))

    def plan(self) -> dict[str, Any]:
        return {
            "queries": [dict(q) for q in self.queries],
            "sort": "createdAt",
            "limit": self.page_size,
            "expand": list(EXPAND),
            "files_budget": self.files_budget,
        }


def base_models_of(tags: Iterable[str]) -> list[tuple[str, str]]:
    """(relation, base repo) pairs from `base_model:<id>` / `base_model:<relation>:<id>` tags."""
    pairs = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.startswith("base_model:"):
            continue
        rest = tag.removeprefix("base_model:")
        relation, _, repo = rest.partition(":")
        if repo and relation in {"adapter", "finetune", "merge", "quantized"}:
            pairs.append((relation, repo))
        else:
            pairs.append(("base", rest))
    return pairs


def tags_of(item: dict[str, Any]) -> list[str]:
    """An item's tags that are text (an odd `tags` value is counted by the normaliser)."""
    tags = item.get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def in_scope(item: dict[str, Any], scope: HfScope, image_repos: set[str]) -> bool:
    if item.get("pipeline_tag") == "text-to-image":
        return True
    tags = tags_of(item)
    if "template:sd-lora" in tags:
        return True
    if not (ADAPTER_TAGS & set(tags) or any(r == "adapter" for r, _ in base_models_of(tags))):
        return False
    return any(
        repo in image_repos or repo.startswith(scope.image_base_prefixes) for _relation, repo in base_models_of(tags)
    )


def is_file_candidate(item: dict[str, Any]) -> bool:
    """LoRA-like repos: the ones whose files may be re-uploads of Civitai files."""
    tags = tags_of(item)
    return bool(ADAPTER_TAGS & set(tags)) or any(r == "adapter" for r, _ in base_models_of(tags))


# -- crawling --------------------------------------------------------------------------------
def crawl(snapshot: StagedSnapshot, client: PoliteClient, endpoint: str, scope: HfScope, home: Path) -> None:
    """List every scope query, then fetch file metadata for LoRA candidates within budget.

    The last page stored (or `finish_crawl` when no file needs fetching) marks the crawl done,
    with the file plan's counts for the manifest; a rerun after that fetches nothing.
    """
    if snapshot.crawled:
        return
    state = snapshot.state or {"phase": "list", "query": 0, "next_url": None}
    if state["phase"] == "list":
        _list(snapshot, client, endpoint, scope, state)
        state = {"phase": "files", "index": 0}
    listed = scoped_items(snapshot, scope)
    previous = previous_files(home, snapshot.snapshot_date)
    to_fetch, carried = plan_file_fetches(listed, previous, scope.files_budget)
    summary = {
        "files_fetched": len(to_fetch),
        "files_carried": len(carried),
        "files_over_budget": sum(1 for i in listed if is_file_candidate(i)) - len(to_fetch) - len(carried),
    }
    if state["index"] >= len(to_fetch):
        snapshot.finish_crawl(extra=summary, errors=client.take_errors())
        return
    _fetch_files(snapshot, client, endpoint, to_fetch, state["index"], summary)


def _list(snapshot, client, endpoint, scope, state) -> None:
    for index in range(state["query"], len(scope.queries)):
        query = scope.queries[index]
        next_url = state["next_url"] if index == state["query"] else None
        while True:
            if next_url:
                fetched = client.get_json(next_url)
            else:
                params = [
                    *query,
                    ("sort", "createdAt"),
                    ("limit", scope.page_size),
                    *(("expand", e) for e in EXPAND),
                ]
                fetched = client.get_json(f"{endpoint}/api/models", params)
            if not isinstance(fetched.payload, list):
                raise CrawlError(f"{fetched.url} did not return a list of models: {str(fetched.payload)[:120]}")
            next_url = fetched.links.get("next", {}).get("url")
            if next_url:
                # stored redacted: a link carrying a credential is followed now, never written down
                new_state = {"phase": "list", "query": index, "next_url": redact_url(next_url)}
            elif index + 1 < len(scope.queries):
                new_state = {"phase": "list", "query": index + 1, "next_url": None}
            else:
                new_state = {"phase": "files", "index": 0}
            snapshot.add_page(
                fetched,
                stream=f"list:{index}",
                items=len(fetched.payload),
                cursor=_cursor_of(next_url),
                state=new_state,
                errors=client.take_errors(),
            )
            if not next_url:
                break


def _cursor_of(next_url: str | None) -> str | None:
    if not next_url:
        return None
    cursor = parse_qs(urlsplit(next_url).query).get("cursor")
    return cursor[0] if cursor else redact_url(next_url)


def _fetch_files(snapshot, client, endpoint, repos: list[str], start: int, summary: dict[str, int]) -> None:
    for index in range(start, len(repos)):
        repo = repos[index]
        fetched = client.get_json(f"{endpoint}/api/models/{quote(repo, safe='/')}", {"blobs": "true"})
        if not isinstance(fetched.payload, dict) or fetched.payload.get("id") != repo:
            raise CrawlError(f"{fetched.url} did not describe {repo}: {str(fetched.payload)[:120]}")
        more = index + 1 < len(repos)
        snapshot.add_page(
            fetched,
            stream="files",
            items=1,
            cursor=None,
            state={"phase": "files", "index": index + 1} if more else None,
            errors=client.take_errors(),
            extra=summary,
        )


def scoped_items(snapshot: StagedSnapshot, scope: HfScope, quality: Quality | None = None) -> list[dict[str, Any]]:
    """Listed items in scope, one per repo (the last sighting wins); an item without a repo id
    cannot be placed and is left out (counted; the stored page keeps it)."""
    quality = quality if quality is not None else Quality()
    latest: dict[str, dict[str, Any]] = {}
    for meta, payload in snapshot.pages():
        if meta["stream"].startswith("list:"):
            for item in payload:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    latest[item["id"]] = item
                else:
                    quality.odd("models.id")
    image_repos = {i for i, item in latest.items() if item.get("pipeline_tag") == "text-to-image"}
    return [item for item in latest.values() if in_scope(item, scope, image_repos)]


def previous_files(home: Path, before: date) -> pl.DataFrame | None:
    """File hashes from the newest complete hf_models snapshot before this one."""
    earlier = [d for d in complete_snapshots(home, "hf_models") if d < before]
    if not earlier:
        return None
    partition = snapshot_path(home, "hf_models", earlier[-1])
    stored = rowstore.listing_path(partition, "model_files").is_file() or (partition / "model_files.parquet").is_file()
    return rowstore.read_table(partition, "model_files") if stored else None


def plan_file_fetches(
    listed: list[dict[str, Any]], previous: pl.DataFrame | None, budget: int
) -> tuple[list[str], list[str]]:
    """Repos to fetch (changed or never fetched, newest first, within budget) and to carry."""
    known = {}
    if previous is not None and previous.height:
        known = dict(previous.select("model_id", "repo_sha").unique("model_id").iter_rows())
    candidates = sorted(
        (i for i in listed if is_file_candidate(i)),
        key=lambda i: (i["createdAt"] if isinstance(i.get("createdAt"), str) else "", i["id"]),
        reverse=True,
    )
    carried = [i["id"] for i in candidates if i["id"] in known and known[i["id"]] == i.get("sha")]
    carried_set = set(carried)
    to_fetch = [i["id"] for i in candidates if i["id"] not in carried_set][:budget]
    return to_fetch, carried


# -- normalisation ---------------------------------------------------------------------------
UTC_MS = pl.Datetime("ms", "UTC")
MODEL_SCHEMA = {
    "model_id": pl.String,
    "author": pl.String,
    "created_at": UTC_MS,
    "last_modified": UTC_MS,
    "downloads_30d": pl.Int64,
    "downloads_all_time": pl.Int64,
    "likes": pl.Int64,
    "tags": pl.List(pl.String),
    "pipeline_tag": pl.String,
    "library_name": pl.String,
    "gated": pl.String,
    "private": pl.Boolean,
    "disabled": pl.Boolean,
    "sha": pl.String,
    "base_models": pl.List(pl.String),
    "raw_json": pl.String,
}
FILE_SCHEMA = {
    "model_id": pl.String,
    "repo_sha": pl.String,
    "rfilename": pl.String,
    "size": pl.Int64,
    "sha256": pl.String,
    "fetched_in": pl.String,
}
# the plain fields handed to huggingface_hub's ModelInfo; timestamps go through hubwatch's one
# parser instead (ModelInfo's own raises on a value like "yesterday")
MODEL_INFO_FIELDS = (
    "id",
    "author",
    "sha",
    "private",
    "gated",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "likes",
    "library_name",
    "pipeline_tag",
)


def normalise(
    snapshot: StagedSnapshot, scope: HfScope, previous: pl.DataFrame | None, quality: Quality | None = None
) -> dict[str, pl.DataFrame]:
    """The in-scope models and the file hashes (fetched now, or carried if the repo is unchanged)."""
    quality = quality if quality is not None else Quality()
    models = normalise_models(scoped_items(snapshot, scope, quality), quality)
    payloads = (payload for _meta, payload in snapshot.pages(stream="files"))
    fetched = normalise_files(payloads, snapshot.snapshot_date, quality)
    return {"models": models, "model_files": carry_forward(fetched, previous, models)}


def normalise_models(items: Iterable[Any], quality: Quality | None = None) -> pl.DataFrame:
    """/api/models items (any field set) -> one typed row each, parsed by huggingface_hub.

    Never raises on an odd item: values of the wrong type become null (counted in `quality`, as
    are timestamps that do not parse); the item stays whole in raw_json.
    """
    # imported here, not at the top: every process that imports this module (any snapshot, import or
    # publish: ingest.snapshots) would pay ~0.2 CPU-s for huggingface_hub, needed only to parse HF items
    from huggingface_hub import ModelInfo

    quality = quality if quality is not None else Quality()
    rows = []
    for item in items:
        if not isinstance(item, dict):
            quality.odd("models.item")
            continue
        if not isinstance(item.get("id"), str):
            quality.odd("models.id")
            continue
        info = ModelInfo(**{k: item[k] for k in MODEL_INFO_FIELDS if k in item})
        tags = strings_in(item.get("tags"), "models.tags", quality)
        rows.append(
            {
                "model_id": info.id,
                "author": info.author,
                "created_at": item.get("createdAt"),
                "last_modified": item.get("lastModified"),
                "downloads_30d": info.downloads,
                "downloads_all_time": info.downloads_all_time,
                "likes": info.likes,
                "tags": tags,
                "pipeline_tag": info.pipeline_tag,
                "library_name": info.library_name,
                "gated": _gated(info.gated, quality),
                "private": info.private,
                "disabled": info.disabled,
                "sha": info.sha,
                "base_models": sorted({repo for _r, repo in base_models_of(tags)}),
                "raw_json": orjson.dumps(item).decode(),
            }
        )
    schema = {k: pl.String if v == UTC_MS else v for k, v in MODEL_SCHEMA.items()}
    frame = rows_to_frame(rows, schema, quality, "models")
    for column in ("created_at", "last_modified"):
        raw = frame[column]
        parsed = parse_timestamps(raw)
        quality.unparsed[f"models.{column}"] += unparsed(raw, parsed)
        frame = frame.with_columns(parsed.alias(column))
    quality.undated["models"] += frame["created_at"].null_count()
    return frame.sort("model_id")


def _gated(value: Any, quality: Quality) -> str | None:
    """`false`, `auto` or `manual`, as text."""
    if value is None:
        return None
    if isinstance(value, bool | str):
        return str(value).lower()
    quality.odd("models.gated")
    return None


def normalise_files(payloads: Iterable[Any], fetched_on: date, quality: Quality | None = None) -> pl.DataFrame:
    """`/api/models/{repo}?blobs=true` payloads -> one row per file, LFS sha256 where present."""
    from huggingface_hub import ModelInfo

    quality = quality if quality is not None else Quality()
    rows = []
    for payload in payloads:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            quality.odd("model_files.item")
            continue
        siblings = []
        for sibling in dicts_in(payload.get("siblings"), "model_files.siblings", quality):
            if not isinstance(sibling.get("rfilename"), str):
                quality.odd("model_files.rfilename")
                continue
            lfs = as_dict(sibling.get("lfs"), "model_files.lfs", quality)
            siblings.append(
                {
                    "rfilename": sibling["rfilename"],
                    "size": sibling.get("size"),
                    "blobId": sibling.get("blobId"),
                    **({"lfs": {k: lfs.get(k) for k in ("size", "sha256", "pointerSize")}} if lfs else {}),
                }
            )
        info = ModelInfo(id=payload["id"], sha=payload.get("sha"), siblings=siblings)
        for sibling in info.siblings or []:
            rows.append(
                {
                    "model_id": info.id,
                    "repo_sha": info.sha,
                    "rfilename": sibling.rfilename,
                    "size": sibling.size,
                    "sha256": sibling.lfs.sha256 if sibling.lfs else None,
                    "fetched_in": fetched_on.isoformat(),
                }
            )
    return rows_to_frame(rows, FILE_SCHEMA, quality, "model_files")


def carry_forward(fetched: pl.DataFrame, previous: pl.DataFrame | None, models: pl.DataFrame) -> pl.DataFrame:
    """Add earlier hashes of repos not fetched now whose commit sha has not changed since."""
    frame = fetched
    if previous is not None and previous.height:
        unchanged = models.select("model_id", repo_sha="sha").filter(
            ~pl.col("model_id").is_in(fetched["model_id"].unique().implode())
        )
        carried = previous.select(FILE_SCHEMA.keys()).cast(FILE_SCHEMA)
        frame = pl.concat([frame, carried.join(unchanged, on=["model_id", "repo_sha"], how="semi")])
    return frame.sort("model_id", "rfilename")

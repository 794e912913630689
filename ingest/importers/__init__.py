"""Third-party crawls as dated, clearly labelled snapshots (`kind: imported`).

Kinds:
- civitai-models-json: a JSON file or a directory of them, each a Civitai model object, a list of
  them, or a `/api/v1/models` page ({items, metadata}); 2023 and 2025+ shapes alike.
- civitai-images-table: a CSV or Parquet table of image metadata plus a mapping file (JSON or
  YAML) naming its columns for image_id, created_at and browsing_level or nsfw_level_label
  (and optionally base_model, model_version_ids, tags, username); other columns are kept in
  raw_json.
- hf-models-json: a JSON file holding a list of Hugging Face `/api/models` items.

Everything is validated before anything is written; the original files are stored as the
snapshot's pages (gzip) with their sha256; re-importing the same files for the same date is a
no-op, and any other import onto a date that already has a complete snapshot is refused.
An import's scope defaults to itself alone, so it is never compared with other snapshots for
removals; pass scope="all" only for a crawl as complete as hubwatch's own.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from ingest import __version__, civitai, huggingface
from ingest.home import snapshot_path
from ingest.http import CrawlError, Fetched, redact_url
from ingest.landing import SnapshotExists, StagedSnapshot, read_manifest

KINDS = {
    "civitai-models-json": "civitai_models",
    "civitai-images-table": "civitai_images",
    "hf-models-json": "hf_models",
}


class ImportError_(CrawlError):  # noqa: N801 (ImportError is a builtin)
    """The input cannot be imported; the message names the file (and row) at fault."""


@dataclass(frozen=True)
class ImportResult:
    source: str
    snapshot_date: date
    status: str  # imported | unchanged
    path: Path
    manifest: dict[str, Any]


def input_files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not path.exists():
        raise ImportError_(f"{path} does not exist")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes) if path.is_dir() else [path]
    if not files:
        raise ImportError_(f"{path} holds no {'/'.join(suffixes)} file")
    return files


def load_json(file: Path) -> Any:
    try:
        return orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as error:
        raise ImportError_(f"{file} is not JSON: {error}") from None


# -- civitai-models-json ------------------------------------------------------------------------
def civitai_model_items(files: list[Path]) -> list[dict[str, Any]]:
    items = []
    for file in files:
        payload = load_json(file)
        if isinstance(payload, dict) and isinstance(payload.get("items"), list):
            found = payload["items"]
        elif isinstance(payload, dict):
            found = [payload]
        elif isinstance(payload, list):
            found = payload
        else:
            raise ImportError_(f"{file} is not a Civitai model object, list or /models page")
        for index, item in enumerate(found):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("id"), int)
                and isinstance(item.get("modelVersions"), list)
            ):
                raise ImportError_(
                    f"{file} item {index} is not a Civitai model (needs an integer id and modelVersions)"
                )
        items.extend(found)
    return items


# -- hf-models-json -----------------------------------------------------------------------------
def hf_model_items(files: list[Path]) -> list[dict[str, Any]]:
    items = []
    for file in files:
        payload = load_json(file)
        found = payload if isinstance(payload, list) else [payload]
        for index, item in enumerate(found):
            if not (isinstance(item, dict) and isinstance(item.get("id"), str) and "/" in item["id"]):
                raise ImportError_(f"{file} item {index} is not a Hugging Face model (needs an id like owner/name)")
        items.extend(found)
    return items


# -- civitai-images-table -----------------------------------------------------------------------
REQUIRED_IMAGE_FIELDS = ("image_id", "created_at")
OPTIONAL_IMAGE_FIELDS = ("browsing_level", "nsfw_level_label", "base_model", "model_version_ids", "tags", "username")


def read_mapping(path: Path | None) -> dict[str, str]:
    if path is None:
        raise ImportError_("civitai-images-table needs --mapping: a JSON or YAML file naming the table's columns")
    text = path.read_text()
    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            import yaml

            mapping = yaml.safe_load(text)
        else:
            mapping = orjson.loads(text)
    except Exception as error:
        raise ImportError_(f"{path} is not a valid mapping file: {str(error).splitlines()[0]}") from None
    if not isinstance(mapping, dict):
        raise ImportError_(f"{path} must map hubwatch fields to column names")
    unknown = set(mapping) - set(REQUIRED_IMAGE_FIELDS) - set(OPTIONAL_IMAGE_FIELDS)
    if unknown:
        raise ImportError_(
            f"{path} maps unknown fields {sorted(unknown)}; known: {REQUIRED_IMAGE_FIELDS + OPTIONAL_IMAGE_FIELDS}"
        )
    missing = [f for f in REQUIRED_IMAGE_FIELDS if f not in mapping]
    if missing or not ({"browsing_level", "nsfw_level_label"} & set(mapping)):
        raise ImportError_(
            f"{path} must map {', '.join(missing or REQUIRED_IMAGE_FIELDS)} and browsing_level or nsfw_level_label"
        )
    return mapping


def read_table(file: Path) -> pl.DataFrame:
    try:
        if file.suffix.lower() == ".parquet":
            return pl.read_parquet(file)
        return pl.read_csv(file, infer_schema_length=10_000)
    except Exception as error:
        raise ImportError_(
            f"{file} is not a readable {file.suffix.lstrip('.')} table: {str(error).splitlines()[0]}"
        ) from None


def image_items(files: list[Path], mapping: dict[str, str], mapping_path: Path) -> list[dict[str, Any]]:
    """Rows as /images-like items: mapped fields under their API names, every column kept."""
    api_names = {
        "image_id": "id",
        "created_at": "createdAt",
        "browsing_level": "browsingLevel",
        "nsfw_level_label": "nsfwLevel",
        "base_model": "baseModel",
        "model_version_ids": "modelVersionIds",
        "tags": "tags",
        "username": "username",
    }
    items = []
    for file in files:
        table = read_table(file)
        absent = [f"{field} -> {column}" for field, column in mapping.items() if column not in table.columns]
        if absent:
            raise ImportError_(f"{mapping_path} names columns missing from {file}: {', '.join(absent)}")
        for index, row in enumerate(table.iter_rows(named=True)):
            item = {**{k: _plain(v) for k, v in row.items()}}
            for field, column in mapping.items():
                item[api_names[field]] = _plain(row[column])
            if not isinstance(item["id"], int):
                raise ImportError_(f"{file} row {index + 1}: {mapping['image_id']} is not an integer image id")
            if item.get("createdAt") is None:
                raise ImportError_(f"{file} row {index + 1}: {mapping['created_at']} is empty")
            for key in ("tags", "modelVersionIds"):
                if isinstance(item.get(key), str):
                    item[key] = _split_list(item[key])
            items.append(item)
    return items


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _split_list(text: str) -> list:
    text = text.strip()
    if text.startswith("["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return [part.strip() for part in text.split(",") if part.strip()]


# -- the import ---------------------------------------------------------------------------------
def import_crawl(
    kind: str,
    path: Path,
    *,
    home: Path,
    as_of: date,
    source_url: str | None = None,
    note: str | None = None,
    scope: str | None = None,
    mapping_path: Path | None = None,
) -> ImportResult:
    """Validate, then land the crawl as an imported snapshot dated as_of."""
    if kind not in KINDS:
        raise ImportError_(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    source = KINDS[kind]
    source_url = redact_url(source_url) if source_url else None  # never a credential in a stored URL
    mapping = None
    if kind == "civitai-images-table":
        mapping = read_mapping(mapping_path)
        files = input_files(path, (".csv", ".parquet"))
        tables = civitai.normalise_images(image_items(files, mapping, mapping_path))
    else:
        files = input_files(path, (".json",))
        if kind == "civitai-models-json":
            tables = civitai.normalise_models(civitai_model_items(files))
        else:
            tables = {
                "models": huggingface.normalise_models(hf_model_items(files)),
                "model_files": huggingface.normalise_files([], as_of),
            }
    hashes = {file.name if path.is_file() else file.relative_to(path).as_posix(): _sha256(file) for file in files}
    existing = snapshot_path(home, source, as_of)
    if existing.exists():
        manifest = read_manifest(home, source, as_of)
        if manifest.get("kind") == "imported" and manifest.get("params", {}).get("input_sha256") == hashes:
            return ImportResult(source, as_of, "unchanged", existing, manifest)
        raise ImportError_(
            f"{source} already has a complete {manifest.get('kind')} snapshot dated {as_of} at {existing}; "
            "import onto another date"
        )
    digest = hashlib.sha256(orjson.dumps(hashes, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
    plan = {
        "import_kind": kind,
        "scope": scope or f"imported:{digest}",
        "input_path": str(path),
        "input_sha256": hashes,
        "source_url": source_url,
        **({"mapping": mapping} if mapping else {}),
    }
    staged = StagedSnapshot(home, source, as_of, kind="imported", host=_host(source_url), plan=plan, force=False)
    try:
        with staged:
            # a rerun after a kill stores only the files not stored yet
            remaining = [] if staged.crawled else list(enumerate(files))[staged.pages_done :]
            for number, file in remaining:
                body = file.read_bytes()
                fetched = Fetched(source_url or file.resolve().as_uri(), 200, body, None, {}, datetime.now(UTC), 1)
                last = number == len(files) - 1
                staged.add_page(
                    fetched,
                    stream="import",
                    items=0,
                    cursor=None,
                    state=None if last else {"file": number + 1},
                    errors=Counter(),
                )
            manifest = staged.publish(
                tables,
                extra={
                    "source_url": source_url,
                    "note": note,
                    "capture_date": as_of.isoformat(),
                    "importer": f"hubwatch {__version__} ({kind})",
                },
            )
    except SnapshotExists as exists:
        if not exists.recovered:
            raise
        manifest = read_manifest(home, source, as_of)  # an interrupted import, finished by the store
    return ImportResult(source, as_of, "imported", snapshot_path(home, source, as_of), manifest)


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _host(source_url: str | None) -> str:
    if not source_url:
        return "file"
    from urllib.parse import urlsplit

    return urlsplit(source_url).netloc or source_url

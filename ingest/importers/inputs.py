"""An import's input files: found (with progress, never an unbounded silent walk) and read one
at a time, as items under the API's names, each with its position for error messages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from ingest.errors import CrawlError


class ImportError_(CrawlError):  # noqa: N801 (ImportError is a builtin)
    """The input cannot be imported; the message names the file (and item or row) at fault."""


@dataclass(frozen=True)
class InputFile:
    path: Path
    name: str  # relative to the imported folder (or the file's own name): no local path

    def __str__(self) -> str:
        return str(self.path)


Progress = Callable[[str], None]


def find_inputs(path: Path, suffixes: tuple[str, ...], progress: Progress) -> list[InputFile]:
    """The files to import, sorted by relative name (their order decides which sighting of an
    item is the last). Hidden files and folders are skipped; an unreadable folder is an error,
    not a silent gap."""
    if not path.exists():
        raise ImportError_(f"{path} does not exist")
    if not path.is_dir():
        return [InputFile(path, path.name)]
    found: list[InputFile] = []
    seen = 0

    def unreadable(error: OSError) -> None:
        raise ImportError_(f"cannot read {error.filename}: {error.strerror}")

    for folder, dirs, names in os.walk(path, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            seen += 1
            if not name.startswith(".") and name.lower().endswith(suffixes):
                file = Path(folder) / name
                found.append(InputFile(file, file.relative_to(path).as_posix()))
        progress(f"scanning {path}: {seen:,} files seen, {len(found):,} {'/'.join(suffixes)} files")
    if not found:
        raise ImportError_(f"{path} holds no {'/'.join(suffixes)} file ({seen:,} other files seen)")
    return sorted(found, key=lambda f: f.name)


def read_bytes(file: InputFile) -> bytes:
    try:
        return file.path.read_bytes()
    except OSError as error:
        raise ImportError_(f"cannot read {file}: {error.strerror}") from None


# -- JSON crawls -------------------------------------------------------------------------------
def civitai_json_items(file: InputFile, body: bytes) -> list[Any]:
    """A Civitai model object, a list of them, or a `/api/v1/models` page ({items, metadata})."""
    payload = _json(file, body)
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise ImportError_(f"{file} is not a Civitai model object, list or /models page")


def hf_json_items(file: InputFile, body: bytes) -> list[Any]:
    """A list of Hugging Face `/api/models` items (or one item)."""
    payload = _json(file, body)
    return payload if isinstance(payload, list) else [payload]


def _json(file: InputFile, body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ImportError_(f"{file} is not JSON: {error}") from None


# -- image tables ------------------------------------------------------------------------------
REQUIRED_IMAGE_FIELDS = ("image_id", "created_at")
OPTIONAL_IMAGE_FIELDS = ("browsing_level", "nsfw_level_label", "base_model", "model_version_ids", "tags", "username")
API_NAMES = {
    "image_id": "id",
    "created_at": "createdAt",
    "browsing_level": "browsingLevel",
    "nsfw_level_label": "nsfwLevel",
    "base_model": "baseModel",
    "model_version_ids": "modelVersionIds",
    "tags": "tags",
    "username": "username",
}
TABLE_BATCH_ROWS = 20_000


def read_mapping(path: Path | None) -> dict[str, str]:
    if path is None:
        raise ImportError_("civitai-images-table needs --mapping: a JSON or YAML file naming the table's columns")
    try:
        text = path.read_text()
        if path.suffix.lower() in (".yml", ".yaml"):
            import yaml

            mapping = yaml.safe_load(text)
        else:
            mapping = orjson.loads(text)
    except Exception as error:
        raise ImportError_(f"{path} is not a valid mapping file: {str(error).splitlines()[0]}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
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


def table_rows(file: InputFile, mapping: dict[str, str], mapping_path: Path) -> Iterator[list[tuple[int, dict]]]:
    """Batches of (row number, item): every column kept under its own name, mapped columns also
    under the API's names. CSV column types are inferred over the whole file, mapped columns
    read as text (so one bad value is one invalid row, never a failed read)."""
    try:
        if file.path.suffix.lower() == ".parquet":
            frame = pl.scan_parquet(file.path)
        else:
            frame = pl.scan_csv(
                file.path, infer_schema_length=None, schema_overrides=dict.fromkeys(mapping.values(), pl.String)
            )
        columns = frame.collect_schema().names()
    except Exception as error:
        raise ImportError_(f"{file} is not a readable {file.path.suffix.lstrip('.')} table: {_first(error)}") from None
    absent = [f"{field} -> {column}" for field, column in mapping.items() if column not in columns]
    if absent:
        raise ImportError_(f"{mapping_path} names columns missing from {file}: {', '.join(absent)}")
    row = 0
    try:
        for batch in frame.collect_batches(chunk_size=TABLE_BATCH_ROWS):
            items = []
            for values in batch.iter_rows(named=True):
                row += 1
                item = {k: _plain(v) for k, v in values.items()}
                for field, column in mapping.items():
                    item[API_NAMES[field]] = _plain(values[column])
                for key in ("tags", "modelVersionIds"):
                    if isinstance(item.get(key), str):
                        item[key] = _split_list(item[key])
                items.append((row, item))
            yield items
    except ImportError_:
        raise
    except Exception as error:
        raise ImportError_(f"{file} row {row + 1} and after could not be read: {_first(error)}") from None


def _first(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


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

"""Third-party crawls as dated, clearly labelled snapshots (`kind: imported`).

Kinds:
- civitai-models-json: a JSON file or a directory of them, each a Civitai model object, a list of
  them, or a `/api/v1/models` page ({items, metadata}); 2023 and 2025+ shapes alike.
- civitai-images-table: a CSV or Parquet table of image metadata plus a mapping file (JSON or
  YAML) naming its columns for image_id, created_at and browsing_level or nsfw_level_label
  (and optionally base_model, model_version_ids, tags, username); other columns are kept in
  raw_json.
- hf-models-json: a JSON file holding a list of Hugging Face `/api/models` items.

An import streams, so memory stays bounded whatever the crawl's size (it grows with the largest
single input file, not with their number):
1. every file is hashed (the digest names exactly what was imported);
2. every item is validated (schemas.py) before anything is written, keeping only each item id's
   position (the last valid sighting wins across files). An invalid item refuses the import,
   naming its file and position; with skip_invalid it is counted and left out instead;
3. the files are stored as the snapshot's pages (gzip, resumable like a crawl) while the chosen
   items are normalised in batches into Parquet parts, combined by a streaming sink at publish.

Re-importing the same files for the same date is a no-op; any other import onto a date that has
a complete snapshot is refused (`hubwatch withdraw` it first), and so is one onto a date with a
staged crawl unless force discards it. An import's scope defaults to itself alone, so it is
never compared with other snapshots for removals; pass scope="all" only for a crawl as complete
as hubwatch's own. Provenance (file names relative to the imported folder, sha256, sizes) goes
in the manifest's `inputs`; no local path is recorded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import polars as pl

from ingest import __version__, civitai, huggingface
from ingest.files import sha256_file
from ingest.home import snapshot_path, staging_path
from ingest.http import Fetched, redact_url
from ingest.importers import schemas
from ingest.importers.inputs import (
    ImportError_,
    InputFile,
    Progress,
    civitai_json_items,
    find_inputs,
    hf_json_items,
    read_bytes,
    read_mapping,
    table_rows,
)
from ingest.landing import CHECKPOINT, SnapshotExists, StagedSnapshot, gc_paused, plan_key, read_manifest
from ingest.quality import Quality

KINDS = {
    "civitai-models-json": "civitai_models",
    "civitai-images-table": "civitai_images",
    "hf-models-json": "hf_models",
}
BATCH_BYTES = 8 * 1024 * 1024  # source bytes normalised at once (HUBWATCH_IMPORT_BATCH_BYTES)
ROW_GROUP_BYTES = 8 * 1024 * 1024  # source bytes per row group of the combined tables
INVALID_EXAMPLES = 20

__all__ = ["KINDS", "ImportError_", "ImportResult", "check_as_of", "import_crawl"]


@dataclass(frozen=True)
class ImportResult:
    source: str
    snapshot_date: date
    status: str  # imported | unchanged
    path: Path
    manifest: dict[str, Any]


def check_as_of(as_of: date, today: date | None = None) -> None:
    """An import's date is the day its crawl was made: a real past date in the hubs' lifetime."""
    today = today or datetime.now(UTC).date()
    if as_of < schemas.EARLIEST:
        raise ImportError_(f"--as-of {as_of} is before {schemas.EARLIEST}: no crawl of these hubs is that old")
    if as_of > today:
        raise ImportError_(f"--as-of {as_of} is in the future (today is {today} UTC): give the day the crawl was made")


# -- what differs between kinds ------------------------------------------------------------------
class Reader:
    """How one kind of input becomes items, what a valid item is, and how items normalise."""

    word = "item"
    suffixes: tuple[str, ...] = (".json",)

    def __init__(self, as_of: date):
        self.as_of = as_of

    def batches(self, file: InputFile, body: bytes | None) -> Iterator[list[tuple[int, Any]]]:
        yield list(enumerate(self.items(file, body)))

    def items(self, file: InputFile, body: bytes | None) -> list[Any]:
        raise NotImplementedError

    def check(self, item: Any) -> tuple[Any, str | None]:
        """(the item as the normaliser gets it, None) or (None, what is wrong)."""
        if not isinstance(item, dict):
            return None, f"is not an object (got {type(item).__name__})"
        try:
            self.schema.model_validate(item)
        except schemas.ValidationError as error:
            return None, schemas.problem(error)
        return item, None

    def normalise(self, items: list[Any], quality: Quality) -> dict[str, pl.DataFrame]:
        raise NotImplementedError

    def combine(self, name: str, parts: pl.LazyFrame) -> pl.LazyFrame:
        """A table from its batches' parts (each batch holds distinct items)."""
        return parts


class CivitaiModels(Reader):
    schema = schemas.CivitaiModelItem
    dates = staticmethod(schemas.civitai_dates)
    items = staticmethod(civitai_json_items)

    def normalise(self, items, quality):
        return civitai.normalise_models(items, quality)

    def combine(self, name, parts):
        if name == "model_files":  # one row per file id across batches, as within one
            return parts.unique("file_id", keep="first", maintain_order=True)
        return parts


class HfModels(Reader):
    schema = schemas.HfModelItem
    dates = staticmethod(schemas.hf_dates)
    items = staticmethod(hf_json_items)

    def normalise(self, items, quality):
        return {
            "models": huggingface.normalise_models(items, quality),
            "model_files": huggingface.normalise_files([], self.as_of, quality),
        }


class ImageTable(Reader):
    word = "row"
    suffixes = (".csv", ".parquet")
    schema = schemas.ImageRow
    dates = staticmethod(schemas.image_dates)

    def __init__(self, as_of: date, mapping: dict[str, str], mapping_path: Path):
        super().__init__(as_of)
        self.mapping, self.mapping_path = mapping, mapping_path

    def batches(self, file, body):
        yield from table_rows(file, self.mapping, self.mapping_path)

    def check(self, item):
        try:
            row = self.schema.model_validate(item)
        except schemas.ValidationError as error:
            return None, schemas.problem(error)
        # the typed values (text "4" -> level 4) over the row's own columns
        return {**item, **row.model_dump(exclude_unset=True)}, None

    def normalise(self, items, quality):
        return civitai.normalise_images(items, quality)


# -- pass 1: validate ------------------------------------------------------------------------------
@dataclass
class Checked:
    """What validation keeps: where each item's chosen sighting is, and what was left out."""

    winners: dict[Any, tuple[int, int]] = field(default_factory=dict)  # id -> (file index, position)
    items_per_file: list[int] = field(default_factory=list)
    invalid: int = 0
    examples: list[str] = field(default_factory=list)


def validate(
    files: list[InputFile], hashes: list[str], reader: Reader, skip_invalid: bool, progress: Progress
) -> Checked:
    checked = Checked()
    seen = 0
    for index, file in enumerate(files):
        body = _verified_body(file, hashes[index], reader)
        in_file = 0
        for batch in reader.batches(file, body):
            in_file += len(batch)
            valid: dict[int, Any] = {}
            dated: list[schemas.DatedField] = []
            for position, item in batch:
                clean, why = reader.check(item)
                if why is not None:
                    _invalid(checked, file, reader.word, position, item, why, skip_invalid)
                    continue
                valid[position] = clean["id"]
                dated.extend(reader.dates(position, clean))
            bad = schemas.bad_dates(dated, reader.as_of)
            for position, item in batch if bad else ():
                if position in bad:
                    _invalid(checked, file, reader.word, position, item, bad[position], skip_invalid)
                    del valid[position]
            for position, item_id in valid.items():
                checked.winners[item_id] = (index, position)
        checked.items_per_file.append(in_file)
        seen += in_file
        progress(f"validating {index + 1:,}/{len(files):,} files, {seen:,} {reader.word}s, {checked.invalid:,} invalid")
    if not checked.winners:
        left_out = f" ({checked.invalid:,} invalid left out)" if checked.invalid else ""
        raise ImportError_(f"no valid {reader.word} to import in {len(files):,} file(s){left_out}")
    return checked


def _invalid(checked: Checked, file: InputFile, word: str, position: int, item: Any, why: str, skip: bool) -> None:
    item_id = item.get("id") if isinstance(item, dict) else None
    named = f" (id {item_id})" if isinstance(item_id, int | str) and len(str(item_id)) <= 80 else ""
    if not skip:
        raise ImportError_(
            f"{file} {word} {position}{named}: {why}; nothing was imported "
            "(--skip-invalid leaves out every invalid item and counts them)"
        )
    checked.invalid += 1
    if len(checked.examples) < INVALID_EXAMPLES:
        checked.examples.append(f"{file.name} {word} {position}{named}: {why}")


def _verified_body(file: InputFile, expected: str, reader: Reader) -> bytes | None:
    """The file's bytes (JSON kinds), refusing a file that changed since it was hashed."""
    if isinstance(reader, ImageTable):
        body, digest = None, sha256_file(file.path)
    else:
        body = read_bytes(file)
        digest = hashlib.sha256(body).hexdigest()
    if digest != expected:
        raise ImportError_(f"{file} changed while it was being imported; nothing was imported")
    return body


# -- pass 2: store and normalise --------------------------------------------------------------------
def store(
    staged: StagedSnapshot,
    files: list[InputFile],
    hashes: list[str],
    checked: Checked,
    reader: Reader,
    parts: Path,
    progress: Progress,
) -> tuple[dict[str, pl.DataFrame | pl.LazyFrame], Quality]:
    """Commit each file as a page (resuming after the pages already staged) and normalise the
    chosen items in batches of about BATCH_BYTES source bytes, each written as Parquet parts."""
    quality = Quality()
    limit = int(os.environ.get("HUBWATCH_IMPORT_BATCH_BYTES", BATCH_BYTES))
    batch: list[Any] = []
    pending = 0.0
    written = 0
    names: list[str] = []

    def flush() -> None:
        nonlocal pending, written
        with gc_paused():
            tables = reader.normalise(batch, quality)
        names[:] = list(tables)
        for name, frame in tables.items():
            (parts / name).mkdir(parents=True, exist_ok=True)
            frame.write_parquet(parts / name / f"{written:06d}.parquet")
        written += 1
        batch.clear()
        pending = 0.0

    for index, file in enumerate(files):
        body = read_bytes(file)
        if hashlib.sha256(body).hexdigest() != hashes[index]:
            raise ImportError_(f"{file} changed while it was being imported; nothing was imported")
        if index >= staged.pages_done:
            fetched = Fetched(f"file:{file.name}", 200, body, None, {}, datetime.now(UTC), 1)
            last = index == len(files) - 1
            staged.add_page(
                fetched,
                stream="import",
                items=checked.items_per_file[index],
                cursor=None,
                state=None if last else {"file": index + 1},
                errors=Counter(),
            )
        size = len(body)
        for chunk in reader.batches(file, None if isinstance(reader, ImageTable) else body):
            per_item = size / max(checked.items_per_file[index], 1)
            for position, item in chunk:
                if isinstance(reader, ImageTable):  # the row's typed values (its id: text in a CSV)
                    item, _why = reader.check(item)
                if isinstance(item, dict) and checked.winners.get(item.get("id")) == (index, position):
                    batch.append(item)
                    pending += per_item
                    if pending >= limit:
                        flush()
        del body
        progress(f"storing {index + 1:,}/{len(files):,} files")
    if batch or not written:
        flush()
    return {name: reader.combine(name, pl.scan_parquet(parts / name / "*.parquet")) for name in names}, quality


# -- the import -------------------------------------------------------------------------------------
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
    skip_invalid: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate every item, then land the crawl as an imported snapshot dated as_of."""
    if kind not in KINDS:
        raise ImportError_(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    check_as_of(as_of)
    progress = progress or (lambda _text: None)
    source = KINDS[kind]
    source_url = redact_url(source_url) if source_url else None  # never a credential in a stored URL
    if kind == "civitai-images-table":
        reader: Reader = ImageTable(as_of, read_mapping(mapping_path), mapping_path)
    else:
        reader = CivitaiModels(as_of) if kind == "civitai-models-json" else HfModels(as_of)
    files = find_inputs(path, reader.suffixes, progress)
    hashes = _hash_all(files, progress)
    inputs = {
        "files": {file.name: digest for file, digest in zip(files, hashes, strict=True)},
        "n_files": len(files),
        "bytes": sum(file.path.stat().st_size for file in files),
    }
    digest = inputs_digest(inputs["files"])
    existing = snapshot_path(home, source, as_of)
    if existing.exists():
        manifest = read_manifest(home, source, as_of)
        if manifest.get("kind") == "imported" and recorded_digest(manifest) == digest:
            return ImportResult(source, as_of, "unchanged", existing, manifest)
        raise ImportError_(
            f"{source} already has a complete {manifest.get('kind')} snapshot dated {as_of}: import onto "
            f"another date, or withdraw it first (hubwatch withdraw {source} {as_of} --reason TEXT)"
        )
    plan = {
        "import_kind": kind,
        "scope": scope or f"imported:{digest[:12]}",
        "inputs_sha256": digest,
        "source_url": source_url,
        **({"mapping": reader.mapping} if isinstance(reader, ImageTable) else {}),
    }
    host = _host(source_url)
    refuse_staged_crawl(home, source, as_of, plan_key("imported", host, plan), force)
    checked = validate(files, hashes, reader, skip_invalid, progress)
    parts = staging_path(home, source, as_of).with_name(f".{existing.name}.import-parts")
    shutil.rmtree(parts, ignore_errors=True)
    try:
        with StagedSnapshot(home, source, as_of, kind="imported", host=host, plan=plan, force=force) as staged:
            tables, quality = store(staged, files, hashes, checked, reader, parts, progress)
            manifest = staged.publish(
                tables,
                extra={
                    "source_url": source_url,
                    "note": note,
                    "capture_date": as_of.isoformat(),
                    "importer": f"hubwatch {__version__} ({kind})",
                    "inputs": inputs,
                    "invalid": {"items": checked.invalid, "examples": checked.examples},
                    **quality.manifest(),
                },
                row_group_size=rows_per_group(inputs["bytes"], len(checked.winners)),
            )
    except SnapshotExists as exists:
        if not exists.recovered:
            raise
        manifest = read_manifest(home, source, as_of)  # an interrupted import, finished by the store
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return ImportResult(source, as_of, "imported", snapshot_path(home, source, as_of), manifest)


def rows_per_group(total_bytes: int, items: int) -> int:
    """Rows per Parquet row group holding about ROW_GROUP_BYTES of source: the combining sink
    holds a few row groups at once, so this, not the crawl's size, bounds its memory."""
    average = max(total_bytes / max(items, 1), 1)
    return int(min(max(ROW_GROUP_BYTES / average, 64), 65_536))


def refuse_staged_crawl(home: Path, source: str, as_of: date, key: str, force: bool) -> None:
    """A staged crawl of that date is never discarded without force (this import's own
    interrupted pages, same files and options, are resumed instead)."""
    checkpoint_file = staging_path(home, source, as_of) / CHECKPOINT
    if force or not checkpoint_file.is_file():
        return
    checkpoint = orjson.loads(checkpoint_file.read_bytes())
    if checkpoint.get("plan_key") == key:
        return
    raise ImportError_(
        f"{source} {as_of} has a staged crawl ({checkpoint.get('pages', 0)} pages, started "
        f"{checkpoint.get('started_at', '?')}) that this import would discard: finish it, import onto "
        "another date, or pass --force to discard it"
    )


def inputs_digest(files: dict[str, str]) -> str:
    """One sha256 for the whole input: over the sorted (relative name, sha256) pairs."""
    return hashlib.sha256(orjson.dumps(files, option=orjson.OPT_SORT_KEYS)).hexdigest()


def recorded_digest(manifest: dict[str, Any]) -> str | None:
    """The inputs digest of an imported snapshot (older manifests kept the map in params)."""
    params = manifest.get("params") or {}
    if params.get("inputs_sha256"):
        return params["inputs_sha256"]
    old = params.get("input_sha256")
    return inputs_digest(old) if isinstance(old, dict) else None


def _hash_all(files: list[InputFile], progress: Progress) -> list[str]:
    hashes = []
    for index, file in enumerate(files):
        try:
            hashes.append(sha256_file(file.path))
        except OSError as error:
            raise ImportError_(f"cannot read {file}: {error.strerror}") from None
        progress(f"hashing {index + 1:,}/{len(files):,} files")
    return hashes


def _host(source_url: str | None) -> str:
    if not source_url:
        return "file"
    return urlsplit(source_url).netloc or source_url

"""What an imported item must be before anything is written (pydantic), and its dates' bounds.

An imported crawl is checked item by item against the fields the normalisers read, so nothing is
stored half-valid: a field of the wrong type, a browsing level outside Civitai's levels, a
bitmask outside 0..63, or a creation date that does not parse or lies outside [2022-01-01, the
snapshot's date] makes the item invalid, reported by file and position. Fields the normalisers do
not read are not checked (they stay in raw_json as sent).

JSON crawls are checked strictly (a number is not a string, `"1"` is not an id); table rows
(CSV text, Parquet columns) are coerced where the text is unambiguous (`"4"` is level 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ingest.timestamps import parse_timestamps

EARLIEST = date(2022, 1, 1)  # before any model hub in scope existed (Civitai: Nov 2022; HF createdAt: 2022-03)
BROWSING_LEVELS = (1, 2, 4, 8, 16, 32)  # PG, PG-13, R, X, XXX, Blocked
Label = Literal["None", "Soft", "Mature", "X", "XXX", "Blocked"]  # the lossy /images nsfwLevel


def _whole(value: int | float) -> int | float:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number")
    return value


Count = Annotated[int | float, AfterValidator(_whole)]  # a counter: 5 or 5.0, never 5.5
Bitmask = Annotated[int, Field(ge=0, le=63)]  # Civitai nsfwLevel: an OR of the browsing levels


def _level(value: int) -> int:
    if value not in BROWSING_LEVELS:
        raise ValueError(f"should be one of Civitai's browsing levels {', '.join(map(str, BROWSING_LEVELS))}")
    return value


Level = Annotated[int, AfterValidator(_level)]  # one level, not a mask (as /images sends it)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class Named(Strict):
    name: str


class Creator(Strict):
    username: str | None = None


class ModelStats(Strict):
    downloadCount: Count | None = None  # noqa: N815 (the API's names)
    thumbsUpCount: Count | None = None  # noqa: N815
    thumbsDownCount: Count | None = None  # noqa: N815
    favoriteCount: Count | None = None  # noqa: N815
    commentCount: Count | None = None  # noqa: N815
    tippedAmountCount: Count | None = None  # noqa: N815


class VersionStats(Strict):
    downloadCount: Count | None = None  # noqa: N815


class File(Strict):
    id: int | None = None
    name: str | None = None
    type: str | None = None
    sizeKB: float | None = None  # noqa: N815
    primary: bool | None = None
    hashes: dict[str, str | None] | None = None


class Version(Strict):
    id: int
    name: str | None = None
    baseModel: str | None = None  # noqa: N815
    nsfwLevel: Bitmask | None = None  # noqa: N815
    trainedWords: list[str] | None = None  # noqa: N815
    stats: VersionStats | None = None
    createdAt: str | None = None  # noqa: N815
    publishedAt: str | None = None  # noqa: N815
    files: list[File] | None = None


class CivitaiModelItem(Strict):
    """A Civitai model object (2023 and 2025+ shapes)."""

    id: int
    name: str | None = None
    type: str | None = None
    nsfw: bool | None = None
    nsfwLevel: Bitmask | None = None  # noqa: N815
    poi: bool | None = None
    minor: bool | None = None
    sfwOnly: bool | None = None  # noqa: N815
    mode: str | None = None
    availability: str | None = None
    creator: Creator | None = None
    tags: list[str | Named] | None = None
    baseModels: list[str] | None = None  # noqa: N815
    stats: ModelStats | None = None
    modelVersions: list[Version]  # noqa: N815 (required: what makes an object a model item)
    publishedAt: str | None = None  # noqa: N815
    createdAt: str | None = None  # noqa: N815


class HfModelItem(Strict):
    """A Hugging Face `/api/models` item."""

    id: Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+$")]  # owner/name
    author: str | None = None
    sha: str | None = None
    private: bool | None = None
    gated: bool | str | None = None
    disabled: bool | None = None
    downloads: Count | None = None
    downloadsAllTime: Count | None = None  # noqa: N815
    likes: Count | None = None
    library_name: str | None = None
    pipeline_tag: str | None = None
    tags: list[str] | None = None
    createdAt: str | None = None  # noqa: N815
    lastModified: str | None = None  # noqa: N815


class ImageStats(BaseModel):
    model_config = ConfigDict(extra="ignore")
    likeCount: Count | None = None  # noqa: N815
    heartCount: Count | None = None  # noqa: N815
    commentCount: Count | None = None  # noqa: N815


class ImageRow(BaseModel):
    """A row of an image table under the API's names (mapped columns, and any column that
    already carries an API name the normaliser reads)."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    id: int
    createdAt: str  # noqa: N815
    browsingLevel: Level | None = None  # noqa: N815
    nsfwLevel: Label | None = None  # noqa: N815
    nsfw: bool | Label | None = None
    type: str | None = None
    width: int | None = None
    height: int | None = None
    postId: int | None = None  # noqa: N815
    username: str | None = None
    baseModel: str | None = None  # noqa: N815
    modelVersionIds: list[int] | None = None  # noqa: N815
    tags: list[str | dict[str, Any]] | None = None
    stats: ImageStats | None = None


def problem(error: ValidationError) -> str:
    """The first thing wrong with an item, in one line: `modelVersions[0].files: …`."""
    first = error.errors(include_url=False)[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
    got = first.get("input")
    shown = f" (got {_short(got)})" if not isinstance(got, dict) else ""
    return f"{where or 'item'}: {first['msg']}{shown}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- dates --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatedField:
    """A timestamp an item carries: where it is and whether its value is bounded below."""

    position: int  # the item's position in its file (or row)
    field: str  # e.g. modelVersions[2].publishedAt
    value: str
    created: bool  # a creation date: not before EARLIEST (lastModified has no lower bound)


def civitai_dates(position: int, item: dict[str, Any]) -> Iterable[DatedField]:
    for index, version in enumerate(item["modelVersions"]):
        for key in ("createdAt", "publishedAt"):
            if version.get(key) is not None:
                yield DatedField(position, f"modelVersions[{index}].{key}", version[key], True)
    for key in ("publishedAt", "createdAt"):
        if item.get(key) is not None:
            yield DatedField(position, key, item[key], True)


def hf_dates(position: int, item: dict[str, Any]) -> Iterable[DatedField]:
    if item.get("createdAt") is not None:
        yield DatedField(position, "createdAt", item["createdAt"], True)
    if item.get("lastModified") is not None:
        yield DatedField(position, "lastModified", item["lastModified"], False)


def image_dates(position: int, item: dict[str, Any]) -> Iterable[DatedField]:
    yield DatedField(position, "createdAt", item["createdAt"], True)


def bad_dates(fields: list[DatedField], as_of: date) -> dict[int, str]:
    """Position -> what is wrong with its first bad date, all fields parsed in one call: a value
    that is not a timestamp, a creation date before EARLIEST, or any date after as_of (UTC)."""
    if not fields:
        return {}
    parsed = parse_timestamps([f.value for f in fields]).dt.date().to_list()
    problems: dict[int, str] = {}
    for dated, day in zip(fields, parsed, strict=True):
        if dated.position in problems:
            continue
        if day is None:
            problems[dated.position] = f"{dated.field}: {_short(dated.value)} is not a timestamp"
        elif dated.created and day < EARLIEST:
            problems[dated.position] = f"{dated.field}: {dated.value} is before {EARLIEST} (no hub data is that old)"
        elif day > as_of:
            problems[dated.position] = f"{dated.field}: {dated.value} is after the snapshot's date {as_of}"
    return problems

"""The one timestamp parser: every shape the hubs' APIs and known third-party crawls have used.

Accepted (all read as UTC instants): `2025-09-07T19:58:26.745Z`; no zone at all (UTC, as Civitai's
2024 list items send `publishedAt`); `+00:00` and other offsets (`+0530`, `+05`); a space instead
of the `T` (`2022-11-16 23:48:47.429+00:00`: Civ-40K, DuckDB CSVs); fractions of any length up to
nanoseconds (kept to the millisecond); no seconds (`10:00Z`); a bare date (`2024-05-01`, midnight
UTC). Anything else parses to null, and the caller counts it: a value that does not parse is never
silently dropped (the raw item keeps it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

TIME_UNIT = "ms"
_DATE_ONLY = r"^(\d{4}-\d{2}-\d{2})$"
_DATE_TIME_SPACE = r"^(\d{4}-\d{2}-\d{2})[ tT](\d)"
_ZULU = r"[zZ]$"
_HOURS_ONLY_OFFSET = r"([+-]\d{2})$"
_COMPACT_OFFSET = r"([+-]\d{2})(\d{2})$"
_HAS_OFFSET = r"[+-]\d{2}:\d{2}$"
_NO_SECONDS = r"T(\d{2}:\d{2})([+-]\d{2}:\d{2})$"
_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"


def normalised_text(values: pl.Expr) -> pl.Expr:
    """Rewrite every accepted shape as `YYYY-MM-DDTHH:MM:SS[.f]+HH:MM` (the zone made explicit)."""
    text = values.str.strip_chars()
    text = text.str.replace(_DATE_ONLY, "${1}T00:00:00+00:00")
    text = text.str.replace(_DATE_TIME_SPACE, "${1}T${2}")
    text = text.str.replace(_ZULU, "+00:00")
    text = text.str.replace(_COMPACT_OFFSET, "${1}:${2}")
    text = text.str.replace(_HOURS_ONLY_OFFSET, "${1}:00")
    # a time with no zone at all is UTC (the hubs' own convention)
    text = pl.when(text.str.contains(_HAS_OFFSET)).then(text).otherwise(text + "+00:00")
    return text.str.replace(_NO_SECONDS, "T${1}:00${2}")


def parsed(values: pl.Expr) -> pl.Expr:
    """A String expression -> Datetime(ms, UTC); null where the text is null or not a timestamp."""
    return normalised_text(values).str.to_datetime(_FORMAT, time_unit=TIME_UNIT, time_zone="UTC", strict=False)


def parse_timestamps(values: pl.Series | Iterable[str | None]) -> pl.Series:
    """Parse many values at once (what normalisers and importers use)."""
    series = values if isinstance(values, pl.Series) else pl.Series("t", list(values), dtype=pl.String)
    return pl.select(parsed(pl.lit(series.cast(pl.String)))).to_series()


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse one value (for a crawler's high-water mark, say); None when it is not a timestamp."""
    if value is None:
        return None
    return parse_timestamps([str(value)]).item()


def unparsed(raw: pl.Series, parsed_values: pl.Series) -> int:
    """How many values were given (not null) but did not parse: what a manifest must count."""
    return int((raw.is_not_null() & parsed_values.is_null()).sum())

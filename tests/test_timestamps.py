"""The one timestamp parser: every shape the hubs and known crawls use is read as the same UTC
instant; anything else is null (and counted by the caller), never guessed."""

from datetime import UTC, datetime

import polars as pl
import pytest

from ingest.timestamps import parse_timestamp, parse_timestamps, unparsed

T = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00.000Z", T),  # Civitai, 2023 and 2025+
        ("2024-05-01T10:00:00", T),  # Civitai /models list items, 2024-05: no zone means UTC
        ("2024-05-01T10:00:00+00:00", T),
        ("2024-05-01T12:00:00+02:00", T),
        ("2024-05-01T15:30:00+0530", T),
        ("2024-05-01T07:00:00-03", T),
        ("2024-05-01 10:00:00+00", T),  # DuckDB's CSV text
        ("2024-05-01 10:00:00.000+00:00", T),  # Civ-40K
        ("2024-05-01T10:00Z", T),
        ("2024-05-01T10:00:00.000000000Z", T),
        (" 2024-05-01T10:00:00Z ", T),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T10:00:00.745Z", datetime(2024, 5, 1, 10, 0, 0, 745000, tzinfo=UTC)),
    ],
)
def test_every_known_shape_is_the_same_utc_instant(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["not-a-date", "yesterday", "2024-13-45T00:00:00Z", "", "1714557600"])
def test_anything_else_is_null(text):
    assert parse_timestamp(text) is None


def test_values_that_do_not_parse_are_counted_not_hidden():
    raw = pl.Series(["2024-05-01T10:00:00Z", "not-a-date", None, "2024-05-01"])
    got = parse_timestamps(raw)
    assert got.dtype == pl.Datetime("ms", "UTC")
    assert got.null_count() == 2 and unparsed(raw, got) == 1

"""The coverage page's section on Civitai's image feed: how late images reach hubwatch.

Self-contained, so the site can change around it: the series for two charts drawn from the
`image_feed_delay` table, and their definitions. A package published before that table existed
gets no section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from dashboards import figures as f
from dashboards.queries import Package

TABLE = "image_feed_delay"
DELAY_DEFINITION = (
    "For each image snapshot, the days between an image's creation and the first snapshot that listed it "
    "(median and 90th percentile over the images that snapshot saw first). Civitai lists an image only once "
    "it is rated, sometimes weeks after it was created, and a snapshot taken less often than daily adds its "
    "own interval. A first snapshot that backfilled the whole feed is left out of the chart (its CSV row is "
    "in data/image_feed_delay)."
)
LATE_DEFINITION = (
    "Images each snapshot saw first, and how many of them had been created before the previous image "
    "snapshot: they reached the feed after that snapshot was taken (rated late), or only a re-sweep found "
    "them. hubwatch reads the feed back to where the previous snapshot stopped, less an overlap, and "
    "re-sweeps the last 30 days every week (README: The image feed)."
)


def available(package: Package) -> bool:
    return (package.path / "data" / f"{TABLE}.parquet").is_file()


def delay_series(table: pl.DataFrame) -> pl.DataFrame:
    rows = table.filter((pl.col("crawl") != "backfill") & pl.col("delay_days_p50").is_not_null())
    return pl.concat(
        [
            rows.select(x=pl.col("snapshot_date"), series=pl.lit("median"), value=pl.col("delay_days_p50")),
            rows.select(x=pl.col("snapshot_date"), series=pl.lit("90th percentile"), value=pl.col("delay_days_p90")),
        ]
    ).sort("series", "x")


def late_series(table: pl.DataFrame) -> pl.DataFrame:
    rows = table.filter(pl.col("previous_snapshot_date").is_not_null())
    return pl.concat(
        [
            rows.select(
                x=pl.col("snapshot_date"),
                series=pl.lit("created before the previous snapshot"),
                value=pl.col("n_created_before_previous").cast(pl.Float64),
            ),
            rows.select(
                x=pl.col("snapshot_date"),
                series=pl.lit("all images seen first"),
                value=pl.col("n_new_images").cast(pl.Float64),
            ),
        ]
    ).sort("series", "x")


def charts(package: Package, make: Callable[..., Any]) -> list[Any]:
    """The section's charts, made by the site's own `make(slug, title, definition, series, draw)`."""
    if not available(package):
        return []
    table = package.table(TABLE)
    return [
        make(
            "image-feed-delay",
            "How late images reach the feed",
            DELAY_DEFINITION,
            delay_series(table),
            lambda s: f.line_chart(s, "Days from creation to first sighting", "days"),
        ),
        make(
            "image-feed-late",
            "Images that reached the feed late",
            LATE_DEFINITION,
            late_series(table),
            lambda s: f.line_chart(s, "New images per image snapshot", "images"),
        ),
    ]

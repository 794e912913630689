"""The coverage page's section on Civitai's image feed: how late images reach hubwatch.

Self-contained, so the site can change around it: the series for two charts drawn from the
`image_feed_delay` table, and their definitions. A package published before that table existed
gets no section.
"""

from __future__ import annotations

import polars as pl

from dashboards import series as s
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
    return package.optional(TABLE) is not None


def _rows(package: Package) -> pl.DataFrame:
    return package.optional(TABLE)


def delay_series(package: Package) -> pl.DataFrame:
    """Median and 90th-percentile days from creation to first sighting, per image snapshot (tidy)."""
    rows = _rows(package).filter((pl.col("crawl") != "backfill") & pl.col("delay_days_p50").is_not_null())
    parts = [
        rows.select(
            period=pl.col("snapshot_date").cast(pl.String),
            platform=pl.lit("civitai"),
            entity=pl.lit("image"),
            measure=pl.lit(column),
            series=pl.lit(name),
            denominator="n_new_images",
            value=pl.col(column).cast(pl.Float64),
            partial=pl.lit(False),
        )
        for column, name in (("delay_days_p50", "median"), ("delay_days_p90", "90th percentile"))
    ]
    return s.tidy(pl.concat(parts)).sort("series", "period")


def late_series(package: Package) -> pl.DataFrame:
    """Images each snapshot saw first, and those among them created before the previous snapshot (tidy)."""
    rows = _rows(package).filter(pl.col("previous_snapshot_date").is_not_null())
    parts = [
        rows.select(
            period=pl.col("snapshot_date").cast(pl.String),
            platform=pl.lit("civitai"),
            entity=pl.lit("image"),
            measure=pl.lit(column),
            series=pl.lit(name),
            numerator=column,
            denominator="n_new_images",
            value=pl.col(column).cast(pl.Float64),
            partial=pl.lit(False),
        )
        for column, name in (
            ("n_created_before_previous", "created before the previous snapshot"),
            ("n_new_images", "all images seen first"),
        )
    ]
    return s.tidy(pl.concat(parts)).sort("series", "period")

"""Series of the charts of the real-person downloads running total and the SD 1.5 lineage (issue
#21), drawn by dashboards.charts when the package has their tables (model_measures.py writes the
tables beside them)."""

from __future__ import annotations

import polars as pl

from dashboards import series as s
from dashboards.queries import Package

DOWNLOADS_DEFINITION = (
    "Running total of the downloads of real-person models per platform, at each complete model snapshot: each "
    "model's counter at its first sighting, then only its increases (a counter that falls adds nothing, so it is a "
    "lower bound). Hawkins et al. reported almost 15 million such downloads at one crawl."
)
SD15_DEFINITION = (
    "Models created each month that are built on SD 1.5, a mirror or a named derivative (or are one of those "
    "Hugging Face repos), as a share of all models created that month. runwayml/stable-diffusion-v1-5 left "
    "Hugging Face on 2024-08-29 (marked on the timeline)."
)


def downloads_series(p: Package) -> pl.DataFrame:
    frame = p.table("real_person_downloads_by_snapshot")
    return s.tidy(
        frame.select(
            period=pl.col("snapshot_date").cast(pl.String),
            platform="platform",
            entity=pl.lit("model"),
            measure=pl.lit("downloads_accrued"),
            series=pl.lit("downloads of real-person models, running total"),
            numerator="downloads_accrued",
            value=pl.col("downloads_accrued").cast(pl.Float64),
            partial=pl.lit(False),
        )
    ).sort("platform", "period")


def sd15_series(p: Package) -> pl.DataFrame:
    frame = s.with_partial(p.table("sd15_lineage_monthly").with_columns(entity=pl.lit("model")), p)
    return s.tidy(
        s.wilson(
            frame.select(
                period="month",
                platform="platform",
                entity="entity",
                measure=pl.lit("share_of_new_models"),
                series=pl.lit("SD 1.5 lineage"),
                numerator="n_models",
                denominator="n_all_models",
                value="share_of_new_models",
                partial="partial",
            )
        )
    ).sort("platform", "period")

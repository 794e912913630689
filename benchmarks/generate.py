"""Synthetic raw snapshots at the size of the published studies, written straight into the
landing layout (normalised Parquet + manifest, kind simulated, no HTTP).

Tiers: smoke (every step of the runner once, at the least cost: `make test`'s smoke run), small
(seconds), medium (4M images, 23k models x 30 daily snapshots), large (40M images, 230k models x
30 daily snapshots), year (the medium tier's 23k models and 4M images spread over 364 daily
snapshots, plus the day the runner adds: a year). Columns have realistic widths: tag lists,
a raw-JSON column of about the size real items have (~1.5 KB models, ~0.9 KB images), nullable
counters. Every column is built by Polars expressions, so generation is fast and repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from ingest import civitai, huggingface
from ingest.landing import StagedSnapshot

START = date(2025, 1, 1)
TAGS = ["anime", "photorealistic", "woman", "1girl", "furry", "style", "celebrity", "hentai", "landscape", "sexy"]
BASES = ["SD 1.5", "SDXL 1.0", "Pony", "Illustrious", "Flux.1 D", "NoobAI"]


def padding(column: str, n_hashes: int) -> pl.Expr:
    """Text that compresses like real item JSON (not like a run of one character): ~20 chars a hash."""
    return pl.concat_str(
        [(pl.col(column) * (k + 1)).hash(seed=k).cast(pl.String) for k in range(n_hashes)], separator=" "
    )


@dataclass(frozen=True)
class Tier:
    name: str
    models: int
    images: int
    snapshots: int
    hf_models: int
    # the runner adds one day to warehouses of these many snapshots (those above `snapshots` dropped)
    steps: tuple[int, ...] = (1, 10, 30)


TIERS = {
    # `make test`'s smoke run of the runner: every step of it once (generate, build, add a day,
    # the full build, the hand-written query, publish, the site) at the least cost: one step, small tables
    "smoke": Tier("smoke", 300, 3_000, 1, 50, steps=(1,)),
    "small": Tier("small", 2_000, 40_000, 2, 300),
    "medium": Tier("medium", 23_000, 4_000_000, 30, 3_000),
    "large": Tier("large", 230_000, 40_000_000, 30, 30_000),
    # a day added at 30, 180 and 365 snapshots
    "year": Tier("year", 23_000, 4_000_000, 364, 3_000, steps=(29, 179, 364)),
}


def models_frame(n: int, day_index: int) -> dict[str, pl.DataFrame]:
    """n models as one snapshot sees them; a few vanish and downloads grow day by day."""
    ids = pl.int_range(1, n + 1, eager=True).alias("model_id")
    frame = pl.DataFrame(ids).filter((pl.col("model_id") % 997) != day_index % 997)  # some vanish each day
    frame = frame.with_columns(
        name=pl.format("Model {} LoRA", "model_id"),
        type=pl.lit("LORA"),
        nsfw=(pl.col("model_id") % 17) == 0,
        nsfw_level=((pl.col("model_id") * 7919) % 31 + 1),
        poi=(pl.col("model_id") % 11) == 0,
        minor=pl.lit(False),
        sfw_only=pl.lit(False),
        mode=pl.when(pl.col("model_id") % 101 == 0).then(pl.lit("TakenDown")).otherwise(pl.lit(None, pl.String)),
        availability=pl.lit("Public"),
        creator_username=pl.format("creator{}", pl.col("model_id") % 5000),
        tags=pl.concat_list(
            pl.lit(TAGS).list.get(pl.col("model_id") % len(TAGS)),
            pl.lit(TAGS).list.get((pl.col("model_id") // 7) % len(TAGS)),
        ),
        base_models=pl.concat_list(pl.lit(BASES).list.get(pl.col("model_id") % len(BASES))),
        download_count=pl.when(pl.col("model_id") % 50 == 0).then(None).otherwise(pl.col("model_id") * (day_index + 1)),
        thumbs_up_count=pl.col("model_id") // 3,
        thumbs_down_count=pl.lit(0, pl.Int64),
        favorite_count=pl.lit(None, pl.Int64),
        comment_count=pl.col("model_id") % 13,
        tipped_amount_count=pl.lit(None, pl.Int64),
        n_versions=pl.lit(1, pl.Int64),
        created_at=(pl.lit(START) - pl.duration(days=pl.col("model_id") % 900)).cast(pl.Datetime("ms", "UTC")),
        created_at_source=pl.lit("version.createdAt"),
        last_version_at=(pl.lit(START) - pl.duration(days=pl.col("model_id") % 900)).cast(pl.Datetime("ms", "UTC")),
    )
    frame = frame.with_columns(
        raw_json=pl.concat_str(
            pl.lit('{"id":'),
            "model_id",
            pl.lit(',"name":"'),
            "name",
            pl.lit('","nsfwLevel":'),
            "nsfw_level",
            pl.lit(',"description":"'),
            padding("model_id", 60),
            pl.lit('"}'),
        )
    )
    models = frame.select(civitai.MODEL_SCHEMA.keys()).cast({"created_at": pl.Datetime("ms", "UTC")})
    versions = frame.select(
        "model_id",
        version_id=pl.col("model_id") * 10,
        name=pl.lit("v1.0"),
        base_model=pl.col("base_models").list.first(),
        nsfw_level="nsfw_level",
        trained_words=pl.concat_list(pl.format("trigger{}", "model_id")),
        download_count="download_count",
        created_at="created_at",
        published_at="created_at",
    )
    files = frame.select(
        "model_id",
        version_id=pl.col("model_id") * 10,
        file_id=pl.col("model_id") * 100,
        name=pl.format("m{}.safetensors", "model_id"),
        type=pl.lit("Model"),
        size_kb=pl.lit(140_000.0),
        is_primary=pl.lit(True),
        sha256=pl.col("model_id").cast(pl.String).map_elements(lambda s: f"{int(s):064x}", return_dtype=pl.String),
        autov2=pl.lit(None, pl.String),
    )
    return {"models": models, "model_versions": versions, "model_files": files}


def images_frame(first_id: int, n: int, day: date) -> pl.DataFrame:
    ids = pl.int_range(first_id, first_id + n, eager=True).alias("image_id")
    frame = (
        pl.DataFrame(ids)
        .with_columns(
            created_at=(pl.lit(day).cast(pl.Datetime("ms", "UTC")) - pl.duration(seconds=pl.col("image_id") % 86_400)),
            browsing_level=pl.lit([1, 2, 4, 8, 16]).list.get(pl.col("image_id") % 5),
            type=pl.lit("image"),
            width=pl.lit(832, pl.Int64),
            height=pl.lit(1216, pl.Int64),
            post_id=pl.col("image_id") // 3,
            username=pl.format("user{}", pl.col("image_id") % 9973),
            base_model=pl.lit(BASES).list.get(pl.col("image_id") % len(BASES)),
            model_version_ids=pl.concat_list((pl.col("image_id") % 23_000) * 10),
            tags=pl.concat_list(pl.lit(TAGS).list.get(pl.col("image_id") % len(TAGS))),
            like_count=pl.col("image_id") % 97,
            heart_count=pl.col("image_id") % 31,
            comment_count=pl.col("image_id") % 5,
            has_meta=pl.lit(True),
        )
        .with_columns(
            nsfw_level_label=pl.col("browsing_level").replace_strict(
                {1: "None", 2: "Soft", 4: "Mature", 8: "X", 16: "X"}
            ),
            nsfw=pl.col("browsing_level") > 1,
            raw_json=pl.concat_str(
                pl.lit('{"id":'),
                "image_id",
                pl.lit(',"browsingLevel":'),
                "browsing_level",
                pl.lit(',"meta":{"prompt":"'),
                padding("image_id", 35),
                pl.lit('"}}'),
            ),
        )
    )
    return frame.select(civitai.IMAGE_SCHEMA.keys())


def hf_frame(n: int) -> dict[str, pl.DataFrame]:
    empty = huggingface.normalise_models([])
    ids = pl.int_range(0, n, eager=True).alias("i")
    models = (
        pl.DataFrame(ids)
        .select(
            model_id=pl.format("artist{}/lora-{}", pl.col("i") % 97, "i"),
            author=pl.format("artist{}", pl.col("i") % 97),
            created_at=pl.lit(START).cast(pl.Datetime("ms", "UTC")),
            last_modified=pl.lit(START).cast(pl.Datetime("ms", "UTC")),
            downloads_30d=pl.col("i"),
            downloads_all_time=pl.col("i") * 10,
            likes=pl.col("i") % 50,
            tags=pl.lit(["lora", "text-to-image"]),
            pipeline_tag=pl.lit("text-to-image"),
            library_name=pl.lit("diffusers"),
            gated=pl.lit("false"),
            private=pl.lit(False),
            disabled=pl.lit(False),
            sha=pl.format("{}", "i"),
            base_models=pl.lit(["black-forest-labs/FLUX.1-dev"]),
            raw_json=pl.concat_str(pl.lit('{"id":"artist/lora-'), "i", pl.lit('"}')),
        )
        .cast(dict(empty.schema))
    )
    return {"models": models, "model_files": huggingface.normalise_files([], START)}


def write_snapshot(home: Path, source: str, day: date, tables: dict[str, pl.DataFrame]) -> None:
    with StagedSnapshot(
        home, source, day, kind="simulated", host="benchmarks", plan={"scope": "all", "generator": "benchmarks"}
    ) as snap:
        snap.publish(tables)


def write_tier(home: Path, tier: Tier, days: int | None = None, first_day: int = 0) -> list[date]:
    """Snapshots first_day .. first_day+days-1 of the tier (all of them by default)."""
    count = tier.snapshots if days is None else days
    per_day = tier.images // tier.snapshots
    written = []
    for index in range(first_day, first_day + count):
        day = START + timedelta(days=index)
        write_snapshot(home, "civitai_models", day, models_frame(tier.models, index))
        write_snapshot(home, "civitai_images", day, {"images": images_frame(1 + index * per_day, per_day, day)})
        write_snapshot(home, "hf_models", day, hf_frame(tier.hf_models))
        written.append(day)
    return written

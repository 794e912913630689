"""A small published package written straight to disk (manifest + data/*.parquet), shaped like the
marts, for testing the dashboards without a crawl or a build. Its last snapshot is 2025-12-01, so
December 2025 holds one day: the partial month the issue was about."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

XSS = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(2)</script>"  # would end the <script> holding a figure's JSON
SNAPSHOTS = [date(2025, m, 1) for m in range(9, 13)]  # 2025-09-01 .. 2025-12-01
MONTHS = [date(2025, m, 1) for m in range(6, 13)]  # items created June .. December 2025


def monthly_nsfw() -> pl.DataFrame:
    rows = []
    for month in MONTHS:
        partial = month == date(2025, 12, 1)
        # Civitai models: 40 a month, half NSFW; December: one item, not NSFW (the "0%" headline)
        n = 1 if partial else 40
        rows.append(("civitai", "model", month, n, 0 if partial else 20, 0 if partial else 10))
        rows.append(("civitai", "image", month, 3 if partial else 400, 3 if partial else 300, 2 if partial else 200))
        if not partial:
            rows.append(("huggingface", "model", month, 1, 1, 1))  # one model: 100% from n = 1
    frame = pl.DataFrame(
        rows,
        schema=["platform", "entity", "month", "n_items", "n_nsfw_any", "n_nsfw_strict"],
        orient="row",
    )
    return frame.with_columns(
        share_any=pl.col("n_nsfw_any") / pl.col("n_items"), share_strict=pl.col("n_nsfw_strict") / pl.col("n_items")
    )


def tables(hostile_tag: bool = True) -> dict[str, pl.DataFrame]:
    nsfw = monthly_nsfw()
    by_snapshot = nsfw.filter(pl.col("month").is_in(SNAPSHOTS)).rename({"month": "snapshot_date"})
    rp = pl.DataFrame(
        {
            "platform": ["civitai"] * len(MONTHS) + ["huggingface"] * len(MONTHS),
            "month": MONTHS * 2,
            "n_models": [40] * (len(MONTHS) - 1) + [1] + [1] * len(MONTHS),
            "n_real_person": [10] * (len(MONTHS) - 1) + [0] + [1] * len(MONTHS),
            "n_declared": [6] * (len(MONTHS) - 1) + [0] + [0] * len(MONTHS),
            "n_tagged": [5] * (len(MONTHS) - 1) + [0] + [0] * len(MONTHS),
            "n_name_match": [4] * (len(MONTHS) - 1) + [0] + [1] * len(MONTHS),
            "n_hash_match": [0] * (len(MONTHS) - 1) + [0] + [1] * len(MONTHS),
            "n_real_person_nsfw": [3] * (len(MONTHS) - 1) + [0] + [0] * len(MONTHS),
            "n_female": [8] * (len(MONTHS) - 1) + [0] + [1] * len(MONTHS),
            "n_male": [1] * (len(MONTHS) - 1) + [0] + [0] * len(MONTHS),
            "n_unknown_gender": [1] * (len(MONTHS) - 1) + [0] + [0] * len(MONTHS),
        }
    ).with_columns(share_real_person=pl.col("n_real_person") / pl.col("n_models"))
    tag_rows = []
    for month in MONTHS:
        n = 1 if month == date(2025, 12, 1) else 40
        tag_rows.append(("civitai", "model", month, "steady", None, n // 2, 0.5))
        # 'oneday' is on the single December model only: ranked on that day it would "rise" 100 points
        tag_rows.append(("civitai", "model", month, "oneday", None, 1 if n == 1 else 0, 1.0 if n == 1 else 0.0))
        grows = {6: 0, 7: 0, 8: 2, 9: 4, 10: 8, 11: 12}.get(month.month)
        if grows is not None:
            tag_rows.append(("civitai", "model", month, "growing", "anime/manga", grows, grows / 40))
        if hostile_tag:
            tag_rows.append(("civitai", "model", month, XSS, None, 1 if month.month >= 9 and n > 1 else 0, 1 / n))
            tag_rows.append(
                ("civitai", "model", month, BREAKOUT, "hentai", 2 if month.month >= 10 and n > 1 else 0, 2 / n)
            )
    tags = pl.DataFrame(
        tag_rows, schema=["platform", "entity", "month", "tag", "subculture", "n_items", "share"], orient="row"
    ).filter(pl.col("n_items") > 0)
    subcultures = pl.DataFrame(
        [("civitai", "model", m, "anime/manga", 10, 10 / (1 if m.month == 12 else 40)) for m in MONTHS[:-1]],
        schema=["platform", "entity", "month", "subculture", "n_items", "share"],
        orient="row",
    )
    base = pl.DataFrame(
        [("civitai", m, fam, n) for m in MONTHS for fam, n in (("SDXL", 1 if m.month == 12 else 30), ("Pony", 10))]
        + [("huggingface", m, "SD 1.x", 1) for m in MONTHS[:-1]],
        schema=["platform", "month", "base_model_family", "n_models"],
        orient="row",
    ).with_columns(share=pl.col("n_models") / pl.col("n_models").sum().over("platform", "month"))
    lifecycle = pl.DataFrame(
        {
            "platform": ["civitai"] * 4 + ["huggingface"] * 4,
            "snapshot_date": SNAPSHOTS * 2,
            "n_visible": [200, 210, 120, 130, 10, 11, 12, 13],
            "n_new": [200, 10, 5, 10, 10, 1, 1, 1],
            "n_removed": [0, 0, 92, 0, 0, 0, 0, 0],
            "n_taken_down": [0, 0, 1, 0, 0, 0, 0, 0],
            "n_archived": [0, 2, 0, 0, 0, 0, 0, 0],
            "n_real_person_removed": [0, 0, 86, 0, 0, 0, 0, 0],
        }
    )
    matches = pl.DataFrame(
        {
            "hf_model_id": ["a/one", "a/one", "b/two", "c/three"],
            "civitai_version_id": [1, 2, 3, 4],
            "civitai_model_id": ["1", "2", "3", "4"],
            "sha256": ["aa", "bb", "cc", "dd"],
            "civitai_real_person": [True, False, False, True],
            "hf_first_seen": [date(2025, 10, 1), date(2025, 10, 1), date(2025, 10, 1), date(2025, 12, 1)],
        }
    )
    coverage = pl.DataFrame(
        [
            (source, day, "simulated", "all", "127.0.0.1", "{}", 2, 100, True, 0)
            for source in ("civitai_models", "civitai_images", "hf_models")
            for day in SNAPSHOTS
        ],
        schema=["source", "snapshot_date", "kind", "scope", "host", "params", "pages", "items", "complete", "errors"],
        orient="row",
    )
    models = pl.DataFrame(
        {
            "platform": ["civitai", "civitai", "civitai", "huggingface"],
            "model_id": ["1", "2", "3", "h/1"],
            "name": [XSS, None, "plain", "h/1"],
            "model_type": ["LORA"] * 3 + ["adapter"],
            "base_model": ["SDXL 1.0", "Pony", "Pony", "x/sdxl"],
            "base_model_family": ["SDXL", "Pony", "Pony", "SDXL"],
            "month": [date(2025, 9, 1)] * 4,
            "first_seen": SNAPSHOTS[:1] * 4,
            "last_seen": SNAPSHOTS[-1:] * 4,
            "downloads_total": [10_000_000, 5, 4, 3],
            "nsfw_any": [True, False, True, False],
            "nsfw_strict": [False, False, True, False],
            "target_gender": ["unknown", "female", "female", "female"],
            "real_person": [False, True, True, True],
            "real_person_declared": [False, True, True, False],
            "real_person_tagged": [False, True, False, False],
            "real_person_name_match": [False, False, False, True],
            "real_person_hash_match": [False, False, False, True],
        }
    )
    return {
        "nsfw_share_monthly": nsfw,
        "nsfw_share_by_snapshot": by_snapshot,
        "real_person_monthly": rp,
        "tag_trends_monthly": tags,
        "subculture_trends_monthly": subcultures,
        "base_model_mix_monthly": base,
        "lifecycle_by_snapshot": lifecycle,
        "cross_platform_matches": matches,
        "snapshot_coverage": coverage,
        "models": models,
    }


def policy_events() -> pl.DataFrame:
    return pl.read_csv(
        Path(__file__).parents[1] / "dbt" / "seeds" / "policy_timeline.csv",
        schema_overrides={"event_date": pl.Date, "end_date": pl.Date},
    ).with_columns(pl.col("caveat").fill_null(""))


def write_package(root: Path, extra: dict[str, pl.DataFrame] | None = None, with_events: bool = True) -> Path:
    """The package folder (root/2025-12-01) with every table given, and a manifest describing them."""
    package = root / "2025-12-01"
    (package / "data").mkdir(parents=True)
    every = {**tables(), **({"policy_events": policy_events()} if with_events else {}), **(extra or {})}
    for name, frame in every.items():
        frame.write_parquet(package / "data" / f"{name}.parquet")
    manifest = {
        "title": "hubwatch snapshot package 2025-12-01",
        "publish_date": "2025-12-01",
        "rules_version": "v1",
        "snapshot_range": ["2025-09-01", "2025-12-01"],
        "kinds": ["simulated"],
        "simulated": True,
        "tables": {
            name: {
                "description": f"{name} (test)",
                "schema": [{"name": c, "type": str(t), "description": f"{name}.{c} rule"} for c, t in f.schema.items()],
            }
            for name, f in every.items()
        },
    }
    (package / "manifest.json").write_text(json.dumps(manifest))
    return package

"""Marts in, tidy series out: what each chart plots, with its n, its interval and its coverage.

Every chart is drawn from one tidy frame with the columns COLUMNS, and that same frame is its CSV:
  period       the month (first day), the snapshot date, or an ISO interval `start/end` for totals
  platform     civitai | huggingface (or a study's name)
  entity       model | image
  category     the subgroup measured where there is one (tier, family, tag, kind of event)
  measure      the column of the package table it comes from (n_* a count, share_* a share)
  series       the full name the chart's legend and hover use
  numerator    the count behind the value
  denominator  the population it is a share of (or, for a count, the population it comes from)
  value        what is plotted: numerator / denominator for a share, the count itself for a count
  ci_low/high  95% Wilson interval of a share (empty for counts)
  partial      true when the snapshots do not cover the period whole (drawn hollow, never a headline)
Pure functions of a Package; no I/O beyond reading its tables.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboards.queries import SOURCE_OF, Package
from dashboards.reference import CIVIVERSE_MONTHLY

COLUMNS = {
    "period": pl.String,
    "platform": pl.String,
    "entity": pl.String,
    "category": pl.String,
    "measure": pl.String,
    "series": pl.String,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "partial": pl.Boolean,
}
MIN_N = 30
"""Shares from fewer items than this are drawn faint and never make a headline."""
Z = 1.959964  # 95%
PLATFORM = {"civitai": "Civitai", "huggingface": "Hugging Face"}
BOTH_THRESHOLDS = "NSFW, both thresholds (they agree here)"
THRESHOLD = {"share_any": "NSFW, PG-13 and above", "share_strict": "NSFW, R and above"}
TIERS = {
    "n_real_person": "any tier (union)",
    "n_declared": "declared by the uploader (poi)",
    "n_tagged": "Civitai real-person tag",
    "n_name_match": "public figure's name",
    "n_hash_match": "file identical to a flagged model's",
}
TIER_FLAGS = {
    "real_person_declared": "declared",
    "real_person_tagged": "tagged",
    "real_person_name_match": "name",
    "real_person_hash_match": "file hash",
}
GENDER = {"n_female": "female", "n_male": "male", "n_unknown_gender": "not stated"}
LIFECYCLE = {"n_removed": "removed (absent)", "n_taken_down": "taken down", "n_archived": "archived"}


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=COLUMNS)


def tidy(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every column of COLUMNS, in order and type (periods as ISO text)."""
    missing = [pl.lit(None, dtype=kind).alias(name) for name, kind in COLUMNS.items() if name not in frame.columns]
    frame = frame.with_columns(missing) if missing else frame
    return frame.select(pl.col(name).cast(kind) for name, kind in COLUMNS.items())


def wilson(frame: pl.DataFrame) -> pl.DataFrame:
    """ci_low / ci_high: the 95% Wilson score interval of numerator / denominator."""
    n = pl.col("denominator").cast(pl.Float64)
    p = pl.col("numerator").cast(pl.Float64) / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * ((p * (1 - p) / n + Z**2 / (4 * n**2)).sqrt()) / (1 + Z**2 / n)
    valid = pl.col("denominator") > 0
    return frame.with_columns(
        ci_low=pl.when(valid).then((centre - half).clip(0.0, 1.0)),
        ci_high=pl.when(valid).then((centre + half).clip(0.0, 1.0)),
    )


def with_partial(frame: pl.DataFrame, package: Package, month: str = "month") -> pl.DataFrame:
    """partial = the month is not covered whole by the snapshots of its platform and entity."""
    firsts = pl.DataFrame(
        [
            {"platform": platform, "entity": entity, "first_partial": package.first_partial_month(platform, entity)}
            for platform, entity in SOURCE_OF
        ],
        schema={"platform": pl.String, "entity": pl.String, "first_partial": pl.Date},
    )
    return (
        frame.join(firsts, on=["platform", "entity"], how="left")
        .with_columns(
            partial=pl.col(month) >= pl.col("first_partial").fill_null(date.fromisoformat(package.snapshot_range[1]))
        )
        .drop("first_partial")
    )


def iso_span(months: pl.Series) -> str:
    """An ISO 8601 interval of months, e.g. 2024-09/2025-08."""
    return f"{months.min():%Y-%m}/{months.max():%Y-%m}" if months.len() else ""


# -- NSFW ---------------------------------------------------------------------------------------
def nsfw_share(frame: pl.DataFrame, period: str) -> pl.DataFrame:
    """Both thresholds side by side per platform and entity, each with its n. Where the two agree in
    every period (Hugging Face: one tag sets both) the strict one would hide exactly under the broad
    one, so it is left out and the broad one is named for both."""
    agree = (
        frame.group_by("platform", "entity")
        .agg(same=(pl.col("n_nsfw_any") == pl.col("n_nsfw_strict")).all())
        .filter(pl.col("same"))
        .drop("same")
    )
    parts = []
    for measure, count in (("share_any", "n_nsfw_any"), ("share_strict", "n_nsfw_strict")):
        parts.append(
            frame.select(
                period=pl.col(period),
                platform="platform",
                entity="entity",
                measure=pl.lit(measure),
                series=pl.lit(THRESHOLD[measure]),
                numerator=count,
                denominator="n_items",
                value=measure,
                partial="partial",
            )
        )
    both = pl.concat(parts)
    merged = both.join(agree, on=["platform", "entity"], how="semi")
    kept = pl.concat(
        [
            both.join(agree, on=["platform", "entity"], how="anti"),
            merged.filter(pl.col("measure") == "share_any").with_columns(series=pl.lit(BOTH_THRESHOLDS)),
        ]
    )
    return tidy(wilson(kept)).sort("platform", "entity", "measure", "period")


def nsfw_monthly(package: Package) -> pl.DataFrame:
    return nsfw_share(with_partial(package.table("nsfw_share_monthly"), package), "month")


def nsfw_by_snapshot(package: Package) -> pl.DataFrame:
    """What each snapshot listed: a complete snapshot covers its own day whole, so nothing is partial."""
    return nsfw_share(package.table("nsfw_share_by_snapshot").with_columns(partial=pl.lit(False)), "snapshot_date")


# -- real people --------------------------------------------------------------------------------
def real_person_share(package: Package) -> pl.DataFrame:
    rp = with_partial(package.table("real_person_monthly").with_columns(entity=pl.lit("model")), package)
    return tidy(
        wilson(
            rp.select(
                period="month",
                platform="platform",
                entity="entity",
                measure=pl.lit("share_real_person"),
                series=pl.lit("depict a real person (any tier)"),
                numerator="n_real_person",
                denominator="n_models",
                value="share_real_person",
                partial="partial",
            )
        )
    ).sort("platform", "period")


def real_person_tiers(package: Package) -> pl.DataFrame:
    """Each tier beside their union, over every month of the package (counts of models)."""
    rp = package.table("real_person_monthly")
    totals = rp.group_by("platform").agg(pl.col(*TIERS, "n_models").sum())
    rows = totals.unpivot(index=["platform", "n_models"], on=list(TIERS), variable_name="measure", value_name="n")
    order = {name: i for i, name in enumerate(TIERS)}
    return tidy(
        rows.sort(pl.col("platform"), pl.col("measure").replace_strict(order, return_dtype=pl.Int64)).select(
            period=pl.lit(iso_span(rp["month"])),
            platform="platform",
            entity=pl.lit("model"),
            category=pl.col("measure").replace_strict(TIERS),
            measure="measure",
            series=pl.when(pl.col("measure") == "n_real_person").then(pl.lit("union")).otherwise(pl.lit("one tier")),
            numerator="n",
            denominator="n_models",
            value=pl.col("n").cast(pl.Float64),
        )
    )


def tier_overlap(package: Package) -> pl.DataFrame:
    """Real-person models by the exact set of tiers that flag them (an UpSet-style count)."""
    models = package.table("models").filter(pl.col("real_person").fill_null(False))
    flags = [c for c in TIER_FLAGS if c in models.columns]
    if models.is_empty() or not flags:
        return empty()
    combos = models.select(
        "platform",
        "month",
        combination=pl.concat_str(
            [pl.when(pl.col(c).fill_null(False)).then(pl.lit(TIER_FLAGS[c])) for c in flags],
            separator=" + ",
            ignore_nulls=True,
        ),
    ).with_columns(pl.col("combination").replace("", "(none recorded)"))
    counts = combos.group_by("platform", "combination").agg(n=pl.len())
    totals = combos.group_by("platform").agg(total=pl.len())
    span = iso_span(package.table("models")["month"].drop_nulls())
    return tidy(
        counts.join(totals, on="platform").select(
            period=pl.lit(span),
            platform="platform",
            entity=pl.lit("model"),
            category="combination",
            measure=pl.lit("n_real_person"),
            series=pl.col("platform").replace(PLATFORM),
            numerator="n",
            denominator="total",
            value=pl.col("n").cast(pl.Float64),
        )
    ).sort("platform", "value", "category", descending=[False, True, False])


def gender(package: Package) -> pl.DataFrame:
    rp = package.table("real_person_monthly")
    totals = rp.group_by("platform").agg(pl.col(*GENDER, "n_real_person").sum())
    rows = totals.unpivot(index=["platform", "n_real_person"], on=list(GENDER), variable_name="measure", value_name="n")
    return tidy(
        rows.select(
            period=pl.lit(iso_span(rp["month"])),
            platform="platform",
            entity=pl.lit("model"),
            category=pl.col("platform").replace(PLATFORM),
            measure="measure",
            series=pl.col("measure").replace_strict(GENDER),
            numerator="n",
            denominator="n_real_person",
            value=pl.col("n").cast(pl.Float64),
        )
    ).sort("platform", "measure")


def real_person_nsfw(package: Package) -> pl.DataFrame:
    """Share of real-person models that are NSFW (R+); months without a real-person model have none."""
    rp = with_partial(package.table("real_person_monthly").with_columns(entity=pl.lit("model")), package)
    return tidy(
        wilson(
            rp.filter(pl.col("n_real_person") > 0).select(
                period="month",
                platform="platform",
                entity="entity",
                measure=pl.lit("n_real_person_nsfw"),
                series=pl.lit("real-person models that are NSFW (R and above)"),
                numerator="n_real_person_nsfw",
                denominator="n_real_person",
                value=pl.col("n_real_person_nsfw") / pl.col("n_real_person"),
                partial="partial",
            )
        )
    ).sort("platform", "period")


# -- lifecycle ----------------------------------------------------------------------------------
def with_previous_visible(lifecycle: pl.DataFrame) -> pl.DataFrame:
    return lifecycle.sort("platform", "snapshot_date").with_columns(
        previous=pl.col("n_visible").shift(1).over("platform")
    )


def lifecycle_events(package: Package) -> pl.DataFrame:
    """Removed (absent), taken down and archived: disjoint, so they stack to the models that went away."""
    lifecycle = with_previous_visible(package.table("lifecycle_by_snapshot"))
    order = {name: i for i, name in enumerate(LIFECYCLE)}
    rows = lifecycle.unpivot(
        index=["platform", "snapshot_date", "previous"], on=list(LIFECYCLE), variable_name="measure", value_name="n"
    )
    return tidy(
        rows.select(
            period="snapshot_date",
            platform="platform",
            entity=pl.lit("model"),
            category=pl.col("measure").replace_strict(LIFECYCLE),
            measure="measure",
            series=pl.col("measure").replace_strict(LIFECYCLE),
            numerator="n",
            denominator="previous",
            value=pl.col("n").cast(pl.Float64),
            partial=pl.lit(False),
        )
    ).sort("platform", pl.col("measure").replace_strict(order, return_dtype=pl.Int64), "period")


def real_person_removals(package: Package) -> pl.DataFrame:
    """Of the models removed at each snapshot, those that depicted a real person (their own series)."""
    lifecycle = package.table("lifecycle_by_snapshot")
    return tidy(
        lifecycle.select(
            period="snapshot_date",
            platform="platform",
            entity=pl.lit("model"),
            category=pl.lit("real-person"),
            measure=pl.lit("n_real_person_removed"),
            series=pl.lit("real-person models among the removed"),
            numerator="n_real_person_removed",
            denominator="n_removed",
            value=pl.col("n_real_person_removed").cast(pl.Float64),
            partial=pl.lit(False),
        )
    ).sort("platform", "period")


def visible(package: Package) -> pl.DataFrame:
    lifecycle = package.table("lifecycle_by_snapshot")
    return tidy(
        lifecycle.select(
            period="snapshot_date",
            platform="platform",
            entity=pl.lit("model"),
            measure=pl.lit("n_visible"),
            series=pl.lit("models listed"),
            numerator="n_visible",
            value=pl.col("n_visible").cast(pl.Float64),
            partial=pl.lit(False),
        )
    ).sort("platform", "period")


# -- subcultures, tags, base models ------------------------------------------------------------
def month_totals(package: Package) -> pl.DataFrame:
    """Items created per platform, entity and month: the denominator of every monthly share."""
    return package.table("nsfw_share_monthly").select("platform", "entity", "month", total="n_items")


def subcultures(package: Package) -> pl.DataFrame:
    trends = package.table("subculture_trends_monthly").join(
        month_totals(package), on=["platform", "entity", "month"], how="left"
    )
    trends = with_partial(trends, package)
    return tidy(
        wilson(
            trends.select(
                period="month",
                platform="platform",
                entity="entity",
                category="subculture",
                measure=pl.lit("share"),
                series="subculture",
                numerator="n_items",
                denominator=pl.col("total").fill_null((pl.col("n_items") / pl.col("share")).round(0).cast(pl.Int64)),
                value="share",
                partial="partial",
            )
        )
    ).sort("platform", "entity", "category", "period")


def rising_tags(
    package: Package, platform: str = "civitai", entity: str = "model", top: int = 15, recent: int = 3, before: int = 12
) -> pl.DataFrame:
    """Tags whose share of new items rose most: the last `recent` complete months against the `before`
    complete months preceding them, each window's share pooled (items with the tag / items created).
    Partial months never count. Two rows per tag (share_before, share_recent), ranked by the rise."""
    tags = package.table("tag_trends_monthly").filter((pl.col("platform") == platform) & (pl.col("entity") == entity))
    totals = month_totals(package).filter((pl.col("platform") == platform) & (pl.col("entity") == entity))
    months = totals.filter(pl.col("month") < package.first_partial_month(platform, entity))["month"].sort()
    if months.len() < recent + 1:
        return empty()
    windows = {
        "share_before": ("before", months.head(months.len() - recent).tail(before)),
        "share_recent": ("recent", months.tail(recent)),
    }
    parts = []
    for measure, (label, window) in windows.items():
        items = int(totals.filter(pl.col("month").is_in(window.implode()))["total"].sum())
        counts = tags.filter(pl.col("month").is_in(window.implode())).group_by("tag").agg(n=pl.col("n_items").sum())
        parts.append(
            counts.select(
                period=pl.lit(iso_span(window)),
                category="tag",
                measure=pl.lit(measure),
                series=pl.lit(f"{label}: {window.min():%b %Y} to {window.max():%b %Y}"),
                numerator="n",
                denominator=pl.lit(items, dtype=pl.Int64),
            )
        )
    counts = pl.concat(parts)
    every = counts.select("category").unique().join(pl.DataFrame({"measure": list(windows)}), how="cross")
    pairs = (
        every.join(counts.drop("period", "series"), on=["category", "measure"], how="left")
        .join(counts.select("measure", "period", "series").unique("measure"), on="measure")
        .with_columns(
            numerator=pl.col("numerator").fill_null(0),
            denominator=pl.col("denominator").fill_null(pl.col("denominator").max().over("measure")),
        )
        .with_columns(value=pl.col("numerator") / pl.col("denominator"))
    )
    rise = (
        pairs.group_by("category")
        .agg(
            change=pl.col("value").filter(pl.col("measure") == "share_recent").first()
            - pl.col("value").filter(pl.col("measure") == "share_before").first()
        )
        .filter(pl.col("change") > 0)
        .sort(["change", "category"], descending=[True, False])
        .head(top)
        .with_row_index("rank")
    )
    ranked = pairs.join(rise, on="category").sort("rank", "measure")
    return tidy(wilson(ranked).with_columns(platform=pl.lit(platform), entity=pl.lit(entity), partial=pl.lit(False)))


def base_models(package: Package) -> pl.DataFrame:
    mix = with_partial(package.table("base_model_mix_monthly").with_columns(entity=pl.lit("model")), package)
    mix = mix.with_columns(total=pl.col("n_models").sum().over("platform", "month"))
    return tidy(
        wilson(
            mix.select(
                period="month",
                platform="platform",
                entity="entity",
                category="base_model_family",
                measure=pl.lit("share"),
                series=pl.col("platform").replace(PLATFORM),
                numerator="n_models",
                denominator="total",
                value="share",
                partial="partial",
            )
        )
    ).sort("category", "platform", "period")


# -- re-uploads, coverage, studies --------------------------------------------------------------
def reuploads(package: Package) -> pl.DataFrame:
    """Hugging Face repos by the month hubwatch first saw them: copies of a real-person model, else
    other copies (a repo counts once, in the first kind it qualifies for)."""
    matches = package.table("cross_platform_matches")
    if matches.is_empty():
        return empty()
    repos = matches.group_by("hf_model_id").agg(
        month=pl.col("hf_first_seen").min().dt.truncate("1mo"),
        real_person=pl.col("civitai_real_person").fill_null(False).any(),
    )
    counts = repos.group_by("month", "real_person").agg(n=pl.len())
    totals = repos.group_by("month").agg(total=pl.len())
    label = (
        pl.when(pl.col("real_person")).then(pl.lit("copies of real-person models")).otherwise(pl.lit("other copies"))
    )
    rows = with_partial(
        counts.join(totals, on="month").with_columns(platform=pl.lit("huggingface"), entity=pl.lit("model")), package
    )
    return tidy(
        rows.select(
            period="month",
            platform="platform",
            entity="entity",
            category=label,
            measure=pl.lit("n_repos"),
            series=label,
            numerator="n",
            denominator="total",
            value=pl.col("n").cast(pl.Float64),
            partial="partial",
        )
    ).sort("category", "period")


def snapshot_items(package: Package) -> pl.DataFrame:
    coverage = package.table("snapshot_coverage")
    return tidy(
        coverage.select(
            period="snapshot_date",
            platform=pl.when(pl.col("source").str.starts_with("hf"))
            .then(pl.lit("huggingface"))
            .otherwise(pl.lit("civitai")),
            entity=pl.when(pl.col("source") == "civitai_images").then(pl.lit("image")).otherwise(pl.lit("model")),
            category="kind",
            measure=pl.lit("items"),
            series=pl.format("{} ({})", "source", "kind"),
            numerator="items",
            value=pl.col("items").cast(pl.Float64),
            partial=pl.lit(False),
        )
    ).sort("series", "period")


def undated(package: Package) -> pl.DataFrame:
    """Items the monthly tables leave out for lack of a creation date (monthly_coverage, when present)."""
    coverage = package.optional("monthly_coverage")
    if coverage is None or coverage.is_empty():
        return empty()
    return tidy(
        wilson(
            coverage.select(
                period=pl.lit(f"{package.snapshot_range[0]}/{package.snapshot_range[1]}"),
                platform="platform",
                entity="entity",
                measure=pl.lit("share_undated"),
                series=pl.format("{} {}s", pl.col("platform").replace(PLATFORM), "entity"),
                numerator="n_undated",
                denominator="n_items",
                value=pl.col("share_undated").cast(pl.Float64),
                partial=pl.lit(False),
            )
        )
    ).sort("platform", "entity")


def studies(package: Package) -> pl.DataFrame:
    """Civiverse-6M's published monthly ratio (its n: the month's images; numerator not published)
    beside hubwatch's share of Civitai images rated PG-13 and above, for the same months."""
    ours = nsfw_monthly(package).filter(
        (pl.col("platform") == "civitai") & (pl.col("entity") == "image") & (pl.col("measure") == "share_any")
    )
    months = [m.isoformat() for m in CIVIVERSE_MONTHLY["month"]]
    ours = ours.filter(pl.col("period").is_in(months)).with_columns(series=pl.lit("hubwatch: images PG-13 and above"))
    theirs = tidy(
        CIVIVERSE_MONTHLY.select(
            period="month",
            platform=pl.lit("civitai"),
            entity=pl.lit("image"),
            category=pl.lit("Civiverse-6M"),
            measure=pl.lit("nsfw_ratio"),
            series=pl.lit("Civiverse-6M (published ratio)"),
            denominator="total_images",
            value="nsfw_ratio",
            partial=pl.lit(False),
        )
    )
    return pl.concat([theirs, ours.with_columns(category=pl.lit("hubwatch"))]).sort("series", "period")

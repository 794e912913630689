"""The page on what Civitai images are made with (#21): coverage, real-person and NSFW models, base-model
families, and the models the most images were made with.

Self-contained like image_feed.py: the series for its charts, drawn from the `images_made_with_monthly`,
`images_by_base_model_family_monthly` and `top_models_by_images_monthly` tables, their definitions, and
the page's text. A package published before those tables existed gets a page that says so.
"""

from __future__ import annotations

import polars as pl

from dashboards import series as s
from dashboards.queries import Package

PAGE = "images-made-with.html"
MONTHLY = "images_made_with_monthly"
FAMILIES = "images_by_base_model_family_monthly"
TOP = "top_models_by_images_monthly"

COVERAGE_DEFINITION = (
    "Share of the Civitai images created each month whose item names any resource it was made with "
    "(modelVersionIds, meta.civitaiResources, meta.resources, meta.hashes or meta's Model hash), and share "
    "that name at least one model hubwatch's models snapshots know (a listed version, or the SHA-256/AutoV2 "
    "of exactly one listed version's weight file). Every count on this page is over the images that do."
)
KINDS_DEFINITION = (
    "Of the images created each month with at least one resolved resource: the share made with a model that "
    "depicts a real person (any tier; a model flagged by `models.real_person`) and the share made with an "
    "NSFW model (R and above, or the nsfw toggle). An image made with several models counts once per kind."
)
FAMILY_DEFINITION = (
    "Of the images created each month with at least one resolved resource, the share made with a model of "
    "each base-model family (the version's base model through the rule set's seed). An image made with "
    "models of two families counts in both."
)
COVERAGE = {"share_with_resources": "names any resource", "share_resolved": "names a model hubwatch knows"}
KINDS = {"share_real_person": "made with a real-person model", "share_nsfw_model": "made with an NSFW model"}
KIND_COUNTS = {"share_real_person": "n_real_person", "share_nsfw_model": "n_nsfw_model"}


def available(package: Package) -> bool:
    return all(package.optional(t) is not None for t in (MONTHLY, FAMILIES, TOP))


def _monthly(package: Package) -> pl.DataFrame:
    return s.with_partial(package.table(MONTHLY).with_columns(entity=pl.lit("image")), package)


def coverage_series(package: Package) -> pl.DataFrame:
    rows = _monthly(package)
    numerators = {"share_with_resources": "n_with_resources", "share_resolved": "n_resolved"}
    parts = [
        rows.select(
            period="month",
            platform="platform",
            entity="entity",
            measure=pl.lit(column),
            series=pl.lit(name),
            numerator=numerators[column],
            denominator="n_images",
            value=column,
            partial="partial",
        )
        for column, name in COVERAGE.items()
    ]
    return s.tidy(s.wilson(pl.concat(parts))).sort("series", "period")


def kinds_series(package: Package) -> pl.DataFrame:
    rows = _monthly(package).filter(pl.col("n_resolved") > 0)
    parts = [
        rows.select(
            period="month",
            platform="platform",
            entity="entity",
            measure=pl.lit(column),
            series=pl.lit(name),
            numerator=KIND_COUNTS[column],
            denominator="n_resolved",
            value=column,
            partial="partial",
        )
        for column, name in KINDS.items()
    ]
    return s.tidy(s.wilson(pl.concat(parts))).sort("series", "period")


def family_series(package: Package) -> pl.DataFrame:
    rows = s.with_partial(package.table(FAMILIES).with_columns(entity=pl.lit("image")), package)
    totals = package.table(MONTHLY).select("platform", "month", "n_resolved")
    rows = rows.join(totals, on=["platform", "month"], how="left")
    return s.tidy(
        s.wilson(
            rows.select(
                period="month",
                platform="platform",
                entity="entity",
                category="base_model_family",
                measure=pl.lit("share"),
                series=pl.lit("Civitai images"),
                numerator="n_images",
                denominator="n_resolved",
                value="share",
                partial="partial",
            )
        )
    ).sort("category", "period")


def top_models(package: Package) -> tuple[str, pl.DataFrame]:
    """The last complete month's top models (a caption and the table rows; names from `models`,
    which the package has already redacted for real-person models)."""
    top = package.table(TOP)
    end = package.first_partial_month("civitai", "image")
    complete = top.filter(pl.col("month") < end) if end is not None else top
    if complete.is_empty():
        return "", complete
    month = complete["month"].max()
    rows = complete.filter(pl.col("month") == month).sort("model_rank")
    models = package.optional("models")
    if models is not None and "name" in models.columns:
        names = models.filter(pl.col("platform") == "civitai").select("model_id", "name")
        rows = rows.join(names, on="model_id", how="left")
    else:
        rows = rows.with_columns(name=pl.lit(None, dtype=pl.String))
    shown = rows.select(
        "model_rank", "model_id", "name", "n_images", "n_nsfw_images", "base_model_family", "real_person"
    )
    return f"{month:%B %Y}", shown


# -- prompt vocabulary (#21 item 2) ---------------------------------------------------------------
PROMPT_FAMILIES = "prompt_families_monthly"
MINOR = "minor_terms_nsfw_monthly"
FAMILIES_DEFINITION = (
    "Share of the Civitai images created each month whose prompt holds a term of each family (booru "
    "vocabulary, quality tags, Civitai's own NSFW words and minor-coded words; rules_prompt_terms), over the "
    "images with a prompt, and the same share among the NSFW ones (R and above). Prompts themselves are "
    "never published: the package carries only these counts."
)
MINOR_DEFINITION = (
    "Of the images created each month whose prompt is minor-coded (a Civitai minor noun, or a minor "
    "adjective with a partial noun such as 'young' with 'girl'), the share rated NSFW (R and above)."
)


def prompts_available(package: Package) -> bool:
    return all(package.optional(t) is not None for t in (PROMPT_FAMILIES, MINOR))


def prompt_family_series(package: Package) -> pl.DataFrame:
    rows = s.with_partial(package.table(PROMPT_FAMILIES).with_columns(entity=pl.lit("image")), package)
    parts = [
        rows.select(
            period="month",
            platform="platform",
            entity="entity",
            category="family",
            measure=pl.lit(column),
            series=pl.lit(name),
            numerator=numerator,
            denominator=denominator,
            value=pl.col(column).fill_null(0.0) if column == "share_of_nsfw" else column,
            partial="partial",
        ).filter(pl.col("denominator") > 0)
        for column, name, numerator, denominator in (
            ("share", "images with a prompt", "n_images", "n_with_prompt"),
            ("share_of_nsfw", "NSFW images with a prompt", "n_nsfw_images", "n_nsfw_with_prompt"),
        )
    ]
    return s.tidy(s.wilson(pl.concat(parts))).sort("category", "series", "period")


def minor_series(package: Package) -> pl.DataFrame:
    rows = s.with_partial(package.table(MINOR).with_columns(entity=pl.lit("image")), package)
    rows = rows.filter(pl.col("n_minor_coded") > 0)
    return s.tidy(
        s.wilson(
            rows.select(
                period="month",
                platform="platform",
                entity="entity",
                measure=pl.lit("share_nsfw_of_minor_coded"),
                series=pl.lit("minor-coded prompts rated NSFW"),
                numerator="n_minor_coded_nsfw",
                denominator="n_minor_coded",
                value="share_nsfw_of_minor_coded",
                partial="partial",
            )
        )
    ).sort("period")

"""The catalogue of charts: which series each page plots, how, and what is written under each.

Every chart is a tidy series (dashboards.series) drawn by a figure builder (dashboards.figures);
series that are zero throughout are left out of both the figure and its CSV, and named under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import plotly.graph_objects as go
import polars as pl

from dashboards import figures as f
from dashboards import image_feed, images_made_with, measures_series
from dashboards import series as s
from dashboards.queries import SOURCE_OF, Package


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    definition: str
    data: pl.DataFrame
    figure: go.Figure
    sources: tuple[str, ...]
    unit: str  # "share" or "count"
    notes: tuple[str, ...] = field(default=())
    stacked: bool = False


def undated_note(package: Package) -> str:
    """Under every monthly chart: the items it leaves out for lack of a creation date."""
    coverage = package.optional("monthly_coverage")
    if coverage is None:
        return (
            "Items without a creation date cannot be placed in a month and are left out; this package does not "
            "count them (it has no monthly_coverage table)."
        )
    left_out = coverage.filter(pl.col("n_undated") > 0)
    if left_out.is_empty():
        return "Every item has a creation date: none is left out of the monthly charts."
    parts = [
        f"{s.PLATFORM.get(r['platform'], r['platform'])} {r['entity']}s {r['n_undated']:,} of {r['n_items']:,}"
        for r in left_out.iter_rows(named=True)
    ]
    return "Left out for lack of a creation date: " + "; ".join(parts) + " (see the coverage page)."


def partial_note(package: Package, pairs: list[tuple[str, str]]) -> str:
    parts = []
    for platform, entity in pairs:
        parts.append(
            f"{s.PLATFORM[platform]} {entity}s from {package.first_partial_month(platform, entity):%B %Y} "
            f"(last snapshot {package.horizon(platform, entity)})"
        )
    return "Partial periods, drawn hollow and left out of headlines and rankings: " + "; ".join(parts) + "."


def min_n_note() -> str:
    return (
        f"Shares from fewer than {s.MIN_N} items are drawn faint; the band around each line is its 95% Wilson "
        "interval. Every hover gives the count and the number it is a share of."
    )


def charts_by_page(p: Package) -> dict[str, list[Chart]]:
    ctx = f.Context(
        p.publish_date, p.footnote, p.simulated, p.optional("policy_events"), date.fromisoformat(p.snapshot_range[0])
    )
    monthly_pairs = [pair for pair in SOURCE_OF if pair != ("huggingface", "image")]
    undated, partial = undated_note(p), partial_note(p, monthly_pairs)
    charts: dict[str, list[Chart]] = {}

    def add(
        page_name: str,
        slug: str,
        title: str,
        definition: str,
        data: pl.DataFrame,
        sources: tuple[str, ...],
        draw: Callable[[pl.DataFrame], go.Figure],
        unit: str,
        notes: tuple[str, ...] = (),
        stacked: bool = False,
        keep_zero: bool = False,
    ) -> None:
        dropped: list[str] = []
        if not keep_zero:
            data, dropped = f.drop_all_zero(data, ["platform", "entity", "category", "series"])
        if dropped:
            notes = (*notes, "Not drawn, zero throughout: " + "; ".join(dropped) + ".")
        charts.setdefault(page_name, []).append(
            Chart(slug, title, definition, data, draw(data), sources, unit, notes, stacked)
        )

    add(
        "nsfw.html",
        "nsfw-share-monthly",
        "NSFW share by creation month",
        "Share of the models and images created each month that are NSFW, at two thresholds: PG-13 and above "
        "(the API's own `nsfw` boolean, as in Civiverse) and R and above (Civitai's own NSFW group). Every item "
        "ever seen in a complete snapshot counts once, with its latest attributes.",
        s.nsfw_monthly(p),
        ("nsfw_share_monthly",),
        lambda d: f.time_chart(d, ctx, title="NSFW share by creation month", source="table nsfw_share_monthly"),
        "share",
        (min_n_note(), partial, undated),
    )
    add(
        "nsfw.html",
        "nsfw-share-by-snapshot",
        "NSFW share of what each snapshot listed",
        "The same two thresholds over what each complete snapshot listed (an image snapshot covers its window).",
        s.nsfw_by_snapshot(p),
        ("nsfw_share_by_snapshot",),
        lambda d: f.time_chart(
            d, ctx, title="NSFW share by snapshot", source="table nsfw_share_by_snapshot", monthly=False
        ),
        "share",
        (min_n_note(),),
    )
    add(
        "real-person.html",
        "real-person-share",
        "Share of new models that depict a real person",
        "Models created each month that depict a real person by any tier (their union), as a share of the "
        "models created that month. Since 2025-05-22 the public API hides such models (shaded).",
        s.real_person_share(p),
        ("real_person_monthly",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Models depicting a real person, share of new models",
            source="table real_person_monthly",
            panel_by=("platform",),
        ),
        "share",
        (min_n_note(), partial, undated),
    )
    add(
        "real-person.html",
        "real-person-tiers",
        "Each tier beside their union",
        "How many models each tier flags, beside the union (any tier), over every month of the package. A model "
        "flagged by several tiers counts once in the union and once in each of its tiers; how they overlap is "
        "the next chart.",
        s.real_person_tiers(p),
        ("real_person_monthly",),
        lambda d: f.category_chart(
            d, ctx, title="Real-person models by tier and their union", source="table real_person_monthly"
        ),
        "count",
        (),
    )
    add(
        "real-person.html",
        "real-person-overlap",
        "How the tiers overlap",
        "Real-person models by the exact set of tiers that flag them (an UpSet-style count): each model is in "
        "one bar only, so a platform's bars add up to its union.",
        s.tier_overlap(p),
        ("models",),
        lambda d: f.category_chart(
            d, ctx, title="Real-person models by the set of tiers that flag them", source="table models"
        ),
        "count",
    )
    add(
        "real-person.html",
        "real-person-gender",
        "Gender of the depicted targets",
        "From tags and trained words only (woman/1girl vs man/1boy); 'not stated' when absent or contradictory. "
        "Never guessed. The three parts add up to the real-person models of each platform.",
        s.gender(p),
        ("real_person_monthly",),
        lambda d: f.category_chart(
            d,
            ctx,
            title="Targets of real-person models",
            source="table real_person_monthly",
            stacked=True,
            panel_by=("entity",),
        ),
        "count",
        stacked=True,
    )
    add(
        "real-person.html",
        "real-person-nsfw",
        "Real-person models that are also NSFW",
        "Share of the real-person models created each month whose nsfwLevel includes R, X or XXX (or that the "
        "creator marked NSFW). Months without a real-person model have no share and are not drawn.",
        s.real_person_nsfw(p),
        ("real_person_monthly",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Real-person models that are NSFW (R and above)",
            source="table real_person_monthly",
            panel_by=("platform",),
        ),
        "share",
        (min_n_note(), partial),
    )
    add(
        "lifecycle.html",
        "models-listed",
        "Models listed by each snapshot",
        "How many models each complete snapshot listed.",
        s.visible(p),
        ("lifecycle_by_snapshot",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Models listed per snapshot",
            source="table lifecycle_by_snapshot",
            panel_by=("platform",),
            share=False,
            bars=True,
            monthly=False,
        ),
        "count",
    )
    add(
        "lifecycle.html",
        "takedowns",
        "Removals, takedowns and archives",
        "Removed: listed by the previous snapshot, absent now; after 2025-05-22 (shaded) that includes the "
        "real-person models Civitai's API stopped listing, deleted or not. Taken down / archived: Civitai's "
        "moderation modes, counted where they first show. The three are disjoint, so they stack to the models "
        "that went away; hovers give the previous snapshot's count as the population.",
        s.lifecycle_events(p),
        ("lifecycle_by_snapshot",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Models that went away, by kind",
            source="table lifecycle_by_snapshot",
            panel_by=("platform",),
            share=False,
            bars=True,
            stacked=True,
            monthly=False,
        ),
        "count",
        stacked=True,
    )
    add(
        "lifecycle.html",
        "real-person-removals",
        "Real-person models among the removed",
        "Of the models removed at each snapshot, those that depicted a real person: a part of the removals "
        "above, so drawn on its own, never stacked on them.",
        s.real_person_removals(p),
        ("lifecycle_by_snapshot",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Real-person models among the removed",
            source="table lifecycle_by_snapshot",
            panel_by=("platform",),
            share=False,
            bars=True,
            monthly=False,
        ),
        "count",
    )
    add(
        "subcultures.html",
        "subculture-heatmap",
        "Subculture families over time",
        "Share of the items created each month that belong to each family, from tags and (models) from "
        "booru-vocabulary base models. An item can belong to several families.",
        s.subcultures(p),
        ("subculture_trends_monthly", "nsfw_share_monthly"),
        lambda d: f.heatmap_chart(
            d,
            ctx,
            title="Subculture families by creation month",
            source="tables subculture_trends_monthly and nsfw_share_monthly",
        ),
        "share",
        (partial, undated),
    )
    rising = s.rising_tags(p)
    window = rising["series"].unique(maintain_order=True).to_list() if rising.height else []
    add(
        "subcultures.html",
        "rising-tags",
        "Top rising tags (Civitai models)",
        "Tags whose share of new models rose most: the last three complete months against the twelve complete "
        "months before them (each window's share pooled over its months). Partial months never count. "
        + ("Windows: " + "; ".join(window) + "." if window else "Too few complete months to compare."),
        rising,
        ("tag_trends_monthly", "nsfw_share_monthly"),
        lambda d: f.dumbbell(
            d,
            ctx,
            title="Top rising tags: share of new Civitai models",
            source="tables tag_trends_monthly and nsfw_share_monthly",
        ),
        "share",
        keep_zero=True,  # a tag absent before is the rise itself
    )
    add(
        "base-models.html",
        "base-model-mix",
        "Base-model mix of new models",
        "Share of the models created each month that use each base-model family, one panel per family, both "
        "platforms in each (the families are those of the rule set's seeds).",
        s.base_models(p),
        ("base_model_mix_monthly",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Base-model families by creation month",
            source="table base_model_mix_monthly",
            panel_by=("category",),
        ),
        "share",
        (min_n_note(), partial, undated),
    )
    add(
        "reuploads.html",
        "reuploads",
        "Civitai files re-uploaded to Hugging Face",
        "Hugging Face repos holding a file byte-identical (same SHA-256) to a Civitai model's file, by the month "
        "hubwatch first saw the repo. A repo counts once: as a copy of a real-person model if any of its matches "
        "is one, else as another copy; so the bars stack to the repos first seen that month.",
        s.reuploads(p),
        ("cross_platform_matches",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Re-uploads by month first seen",
            source="table cross_platform_matches",
            panel_by=("platform",),
            share=False,
            bars=True,
            stacked=True,
        ),
        "count",
        (partial_note(p, [("huggingface", "model")]),),
        stacked=True,
    )
    add(
        "coverage.html",
        "coverage",
        "What each snapshot saw",
        "Items in each complete snapshot, by source and kind (live, simulated, imported).",
        s.snapshot_items(p),
        ("snapshot_coverage",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Items per snapshot",
            source="table snapshot_coverage",
            panel_by=("platform", "entity"),
            share=False,
            bars=True,
            monthly=False,
        ),
        "count",
    )
    if image_feed.available(p):
        for slug, title, definition, data, y_title in (
            (
                "image-feed-delay",
                "How late images reach the feed",
                image_feed.DELAY_DEFINITION,
                image_feed.delay_series(p),
                "Days from creation to first sighting",
            ),
            (
                "image-feed-late",
                "Images that reached the feed late",
                image_feed.LATE_DEFINITION,
                image_feed.late_series(p),
                "New images per image snapshot",
            ),
        ):
            add(
                "coverage.html",
                slug,
                title,
                definition,
                data,
                (image_feed.TABLE,),
                lambda d, y_title=y_title: f.time_chart(
                    d, ctx, title=y_title, source=f"table {image_feed.TABLE}", share=False, monthly=False
                ),
                "count",
            )
    undated_series = s.undated(p)
    if (undated_series["numerator"] > 0).any():  # else the note under the monthly charts says none is left out
        add(
            "coverage.html",
            "undated-items",
            "Items left out of the monthly charts",
            "Items with no creation date cannot be placed in a month: their share of all items counted, per "
            "platform and entity (table monthly_coverage).",
            undated_series,
            ("monthly_coverage",),
            lambda d: f.category_chart(
                d.with_columns(category=pl.col("series")),
                ctx,
                title="Share of items without a creation date",
                source="table monthly_coverage",
                panel_by=("measure",),
                share=True,
                x_title="share of items",
            ),
            "share",
        )
    if p.has("real_person_downloads_by_snapshot"):  # rule set v3 (#21); older packages lack it
        add(
            "real-person.html",
            "real-person-downloads",
            "Downloads of real-person models, running total",
            measures_series.DOWNLOADS_DEFINITION,
            measures_series.downloads_series(p),
            ("real_person_downloads_by_snapshot",),
            lambda d: f.time_chart(
                d,
                ctx,
                title="Downloads of real-person models (running total)",
                source="table real_person_downloads_by_snapshot",
                share=False,
                monthly=False,
            ),
            "count",
        )
    if p.has("sd15_lineage_monthly"):
        add(
            "base-models.html",
            "sd15-lineage-share",
            "The SD 1.5 lineage, share of new models",
            measures_series.SD15_DEFINITION,
            measures_series.sd15_series(p),
            ("sd15_lineage_monthly",),
            lambda d: f.time_chart(
                d, ctx, title="SD 1.5 lineage, share of new models", source="table sd15_lineage_monthly"
            ),
            "share",
            (min_n_note(), partial, undated),
        )
    if images_made_with.available(p):
        made = images_made_with
        for slug, title, definition, data, y_title in (
            (
                "image-resources-coverage",
                "Images that say what they were made with",
                made.COVERAGE_DEFINITION,
                made.coverage_series(p),
                "Share of images created each month",
            ),
            (
                "images-made-with-kinds",
                "Images made with real-person and NSFW models",
                made.KINDS_DEFINITION,
                made.kinds_series(p),
                "Share of images with a resolved resource",
            ),
        ):
            add(
                made.PAGE,
                slug,
                title,
                definition,
                data,
                (made.MONTHLY,),
                lambda d, y_title=y_title: f.time_chart(
                    d, ctx, title=y_title, source=f"table {made.MONTHLY}", panel_by=("platform",)
                ),
                "share",
                (min_n_note(), partial, undated),
            )
        add(
            made.PAGE,
            "images-by-base-model-family",
            "Base-model families images are made with",
            made.FAMILY_DEFINITION,
            made.family_series(p),
            (made.FAMILIES,),
            lambda d: f.time_chart(
                d, ctx, title="Images by base-model family", source=f"table {made.FAMILIES}", panel_by=("category",)
            ),
            "share",
            (min_n_note(), partial, undated),
        )
    if images_made_with.prompts_available(p):
        made = images_made_with
        add(
            made.PAGE,
            "prompt-families",
            "Prompt vocabulary",
            made.FAMILIES_DEFINITION,
            made.prompt_family_series(p),
            (made.PROMPT_FAMILIES,),
            lambda d: f.time_chart(
                d,
                ctx,
                title="Images whose prompt holds each family",
                source=f"table {made.PROMPT_FAMILIES}",
                panel_by=("category",),
            ),
            "share",
            (min_n_note(), partial, undated),
        )
        add(
            made.PAGE,
            "minor-coded-nsfw",
            "Minor-coded prompts and NSFW ratings",
            made.MINOR_DEFINITION,
            made.minor_series(p),
            (made.MINOR,),
            lambda d: f.time_chart(
                d, ctx, title="Minor-coded prompts rated NSFW", source=f"table {made.MINOR}", panel_by=("platform",)
            ),
            "share",
            (min_n_note(), partial, undated),
        )
    add(
        "studies.html",
        "civiverse",
        "Civiverse-6M beside hubwatch",
        "The Civiverse-6M dataset card's monthly NSFW ratio of Civitai images (Oct 2023 - Apr 2024; its n is "
        "the month's image count, its numerator is not published) and hubwatch's share of images rated PG-13 "
        "and above created in the same months.",
        s.studies(p),
        ("nsfw_share_monthly",),
        lambda d: f.time_chart(
            d,
            ctx,
            title="Monthly NSFW ratio of Civitai images",
            source="table nsfw_share_monthly and the Civiverse-6M dataset card",
            panel_by=("entity",),
        ),
        "share",
        (min_n_note(),),
    )
    return charts

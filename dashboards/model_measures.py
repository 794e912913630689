"""Sections for the creators, engagement, SD 1.5 lineage and studies measures (issue #21).

Self-contained, like image_feed.py: each section reads its table from the package and says so when
the package has none (packages published before rule set v3). Tables only, every value through
`table_html` (escaped); creators appear only as counts, never by hash or name.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboards.pages import esc, safe_url, short_url, table_html
from dashboards.queries import Package

SD15_REMOVED = date(2024, 8, 29)
PLATFORM = {"civitai": "Civitai", "huggingface": "Hugging Face"}


def _missing(table: str, what: str) -> str:
    return f"<p class='note'>This package does not measure {esc(what)} (no {esc(table)} table).</p>"


def _section(slug: str, title: str, text: str, body: str) -> str:
    return f'<section id="{esc(slug)}"><h2>{esc(title)}</h2><p>{esc(text)}</p>{body}</section>'


def _platforms(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("platform").replace_strict(PLATFORM, default=pl.col("platform")))


def downloads_section(p: Package) -> str:
    frame = p.optional("real_person_downloads_by_snapshot")
    text = (
        "Downloads of the models that depict a real person, per platform and snapshot: a running total that adds "
        "each model's counter at its first sighting, then only its increases. A counter that falls adds nothing "
        "(the falls are counted beside it), so the total is a lower bound; a model removed later keeps what it had. "
        "Hawkins et al. reported about 15 million such downloads once; this keeps the figure up to date."
    )
    if frame is None:
        return _section(
            "real-person-downloads",
            "Downloads of real-person models",
            text,
            _missing("real_person_downloads_by_snapshot", "downloads of real-person models"),
        )
    shown = _platforms(frame.sort("platform", "snapshot_date")).select(
        pl.col("platform").alias("Platform"),
        pl.col("snapshot_date").cast(pl.String).alias("Snapshot"),
        pl.col("n_listed").alias("Real-person models listed"),
        pl.col("downloads_accrued").alias("Downloads, running total"),
        pl.col("downloads_added").alias("Added since the previous snapshot"),
        pl.col("n_counter_falls").alias("Counters that fell"),
        pl.col("downloads_fallen").alias("Downloads they lost"),
    )
    return _section("real-person-downloads", "Downloads of real-person models", text, table_html(shown))


def creators_section(p: Package) -> str:
    concentration = p.optional("creator_concentration_monthly")
    creators = p.optional("creators")
    text = (
        "Who makes real-person models, by creation month: the share of that month's real-person models made by "
        "the top 1% and top 10% of the creators who published that month, and the Gini coefficient of real-person "
        "models over them. Creators are counted by a salted hash of their name; no name or hash is shown here."
    )
    if concentration is None:
        return _section("creators", "Creators", text, _missing("creator_concentration_monthly", "creators"))
    shown = _platforms(concentration.filter(pl.col("n_real_person") > 0).sort("platform", "month")).select(
        pl.col("platform").alias("Platform"),
        pl.col("month").cast(pl.String).str.slice(0, 7).alias("Month"),
        pl.col("n_creators").alias("Creators"),
        pl.col("n_real_person").alias("Real-person models"),
        pl.col("n_real_person_creators").alias("Creators of them"),
        pl.col("share_top_1pct").alias("Share by the top 1%"),
        pl.col("share_top_10pct").alias("Share by the top 10%"),
        pl.col("gini_real_person").alias("Gini"),
    )
    body = table_html(shown)
    if creators is not None:
        after = _platforms(
            creators.filter(pl.col("n_real_person_before_ban") > 0)
            .group_by("platform")
            .agg(
                pl.len().alias("before"),
                pl.col("continued_after_ban").sum().alias("continued"),
                (pl.col("n_real_person_after_ban") > 0).sum().alias("same_platform"),
                (pl.col("n_reuploads_after_ban").fill_null(0) > 0).sum().alias("reuploads"),
            )
            .sort("platform")
        ).select(
            pl.col("platform").alias("Platform"),
            pl.col("before").alias("Creators of real-person models before 2025-05-22"),
            pl.col("continued").alias("Still publishing them after"),
            pl.col("same_platform").alias("On the same platform"),
            pl.col("reuploads").alias("Through Hugging Face re-uploads of their files"),
        )
        body += (
            "<h3>After the ban</h3><p class='note'>Creators who published real-person models before Civitai's "
            "2025-05-22 ban and published more on or after it, on the same platform or as Hugging Face repos "
            "holding their flagged weight files (a file's hash proves the file, not who uploaded it). Since the "
            "ban Civitai's API hides declared real-person models, so only the other tiers can show them.</p>"
            + table_html(after)
        )
    return _section("creators", "Creators", text, body)


def engagement_section(p: Package) -> str:
    frame = p.optional("engagement_monthly")
    text = (
        "Engagement of real-person vs other and NSFW (R and above) vs SFW models, pooled over every creation "
        "month: the mean of each counter over the models that have it. A counter a hub or API generation does not "
        "count is left out, never read as 0: Civitai counted favourites until 2024-02 and thumbs up since; Hugging "
        "Face counts likes. Monthly values, with medians, are in the engagement_monthly table."
    )
    if frame is None:
        return _section("engagement", "Engagement", text, _missing("engagement_monthly", "engagement"))
    counters = ("downloads", "thumbs_up", "favourites", "comments", "likes")
    pooled = frame.group_by("platform", "split", "flagged").agg(
        pl.col("n_models").sum(),
        *[(pl.col(f"total_{c}").sum() / pl.col(f"n_{c}").sum()).alias(c) for c in counters],
        *[pl.col(f"n_{c}").sum().alias(f"n_{c}") for c in counters],
    )
    pooled = pooled.with_columns(
        [pl.when(pl.col(f"n_{c}") > 0).then(pl.col(c)).otherwise(None).alias(c) for c in counters]
    )
    shown = _platforms(pooled.sort("platform", "split", "flagged")).select(
        pl.col("platform").alias("Platform"),
        pl.when(pl.col("split") == "real_person")
        .then(pl.when(pl.col("flagged")).then(pl.lit("real person")).otherwise(pl.lit("other")))
        .otherwise(pl.when(pl.col("flagged")).then(pl.lit("NSFW")).otherwise(pl.lit("SFW")))
        .alias("Models"),
        pl.col("n_models").alias("n"),
        pl.col("downloads").alias("Mean downloads"),
        pl.col("thumbs_up").alias("Mean thumbs up"),
        pl.col("favourites").alias("Mean favourites"),
        pl.col("comments").alias("Mean comments"),
        pl.col("likes").alias("Mean likes"),
    )
    return _section("engagement", "Engagement", text, table_html(shown))


def sd15_section(p: Package) -> str:
    by_snapshot = p.optional("sd15_lineage_by_snapshot")
    monthly = p.optional("sd15_lineage_monthly")
    text = (
        "Models built on SD 1.5, a mirror of it or a named derivative (and, on Hugging Face, those repos "
        f"themselves). runwayml/stable-diffusion-v1-5 left Hugging Face on {SD15_REMOVED.isoformat()}; its "
        "mirrors and derivatives stayed. Per snapshot: how many the snapshot listed, how many it saw first, and how "
        "many the previous snapshot listed and this one no longer does."
    )
    if by_snapshot is None or monthly is None:
        return _section(
            "sd15-lineage", "The SD 1.5 lineage", text, _missing("sd15_lineage_by_snapshot", "the SD 1.5 lineage")
        )
    snapshots = _platforms(by_snapshot.sort("platform", "snapshot_date")).select(
        pl.col("platform").alias("Platform"),
        pl.col("snapshot_date").cast(pl.String).alias("Snapshot"),
        pl.when(pl.col("snapshot_date") > SD15_REMOVED)
        .then(pl.lit("after"))
        .otherwise(pl.lit("before"))
        .alias(f"{SD15_REMOVED.isoformat()}"),
        pl.col("n_listed").alias("Lineage models listed"),
        pl.col("n_named_listed").alias("Of them SD 1.5, mirrors, named derivatives"),
        pl.col("n_new").alias("Seen first"),
        pl.col("n_gone").alias("No longer listed"),
        pl.col("downloads_listed").alias("Their downloads"),
    )
    months = _platforms(monthly.filter(pl.col("n_models") > 0).sort("platform", "month")).select(
        pl.col("platform").alias("Platform"),
        pl.col("month").cast(pl.String).str.slice(0, 7).alias("Created"),
        pl.col("n_models").alias("Lineage models"),
        pl.col("share_of_new_models").alias("Share of new models"),
        pl.col("n_on_sd15").alias("On SD 1.5"),
        pl.col("n_on_mirror").alias("On a mirror"),
        pl.col("n_on_derivative").alias("On a named derivative"),
        pl.col("n_still_listed").alias("Still listed"),
    )
    return _section(
        "sd15-lineage",
        "The SD 1.5 lineage",
        text,
        table_html(snapshots) + "<h3>By creation month</h3>" + table_html(months),
    )


def studies_section(p: Package) -> str:
    frame = p.optional("study_comparisons")
    text = (
        "Each published figure of the studies hubwatch continues, beside hubwatch's measure of the same thing in "
        "this package, and why the two differ. The published figures are copied from the papers, dataset cards and "
        "press releases (seed study_figures, with its source and how sure the figure is)."
    )
    if frame is None:
        return _section(
            "study-figures",
            "Published figures beside hubwatch",
            text,
            _missing("study_comparisons", "the studies' figures"),
        )
    rows = []
    for r in frame.sort("study", "figure_id").iter_rows(named=True):
        url = safe_url(r["source_url"])
        source = f'<a href="{esc(url)}">{esc(short_url(url))}</a>' if url else esc(r["source_url"] or "")
        share = r["unit"] == "share"
        published = f"{r['published_value']:.2%}" if share else f"{r['published_value']:,.0f}"
        if r["hubwatch_value"] is None:
            ours = "—"
        elif share:
            ours = f"{r['hubwatch_value']:.2%} ({r['hubwatch_numerator']:,} of {r['hubwatch_denominator']:,})"
        else:
            ours = f"{r['hubwatch_value']:,.0f}"
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{cell}</td>"
                for cell in (
                    esc(r["study"]),
                    esc(r["figure"]),
                    esc(published),
                    esc(r["confidence"]),
                    esc(r["hubwatch_measure"]),
                    esc(ours),
                    esc(r["why_they_differ"]),
                    source,
                )
            )
            + "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Study", "Figure", "Published", "Status", "hubwatch measure", "hubwatch", "Why they differ", "Source")
    )
    return _section(
        "study-figures", "Published figures beside hubwatch", text, f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    )


def sections(p: Package) -> dict[str, str]:
    """HTML to append to each page."""
    return {
        "real-person.html": downloads_section(p) + creators_section(p) + engagement_section(p),
        "base-models.html": sd15_section(p),
        "studies.html": studies_section(p),
    }

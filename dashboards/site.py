"""The static trend site: publish/YYYY-MM-DD/dashboards/, readable offline and without dbt.

One plotly.min.js for the whole site. Every chart has its definition, small multiples rather than
crowded lines, n in every hover, the policy timeline where time is on the axis, a date-range
control, the source / date / rule set / SIMULATED mark inside the figure, a table of exactly what it
plots beneath it, and that same table as CSV (named columns) with a one-line JSON sidecar. Every
page carries a banner saying exactly which snapshots are simulated. All hub text is HTML-escaped.
The site is written to a staging folder and renamed into place.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import orjson
import plotly.graph_objects as go
import plotly.offline
import polars as pl

from dashboards import figures as f
from dashboards import series as s
from dashboards.queries import SOURCE_OF, Package, month_start, open_package

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;line-height:1.45}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 1rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}nav a.here{font-weight:bold;text-decoration:none;color:#222}
.simulated{background:#b00020;color:#fff;text-align:center;font-weight:bold;padding:.5rem;letter-spacing:.02em}
.chart{margin:2rem 0;border-top:1px solid #ddd;padding-top:1rem}
.note{color:#555;font-size:.9rem}.rule{color:#333;font-size:.9rem;margin:.2rem 0}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.headline{display:inline-block;vertical-align:top;margin:.5rem 1rem .5rem 0;padding:.75rem;border:1px solid #ddd;
width:15rem}
.headline b{font-size:1.6rem;display:block}.headline small{color:#555;display:block;margin-top:.3rem}
details{margin:.5rem 0}summary{cursor:pointer;color:#0645ad}
.cite{border:1px solid #ccc;background:#fafafa;padding:.75rem 1rem}.cite code{word-break:break-all}
.caveat{color:#8a4b00}main table{max-width:100%}td{overflow-wrap:anywhere}
"""
PAGES = (
    ("index.html", "Overview"),
    ("nsfw.html", "NSFW share"),
    ("real-person.html", "Real-person models"),
    ("subcultures.html", "Subcultures and tags"),
    ("base-models.html", "Base models"),
    ("lifecycle.html", "Lifecycle and takedowns"),
    ("reuploads.html", "Cross-platform re-uploads"),
    ("coverage.html", "Coverage"),
    ("policy.html", "Policy timeline"),
    ("methodology.html", "Methodology"),
    ("studies.html", "Studies"),
)
CSV_HEADERS = {
    "period": "Period",
    "platform": "Platform",
    "entity": "Items",
    "category": "Group",
    "measure": "Measure (column)",
    "series": "Series",
    "numerator": "Count",
    "denominator": "Out of",
    "value": "Value",
    "ci_low": "95% interval from",
    "ci_high": "to",
    "partial": "Partial period",
}


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


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_url(url: object) -> str | None:
    """Only http(s) links from data become links."""
    text = str(url or "")
    return text if urlparse(text).scheme in ("http", "https") else None


def short_url(url: str, keep: int = 38) -> str:
    """host/path, cut to `keep` characters: the full address is the link itself."""
    parsed = urlparse(url)
    text = (parsed.netloc.removeprefix("www.") + parsed.path).rstrip("/")
    return text if len(text) <= keep else text[: keep - 1] + "…"


def banner(package: Package) -> str:
    statement = package.simulated_statement()
    if statement is None:
        return ""
    return f'<div class="simulated" id="simulated-banner">SIMULATED DATA: {esc(statement)}</div>'


def page(package: Package, filename: str, title: str, body: str, head: str = "") -> str:
    nav = "".join(
        f'<a href="{name}"{" class=here" if name == filename else ""}>{esc(label)}</a>' for name, label in PAGES
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(title)} — hubwatch {esc(package.publish_date)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="plotly.min.js"></script><style>{STYLE}</style>{head}</head>
<body>{banner(package)}<header><h1>{esc(title)}</h1><nav>{nav}</nav></header>
<main>{body}</main>
<footer><p class="note">{esc(package.footnote)} Data: <a href="../manifest.json">manifest.json</a>,
<a href="../CODEBOOK.md">CODEBOOK.md</a>, <a href="../data/">data/</a>. How every number is made:
<a href="methodology.html">methodology</a>.</p></footer></body></html>
"""


def table_html(frame: pl.DataFrame, headers: dict[str, str] | None = None, limit: int | None = None) -> str:
    headers = headers or {}
    shown = frame.head(limit) if limit else frame
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in shown.columns)
    body = []
    for row in shown.iter_rows():
        cells = []
        for value in row:
            if value is None:
                cells.append("<td></td>")
            elif isinstance(value, bool):
                cells.append(f"<td>{'yes' if value else ''}</td>")
            elif isinstance(value, int):
                cells.append(f'<td class="num">{value:,}</td>')
            elif isinstance(value, float):
                cells.append(f'<td class="num">{value:.4g}</td>')
            else:
                cells.append(f"<td>{esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>First {limit} of {frame.height} rows.</p>" if limit and frame.height > limit else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def chart_html(chart: Chart) -> str:
    div = chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{chart.slug}",
        config={
            "displaylogo": False,
            "responsive": True,
            "toImageButtonOptions": {"filename": f"hubwatch-{chart.slug}", "scale": 2},
        },
    )
    notes = "".join(f'<p class="rule">{esc(n)}</p>' for n in chart.notes if n)
    return (
        f'<section class="chart" id="{esc(chart.slug)}" data-slug="{esc(chart.slug)}" '
        f'data-stacked="{"true" if chart.stacked else "false"}"><h2>{esc(chart.title)}</h2>'
        f"<p>{esc(chart.definition)}</p>{div}{notes}"
        f'<p class="note"><a href="data/{esc(chart.slug)}.csv" download>Download the plotted data (CSV)</a> · '
        f'<a href="data/{esc(chart.slug)}.meta.json">its metadata</a> · from '
        + ", ".join(f'<a href="../data/{esc(t)}.csv">{esc(t)}</a>' for t in chart.sources)
        + f"</p><details><summary>Show the plotted data as a table ({chart.data.height} rows)</summary>"
        f"{table_html(chart.data, CSV_HEADERS)}</details></section>"
    )


def sidecar(package: Package, chart: Chart) -> bytes:
    """One line of JSON beside each CSV: what it is, from where, under which rules, how to read it."""
    meta = {
        "title": chart.title,
        "definition": chart.definition,
        "unit": chart.unit,
        "source_tables": list(chart.sources),
        "package_date": package.publish_date,
        "rules_version": package.rules_version,
        "snapshot_range": list(package.snapshot_range),
        "simulated": package.simulated,
        "simulated_snapshots": package.simulated_statement(),
        "min_n": s.MIN_N,
        "interval": "95% Wilson score interval of numerator/denominator (shares only)",
        "partial": "true when the package's snapshots do not cover the period whole; never used in headlines",
        "columns": list(s.COLUMNS),
    }
    return orjson.dumps(meta) + b"\n"


# -- the charts ---------------------------------------------------------------------------------
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
    undated_series = s.undated(p)
    if undated_series.height:
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


# -- pages without charts (or with more than charts) -------------------------------------------
PAGE_TEXT = {
    "studies.html": (
        "<p>Differences are expected: Civiverse counted images still online when it crawled (late 2024), with "
        "the API's boolean (PG-13 and above); hubwatch counts what its own snapshots saw, so deletions and the "
        "2025 real-person exclusion lower or shift its counts. The Wagner &amp; Cetinic (40M images, 230k models) "
        "and Hawkins et al. (about 35,000 deepfake model variants, about 15M downloads, 96% women) figures are "
        "headline numbers; their monthly series are not published.</p>"
    ),
}


def headline_cards(p: Package) -> list[tuple[str, str, str]]:
    """(value, what it is, its n) from the last complete month only; never a partial one."""
    cards = []
    monthly = p.table("nsfw_share_monthly")
    for entity in ("model", "image"):
        first_partial = p.first_partial_month("civitai", entity)
        rows = monthly.filter(
            (pl.col("platform") == "civitai") & (pl.col("entity") == entity) & (pl.col("month") < first_partial)
        ).sort("month")
        if rows.is_empty():
            continue
        last = rows.row(-1, named=True)
        small = " (fewer than the stated minimum: read with care)" if last["n_items"] < s.MIN_N else ""
        cards.append(
            (
                f"{last['share_any']:.0%} / {last['share_strict']:.0%}",
                f"of the Civitai {entity}s created in {last['month']:%B %Y} (the last complete month) are NSFW "
                "(PG-13 and above / R and above)",
                f"n = {last['n_items']:,} {entity}s ({last['n_nsfw_any']:,} / {last['n_nsfw_strict']:,}){small}",
            )
        )
    rp = p.table("real_person_monthly").filter(pl.col("platform") == "civitai")
    if rp.height:
        end = p.first_partial_month("civitai", "model")
        complete = rp.filter(pl.col("month") < end)
        n_rp, n = complete["n_real_person"].sum(), complete["n_models"].sum()
        if n:
            cards.append(
                (
                    f"{n_rp:,}",
                    f"Civitai models created before {end:%B %Y} depict a real person (any tier)",
                    f"{n_rp / n:.0%} of the {n:,} models created then that hubwatch saw",
                )
            )
        known = complete["n_female"].sum() + complete["n_male"].sum()
        if known:
            cards.append(
                (
                    f"{complete['n_female'].sum() / known:.0%}",
                    "of the real-person models with a stated target gender target women",
                    f"n = {known:,} stated; {complete['n_unknown_gender'].sum():,} not stated",
                )
            )
    matches = p.table("cross_platform_matches")
    cards.append(
        (
            f"{matches['hf_model_id'].n_unique():,}",
            "Hugging Face repos holding a Civitai model's exact file",
            f"of {p.table('models').filter(pl.col('platform') == 'huggingface').height:,} Hugging Face repos seen",
        )
    )
    return cards


def index_body(p: Package) -> str:
    cards = "".join(
        f'<div class="headline"><b>{esc(v)}</b>{esc(t)}<small>{esc(n)}</small></div>' for v, t, n in headline_cards(p)
    )
    top = (
        p.table("models")
        .filter(pl.col("downloads_total").is_not_null())
        .sort("downloads_total", descending=True)
        .head(10)
        .select(
            pl.col("platform").replace(s.PLATFORM).alias("Platform"),
            pl.col("name").fill_null("(name withheld: depicts a real person)").alias("Model"),
            pl.col("model_type").alias("Type"),
            pl.col("base_model_family").alias("Base-model family"),
            pl.col("downloads_total").alias("Downloads (all time)"),
            pl.col("last_seen").cast(pl.String).alias("Last listed"),
        )
    )
    links = "".join(f'<li><a href="{n}">{esc(label)}</a></li>' for n, label in PAGES[1:])
    files = (
        '<p>Dated package: <a href="../manifest.json">manifest.json</a> (sha256 of every file), '
        '<a href="../SHA256SUMS">SHA256SUMS</a>, <a href="../CODEBOOK.md">codebook</a>, '
        '<a href="../datapackage.json">datapackage.json</a>, <a href="../hubwatch.duckdb">hubwatch.duckdb</a>, '
        '<a href="../data/">Parquet and CSV tables</a>. To cite it, see the '
        '<a href="methodology.html#cite">methodology page</a>.</p>'
    )
    return (
        "<section><h2>Headlines</h2><p class='note'>From the last month the snapshots cover whole; a month still "
        "in progress never makes a headline.</p>"
        f"{cards}</section><ul>{links}</ul>{files}<h2>Most downloaded models</h2>{table_html(top)}"
        "<p class='note'>Names of models depicting real people are withheld. Model names are the hubs' own "
        "text, shown as text.</p>"
    )


def policy_body(p: Package) -> str:
    events = p.optional("policy_events")
    if events is None or events.is_empty():
        return "<p>This package has no policy_events table (it predates the timeline).</p>"
    rows = []
    for e in events.sort("event_date").iter_rows(named=True):
        url = safe_url(e["source_url"])
        source = (
            f'<a href="{esc(url)}" title="{esc(url)}" rel="noreferrer">{esc(short_url(url))}</a>'
            if url
            else esc(e["source_url"])
        )
        caveat = e.get("caveat") or ""
        end = e["end_date"].isoformat() if e.get("end_date") else ("ongoing" if e["kind"] == "api_hides" else "")
        rows.append(
            f"<tr><td>{esc(e['event_date'])}</td><td>{esc(end)}</td><td>{esc(e['scope'])}</td><td>{esc(e['kind'])}</td>"
            f"<td><b>{esc(e['label'])}</b>: {esc(e['event'])}</td><td>{source}</td>"
            f"<td class='caveat'>{esc(caveat)}</td></tr>"
        )
    return (
        "<p>Platform, API and legal events that explain breaks in the series. Charts with time on the axis mark "
        "every event of kind platform, api or law as a dated line, and shade the periods in which an API hides "
        "content (kind api_hides) as structural breaks: after 2025-05-22 real-person models vanish from "
        "Civitai's public API whether or not they were deleted. Reports and ecosystem events (kind context) "
        "are listed here only. Dates marked ⚠️ come from secondary sources: check them before stating them as "
        "exact.</p><p>TAKE IT DOWN, the UK s.138 offence and AI Act Art. 50 concern depictions (images), not "
        "model files; only the UK offence of supplying nudification tools reaches generators.</p>"
        "<table><tr><th>Date</th><th>Until</th><th>Scope</th><th>Kind</th><th>Event</th><th>Source</th>"
        f"<th>How sure</th></tr>{''.join(rows)}</table><p class='note'>From this package's own "
        "<a href='../data/policy_events.csv'>policy_events</a> table (dbt seed policy_timeline).</p>"
    )


MEASURES = (
    ("Creation month", "models", "month"),
    ("NSFW, broad (models)", "models", "nsfw_any"),
    ("NSFW, strict (models)", "models", "nsfw_strict"),
    ("NSFW level (models)", "models", "nsfw_level"),
    ("NSFW, broad (images)", "images", "nsfw_any"),
    ("NSFW, strict (images)", "images", "nsfw_strict"),
    ("NSFW, explicit (images)", "images", "nsfw_explicit"),
    ("Image level source", "images", "level_source"),
    ("Real person (union)", "models", "real_person"),
    ("Tier 1: declared", "models", "real_person_declared"),
    ("Tier 2: tagged", "models", "real_person_tagged"),
    ("Tier 3: name match", "models", "real_person_name_match"),
    ("Tier 4: file hash", "models", "real_person_hash_match"),
    ("Target gender", "models", "target_gender"),
    ("Base-model family", "models", "base_model_family"),
    ("Subculture family (tags)", "tag_trends_monthly", "subculture"),
    ("Subculture membership", "subculture_trends_monthly", None),
    ("Removal", "models", "removal_kind"),
    ("Removed (per snapshot)", "lifecycle_by_snapshot", "n_removed"),
    ("Taken down", "lifecycle_by_snapshot", "n_taken_down"),
    ("Archived", "lifecycle_by_snapshot", "n_archived"),
    ("Re-upload", "cross_platform_matches", None),
    ("Downloads", "models", "downloads_total"),
    ("What a snapshot asked for", "snapshot_coverage", "params"),
)


def methodology_body(p: Package) -> str:
    measures = []
    for label, table, column in MEASURES:
        text = p.describe(table, column)
        if text:
            where = f"{table}.{column}" if column else table
            measures.append(f"<tr><td>{esc(label)}</td><td>{esc(text)}</td><td><code>{esc(where)}</code></td></tr>")
    changelog = p.optional("rules_changelog")
    if changelog is not None and changelog.height:
        history = table_html(
            changelog.sort(pl.col(changelog.columns[1]), descending=True) if len(changelog.columns) > 1 else changelog,
            {
                "rules_version": "Rule set",
                "changed_on": "Changed on",
                "measure": "Measure",
                "change": "Change",
                "reason": "Why",
            },
        )
    else:
        history = (
            "<p class='note'>This package has no rules_changelog table, so the history of the rule set is not "
            "shown here.</p>"
        )
    mappings = observed_mappings(p)
    caveats = coverage_caveats(p)
    return (
        f"<h2>Rule set</h2><p>Every measure in this package was computed under rule set <b>{esc(p.rules_version)}</b>. "
        "A rule lives in one dbt seed or macro; the descriptions below are the ones dbt wrote into the warehouse "
        "and the package's manifest, not a copy.</p>"
        f"<h3>Changes to the rule set</h3>{history}"
        "<h2>Measures</h2><table><tr><th>Measure</th><th>Rule (as the package documents it)</th><th>Column</th></tr>"
        f"{''.join(measures)}</table>"
        "<p class='note'>Every table and column: <a href='../CODEBOOK.md'>CODEBOOK.md</a>.</p>"
        f"{mappings}<h2>Coverage caveats</h2>{caveats}"
        f"<h2 id='cite'>Cite this package</h2>{citation_block(p)}"
    )


def observed_mappings(p: Package) -> str:
    """The rule seeds' mappings as they apply in this package (the tags and base models it holds)."""
    parts = []
    tags = p.table("tag_trends_monthly").filter(pl.col("subculture").is_not_null())
    if tags.height:
        fams = tags.group_by("subculture").agg(pl.col("tag").unique().sort()).sort("subculture")
        rows = "".join(
            f"<tr><td>{esc(fam)}</td><td>{esc(', '.join(t[:40]))}{' …' if len(t) > 40 else ''}</td></tr>"
            for fam, t in fams.iter_rows()
        )
        parts.append(
            "<h3>Subculture families: the tags of this package that map to each</h3>"
            f"<table><tr><th>Family</th><th>Tags (seed rules_subculture_tags)</th></tr>{rows}</table>"
            "<p class='note'>Models also join 'booru vocabulary' through their base model family.</p>"
        )
    models = p.table("models").filter(pl.col("base_model").is_not_null())
    if models.height:
        fams = (
            models.group_by("platform", "base_model_family")
            .agg(pl.col("base_model").unique().sort())
            .sort("platform", "base_model_family")
        )
        rows = "".join(
            f"<tr><td>{esc(s.PLATFORM.get(pf, pf))}</td><td>{esc(fam)}</td>"
            f"<td>{esc(', '.join(b[:20]))}{' …' if len(b) > 20 else ''}</td></tr>"
            for pf, fam, b in fams.iter_rows()
        )
        parts.append(
            "<h3>Base-model families: the base models of this package in each</h3>"
            "<table><tr><th>Platform</th><th>Family</th><th>Base models (seeds rules_base_model_families, "
            f"rules_hf_base_model_families)</th></tr>{rows}</table>"
        )
    return "".join(parts)


def coverage_caveats(p: Package) -> str:
    items = []
    events = p.optional("policy_events")
    if events is not None:
        for e in events.filter(pl.col("kind") == "api_hides").iter_rows(named=True):
            until = f"to {e['end_date']}" if e.get("end_date") else "onwards"
            items.append(f"<li><b>What the API hides</b> ({esc(e['event_date'])} {esc(until)}): {esc(e['event'])}</li>")
    params = p.describe("snapshot_coverage", "params")
    if params:
        items.append(f"<li><b>What hubwatch asks for</b>: {esc(params)}</li>")
    pairs = [pair for pair in SOURCE_OF if p.last_snapshot.get(SOURCE_OF[pair]) or not p.last_snapshot]
    partial = "; ".join(
        f"{s.PLATFORM[pf]} {en}s: last snapshot {p.horizon(pf, en)}, "
        f"so {p.first_partial_month(pf, en):%B %Y} onwards is partial"
        for pf, en in pairs
    )
    items.append(
        "<li><b>Partial months</b>: a month is complete only when the snapshots cover every day of it. "
        f"{esc(partial)}. Partial months are drawn hollow or hatched, flagged in every CSV, and never used in a "
        "headline or a ranking.</li>"
    )
    imported = p.table("snapshot_coverage").filter(pl.col("kind") == "imported") if p.has("snapshot_coverage") else None
    if imported is not None and imported.height:
        rows = "; ".join(
            f"{r['source']} {r['snapshot_date']} (scope: {r['scope']}, from {r['host']})"
            for r in imported.iter_rows(named=True)
        )
        items.append(f"<li><b>Imported crawls</b> cover only what their makers crawled: {esc(rows)}.</li>")
    else:
        items.append("<li><b>Imported crawls</b>: none in this package.</li>")
    items.append(f"<li><b>Items without a creation date</b>: {esc(undated_note(p))}</li>")
    items.append(
        "<li><b>Never seen</b>: items deleted before the first snapshot that would have listed them; monthly tables "
        "count what survived until a snapshot saw it.</li>"
    )
    items.append(f"<li><b>Small samples</b>: {esc(min_n_note())}</li>")
    return f"<ul>{''.join(items)}</ul>"


CITATION_SCRIPT = """
<script>
(function () {
  function show(c) {
    var box = document.getElementById('citation');
    if (!box || !c) return;
    box.textContent = '';
    var rows = [['Title', c.title], ['Package date', c.publish_date], ['Rule set', c.rules_version],
      ['Manifest SHA-256 (the citation id)', c.manifest_sha256], ['Licence', c.license || c.licence],
      ['URL', c.url], ['Simulated data', c.simulated ? 'yes' : 'no']];
    var dl = document.createElement('dl');
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null || r[1] === '') return;
      var dt = document.createElement('dt'); dt.textContent = r[0];
      var dd = document.createElement('dd'); var code = document.createElement('code');
      code.textContent = String(r[1]); dd.appendChild(code); dl.appendChild(dt); dl.appendChild(dd);
    });
    box.appendChild(dl);
    var p = document.createElement('p');
    p.textContent = (c.title || 'hubwatch package') + ' (' + (c.publish_date || '') + '), rule set ' +
      (c.rules_version || '') + ', manifest sha256 ' + (c.manifest_sha256 || '') + '.' + (c.url ? ' ' + c.url : '');
    box.appendChild(p);
    box.setAttribute('data-source', 'citation.js');
  }
  var s = document.createElement('script');
  s.src = '../citation.js';
  s.onload = function () { show(window.hubwatchCitation); };
  document.head.appendChild(s);
})();
</script>
"""


def citation_block(p: Package) -> str:
    """Filled from ../citation.js (written by publish after the manifest, so it can hold the manifest's
    sha256); until then, and when it is absent, a fallback that says how to get the id."""
    return (
        '<div class="cite" id="citation" data-source="fallback">'
        f"<p><b>{esc(p.manifest.get('title', 'hubwatch package'))}</b>, package date {esc(p.publish_date)}, rule set "
        f"{esc(p.rules_version)}.</p><p>This package's <code>citation.js</code> could not be read, so its citation id "
        "is not shown here. The id is the SHA-256 of the package's <code>manifest.json</code>: run "
        "<code>sha256sum manifest.json</code> in the package folder, or read <code>CITATION.cff</code> where the "
        f"package has one.</p></div>{CITATION_SCRIPT}"
    )


def coverage_body(p: Package) -> str:
    text = (
        "<p>What the public APIs hide: without parameters both Civitai endpoints return PG content only "
        "(hubwatch asks for every level); since 2025-05-22 Civitai's API leaves out every real-person and "
        "minor-flagged model and image, so they can be seen only in snapshots taken before, or in imported "
        "crawls. Items deleted before a snapshot are never seen. Only complete snapshots are counted.</p>"
        f"<p>{esc(undated_note(p))}</p>"
    )
    coverage = (
        p.table("snapshot_coverage")
        .sort("source", "snapshot_date")
        .select(
            pl.col("source").alias("Source"),
            pl.col("snapshot_date").cast(pl.String).alias("Snapshot date"),
            pl.col("kind").alias("Kind"),
            pl.col("scope").alias("Scope"),
            pl.col("pages").alias("Pages stored"),
            pl.col("items").alias("Items"),
            pl.col("errors").alias("Errors survived"),
        )
    )
    monthly = p.optional("monthly_coverage")
    monthly_html = ""
    if monthly is not None:
        monthly_html = "<h2>Items with and without a creation date</h2>" + table_html(
            monthly,
            {
                "platform": "Platform",
                "entity": "Items",
                "n_items": "Counted",
                "n_dated": "With a creation date",
                "n_undated": "Without (left out of monthly charts)",
                "share_undated": "Share without",
            },
        )
    # images-feed: the image feed's delay (image_feed_delay) gets its own section here.
    delay = p.optional("image_feed_delay")
    delay_html = '<section id="image-feed-delay"><h2>How late images reach the feed</h2>'
    if delay is None:
        delay_html += (
            "<p class='note'>This package does not measure the image feed's delay (no image_feed_delay table).</p>"
        )
    else:
        delay_html += table_html(
            delay.sort("snapshot_date").with_columns(pl.col("snapshot_date").cast(pl.String)),
            {
                "snapshot_date": "Snapshot",
                "n_new_images": "New images",
                "delay_days_p50": "Delay, median (days)",
                "delay_days_p90": "90th percentile",
                "delay_days_max": "Longest",
            },
        )
    delay_html += "</section>"
    every = (
        f"<h2>Every snapshot</h2><details><summary>Show all {coverage.height} complete snapshots (source, date, "
        f"kind, scope, pages, items, errors)</summary>{table_html(coverage)}</details>"
    )
    return text, monthly_html + delay_html + every


def render_site(package_path: Path) -> Path:
    """Write package_path/dashboards/ from the package's own tables; returns the index path."""
    package = open_package(package_path)
    target = package.path / "dashboards"
    staging = package.path / ".dashboards-staging"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "data").mkdir(parents=True)
    (staging / "plotly.min.js").write_text(plotly.offline.get_plotlyjs())
    charts = charts_by_page(package)
    for filename, title in PAGES:
        before, after = PAGE_TEXT.get(filename, ""), ""
        if filename == "index.html":
            before = index_body(package)
        elif filename == "policy.html":
            before = policy_body(package)
        elif filename == "methodology.html":
            before = methodology_body(package)
        elif filename == "coverage.html":
            before, after = coverage_body(package)
        body = before
        for chart in charts.get(filename, []):
            chart.data.write_csv(staging / "data" / f"{chart.slug}.csv")
            (staging / "data" / f"{chart.slug}.meta.json").write_bytes(sidecar(package, chart))
            body += chart_html(chart)
        (staging / filename).write_text(page(package, filename, title, body + after))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target / "index.html"


__all__ = ["render_site", "month_start"]

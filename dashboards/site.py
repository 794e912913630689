"""The static trend site: publish/YYYY-MM-DD/dashboards/, readable offline and without dbt.

One plotly.min.js for the whole site; every chart with its definition, a policy-timeline
annotation where time is on the axis, a footnote (rule set, snapshot range) and a CSV of
exactly the plotted series; a SIMULATED DATA banner on every page when any input was simulated.
All hub text is HTML-escaped. The site is written to a staging folder and renamed into place.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
import polars as pl

from dashboards import figures as f
from dashboards.queries import Package, open_package
from dashboards.reference import CIVIVERSE_MONTHLY

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;line-height:1.45}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 1rem}
nav a{margin-right:1rem}
.simulated{background:#b00;color:#fff;text-align:center;font-weight:bold;padding:.5rem;letter-spacing:.05em}
.chart{margin:2rem 0;border-top:1px solid #ddd;padding-top:1rem}
.note{color:#555;font-size:.9rem}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.headline{display:inline-block;margin:.5rem 1rem .5rem 0;padding:.75rem;border:1px solid #ddd;min-width:14rem}
.headline b{font-size:1.6rem;display:block}
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
    ("studies.html", "Studies"),
)


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    definition: str
    series: pl.DataFrame
    figure: go.Figure


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(package: Package, filename: str, title: str, body: str) -> str:
    nav = " ".join(f'<a href="{name}">{esc(label)}</a>' for name, label in PAGES)
    banner = (
        '<div class="simulated">SIMULATED DATA — some snapshots come from hubwatch\'s simulator, not a real hub</div>'
        if package.simulated
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(title)} — hubwatch {esc(package.manifest["publish_date"])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="plotly.min.js"></script><style>{STYLE}</style></head>
<body>{banner}<header><h1>{esc(title)}</h1><nav>{nav}</nav></header>
<main>{body}</main>
<footer><p class="note">{esc(package.footnote)} Data: <a href="../manifest.json">manifest.json</a>,
<a href="../CODEBOOK.md">CODEBOOK.md</a>, <a href="../data/">data/</a>.</p></footer></body></html>
"""


def chart_html(package: Package, chart: Chart) -> str:
    div = chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{chart.slug}",
        config={"displaylogo": False, "responsive": True},
    )
    return (
        f'<section class="chart" id="{esc(chart.slug)}"><h2>{esc(chart.title)}</h2>'
        f"<p>{esc(chart.definition)}</p>{div}"
        f'<p class="note">{esc(package.footnote)} <a href="data/{esc(chart.slug)}.csv" download>'
        "Download the plotted data (CSV)</a></p></section>"
    )


def charts_by_page(p: Package) -> dict[str, list[Chart]]:
    nsfw_monthly, rp = p.table("nsfw_share_monthly"), p.table("real_person_monthly")
    lifecycle = p.table("lifecycle_by_snapshot")

    def make(slug, title, definition, series, draw: Callable[[pl.DataFrame], go.Figure]) -> Chart:
        return Chart(slug, title, definition, series, draw(series))

    return {
        "nsfw.html": [
            make(
                "nsfw-share-monthly",
                "NSFW share by creation month",
                "Share of models and images created each month that are NSFW: PG-13 and above (the API's own "
                "`nsfw` boolean, as in Civiverse) and R and above (Civitai's own NSFW group), side by side. "
                "Every item ever seen in a complete snapshot counts once, with its latest attributes.",
                f.nsfw_share_series(nsfw_monthly),
                lambda s: f.line_chart(s, "NSFW share by creation month", "share", True),
            ),
            make(
                "nsfw-share-by-snapshot",
                "NSFW share of what each snapshot saw",
                "The same two measures over what each complete snapshot listed (image snapshots cover their window).",
                f.nsfw_snapshot_series(p.table("nsfw_share_by_snapshot")),
                lambda s: f.line_chart(s, "NSFW share by snapshot date", "share", True),
            ),
        ],
        "real-person.html": [
            make(
                "real-person-tiers",
                "Models depicting real people, by tier",
                "Models created each month that depict a real person: declared by the uploader (poi), carrying "
                "Civitai's real-person tags, naming a public figure, or holding a file identical to one of a model "
                "flagged so; and their union. Since 2025-05-22 the public API hides such models.",
                f.real_person_tier_series(rp),
                lambda s: f.line_chart(s, "Real-person models by creation month", "models"),
            ),
            make(
                "real-person-gender",
                "Gender of the depicted targets",
                "From tags and trained words only (woman/1girl vs man/1boy); 'unknown' when not stated. Never guessed.",
                f.gender_series(rp),
                lambda s: f.bar_chart(s, "Targets of real-person models", "models"),
            ),
            make(
                "real-person-nsfw",
                "Real-person models that are also NSFW",
                "Share of real-person models created each month whose nsfwLevel includes R, X or XXX.",
                f.real_person_nsfw_series(rp),
                lambda s: f.line_chart(s, "NSFW overlap", "share", True),
            ),
            make(
                "real-person-removals",
                "Removals around the 2025-05-22 ban",
                "Models listed in one snapshot and absent from the next of the same source, and how many depicted "
                "a real person.",
                f.removal_series(lifecycle),
                lambda s: f.line_chart(s, "Removals by snapshot", "models"),
            ),
        ],
        "subcultures.html": [
            make(
                "subculture-heatmap",
                "Subculture families over time (Civitai models)",
                "Share of models created each month in each family, from tags and from booru-vocabulary base models.",
                f.subculture_series(p.table("subculture_trends_monthly")),
                lambda s: f.heatmap(s, "Subculture families by creation month"),
            ),
            make(
                "rising-tags",
                "Top rising tags (Civitai models)",
                "Tags whose share of new models rose most in the last three months against the months before.",
                f.rising_tags_series(p.table("tag_trends_monthly")),
                lambda s: f.bar_chart(s, "Top rising tags", "change in share", stacked=False),
            ),
        ],
        "base-models.html": [
            make(
                "base-model-mix",
                "Base-model mix of new models (Civitai)",
                "Share of models created each month by base-model family (SD 1.x, SDXL, Pony, Illustrious, Flux...).",
                f.base_model_series(p.table("base_model_mix_monthly")),
                lambda s: f.line_chart(s, "Base-model families by creation month", "share", True),
            ),
        ],
        "lifecycle.html": [
            make(
                "models-listed",
                "Models listed by each snapshot",
                "How many models each complete snapshot listed.",
                f.visible_series(lifecycle),
                lambda s: f.line_chart(s, "Models listed", "models"),
            ),
            make(
                "takedowns",
                "Removals, takedowns and archives",
                "Absent: listed before, gone now. Taken down / archived: Civitai's moderation modes, counted where "
                "they first show.",
                f.removal_series(lifecycle),
                lambda s: f.bar_chart(s, "Lifecycle events", "models"),
            ),
        ],
        "reuploads.html": [
            make(
                "reuploads",
                "Civitai files re-uploaded to Hugging Face",
                "Hugging Face repos holding a file byte-identical (same SHA-256) to a Civitai model's file, by the "
                "month hubwatch first saw the repo.",
                f.reupload_series(p.table("cross_platform_matches")),
                lambda s: f.bar_chart(s, "Re-uploads by month first seen", "repos"),
            ),
        ],
        "coverage.html": [
            make(
                "coverage",
                "What each snapshot saw",
                "Items in each complete snapshot, by source and kind (live, simulated, imported).",
                f.coverage_series(p.table("snapshot_coverage")),
                lambda s: f.line_chart(s, "Items per snapshot", "items"),
            ),
        ],
        "studies.html": [
            make(
                "civiverse",
                "Civiverse-6M beside hubwatch",
                "The Civiverse-6M dataset card's monthly NSFW ratio of Civitai images (Oct 2023 - Apr 2024) and "
                "hubwatch's share of images rated PG-13 and above created in the same months.",
                f.studies_series(nsfw_monthly, CIVIVERSE_MONTHLY),
                lambda s: f.line_chart(s, "Monthly NSFW ratio of images", "share", True),
            ),
        ],
    }


PAGE_TEXT = {
    "coverage.html": (
        "<p>What the public APIs hide: without parameters both Civitai endpoints return PG content only "
        "(hubwatch asks for every level); since 2025-05-22 Civitai's API leaves out every real-person and "
        "minor-flagged model and image, so they can be seen only in snapshots taken before, or in imported "
        "crawls. Items deleted before a snapshot are never seen. Only complete snapshots are counted.</p>"
    ),
    "studies.html": (
        "<p>Differences are expected: Civiverse counted images still online when it crawled (late 2024), with "
        "the API's boolean (PG-13 and above); hubwatch counts what its own snapshots saw, so deletions and the "
        "2025 real-person exclusion lower or shift its counts. The Wagner &amp; Cetinic (40M images, 230k models) "
        "and Hawkins et al. (about 35,000 deepfake model variants, about 15M downloads, 96% women) figures are "
        "headline numbers; their monthly series are not published.</p>"
    ),
}


def index_body(p: Package) -> str:
    monthly, rp = p.table("nsfw_share_monthly"), p.table("real_person_monthly")
    cards = []
    for entity in ("model", "image"):
        rows = monthly.filter((pl.col("platform") == "civitai") & (pl.col("entity") == entity)).sort("month")
        if rows.height:
            last = rows.row(-1, named=True)
            cards.append(
                (
                    f"{last['share_any']:.0%} / {last['share_strict']:.0%}",
                    f"Civitai {entity}s created {last['month']:%B %Y} that are NSFW (PG-13+ / R+)",
                )
            )
    civitai = rp.filter(pl.col("platform") == "civitai")
    if civitai.height:
        n_rp, n = civitai["n_real_person"].sum(), civitai["n_models"].sum()
        cards.append(
            (
                f"{n_rp:,}",
                f"Civitai models depicting real people ({n_rp / max(n, 1):.0%} of {n:,} seen), any tier",
            )
        )
        known = civitai["n_female"].sum() + civitai["n_male"].sum()
        if known:
            cards.append(
                (
                    f"{civitai['n_female'].sum() / known:.0%}",
                    f"of real-person models with a stated target gender target women "
                    f"({civitai['n_unknown_gender'].sum():,} not stated)",
                )
            )
    cards.append(
        (
            f"{p.table('cross_platform_matches')['hf_model_id'].n_unique():,}",
            "Hugging Face repos holding a Civitai model's exact file",
        )
    )
    headline = "".join(f'<div class="headline"><b>{esc(v)}</b>{esc(t)}</div>' for v, t in cards)
    top = (
        p.table("models")
        .filter(pl.col("downloads_total").is_not_null())
        .sort("downloads_total", descending=True)
        .head(10)
        .select("platform", "name", "model_type", "base_model_family", "downloads_total", "last_seen")
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(v if v is not None else '(name withheld)')}</td>" for v in row) + "</tr>"
        for row in top.iter_rows()
    )
    table = (
        f"<h2>Most downloaded models</h2><table><tr>{''.join(f'<th>{esc(c)}</th>' for c in top.columns)}</tr>"
        f"{rows}</table><p class='note'>Names of models depicting real people are withheld.</p>"
    )
    links = "".join(f'<li><a href="{n}">{esc(label)}</a></li>' for n, label in PAGES[1:])
    files = (
        '<p>Dated package: <a href="../manifest.json">manifest.json</a> (sha256 of every file), '
        '<a href="../SHA256SUMS">SHA256SUMS</a>, <a href="../CODEBOOK.md">codebook</a>, '
        '<a href="../datapackage.json">datapackage.json</a>, <a href="../hubwatch.duckdb">hubwatch.duckdb</a>, '
        '<a href="../data/">Parquet and CSV tables</a>.</p>'
    )
    return f"<section>{headline}</section><ul>{links}</ul>{files}{table}"


def render_site(package_path: Path, manifest: dict[str, Any] | None = None) -> Path:
    """Write package_path/dashboards/ from the package's own tables; returns the index path.

    publish renders the site inside the package it is staging, before the manifest is written,
    and passes the manifest so far; a dated package in place is never rendered into again."""
    package = open_package(package_path) if manifest is None else Package(package_path.resolve(), manifest)
    target = package.path / "dashboards"
    staging = package.path / ".dashboards-staging"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "data").mkdir(parents=True)
    (staging / "plotly.min.js").write_text(plotly.offline.get_plotlyjs())
    charts = charts_by_page(package)
    for filename, title in PAGES:
        if filename == "index.html":
            body = index_body(package)
        else:
            body = PAGE_TEXT.get(filename, "")
            for chart in charts.get(filename, []):
                chart.series.write_csv(staging / "data" / f"{chart.slug}.csv")
                body += chart_html(package, chart)
        (staging / filename).write_text(page(package, filename, title, body))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target / "index.html"

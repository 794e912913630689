"""The static trend site: publish/YYYY-MM-DD/dashboards/, readable offline and without dbt.

One plotly.min.js for the whole site. Every chart has its definition, small multiples rather than
crowded lines, n in every hover, the policy timeline where time is on the axis, a date-range
control, the source / date / rule set / SIMULATED mark inside the figure, a table of exactly what it
plots beneath it, and that same table as CSV (named columns) with a one-line JSON sidecar. Every
page carries a banner saying exactly which snapshots are simulated. All hub text is HTML-escaped.
The site is written to a staging folder and renamed into place.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import plotly.offline

from dashboards import model_measures
from dashboards import series as s
from dashboards.charts import Chart, charts_by_page
from dashboards.pages import (
    PAGE_TEXT,
    PAGES,
    coverage_body,
    esc,
    esc_prose,
    images_made_with_body,
    index_body,
    methodology_body,
    policy_body,
    table_html,
)
from dashboards.queries import Package, open_package

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
table.events td:nth-child(-n+4){white-space:nowrap;overflow-wrap:normal}
"""
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
    notes = "".join(f'<p class="rule">{esc_prose(n)}</p>' for n in chart.notes if n)
    return (
        f'<section class="chart" id="{esc(chart.slug)}" data-slug="{esc(chart.slug)}" '
        f'data-stacked="{"true" if chart.stacked else "false"}"><h2>{esc(chart.title)}</h2>'
        f"<p>{esc_prose(chart.definition)}</p>{div}{notes}"
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
    measures = model_measures.sections(package)  # creators, engagement, SD 1.5, studies (#21)
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
        elif filename == "images-made-with.html":
            before, after = images_made_with_body(package)
        body = before
        for chart in charts.get(filename, []):
            chart.data.write_csv(staging / "data" / f"{chart.slug}.csv")
            (staging / "data" / f"{chart.slug}.meta.json").write_bytes(sidecar(package, chart))
            body += chart_html(chart)
        (staging / filename).write_text(page(package, filename, title, body + measures.get(filename, "") + after))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target / "index.html"

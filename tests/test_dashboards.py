"""The trend site on a small package written straight to disk (tests/dashboard_package.py): honest
last months, n everywhere, stacked totals, the timeline, methodology, banner and CSVs. No browser
here (tests/test_publish.py drives Chromium); figures are read back from the HTML Plotly was given."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from dashboards.pages import PAGES
from dashboards.site import render_site
from tests.dashboard_package import BREAKOUT, SNAPSHOTS, XSS, policy_events, tables, write_package

PLATFORM = {"civitai": "Civitai", "huggingface": "Hugging Face"}
NAMED_COLUMNS = ["period", "platform", "entity", "measure", "numerator", "denominator", "value", "partial"]


@pytest.fixture(scope="module")
def site(rendered_package) -> Path:
    """The site of tests/dashboard_package.py's package, rendered once per session (conftest)."""
    return rendered_package / "dashboards"


def figures(page: Path) -> dict[str, dict]:
    """Every figure on a page as Plotly was given it: {div id: {"data": [...], "layout": {...}}}."""
    text = page.read_text()
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', text):
        decoder = json.JSONDecoder()
        data, end = decoder.raw_decode(text, match.end())
        rest = text[end:].lstrip()[1:].lstrip()
        layout, _ = decoder.raw_decode(rest)
        found[match.group(1)] = {"data": data, "layout": layout}
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def headline_section(site: Path) -> str:
    html = (site / "index.html").read_text()
    return html[html.index("<section>") : html.index("</section>")]


def test_headlines_use_the_last_complete_month_and_state_its_n(site):
    cards = headline_section(site)
    assert "December 2025" not in cards.split("before December 2025")[0]  # the one-day month is no headline
    assert "November 2025" in cards
    assert "50% / 25%" in cards and "n = 40 models" in cards  # November's models: 20 and 10 of 40
    assert "0% / 0%" not in cards


def test_every_chart_csv_has_named_columns_and_every_share_its_n(site):
    files = sorted((site / "data").glob("*.csv"))
    assert len(files) >= 10
    for path in files:
        rows = read_csv(path)
        assert rows, path.name
        assert all(column in rows[0] for column in NAMED_COLUMNS), (path.name, list(rows[0]))
        for row in rows:
            is_share = row["measure"].startswith("share") or row["measure"] == "nsfw_ratio"
            if is_share:
                assert row["denominator"], (path.name, row)  # n
                if row["measure"] != "nsfw_ratio":  # Civiverse publishes only the ratio and its n
                    assert row["numerator"], (path.name, row)
                    assert float(row["value"]) == pytest.approx(int(row["numerator"]) / int(row["denominator"]))
        meta = (site / "data" / f"{path.stem}.meta.json").read_text()
        assert meta.count("\n") == 1 and json.loads(meta)["rules_version"] == "v1", path.name


def test_partial_months_are_flagged_in_the_csv_and_drawn_hollow(site):
    rows = read_csv(site / "data" / "nsfw-share-monthly.csv")
    flags = {(r["platform"], r["entity"], r["period"]): r["partial"] for r in rows}
    assert flags[("civitai", "model", "2025-12-01")] == "true"
    assert flags[("civitai", "model", "2025-11-01")] == "false"
    figure = figures(site / "nsfw.html")["chart-nsfw-share-monthly"]
    for trace in figure["data"]:
        if trace.get("meta", {}).get("role") == "data":
            for point, symbol in zip(trace["customdata"], trace["marker"]["symbol"], strict=True):
                assert (symbol == "circle-open") == point[-1], (trace["name"], point)


def test_small_samples_are_faint_and_every_share_has_its_interval(site):
    from dashboards import series as s

    figure = figures(site / "nsfw.html")["chart-nsfw-share-monthly"]
    data = [t for t in figure["data"] if t.get("meta", {}).get("role") == "data"]
    assert data
    for trace in data:
        for point, opacity in zip(trace["customdata"], trace["marker"]["opacity"], strict=True):
            assert (opacity < 1) == (point[6] < s.MIN_N), point
    assert any(t.get("meta", {}).get("role") == "ci" for t in figure["data"])
    rule = f"fewer than {s.MIN_N} items are drawn faint"
    assert rule in (site / "nsfw.html").read_text()


EXPECTED_STACK_TOTALS = {
    # slug -> the table's own total for each (panel key, x): what the stacked bars must add up to
    "chart-takedowns": lambda t: {
        (r["platform"], r["snapshot_date"].isoformat()): r["n_removed"] + r["n_taken_down"] + r["n_archived"]
        for r in t["lifecycle_by_snapshot"].iter_rows(named=True)
    },
    "chart-real-person-gender": lambda t: {
        (r["platform"], PLATFORM[r["platform"]]): r["n_real_person"]
        for r in t["real_person_monthly"].group_by("platform").agg(pl.col("n_real_person").sum()).iter_rows(named=True)
    },
    "chart-reuploads": lambda t: {
        ("huggingface", r["month"].isoformat()): r["n"]
        for r in t["cross_platform_matches"]
        .group_by("hf_model_id")
        .agg(month=pl.col("hf_first_seen").min().dt.truncate("1mo"))
        .group_by("month")
        .agg(n=pl.len())
        .iter_rows(named=True)
    },
}


def stacked_totals(figure: dict) -> dict[tuple[str, str], float]:
    """Sum of the stacked data traces per (platform, category or x)."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for trace in figure["data"]:
        if trace.get("meta", {}).get("role", "data") != "data":
            continue
        horizontal = trace.get("orientation") == "h"
        keys, values = (trace["y"], trace["x"]) if horizontal else (trace["x"], trace["y"])
        for key, value, point in zip(keys, values, trace["customdata"], strict=True):
            totals[(point[1], str(key))] += value
    return dict(totals)


def test_every_stacked_chart_totals_the_table_it_plots(site):
    t = tables()
    stacked = {}
    for page in site.glob("*.html"):
        for div, figure in figures(page).items():
            if figure["layout"].get("barmode") == "stack":
                stacked[div] = figure
    assert set(stacked) == set(EXPECTED_STACK_TOTALS), "every stacked chart needs its table's totals here"
    for div, figure in stacked.items():
        expected, drawn = EXPECTED_STACK_TOTALS[div](t), stacked_totals(figure)
        assert {k: v for k, v in drawn.items() if v} == pytest.approx({k: v for k, v in expected.items() if v}), div
        assert all(expected.get(k, 0) == v for k, v in drawn.items()), div


def test_real_person_removals_are_never_stacked_on_the_removals(site):
    takedowns = figures(site / "lifecycle.html")["chart-takedowns"]
    measures = {p[4] for tr in takedowns["data"] if tr.get("meta", {}).get("role") == "data" for p in tr["customdata"]}
    assert "n_real_person_removed" not in measures and "n_removed" in measures
    own = figures(site / "lifecycle.html")["chart-real-person-removals"]
    assert own["layout"].get("barmode") != "stack"


def test_series_that_are_zero_everywhere_are_not_drawn(site):
    for page in site.glob("*.html"):
        for div, figure in figures(page).items():
            for trace in figure["data"]:
                if trace.get("meta", {}).get("role") == "data" and div != "chart-rising-tags":
                    values = trace["x"] if trace.get("orientation") == "h" else trace["y"]
                    assert any(v for v in values), (page.name, div, trace.get("name"))
    assert (
        "Not drawn, zero throughout: Hugging Face models · archived; Hugging Face models · removed (absent)"
        in (site / "lifecycle.html").read_text()
    )


def test_rising_tags_never_rank_on_a_partial_month(site):
    rows = read_csv(site / "data" / "rising-tags.csv")
    ranked = list(dict.fromkeys(r["category"] for r in rows))
    assert "oneday" not in ranked  # only on the one-day December
    assert ranked[0] == "growing"
    assert {r["partial"] for r in rows} == {"false"}
    recent = next(r for r in rows if r["category"] == "growing" and r["measure"] == "share_recent")
    assert recent["period"] == "2025-09/2025-11" and recent["numerator"] == "24" and recent["denominator"] == "120"


def test_the_banner_says_exactly_which_snapshots_are_simulated(site, tmp_path):
    assert (
        "all 12 snapshots (civitai_images, civitai_models, hf_models; 2025-09-01 to 2025-12-01)"
        in (site / "nsfw.html").read_text()
    )
    mixed = tables()["snapshot_coverage"].with_columns(
        kind=pl.when(pl.col("snapshot_date") == SNAPSHOTS[0]).then(pl.lit("live")).otherwise(pl.col("kind"))
    )
    package = write_package(tmp_path, {"snapshot_coverage": mixed})
    render_site(package)
    banner = (package / "dashboards" / "index.html").read_text()
    assert "9 of 12 snapshots come from hubwatch&#x27;s simulator" in banner
    assert "civitai_models of 2025-10-01, 2025-11-01, 2025-12-01" in banner


def test_hub_text_is_escaped_everywhere(site):
    for page in site.glob("*.html"):
        text = page.read_text()
        assert "<img src=x" not in text and BREAKOUT not in text and "alert(2)</script>" not in text, page.name
    assert "&lt;img src=x onerror=alert(1)&gt;" in (site / "index.html").read_text()
    tags = figures(site / "subcultures.html")["chart-rising-tags"]
    labels = {y for trace in tags["data"] for y in trace.get("y", [])}
    assert XSS not in labels and BREAKOUT not in labels
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in labels  # ranked, and shown as text


def test_the_policy_page_lists_every_event_with_its_source_and_caveat(site):
    page = (site / "policy.html").read_text()
    events = policy_events()
    for row in events.iter_rows(named=True):
        assert f'href="{row["source_url"]}"' in page, row["label"]
        assert row["event_date"].isoformat() in page
    assert page.count("⚠️") >= events.filter(pl.col("caveat").str.contains("⚠️")).height
    for needed in (
        "real-people rules",
        "browsing levels",
        "likeness",
        "TAKE IT DOWN",
        "civitai.red",
        "s.138",
        "Art. 50",
    ):
        assert needed in page


def test_charts_mark_the_timeline_and_shade_what_the_api_hides(site):
    figure = figures(site / "real-person.html")["chart-real-person-share"]
    labels = [a["text"] for a in figure["layout"]["annotations"] if a.get("name") == "policy-event"]
    assert any("API hides real people" in label or "real-person ban" in label for label in labels)
    shades = [sh for sh in figure["layout"]["shapes"] if sh["type"] == "rect" and sh.get("fillcolor") == "#888"]
    assert shades and shades[0]["x0"] == "2025-05-22"


def test_labels_of_the_timeline_never_overlap():
    from dashboards import timeline

    events = pl.DataFrame(
        {
            "event_date": [date(2025, 4, 20) + timedelta(days=3 * i) for i in range(12)],
            "end_date": [None] * 12,
            "scope": ["Civitai"] * 12,
            "event": [f"event {i}" for i in range(12)],
            "source_url": ["https://example.org"] * 12,
            "kind": ["platform"] * 12,
            "label": [f"a rather long label number {i}" for i in range(12)],
            "caveat": [""] * 12,
        },
        schema_overrides={"end_date": pl.Date},
    )
    markers = timeline.layout_markers(events, date(2024, 1, 1), date(2025, 12, 1))
    assert timeline.lanes_used(markers) <= timeline.MAX_LANES
    assert sum(len(m.details) for m in markers) == 12  # none lost: crowded ones join a label
    for lane in range(timeline.MAX_LANES):
        spans = sorted((m.left, m.right) for m in markers if m.lane == lane)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans


def test_wilson_interval_matches_the_textbook():
    from dashboards import series as s

    frame = s.wilson(pl.DataFrame({"numerator": [5, 0, 1], "denominator": [10, 10, 1]}))
    assert frame["ci_low"].round(4).to_list() == [0.2366, 0.0, 0.2065]
    assert frame["ci_high"].round(4).to_list() == [0.7634, 0.2775, 1.0]


def test_methodology_reads_its_rules_from_the_package_not_a_copy(site, tmp_path):
    page = (site / "methodology.html").read_text()
    for column in ("nsfw_any", "nsfw_strict", "real_person_declared", "real_person_hash_match", "target_gender"):
        assert f"models.{column} rule" in page  # the manifest's own description text
    assert "no rules_changelog table" in page
    assert "src = &#x27;../citation.js&#x27;" in page or "'../citation.js'" in page
    assert 'id="citation" data-source="fallback"' in page and "sha256sum manifest.json" in page
    changelog = pl.DataFrame(
        {
            "rules_version": ["v1", "v2"],
            "changed_on": [date(2025, 1, 1), date(2025, 11, 1)],
            "measure": ["all", "real_person_hash_match"],
            "change": ["first rule set", "shared files never match"],
            "reason": ["", "VAEs matched unrelated models"],
        }
    )
    package = write_package(tmp_path, {"rules_changelog": changelog})
    render_site(package)
    page = (package / "dashboards" / "methodology.html").read_text()
    assert "shared files never match" in page and "VAEs matched unrelated models" in page


def test_tables_other_branches_add_are_shown_when_present(tmp_path):
    coverage = pl.DataFrame(
        {
            "platform": ["civitai", "civitai"],
            "entity": ["model", "image"],
            "n_items": [300, 2000],
            "n_dated": [290, 2000],
            "n_undated": [10, 0],
            "share_undated": [10 / 300, 0.0],
        }
    )
    delay = pl.DataFrame(
        {  # the columns image_feed_delay has (dbt/models/marts/image_feed_delay.yml)
            "snapshot_date": SNAPSHOTS,
            "kind": ["simulated"] * 4,
            "crawl": ["backfill", "feed", "feed", "resweep"],
            "previous_snapshot_date": [None, *SNAPSHOTS[:3]],
            "n_new_images": [400, 400, 400, 3],
            "n_created_before_previous": [None, 4, 5, 1],
            "delay_days_p50": [0.5, 0.5, 0.5, 0.5],
            "delay_days_p90": [3.0, 3.0, 3.0, 3.0],
            "delay_days_max": [9.0, 9.0, 9.0, 9.0],
        }
    )
    package = write_package(tmp_path, {"monthly_coverage": coverage, "image_feed_delay": delay}, with_events=False)
    render_site(package)
    site = package / "dashboards"
    assert "Left out for lack of a creation date: Civitai models 10 of 300" in (site / "nsfw.html").read_text()
    page = (site / "coverage.html").read_text()
    assert 'id="image-feed-delay"' in page and "90th percentile" in page
    assert (site / "data" / "undated-items.csv").exists()
    # images rated up to 3 days late: November's images are not all in yet, so November is partial too
    rows = read_csv(site / "data" / "nsfw-share-monthly.csv")
    flags = {(r["entity"], r["period"]): r["partial"] for r in rows if r["platform"] == "civitai"}
    assert flags[("image", "2025-11-01")] == "true" and flags[("model", "2025-11-01")] == "false"
    assert "This package has no policy_events table" in (site / "policy.html").read_text()


def test_a_package_with_empty_tables_still_renders_every_page(tmp_path):
    """A first package (or a source that listed nothing) has empty tables: every page still renders,
    and the headlines say nothing rather than something wrong."""
    package = write_package(tmp_path, {name: frame.head(0) for name, frame in tables().items()})
    render_site(package)
    site = package / "dashboards"
    assert len(list(site.glob("*.html"))) == len(PAGES)
    assert "% / " not in headline_section(site)


def test_the_banner_prefers_the_manifests_own_snapshot_list(tmp_path):
    package = write_package(tmp_path)
    manifest = json.loads((package / "manifest.json").read_text())
    manifest["snapshots"] = [
        {"source": "civitai_models", "snapshot_date": "2025-12-01", "kind": "live", "manifest_sha256": "ab"},
        {"source": "civitai_images", "snapshot_date": "2025-11-01", "kind": "simulated", "manifest_sha256": "cd"},
    ]
    (package / "manifest.json").write_text(json.dumps(manifest))
    render_site(package)
    banner = (package / "dashboards" / "index.html").read_text()
    assert (
        "1 of 2 snapshots come from hubwatch&#x27;s simulator, not a real hub: civitai_images of 2025-11-01" in banner
    )


def test_code_spans_in_descriptions_show_as_code_and_stay_escaped(tmp_path):
    """dbt's descriptions and the charts' definitions are Markdown prose: a `value` shows as code on
    the pages, not with its backticks, and whatever it holds is still escaped text."""
    package = write_package(tmp_path)
    manifest = json.loads((package / "manifest.json").read_text())
    column = next(c for c in manifest["tables"]["models"]["schema"] if c["name"] == "nsfw_any")
    column["description"] = "the API's own `nsfw` boolean; `<b>bold</b>` stays text"
    (package / "manifest.json").write_text(json.dumps(manifest))
    render_site(package)
    methodology = (package / "dashboards" / "methodology.html").read_text()
    assert "the API&#x27;s own <code>nsfw</code> boolean" in methodology
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code> stays text" in methodology and "<b>bold</b>" not in methodology
    nsfw = (package / "dashboards" / "nsfw.html").read_text()
    assert "own <code>nsfw</code> boolean" in nsfw and "`nsfw`" not in nsfw

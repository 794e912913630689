"""Figure and series builders: pure functions from small frames to tidy series and Plotly figures."""

from datetime import date

import polars as pl

from dashboards import figures as f
from dashboards import series as s
from dashboards import timeline
from dashboards.queries import open_package
from tests.dashboard_package import policy_events, write_package

CTX = f.Context("2025-12-01", "Rule set v1; snapshots 2025-09-01 to 2025-12-01 (simulated); package 2025-12-01.", True)


def test_only_events_inside_the_plotted_range_are_drawn_and_context_never():
    events = policy_events()
    inside = timeline.drawn_events(events, date(2025, 4, 1), date(2025, 7, 1))
    assert "real-person ban" in inside["label"].to_list()
    assert set(inside["kind"]) <= set(timeline.DRAWN_KINDS)
    assert "re-uploads to Hugging Face" not in inside["label"].to_list()  # context: listed, not drawn
    # the API has hidden real people since 2025-05-22 with no end: a later chart still shades it
    later = timeline.drawn_events(events, date(2026, 9, 1), date(2026, 12, 1))
    assert later["label"].to_list() == ["API hides real people"]
    assert timeline.drawn_events(events, date(2021, 1, 1), date(2021, 12, 1)).is_empty()


def test_every_figure_carries_its_source_date_and_simulated_mark_inside(tmp_path):
    package = open_package(write_package(tmp_path))
    fig = f.time_chart(s.nsfw_monthly(package), CTX, title="NSFW share", source="table nsfw_share_monthly")
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "Source: hubwatch package 2025-12-01, table nsfw_share_monthly" in texts
    assert "Rule set v1; snapshots 2025-09-01 to 2025-12-01" in texts
    assert "SIMULATED DATA" in texts
    assert fig.layout.title.text == "NSFW share"
    axis = f.bottom_left_axis(fig)
    assert fig.layout[axis].rangeslider.visible and fig.layout[axis].rangeselector.buttons


def test_small_multiples_one_panel_per_platform_and_entity(tmp_path):
    package = open_package(write_package(tmp_path))
    fig = f.time_chart(s.nsfw_monthly(package), CTX, title="t", source="x")
    panels = {
        a.text
        for a in fig.layout.annotations
        if a.text in ("Civitai · models", "Civitai · images", "Hugging Face · models")
    }
    assert len(panels) == 3
    data = [t for t in fig.data if t.meta and t.meta["role"] == "data"]
    # Hugging Face's one NSFW tag sets both thresholds: drawn once, not hidden under its twin
    assert len(data) == 5
    assert {t.name for t in data} == {"NSFW, PG-13 and above", "NSFW, R and above", s.BOTH_THRESHOLDS}
    assert all("%{hovertext}" in t.hovertemplate for t in data)
    assert "November 2025" in data[0].hovertext[-2] and " of " in data[0].hovertext[-2]


def test_heatmap_leaves_a_gap_where_a_family_has_no_item():
    data = s.tidy(
        pl.DataFrame(
            {
                "period": ["2024-01-01", "2024-02-01", "2024-01-01"],
                "platform": "civitai",
                "entity": "model",
                "category": ["anime/manga", "anime/manga", "furry/anthro"],
                "series": ["anime/manga", "anime/manga", "furry/anthro"],
                "numerator": [1, 2, 3],
                "denominator": [40, 40, 40],
                "value": [0.1, 0.2, 0.3],
                "partial": False,
            }
        )
    )
    fig = f.heatmap_chart(data, CTX, title="families", source="x")
    heat = next(t for t in fig.data if t.type == "heatmap")
    assert list(heat.y) == ["anime/manga", "furry/anthro"]
    assert heat.z[1][1] is None  # no furry model in February: a gap, not a zero


def test_studies_compare_the_same_months_only(tmp_path):
    package = open_package(write_package(tmp_path))
    rows = s.studies(package)
    ours = rows.filter(pl.col("category") == "hubwatch")
    assert set(ours["period"]) <= {m.isoformat() for m in s.CIVIVERSE_MONTHLY["month"]}
    theirs = rows.filter(pl.col("category") == "Civiverse-6M")
    assert theirs.height == 7 and theirs["denominator"].null_count() == 0


def test_every_chart_is_what_plotlys_own_validation_would_make_of_it(tmp_path):
    """Figures are drafted as plain dicts and taken without Plotly's validation (figures.Draft):
    validating each one again must change nothing (an unknown property raises; a value Plotly
    coerces, e.g. a named colour scale or a colour bar's title given as text, or a property left
    None, would differ), so the site shows what the validating object model drew."""
    import plotly.graph_objects as go

    from dashboards.charts import charts_by_page

    charts = [c for page in charts_by_page(open_package(write_package(tmp_path))).values() for c in page]
    assert {c.figure.data[0].type for c in charts if c.figure.data} >= {"scatter", "bar", "heatmap"}
    for chart in charts:
        drafted = chart.figure.to_plotly_json()
        assert go.Figure(drafted).to_plotly_json() == drafted, chart.slug

"""Figure builders: pure functions from small Polars frames to Plotly figures."""

from datetime import date

import polars as pl

from dashboards import figures as f


def monthly(months):
    return pl.DataFrame(
        {
            "platform": ["civitai"] * len(months),
            "entity": ["model"] * len(months),
            "month": months,
            "n_items": [10] * len(months),
            "n_nsfw_any": [5] * len(months),
            "n_nsfw_strict": [2] * len(months),
            "share_any": [0.5] * len(months),
            "share_strict": [0.2] * len(months),
        }
    )


def test_nsfw_share_puts_both_thresholds_side_by_side():
    series = f.nsfw_share_series(monthly([date(2024, 1, 1), date(2024, 2, 1)]))
    assert set(series["series"]) == {"civitai model · PG-13 and above", "civitai model · R and above"}
    fig = f.line_chart(series, "NSFW share", "share", percent=True)
    assert len(fig.data) == 2 and fig.layout.title.text == "NSFW share"
    assert fig.layout.yaxis.tickformat == ".0%"
    assert list(fig.data[0].y) == [0.5, 0.5]


def test_policy_annotations_only_inside_the_plotted_range():
    inside = f.line_chart(f.nsfw_share_series(monthly([date(2025, 4, 1), date(2025, 7, 1)])), "t", "share")
    texts = [a.text for a in inside.layout.annotations]
    assert "real-person ban; API hides real people" in texts
    assert len(inside.layout.shapes) == len(texts)
    outside = f.line_chart(f.nsfw_share_series(monthly([date(2023, 8, 1), date(2023, 9, 1)])), "t", "share")
    assert not outside.layout.annotations


def test_hub_text_is_escaped_in_labels():
    series = pl.DataFrame({"x": ["<img src=x onerror=alert(1)>"], "series": ["<b>s</b>"], "value": [1.0]})
    fig = f.bar_chart(series, "tags", "n", stacked=False)
    assert list(fig.data[0].x) == ["&lt;img src=x onerror=alert(1)&gt;"]
    assert fig.data[0].name == "&lt;b&gt;s&lt;/b&gt;"


def test_heatmap_has_one_row_per_family_and_one_column_per_month():
    series = pl.DataFrame(
        {
            "x": ["2024-01-01", "2024-02-01", "2024-01-01"],
            "series": ["anime/manga", "anime/manga", "furry/anthro"],
            "value": [0.1, 0.2, 0.3],
        }
    )
    fig = f.heatmap(series, "families")
    assert list(fig.data[0].x) == ["2024-01-01", "2024-02-01"] and list(fig.data[0].y) == [
        "anime/manga",
        "furry/anthro",
    ]
    assert fig.data[0].z[1][1] is None  # no furry model in February: a gap, not a zero


def test_rising_tags_compare_the_last_three_months_with_before():
    months = [date(2024, m, 1) for m in range(1, 7)]
    tags = pl.DataFrame(
        {
            "platform": "civitai",
            "entity": "model",
            "month": months * 2,
            "tag": ["pony"] * 6 + ["sdxl"] * 6,
            "subculture": None,
            "n_items": 1,
            "share": [0.1, 0.1, 0.1, 0.4, 0.4, 0.4] + [0.5] * 6,
        }
    )
    rising = f.rising_tags_series(tags)
    assert rising["x"].to_list() == ["pony", "sdxl"] and rising["value"].round(6).to_list() == [0.3, 0.0]


def test_studies_compare_the_same_months_only():
    ours = monthly([date(2023, 10, 1), date(2025, 1, 1)]).with_columns(entity=pl.lit("image"))
    reference = pl.DataFrame({"month": [date(2023, 10, 1)], "nsfw_ratio": [0.5519]})
    series = f.studies_series(ours, reference)
    assert series.height == 2 and set(series["x"]) == {date(2023, 10, 1)}

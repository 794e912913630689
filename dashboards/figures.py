"""Polars frames in, Plotly figures out: pure functions, no I/O.

Every chart is drawn from a tidy frame (x, series, value); that same frame is what the page
offers as CSV, so the download is exactly what is plotted. Text that comes from the hubs (tags,
model names) is HTML-escaped before it reaches a label: Plotly renders a little HTML in labels.
"""

from __future__ import annotations

import html
from datetime import date

import plotly.graph_objects as go
import polars as pl

# Dates that explain breaks in the series (see the measures reference, policy timeline).
POLICY_EVENTS = (
    (date(2023, 6, 22), "real-people rules"),
    (date(2024, 2, 15), "browsing levels"),
    (date(2025, 4, 29), "likeness takedown form"),
    (date(2025, 5, 22), "real-person ban; API hides real people"),
)
TEMPLATE = "plotly_white"


def safe(text: object) -> str:
    """Untrusted hub text made inert for Plotly's HTML-ish labels."""
    return html.escape(str(text), quote=True)


def annotate_policy(fig: go.Figure, xs: pl.Series) -> go.Figure:
    """Mark every policy event that falls inside the plotted time range."""
    if xs.len() == 0:
        return fig
    low, high = xs.min(), xs.max()
    for index, (day, label) in enumerate(POLICY_EVENTS):
        if low <= day <= high:
            fig.add_vline(x=day.isoformat(), line_dash="dot", line_color="#b00")
            fig.add_annotation(
                x=day.isoformat(),
                y=1 - 0.07 * (index % 2),  # alternate heights: close events stay legible
                yref="paper",
                text=label,
                showarrow=False,
                xanchor="left",
                yanchor="top",
                font={"size": 10, "color": "#b00"},
            )
    return fig


def line_chart(series: pl.DataFrame, title: str, y_title: str, percent: bool = False) -> go.Figure:
    """Lines from a tidy frame with columns x (dates), series, value."""
    fig = go.Figure()
    for name in series["series"].unique(maintain_order=True).to_list():
        part = series.filter(pl.col("series") == name).sort("x")
        fig.add_trace(
            go.Scatter(x=part["x"].to_list(), y=part["value"].to_list(), mode="lines+markers", name=safe(name))
        )
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        yaxis_title=y_title,
        legend_title_text="",
        yaxis_tickformat=".0%" if percent else None,
        margin={"t": 60},
    )
    return annotate_policy(fig, series["x"])


def bar_chart(series: pl.DataFrame, title: str, y_title: str, stacked: bool = True) -> go.Figure:
    fig = go.Figure()
    for name in series["series"].unique(maintain_order=True).to_list():
        part = series.filter(pl.col("series") == name)
        fig.add_trace(go.Bar(x=[safe(x) for x in part["x"].to_list()], y=part["value"].to_list(), name=safe(name)))
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        yaxis_title=y_title,
        barmode="stack" if stacked else "group",
        legend_title_text="",
        margin={"t": 60},
    )
    if series["x"].dtype == pl.Date:
        annotate_policy(fig, series["x"])
    return fig


def heatmap(series: pl.DataFrame, title: str) -> go.Figure:
    """Rows = series, columns = x (months), colour = value (a share)."""
    wide = series.pivot(on="x", index="series", values="value", sort_columns=True).sort("series")
    months = [c for c in wide.columns if c != "series"]
    fig = go.Figure(
        go.Heatmap(
            z=[list(row) for row in wide.select(months).iter_rows()],
            x=months,
            y=[safe(s) for s in wide["series"].to_list()],
            colorscale="Viridis",
            colorbar={"title": "share", "tickformat": ".0%"},
            hoverongaps=False,
        )
    )
    fig.update_layout(title=title, template=TEMPLATE, margin={"t": 60})
    return fig


# -- series: marts -> tidy frames ---------------------------------------------------------------
def nsfw_share_series(monthly: pl.DataFrame) -> pl.DataFrame:
    """Share of NSFW items by creation month: PG-13+ and R+ side by side, per platform and entity."""
    return (
        monthly.unpivot(index=["platform", "entity", "month"], on=["share_any", "share_strict"])
        .select(
            x=pl.col("month"),
            series=pl.format(
                "{} {} · {}",
                "platform",
                "entity",
                pl.col("variable").replace({"share_any": "PG-13 and above", "share_strict": "R and above"}),
            ),
            value=pl.col("value"),
        )
        .sort("series", "x")
    )


def nsfw_snapshot_series(by_snapshot: pl.DataFrame) -> pl.DataFrame:
    return nsfw_share_series(by_snapshot.rename({"snapshot_date": "month"}))


def counts_by_platform(frame: pl.DataFrame, x: str, labels: dict[str, str]) -> pl.DataFrame:
    """One series per platform and count column (labels: column -> legend text) over x."""
    return (
        frame.unpivot(index=["platform", x], on=list(labels))
        .select(
            x=pl.col(x),
            series=pl.format("{} · {}", "platform", pl.col("variable").replace(labels)),
            value=pl.col("value"),
        )
        .sort("series", "x")
    )


def real_person_tier_series(monthly: pl.DataFrame) -> pl.DataFrame:
    tiers = {
        "n_real_person": "any tier (union)",
        "n_declared": "declared (poi)",
        "n_tagged": "tagged",
        "n_name_match": "name match",
        "n_hash_match": "file-hash match",
    }
    return counts_by_platform(monthly, "month", tiers)


def gender_series(monthly: pl.DataFrame) -> pl.DataFrame:
    totals = monthly.group_by("platform").agg(pl.col("n_female", "n_male", "n_unknown_gender").sum())
    return (
        totals.unpivot(index="platform")
        .select(
            x=pl.col("platform"),
            series=pl.col("variable").replace(
                {"n_female": "female", "n_male": "male", "n_unknown_gender": "unknown (not stated)"}
            ),
            value=pl.col("value"),
        )
        .sort("x", "series")
    )


def real_person_nsfw_series(monthly: pl.DataFrame) -> pl.DataFrame:
    return (
        monthly.select(
            x=pl.col("month"),
            series=pl.format("{} · real-person models that are NSFW (R+)", "platform"),
            value=(pl.col("n_real_person_nsfw") / pl.when(pl.col("n_real_person") > 0).then(pl.col("n_real_person"))),
        )
        .drop_nulls("value")
        .sort("series", "x")
    )


def removal_series(lifecycle: pl.DataFrame) -> pl.DataFrame:
    wanted = {
        "n_removed": "removed (absent)",
        "n_real_person_removed": "of which real-person",
        "n_taken_down": "taken down",
        "n_archived": "archived",
    }
    return counts_by_platform(lifecycle, "snapshot_date", wanted)


def visible_series(lifecycle: pl.DataFrame) -> pl.DataFrame:
    return lifecycle.select(
        x=pl.col("snapshot_date"),
        series=pl.format("{} · models listed", "platform"),
        value=pl.col("n_visible"),
    ).sort("series", "x")


def subculture_series(trends: pl.DataFrame, entity: str = "model", platform: str = "civitai") -> pl.DataFrame:
    return (
        trends.filter((pl.col("entity") == entity) & (pl.col("platform") == platform))
        .select(x=pl.col("month").cast(pl.String), series=pl.col("subculture"), value=pl.col("share"))
        .sort("series", "x")
    )


def rising_tags_series(
    tags: pl.DataFrame, entity: str = "model", platform: str = "civitai", top: int = 15
) -> pl.DataFrame:
    """Tags whose share rose most: the last three months against the months before."""
    part = tags.filter((pl.col("entity") == entity) & (pl.col("platform") == platform))
    if part.is_empty():
        return pl.DataFrame(schema={"x": pl.String, "series": pl.String, "value": pl.Float64})
    months = part["month"].unique().sort()
    recent = months.tail(3).to_list()
    shares = part.group_by("tag").agg(
        recent=pl.col("share").filter(pl.col("month").is_in(recent)).mean().fill_null(0.0),
        before=pl.col("share").filter(~pl.col("month").is_in(recent)).mean().fill_null(0.0),
    )
    rising = (
        shares.with_columns(value=pl.col("recent") - pl.col("before"))
        .sort("value", "tag", descending=[True, False])
        .head(top)
    )
    return rising.select(
        x=pl.col("tag"), series=pl.lit("change in share (last 3 months vs before)"), value=pl.col("value")
    )


def base_model_series(mix: pl.DataFrame, platform: str = "civitai") -> pl.DataFrame:
    return (
        mix.filter(pl.col("platform") == platform)
        .select(x=pl.col("month"), series=pl.col("base_model_family"), value=pl.col("share"))
        .sort("series", "x")
    )


def reupload_series(matches: pl.DataFrame) -> pl.DataFrame:
    if matches.is_empty():
        return pl.DataFrame(schema={"x": pl.Date, "series": pl.String, "value": pl.Int64})
    return (
        matches.group_by(
            x=pl.col("hf_first_seen").dt.truncate("1mo"),
            series=pl.when(pl.col("civitai_real_person"))
            .then(pl.lit("copies of real-person models"))
            .otherwise(pl.lit("other copies")),
        )
        .agg(value=pl.col("hf_model_id").n_unique())
        .sort("series", "x")
    )


def coverage_series(coverage: pl.DataFrame) -> pl.DataFrame:
    return coverage.select(
        x=pl.col("snapshot_date"), series=pl.format("{} ({})", "source", "kind"), value=pl.col("items")
    ).sort("series", "x")


def studies_series(monthly: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """Civiverse-6M's monthly image NSFW ratio beside ours (PG-13 and above) for the same months."""
    ours = monthly.filter((pl.col("platform") == "civitai") & (pl.col("entity") == "image")).select(
        x=pl.col("month"), series=pl.lit("hubwatch: images PG-13 and above"), value=pl.col("share_any")
    )
    theirs = reference.select(x=pl.col("month"), series=pl.lit("Civiverse-6M (published)"), value=pl.col("nsfw_ratio"))
    months = theirs["x"]
    return pl.concat([theirs, ours.filter(pl.col("x").is_in(months.implode()))]).sort("series", "x")

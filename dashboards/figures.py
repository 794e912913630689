"""Tidy series in, Plotly figures out: pure functions, no I/O.

Every figure is drawn from the tidy frame of dashboards.series, and carries inside itself what an
exported PNG must keep: the source, the package date, the rule set and snapshot range, SIMULATED
where so, and a line saying how to read it (hollow = partial, faint = small n, band = 95% Wilson).
Each point of a data trace holds its CSV row in `customdata` (period, platform, entity, category,
measure, numerator, denominator, partial), so a test can hold the plotted data to the CSV.
Text from the hubs (tags, names) is HTML-escaped before it reaches a label or a hover.

Figures are drafted as the plain dicts Plotly.js is given (Draft) and become a go.Figure once, at
the end, without Plotly's per-property validation: building them through the validating object
model (every update_layout re-walking the figure, the template validated and deep-copied per
figure) was most of the CPU of rendering the site. What needs Plotly's coercion (a heatmap's named colour
scale, its colour bar's title) is still built as a validated trace; tests/test_figures.py holds
every drafted figure to what Plotly's validation would make of it.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import orjson
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.basedatatypes import BaseTraceType
from plotly.subplots import make_subplots

from dashboards import timeline
from dashboards.series import MIN_N, PLATFORM

TEMPLATE = "plotly_white"
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F", "#000000")
CUSTOM = ("period", "platform", "entity", "category", "measure", "numerator", "denominator", "partial")
PANEL_PX = 230
TITLE_PX = 44
LEGEND_PX = 26
PANEL_TITLE_PX = 22
FOOT_PX = 50
FOOT_CHARS = 165  # a footnote line's length at the site's width (10.5 px text)


@cache
def template_json() -> bytes:
    """The template as Plotly would store it in each figure, resolved once."""
    return orjson.dumps(pio.templates[TEMPLATE].to_plotly_json())


def merge(target: dict, props: dict) -> dict:
    """Plotly's update semantics on plain dicts: nested dicts merge, None leaves a property unset,
    anything else (lists included) replaces."""
    for key, value in props.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value
    return target


@cache
def subplot_grid(grid: bytes) -> bytes:
    """make_subplots(**grid)'s layout and [row, col, axis refs] of each cell, as JSON: charts of one
    package repeat the same grids and panel titles."""
    fig = make_subplots(**orjson.loads(grid), figure=go.Figure(layout={"template": {}}, _validate=False))
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    cells = [
        [r + 1, c + 1, refs[0].trace_kwargs]
        for r, row in enumerate(fig._grid_ref)  # noqa: SLF001 (the cells' axis refs, as add_trace reads them)
        for c, refs in enumerate(row)
        if refs
    ]
    return orjson.dumps([layout, cells])


@dataclass
class Draft:
    """A figure as the dicts Plotly.js is given: traces, layout, and each subplot cell's axis refs."""

    layout: dict[str, Any] = field(default_factory=dict)
    data: list[dict[str, Any]] = field(default_factory=list)
    cells: dict[tuple[int, int], dict[str, str]] = field(default_factory=dict)

    @classmethod
    def subplots(cls, **grid: Any) -> Draft:
        """make_subplots' layout (axis domains and anchors, panel titles) and cell refs, as dicts."""
        layout, cells = orjson.loads(subplot_grid(orjson.dumps(grid)))
        return cls(layout, [], {(r, c): refs for r, c, refs in cells})

    def add(self, trace: dict[str, Any] | BaseTraceType, row: int | None = None, col: int | None = None) -> None:
        """A trace (a dict with its `type`, or a validated trace), in a cell when row/col are given."""
        entry = trace.to_plotly_json() if isinstance(trace, BaseTraceType) else dict(trace)
        if row is not None:
            entry.update(self.cells[(row, col or 1)])
        self.data.append(entry)

    def axes(self, kind: str) -> list[str]:
        """The layout's x or y axes (kind "x" / "y"): every one the grid made, else the default one."""
        names = [name for name in self.layout if re.fullmatch(f"{kind}axis\\d*", name)]
        return names or [f"{kind}axis"]

    def update_axes(self, kind: str, **props: Any) -> None:
        for name in self.axes(kind):
            merge(self.layout.setdefault(name, {}), props)

    def figure(self) -> go.Figure:
        """The finished figure, with its template, taken as it is (every property was set as Plotly
        itself sets it)."""
        layout = {**self.layout, "template": orjson.loads(template_json())}
        return go.Figure(data=self.data, layout=layout, _validate=False)


@dataclass(frozen=True)
class Context:
    """What every figure of a package says about where it comes from."""

    package_date: str
    footnote: str  # rule set, snapshot range, package date
    simulated: bool
    events: pl.DataFrame | None = None
    first_snapshot: date | None = None  # monthly counts before it hold only what survived until it


def safe(text: object) -> str:
    """Untrusted hub text made inert for Plotly's HTML-ish labels."""
    return html.escape(str(text), quote=True)


def month_label(period: str, monthly: bool) -> str:
    try:
        day = date.fromisoformat(period)
    except ValueError:
        return period.replace("/", " to ")
    return f"{day:%B %Y}" if monthly else f"{day:%-d %B %Y}"


def hover(row: dict, name: str, share: bool, monthly: bool) -> str:
    lines = [f"<b>{safe(name)}</b>", month_label(row["period"], monthly)]
    num, den = row["numerator"], row["denominator"]
    if share:
        if row["value"] is None:
            lines.append("no value")
        elif num is not None and den is not None:
            lines.append(f"{row['value']:.1%} ({num:,} of {den:,})")
        else:
            lines.append(f"{row['value']:.1%}" + (f" of {den:,}" if den is not None else " (numerator not published)"))
        if row["ci_low"] is not None:
            lines.append(f"95% interval {row['ci_low']:.1%} to {row['ci_high']:.1%}")
        if den is not None and den < MIN_N:
            lines.append(f"<i>fewer than {MIN_N} items: read with care</i>")
    else:
        lines.append(f"{int(row['value']):,}" + (f" (of {den:,})" if den is not None else ""))
    if row["partial"]:
        lines.append("<i>partial: the snapshots do not cover this period whole</i>")
    return "<br>".join(lines)


def custom(rows: list[dict]) -> list[list]:
    return [[row[c] for c in CUSTOM] for row in rows]


def colour_map(names: list[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def drop_all_zero(data: pl.DataFrame, by: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """Series that are zero (or empty) everywhere are not drawn; their names are returned for the note."""
    if data.is_empty():
        return data, []
    nonzero = data.group_by(by).agg(keep=(pl.col("value").fill_null(0) != 0).any())
    dropped = nonzero.filter(~pl.col("keep")).sort(by)
    names = [
        f"{PLATFORM.get(r['platform'], r['platform'])} {r['entity']}s · {r['series']}"
        + (f" ({r['category']})" if r.get("category") not in (None, r["series"]) else "")
        for r in dropped.iter_rows(named=True)
    ]
    return data.join(dropped.select(by), on=by, how="anti", nulls_equal=True), names


def grid(n: int) -> tuple[int, int]:
    cols = 1 if n <= 3 else 2
    return -(-n // cols), cols


def panel_name(row: dict, panel_by: tuple[str, ...]) -> str:
    parts = []
    for column in panel_by:
        value = row[column]
        if column == "platform":
            parts.append(PLATFORM.get(value, value))
        elif column == "entity":
            parts.append(f"{value}s")
        else:
            parts.append(str(value))
    return " · ".join(parts)


def time_chart(
    data: pl.DataFrame,
    ctx: Context,
    *,
    title: str,
    source: str,
    panel_by: tuple[str, ...] = ("platform", "entity"),
    share: bool = True,
    bars: bool = False,
    stacked: bool = False,
    monthly: bool = True,
    notes: tuple[str, ...] = (),
) -> go.Figure:
    """Small multiples over time: one panel per value of panel_by, a few series in each.

    Shares: points with markers (hollow when partial, faint below MIN_N), a line through the points
    that are neither, a dashed line into the partial period, and the 95% Wilson band. Counts: bars,
    stacked only when the series are disjoint parts of one whole, partial periods hatched.
    """
    rows = data.with_columns(
        panel=pl.struct(list(panel_by)).map_elements(lambda r: panel_name(r, panel_by), return_dtype=pl.String)
    )
    panels = list(dict.fromkeys(rows["panel"].to_list()))
    n_rows, n_cols = grid(max(len(panels), 1))
    fig = Draft.subplots(
        rows=n_rows,
        cols=n_cols,
        shared_xaxes="all",
        shared_yaxes="all" if share else False,
        subplot_titles=[safe(p) for p in panels] or [""],
        vertical_spacing=min(0.3 / max(n_rows, 1), 0.12) + 0.04,
        horizontal_spacing=0.08,
        # no axes in the grid's cells past the last panel
        specs=[[{} if r * n_cols + c < max(len(panels), 1) else None for c in range(n_cols)] for r in range(n_rows)],
    )
    colours = colour_map(rows["series"].to_list())
    shown: set[str] = set()
    for index, panel in enumerate(panels):
        r, c = index // n_cols + 1, index % n_cols + 1
        part = rows.filter(pl.col("panel") == panel)
        for name in dict.fromkeys(part["series"].to_list()):
            points = part.filter(pl.col("series") == name).sort("period").to_dicts()
            colour = colours[name]
            full = f"{panel} · {name}"
            xs = [p["period"] for p in points]
            ys = [p["value"] for p in points]
            first = name not in shown
            legend = {"name": safe(name), "legendgroup": safe(name), "showlegend": first and bars}
            shown.add(name)
            if first and not bars:  # the legend's own marker: solid, whatever the first point looks like
                fig.add(
                    {
                        "type": "scatter",
                        "x": [None],
                        "y": [None],
                        "mode": "lines+markers",
                        "name": safe(name),
                        "legendgroup": safe(name),
                        "marker": {"color": colour, "size": 7},
                        "line": {"color": colour, "width": 2},
                        "hoverinfo": "skip",
                        "meta": {"role": "legend"},
                    },
                    r,
                    c,
                )
            if bars:
                fig.add(
                    {
                        "type": "bar",
                        "x": xs,
                        "y": ys,
                        "marker": {
                            "color": colour,
                            "opacity": [0.45 if p["partial"] else 1.0 for p in points],
                            "pattern": {"shape": ["/" if p["partial"] else "" for p in points], "solidity": 0.4},
                        },
                        "customdata": custom(points),
                        "hovertext": [hover(p, full, share, monthly) for p in points],
                        "hovertemplate": "%{hovertext}<extra></extra>",
                        "meta": {"role": "data"},
                        **legend,
                    },
                    r,
                    c,
                )
                continue
            if share and any(p["ci_low"] is not None for p in points):
                band = [p for p in points if p["ci_low"] is not None]
                fig.add(
                    {
                        "type": "scatter",
                        "x": [p["period"] for p in band] + [p["period"] for p in reversed(band)],
                        "y": [p["ci_high"] for p in band] + [p["ci_low"] for p in reversed(band)],
                        "fill": "toself",
                        "fillcolor": colour,
                        "opacity": 0.13,
                        "line": {"width": 0},
                        "hoverinfo": "skip",
                        "showlegend": False,
                        "legendgroup": safe(name),
                        "meta": {"role": "ci"},
                    },
                    r,
                    c,
                )
            solid = [
                p["value"] if not p["partial"] and (not share or (p["denominator"] or 0) >= MIN_N) else None
                for p in points
            ]
            fig.add(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": solid,
                    "mode": "lines",
                    "line": {"color": colour, "width": 2},
                    "connectgaps": False,
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "legendgroup": safe(name),
                    "meta": {"role": "line"},
                },
                r,
                c,
            )
            into_partial = [i for i, p in enumerate(points) if p["partial"]]
            if into_partial and into_partial[0] > 0:
                tail = points[into_partial[0] - 1 :]
                fig.add(
                    {
                        "type": "scatter",
                        "x": [p["period"] for p in tail],
                        "y": [p["value"] for p in tail],
                        "mode": "lines",
                        "line": {"color": colour, "width": 1.5, "dash": "dot"},
                        "hoverinfo": "skip",
                        "showlegend": False,
                        "legendgroup": safe(name),
                        "meta": {"role": "line"},
                    },
                    r,
                    c,
                )
            fig.add(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": ys,
                    "mode": "markers",
                    "marker": {
                        "color": colour,
                        "size": 7,
                        "symbol": ["circle-open" if p["partial"] else "circle" for p in points],
                        "opacity": [0.3 if share and (p["denominator"] or 0) < MIN_N else 1.0 for p in points],
                        "line": {"width": 1.5, "color": colour},
                    },
                    "customdata": custom(points),
                    "hovertext": [hover(p, full, share, monthly) for p in points],
                    "hovertemplate": "%{hovertext}<extra></extra>",
                    "meta": {"role": "data"},
                    **legend,
                },
                r,
                c,
            )
    if bars:
        merge(fig.layout, {"barmode": "stack" if stacked else "group", "bargap": 0.15})
    if share:
        fig.update_axes("y", range=[0, 1.02], tickformat=".0%")
    low, high = period_bounds(rows)
    fig.update_axes(
        "x",
        type="date",
        tickformat="%b %Y",
        hoverformat="%B %Y" if monthly else "%-d %B %Y",
        dtick=month_ticks(low, high),
    )
    reading = reading_note(rows, share, bars, monthly)
    platforms = [set(rows.filter(pl.col("panel") == panel)["platform"].to_list()) for panel in panels]
    if monthly and low is not None and ctx.first_snapshot is not None and low < ctx.first_snapshot:
        fig.layout["shapes"] = [
            {
                "type": "rect",
                "xref": x_ref,
                "yref": f"{y_ref} domain",
                "x0": shift_days(low.isoformat(), -15),
                "x1": ctx.first_snapshot.isoformat(),
                "y0": 0,
                "y1": 1,
                "fillcolor": "#d9c48f",
                "opacity": 0.18,
                "line": {"width": 0},
                "layer": "below",
            }
            for x_ref, y_ref in subplot_axes(fig.layout)
        ]
        reading += (
            f" Beige: created before the first snapshot ({ctx.first_snapshot:%-d %b %Y}); only items still listed "
            "then are counted."
        )
    return finish(
        fig,
        ctx,
        title=title,
        source=source,
        n_rows=n_rows,
        notes=(reading, *notes),
        time_axis=(low, high),
        platforms=platforms,
    )


def month_ticks(low: date | None, high: date | None) -> str | None:
    """A tick every month on a short axis, every quarter on a medium one (never two labels for one month)."""
    if low is None or high is None:
        return None
    months = (high.year - low.year) * 12 + high.month - low.month
    return "M1" if months <= 14 else "M3" if months <= 36 else None


def period_bounds(rows: pl.DataFrame) -> tuple[date | None, date | None]:
    days = [date.fromisoformat(p) for p in rows["period"].to_list() if p and "/" not in p]
    return (min(days), max(days)) if days else (None, None)


def reading_note(rows: pl.DataFrame, share: bool, bars: bool, monthly: bool) -> str:
    parts = []
    partial = rows.filter(pl.col("partial"))["period"].to_list()
    if partial:
        first = month_label(min(partial), monthly)
        parts.append(
            f"{'Hatched bars' if bars else 'Hollow markers, dotted line'}: "
            f"partial period ({first} on; not covered whole)"
        )
    if share and not bars:
        parts.append(f"faint: fewer than {MIN_N} items")
        parts.append("band: 95% Wilson interval")
    return "; ".join(parts) + ("." if parts else "")


def finish(
    fig: Draft,
    ctx: Context,
    *,
    title: str,
    source: str,
    n_rows: int,
    notes: tuple[str, ...] = (),
    time_axis: tuple[date | None, date | None] = (None, None),
    panel_px: int = PANEL_PX,
    platforms: list[set[str]] | None = None,
) -> go.Figure:
    """Title, legend, policy timeline, date-range control, and the marks an exported PNG keeps.
    platforms: the platforms each panel shows, in subplot order (a hub's API-hiding period is shaded
    only where that hub is plotted)."""
    layout = fig.layout
    low, high = time_axis
    markers: list[timeline.Marker] = []
    shapes: list[dict] = []
    labels: list[dict] = []
    if low is not None and high is not None:
        events = timeline.drawn_events(ctx.events, low, high)
        d0, d1 = layout.get("xaxis", {}).get("domain") or (0, 1)
        markers = timeline.layout_markers(events, low, high, width_px=timeline.PLOT_WIDTH_PX * (d1 - d0))
        shapes, labels = event_marks(layout, events, markers, high, platforms)
    lanes = timeline.lanes_used(markers)
    notes = tuple(n for n in notes if n)
    top = TITLE_PX + LEGEND_PX + lanes * timeline.LANE_PX + PANEL_TITLE_PX
    slider = 60 if low is not None else 0
    stamp = f"Source: hubwatch package {ctx.package_date}, {source}. {ctx.footnote}"
    lines = [piece for line in (stamp, *notes) for piece in textwrap.wrap(line, FOOT_CHARS)]
    bottom = 40 + slider + FOOT_PX + 15 * max(len(lines) - 2, 0)
    height = top + bottom + panel_px * n_rows
    plot_px = height - top - bottom
    merge(
        layout,
        {
            "height": height,
            "margin": {"t": top, "b": bottom, "l": 60, "r": 30},
            "title": {
                "text": safe(title),
                "x": 0.01,
                "xanchor": "left",
                "y": 1 - 8 / height,
                "yanchor": "top",
                "font": {"size": 17},
            },
            "legend": {
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "yref": "container",
                "y": 1 - TITLE_PX / height,
                "yanchor": "top",
            },
            "hoverlabel": {"align": "left"},
        },
    )
    for annotation in layout.get("annotations", []):  # panel titles (make_subplots' own annotations)
        merge(annotation, {"font": {"size": 12, "color": "#333"}})
    if low is not None:
        merge(
            layout[bottom_left_axis(layout)],
            {
                "rangeslider": {"visible": True, "thickness": 0.06},
                "rangeselector": {
                    "buttons": [
                        {"count": 1, "label": "last year", "step": "year", "stepmode": "backward"},
                        {"count": 2, "label": "2 years", "step": "year", "stepmode": "backward"},
                        {"step": "all", "label": "all"},
                    ],
                    "x": 1,
                    "xanchor": "right",
                    "y": 1 + (top - TITLE_PX) / plot_px,
                    "yanchor": "top",
                    "font": {"size": 11},
                },
            },
        )
    marks = [
        {
            "text": safe(text),
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "bottom",
            "yshift": -bottom + 6 + 15 * i,
            "showarrow": False,
            "align": "left",
            "font": {"size": 10.5, "color": "#444"},
            "name": "footnote",
        }
        for i, text in enumerate(reversed(lines))
    ]
    if ctx.simulated:
        marks.append(
            {
                "text": "<b>SIMULATED DATA</b>",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,  # the top's middle: the title is on the left, the toolbar's buttons on the right
                "y": 1,
                "xanchor": "center",
                "yanchor": "top",
                "yshift": top - 8,
                "showarrow": False,
                "font": {"size": 13, "color": "#b00020"},
                "bordercolor": "#b00020",
                "borderwidth": 1,
                "borderpad": 3,
                "name": "simulated",
            }
        )
    for key, added in (("annotations", [*labels, *marks]), ("shapes", shapes)):
        merged = [*layout.get(key, []), *added]
        if merged:  # Plotly leaves an empty list out
            layout[key] = merged
    return fig.figure()


def layout_of(fig: go.Figure | dict) -> dict:
    return fig.layout.to_plotly_json() if isinstance(fig, go.Figure) else fig


def bottom_left_axis(fig: go.Figure | dict) -> str:
    """The x axis drawn lowest in the first column (the one that carries the range slider); fig: a
    figure or its layout."""
    layout = layout_of(fig)
    axes = [name for name in layout if re.fullmatch(r"xaxis\d*", name)]

    def low_edge(name: str) -> float:
        anchor = layout[name].get("anchor") or "y"
        return layout["yaxis" + anchor[1:]]["domain"][0]

    return min(axes, key=lambda name: (round(low_edge(name), 3), layout[name]["domain"][0]))


def subplot_axes(fig: go.Figure | dict) -> list[tuple[str, str]]:
    """(x axis ref, y axis ref) of every subplot, e.g. ("x2", "y2"); fig: a figure or its layout."""
    layout = layout_of(fig)
    names = sorted((n for n in layout if re.fullmatch(r"xaxis\d*", n)), key=lambda n: int(n[5:] or 1))
    return [("x" + name[5:], layout[name].get("anchor") or "y") for name in names]


def event_marks(
    layout: dict,
    events: pl.DataFrame,
    markers: list[timeline.Marker],
    high: date,
    platforms: list[set[str]] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Shapes (a dotted line per event and a shade per API-hiding period, in every panel) and the
    lane labels above the top panel, as plain dicts: added in one go (Plotly's per-call add_vline
    across subplots took seconds per chart)."""
    shapes = []
    for index, (x_ref, y_ref) in enumerate(subplot_axes(layout)):
        shown = platforms[index] if platforms and index < len(platforms) else None
        for row in events.iter_rows(named=True):
            base = {"xref": x_ref, "yref": f"{y_ref} domain", "y0": 0, "y1": 1}
            hub = timeline.platform_of(row["scope"])
            if row["kind"] == "api_hides" and (shown is None or hub is None or hub in shown):
                shapes.append(
                    {
                        **base,
                        "type": "rect",
                        "x0": row["event_date"].isoformat(),
                        "x1": timeline.shade_end(row, high).isoformat(),
                        "fillcolor": "#888",
                        "opacity": 0.12,
                        "line": {"width": 0},
                        "layer": "below",
                    }
                )
            shapes.append(
                {
                    **base,
                    "type": "line",
                    "x0": row["event_date"].isoformat(),
                    "x1": row["event_date"].isoformat(),
                    "line": {"dash": "dot", "width": 1, "color": timeline.COLOURS.get(row["kind"], "#b00020")},
                    "opacity": 0.7,
                }
            )
    labels = [
        {
            "x": marker.day.isoformat(),
            "xref": "x",
            "y": 1,
            "yref": "paper",
            "yanchor": "bottom",
            "yshift": PANEL_TITLE_PX + marker.lane * timeline.LANE_PX,
            "xanchor": marker.anchor,
            "text": safe(marker.text),
            "hovertext": "<br><br>".join(marker.details),
            "showarrow": False,
            "font": {"size": 10, "color": timeline.COLOURS.get(marker.kind, "#b00020")},
            "name": "policy-event",
        }
        for marker in markers
    ]
    return shapes, labels


def category_chart(
    data: pl.DataFrame,
    ctx: Context,
    *,
    title: str,
    source: str,
    panel_by: tuple[str, ...] = ("platform",),
    stacked: bool = False,
    x_title: str = "models",
    notes: tuple[str, ...] = (),
    share: bool = False,
) -> go.Figure:
    """Horizontal bars per category, one panel per platform; stacked only for disjoint parts."""
    rows = data.with_columns(
        panel=pl.struct(list(panel_by)).map_elements(lambda r: panel_name(r, panel_by), return_dtype=pl.String)
    )
    panels = list(dict.fromkeys(rows["panel"].to_list()))
    n = max(len(panels), 1)
    fig = Draft.subplots(
        rows=1, cols=n, subplot_titles=[safe(p) for p in panels] or [""], horizontal_spacing=0.22 if n > 1 else 0.1
    )
    colours = colour_map(rows["series"].to_list())
    shown: set[str] = set()
    for index, panel in enumerate(panels):
        part = rows.filter(pl.col("panel") == panel)
        for name in dict.fromkeys(part["series"].to_list()):
            points = part.filter(pl.col("series") == name).to_dicts()
            fig.add(
                {
                    "type": "bar",
                    "y": [safe(p["category"]) for p in points],
                    "x": [p["value"] for p in points],
                    "orientation": "h",
                    "name": safe(name),
                    "legendgroup": safe(name),
                    "showlegend": name not in shown and (stacked or len(set(rows["series"])) > 1),
                    "marker": {"color": colours[name]},
                    "customdata": custom(points),
                    "hovertext": [hover(p, f"{panel} · {p['category']} · {name}", share, True) for p in points],
                    "hovertemplate": "%{hovertext}<extra></extra>",
                    "meta": {"role": "data"},
                },
                1,
                index + 1,
            )
            shown.add(name)
    fig.layout["barmode"] = "stack" if stacked else "group"
    fig.update_axes("y", autorange="reversed", automargin=True)
    fig.update_axes("x", title={"text": x_title}, tickformat=".0%" if share else None)
    n_categories = rows["category"].n_unique() if rows.height else 1
    return finish(
        fig, ctx, title=title, source=source, n_rows=1, notes=notes, panel_px=max(160, 26 * n_categories + 60)
    )


def dumbbell(data: pl.DataFrame, ctx: Context, *, title: str, source: str, notes: tuple[str, ...] = ()) -> go.Figure:
    """Two windows' shares per tag joined by a line: where each tag was, and where it is now."""
    fig = Draft()
    categories = list(dict.fromkeys(data["category"].to_list()))
    for tag in categories:
        pair = data.filter(pl.col("category") == tag).sort("measure")
        fig.add(
            {
                "type": "scatter",
                "x": pair["value"].to_list(),
                "y": [safe(tag)] * pair.height,
                "mode": "lines",
                "line": {"color": "#bbb", "width": 3},
                "hoverinfo": "skip",
                "showlegend": False,
                "meta": {"role": "line"},
            }
        )
    colours = colour_map(data["series"].to_list())
    for name in dict.fromkeys(data["series"].to_list()):
        points = data.filter(pl.col("series") == name).to_dicts()
        fig.add(
            {
                "type": "scatter",
                "x": [p["value"] for p in points],
                "y": [safe(p["category"]) for p in points],
                "mode": "markers",
                "orientation": "h",  # value on x, tag on y (read back so by the browser test)
                "marker": {"size": 10, "color": colours[name]},
                "name": safe(name),
                "customdata": custom(points),
                "hovertext": [hover(p, f"tag {p['category']} · {name}", True, True) for p in points],
                "hovertemplate": "%{hovertext}<extra></extra>",
                "meta": {"role": "data"},
            }
        )
    fig.update_axes(
        "y", autorange="reversed", automargin=True, categoryorder="array", categoryarray=[safe(c) for c in categories]
    )
    fig.update_axes("x", tickformat=".0%", title={"text": "share of new models carrying the tag"})
    return finish(
        fig, ctx, title=title, source=source, n_rows=1, notes=notes, panel_px=max(200, 24 * len(categories) + 40)
    )


def heatmap_chart(
    data: pl.DataFrame, ctx: Context, *, title: str, source: str, notes: tuple[str, ...] = ()
) -> go.Figure:
    """One heatmap per platform and entity: rows = families, columns = months, colour = share.

    Cells from fewer than MIN_N items are crossed out; partial months are framed with a dashed line."""
    rows = data.with_columns(
        panel=pl.struct(["platform", "entity"]).map_elements(
            lambda r: panel_name(r, ("platform", "entity")), return_dtype=pl.String
        )
    )
    panels = list(dict.fromkeys(rows["panel"].to_list()))
    n = max(len(panels), 1)
    families = sorted(set(rows["category"].to_list()))
    fig = Draft.subplots(
        rows=n,
        cols=1,
        shared_xaxes="all",
        subplot_titles=[safe(p) for p in panels] or [""],
        vertical_spacing=0.12 if n > 1 else 0.1,
    )
    for index, panel in enumerate(panels):
        part = rows.filter(pl.col("panel") == panel)
        months = sorted(set(part["period"].to_list()))
        cells = {(p["category"], p["period"]): p for p in part.to_dicts()}
        present = [f for f in families if any((f, m) in cells for m in months)]
        z, cd, text = [], [], []
        for family in present:
            z.append([cells[(family, m)]["value"] if (family, m) in cells else None for m in months])
            cd.append(
                [
                    [cells[(family, m)][c] for c in CUSTOM] if (family, m) in cells else [None] * len(CUSTOM)
                    for m in months
                ]
            )
            text.append(
                [
                    hover(cells[(family, m)], f"{panel} · {family}", True, True) if (family, m) in cells else ""
                    for m in months
                ]
            )
        fig.add(  # validated: Plotly expands the named colour scale and the colour bar's title
            go.Heatmap(
                z=z,
                x=months,
                y=[safe(f) for f in present],
                customdata=cd,
                hovertext=text,
                hovertemplate="%{hovertext}<extra></extra>",
                colorscale="Viridis",
                zmin=0,
                zmax=1,
                hoverongaps=False,
                colorbar={"title": "share", "tickformat": ".0%", "len": 0.5},
                showscale=index == 0,
                meta={"role": "data"},
            ),
            index + 1,
            1,
        )
        small = [
            (cells[k]["period"], safe(cells[k]["category"])) for k in cells if (cells[k]["denominator"] or 0) < MIN_N
        ]
        if small:
            fig.add(
                {
                    "type": "scatter",
                    "x": [s[0] for s in small],
                    "y": [s[1] for s in small],
                    "mode": "markers",
                    "marker": {"symbol": "x-thin", "size": 9, "line": {"width": 1.5, "color": "rgba(255,255,255,0.9)"}},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "meta": {"role": "mark"},
                },
                index + 1,
                1,
            )
    fig.update_axes("x", type="date", tickformat="%b %Y")
    low, high = period_bounds(rows)
    partial_note = ""
    partial = rows.filter(pl.col("partial"))["period"].to_list()
    if partial:
        partial_note = f"Partial period ({month_label(min(partial), True)} on) marked by a red frame"
    reading = (
        "; ".join(x for x in (partial_note, f"crossed cells: fewer than {MIN_N} items created that month") if x) + "."
    )
    for index, panel in enumerate(panels):
        part = rows.filter((pl.col("panel") == panel) & pl.col("partial"))
        if part.height:
            first = min(part["period"].to_list())
            last = max(part["period"].to_list())
            axis = "x" if index == 0 else f"x{index + 1}"
            fig.layout.setdefault("shapes", []).append(
                {
                    "type": "rect",
                    "xref": axis,
                    "yref": f"{'y' if index == 0 else f'y{index + 1}'} domain",
                    "x0": shift_days(first, -15),
                    "x1": shift_days(last, 15),
                    "y0": 0,
                    "y1": 1,
                    "line": {"dash": "dash", "color": "#b00020", "width": 2},
                }
            )
    return finish(
        fig,
        ctx,
        title=title,
        source=source,
        n_rows=n,
        notes=(reading, *notes),
        time_axis=(low, high),
        panel_px=max(180, 26 * len(families) + 40),
        platforms=[set(rows.filter(pl.col("panel") == panel)["platform"].to_list()) for panel in panels],
    )


def shift_days(period: str, days: int) -> str:
    return (date.fromisoformat(period) + timedelta(days=days)).isoformat()

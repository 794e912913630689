"""The policy and legal timeline on a time axis: dated markers whose labels never overlap, and the
periods in which an API hides content shaded as structural breaks.

The events are the package's own `policy_events` table (a dbt seed), so every package draws the
timeline it was published with. Labels are laid out in lanes above the plot: each label goes to the
lowest lane where it clears the one before it; when every lane is taken it joins the nearest marker
instead ("+1"), so no two labels ever share pixels at the nominal width.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

DRAWN_KINDS = ("platform", "api", "api_hides", "law")
"""`context` rows (reports, ecosystem events) are listed on the policy page, not drawn."""
COLOURS = {"platform": "#b00020", "api": "#8a4b00", "api_hides": "#444444", "law": "#1f3f8f"}
PLOT_WIDTH_PX = 900  # the nominal width of a chart's plot area on the site
CHAR_PX = 5.6  # average width of a 10 px label character
GAP_PX = 8
MAX_LANES = 4
LANE_PX = 14


@dataclass
class Marker:
    day: date  # where it is drawn (an open period that began before the chart starts at its left edge)
    kind: str
    label: str
    when: date | None = None  # when it happened (the label's date)
    details: list[str] = field(default_factory=list)
    lane: int = 0
    left: float = 0.0  # the label's extent, in fractions of the plot width
    right: float = 0.0
    anchor: str = "left"

    @property
    def text(self) -> str:
        extra = f" +{len(self.details) - 1}" if len(self.details) > 1 else ""
        return f"{self.when or self.day:%b %Y} {self.label}{extra}"


def event_details(row: dict) -> str:
    """One event as hover text: its dates, scope, what happened, where it was seen, any caveat."""
    when = row["event_date"].isoformat()
    if row.get("end_date"):
        when += f" to {row['end_date'].isoformat()}"
    elif row["kind"] == "api_hides":
        when += " onwards"
    caveat = f"<br><i>{html.escape(row['caveat'])}</i>" if row.get("caveat") else ""
    return (
        f"<b>{html.escape(when)}</b> · {html.escape(row['scope'] or '')}<br>{html.escape(row['event'])}"
        f"<br>source: {html.escape(row['source_url'])}{caveat}"
    )


def drawn_events(events: pl.DataFrame | None, low: date, high: date) -> pl.DataFrame:
    """The events a chart spanning [low, high] draws (kinds in DRAWN_KINDS; periods that overlap it)."""
    if events is None or events.is_empty():
        return pl.DataFrame(schema={"event_date": pl.Date})
    end = pl.coalesce("end_date", "event_date") if "end_date" in events.columns else pl.col("event_date")
    open_ended = (pl.col("kind") == "api_hides") & pl.col("end_date").is_null()
    return events.filter(
        pl.col("kind").is_in(DRAWN_KINDS) & (pl.col("event_date") <= high) & ((end >= low) | open_ended)
    ).sort("event_date")


def layout_markers(events: pl.DataFrame, low: date, high: date, width_px: float = PLOT_WIDTH_PX) -> list[Marker]:
    """Markers with lanes and label extents such that no two labels in one lane overlap."""
    span = max((high - low).days, 1)
    markers: list[Marker] = []
    lanes: list[float] = []  # right edge of the last label in each lane
    for row in events.iter_rows(named=True):
        day = max(row["event_date"], low)
        label = row.get("label") or row["event"][:30]
        marker = Marker(day, row["kind"], label, when=row["event_date"], details=[event_details(row)])
        x = (day - low).days / span
        width = (len(marker.text) * CHAR_PX + GAP_PX) / width_px
        left, right, anchor = (x, x + width, "left") if x + width <= 1 else (x - width, x, "right")
        lane = next((i for i, edge in enumerate(lanes) if edge <= left), None)
        if lane is None and len(lanes) < MAX_LANES:
            lane = len(lanes)
            lanes.append(0.0)
        if lane is None:  # every lane is taken here: join the label placed last (the last of its lane)
            nearest = markers[-1]
            nearest.details.append(marker.details[0])
            grown = (len(nearest.text) * CHAR_PX + GAP_PX) / width_px
            if nearest.anchor == "left":
                nearest.right = nearest.left + grown
            lanes[nearest.lane] = max(lanes[nearest.lane], nearest.right)
            continue
        marker.lane, marker.left, marker.right, marker.anchor = lane, left, right, anchor
        lanes[lane] = right
        markers.append(marker)
    return markers


def platform_of(scope: str | None) -> str | None:
    """The hub an event concerns (None for a law or anything else that is no one hub's)."""
    text = (scope or "").lower()
    if text.startswith("civitai"):
        return "civitai"
    if text.startswith("hugging face"):
        return "huggingface"
    return None


def lanes_used(markers: list[Marker]) -> int:
    return max((m.lane + 1 for m in markers), default=0)


def shade_end(row: dict, high: date) -> date:
    return row["end_date"] or high + timedelta(days=1)

"""The dashboards in a real headless Chromium (Debian's, `make browser`), driven through Playwright.

`check_site` opens every page and holds it to what the issue asks of an analyst's site: no console
error, every chart drawn, hub text inert, each chart's CSV equal to the data its figure plots (point
by point), every stacked chart's totals equal to the package table it plots, partial periods marked.
`python -m tests.browser screenshots PACKAGE OUT` renders a copy of a package's site with the current
code and writes a full-page PNG of every page (`make screenshots`, from the demo's package).
"""

from __future__ import annotations

import csv
import html
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

ALERT_TRAP = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"
READ_CHARTS = """
() => Array.from(document.querySelectorAll('section.chart')).map(section => {
  const gd = section.querySelector('.js-plotly-plot');
  return {
    slug: section.dataset.slug,
    drawn: !!(gd && gd._fullLayout && gd.querySelector('svg.main-svg')),
    barmode: gd && gd.layout ? gd.layout.barmode || null : null,
    annotations: gd && gd.layout ? (gd.layout.annotations || []).map(a => a.text) : [],
    // what covers the simulated mark: the toolbar or the title ([name, mark's and its rectangles]), else [];
    // null: no mark
    markCoveredBy: (() => {
      const mark = gd && Array.from(gd.querySelectorAll('g.annotation')).find(g => g.textContent === 'SIMULATED DATA');
      if (!mark) return null;
      const a = mark.getBoundingClientRect();
      return [['toolbar', '.modebar'], ['title', '.gtitle']].flatMap(([name, selector]) => {
        const other = gd.querySelector(selector);
        if (!other) return [];
        const b = other.getBoundingClientRect();
        const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        return apart ? [] : [[name, [a.left, a.top, a.right, a.bottom], [b.left, b.top, b.right, b.bottom]]];
      });
    })(),
    shapes: gd && gd.layout
      ? (gd.layout.shapes || []).map(s => ({type: s.type, dash: (s.line || {}).dash || null})) : [],
    traces: gd ? gd.data.map(t => ({
      role: (t.meta || {}).role || null, type: t.type || 'scatter', name: t.name || null,
      x: t.x || null, y: t.y || null, z: t.z || null, customdata: t.customdata || null,
      orientation: t.orientation || 'v', xaxis: t.xaxis || 'x',
      symbols: t.marker && Array.isArray(t.marker.symbol) ? t.marker.symbol : null,
      patterns: t.marker && t.marker.pattern && Array.isArray(t.marker.pattern.shape) ? t.marker.pattern.shape : null,
    })) : [],
  };
})
"""
# what a file:// page can keep for the next page of its tab (one context, all file:// pages one
# storage origin): sessionStorage, localStorage, IndexedDB, Cache Storage and the tab's window.name
# (cookies and the origin private file system are not available to file://)
STORED = """async () => sessionStorage.length + localStorage.length + (await indexedDB.databases()).length
    + (await caches.keys()).length + (window.name ? 1 : 0)"""
BETWEEN_PAGES = "<!doctype html><html><head><title>between pages</title></head><body></body></html>"
CUSTOM = ("period", "platform", "entity", "category", "measure", "numerator", "denominator", "partial")


def chromium() -> str:
    """The system chromium, or a skip (locally) / a failure (CI, where make test installs it)."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (make test installs Debian's chromium)")
        pytest.skip("chromium is not installed (run `make browser` as root)")
    return found


@contextmanager
def browser(executable: str | None = None) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable or chromium(), args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class Visit:
    errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    text: str = ""
    images: int = 0
    stored: int = 0


class Tab:
    """One tab (a page in a browser context of its own) that opens page files one after another.
    Each visit is a new document (its own scripts and globals, the alert trap installed anew), in
    the same renderer: the site's one plotly.min.js is compiled once a tab, not once a page (a
    context of its own per page cost ~2 CPU-s of Chromium a page, measured; a page in this tab
    ~0.7). A visit records what reached the tab while its page was the tab's document: it ends on
    an empty page of the same origin (between), so that the page's events not yet delivered reach
    the tab during its own visit, nothing of it runs after, and what it stored as it was left is read
    there (a console error raised as a page is left is not reported by Playwright at all). What it
    stored while shown is read in the page itself, before it is left: read only from the next page,
    a localStorage item set as the page loaded was missed in ~3 % of visits (5 of 200, the item
    never seen by the next page however long it waited), and an item cleared as the page is left
    always."""

    def __init__(self, instance, between: Path) -> None:
        self.between = between.as_uri()
        self.context = instance.new_context(viewport={"width": 1200, "height": 900})
        self.page = self.context.new_page()
        self.page.add_init_script(ALERT_TRAP)
        self.seen = Visit()
        self.page.on("console", self.on_console)
        self.page.on("pageerror", lambda error: self.seen.errors.append(f"uncaught: {error}"))

    def on_console(self, message) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            if "Failed to load resource" in message.text:
                self.seen.failed_loads.append(url)
            else:
                self.seen.errors.append(f"{message.text} ({url})")

    def visit(self, page_file: Path, *, screenshot: Path | None = None) -> Visit:
        """Open one page, let its scripts run, and read back what it drew and logged."""
        self.seen = result = Visit()
        page = self.page
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('.js-plotly-plot')).every(g => g._fullLayout)", timeout=30_000
        )
        result.charts = page.evaluate(READ_CHARTS)
        result.alerts = page.evaluate("window.__alerts")
        result.text = page.inner_text("body")
        result.images = page.evaluate("document.querySelectorAll('img').length")
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        shown = page.evaluate(STORED)  # what it stored while shown, as the page itself sees it
        page.goto(self.between)  # the page left within its visit (its last events reach result)
        result.stored = max(shown, page.evaluate(STORED))  # and what it stored as it was left
        return result


@contextmanager
def tab(instance) -> Iterator[Tab]:
    """A tab of a running browser, closed (with its context) after use."""
    with tempfile.TemporaryDirectory(prefix="hubwatch-tab-") as folder:
        between = Path(folder) / "between.html"
        between.write_text(BETWEEN_PAGES)
        opened = Tab(instance, between)
        try:
            yield opened
        finally:
            opened.context.close()


def plotted_rows(chart: dict) -> list[dict]:
    """Every data point of a chart as a CSV row (from each point's customdata and its value)."""
    rows = []
    for trace in chart["traces"]:
        if trace["role"] != "data":
            continue
        if trace["type"] == "heatmap":
            for z_row, c_row in zip(trace["z"], trace["customdata"], strict=True):
                for value, custom in zip(z_row, c_row, strict=True):
                    if value is not None:
                        rows.append({**dict(zip(CUSTOM, custom, strict=True)), "value": value, "place": custom[0]})
            continue
        values = trace["x"] if trace["orientation"] == "h" else trace["y"]
        keys = trace["y"] if trace["orientation"] == "h" else trace["x"]
        for key, value, custom in zip(keys, values, trace["customdata"], strict=True):
            row = {**dict(zip(CUSTOM, custom, strict=True)), "value": value, "place": html.unescape(str(key))}
            if trace["orientation"] == "h":
                assert html.unescape(str(key)) in (row["category"], row["platform"]), (chart["slug"], key, row)
            else:
                assert str(key) == row["period"], (chart["slug"], key, row)  # plotted where its period says
            rows.append(row)
    return rows


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def assert_csv_equals_plot(chart: dict, csv_file: Path) -> None:
    with csv_file.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    plotted = plotted_rows(chart)
    assert len(plotted) == len(written), (chart["slug"], len(plotted), len(written))

    def key(row) -> tuple:
        return tuple(text(row[c]) for c in CUSTOM)

    by_key = {key(row): float(row["value"]) for row in written}
    assert len(by_key) == len(written), chart["slug"]
    for row in plotted:
        assert key(row) in by_key, (chart["slug"], row)
        assert float(row["value"]) == pytest.approx(by_key[key(row)], rel=1e-9, abs=1e-12), (chart["slug"], row)


def expected_stack_totals(package: Path) -> dict[str, dict[tuple[str, str], float]]:
    """Each stacked chart's totals, from the package table it plots (not from the site's series)."""

    def table(name: str) -> pl.DataFrame:
        return pl.read_parquet(package / "data" / f"{name}.parquet")

    platforms = {"civitai": "Civitai", "huggingface": "Hugging Face"}
    lifecycle = table("lifecycle_by_snapshot")
    rp = table("real_person_monthly").group_by("platform").agg(pl.col("n_real_person").sum())
    repos = (
        table("cross_platform_matches")
        .group_by("hf_model_id")
        .agg(month=pl.col("hf_first_seen").min().dt.truncate("1mo"))
        .group_by("month")
        .agg(n=pl.len())
    )
    return {
        "takedowns": {
            (r["platform"], r["snapshot_date"].isoformat()): r["n_removed"] + r["n_taken_down"] + r["n_archived"]
            for r in lifecycle.iter_rows(named=True)
        },
        "real-person-gender": {
            (r["platform"], platforms[r["platform"]]): r["n_real_person"] for r in rp.iter_rows(named=True)
        },
        "reuploads": {("huggingface", r["month"].isoformat()): r["n"] for r in repos.iter_rows(named=True)},
    }


def stacked_totals(chart: dict) -> dict[tuple[str, str], float]:
    """The height of each stacked bar: (platform, where it stands on its axis) -> sum of its parts."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for row in plotted_rows(chart):
        totals[(row["platform"], row["place"])] += row["value"]
    return dict(totals)


def assert_partial_marked(chart: dict) -> None:
    """A partial point is hollow (markers), hatched (bars) or framed (heatmaps), and said so in the figure."""
    any_partial = False
    for trace in chart["traces"]:
        if trace["role"] != "data":
            continue
        if trace["type"] == "heatmap":
            cells = [c for row in trace["customdata"] for c in row if c[0] is not None]
            if any(c[-1] for c in cells):
                any_partial = True
                assert any(s["type"] == "rect" and s["dash"] == "dash" for s in chart["shapes"]), chart["slug"]
            continue
        for index, custom in enumerate(trace["customdata"]):
            partial = bool(custom[-1])
            any_partial |= partial
            if trace["symbols"] is not None:
                assert (trace["symbols"][index] == "circle-open") == partial, (chart["slug"], custom)
            elif trace["patterns"] is not None:
                assert (trace["patterns"][index] == "/") == partial, (chart["slug"], custom)
            else:
                assert not partial, (chart["slug"], custom)
    if any_partial:
        assert any("partial" in (a or "").lower() for a in chart["annotations"]), chart["slug"]


def check_site(site: Path, *, citation: bool | None = None, instance=None) -> dict[str, Visit]:
    """Every page of a rendered site through every check, one after another in one tab (Tab);
    returns what each page showed. instance: a running browser to use, else one launched here."""
    package = site.parent
    has_citation = (package / "citation.js").is_file() if citation is None else citation
    expected = expected_stack_totals(package)
    visits = {}
    with nullcontext(instance) if instance is not None else browser() as instance, tab(instance) as pages:
        for page_file in sorted(site.glob("*.html")):
            seen = pages.visit(page_file)
            visits[page_file.name] = seen
            assert not seen.errors, (page_file.name, seen.errors)
            allowed = [] if has_citation else [u for u in seen.failed_loads if u.endswith("/citation.js")]
            assert seen.failed_loads == allowed, (page_file.name, seen.failed_loads)
            assert not seen.alerts and seen.images == 0, page_file.name  # hub text ran nothing
            assert not seen.stored, f"{page_file.name} stored state that the site's next pages would see"
            assert "SIMULATED DATA" in seen.text, page_file.name
            for chart in seen.charts:
                assert chart["drawn"], (page_file.name, chart["slug"])
                assert chart["markCoveredBy"] == [], (page_file.name, chart["slug"], chart["markCoveredBy"])
                assert plotted_rows(chart), (page_file.name, chart["slug"])
                assert_csv_equals_plot(chart, site / "data" / f"{chart['slug']}.csv")
                assert_partial_marked(chart)
                if chart["barmode"] == "stack":
                    assert chart["slug"] in expected, f"{chart['slug']}: a stacked chart with no table totals to check"
                    drawn = stacked_totals(chart)
                    want = expected[chart["slug"]]
                    for place, total in drawn.items():
                        assert total == pytest.approx(want.get(place, 0)), (chart["slug"], place, total)
                    assert {k for k, v in want.items() if v} <= set(drawn), chart["slug"]
    assert sum(len(v.charts) for v in visits.values()) >= 12
    return visits


def screenshots(site: Path, out: Path) -> list[Path]:
    """A full-page PNG of every page of the site (what README shows)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with browser(shutil.which("chromium")) as instance, tab(instance) as pages:
        for page_file in sorted(site.glob("*.html")):
            target = out / f"{page_file.stem}.png"
            seen = pages.visit(page_file, screenshot=target)
            if seen.errors:
                raise SystemExit(f"{page_file.name}: console errors {seen.errors}")
            written.append(target)
    return written


def screenshots_of_package(package: Path, out: Path) -> list[Path]:
    """Render the site of a copy of the package with the current code (a published package is never
    modified: its site is inside its checksums) and photograph every page."""
    import tempfile

    from dashboards.site import render_site

    with tempfile.TemporaryDirectory(prefix="hubwatch-screenshots-") as tmp:
        copy = Path(tmp) / package.resolve().name
        shutil.copytree(package, copy, symlinks=True, ignore=shutil.ignore_patterns("dashboards"))
        index = render_site(copy)
        return screenshots(index.parent, out)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "screenshots":
        raise SystemExit("usage: python -m tests.browser screenshots PACKAGE_DIR OUT_DIR")
    if shutil.which("chromium") is None:
        raise SystemExit("chromium is not installed: run `make browser` (as root)")
    for path in screenshots_of_package(Path(sys.argv[2]), Path(sys.argv[3])):
        print(path)

"""The `hubwatch` command: a thin front over the ingest library (and, later, the same assets).

Every command prints a progress display on a terminal and plain lines otherwise; a failure is
one line on stderr and a non-zero exit, with nothing half-written.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import date
from pathlib import Path

import click

from ingest.civitai import IMAGE_PERIODS
from ingest.http import CrawlError, Politeness
from ingest.landing import SOURCES, PageEvent, hubwatch_home
from ingest.snapshots import Endpoints, SnapshotResult, parse_as_of, snapshot_date_and_kind, take_snapshot

DEMO_SEED = 7


class Reporter:
    """Progress for crawls: a live bar on a terminal, a line every few seconds otherwise."""

    def __init__(self, stream=None, every_seconds: float = 5.0):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_seconds = every_seconds
        self._last_line = 0.0
        self._run_start: dict[str, tuple[float, int]] = {}
        self._progress = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> Reporter:
        if self.tty:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()

    def page(self, event: PageEvent) -> None:
        started, items_before = self._run_start.setdefault(event.source, (time.monotonic(), event.items))
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = (event.items - items_before) / elapsed
        text = f"{event.source}: {event.pages} pages, {event.items} items, {rate:,.0f} items/s"
        if self._progress:
            task = self._tasks.get(event.source)
            if task is None:
                self._tasks[event.source] = self._progress.add_task(text, total=None)
            else:
                self._progress.update(task, description=text)
        elif time.monotonic() - self._last_line >= self.every_seconds:
            self._last_line = time.monotonic()
            self.line(text)

    def result(self, result: SnapshotResult) -> None:
        if result.status == "complete":
            manifest = result.manifest or {}
            counts = ", ".join(f"{n} {table}" for table, n in manifest.get("items", {}).items())
            retried = sum(manifest.get("errors", {}).values())
            self.line(
                f"{result.source} {result.snapshot_date}: complete ({manifest.get('kind')}) — {counts} "
                f"from {manifest.get('pages')} pages"
                + (f", {retried} transient errors retried" if retried else "")
                + f" → {result.path}"
            )
        elif result.status == "exists":
            self.line(
                f"{result.source} {result.snapshot_date}: already complete, kept as is (--force retakes it)"
            )
        else:
            self.line(
                f"{result.source} {result.snapshot_date}: stopped at --max-pages; incomplete, staged at "
                f"{result.path} (run again to resume)"
            )

    def line(self, text: str) -> None:
        if self._progress:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)


def fail(message: str) -> None:
    click.echo(f"hubwatch: error: {message}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hubwatch")
@click.option("-v", "--verbose", is_flag=True, help="Log every retry and resume.")
def main(verbose: bool) -> None:
    """hubwatch: dated snapshots of public model-hub metadata, and measures over time."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry full URLs


@main.command()
@click.option(
    "--sources",
    default=",".join(SOURCES),
    show_default=True,
    help="Comma-separated sources to snapshot.",
)
@click.option("--as-of", help="Date (YYYY-MM-DD) of a simulated snapshot; loopback sources only.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after N pages this run (resumable).")
@click.option("--force", is_flag=True, help="Retake a snapshot that is already complete.")
@click.option(
    "--images-period",
    type=click.Choice(IMAGE_PERIODS),
    default="Day",
    show_default=True,
    envvar="HUBWATCH_IMAGES_PERIOD",
    help="Window of the image feed crawl (the API's `period`).",
)
def snapshot(sources: str, as_of: str | None, max_pages: int | None, force: bool, images_period: str) -> None:
    """Take a dated snapshot of each source into $HUBWATCH_HOME/raw/."""
    chosen = [s.strip() for s in sources.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown or not chosen:
        fail(f"unknown source(s) {', '.join(unknown) or '(none)'}; expected some of {', '.join(SOURCES)}")
    endpoints = Endpoints.from_env()
    try:
        if as_of is not None:
            parse_as_of(as_of)
        for source in chosen:
            snapshot_date_and_kind(endpoints.base_for(source), as_of)
    except CrawlError as error:
        fail(str(error))
    failures = []
    with Reporter() as reporter:
        for source in chosen:
            try:
                result = take_snapshot(
                    source,
                    home=hubwatch_home(),
                    endpoints=endpoints,
                    as_of=as_of,
                    max_pages=max_pages,
                    force=force,
                    images_period=images_period,
                    on_page=reporter.page,
                )
            except CrawlError as error:
                failures.append(f"{source}: {error}")
                continue
            reporter.result(result)
    if failures:
        fail("; ".join(failures))


def month_starts(start: date, end: date) -> list[date]:
    days, day = [], start.replace(day=1)
    while day <= end:
        days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return days


@main.command()
@click.option(
    "--home", type=click.Path(path_type=Path), help="Data directory [default: $HUBWATCH_HOME/demo]."
)
@click.option("--start", default="2024-01-01", show_default=True, help="First simulated snapshot date.")
@click.option("--end", default="2025-12-01", show_default=True, help="Last simulated snapshot date.")
def demo(home: Path | None, start: str, end: str) -> None:
    """Start fakehub on loopback and take monthly simulated snapshots through the real crawlers."""
    from ingest.fakehub import FakeHub, build_world

    home = (home or hubwatch_home() / "demo").resolve()
    try:
        days = month_starts(parse_as_of(start), parse_as_of(end))
    except CrawlError as error:
        fail(str(error))
    politeness = Politeness(requests_per_second=0, backoff_initial=0.05, backoff_max=0.5, timeout=30)
    print(
        f"demo: building the simulated world (seed {DEMO_SEED}) and starting fakehub on 127.0.0.1", flush=True
    )
    world = build_world(seed=DEMO_SEED, n_models=1500, n_images=25_000, n_repos=300)
    started = time.monotonic()
    with FakeHub(world) as hub, Reporter(stream=sys.stdout, every_seconds=30) as reporter:
        endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
        print(f"demo: fakehub at {hub.base_url}; {len(days)} monthly snapshots into {home}/raw", flush=True)
        for day in days:
            for source in SOURCES:
                try:
                    result = take_snapshot(
                        source,
                        home=home,
                        endpoints=endpoints,
                        as_of=day.isoformat(),
                        images_period="Month",
                        politeness=politeness,
                        on_page=reporter.page,
                    )
                except CrawlError as error:
                    fail(f"{source} {day}: {error}")
                reporter.result(result)
    print(
        f"demo: done in {time.monotonic() - started:.0f}s. Snapshots (simulated, dated "
        f"{days[0]}..{days[-1]}) are in {home / 'raw'}; each has a manifest.json.",
        flush=True,
    )


@main.command()
@click.option(
    "--full-refresh", is_flag=True, help="Rebuild every table from raw/ (and re-verify every snapshot)."
)
def build(full_refresh: bool) -> None:
    """Verify raw/ and run dbt (models, seeds, tests) into $HUBWATCH_HOME/warehouse.duckdb."""
    from dagster_project.warehouse import BuildError
    from dagster_project.warehouse import build as run_build

    home = hubwatch_home()
    print(
        f"build: verifying snapshots under {home / 'raw'} and running dbt"
        + (" (full refresh)…" if full_refresh else "…"),
        file=sys.stderr,
        flush=True,
    )
    try:
        summary = run_build(home, full_refresh=full_refresh)
    except BuildError as error:
        fail(str(error))
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items()))
    print(f"build: {counts} (dbt output: {summary.log_path})", file=sys.stderr)
    for failure in summary.failures:
        print(f"  failed: {failure}", file=sys.stderr)
    if not summary.ok:
        fail(f"dbt build failed ({len(summary.failures)} failing node(s)); see {summary.log_path}")


READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")


@main.command()
@click.argument("query")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def sql(query: str, as_csv: bool) -> None:
    """Run a read-only SQL query (SELECT) against the warehouse's tables."""
    import duckdb

    path = hubwatch_home() / "warehouse.duckdb"
    if not path.is_file():
        fail(f"no warehouse at {path}: run `hubwatch build` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        fail(f"cannot open {path} read-only: {str(error).splitlines()[0]}")
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as error:
        fail(f"invalid SQL: {str(error).splitlines()[0]}")
    refused = [s.type.name for s in statements if s.type.name not in READ_ONLY_STATEMENTS]
    if refused or not statements:
        fail(f"only read-only queries (SELECT) are allowed; refused: {', '.join(refused) or 'empty query'}")
    try:
        relation = con.sql(query)
        if as_csv:
            import csv

            writer = csv.writer(sys.stdout)
            writer.writerow(relation.columns)
            writer.writerows(relation.fetchall())
        else:
            relation.show(max_rows=1000, max_width=200)
    except duckdb.Error as error:
        fail(f"query failed: {str(error).splitlines()[0]}")

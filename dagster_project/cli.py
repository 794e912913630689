"""The `hubwatch` command: a thin front over the same Dagster assets the schedule runs.

Runs execute in this process on the instance under $HUBWATCH_HOME/dagster, so they show in the
UI's history (`make dev`). Every command prints progress on a terminal and plain lines
otherwise; a failure is one line on stderr and a non-zero exit, with nothing half-written.
"""

from __future__ import annotations

import csv
import logging
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import click
from dagster import AssetKey

from dagster_project import failures
from dagster_project.runs import RunOutcome, run_job
from ingest.civitai import IMAGE_PERIODS
from ingest.home import hubwatch_home
from ingest.http import CrawlError
from ingest.landing import SOURCES, PageEvent
from ingest.snapshots import Endpoints, parse_as_of, snapshot_date_and_kind

DEMO_SEED = 7
READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")


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

    def result(self, source: str, day: str, meta: dict | None) -> None:
        """One line per source, from what the snapshot asset reported."""
        status = (meta or {}).get("status")
        if status == "complete":
            counts = ", ".join(f"{n} {table}" for table, n in meta.get("items", {}).items())
            retried = meta.get("transient_errors", 0)
            self.line(
                f"{source} {day}: complete ({meta.get('kind')}) — {counts} from {meta.get('pages')} pages"
                + (f", {retried} transient errors retried" if retried else "")
                + f" → {meta.get('path')}"
            )
        elif status == "exists":
            self.line(f"{source} {day}: already complete, kept as is (--force retakes it)")
        elif status == "paused":
            self.line(
                f"{source} {day}: stopped at --max-pages; incomplete, staged at {meta.get('path')} "
                "(run again to resume)"
            )

    def line(self, text: str) -> None:
        if self._progress:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)


def fail(message: str) -> None:
    click.echo(f"hubwatch: error: {message}", err=True)
    sys.exit(1)


class OneLineErrors(click.Group):
    """Whatever a command meets ends in one line on stderr and a non-zero exit, never a traceback
    (the traceback of an unexpected error goes to $HUBWATCH_HOME/logs/errors.log)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("hubwatch: interrupted (a rerun continues where this one stopped)", err=True)
            sys.exit(130)
        except Exception as error:
            home = hubwatch_home()
            message = failures.describe(error, home)
            if not isinstance(error, CrawlError):
                kept = failures.keep_traceback(error, home)
                message += f" (traceback in {kept})" if kept else ""
            fail(message)


def check_settings() -> None:
    """Read every numeric setting once, so a bad value fails before any work, in one line."""
    from ingest.http import Politeness, env_number
    from ingest.huggingface import HfScope
    from ingest.landing import CrawlBounds

    Politeness.from_env()
    CrawlBounds.from_env()
    HfScope.from_env()
    env_number("HUBWATCH_DROP_THRESHOLD", 0.05, float)
    env_number("HUBWATCH_STEP_RETRIES", 2, int)
    env_number("HUBWATCH_STEP_RETRY_DELAY", 120.0, float)
    env_number("HUBWATCH_KEEP_DBT_TARGETS", 5, int, minimum=1)
    env_number("HUBWATCH_REHASH_DAYS", 30.0, float)


def snapshot_sources(
    home: Path, day: str, sources: list[str], reporter: Reporter, quiet: tuple[str, ...] = (), **config
) -> RunOutcome:
    """The snapshot assets of `sources` for one date, in one run; checks named in quiet not shown."""
    options = {"force": config.pop("force", False), "max_pages": config.pop("max_pages", None)}
    outcome = run_job(
        home,
        "daily_snapshot_job",
        partition_key=day,
        asset_selection=[AssetKey(["raw", s]) for s in sources],
        run_config={"ops": {f"raw__{s}": {"config": options} for s in sources}},
        on_page=reporter.page,
        settings=config,
    )
    for source in sources:
        reporter.result(source, day, outcome.materialized.get(f"raw/{source}"))
    for warning in outcome.failed_checks:
        if not any(name in warning for name in quiet):
            reporter.line(f"{day}: check not passed: {warning}")
    return outcome


def report_build(outcome: RunOutcome) -> None:
    built = sum(1 for key in outcome.materialized if not key.startswith(("raw/", "publish/", "dashboards/")))
    checks = outcome.checks
    print(
        f"build: {built} tables and seeds built; checks: {checks['passed']} passed, "
        f"{checks['failed']} failed, {checks['warned']} warned (run {outcome.run_id})",
        file=sys.stderr,
        flush=True,
    )
    for name in outcome.failed_checks:
        print(f"  check not passed: {name}", file=sys.stderr)
    if not outcome.success:
        fail(outcome.error or "the build failed")


def month_starts(start: date, end: date) -> list[date]:
    days, day = [], start.replace(day=1)
    while day <= end:
        days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return days


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
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
    check_settings()


@main.command()
@click.option("--sources", default=",".join(SOURCES), show_default=True, help="Comma-separated sources to snapshot.")
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
    day = as_of or datetime.now(UTC).date().isoformat()
    with Reporter() as reporter:
        outcome = snapshot_sources(
            hubwatch_home(),
            day,
            chosen,
            reporter,
            force=force,
            max_pages=max_pages,
            images_period=images_period,
        )
    if not outcome.success:
        fail(outcome.error or "the snapshot run failed")


@main.command()
@click.option("--full-refresh", is_flag=True, help="Rebuild every table from raw/ (and re-verify every snapshot).")
def build(full_refresh: bool) -> None:
    """Verify raw/ and run dbt (models, seeds, tests) into $HUBWATCH_HOME/warehouse.duckdb."""
    home = hubwatch_home()
    print(
        f"build: verifying snapshots under {home / 'raw'} and running dbt"
        + (" (full refresh)…" if full_refresh else "…"),
        file=sys.stderr,
        flush=True,
    )
    config = {"ops": {"warehouse": {"config": {"full_refresh": full_refresh}}}}
    report_build(run_job(home, "rebuild_from_raw_job", run_config=config, asset_selection=warehouse_keys()))


@main.command(name="publish")
@click.option("--date", "publish_date", help="Date of the package (YYYY-MM-DD) [default: today, UTC].")
@click.option("--force", is_flag=True, help="Replace a package already published for that date.")
@click.option("--include-names", is_flag=True, help="Keep depicted people's names (internal use only).")
def publish_command(publish_date: str | None, force: bool, include_names: bool) -> None:
    """Write publish/YYYY-MM-DD/ (Parquet, CSV, DuckDB, manifest, codebook) and its dashboards."""
    if publish_date is not None:
        try:
            parse_as_of(publish_date)
        except CrawlError:
            fail(f"invalid --date {publish_date!r}: expected YYYY-MM-DD")
    config = {"publish_date": publish_date, "force": force, "include_names": include_names}
    outcome = run_job(hubwatch_home(), "publish_job", run_config={"ops": {"publish__package": {"config": config}}})
    report_published(outcome)


@main.command()
def dashboards() -> None:
    """Render the trend site from the latest published package."""
    outcome = run_job(hubwatch_home(), "publish_job", asset_selection=[AssetKey(["dashboards", "site"])])
    report_published(outcome)


def report_published(outcome: RunOutcome) -> None:
    if not outcome.success:
        fail(outcome.error or "the run failed")
    package = outcome.materialized.get("publish/package")
    if package:
        print(
            f"publish: {package['path']} ({package['files']} files; simulated: {package['simulated']})", file=sys.stderr
        )
    site = outcome.materialized.get("dashboards/site")
    if site:
        print(f"dashboards: {site['index']}", file=sys.stderr)


@main.command(name="import")
@click.argument("kind", type=click.Choice(["civitai-models-json", "civitai-images-table", "hf-models-json"]))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as-of", required=True, help="The date the crawl was made (YYYY-MM-DD): the snapshot's date.")
@click.option("--source-url", help="Where the crawl was published (recorded in the manifest).")
@click.option("--note", help="Free text recorded in the manifest.")
@click.option("--scope", help="What the crawl covered; 'all' only for a complete crawl [default: this import alone].")
@click.option(
    "--mapping", "mapping_path", type=click.Path(path_type=Path), help="Column mapping (civitai-images-table)."
)
def import_command(kind, path, as_of, source_url, note, scope, mapping_path) -> None:
    """Load a third-party crawl into raw/ as a dated snapshot labelled imported."""
    from ingest.importers import import_crawl

    try:
        result = import_crawl(
            kind,
            path,
            home=hubwatch_home(),
            as_of=parse_as_of(as_of),
            source_url=source_url,
            note=note,
            scope=scope,
            mapping_path=mapping_path,
        )
    except CrawlError as error:
        fail(str(error))
    if result.status == "unchanged":
        print(
            f"import: {result.source} {result.snapshot_date}: these files are already imported; nothing to do",
            file=sys.stderr,
        )
        return
    counts = ", ".join(f"{n} {table}" for table, n in result.manifest["items"].items())
    print(f"import: {result.source} {result.snapshot_date}: {counts} (imported) → {result.path}", file=sys.stderr)


@main.command()
def run() -> None:
    """Today's daily job: snapshot every source, build, check, and what is built on them."""
    home = hubwatch_home()
    day = datetime.now(UTC).date().isoformat()
    with Reporter() as reporter:
        outcome = run_job(home, "daily_snapshot_job", partition_key=day, on_page=reporter.page)
        for source in SOURCES:
            reporter.result(source, day, outcome.materialized.get(f"raw/{source}"))
    report_build(outcome)


@main.command()
@click.option("--home", type=click.Path(path_type=Path), help="Data directory [default: $HUBWATCH_HOME/demo].")
@click.option("--start", default="2024-01-01", show_default=True, help="First simulated snapshot date.")
@click.option("--end", default="2025-12-01", show_default=True, help="Last simulated snapshot date.")
def demo(home: Path | None, start: str, end: str) -> None:
    """fakehub on loopback, monthly simulated snapshots through the real crawlers and assets, build."""
    from ingest.fakehub import FakeHub, build_world

    home = (home or hubwatch_home() / "demo").resolve()
    try:
        days = month_starts(parse_as_of(start), parse_as_of(end))
    except CrawlError as error:
        fail(str(error))
    os.environ.update(HUBWATCH_RATE="0", HUBWATCH_BACKOFF_INITIAL="0.05", HUBWATCH_BACKOFF_MAX="0.5")
    print(f"demo: building the simulated world (seed {DEMO_SEED}) and starting fakehub on 127.0.0.1", flush=True)
    world = build_world(seed=DEMO_SEED, n_models=1500, n_images=25_000, n_repos=300)
    started = time.monotonic()
    with FakeHub(world) as hub, Reporter(stream=sys.stdout, every_seconds=30) as reporter:
        os.environ.update(CIVITAI_API_BASE=hub.civitai_base, HF_ENDPOINT=hub.hf_endpoint)
        print(f"demo: fakehub at {hub.base_url}; {len(days)} monthly snapshots into {home / 'raw'}", flush=True)
        for day in days:
            # simulated dates are in the past: the freshness checks (for live runs) would always warn
            outcome = snapshot_sources(
                home, day.isoformat(), list(SOURCES), reporter, quiet=("freshness",), images_period="Month"
            )
            if not outcome.success:
                fail(f"snapshots of {day}: {outcome.error}")
    print(
        f"demo: snapshots done in {time.monotonic() - started:.0f}s; build, publish, dashboards…",
        flush=True,
    )
    # one run from raw/ to the site: build, then publish (dated by the last snapshot), then render
    publish = {"publish_date": days[-1].isoformat(), "force": True, "include_names": False}
    outcome = run_job(home, "rebuild_from_raw_job", run_config={"ops": {"publish__package": {"config": publish}}})
    report_build(outcome)
    report_published(outcome)
    print(
        f"demo: done in {time.monotonic() - started:.0f}s. Simulated snapshots {days[0]}..{days[-1]} in "
        f"{home / 'raw'}; warehouse {home / 'warehouse.duckdb'}; Dagster runs in {home / 'dagster'}.",
        flush=True,
    )
    print(f"demo: open {home / 'publish' / 'latest' / 'dashboards' / 'index.html'}", flush=True)


def warehouse_keys() -> list[AssetKey]:
    """The dbt assets alone (rebuild_from_raw_job also publishes)."""
    from dagster_project.definitions import defs

    definitions = defs()
    return [key for key in definitions.resolve_all_asset_keys() if key.path[0] not in ("raw", "publish", "dashboards")]


@main.command()
@click.argument("query")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def sql(query: str, as_csv: bool) -> None:
    """Run a read-only SQL query (SELECT) against the latest published package (publish/latest)."""
    import duckdb

    path = hubwatch_home() / "publish" / "latest" / "hubwatch.duckdb"
    if not path.is_file():
        fail(f"no published package at {path.parent}: run `hubwatch build` and `hubwatch publish` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
        con.execute("set TimeZone = 'UTC'")  # as in the warehouse: months and printed times are UTC
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
            writer = csv.writer(sys.stdout)
            writer.writerow(relation.columns)
            writer.writerows(relation.fetchall())
        else:
            relation.show(max_rows=1000, max_width=200)
    except duckdb.Error as error:
        fail(f"query failed: {str(error).splitlines()[0]}")

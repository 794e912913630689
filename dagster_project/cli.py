"""The `hubwatch` command: a thin front over the same Dagster assets the schedule runs.

Runs execute in this process on the instance under $HUBWATCH_HOME/dagster, so they show in the
UI's history (`make dev`). Every command prints progress on a terminal and plain lines
otherwise; a failure is one line on stderr and a non-zero exit, with nothing half-written.
Every command takes --home (default $HUBWATCH_HOME, else ./data).

Importing this module stays cheap (no Dagster, dbt, Polars or HTTP client at the top): `hubwatch sql`,
`diff`, `withdraw` and `--help` start in a tenth to a fifth of a CPU-second; the commands that run
assets import them inside.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from dagster_project import failures
from dagster_project.gc_tuning import freeze_survivors
from ingest.errors import CrawlError
from ingest.home import ENGINES, hubwatch_home, parse_as_of, warehouse_path
from ingest.sources import IMAGE_PERIODS, SOURCES

if TYPE_CHECKING:
    from dagster_project.runs import RunOutcome
    from ingest.landing import PageEvent

DEMO_SEED = 7


class Reporter:
    """Progress for crawls: a live bar on a terminal, a line every few seconds otherwise."""

    def __init__(self, stream=None, every_seconds: float = 5.0):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_seconds = every_seconds
        self._last_line = 0.0
        self._started = time.monotonic()  # a step shorter than every_seconds prints no progress
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
        text = f"{event.source}: {event.pages} pages, {event.items} items"
        if event.items > items_before:  # the first page only starts the clock
            text += f", {rate:,.0f} items/s"
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
            staged = meta.get("staged_date", day)
            budget = meta.get("paused_by") == "time_budget"
            why = "its time budget (HUBWATCH_IMAGES_BUDGET)" if budget else "--max-pages"
            self.line(
                f"{source} {staged}: stopped at {why}; incomplete, staged at {meta.get('path')} "
                "(the next run continues it)"
            )
        for earlier in (meta or {}).get("finished_earlier") or []:
            self.line(f"{source} {earlier}: complete — a crawl staged by an earlier run, finished by this one")

    def status(self, key: str, text: str) -> None:
        """Progress of a step without pages (an import): live on a terminal, a line every few
        seconds otherwise."""
        if self._progress:
            task = self._tasks.get(key)
            if task is None:
                self._tasks[key] = self._progress.add_task(text, total=None)
            else:
                self._progress.update(task, description=text)
        elif time.monotonic() - max(self._last_line, self._started) >= self.every_seconds:
            self._last_line = time.monotonic()
            self.line(text)

    def close(self) -> None:
        """Stop the live display (before a one-line error, so it is not drawn over)."""
        if self._progress:
            self._progress.stop()
            self._progress = None

    def line(self, text: str) -> None:
        if self._progress:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)


def fail(message: str) -> None:
    click.echo(f"hubwatch: error: {message}", err=True)
    sys.exit(1)


CRAWLING_COMMANDS = ("snapshot", "run", "demo", "build", "import", "publish")


def check_settings() -> None:
    """Read every numeric setting once, so a bad value fails before any work, in one line. It imports
    the modules that declare them (polars with ingest.landing), not huggingface_hub: ingest.huggingface
    imports it only to parse Hugging Face items (tests/test_startup.py)."""
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
    env_number("HUBWATCH_DBT_THREADS", 2, int, minimum=1)


def snapshot_sources(
    home: Path, day: str, sources: list[str], reporter: Reporter, quiet: tuple[str, ...] = (), **config
) -> RunOutcome:
    """The snapshot assets of `sources` for one date, in one run; checks named in quiet not shown."""
    from dagster import AssetKey

    from dagster_project.runs import run_job
    from dagster_project.snapshot_location import snapshot_location

    options = {"force": config.pop("force", False), "max_pages": config.pop("max_pages", None)}
    outcome = run_job(
        home,
        "daily_snapshot_job",
        partition_key=day,
        asset_selection=[AssetKey(["raw", s]) for s in sources],
        run_config={"ops": {f"raw__{s}": {"config": options} for s in sources}},
        on_page=reporter.page,
        settings=config,
        definitions=snapshot_location(home, day),
    )
    for source in sources:
        reporter.result(source, day, outcome.materialized.get(f"raw/{source}"))
    for warning in outcome.failed_checks:
        if not any(name in warning for name in quiet):
            reporter.line(f"{day}: check not passed: {warning}")
    return outcome


def report_build(outcome: RunOutcome) -> None:
    built = sum(1 for key in outcome.materialized if not key.startswith(("raw/", "publish/", "dashboards/")))
    print(
        f"build: {built} tables and seeds built; checks: {checks_text(outcome.checks)} (run {outcome.run_id})",
        file=sys.stderr,
        flush=True,
    )
    for name in outcome.failed_checks:
        print(f"  check not passed: {name}", file=sys.stderr)
    if not outcome.success:
        fail(outcome.error or "the build failed")


def checks_text(checks: dict[str, int]) -> str:
    return f"{checks['passed']} passed, {checks['failed']} failed, {checks['warned']} warned"


def tally(outcomes: list[RunOutcome]) -> dict[str, int]:
    """Check results added up over several runs (a demo's snapshots and its build)."""
    return {kind: sum(o.checks[kind] for o in outcomes) for kind in ("passed", "failed", "warned")}


def month_starts(start: date, end: date) -> list[date]:
    days, day = [], start.replace(day=1)
    while day <= end:
        days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return days


class IsoDate(click.ParamType):
    """A YYYY-MM-DD option; a bad value is refused naming the option it was given to."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


HOME_KEY = "hubwatch.home"


def _set_home(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """--home, kept in the click context; each command passes it on (to runs as the settings
    resource's home), so no environment variable is written."""
    if value is not None:
        ctx.meta[HOME_KEY] = value.expanduser().resolve()


def command_home() -> Path:
    """The data directory of this command: --home, else $HUBWATCH_HOME, else ./data."""
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(HOME_KEY) if ctx else None) or hubwatch_home()


HOME_OPTION = dict(
    type=click.Path(file_okay=False, path_type=Path),
    expose_value=False,
    is_eager=True,
    callback=_set_home,
    help="Data directory [default: $HUBWATCH_HOME, else ./data].",
)


class HubwatchGroup(click.Group):
    """Every subcommand gets --home; every error is one line (usage errors too); help lines are never
    cut short."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any(param.name == "home" for param in cmd.params):
            cmd.params.append(click.Option(["--home"], **HOME_OPTION))
        super().add_command(cmd, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=1_000)) for name, cmd in self.commands.items() if not cmd.hidden]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))

    def invoke(self, ctx: click.Context):
        """Whatever a command meets ends in one line on stderr and a non-zero exit, never a traceback
        (the traceback of an unexpected error goes to $HUBWATCH_HOME/logs/errors.log)."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("hubwatch: interrupted (a rerun continues where this one stopped)", err=True)
            sys.exit(130)
        except Exception as error:
            home = command_home()
            message = failures.describe(error, home)
            if not isinstance(error, CrawlError):
                kept = failures.keep_traceback(error, home)
                message += f" (traceback in {kept})" if kept else ""
            fail(message)

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.ClickException as error:
            where = f" (see `{error.ctx.command_path} --help`)" if getattr(error, "ctx", None) else ""
            click.echo(f"hubwatch: error: {error.format_message()}{where}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("hubwatch: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=HubwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hubwatch")
@click.option("-v", "--verbose", is_flag=True, help="Log every retry and resume.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """hubwatch: dated snapshots of public model-hub metadata, and measures over time."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry full URLs
    # the imports and definitions survive full collections: frozen, later ones skip them (gc_tuning)
    ctx.call_on_close(freeze_survivors())
    if ctx.invoked_subcommand in CRAWLING_COMMANDS:  # the reading commands stay light (`sql` starts fast)
        check_settings()


@main.command()
@click.option("--sources", default=",".join(SOURCES), show_default=True, help="Comma-separated sources to snapshot.")
@click.option("--as-of", help="Date (YYYY-MM-DD) of a simulated snapshot; loopback sources only.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after N pages this run (resumable).")
@click.option("--force", is_flag=True, help="Retake a snapshot that is already complete.")
@click.option(
    "--images-period",
    type=click.Choice(IMAGE_PERIODS),
    envvar="HUBWATCH_IMAGES_PERIOD",
    help="Crawl only the API's own window (`period`) instead of the image feed since the previous "
    "complete image snapshot (the default). Windows leave holes: see README.",
)
@click.option(
    "--images-since",
    help="Sweep the image feed back at least to this date (YYYY-MM-DD): a first snapshot backfills from "
    "it instead of the beginning; a later one re-sweeps, catching images rated late.",
)
@click.option(
    "--images-budget",
    envvar="HUBWATCH_IMAGES_BUDGET",
    help="Stop the image crawl cleanly after this long (e.g. 90m, 4h; 0 = no limit) [default: 4h]; "
    "the next run continues it.",
)
def snapshot(
    sources: str,
    as_of: str | None,
    max_pages: int | None,
    force: bool,
    images_period: str | None,
    images_since: str | None,
    images_budget: str | None,
) -> None:
    """Take a dated snapshot of each source into $HUBWATCH_HOME/raw/."""
    from ingest.snapshots import Endpoints, snapshot_date_and_kind

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
        day = as_of or datetime.now(UTC).date().isoformat()
        check_image_options(images_since, images_budget, date.fromisoformat(day))
    except CrawlError as error:
        fail(str(error))
    with Reporter() as reporter:
        outcome = snapshot_sources(
            command_home(),
            day,
            chosen,
            reporter,
            force=force,
            max_pages=max_pages,
            images_period=images_period,
            images_since=images_since,
            images_budget=images_budget,
        )
    if not outcome.success:
        fail(outcome.error or "the snapshot run failed")
    print(f"snapshot: checks: {checks_text(outcome.checks)}", file=sys.stderr, flush=True)


def check_image_options(since: str | None, budget: str | None, day: date) -> None:
    """--images-since must be a date no later than the snapshot's; --images-budget a duration."""
    if since is not None:
        try:
            since_day = date.fromisoformat(since)
        except ValueError:
            raise CrawlError(f"invalid --images-since {since!r}: expected a date as YYYY-MM-DD") from None
        if since_day > day:
            raise CrawlError(f"--images-since {since} is after the snapshot's date {day}")
    if budget is not None:
        from ingest.civitai_images import parse_duration

        parse_duration(budget, "--images-budget")


@main.command()
@click.option("--full-refresh", is_flag=True, help="Rebuild every table from raw/ (and re-verify every snapshot).")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="spark: the same dbt project on Apache Spark (Java 17; HUBWATCH_SPARK_MASTER for a cluster).",
)
def build(full_refresh: bool, engine: str) -> None:
    """Verify raw/ and run dbt (models, seeds, tests) into $HUBWATCH_HOME/warehouse.duckdb (or, with
    --engine spark, Spark's tables under $HUBWATCH_HOME/spark/, the public ones handed to DuckDB)."""
    from dagster_project.runs import build_warehouse
    from dagster_project.warehouse import describe_vanished, logic_refresh, vanished_snapshots

    home = command_home()
    if not any(home.glob("raw/*/*")):  # before anything is created (a partition that is not whole is named later)
        fail(f"no complete snapshots under {home / 'raw'}: take one with `hubwatch snapshot` (or `hubwatch import`)")
    if engine == "spark" and not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        fail("--engine spark needs Java 17 (`make java` installs Debian's openjdk-17-jre-headless), or JAVA_HOME")
    vanished = vanished_snapshots(home, engine)
    if vanished:
        print(f"build: {describe_vanished(vanished)}", file=sys.stderr, flush=True)
    elif not full_refresh and (logic := logic_refresh(home, engine)).refresh:  # after an upgrade
        print(f"build: {logic.describe()}", file=sys.stderr, flush=True)
    print(
        f"build: verifying snapshots under {home / 'raw'} and running dbt"
        + (" on Spark" if engine == "spark" else "")
        + (" (full refresh)…" if full_refresh or vanished else "…"),
        file=sys.stderr,
        flush=True,
    )
    report_build(build_warehouse(home, full_refresh=full_refresh, engine=engine))


@main.command(name="publish")
@click.option("--date", "publish_date", type=IsoDate(), help="Date of the package [default: the last snapshot built].")
@click.option("--force", is_flag=True, help="Replace a package already published for that date (recorded).")
@click.option("--include-names", is_flag=True, help="Keep depicted people's names (internal use only).")
def publish_command(publish_date: date | None, force: bool, include_names: bool) -> None:
    """Write publish/YYYY-MM-DD/ (data, DuckDB, site, manifest, citation, checksums) from the last good build."""
    from dagster_project.publish_location import publish_location
    from dagster_project.runs import run_job

    home = command_home()
    if not any(warehouse_path(home, engine).is_file() for engine in ENGINES):  # before anything is created
        fail(f"no warehouse at {home / 'warehouse.duckdb'}: run `hubwatch build` first")
    day = publish_date.isoformat() if publish_date else None
    config = {"publish_date": day, "force": force, "include_names": include_names}
    outcome = run_job(
        home,
        "publish_job",
        run_config={"ops": {"publish__package": {"config": config}}},
        definitions=publish_location(),
    )
    report_published(outcome)


@main.command()
@click.option("--date", "publish_date", type=IsoDate(), help="The package to re-render [default: publish/latest].")
@click.option("--force", is_flag=True, help="Replace that package with a new one holding the new site (recorded).")
def dashboards(publish_date: date | None, force: bool) -> None:
    """Render a published package's site again, as a new package (dated packages are never modified)."""
    from dagster import AssetKey

    from dagster_project.publish_location import publish_location
    from dagster_project.runs import run_job

    home = command_home()
    if not (home / "publish" / "latest").is_dir():
        fail(f"no published package at {home / 'publish' / 'latest'}: run `hubwatch publish` first")
    config = {"publish_date": publish_date.isoformat() if publish_date else None, "force": force}
    outcome = run_job(
        home,
        "publish_job",
        asset_selection=[AssetKey(["dashboards", "site"])],
        run_config={"ops": {"publish__package": {"config": config}}},
        definitions=publish_location(),
    )
    report_published(outcome)


@main.command()
@click.argument("package_spec", metavar="DATE|PATH")
@click.option(
    "--raw-home",
    type=click.Path(path_type=Path),
    help="Where raw/ is, to check the input snapshots [default: the package's own home, else $HUBWATCH_HOME].",
)
def verify(package_spec: str, raw_home: Path | None) -> None:
    """Check a package (a date published in the home, `latest`, or a folder): checksums, manifest,
    citation files, datapackage, and its inputs against raw/."""
    from publish.query import package_path
    from publish.verify import VerifyError, raw_home_of
    from publish.verify import verify as verify_package

    package = package_path(package_spec, command_home())
    package = package.parent / package.readlink() if package.is_symlink() else package  # `latest`: its date
    home = raw_home if raw_home is not None else raw_home_of(package, command_home())
    if raw_home is not None and not (raw_home / "raw").is_dir():
        fail(f"no raw/ under {raw_home}")
    try:
        verified = verify_package(package, home)
    except (VerifyError, OSError, ValueError) as error:
        fail(f"{package}: {error}")
    click.echo(verified.line(package))


def report_published(outcome: RunOutcome) -> None:
    if not outcome.success:
        fail(outcome.error or "the run failed")
    package = outcome.materialized.get("publish/package")
    if package:
        print(
            f"publish: {package['path']} ({package['files']} files; simulated: {package['simulated']}; "
            f"build {package['build']})",
            file=sys.stderr,
        )
        if package.get("citation"):
            print(f"publish: cite as: {package['citation']}", file=sys.stderr)
    site = outcome.materialized.get("dashboards/site")
    if site:
        replaced = f" (a new package replacing manifest {site['replaces']})" if site.get("replaces") else ""
        print(f"dashboards: {site['index']}{replaced}", file=sys.stderr)


@main.command(name="import")
@click.argument("kind", type=click.Choice(["civitai-models-json", "civitai-images-table", "hf-models-json"]))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as-of", required=True, help="The date the crawl was made (YYYY-MM-DD): the snapshot's date.")
@click.option("--source-url", help="Where the crawl was published (recorded in the manifest).")
@click.option("--note", help="Free text recorded in the manifest.")
@click.option("--scope", help="What the crawl covered; 'all' only for a complete crawl [default: this import alone].")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Column mapping (civitai-images-table).",
)
@click.option(
    "--skip-invalid", is_flag=True, help="Leave out invalid items (counted in the manifest) instead of refusing."
)
@click.option("--force", is_flag=True, help="Discard a staged (paused or failed) crawl of that date.")
def import_command(kind, path, as_of, source_url, note, scope, mapping_path, skip_invalid, force) -> None:
    """Load a third-party crawl into raw/ as a dated snapshot labelled imported.

    Every item is validated before anything is written; the files are read one at a time."""
    from ingest.importers import import_crawl

    with Reporter() as reporter:
        try:
            result = import_crawl(
                kind,
                path,
                home=command_home(),
                as_of=parse_as_of(as_of),
                source_url=source_url,
                note=note,
                scope=scope,
                mapping_path=mapping_path,
                skip_invalid=skip_invalid,
                force=force,
                progress=lambda text: reporter.status("import", f"import: {text}"),
            )
        except CrawlError as error:
            reporter.close()
            fail(str(error))
    if result.status == "unchanged":
        print(
            f"import: {result.source} {result.snapshot_date}: these files are already imported; nothing to do",
            file=sys.stderr,
        )
        return
    manifest = result.manifest
    counts = ", ".join(f"{n} {table}" for table, n in manifest["items"].items())
    invalid = manifest.get("invalid", {}).get("items", 0)
    notes = [f"{invalid} invalid items left out"] if invalid else []
    notes += [f"{n} undated {table}" for table, n in manifest.get("undated", {}).items() if n]
    print(
        f"import: {result.source} {result.snapshot_date}: {counts} (imported"
        + "".join(f"; {note}" for note in notes)
        + f") → {result.path}",
        file=sys.stderr,
    )


@main.command()
@click.argument("source", metavar="SOURCE")
@click.argument("snapshot_date", metavar="DATE")
@click.option("--reason", required=True, help="Why it is withdrawn (kept with it, listed in every later package).")
def withdraw(source: str, snapshot_date: str, reason: str) -> None:
    """Move SOURCE's snapshot of DATE out of raw/ into withdrawn/ (never deleted); the next build
    leaves it out. SOURCE: civitai_models, civitai_images or hf_models."""
    from ingest.withdraw import withdraw as withdraw_snapshot

    home = command_home()
    try:
        target = withdraw_snapshot(home, source, parse_as_of(snapshot_date), reason)
    except CrawlError as error:
        fail(str(error))
    print(
        f"withdraw: {source} {snapshot_date} moved to {target}; the next `hubwatch build` rebuilds without it, "
        "and the date can be imported or taken again",
        file=sys.stderr,
    )


@main.command()
def run() -> None:
    """Today's daily job: snapshot every source, build, check, and what is built on them."""
    from dagster_project.runs import run_job

    home = command_home()
    day = datetime.now(UTC).date().isoformat()
    with Reporter() as reporter:
        outcome = run_job(home, "daily_snapshot_job", partition_key=day, on_page=reporter.page)
        for source in SOURCES:
            reporter.result(source, day, outcome.materialized.get(f"raw/{source}"))
    report_build(outcome)


@main.command()
@click.option("--start", type=IsoDate(), default="2024-01-01", show_default=True, help="First simulated snapshot.")
@click.option("--end", type=IsoDate(), default="2025-12-01", show_default=True, help="Last simulated snapshot.")
def demo(start: date, end: date) -> None:
    """fakehub on loopback, monthly simulated snapshots through the real crawlers and assets, build."""
    from dagster_project.runs import run_job

    home = command_home()
    if start > end:
        fail(f"--start {start} is after --end {end}")
    real = sorted(
        {
            manifest.parent.parent.name
            for manifest in home.glob("raw/*/snapshot_date=*/manifest.json")
            if orjson.loads(manifest.read_bytes()).get("kind") != "simulated"
        }
    )
    if real:
        fail(f"{home} holds live or imported snapshots ({', '.join(real)}); give the simulated demo its own --home")
    days = month_starts(start, end)
    from ingest.fakehub import FakeHub, build_world

    print(f"demo: building the simulated world (seed {DEMO_SEED}) and starting fakehub on 127.0.0.1", flush=True)
    world = build_world(seed=DEMO_SEED, n_models=1500, n_images=25_000, n_repos=300)
    started = time.monotonic()
    outcomes = []
    with FakeHub(world) as hub, Reporter(stream=sys.stdout, every_seconds=30) as reporter:
        # fakehub's address and an unpaced client, as the settings resource's config (no environment)
        crawl = {"civitai_api_base": hub.civitai_base, "hf_endpoint": hub.hf_endpoint, "rate": 0.0}
        # fakehub's second Civitai host (it hides R, X and XXX from 2026-04-15): image snapshots cross-check it
        crawl["civitai_other_bases"] = [hub.civitai_second_base]
        crawl.update(backoff_initial=0.05, backoff_max=0.5)
        print(f"demo: fakehub at {hub.base_url}; {len(days)} monthly snapshots into {home / 'raw'}", flush=True)
        for day in days:
            # simulated dates are in the past: the freshness checks (for live runs) would always warn
            # images: the feed since the previous month's snapshot (the default), so no day is missed
            outcome = snapshot_sources(home, day.isoformat(), list(SOURCES), reporter, quiet=("freshness",), **crawl)
            if not outcome.success:
                fail(f"snapshots of {day}: {outcome.error}")
            outcomes.append((day, outcome))
    print(
        f"demo: snapshots done in {time.monotonic() - started:.0f}s; build, publish, dashboards…",
        flush=True,
    )
    # one run from raw/ to the site: build, then publish (dated by the last snapshot), then render
    publish = {"publish_date": days[-1].isoformat(), "force": True, "include_names": False}
    outcome = run_job(home, "rebuild_from_raw_job", run_config={"ops": {"publish__package": {"config": publish}}})
    report_build(outcome)
    report_published(outcome)
    runs = [o for _day, o in outcomes] + [outcome]
    stale = sum(1 for o in runs for name in o.failed_checks if "freshness" in name)
    print(
        f"demo: done in {time.monotonic() - started:.0f}s. Simulated snapshots {days[0]}..{days[-1]} in "
        f"{home / 'raw'}; warehouse {home / 'warehouse.duckdb'}; Dagster runs in {home / 'dagster'}.\n"
        f"demo: checks over all {len(runs)} runs: {checks_text(tally(runs))}"
        + (f" ({stale} of them freshness warnings: simulated dates are always in the past)" if stale else ""),
        flush=True,
    )
    for day, snapshot_outcome in outcomes:
        for name in snapshot_outcome.failed_checks:
            if "freshness" not in name:
                print(f"  {day}: check not passed: {name}", flush=True)
    print(next_steps(home, days[-1]), flush=True)


def next_steps(home: Path, last_snapshot: date) -> str:
    """The exact commands to look at what the demo made: query it, open its site, see its runs.

    The query shows whole months only (the last snapshot's month is partial) and each share's n."""
    script = Path(os.path.abspath(sys.argv[0]))
    command = "hubwatch"
    if script.name == "hubwatch" and script.is_file():
        command = str(script.relative_to(Path.cwd())) if script.is_relative_to(Path.cwd()) else str(script)
    clone = Path(__file__).resolve().parent.parent
    make = "make" if clone == Path.cwd().resolve() else f"make -C {shlex.quote(str(clone))}"
    month = last_snapshot.replace(day=1)  # a date object: the query is printed for the user, not run here
    columns = "platform, entity, month, n_items, round(share_any, 3) as share_any"
    query = f"select {columns} from nsfw_share_monthly where month < date '{month}' order by month desc, platform, entity limit 6"  # noqa: S608, E501  # ours, with no character a double-quoted shell word would expand
    site = home / "publish" / "latest" / "dashboards" / "index.html"
    return "\n".join(
        [
            "demo: next —",
            f'  query its package:    {shlex.quote(command)} sql --home {shlex.quote(str(home))} "{query}"',
            f"  open its site:        {site.as_uri()}",
            f"  see its Dagster runs: {make} dev HUBWATCH_HOME={shlex.quote(str(home))}   (http://127.0.0.1:3000)",
        ]
    )


PACKAGE_HELP = "a date published in the home, a package folder or a package's hubwatch.duckdb"


@main.command()
@click.argument("query")
@click.option("--csv", "output", flag_value="csv", help="Print the result as CSV.")
@click.option("--json", "output", flag_value="json", help="Print the result as a JSON array of objects.")
@click.option(
    "--parquet",
    "parquet_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the result to FILE (outside the package) as Parquet, with the package's citation in its metadata.",
)
@click.option(
    "--package", "package_spec", metavar="DATE|PATH", help=f"The package to query: {PACKAGE_HELP} [default: latest]."
)
def sql(query: str, output: str | None, parquet_file: Path | None, package_spec: str | None) -> None:
    """Read-only SQL over a published package: SELECT, EXPLAIN, informational PRAGMA; the rest is refused."""
    from publish.query import QueryError, resolve_package, simulated_note
    from publish.query import run as run_query

    if parquet_file and output:
        fail(f"give one of --csv, --json and --parquet, not --{output} and --parquet")
    home = command_home()
    try:
        package = resolve_package(package_spec, home)
        note = simulated_note(package)  # before the query: its result is the last thing that can fail
        run_query(
            package,
            query,
            output="parquet" if parquet_file else output or "table",
            out_file=parquet_file,
            stdout=sys.stdout.buffer,
            protected=(home / "publish",),
        )
    except QueryError as error:
        fail(str(error))
    if note:  # after the result: an error stays one line
        click.echo(f"hubwatch: note: {note}", err=True)
    if parquet_file:
        print(f"sql: wrote {parquet_file}", file=sys.stderr)


@main.command()
@click.argument("package_a", metavar="PACKAGE_A")
@click.argument("package_b", metavar="PACKAGE_B")
@click.option("--csv", "as_csv", is_flag=True, help="Print every change as a CSV row instead of a summary.")
@click.option("--table", "tables", multiple=True, metavar="TABLE", help="Compare only this table (repeatable).")
@click.option("--examples", default=5, show_default=True, type=click.IntRange(min=0), help="Example rows per change.")
def diff(package_a: str, package_b: str, as_csv: bool, tables: tuple[str, ...], examples: int) -> None:
    """What changed between two packages: rows added, removed and changed per table; models that disappeared."""
    from publish.diff import DiffError, diff_packages, summary_text, write_csv
    from publish.query import QueryError, resolve_package

    home = command_home()
    try:
        a, b = resolve_package(package_a, home), resolve_package(package_b, home)
        result = diff_packages(a.database, b.database, tables=tables or None, examples=0 if as_csv else examples)
        if as_csv:
            write_csv(a.database, b.database, result, sys.stdout)
        else:
            sys.stdout.write(summary_text(result))
    except (DiffError, QueryError) as error:
        fail(str(error))

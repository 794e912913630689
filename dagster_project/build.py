"""One `hubwatch build`, as the dbt assets run it: what they yield, and everything around dbt.

Verify raw/ (refusing, by name, a partition that is not intact), notice snapshots withdrawn since
an earlier build (their rows must leave every table: a full refresh), record the build as it goes
(build_record: `running`, then how it ended — the only thing publish trusts), run dbt with its
artefacts under the home and bound to this process's life, and say a failure in one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster_dbt import DbtCliResource
from packaging.version import Version

from dagster_project import build_record
from dagster_project.dbt_child import PARENT_ENV
from dagster_project.model_logic import record_built as record_built_logic
from dagster_project.spark_export import ExportError, export_public_tables
from dagster_project.warehouse import (
    BuildError,
    build_args,
    dbt_failure,
    dbt_target,
    describe_vanished,
    logic_refresh,
    prune_dbt_targets,
    refreshed,
    reuse_parse,
    vanished_snapshots,
)
from ingest.crash import crash_point
from ingest.home import warehouse_path


class HubwatchDbt(DbtCliResource):
    """dagster-dbt's dbt resource without two costs a build does not use (~5 CPU-s of a small build's
    ~45, in the parent process): before each invocation it asked the dbt executable for its version
    (`dbt --version`: a whole dbt start in a subprocess) and loaded the project, the profile and every
    macro into a dbt adapter in this process, which only serves `fetch_column_metadata` and
    `fetch_row_counts` (not used: the build record and the checks come from dbt's own results).
    The executable is hubwatch-dbt, which runs this environment's dbt-core, so its version is the
    installed package's."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):  # noqa: ARG002 (dagster-dbt's signature)
        return None  # dagster-dbt then streams dbt's events as usual, with no adapter-backed metadata


def hand_over(home: Path, target: Path) -> str | None:
    """After a Spark build whose every node passed: its public tables into spark/public.duckdb.
    Returns why that failed (the build then fails), or None."""
    run_results = target / "run_results.json"
    if not run_results.is_file():
        return None
    results = orjson.loads(run_results.read_bytes()).get("results", [])
    if not results or any(r.get("status") in build_record.FAILED_STATUSES for r in results):
        return None
    try:
        export_public_tables(home, target / "manifest.json")
    except (ExportError, OSError) as error:
        return f"Spark built the tables, but handing them to DuckDB failed: {error}"
    return None


def checks_left_out(context: dg.AssetExecutionContext) -> bool:
    """Whether the run's selection leaves out a check of an asset it builds (Dagster's asset-check
    selection): dagster-dbt then chooses the dbt tests to run (warehouse.build_args)."""
    kept = context.selected_asset_check_keys
    specs = context.assets_def.node_check_specs_by_output_name.values()
    return any(spec.asset_key in context.selected_asset_keys and spec.key not in kept for spec in specs)


def build_events(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, home: Path, full_refresh: bool, engine: str = "duckdb"
) -> Iterator[Any]:
    """The dbt build's events, between its build record's start and end; dg.Failure when it fails.
    engine: the target of dbt/profiles.yml (duckdb, the default; spark: its public tables are then
    handed to DuckDB, dagster_project/spark_export.py)."""
    vanished = vanished_snapshots(home, engine)  # a withdrawn snapshot's rows must leave every table
    if vanished:
        context.log.warning(describe_vanished(vanished))
    full_refresh = full_refresh or bool(vanished)
    # incremental models whose dbt logic changed since they were built (an upgrade): rebuilt whole
    selected = {key.path[-1] for key in context.selected_asset_keys} if context.is_subset else None
    logic = logic_refresh(home, engine, selected)
    if logic.refresh and not full_refresh:
        context.log.warning(logic.describe())
    record = build_record.start(
        home, context.run.run_id, full_refresh=full_refresh, partial=context.is_subset, engine=engine
    )
    record = build_record.logic_refreshed(home, record, [] if full_refresh else logic.refresh, logic.describe())
    # artefacts under the home (not the checkout), the last few kept, with what dbt reads at run time
    target = dbt_target(home, context.run.run_id)
    try:
        args = build_args(
            home,
            full_refresh=full_refresh,
            partial=context.is_subset,
            engine=engine,
            refresh_models=logic.refresh,
            target=target,
            checks_left_out=checks_left_out(context),
        )
    except BuildError as error:
        build_record.refused(home, record, str(error))
        raise dg.Failure(description=str(error)) from None
    crash_point("raw-verified")
    record = build_record.read_inputs(home, record)
    # dbt dies with this process (hubwatch-dbt checks that the pid it was started by is still its parent)
    reuse_parse(home, target, engine)
    os.environ[PARENT_ENV] = str(os.getpid())
    invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
    try:
        for event in invocation.stream():
            crash_point("dbt-event")
            yield event
    finally:
        handover = hand_over(home, target) if engine == "spark" else None
        record = build_record.finished(home, record, target / "run_results.json", warehouse_path(home, engine))
        record_built_logic(home, engine, target / "run_results.json", logic)
        if handover:  # the build's tables are not where publish reads them: it failed
            record = build_record.save(home, {**record, "result": "failed", "error": handover, "rules_version": None})
    crash_point("dbt-finished")
    prune_dbt_targets(home)
    if record["result"] == "succeeded" and full_refresh:  # every table rebuilt: nothing withdrawn is left
        refreshed(home, engine)
    if record["result"] == "failed":
        raise dg.Failure(description=dbt_failure(target, invocation.process.returncode, record["run_id"]))

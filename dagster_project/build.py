"""One `hubwatch build`, as the dbt assets run it: what they yield, and everything around dbt.

Verify raw/ (refusing, by name, a partition that is not intact), notice snapshots withdrawn since
an earlier build (their rows must leave every table: a full refresh), record the build as it goes
(build_record: `running`, then how it ended — the only thing publish trusts), run dbt with its
artefacts under the home and bound to this process's life, and say a failure in one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project import build_record
from dagster_project.dbt_child import PARENT_ENV
from dagster_project.warehouse import (
    BuildError,
    build_args,
    dbt_failure,
    dbt_target,
    describe_vanished,
    prune_dbt_targets,
    refreshed,
    reuse_parse,
    vanished_snapshots,
)
from ingest.crash import crash_point

ENGINE = "duckdb"  # the dbt adapter of dbt/profiles.yml


def build_events(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, home: Path, warehouse: Path, full_refresh: bool
) -> Iterator[Any]:
    """The dbt build's events, between its build record's start and end; dg.Failure when it fails."""
    vanished = vanished_snapshots(home)  # a withdrawn snapshot's rows must leave every table
    if vanished:
        context.log.warning(describe_vanished(vanished))
    full_refresh = full_refresh or bool(vanished)
    record = build_record.start(
        home, context.run_id, full_refresh=full_refresh, partial=context.is_subset, engine=ENGINE
    )
    try:
        args = build_args(home, full_refresh=full_refresh, partial=context.is_subset)
    except BuildError as error:
        build_record.refused(home, record, str(error))
        raise dg.Failure(description=str(error)) from None
    crash_point("raw-verified")
    record = build_record.read_inputs(home, record)
    # artefacts under the home (not the checkout), the last few kept; dbt dies with this process
    # (hubwatch-dbt checks that the pid it was started by is still its parent)
    target = dbt_target(home, context.run_id)
    reuse_parse(home, target)
    os.environ[PARENT_ENV] = str(os.getpid())
    invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
    try:
        for event in invocation.stream():
            crash_point("dbt-event")
            yield event
    finally:
        record = build_record.finished(home, record, target / "run_results.json", warehouse)
    crash_point("dbt-finished")
    prune_dbt_targets(home)
    if record["result"] == "succeeded" and full_refresh:  # every table rebuilt: nothing withdrawn is left
        refreshed(home)
    if record["result"] == "failed":
        raise dg.Failure(description=dbt_failure(target, invocation.process.returncode, record["run_id"]))

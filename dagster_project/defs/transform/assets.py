"""The warehouse: every dbt model, seed and test as Dagster assets and checks.

One writer at a time: the assets share the `duckdb_writer` pool (limit 1 in dagster.yaml) and
dbt runs with one thread. There is no partition window: each incremental model finds the
snapshots it has not loaded yet, so a daily run, a retaken snapshot or a backfill of raw/ are
all the same `dbt build`.
"""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
import orjson
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project.dbt_child import PARENT_ENV
from dagster_project.defs.resources import HubwatchSettings
from dagster_project.defs.transform.project import dbt_project
from dagster_project.warehouse import BuildError, dbt_failure, dbt_target, dbt_vars, prune_dbt_targets, verify_raw
from ingest.crash import crash_point
from ingest.home import ensure_creator_salt

WRITER_POOL = "duckdb_writer"


class BuildConfig(dg.Config):
    full_refresh: bool = False


class Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "rules"
        return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "warehouse"


TRANSLATOR = Translator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    pool=WRITER_POOL,
)
def warehouse(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: HubwatchSettings, config: BuildConfig
) -> Iterator[Any]:
    """Verify raw/ against manifests, then `dbt build` (models, seeds, tests, unit tests)."""
    home = settings.home_path
    os.environ["HUBWATCH_HOME"] = str(home)  # the dbt profile reads it
    ensure_creator_salt(home)
    try:
        raw_vars = dbt_vars(home, verify_raw(home, full=config.full_refresh))
    except BuildError as error:
        raise dg.Failure(description=str(error)) from None
    crash_point("raw-verified")
    args = ["build", "--vars", orjson.dumps(raw_vars).decode()]
    if config.full_refresh:
        args.append("--full-refresh")
    # artefacts under the home (not the checkout), the last few kept; dbt dies with this process
    target = dbt_target(home, context.run.run_id)
    os.environ[PARENT_ENV] = str(os.getpid())
    invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
    for event in invocation.stream():
        crash_point("dbt-event")
        yield event
    crash_point("dbt-finished")
    prune_dbt_targets(home)
    if not invocation.is_successful():
        raise dg.Failure(description=dbt_failure(target, invocation.process.returncode))

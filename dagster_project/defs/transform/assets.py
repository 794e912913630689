"""The warehouse: every dbt model, seed and test as Dagster assets and checks.

One writer at a time: the assets share the `duckdb_writer` pool (limit 1 in dagster.yaml) and
dbt runs with one thread. There is no partition window: each incremental model finds the
snapshots it has not loaded yet, so a daily run, a retaken snapshot or a backfill of raw/ are
all the same `dbt build`. Each build writes its build record (dagster_project/build_record.py),
the only thing publish trusts: `running` first, then how it ended.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project.build import build_events
from dagster_project.defs.project import dbt_project
from dagster_project.defs.resources import WRITER_POOL, HubwatchSettings


class BuildConfig(dg.Config):
    full_refresh: bool = False
    engine: str = "duckdb"  # or "spark" (`hubwatch build --engine spark`): a target of dbt/profiles.yml


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
    """Verify raw/ against manifests, then `dbt build` (models, seeds, data tests; the unit tests run in
    `make test`: warehouse.build_args)."""
    yield from build_events(context, dbt, settings.home_path, config.full_refresh, config.engine)

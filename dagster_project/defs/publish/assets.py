"""The dated package, written after every build from the warehouse (read-only)."""

from datetime import UTC, date, datetime

import dagster as dg

from dagster_project.defs.resources import HubwatchSettings
from dagster_project.defs.transform.assets import WRITER_POOL
from publish.citation import cite
from publish.package import PUBLIC_TABLES, PublishError, publish


class PublishConfig(dg.Config):
    publish_date: str | None = None  # default: the run's partition (a daily run), else today (UTC)
    force: bool = False  # replace a package already published for that date
    include_names: bool = False  # keep depicted people's names (internal use only)


@dg.asset(
    key=["publish", "package"],
    deps=[dg.AssetKey(["marts", table]) for table in PUBLIC_TABLES],
    group_name="publish",
    pool=WRITER_POOL,  # it opens the live warehouse: never while dbt writes it
    kinds={"parquet", "duckdb"},
    description="publish/YYYY-MM-DD/: public tables as Parquet and CSV, a DuckDB file, manifest, codebook.",
)
def package(
    context: dg.AssetExecutionContext, settings: HubwatchSettings, config: PublishConfig
) -> dg.MaterializeResult:
    day = config.publish_date or (context.partition_key if context.has_partition_key else None)
    try:
        published = publish(
            settings.home_path,
            publish_date=date.fromisoformat(day) if day else datetime.now(UTC).date(),
            force=config.force or bool(context.has_partition_key),
            include_names=config.include_names,
        )
    except PublishError as error:
        raise dg.Failure(description=str(error)) from None
    manifest = published.manifest
    return dg.MaterializeResult(
        metadata={
            "path": str(published.path),
            "publish_date": manifest["publish_date"],
            "simulated": manifest["simulated"],
            "rows": {table: meta["rows"] for table, meta in manifest["tables"].items()},
            "files": len(manifest["files"]),
            "citation": cite(published.path),
        }
    )

"""The dated package and its site, written in one step after every build (publish/ does the work)."""

from datetime import date

import dagster as dg

from dagster_project.defs.resources import WRITER_POOL, HubwatchSettings
from publish.citation import cite
from publish.package import PUBLIC_TABLES, PublishError, publish, rerender

PACKAGE_KEY, SITE_KEY = dg.AssetKey(["publish", "package"]), dg.AssetKey(["dashboards", "site"])
SPECS = (
    dg.AssetSpec(
        key=PACKAGE_KEY,
        deps=[dg.AssetKey(["marts", table]) for table in PUBLIC_TABLES],
        group_name="publish",
        kinds={"parquet", "duckdb"},
        description="publish/YYYY-MM-DD/: public tables as Parquet and CSV, a DuckDB file, manifest, codebook.",
        skippable=True,
    ),
    dg.AssetSpec(
        key=SITE_KEY,
        deps=[PACKAGE_KEY],
        group_name="dashboards",
        kinds={"html", "plotly"},
        description="publish/YYYY-MM-DD/dashboards/: static Plotly pages with CSV downloads, offline, inside the "
        "package's checksums. Selected alone (`hubwatch dashboards --force`), it re-renders the latest package's site "
        "as a new package replacing it.",
        skippable=True,
    ),
)


class PublishConfig(dg.Config):
    publish_date: str | None = None  # default: the run's partition (a daily run), else the build's last snapshot
    force: bool = False  # replace a package already published for that date (recorded in its manifest)
    include_names: bool = False  # keep depicted people's names (internal use only)


@dg.multi_asset(specs=list(SPECS), can_subset=True, pool=WRITER_POOL, name="publish__package")
def package(context: dg.AssetExecutionContext, settings: HubwatchSettings, config: PublishConfig):
    """The package and its site together (the site is rendered inside it before checksumming);
    the site alone means: render it again as a new package. The warehouse is only read, but
    never while dbt writes it (the writer pool)."""
    day = config.publish_date or (context.partition_key if context.has_partition_key else None)
    publish_date = date.fromisoformat(day) if day else None
    try:
        if PACKAGE_KEY in context.selected_asset_keys:
            published = publish(
                settings.home_path,
                publish_date=publish_date,
                force=config.force or context.has_partition_key,
                include_names=config.include_names,
            )
        else:
            published = rerender(settings.home_path, publish_date=publish_date, force=config.force)
    except PublishError as error:
        raise dg.Failure(description=str(error)) from None
    manifest = published.manifest
    if PACKAGE_KEY in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=PACKAGE_KEY,
            metadata={
                "path": str(published.path),
                "publish_date": manifest["publish_date"],
                "simulated": manifest["simulated"],
                "build": manifest["build"]["run_id"],
                "rows": {table: meta["rows"] for table, meta in manifest["tables"].items()},
                "files": len(manifest["files"]),
                "citation": cite(published.path),
            },
        )
    yield dg.MaterializeResult(
        asset_key=SITE_KEY,
        metadata={
            "index": str(published.path / "dashboards" / "index.html"),
            "pages": len(list((published.path / "dashboards").glob("*.html"))),
            "replaces": (manifest.get("replaces") or {}).get("manifest_sha256") or "",
        },
    )

"""One asset per source, partitioned by snapshot date, over ingest.snapshots.take_snapshot.

A live partition is only ever today's (UTC): the public APIs show only the present. Against a
loopback source (fakehub, a replay server) any date is a simulated snapshot. Each run checks
its own snapshot: complete, and (Civitai models) no sudden vanishing of yesterday's models; the
checks are partitioned like their asset, so each day's result stays visible in the UI.

The partitions start at the home's first complete snapshot (HUBWATCH_PARTITIONS_START overrides
it; with neither, today), or earlier when a CLI run asks for an earlier date: they are declared
each time the definitions load (a @definitions function), so they follow the home.
"""

import os
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg

from dagster_project import runs
from dagster_project.defs.resources import HubwatchSettings
from ingest import cross_host
from ingest.home import hubwatch_home
from ingest.http import CrawlError
from ingest.landing import SOURCES, PageEvent, complete_snapshots, read_manifest
from ingest.snapshots import as_of_for, take_snapshot, vanished_share

DESCRIPTIONS = {
    "civitai_models": "Every Civitai model the public API lists (all NSFW levels, archived included).",
    "civitai_images": (
        "Civitai's image feed since the previous complete image snapshot, less an overlap (all browsing "
        "levels); the first backfills the feed, over as many runs as its time budget needs."
    ),
    "hf_models": "Hugging Face text-to-image models and image adapters, with LoRA file hashes.",
}


class SnapshotConfig(dg.Config):
    force: bool = False  # retake a snapshot that is already complete
    max_pages: int | None = None  # stop after N pages (the snapshot stays staged, resumable)


def partitions_start(home, configured: str | None, floor: str | None) -> str:
    """The first daily partition: the configured start, else the home's first complete snapshot,
    else today (UTC); never later than `floor`, the date a CLI run asks for."""
    try:
        firsts = [dates[0] for dates in (complete_snapshots(home, s) for s in SOURCES) if dates]
    except CrawlError:  # a misnamed partition: the build or snapshot that reads raw/ names it in one line
        firsts = []
    start = configured or (min(firsts).isoformat() if firsts else datetime.now(UTC).date().isoformat())
    date.fromisoformat(start)  # a bad HUBWATCH_PARTITIONS_START fails the load, naming itself below
    return min(start, floor) if floor else start


def snapshot_asset(source: str, daily: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", source])
    with warnings.catch_warnings():  # partitioned checks are a preview feature of this Dagster
        warnings.simplefilter("ignore", dg.PreviewWarning)
        checks = [
            dg.AssetCheckSpec(
                "complete", asset=key, partitions_def=daily, description="The snapshot's manifest says complete."
            )
        ]
        if source == "civitai_models":
            checks.append(
                dg.AssetCheckSpec(
                    "no_sudden_drop",
                    asset=key,
                    partitions_def=daily,
                    description="Warns when more of the previous snapshot's models vanished than allowed.",
                )
            )

        if source == "civitai_images":
            checks.append(
                dg.AssetCheckSpec(
                    "hosts_agree",
                    asset=key,
                    partitions_def=daily,
                    description="Warns when the Civitai hosts (CIVITAI_API_BASES) list different images per level.",
                )
            )

    @dg.asset(
        key=key,
        partitions_def=daily,
        pool=f"api_{source.split('_')[0]}",
        group_name="ingest",
        kinds={"python", "parquet"},
        description=DESCRIPTIONS[source],
        check_specs=checks,
    )
    def _snapshot(
        context: dg.AssetExecutionContext,
        settings: HubwatchSettings,
        config: SnapshotConfig,
        progress: dg.ResourceParam[Callable[[PageEvent], None]],
    ):
        endpoints = settings.endpoints()
        partition = context.partition_key

        def on_page(event):
            if event.pages % 50 == 0:
                context.log.info(f"{source}: {event.pages} pages, {event.items} items")
            progress(event)

        try:
            result = take_snapshot(
                source,
                home=settings.home_path,
                endpoints=endpoints,
                as_of=as_of_for(partition, endpoints.base_for(source)),
                max_pages=config.max_pages,
                force=config.force,
                images_period=settings.period,
                image_feed=settings.image_feed() if source == "civitai_images" else None,
                politeness=settings.politeness(),
                on_page=on_page,
            )
        except CrawlError as error:
            retries, attempt = settings.max_step_retries, context.retry_number
            if attempt < retries:  # the hub may recover: the whole step again, minutes later
                wait = settings.step_retry_wait(attempt)
                raise dg.RetryRequested(max_retries=retries, seconds_to_wait=wait) from error
            raise dg.Failure(description=f"{source}: {error}") from None
        earlier = [r.snapshot_date.isoformat() for r in result.finished_earlier]
        if result.status == "paused":
            yield dg.MaterializeResult(
                metadata={
                    "snapshot_date": partition,
                    "status": "paused",
                    "paused_by": result.paused_by,
                    "staged_date": result.snapshot_date.isoformat(),
                    "finished_earlier": earlier,
                    "path": str(result.path),
                }
            )
            yield dg.AssetCheckResult(
                check_name="complete",
                passed=False,
                metadata={"snapshot_date": partition, "staged_at": str(result.path)},
            )
            if source == "civitai_models":
                yield dg.AssetCheckResult(
                    check_name="no_sudden_drop",
                    passed=True,
                    metadata={"snapshot_date": partition, "skipped": "incomplete"},
                )
            if source == "civitai_images":
                yield dg.AssetCheckResult(
                    check_name="hosts_agree",
                    passed=True,
                    metadata={"snapshot_date": partition, "skipped": "incomplete"},
                )
            return
        manifest = result.manifest or read_manifest(settings.home_path, source, result.snapshot_date)
        yield dg.MaterializeResult(
            metadata={
                "snapshot_date": partition,
                "status": result.status,
                "kind": manifest["kind"],
                "host": manifest["host"],
                "pages": manifest["pages"],
                "items": manifest["items"],
                "complete": manifest["complete"],
                "transient_errors": sum(manifest["errors"].values()),
                "finished_earlier": earlier,
                "path": str(result.path),
                "recovered": list(result.recovered),  # what this run finished after a killed one
            }
        )
        yield dg.AssetCheckResult(
            check_name="complete", passed=bool(manifest.get("complete")), metadata={"snapshot_date": partition}
        )
        if source == "civitai_models":
            share, gone, previous = vanished_share(settings.home_path, source, result.snapshot_date)
            yield dg.AssetCheckResult(
                check_name="no_sudden_drop",
                passed=share <= settings.max_drop,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "snapshot_date": partition,
                    "vanished": gone,
                    "vanished_share": share,
                    "previous_snapshot": str(previous),
                    "threshold": settings.max_drop,
                },
            )
        if source == "civitai_images":
            record = manifest.get(cross_host.RECORD_KEY) or {}
            yield dg.AssetCheckResult(
                check_name="hosts_agree",
                passed=not record.get("divergent", False),
                severity=dg.AssetCheckSeverity.WARN,
                description=cross_host.describe(record)
                if record
                else "one Civitai host configured: nothing to compare",
                metadata={
                    "snapshot_date": partition,
                    "hosts": record.get("bases_text", manifest["host"]),
                    "divergent_levels": record.get("divergent_levels_text", ""),
                },
            )

    return _snapshot


@dg.definitions
def snapshot_definitions() -> dg.Definitions:
    """The snapshot assets, their checks and the manifests they write, partitioned from the home."""
    home = runs.partitions_home or hubwatch_home()
    start = partitions_start(home, os.environ.get("HUBWATCH_PARTITIONS_START"), runs.partitions_floor)
    daily = dg.DailyPartitionsDefinition(start_date=start, end_offset=1, timezone="UTC")
    snapshots = [snapshot_asset(source, daily) for source in SOURCES]
    freshness = dg.build_time_partition_freshness_checks(
        assets=snapshots, deadline_cron="0 9 * * *", timezone="UTC", severity=dg.AssetCheckSeverity.WARN
    )
    # Each snapshot asset writes its manifest.json last; dbt reads all of them as one source.
    manifests = dg.AssetSpec(
        key=["raw", "manifests"],
        deps=[asset.key for asset in snapshots],
        group_name="ingest",
        description="manifest.json of every complete snapshot (written by the snapshot assets).",
        kinds={"json"},
    )
    return dg.Definitions(assets=[*snapshots, manifests], asset_checks=freshness)

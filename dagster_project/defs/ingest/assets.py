"""One asset per source, partitioned by snapshot date, over ingest.snapshots.take_snapshot.

A live partition is only ever today's (UTC): the public APIs show only the present. Against a
loopback source (fakehub, a replay server) any date is a simulated snapshot. Each run checks
its own snapshot: complete, and (Civitai models) no sudden vanishing of yesterday's models.
"""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from dagster_project import runs
from dagster_project.defs.resources import HubwatchSettings
from ingest.home import snapshot_path
from ingest.http import CrawlError, env_number
from ingest.landing import SOURCES, complete_snapshots, is_loopback, read_manifest
from ingest.snapshots import take_snapshot

daily = dg.DailyPartitionsDefinition(start_date="2023-01-01", end_offset=1, timezone="UTC")
RETRY = dg.RetryPolicy(
    max_retries=env_number("HUBWATCH_STEP_RETRIES", 2, int),
    delay=env_number("HUBWATCH_STEP_RETRY_DELAY", 120.0, float),
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)
DESCRIPTIONS = {
    "civitai_models": "Every Civitai model the public API lists (all NSFW levels, archived included).",
    "civitai_images": "Civitai's image feed over the window of the snapshot (all browsing levels).",
    "hf_models": "Hugging Face text-to-image models and image adapters, with LoRA file hashes.",
}


def as_of_for(partition: str, base_url: str) -> str | None:
    """None (a live crawl) for today's partition of a live host; the date otherwise."""
    day = date.fromisoformat(partition)
    if day == datetime.now(UTC).date() and not is_loopback(base_url):
        return None
    return partition


def vanished_share(home, source: str, day: date) -> tuple[float, int, date | None]:
    """Share of the previous snapshot's models that this snapshot no longer lists."""
    earlier = [d for d in complete_snapshots(home, source) if d < day]
    if not earlier:
        return 0.0, 0, None
    ids = [
        set(pl.read_parquet(snapshot_path(home, source, d) / "models.parquet", columns=["model_id"])["model_id"])
        for d in (earlier[-1], day)
    ]
    gone = len(ids[0] - ids[1])
    return gone / max(len(ids[0]), 1), gone, earlier[-1]


class SnapshotConfig(dg.Config):
    force: bool = False  # retake a snapshot that is already complete
    max_pages: int | None = None  # stop after N pages (the snapshot stays staged, resumable)


def snapshot_asset(source: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", source])
    checks = [dg.AssetCheckSpec("complete", asset=key, description="The snapshot's manifest says complete.")]
    if source == "civitai_models":
        checks.append(
            dg.AssetCheckSpec(
                "no_sudden_drop",
                asset=key,
                description="Warns when more of the previous snapshot's models vanished than allowed.",
            )
        )

    @dg.asset(
        key=key,
        partitions_def=daily,
        retry_policy=RETRY,
        pool=f"api_{source.split('_')[0]}",
        group_name="ingest",
        kinds={"python", "parquet"},
        description=DESCRIPTIONS[source],
        check_specs=checks,
    )
    def _snapshot(context: dg.AssetExecutionContext, settings: HubwatchSettings, config: SnapshotConfig):
        endpoints = settings.endpoints()
        partition = context.partition_key

        def on_page(event):
            if event.pages % 50 == 0:
                context.log.info(f"{source}: {event.pages} pages, {event.items} items")
            if runs.progress_hook:
                runs.progress_hook(event)

        try:
            result = take_snapshot(
                source,
                home=settings.home_path,
                endpoints=endpoints,
                as_of=as_of_for(partition, endpoints.base_for(source)),
                max_pages=config.max_pages,
                force=config.force,
                images_period=settings.period,
                politeness=settings.politeness(),
                on_page=on_page,
            )
        except CrawlError as error:
            raise dg.Failure(description=f"{source}: {error}") from None
        if result.status == "paused":
            yield dg.MaterializeResult(
                metadata={"snapshot_date": partition, "status": "paused", "path": str(result.path)}
            )
            yield dg.AssetCheckResult(check_name="complete", passed=False, metadata={"staged_at": str(result.path)})
            if source == "civitai_models":
                yield dg.AssetCheckResult(check_name="no_sudden_drop", passed=True, metadata={"skipped": "incomplete"})
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
                "path": str(result.path),
                "recovered": list(result.recovered),  # what this run finished after a killed one
            }
        )
        yield dg.AssetCheckResult(check_name="complete", passed=bool(manifest.get("complete")))
        if source == "civitai_models":
            share, gone, previous = vanished_share(settings.home_path, source, result.snapshot_date)
            yield dg.AssetCheckResult(
                check_name="no_sudden_drop",
                passed=share <= settings.max_drop,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "vanished": gone,
                    "vanished_share": share,
                    "previous_snapshot": str(previous),
                    "threshold": settings.max_drop,
                },
            )

    return _snapshot


snapshots = [snapshot_asset(source) for source in SOURCES]
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

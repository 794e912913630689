"""The snapshot runs' own definitions: what `hubwatch snapshot` (and the demo's snapshots) run."""

import warnings
from pathlib import Path

import dagster as dg


def snapshot_location(home: Path, partition_key: str | None = None) -> dg.Definitions:
    """The code location's daily job with only what a snapshot run executes: the snapshot assets,
    their checks (complete, no_sudden_drop, hosts_agree, freshness), partitioned from this home as in
    runs.code_location, and the settings and progress resources. `hubwatch snapshot` runs the daily
    job's raw/* assets alone; it loads this instead of the whole code location, which imports
    dagster-dbt and dbt-core and builds dbt's ~470 nodes (about half of a snapshot process's CPU
    before its first page); the run, its events, checks and materialisations are the same."""
    with warnings.catch_warnings():  # as dg.load_from_defs_folder loads the code location: no preview,
        for category in (dg.SupersessionWarning, dg.PreviewWarning, dg.BetaWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)  # beta or superseded-API warning on the CLI's stderr
        from dagster_project import runs
        from dagster_project.defs.automation.jobs import daily_job
        from dagster_project.defs.ingest.assets import snapshot_definitions
        from dagster_project.defs.resources import HubwatchSettings, progress

        runs.use_partitions_of(home, partition_key)
        snapshots = snapshot_definitions()
    return dg.Definitions.merge(
        snapshots,
        dg.Definitions(jobs=[daily_job], resources={"settings": HubwatchSettings(), "progress": progress()}),
    )

"""The daily job (snapshot -> build -> checks -> publish -> dashboards) and the rebuild job."""

import dagster as dg

INGEST = dg.AssetSelection.groups("ingest")

daily_job = dg.define_asset_job(
    "daily_snapshot_job",
    selection=dg.AssetSelection.all(),
    description="Today's snapshot of every source, then the warehouse and everything built on it.",
)

rebuild_job = dg.define_asset_job(
    "rebuild_from_raw_job",
    selection=dg.AssetSelection.all() - INGEST,
    description="Everything downstream of raw/, in one run (set full_refresh to rebuild it all).",
)

publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.groups("publish", "dashboards"),
    description="The dated package and the dashboards, from the current warehouse.",
)

"""The Dagster code location: everything under defs/ (ingest, transform, publish, dashboards,
checks, automation), each a thin layer over the plain libraries ingest/ and dashboards/."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)

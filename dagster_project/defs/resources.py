"""Resources shared by every asset: where hubwatch keeps its data, and the dbt CLI."""

import os
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.defs.transform.project import dbt_project
from dagster_project.warehouse import DBT_EXECUTABLE
from ingest.civitai_images import FeedSettings
from ingest.home import hubwatch_home
from ingest.http import CrawlError, Politeness
from ingest.snapshots import Endpoints


class HubwatchSettings(dg.ConfigurableResource):
    """Data directory and crawl settings; unset fields come from the environment.

    Credentials (CIVITAI_API_KEY, HF_TOKEN) are read from the environment at crawl time and
    never become resource config, so they are not stored with runs.
    """

    home: str | None = None
    images_period: str | None = None  # the API's own window instead of the feed since last time
    images_since: str | None = None  # YYYY-MM-DD: sweep the image feed back at least to this date
    images_budget: str | None = None  # e.g. 4h; 0 = no limit [HUBWATCH_IMAGES_BUDGET, default 4h]
    images_overlap: str | None = None  # e.g. 6h [HUBWATCH_IMAGES_OVERLAP]
    drop_threshold: float | None = None

    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve() if self.home else hubwatch_home()

    @property
    def period(self) -> str | None:
        """None (the default): the image feed since the previous complete snapshot."""
        return self.images_period or os.environ.get("HUBWATCH_IMAGES_PERIOD") or None

    def image_feed(self) -> FeedSettings:
        """How far image snapshots reach back and how long a run may crawl (ingest.civitai_images)."""
        try:
            since = date.fromisoformat(self.images_since) if self.images_since else None
        except ValueError:
            raise CrawlError(f"invalid images_since {self.images_since!r}: expected YYYY-MM-DD") from None
        return FeedSettings.from_env(since=since, budget=self.images_budget, overlap=self.images_overlap)

    @property
    def max_drop(self) -> float:
        """Share of yesterday's models allowed to vanish before the drop check warns."""
        if self.drop_threshold is not None:
            return self.drop_threshold
        return float(os.environ.get("HUBWATCH_DROP_THRESHOLD", "0.05"))

    def endpoints(self) -> Endpoints:
        return Endpoints.from_env()

    def politeness(self) -> Politeness:
        return Politeness.from_env()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "settings": HubwatchSettings(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE)),
        }
    )

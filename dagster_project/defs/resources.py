"""Resources shared by every asset: where hubwatch keeps its data, and the dbt CLI."""

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.defs.transform.project import dbt_project
from dagster_project.warehouse import DBT_CHILD
from ingest.home import hubwatch_home
from ingest.http import Politeness, env_number
from ingest.snapshots import Endpoints


class HubwatchSettings(dg.ConfigurableResource):
    """Data directory and crawl settings; unset fields come from the environment.

    Credentials (CIVITAI_API_KEY, HF_TOKEN) are read from the environment at crawl time and
    never become resource config, so they are not stored with runs.
    """

    home: str | None = None
    images_period: str | None = None
    drop_threshold: float | None = None

    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve() if self.home else hubwatch_home()

    @property
    def period(self) -> str:
        return self.images_period or os.environ.get("HUBWATCH_IMAGES_PERIOD", "Day")

    @property
    def max_drop(self) -> float:
        """Share of yesterday's models allowed to vanish before the drop check warns."""
        if self.drop_threshold is not None:
            return self.drop_threshold
        return env_number("HUBWATCH_DROP_THRESHOLD", 0.05, float)

    def endpoints(self) -> Endpoints:
        return Endpoints.from_env()

    def politeness(self) -> Politeness:
        return Politeness.from_env()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "settings": HubwatchSettings(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_CHILD)),
        }
    )

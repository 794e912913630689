"""Resources shared by every asset: where hubwatch keeps its data and how it crawls (settings), the
dbt CLI, and where crawl progress goes (`progress`: nowhere, unless the CLI passes its display)."""

import dataclasses
import os
import random
from datetime import date
from pathlib import Path

import dagster as dg

from ingest.civitai_images import FeedSettings
from ingest.home import hubwatch_home
from ingest.http import CrawlError, Politeness, env_number
from ingest.landing import no_progress
from ingest.snapshots import Endpoints


class HubwatchSettings(dg.ConfigurableResource):
    """Data directory and crawl settings; unset fields come from the environment (read, never
    written: the CLI and the demo pass theirs as resource config).

    Credentials (CIVITAI_API_KEY, HF_TOKEN) are read from the environment at crawl time and
    never become resource config, so they are not stored with runs.
    """

    home: str | None = None
    images_period: str | None = None  # the API's own window instead of the feed since last time
    images_since: str | None = None  # YYYY-MM-DD: sweep the image feed back at least to this date
    images_budget: str | None = None  # e.g. 4h; 0 = no limit [HUBWATCH_IMAGES_BUDGET, default 4h]
    images_overlap: str | None = None  # e.g. 6h [HUBWATCH_IMAGES_OVERLAP]
    drop_threshold: float | None = None
    civitai_api_base: str | None = None  # else CIVITAI_API_BASE
    civitai_other_bases: list[str] | None = None  # more Civitai hosts to cross-check (else CIVITAI_API_BASES)
    hf_endpoint: str | None = None  # else HF_ENDPOINT
    rate: float | None = None  # requests per second (else HUBWATCH_RATE)
    backoff_initial: float | None = None  # else HUBWATCH_BACKOFF_INITIAL
    backoff_max: float | None = None  # else HUBWATCH_BACKOFF_MAX
    step_retries: int | None = None  # whole-step retries of a snapshot (else HUBWATCH_STEP_RETRIES, 2)
    step_retry_delay: float | None = None  # seconds before the first (else HUBWATCH_STEP_RETRY_DELAY, 120)

    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve() if self.home else hubwatch_home()

    @property
    def warehouse(self) -> Path:
        return self.home_path / "warehouse.duckdb"

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
        return env_number("HUBWATCH_DROP_THRESHOLD", 0.05, float)

    @property
    def max_step_retries(self) -> int:
        if self.step_retries is not None:
            return self.step_retries
        return int(os.environ.get("HUBWATCH_STEP_RETRIES", "2"))

    def step_retry_wait(self, retry_number: int) -> float:
        """Exponential backoff with jitter between whole-step retries (minutes apart by default)."""
        base = self.step_retry_delay
        if base is None:
            base = float(os.environ.get("HUBWATCH_STEP_RETRY_DELAY", "120"))
        return base * 2**retry_number * random.uniform(0.75, 1.25)

    def endpoints(self) -> Endpoints:
        overrides = {
            "civitai_base": self.civitai_api_base,
            "hf_endpoint": self.hf_endpoint,
            "civitai_other_bases": tuple(self.civitai_other_bases) if self.civitai_other_bases is not None else None,
        }
        return dataclasses.replace(Endpoints.from_env(), **{k: v for k, v in overrides.items() if v is not None})

    def politeness(self) -> Politeness:
        overrides = {
            "requests_per_second": self.rate,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
        }
        return dataclasses.replace(Politeness.from_env(), **{k: v for k, v in overrides.items() if v is not None})


WRITER_POOL = "duckdb_writer"
"""The one writer of the warehouse at a time (limit 1 in dagster.yaml): dbt, and publish reading it."""


def progress() -> dg.ResourceDefinition:
    return dg.ResourceDefinition.hardcoded_resource(no_progress, "Where crawl progress goes.")


@dg.definitions
def resources() -> dg.Definitions:
    # dbt's resource imports dagster-dbt and dbt-core (seconds): only when the code location loads,
    # not when a module imports HubwatchSettings (the publish job's definitions need only that)
    from dagster_project.build import HubwatchDbt
    from dagster_project.defs.project import dbt_project
    from dagster_project.warehouse import DBT_CHILD

    return dg.Definitions(
        resources={
            "settings": HubwatchSettings(),
            "dbt": HubwatchDbt(project_dir=dbt_project, dbt_executable=str(DBT_CHILD)),
            "progress": progress(),
        }
    )

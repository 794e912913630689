"""The per-model tables (`models`, `lifecycle_by_snapshot`, and what they are kept in) are updated
from each new snapshot alone; built day by day, with a late snapshot and a narrower retake among
the days, they equal a full refresh of the same raw/ row for row."""

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.runs import build_warehouse
from ingest.fakehub import FakeHub
from ingest.fakehub.world import World
from ingest.http import Politeness
from ingest.snapshots import Endpoints, take_snapshot

pytestmark = pytest.mark.slow
# across the 2025-05-22 ban, so that models are taken down, archived and vanish
DAYS = [date(2025, 1, 1), date(2025, 6, 1)]
LATE_DAY = date(2025, 4, 1)  # taken after the others: every later snapshot's predecessor changes
MART = "lifecycle_by_snapshot"  # a build of what it needs: model_snapshots, models and their history
# each table's rows in a fixed order, without the columns saying when a build wrote them
TABLES = {
    "marts.models": "select * from marts.models order by all",
    "marts.lifecycle_by_snapshot": "select * from marts.lifecycle_by_snapshot order by all",
    "marts.model_snapshots": "select * from marts.model_snapshots order by all",
    "intermediate.int_model_history": (
        "select * exclude (loaded_at, loaded_through) from intermediate.int_model_history order by all"
    ),
    "intermediate.int_model_snapshot_changes": (
        "select * from intermediate.int_model_snapshot_changes order by platform, snapshot_date"
    ),
}


def snapshot(hub, home, day, force=False):
    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    for source in ("civitai_models", "hf_models"):
        take_snapshot(
            source,
            home=home,
            endpoints=endpoints,
            as_of=day.isoformat(),
            force=force,
            politeness=Politeness(requests_per_second=0),
        )


def build(home, full_refresh=False):
    outcome = build_warehouse(home, full_refresh=full_refresh, upstream_of=MART)
    assert outcome.success, outcome


def rows(home: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {table: con.sql(sql).fetchall() for table, sql in TABLES.items()}


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory, small_world):
    """A build after each day; then a day older than all of them arrives late and the latest day
    is retaken from a hub that no longer lists one model in five: both in one incremental build.
    Then a full refresh of a copy of the same home."""
    home = tmp_path_factory.mktemp("day-by-day") / "home"
    with FakeHub(small_world) as hub:
        for day in DAYS:
            snapshot(hub, home, day)
            build(home)
        before_retake = rows(home)
        snapshot(hub, home, LATE_DAY)
    narrower = World(
        models=[m for i, m in enumerate(small_world.models) if i % 5],
        images=small_world.images,
        repos=small_world.repos,
        seed=small_world.seed,
    )
    with FakeHub(narrower) as hub:
        snapshot(hub, home, DAYS[-1], force=True)
    build(home)
    refreshed = home.parent / "refreshed"
    shutil.copytree(home, refreshed)
    build(refreshed, full_refresh=True)
    return before_retake, rows(home), rows(refreshed), small_world


@pytest.mark.parametrize("table", sorted(TABLES))
def test_day_by_day_equals_full_refresh(day_by_day, table):
    _before, incremental, full, _world = day_by_day
    assert incremental[table], table
    assert incremental[table] == full[table]


def test_the_days_hold_what_the_test_is_about(day_by_day):
    """The late day and the retake really changed the per-model tables: models vanished with the
    retake (some seen only in it, whose row must go), a model first seen on the late day, and
    the lifecycle counts takedowns and removals."""
    before, after, _full, world = day_by_day
    gone = {str(m.model_id) for i, m in enumerate(world.models) if not i % 5}
    models_before = {r[1]: r for r in before["marts.models"] if r[0] == "civitai"}
    models_after = {r[1]: r for r in after["marts.models"] if r[0] == "civitai"}
    first_seen_last = {m for m, r in models_before.items() if m in gone and r[2] == DAYS[-1]}
    still_listed = gone & set(models_after)  # seen on the late day or before: last seen earlier now
    assert first_seen_last - still_listed  # seen only in the retaken day: their rows went
    assert still_listed and all(models_after[m][3] < DAYS[-1] for m in still_listed)
    assert LATE_DAY in {r[2] for r in models_after.values()}  # first seen on the late day
    lifecycle = {(r[0], r[1]): r for r in after["marts.lifecycle_by_snapshot"]}
    assert ("civitai", LATE_DAY) in lifecycle
    assert sum(r[5] for r in lifecycle.values()) > 0  # n_taken_down
    assert lifecycle[("civitai", DAYS[-1])][4] > 0  # n_removed: the models the retake no longer lists

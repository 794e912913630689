"""The per-image tables (`images`, `image_resources`, int_image_prompt_families and those built on
them, int_images_made_with and int_images_prompted), the image counts study_comparisons reads and
the feed's delay per snapshot (image_feed_delay) are updated from each new snapshot alone, yet built
day by day they equal a full refresh of the same raw/ row for row: with a late image snapshot, a
retaken one, a model whose real-person and NSFW flags change between builds while images made with
it are not seen again (so only the change of the model can bring their rows up to date), and
images seen again by a later snapshot naming nothing and with a bare prompt (so their earlier
references and prompt families must go though no new row replaces them)."""

import copy
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest

from dagster_project.runs import run_job
from ingest.fakehub import FakeHub
from ingest.http import Politeness
from ingest.snapshots import Endpoints, take_snapshot
from ingest.sources import SOURCES
from tests.conftest import build_upstream

pytestmark = pytest.mark.slow
# Month windows (30 days): D1 sees December; D2 February; LATE (taken after D2) the second half of
# January and the first of February, so images it shares with D2 move back to it when D2 is
# retaken as a Week (in a later build, which reloads from D2 only). December's images are seen by
# D1 alone: no later sighting rewrites them.
D1, D2, LATE = date(2025, 1, 1), date(2025, 3, 1), date(2025, 2, 15)
# D3 (a Week, after the retake of D2) sees again the retaken D2's images of 26 Feb-1 Mar (BARED:
# in its world they name nothing and their prompt holds no term family)
D3, BARED = date(2025, 3, 5), (datetime(2025, 2, 26, 12, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
MARTS = (
    "study_comparisons",
    "images_made_with_monthly",
    "images_by_base_model_family_monthly",
    "minor_terms_nsfw_monthly",
    "image_feed_delay",
    "nsfw_share_by_snapshot",
)
# each table's rows in a fixed order, without the columns saying when a build wrote them
TABLES = {
    "intermediate.int_images_made_with": "select * exclude (loaded_at) from intermediate.int_images_made_with",
    "intermediate.int_images_prompted": "select * exclude (loaded_at) from intermediate.int_images_prompted",
    # a key that stopped resolving keeps a row (resolution null) that a full refresh never writes
    "intermediate.int_image_resource_kinds": (
        "select * exclude (changed_at) from intermediate.int_image_resource_kinds where resolution is not null"
    ),
    "intermediate.int_image_counts_by_created_day": (
        "select * exclude (loaded_at) from intermediate.int_image_counts_by_created_day"
    ),
    "intermediate.int_image_counts_by_last_seen": (
        "select * exclude (loaded_at) from intermediate.int_image_counts_by_last_seen"
    ),
    "intermediate.int_image_made_with_counts": (
        "select * exclude (loaded_at) from intermediate.int_image_made_with_counts"
    ),
    "intermediate.int_image_prompt_counts": "select * exclude (loaded_at) from intermediate.int_image_prompt_counts",
    "intermediate.int_image_prompt_families": (
        "select * exclude (loaded_at) from intermediate.int_image_prompt_families"
    ),
    "intermediate.int_nsfw_counts_by_snapshot": (
        "select * exclude (loaded_at) from intermediate.int_nsfw_counts_by_snapshot"
    ),
    "marts.images": "select * from marts.images",
    "marts.image_resources": "select * exclude (loaded_at) from marts.image_resources",
    **{f"marts.{mart}": f"select * from marts.{mart}" for mart in MARTS},  # noqa: S608 (fixed names)
}
ONLY_MADE_WITH = """  -- the images whose every resolved resource is of one model
    select image_id from marts.image_resources
    where resolution = 'resolved'
    group by image_id
    having min(model_id) = max(model_id)
"""
MADE_WITH_M = f"""
    select made_with.image_id, made_with.last_seen, made_with.made_with_real_person, made_with.made_with_nsfw_model
    from intermediate.int_images_made_with as made_with
    where made_with.image_id in ({ONLY_MADE_WITH})
        and made_with.image_id in (select image_id from marts.image_resources where model_id = ?)
    order by 1
"""  # noqa: S608 (constants)


def snapshot(hub, home, day, sources=SOURCES, period="Month", force=False):
    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    for source in sources:
        take_snapshot(
            source,
            home=home,
            endpoints=endpoints,
            as_of=day.isoformat(),
            images_period=period if source == "civitai_images" else None,
            force=force,
            politeness=Politeness(requests_per_second=0),
        )


def build(home: Path, full_refresh: bool = False, state_only: bool = False, checks: bool | None = None) -> None:
    """`hubwatch build`'s job on what the marts read need (their upstream), as build_warehouse does.
    state_only: of those, only the incremental models and what they read (tests/build_driver.py), and
    (unless checks) none of their checks, for a build whose other tables no one reads before the next
    build rebuilds them whole and whose checks no one reads (the builds compared run theirs)."""
    checks = not state_only if checks is None else checks
    build_upstream(home, [f"marts.{m}" for m in MARTS], full_refresh=full_refresh, state_only=state_only, checks=checks)


def query(home: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def table_rows(home: Path, table: str) -> list[tuple]:
    """One table's rows (TABLES' query), in a fixed order."""
    return sorted(query(home, TABLES[table]), key=repr)


def rows(home: Path) -> dict[str, list[tuple]]:
    return {table: table_rows(home, table) for table in TABLES}


def plain_model(home: Path) -> str:
    """The Civitai model (neither real-person nor NSFW) that most images seen on D1 alone were
    made with and with no other resolved model."""
    return query(
        home,
        f"""select resources.model_id
           from marts.image_resources as resources
           inner join marts.images on images.image_id = resources.image_id
           inner join marts.models on models.platform = 'civitai' and models.model_id = resources.model_id
           where resources.image_id in ({ONLY_MADE_WITH}) and images.last_seen = ?
               and not models.real_person and not models.nsfw_strict
           group by 1 order by count(distinct resources.image_id) desc, 1 limit 1""",  # noqa: S608 (a constant)
        [D1],
    )[0][0]


def with_flags(world, model_id: str, **flags):
    """A copy of the world in which one model shows other flags."""
    changed = copy.deepcopy(world)
    [model] = [m for m in changed.models if str(m.model_id) == model_id]
    for name, value in flags.items():
        setattr(model, name, value)
    return changed


def bared(world, window: tuple[datetime, datetime]):
    """A copy of the world in which the images created in the window name nothing (no
    modelVersionIds, no resources in their metadata) and have no tags or prompt words."""
    changed = copy.deepcopy(world)
    for image in changed.images:
        if window[0] <= image.created_at < window[1]:
            image.resource_shape, image.extra_version_id, image.prompt_extra, image.tags = "none", None, (), []
    return changed


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory, small_world):
    """D1 built; D2 from a hub where one model M (resolved by images seen on D1 alone) became a
    declared real person and NSFW, built; LATE arrives late, built (images it shares with D2 stay
    last seen on D2); then D2 is retaken (a Week of images; M no longer NSFW), built: the images
    it no longer shows move back to LATE, before the earliest snapshot that build reloads. Then a
    D3 sees again images of the retaken D2 that now name nothing and have a bare prompt (BARED),
    built. Then a full refresh of a copy of the same home. Each build before D3's makes only the state
    the next meets and what the fixture reads of it (every incremental table, and what they read),
    without its checks but the retake's: D3's builds every table whole, with its checks, and so does
    the full refresh (every check over these days, which no other test builds)."""
    home = tmp_path_factory.mktemp("images-day-by-day") / "home"
    with FakeHub(small_world) as hub:
        snapshot(hub, home, D1)
    build(home, state_only=True)
    model_id = plain_model(home)
    first = query(home, MADE_WITH_M, [model_id])
    flagged = with_flags(small_world, model_id, poi=True, nsfw=True)
    with FakeHub(flagged) as hub:
        snapshot(hub, home, D2)
    build(home, state_only=True)
    second = query(home, MADE_WITH_M, [model_id])
    seen_on_d2 = {r[0] for r in query(home, "select image_id from marts.images where last_seen = ?", [D2])}
    with FakeHub(flagged) as hub:
        snapshot(hub, home, LATE)
    build(home, state_only=True)
    with FakeHub(with_flags(flagged, model_id, nsfw=False)) as hub:
        snapshot(hub, home, D2, sources=("civitai_models", "civitai_images"), period="Week", force=True)
    build(home, state_only=True, checks=True)  # the retake: its grain checks must pass
    named_before = {
        table: {r[0] for r in query(home, f"select distinct image_id from {table} where last_seen = ?", [D2])}  # noqa: S608 (fixed names)
        for table in ("marts.image_resources", "intermediate.int_image_prompt_families")
    }
    with FakeHub(bared(with_flags(flagged, model_id, nsfw=False), BARED)) as hub:
        snapshot(hub, home, D3, sources=("civitai_images",), period="Week")
    build(home)
    refreshed = home.parent / "refreshed"
    shutil.copytree(home, refreshed)
    build(refreshed, full_refresh=True)
    return {
        "home": home,
        "model_id": model_id,
        "first": first,
        "second": second,
        "seen_on_d2": seen_on_d2,
        "named_before": named_before,
        "bared": {i.image_id for i in small_world.images if BARED[0] <= i.created_at < BARED[1]},
        "full": rows(refreshed),
    }


@pytest.mark.parametrize("table", sorted(TABLES))
def test_day_by_day_equals_full_refresh(day_by_day, table):
    incremental = table_rows(day_by_day["home"], table)  # the one table compared, not all of them again
    assert incremental, table
    assert incremental == day_by_day["full"][table]


def test_images_made_with_a_model_follow_its_flags_without_being_seen_again(day_by_day):
    """M's images seen on D1 alone were rewritten when M became real-person and NSFW (D2), and
    again when M stopped being NSFW (the retake), though no later snapshot saw them."""
    home, model_id = day_by_day["home"], day_by_day["model_id"]
    first, second, third = day_by_day["first"], day_by_day["second"], query(home, MADE_WITH_M, [model_id])
    only_d1 = {r[0] for r in third if r[1] == D1}
    assert only_d1 and only_d1 <= {r[0] for r in first}
    assert all(r[2:] == (0, 0) for r in first if r[0] in only_d1)
    assert all(r[2:] == (1, 1) for r in second if r[0] in only_d1)
    assert all(r[2] == 1 and r[3] == 0 for r in third if r[0] in only_d1)


def test_the_days_hold_what_the_test_is_about(day_by_day):
    """The late snapshot and the retake really moved images: some of the first D2's images are
    last seen on LATE now (moved back), some are in no snapshot any more (their rows went), and
    images first seen on LATE are there; prompts and minor-coded terms were counted."""
    home, seen_on_d2 = day_by_day["home"], day_by_day["seen_on_d2"]
    last_seen = dict(query(home, "select image_id, last_seen from intermediate.int_images_made_with"))
    assert {image for image in seen_on_d2 if last_seen.get(image) == LATE}  # moved back
    assert seen_on_d2 - set(last_seen)  # seen only in the first D2: gone
    assert {image for image, day in last_seen.items() if day == D1}
    first_seen_late = query(home, "select count(*) from marts.images where first_seen = ?", [LATE])[0][0]
    assert first_seen_late > 0
    prompted = query(home, "select sum(has_prompt), sum(minor_coded) from intermediate.int_images_prompted")[0]
    assert prompted[0] > 0 and prompted[1] > 0


def test_a_daily_build_counts_only_the_snapshots_it_loaded(day_by_day):
    """D3's build (images alone) counted D3's image sightings and no other snapshot's again: every
    other row of int_nsfw_counts_by_snapshot was written by an earlier build (counting every
    snapshot at every build costs a daily build more with each day of history)."""
    home = day_by_day["home"]
    counted = query(
        home,
        """select platform, entity, snapshot_date from intermediate.int_nsfw_counts_by_snapshot
           where loaded_at = (select max(loaded_at) from intermediate.int_nsfw_counts_by_snapshot)""",
    )
    assert counted == [("civitai", "image", D3)]
    assert query(home, "select count(distinct snapshot_date) from intermediate.int_nsfw_counts_by_snapshot")[0][0] == 4


@pytest.mark.parametrize("table", ["intermediate.int_image_made_with_counts", "intermediate.int_image_prompt_counts"])
def test_a_daily_build_recounts_only_the_snapshots_whose_images_changed(day_by_day, table):
    """D3's build (images alone) recounted D3's images and the retaken D2's, which lost images to
    D3, and no other snapshot's: D1's and LATE's counts were written by earlier builds (the monthly
    marts of what images were made with and of their prompts read every image at every build
    before these counts: a daily build cost more with each day of history)."""
    recounted = query(
        day_by_day["home"],
        f"select distinct last_seen from {table} where loaded_at = (select max(loaded_at) from {table}) order by 1",  # noqa: S608 (fixed names)
    )
    assert [r[0] for r in recounted] == [D2, D3]


# counts of LATE made wrong while its number of images stays: what a retake that moves as many
# images back to LATE as it takes from it leaves when only the number is compared
WRONG_BUT_AS_MANY = {
    "intermediate.int_image_counts_by_last_seen": [
        "update {table} set n_items = n_items + 7 where last_seen = ? and kind = 'tag'",
    ],
    "intermediate.int_image_counts_by_created_day": [
        "update {table} set n_items = n_items + 1"
        " where last_seen = ? and created_day = (select min(created_day) from {table} where last_seen = ?)",
        "update {table} set n_items = n_items - 1"
        " where last_seen = ? and created_day = (select max(created_day) from {table} where last_seen = ?)",
    ],
}


@pytest.mark.parametrize("table", sorted(WRONG_BUT_AS_MANY))
def test_counts_of_a_snapshot_whose_images_were_decided_again_are_recounted(day_by_day, tmp_path, table):
    """A snapshot whose images int_image_last_seen decided again since the counts were made is
    recounted though it holds as many images as counted (a retake can move as many images back to
    an earlier snapshot as it takes from it): here LATE's counts are made wrong at an equal total
    and one of its images marked as decided by a later build; the next build gives a full
    refresh's counts again."""
    home = tmp_path / "home"
    shutil.copytree(day_by_day["home"], home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        for update in WRONG_BUT_AS_MANY[table]:
            con.execute(update.format(table=table), [LATE] * update.count("?"))
        con.execute(
            "update intermediate.int_image_last_seen set loaded_at = loaded_at + interval 1 day"
            " where image_id = (select min(image_id) from intermediate.int_image_last_seen where last_seen = ?)",
            [LATE],
        )
    assert table_rows(home, table) != day_by_day["full"][table]
    build(home, state_only=True)
    assert table_rows(home, table) == day_by_day["full"][table]


def test_counts_follow_images_rewritten_in_place(day_by_day, tmp_path):
    """When the prompt term rules change, int_images_prompted rewrites every image where it stands
    (no snapshot gains or loses one): its counts recount every snapshot all the same, and the
    next build gives a full refresh's counts again, though the counts it held were wrong."""
    home = tmp_path / "home"
    shutil.copytree(day_by_day["home"], home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("update intermediate.int_images_prompted set rules_hash = 'earlier rules'")
        con.execute("update intermediate.int_image_prompt_counts set n_minor_coded = n_minor_coded + 1000")
    build(home, state_only=True)
    table = "intermediate.int_image_prompt_counts"
    assert table_rows(home, table) == day_by_day["full"][table]


@pytest.mark.parametrize("table", ["marts.image_resources", "intermediate.int_image_prompt_families"])
def test_an_image_seen_again_naming_nothing_loses_its_earlier_rows(day_by_day, table):
    """Images that named resources (and had prompt families) when last seen on D2 and that D3 saw
    again naming nothing (a bare prompt) are last seen on D3 and hold no row here any more."""
    home = day_by_day["home"]
    resighted = {str(i) for i in day_by_day["bared"]} & day_by_day["named_before"][table]
    last_seen = dict(query(home, "select image_id, last_seen from marts.images"))
    resighted = {image for image in resighted if last_seen.get(image) == D3}
    assert resighted, "no image named something on D2 and was seen again, bare, on D3"
    left = query(home, f"select distinct image_id from {table}")  # noqa: S608 (fixed names)
    assert resighted.isdisjoint({r[0] for r in left})


def build_alone(home: Path, tables: tuple[str, ...]) -> tuple:
    """Those tables alone built, through the dbt assets as `hubwatch build` runs them (with no new
    snapshot each keeps what a test put in it, and its tests run): the run's outcome and its build
    record."""
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=[dg.AssetKey(table.split(".")) for table in tables])
    return outcome, orjson.loads((home / "builds" / "latest.json").read_bytes())


def failed_checks(tables: tuple[str, ...], outcome, record: dict) -> dict[str, list[str]]:
    """Each table's checks test failed the run: the build record's failures of each, by model."""
    assert not outcome.success
    failed = [check.split(":", 1)[1].split(" ")[0] for check in outcome.failed_checks]
    models = [table.split(".")[1] for table in tables]
    assert all(f"checks_{model}" in failed for model in models), failed
    return {model: [f for f in record["failures"] if f".checks_{model}." in f] for model in models}


# the per-image tables with a grain test on the rows the latest build wrote, in two runs: the first
# two read the others (a failure of theirs would skip them); within a run neither reads the other
GRAIN_RUNS = {
    "upstream": ("marts.image_resources", "intermediate.int_image_prompt_families"),
    "downstream": ("intermediate.int_images_made_with", "intermediate.int_images_prompted"),
}


@pytest.fixture(scope="module", params=sorted(GRAIN_RUNS))
def repeated_keys(request, day_by_day, tmp_path_factory):
    """A copy of the day-by-day home with one row the latest build wrote repeated in each of a
    run's per-image tables, then those tables alone selected, through the dbt assets as `hubwatch
    build` runs them (with no new snapshot each keeps its repeated row, and its tests run): one run
    for both, as neither is upstream of the other (a failure of one skips nothing of the other).
    Returns the tables, the run's outcome and its build record."""
    tables = GRAIN_RUNS[request.param]
    home = tmp_path_factory.mktemp(f"repeated-keys-{request.param}") / "home"
    shutil.copytree(day_by_day["home"], home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        for table in tables:
            latest = f"loaded_at = (select max(loaded_at) from {table})"  # noqa: S608 (fixed names)
            con.execute(f"insert into {table} select * from {table} where {latest} limit 1")  # noqa: S608 (fixed names)
    return tables, *build_alone(home, tables)


def test_a_key_repeated_among_the_rows_a_build_wrote_fails_its_grain_test(repeated_keys):
    """The grain tests of the per-image tables look only at the keys of the rows the latest build
    wrote (a build rewrites rows by image_id, so only those can repeat one; image_resources and
    int_image_prompt_families look for them across the whole table): a repeated row among them
    fails the build (the repeated_keys run), in each table: its checks test, whose rows in the
    build record name the grain repeated."""
    for model, found in failed_checks(*repeated_keys).items():
        assert any("(repeated grain keys: " in f for f in found), (model, found)


# an older row left beside one the latest build wrote (what a delete that missed it would leave):
# in another snapshot (an image seen again whose earlier row stayed) or in the same one (an image
# rewritten in place, when a model's flags changed)
LEFT_IN = {
    "another_snapshot": (
        "last_seen = ?, last_seen_version = (select max(last_seen_version) from {table} where last_seen = ?)"
    ),
    "the_same_snapshot": "last_seen = last_seen",
}


@pytest.fixture(scope="module", params=sorted(LEFT_IN))
def older_row_left(request, day_by_day, tmp_path_factory):
    """A copy of the day-by-day home where, in each of int_images_made_with and
    int_images_prompted, a row the latest build wrote has an older twin (written by an earlier
    build, last seen on D1 or in the same snapshot), then those tables alone built (as
    repeated_keys does). Returns the tables, the run's outcome and its build record."""
    tables = GRAIN_RUNS["downstream"]
    home = tmp_path_factory.mktemp(f"older-row-{request.param}") / "home"
    shutil.copytree(day_by_day["home"], home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        for table in tables:
            latest = f"loaded_at = (select max(loaded_at) from {table})"  # noqa: S608 (fixed names)
            con.execute(f"create temp table twin as select * from {table} where {latest} limit 1")  # noqa: S608 (fixed names)
            params = [D1, D1] if request.param == "another_snapshot" else []
            con.execute(
                f"update twin set loaded_at = loaded_at - interval 1 day, {LEFT_IN[request.param].format(table=table)}",  # noqa: S608 (fixed names)
                params,
            )
            con.execute(f"insert into {table} select * from twin")  # noqa: S608 (fixed names)
            con.execute("drop table twin")
    return tables, *build_alone(home, tables)


def test_an_older_row_left_beside_a_written_one_fails_the_grain(older_row_left):
    """The per-image tables' grain tests group only the rows the latest build wrote, and hold the
    rest by counting rows per last-seen snapshot against the images last seen there: an older row
    of an image the latest build wrote, left in another snapshot or in the same one, fails the build,
    and the build record says which check found it."""
    for model, found in failed_checks(*older_row_left).items():
        assert any("(groups holding another number of rows: last_seen 1)" in f for f in found), (model, found)

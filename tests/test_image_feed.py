"""The image feed has no holes: any cadence, skipped days and late runs see the same images.

One world, several snapshot schedules of the same six weeks, each into its own home, through the
real crawler against fakehub; the warehouse's `images` rows must not depend on the schedule.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.runs import build_warehouse
from dashboards import image_feed
from dashboards.queries import Package
from ingest.civitai_images import FeedSettings, advance, parse_duration
from ingest.fakehub import FakeHub, build_world, truth
from ingest.fakehub import api as fakehub_api
from ingest.fakehub.world import clock_of
from ingest.home import snapshot_path
from ingest.http import CrawlError, Politeness
from ingest.landing import complete_snapshots, read_manifest
from ingest.snapshots import Endpoints, take_snapshot

START = date(2025, 9, 1)
END = START + timedelta(weeks=6)
DAILY = [START + timedelta(days=k) for k in range((END - START).days + 1)]
WEEKLY = DAILY[::7]
SKIPPED = {START + timedelta(days=k) for k in (2, 3, 9, 10, 11, 12, 20, 27, 33, 34)}
# A run that happened late in its day (or in the small hours of the next day)
LATE = {START + timedelta(days=5): timedelta(hours=10), START + timedelta(days=15): timedelta(hours=20)}
FAST = Politeness(requests_per_second=0)
# every column of `images` but the three that say which snapshots saw an image
IMAGE_COLUMNS = (
    "platform, image_id, created_at, month, browsing_level, level_source, nsfw_any, nsfw_strict, "
    "nsfw_explicit, base_model, tags"
)


# the monthly test's snapshots, the latest any test of this module takes of `world`
MONTHS = [date(2025, m, 1) for m in range(8, 12)]
# no snapshot of `world` sees the hub later than this (noon of the last day, or a late run's hour)
HORIZON = clock_of(max(MONTHS[-1], END + timedelta(days=1))) + timedelta(days=1)


@pytest.fixture(scope="module")
def world():
    """A world dense enough to hold hundreds of images in the six weeks. An image that lived
    less than a week cannot be in a weekly series whatever the crawl does, so here every image
    alive at the start lives to the end (deletions are a different question than holes). Images
    created after HORIZON are left out: they exist for no snapshot of this module, yet fakehub's
    /images and the truth scanned all of them on every request and run (a third of the world)."""
    world = build_world(seed=23, n_models=300, n_images=12_000, n_repos=10)  # a world of its own
    for image in world.images:
        if image.deleted_at is not None and image.deleted_at.date() <= END + timedelta(days=1):
            image.deleted_at = None
    world.images = [image for image in world.images if image.created_at <= HORIZON]
    return world


def snapshot_images(hub: FakeHub, home: Path, days, **kwargs) -> list:
    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    return [
        take_snapshot(
            "civitai_images", home=home, endpoints=endpoints, as_of=day.isoformat(), politeness=FAST, **kwargs
        )
        for day in days
    ]


def image_rows(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(f"select {IMAGE_COLUMNS} from marts.images order by image_id").fetchall()  # noqa: S608


@pytest.fixture(scope="module")
def schedules(tmp_path_factory, world):
    """The same weeks snapshotted daily, weekly, and daily with skipped days and late runs, with
    an overlap longer than any image waits for its rating (late ratings are tested apart)."""
    root = tmp_path_factory.mktemp("feed")
    homes = {name: root / name for name in ("daily", "weekly", "skipped")}
    mp = pytest.MonkeyPatch()
    mp.setenv("HUBWATCH_IMAGES_OVERLAP", "45d")
    mp.setattr(os, "fsync", lambda _fd: None)  # as conftest.no_fsync: what is counted here is images
    try:
        with FakeHub(world) as hub:
            snapshot_images(hub, homes["daily"], DAILY)
            snapshot_images(hub, homes["weekly"], WEEKLY)
            hub.late = LATE
            snapshot_images(hub, homes["skipped"], [d for d in DAILY if d not in SKIPPED])
    finally:
        mp.undo()
    # what the tests read: `images` in every home, image_feed_delay (downstream of it) in the daily
    # one; none of their checks (no test here reads them: what a schedule saw is in the tables)
    for name, home in homes.items():
        upstream_of = "image_feed_delay" if name == "daily" else "images"
        built = build_warehouse(home, upstream_of=upstream_of, checks=False)
        assert built.success, built.error
    return homes


def seen(home: Path) -> set[int]:
    """Every image id in the complete image snapshots of a home."""
    return {
        image_id
        for day in complete_snapshots(home, "civitai_images")
        for image_id in pl.read_parquet(snapshot_path(home, "civitai_images", day) / "images.parquet")["image_id"]
    }


@pytest.mark.slow
def test_a_weekly_schedule_sees_the_same_images_as_a_daily_one(schedules, world):
    daily, weekly = image_rows(schedules["daily"]), image_rows(schedules["weekly"])
    in_window = [r for r in daily if START <= r[2].date() <= END]
    assert len(in_window) > 300  # the six weeks really hold images
    assert weekly == daily
    # and what they saw is every image the feed listed on any of the days, no more, no less
    runs = truth.schedule(DAILY)
    assert seen(schedules["daily"]) == truth.image_ids_must_see(world, runs, timedelta(days=45))
    assert seen(schedules["daily"]) == truth.image_ids_ever_listed(world, runs)


@pytest.mark.slow
def test_skipped_days_and_late_runs_lose_no_image(schedules):
    assert image_rows(schedules["skipped"]) == image_rows(schedules["daily"])


@pytest.mark.slow
def test_image_feed_delay_is_the_days_from_creation_to_first_sighting(schedules, world):
    """Per snapshot: the images it saw first and how many days after their creation, as the
    world's own creation and rating times give them."""
    runs = truth.schedule(DAILY)
    created = {i.image_id: i.created_at.date() for i in world.images}
    first = truth.image_first_seen(world, runs, timedelta(days=45))
    frame = pl.DataFrame({"snapshot_date": list(first.values()), "created": [created[i] for i in first]}).with_columns(
        delay=(pl.col("snapshot_date") - pl.col("created")).dt.total_days()
    )
    previous = dict(zip(DAILY[1:], DAILY[:-1], strict=True))
    expected = {
        row["snapshot_date"]: row
        for row in frame.group_by("snapshot_date")
        .agg(
            n=pl.len(),
            p50=pl.col("delay").quantile(0.5, interpolation="linear"),
            p90=pl.col("delay").quantile(0.9, interpolation="linear"),
            max=pl.col("delay").max(),
            late=(pl.col("created") < pl.col("snapshot_date").replace_strict(previous, default=None)).sum(),
        )
        .iter_rows(named=True)
    }
    with duckdb.connect(str(schedules["daily"] / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(
            """select snapshot_date, crawl, n_new_images, delay_days_p50, delay_days_p90, delay_days_max,
                      n_created_before_previous
               from marts.image_feed_delay order by snapshot_date"""
        ).fetchall()
    assert [r[0] for r in rows] == DAILY
    assert rows[0][1] == "backfill" and {r[1] for r in rows[1:]} <= {"feed", "resweep"}
    for day, _crawl, n, p50, p90, most, late in rows:
        want = expected.get(day)
        if want is None:
            assert n == 0 and p50 is None
            continue
        assert (n, most) == (want["n"], want["max"]), day
        assert p50 == pytest.approx(want["p50"]) and p90 == pytest.approx(want["p90"]), day
        assert late == (want["late"] if day != START else None), day
    # images rated days after creation reach the feed late, and the table shows it
    assert max(r[6] for r in rows[1:]) > 0 and max(r[5] for r in rows[1:]) >= 3


def late_rated(world, overlap: timedelta) -> set[int]:
    return {i.image_id for i in world.images if i.rated_at - i.created_at > overlap}


# Short pages: in this world a full page of 200 spans two weeks of feed (on Civitai, minutes), and
# a crawl reads one page past its stop line; ten a page keep that margin to about a day.
PAGE_CAP = 10
BACKFILL_FROM = START - timedelta(days=60)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def feed_schedule(hub: FakeHub, home: Path, days: list[date], feed: FeedSettings) -> list:
    """Snapshots of `days`: the first backfills from BACKFILL_FROM, the others follow `feed`."""
    first = snapshot_images(hub, home, days[:1], image_feed=replace(feed, since=BACKFILL_FROM))
    return first + snapshot_images(hub, home, days[1:], image_feed=feed)


def wanted(world, runs) -> set[int]:
    """What the schedule's snapshots listed, created since the backfill's start."""
    listed = truth.image_ids_ever_listed(world, runs)
    return {i.image_id for i in world.images if i.image_id in listed and i.created_at >= midnight(BACKFILL_FROM)}


@pytest.mark.slow
def test_late_rated_images_that_daily_and_weekly_both_miss_are_recovered_by_a_re_sweep(tmp_path, world, no_fsync):
    """The default overlap (6 h) and no automatic re-sweep: an image rated more than the overlap
    after the crawls passed its place can be missed, and nothing else is. Daily and weekly both
    miss some; a re-sweep (--images-since) brings every one of them in."""
    overlap = timedelta(hours=6)
    feed = FeedSettings(overlap=overlap, budget=None, resweep_days=0)
    homes = {"daily": tmp_path / "daily", "weekly": tmp_path / "weekly"}
    schedules = {"daily": DAILY, "weekly": WEEKLY}
    missed = {}
    with FakeHub(world) as hub:
        hub.images_page_cap = PAGE_CAP
        for name, days in schedules.items():
            feed_schedule(hub, homes[name], days, feed)
            runs = truth.schedule(days, since={days[0]: midnight(BACKFILL_FROM)})
            got = seen(homes[name])
            assert truth.image_ids_must_see(world, runs, overlap) <= got <= truth.image_ids_ever_listed(world, runs)
            missed[name] = wanted(world, runs) - got
            assert missed[name] <= late_rated(world, overlap), "only images rated late may be missed"
        both = missed["daily"] & missed["weekly"]
        assert len(both) >= 5, missed

        resweep_day = END + timedelta(days=1)
        for home in homes.values():
            [result] = snapshot_images(
                hub, home, [resweep_day], image_feed=replace(feed, since=BACKFILL_FROM, resweep_days=0)
            )
            record = result.manifest["images_feed"]
            assert record["resweep"] == "explicit" and record["stop_at"] == midnight(BACKFILL_FROM).isoformat()
    recoverable = both & truth.image_ids_listed(world, clock_of(resweep_day))
    assert recoverable == both  # nothing in this world is deleted before the re-sweep
    for home in homes.values():
        assert recoverable <= seen(home)
    assert seen(homes["daily"]) == seen(homes["weekly"])


# A crawl reads one page past its stop line: where a page spans more of the feed than the overlap
# (here a full page of 200 is about two weeks), that page alone hides a broken overlap. Pages this
# short span hours of this world's feed, far less than the overlap of days they are tested with.
OVERLAP_PAGE_CAP = 4


@pytest.mark.slow
def test_every_schedule_reaches_back_by_the_whole_overlap_not_just_its_last_page(tmp_path, world, no_fsync):
    """Daily, weekly, and daily with skipped days and late runs, each snapshot must hold every
    image the feed listed at its instant that was created after the previous snapshot's instant
    less the overlap (3 days): including images rated after the previous run passed their place,
    created more than a page's span below its high-water mark, which only the overlap reaches."""
    overlap = timedelta(days=3)
    feed = FeedSettings(overlap=overlap, budget=None, resweep_days=0)
    days = DAILY[:22]
    schedules = {
        "daily": (days, {}),
        "weekly": (days[::7], {}),
        "skipped": ([d for d in days if d not in SKIPPED], LATE),
    }
    with FakeHub(world) as hub:
        hub.images_page_cap = OVERLAP_PAGE_CAP
        for name, (run_days, late) in schedules.items():
            hub.late, home = late, tmp_path / name
            first_since = START - timedelta(days=2)
            results = snapshot_images(hub, home, run_days[:1], image_feed=replace(feed, since=first_since))
            results += snapshot_images(hub, home, run_days[1:], image_feed=feed)
            runs = truth.schedule(run_days, late=late, since={run_days[0]: midnight(first_since)})
            first_seen = truth.image_first_seen(world, runs, overlap)
            assert set(first_seen) - seen(home) == set(), name
            # the test has teeth: some of those images lie more than a day (several pages) below
            # the previous snapshot's high-water mark, where only the overlap reaches
            created = {i.image_id: i.created_at for i in world.images}
            mark = {
                r.snapshot_date: datetime.fromisoformat(r.manifest["images_feed"]["previous_high_water_mark"])
                for r in results[1:]
            }
            behind = {i for i, day in first_seen.items() if day in mark and created[i] < mark[day] - timedelta(days=1)}
            assert len(behind) >= 3, (name, behind)


@pytest.mark.slow
def test_the_automatic_re_sweep_catches_images_rated_weeks_late(tmp_path, world, no_fsync):
    """Defaults: overlap 6 h, and every 7 days a snapshot reaches 30 days behind the previous one's
    line. A daily schedule then misses only images that waited for their rating more than 23 days
    (30 less the 7 between re-sweeps)."""
    home = tmp_path / "home"
    with FakeHub(world) as hub:
        hub.images_page_cap = PAGE_CAP
        results = feed_schedule(hub, home, DAILY, FeedSettings(budget=None))
    swept = [r.snapshot_date for r in results if r.manifest["images_feed"]["resweep"] == "automatic"]
    assert swept == DAILY[7::7]  # the first snapshot reached back 60 days itself
    reach = timedelta(days=30, hours=6)
    since = {day: clock_of(day - timedelta(days=1)) - reach for day in swept} | {START: midnight(BACKFILL_FROM)}
    runs = truth.schedule(DAILY, since=since)
    got = seen(home)
    assert truth.image_ids_must_see(world, runs, timedelta(hours=6)) <= got
    delay = {i.image_id: i.rated_at - i.created_at for i in world.images}
    assert all(delay[i] > timedelta(days=23) for i in wanted(world, runs) - got)
    days_late = {i for i in wanted(world, runs) if timedelta(days=1) < delay[i] <= timedelta(days=23)}
    assert len(days_late) >= 5 and days_late <= got


@pytest.mark.slow
def test_monthly_snapshots_see_every_day_of_every_month(tmp_path, world, no_fsync):
    """The demo's cadence: the feed since last month, not the last day before each snapshot."""
    months = MONTHS
    home = tmp_path / "home"
    with FakeHub(world) as hub:
        hub.images_page_cap = PAGE_CAP
        feed_schedule(hub, home, months, FeedSettings(budget=None))
    reach = timedelta(days=30, hours=6)  # every monthly snapshot re-sweeps: 30 days behind the previous
    since = {d: clock_of(p) - reach for p, d in zip(months, months[1:], strict=False)}
    runs = truth.schedule(months, since=since | {months[0]: midnight(BACKFILL_FROM)})
    got = seen(home)
    assert truth.image_ids_must_see(world, runs, timedelta(hours=6)) <= got
    # so whatever the cadence, only an image rated more than 30 days after its creation is lost
    delay = {i.image_id: i.rated_at - i.created_at for i in world.images}
    assert all(delay[i] > timedelta(days=30) for i in wanted(world, runs) - got)
    by_id = {i.image_id: i for i in world.images}
    for month in months[:-1]:
        days = {by_id[i].created_at.day for i in got if by_id[i].created_at.date().replace(day=1) == month}
        assert len(days) >= 25, (month, sorted(days))


# -- a time budget, and a crawl that outlasts its run --------------------------------------------
D0, D1 = date(2025, 3, 1), date(2025, 3, 2)
TINY = FeedSettings(budget=timedelta(microseconds=1))  # stops after every page
UNLIMITED = FeedSettings(budget=None)


def raw_images(home: Path, day: date) -> pl.DataFrame:
    return pl.read_parquet(snapshot_path(home, "civitai_images", day) / "images.parquet")


@pytest.mark.slow
def test_a_run_stopped_by_its_time_budget_resumes_to_the_same_snapshot(fakehub, tmp_path):
    endpoints = Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint)
    clean, budgeted = tmp_path / "clean", tmp_path / "budgeted"
    take = {"home": clean, "endpoints": endpoints, "politeness": FAST}
    for day in (D0, D1):
        assert take_snapshot("civitai_images", as_of=day.isoformat(), image_feed=UNLIMITED, **take).status == "complete"
    take["home"] = budgeted
    runs = []
    while not runs or runs[-1].status == "paused":
        runs.append(take_snapshot("civitai_images", as_of=D0.isoformat(), image_feed=TINY, **take))
        assert len(runs) < 100
    pages = read_manifest(clean, "civitai_images", D0)["pages"]
    assert pages > 5 and len(runs) == pages  # one page a run, each a clean stop
    assert {r.paused_by for r in runs[:-1]} == {"time_budget"}
    assert read_manifest(budgeted, "civitai_images", D0)["resumes"] == pages - 1
    assert raw_images(budgeted, D0).equals(raw_images(clean, D0))


@pytest.mark.slow
def test_the_next_days_run_finishes_a_staged_backfill_under_its_own_date_first(fakehub, tmp_path):
    """A backfill started on D0 outlasts its run; the runs of D1 continue it (it keeps the date
    D0: the feed as it stood when it started), publish it, then take D1's own snapshot."""
    endpoints = Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint)
    clean, budgeted = tmp_path / "clean", tmp_path / "budgeted"
    for day in (D0, D1):
        take_snapshot("civitai_images", home=clean, endpoints=endpoints, as_of=day.isoformat(), politeness=FAST)
    first = take_snapshot(
        "civitai_images", home=budgeted, endpoints=endpoints, as_of=D0.isoformat(), politeness=FAST, image_feed=TINY
    )
    assert first.status == "paused" and first.snapshot_date == D0
    results = []
    while not results or results[-1].status == "paused":
        results.append(
            take_snapshot(
                "civitai_images",
                home=budgeted,
                endpoints=endpoints,
                as_of=D1.isoformat(),
                politeness=FAST,
                image_feed=TINY,
            )
        )
        assert len(results) < 100
    paused_at = {r.snapshot_date for r in results if r.status == "paused"}
    assert paused_at == {D0, D1}  # D0 was finished first, then D1 was taken
    assert [e.snapshot_date for r in results for e in r.finished_earlier] == [D0]
    assert complete_snapshots(budgeted, "civitai_images") == [D0, D1]
    assert read_manifest(budgeted, "civitai_images", D1)["images_feed"]["previous_snapshot"] == D0.isoformat()
    for day in (D0, D1):
        assert raw_images(budgeted, day).equals(raw_images(clean, day))


@pytest.mark.slow
def test_a_windowed_snapshot_in_between_does_not_break_the_chain(fakehub, tmp_path):
    endpoints = Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint)
    take = {"home": tmp_path / "home", "endpoints": endpoints, "politeness": FAST}
    take_snapshot("civitai_images", as_of="2025-03-01", image_feed=UNLIMITED, **take)
    windowed = take_snapshot("civitai_images", as_of="2025-03-05", images_period="Day", **take)
    assert windowed.manifest["images_feed"] == {"mode": "period", "period": "Day"}
    later = take_snapshot("civitai_images", as_of="2025-03-09", image_feed=UNLIMITED, **take)
    assert later.manifest["images_feed"]["previous_snapshot"] == "2025-03-01"


# -- the pieces --------------------------------------------------------------------------------
def scanned_images_page(world, t: datetime, query: dict, page_cap: int | None = None, hidden: int = 0) -> tuple:
    """fakehub's /images as it was before its index: every image of the world scanned and sorted
    at each request. The indexed server must answer exactly this."""
    limit = min(int(query.get("limit", ["100"])[0]), page_cap or 200)
    mask = int(query["browsingLevel"][0]) & ~hidden
    period = query.get("period", ["AllTime"])[0].lower()
    since = t - timedelta(days=fakehub_api.PERIOD_DAYS[period]) if period in fakehub_api.PERIOD_DAYS else None
    rows = [i for i in world.images if i.listed_at(t, mask, since)]
    ms = fakehub_api.epoch_ms
    if query.get("sort", ["Newest"])[0] == "Oldest":
        keyed = sorted(((ms(i.created_at), i.image_id), i) for i in rows)
    else:
        keyed = sorted(((-ms(i.created_at), -i.image_id), i) for i in rows)
    keys, images = [k for k, _ in keyed], [i for _, i in keyed]
    cursor = query.get("cursor", [None])[0]
    if cursor and not cursor.startswith("start"):
        try:
            key = tuple(int(p) for p in cursor.split("|")[:2])
            start = next((n for n, k in enumerate(keys) if k > key), len(keys))
        except ValueError:
            start = len(keys)
        images, keys = images[start:], keys[start:]
    metadata = {"nextCursor": "|".join(str(k) for k in keys[limit - 1])} if len(images) > limit else {}
    return (
        200,
        {},
        {"items": [fakehub_api.image_item(i, world, True, True) for i in images[:limit]], "metadata": metadata},
    )


def test_the_indexed_images_endpoint_answers_what_a_full_scan_does(small_world):
    """Every page of every crawl shape (instants around the ban, masks, windows, both sorts,
    short pages, a second host's hidden levels, odd cursors), and again once the world's image
    list is replaced (a test's own world), the index then rebuilt."""
    world = replace(small_world, images=[replace(image) for image in small_world.images])  # its own images
    pages = 0
    for at in (date(2023, 6, 1), date(2025, 5, 21), date(2025, 9, 1), date(2026, 7, 1)):
        t = clock_of(at)
        for mask, period, sort, cap, hidden in (
            ("31", "AllTime", "Newest", None, 0),
            ("31", "Week", "Newest", 7, 0),
            ("1", "Month", "Oldest", None, 0),
            ("28", "AllTime", "Oldest", 50, 0),
            ("31", "Year", "Newest", 60, 4 | 8 | 16),
        ):
            query = {"limit": ["200"], "browsingLevel": [mask], "period": [period], "sort": [sort]}
            query |= {"withTags": ["true"], "withMeta": ["true"]}
            for _ in range(8):  # the first pages of the crawl, cursor after cursor
                got = fakehub_api.civitai_images(world, t, query, cap, hidden)
                assert got == scanned_images_page(world, t, query, cap, hidden), (at, query)
                pages += 1
                cursor = got[2]["metadata"].get("nextCursor")
                if cursor is None:
                    break
                query = {**query, "cursor": [cursor]}
            for odd in ("start|e7", f"{cursor}|e9", "1700000000000", "x|y", ""):
                odd_query = {**query, "cursor": [odd]}
                assert fakehub_api.civitai_images(world, t, odd_query, cap, hidden) == scanned_images_page(
                    world, t, odd_query, cap, hidden
                ), odd
        if at == date(2025, 5, 21):  # a test's own world: fewer images, and some deleted
            world.images = world.images[::2]
            for image in world.images[::5]:
                image.deleted_at = image.deleted_at or clock_of(date(2025, 8, 1))
    assert pages > 60


NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def fresh(stop_at: str | None) -> dict:
    return {
        "stop_at": stop_at,
        "high_water_mark": None,
        "oldest_created_at": None,
        "items_past_stop": 0,
        "items_future": 0,
        "items_undated": 0,
        "done": False,
        "stop_reason": None,
    }


def test_one_old_item_on_a_page_does_not_end_the_crawl_a_page_all_past_the_line_does():
    feed = fresh("2025-02-28T00:00:00+00:00")
    page = [{"createdAt": "2025-03-01T10:00:00Z"}, {"createdAt": "2023-05-01T00:00:00Z"}]
    after = advance(feed, page, "c1", NOW)
    assert not after["done"] and after["items_past_stop"] == 1
    assert after["high_water_mark"] == "2025-03-01T10:00:00+00:00"
    done = advance(after, [{"createdAt": "2025-02-27T23:00:00"}, {"createdAt": None}], "c2", NOW)
    assert done["done"] and done["stop_reason"] == "reached_stop" and done["items_undated"] == 1
    assert done["oldest_created_at"] == "2023-05-01T00:00:00+00:00"


def test_a_future_dated_item_is_counted_and_never_becomes_the_mark():
    after = advance(
        fresh(None), [{"createdAt": "2099-01-01T00:00:00Z"}, {"createdAt": "2025-03-01T11:00:00Z"}], None, NOW
    )
    assert after["items_future"] == 1 and after["high_water_mark"] == "2025-03-01T11:00:00+00:00"
    assert after["done"] and after["stop_reason"] == "end_of_feed"


def test_empty_and_undated_pages_never_end_the_crawl():
    feed = fresh("2025-02-28T00:00:00+00:00")
    assert not advance(feed, [], "c1", NOW)["done"]
    assert not advance(feed, [{"createdAt": "yesterday"}, {"id": 1}], "c1", NOW)["done"]


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("45m", 2700), ("6h", 21600), ("2d", 172800), ("30", 30)])
def test_durations(text, seconds):
    assert parse_duration(text, "x").total_seconds() == seconds


def test_a_bad_duration_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HUBWATCH_IMAGES_BUDGET", "soon")
    with pytest.raises(CrawlError, match="invalid images budget 'soon'"):
        FeedSettings.from_env()
    monkeypatch.setenv("HUBWATCH_IMAGES_BUDGET", "0")
    assert FeedSettings.from_env().budget is None


def test_the_coverage_page_section_draws_the_delays_and_a_package_without_the_table_has_none(tmp_path):
    package = Package(tmp_path, {"publish_date": "2025-10-01"})
    assert not image_feed.available(package)
    (tmp_path / "data").mkdir()
    days = [date(2025, 9, 1), date(2025, 9, 2), date(2025, 9, 8)]
    pl.DataFrame(
        {
            "snapshot_date": days,
            "crawl": ["backfill", "feed", "resweep"],
            "previous_snapshot_date": [None, days[0], days[1]],
            "n_new_images": [500, 12, 30],
            "delay_days_p50": [300.0, 0.5, 2.0],
            "delay_days_p90": [700.0, 1.0, 19.5],
            "n_created_before_previous": [None, 1, 9],
        }
    ).write_parquet(tmp_path / "data" / "image_feed_delay.parquet")
    package = Package(tmp_path, {"publish_date": "2025-10-01"})
    assert image_feed.available(package)
    delays, late = image_feed.delay_series(package), image_feed.late_series(package)
    assert delays.filter(pl.col("series") == "90th percentile")["value"].to_list() == [1.0, 19.5]  # no backfill
    assert late.filter(pl.col("series") == "created before the previous snapshot")["value"].to_list() == [1.0, 9.0]
    assert late.filter(pl.col("series") == "created before the previous snapshot")["denominator"].to_list() == [12, 30]

"""Creators, engagement and the SD 1.5 lineage (issue #21) end to end: fakehub snapshots across
the API's stats generations (favourites until 2024-02, thumbs up after; favourites removed
2025-11-24), the SD 1.5 removal (2024-08-29) and the real-person ban (2025-05-22) -> `hubwatch
build` -> marts equal to the world's ground truth (ingest/fakehub/measures_truth.py)."""

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.fakehub import measures_truth as mt
from tests.conftest import MEASURES_DAYS

pytestmark = pytest.mark.slow
DAYS = MEASURES_DAYS
SEEDS = Path(__file__).parent.parent / "dbt" / "seeds"


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def built(measures_home):
    """The small world snapshotted on DAYS and built, once per session: conftest.measures_home,
    which test_image_measures reads too (its AllTime image window is no input of these measures)."""
    return measures_home


@pytest.fixture(scope="module")
def rows(built, small_world):
    salt = (built / "secrets" / "creator_salt").read_text()
    return mt.model_rows(small_world, DAYS, DAYS, salt)


def test_engagement_monthly_equals_truth(built, rows):
    expected = mt.engagement_monthly(rows)
    got = {(r[0], r[1], r[2], r[3]): tuple(r[4:]) for r in query(built, "select * from marts.engagement_monthly")}
    assert got == expected


def test_engagement_is_null_where_the_api_generation_does_not_count(built):
    """Civitai sent favoriteCount 0 from 2024-02 (thumbs up replaced favourites): the raw 0 is kept
    in staging, but a model's favourites come only from a 2023-generation answer, never that 0;
    Hugging Face has likes and none of Civitai's counters."""
    sent = query(
        built,
        """select snapshot_date < date '2024-02-01', count(favorite_count), sum(favorite_count),
                  count(thumbs_up_count), count(*) filter (where favorite_count = 0)
           from staging.stg_civitai__model_stats group by 1 order by 1""",
    )
    (later, _, zero, thumbs_later, _), (earlier, counted, _, thumbs_earlier, counted_zero) = sent
    assert not later and zero == 0 and thumbs_later > 0
    assert earlier and counted > 0 and thumbs_earlier == 0
    favourites = query(
        built,
        """select count(favourites), count(*) filter (where favourites = 0)
           from intermediate.int_model_engagement where platform = 'civitai'""",
    )
    assert favourites == [(counted, counted_zero)]
    hf = query(
        built,
        """select count(thumbs_up) + count(favourites) + count(comments), count(likes), count(*)
           from intermediate.int_model_engagement where platform = 'huggingface'""",
    )
    assert hf[0][0] == 0 and hf[0][1] == hf[0][2] > 0


def test_real_person_downloads_running_total_equals_truth(built, small_world, rows):
    expected = mt.real_person_downloads_by_snapshot(small_world, DAYS, DAYS, rows)
    got = {(r[0], r[1]): tuple(r[2:]) for r in query(built, "select * from marts.real_person_downloads_by_snapshot")}
    assert got == expected
    # the world's counters fall for some real-person models, and the total never goes down
    assert sum(v[6] for v in got.values()) > 0
    for platform in ("civitai", "huggingface"):
        totals = [got[(platform, d)][5] for d in DAYS]
        assert totals == sorted(totals) and totals[-1] > 0


def test_creator_panels_equal_truth(built, rows):
    expected = mt.creator_monthly(rows)
    got = {(r[0], r[1], r[2]): tuple(r[3:]) for r in query(built, "select * from marts.creator_monthly")}
    assert got == expected


def test_creator_concentration_equals_truth(built, rows):
    expected = mt.creator_concentration_monthly(rows)
    got = {(r[0], r[1]): tuple(r[2:]) for r in query(built, "select * from marts.creator_concentration_monthly")}
    assert got == expected
    assert any(v[11] is not None and 0 < v[11] < 1 for v in got.values())


def test_creators_equal_truth_and_some_continue_after_the_ban(built, small_world, rows):
    expected = mt.creators(small_world, DAYS, DAYS, rows)
    got = {(r[0], r[1]): tuple(r[2:]) for r in query(built, "select * from marts.creators")}
    assert got == expected
    assert any(v[-1] for v in got.values())
    assert any(v[9] for (p, _h), v in got.items() if p == "civitai")  # through re-uploads


def test_sd15_lineage_monthly_equals_truth(built, rows):
    expected = mt.sd15_lineage_monthly(rows, {"civitai": DAYS[-1], "huggingface": DAYS[-1]})
    got = {(r[0], r[1]): tuple(r[2:]) for r in query(built, "select * from marts.sd15_lineage_monthly")}
    assert got == expected
    # the planted lineage: named repos on Hugging Face, models on the mirror and on named derivatives
    totals = [sum(v[i] for v in got.values()) for i in range(3, 7)]
    assert all(totals), totals


def test_sd15_lineage_by_snapshot_equals_truth_and_shows_the_removal(built, small_world, rows):
    expected = mt.sd15_lineage_by_snapshot(small_world, DAYS, DAYS, rows)
    got = {(r[0], r[1]): tuple(r[2:]) for r in query(built, "select * from marts.sd15_lineage_by_snapshot")}
    assert got == expected
    # runwayml's two repos leave on 2024-08-29: the first snapshot after it no longer lists them
    assert got[("huggingface", date(2024, 9, 1))][3] >= 2


def test_real_crawls_give_each_counter_of_its_generation_and_the_studies_a_value(real_crawls):
    """Real answers of both generations (the July 2023 crawl: favoriteCount, no thumbs up; the
    2025 list: favoriteCount 0 beside thumbsUpCount): favourites only from 2023, exactly as sent;
    and every published figure gets hubwatch's measure on the import. (The two imports and their
    build are shared with test_import: conftest.real_crawls.)"""
    home, made = real_crawls
    assert [i["returncode"] for i in made["imports"]] == [0, 0], made["imports"]
    assert made["build"]["success"], made["build"]
    engagement = {
        r[0]: r[1:]
        for r in query(
            home,
            """select model_id, downloads, thumbs_up, favourites, comments, likes
               from intermediate.int_model_engagement where model_id in ('3760', '257749')""",
        )
    }
    assert engagement == {"3760": (1497, None, 206, 6, None), "257749": (713857, 68768, None, 1531, None)}
    figures = {
        r[0]: r[1:]
        for r in query(home, "select figure_id, hubwatch_numerator, hubwatch_value from marts.study_comparisons")
    }
    with (SEEDS / "study_figures.csv").open(newline="") as handle:
        assert set(figures) == {row["figure_id"] for row in csv.DictReader(handle)}
    assert all(numerator is not None for numerator, _value in figures.values())
    before = query(
        home, "select count(*) from marts.models where platform = 'civitai' and created_at < date '2023-12-16'"
    )
    assert figures["wei_models"][0] == before[0][0] > 0
    accrued = query(
        home,
        """select sum(downloads_accrued) from marts.real_person_downloads_by_snapshot as t
           where snapshot_date = (select max(snapshot_date) from marts.real_person_downloads_by_snapshot
                                  where platform = t.platform)""",
    )
    assert figures["hawkins_downloads"][0] == accrued[0][0] > 0

"""The per-model tables (`models`, `lifecycle_by_snapshot`, the engagement counters, the Civitai
version and weight-file indexes, the real-person downloads per snapshot, and what they are kept in)
are updated from each new snapshot alone; built day by day, with a late snapshot and a narrower
retake among the days and an ordinary day after them (on which a model seen before is flagged
real-person for the first time), they equal a full refresh of the same raw/ row for row; a
withdrawn snapshot leaves them by a full refresh."""

import copy
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest

from dagster_project.runs import run_job
from ingest.fakehub import FakeHub
from ingest.fakehub.world import World
from ingest.http import Politeness
from ingest.snapshots import Endpoints, take_snapshot
from ingest.withdraw import withdraw
from tests.conftest import build_upstream

pytestmark = pytest.mark.slow
# across the 2025-05-22 ban, so that models are taken down, archived and vanish; the first day is
# of the API generation that counted favourites and no thumbs up (fakehub: before 2024-02), so a
# later day's null favourites must leave the counted ones in place
DAYS = [date(2024, 1, 1), date(2025, 6, 1)]
LATE_DAY = date(2025, 4, 1)  # taken after the others: every later snapshot's predecessor changes
NEXT_DAY = date(2025, 7, 1)  # an ordinary day after the retake: merged into what the retake left
# each table's rows in a fixed order, without the columns saying when a build wrote them
TABLES = {
    "marts.models": "select * from marts.models order by all",
    "marts.lifecycle_by_snapshot": "select * from marts.lifecycle_by_snapshot order by all",
    "marts.model_snapshots": "select * from marts.model_snapshots order by all",
    "marts.real_person_downloads_by_snapshot": "select * from marts.real_person_downloads_by_snapshot order by all",
    "intermediate.int_real_person_downloads": "select * from intermediate.int_real_person_downloads order by all",
    "marts.sd15_lineage_by_snapshot": "select * from marts.sd15_lineage_by_snapshot order by all",
    "intermediate.int_sd15_lineage_counts": "select * from intermediate.int_sd15_lineage_counts order by all",
    "intermediate.int_model_history": (
        "select * exclude (loaded_at, loaded_through) from intermediate.int_model_history order by all"
    ),
    "intermediate.int_model_snapshot_changes": (
        "select * exclude (loaded_at) from intermediate.int_model_snapshot_changes order by platform, snapshot_date"
    ),
    "intermediate.int_model_counters": (
        "select * exclude (loaded_at, loaded_through) from intermediate.int_model_counters order by all"
    ),
    "intermediate.int_model_engagement": "select * from intermediate.int_model_engagement order by all",
    "intermediate.int_civitai__versions_last_seen": (
        "select * exclude (loaded_at, loaded_through) from intermediate.int_civitai__versions_last_seen order by all"
    ),
    "intermediate.int_civitai__version_index": "select * from intermediate.int_civitai__version_index order by all",
    "intermediate.int_civitai__file_hashes_seen": (
        "select * exclude (loaded_at, loaded_through) from intermediate.int_civitai__file_hashes_seen order by all"
    ),
    "intermediate.int_model_files": (
        "select * exclude (loaded_through) from intermediate.int_model_files order by all"
    ),
    "marts.cross_platform_matches": "select * from marts.cross_platform_matches order by all",
    "intermediate.int_civitai__weight_file_hashes": (
        "select * from intermediate.int_civitai__weight_file_hashes order by all"
    ),
}
# the stored rows as copied into the warehouse (dbt/macros/raw_sources.sql, copy_stored_rows): sources, not models
STORED = {
    f"raw.{table}_rows": f"select * from raw.{table}_rows order by all"  # noqa: S608 (fixed names)
    for table in ("civitai_models", "civitai_model_versions", "civitai_model_files", "hf_models", "hf_model_files")
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


def build(home, full_refresh=False, checks=True, state_only=False):
    """A build of what the tables need: them and their upstream (model_snapshots, models and their
    history, the counters, the indexes), with their checks unless told (a build that only sets the
    scene: no one reads them); state_only: only the incremental ones and what they read, for a build
    no one reads before the next (conftest.build_upstream). Asserts it succeeded."""
    build_upstream(home, TABLES, full_refresh=full_refresh, checks=checks, state_only=state_only)


def query(home: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def first_day_models(
    home: Path, listed: set[str], lineage: bool | None = None, real_person: bool | None = None
) -> list[str]:
    """Civitai models with a downloads counter, seen since the first day and still listed (and,
    if asked, of the SD 1.5 lineage or not, real-person or not)."""
    candidates = query(
        home,
        """select models.model_id from marts.models
           left join intermediate.int_sd15_lineage_models as lineage using (platform, model_id)
           where platform = 'civitai' and status = 'active' and first_seen = ? and downloads_total > 0
               and (? is null or (lineage.model_id is not null) = ?) and (? is null or real_person = ?)
           order by model_id""",
        [DAYS[0], lineage, lineage, real_person, real_person],
    )
    return [model_id for (model_id,) in candidates if model_id in listed]


def changed_on_next_day(world: World, tagged: str, leaves: str, joins: str) -> World:
    """A copy of the world in which one model carries a tag of the real-person tier, one leaves the
    SD 1.5 lineage (another base model) and one joins it."""
    changed = copy.deepcopy(world)
    models = {str(m.model_id): m for m in changed.models}
    models[tagged].tags = [*models[tagged].tags, "celebrity"]
    for model_id, base_model in ((leaves, "SDXL 1.0"), (joins, "SD 1.5")):
        for version in models[model_id].versions:
            version.base_model = base_model
    return changed


def rows(home: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {table: con.sql(sql).fetchall() for table, sql in {**TABLES, **STORED}.items()}


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory, small_world):
    """A build after each day; then a day older than all of them arrives late and the latest day
    is retaken, both from a hub that no longer lists one model in five, in one incremental build;
    then an ordinary later day, on which a model listed since the first day carries a real-person
    tag for the first time, one leaves the SD 1.5 lineage and one joins it. Then a full refresh of
    a copy of the same home; then the late day is withdrawn from the first home, and it is built
    again. The retake's, the ordinary day's and the full refresh's builds run their checks (the
    grain checks of the rows the two incremental builds rewrote must pass, and every check must
    pass over the full refresh of these days, which no other test builds); the others run none (the
    tests read their tables, never their checks; the first makes only what the second meets; the
    build after the withdrawal is read for the rows it left, and test_withdraw checks a build after
    a withdrawal)."""
    home = tmp_path_factory.mktemp("day-by-day") / "home"
    with FakeHub(small_world) as hub:
        snapshot(hub, home, DAYS[0])
        build(home, checks=False, state_only=True)  # what the next build meets
        snapshot(hub, home, DAYS[1])
        build(home, checks=False)
        before_retake = rows(home)
    narrower = World(
        models=[m for i, m in enumerate(small_world.models) if i % 5],
        images=small_world.images,
        repos=small_world.repos,
        seed=small_world.seed,
    )
    with FakeHub(narrower) as hub:
        # the late day lacks them too: a model seen on the first day, absent late, seen in the
        # retaken day and absent from its retake is last seen on the first day again
        snapshot(hub, home, LATE_DAY)
        snapshot(hub, home, DAYS[-1], force=True)
        build(home)  # the retake, with its checks: the grain checks of the rows it rewrote must pass
        after_retake = rows(home)
    listed = {str(m.model_id) for m in narrower.models}
    flagged = first_day_models(home, listed, real_person=False)[0]
    leaves = first_day_models(home, listed, lineage=True)[0]
    joins = next(m for m in first_day_models(home, listed, lineage=False) if m != flagged)
    stored_before = stored_files(home)
    with FakeHub(changed_on_next_day(narrower, flagged, leaves, joins)) as hub:
        snapshot(hub, home, NEXT_DAY)
    build(home)
    stored_on_next_day = stored_files(home) - stored_before
    copied_on_next_day = {table: files_copied(home, table) for table in ("civitai_models", "hf_models")}
    stats_checked_on_next_day = dates_checked(home, "stg_civitai__model_stats")
    lineage_now = {
        model_id
        for (model_id,) in query(
            home,
            "select model_id from intermediate.int_sd15_lineage_models"
            " where platform = 'civitai' and model_id in (?, ?)",
            [leaves, joins],
        )
    }
    flagged_now = query(
        home, "select real_person from marts.models where platform = 'civitai' and model_id = ?", [flagged]
    )
    refreshed = home.parent / "refreshed"
    shutil.copytree(home, refreshed)
    build(refreshed, full_refresh=True)
    incremental, full = rows(home), rows(refreshed)
    for source in ("civitai_models", "hf_models"):
        withdraw(home, source, LATE_DAY, reason="test: a snapshot withdrawn")
    build(home, checks=False)  # a vanished snapshot makes it a full refresh
    return {
        "before_retake": before_retake,
        "after_retake": after_retake,
        "incremental": incremental,
        "full": full,
        "withdrawn_record": orjson.loads((home / "builds" / "latest.json").read_bytes()),
        "rows_dated_late_before": rows_dated(refreshed, LATE_DAY),
        "rows_dated_late_after": rows_dated(home, LATE_DAY),
        "world": small_world,
        "flagged": flagged,
        "flagged_now": flagged_now,
        "lineage_changes": (leaves, joins, lineage_now),
        "refreshed": refreshed,
        "stored_on_next_day": stored_on_next_day,
        "copied_on_next_day": copied_on_next_day,
        "stats_checked_on_next_day": stats_checked_on_next_day,
    }


def stored_files(home: Path) -> set[str]:
    """Every stored-rows file in raw/ as <source>/_packs/<table>.<rows_file>.parquet (ingest/rowstore.py)."""
    raw = home / "raw"
    return {path.relative_to(raw).as_posix() for path in raw.glob("*/_packs/*.parquet")}


def latest_compiled(home: Path) -> Path:
    """The SQL the home's latest build compiled (dbt/target/<build>/compiled/hubwatch)."""
    return max((home / "dbt" / "target").glob("*/compiled/hubwatch"), key=lambda run: run.parent.parent.name)


def files_copied(home: Path, source: str) -> set[str]:
    """The stored files the latest build added to the copy of a source's models' stored rows (as
    stored_files names them), from the statements its on-run-start hook ran."""
    hook = (latest_compiled(home) / "dbt_project.yml" / "hooks" / "hubwatch-on-run-start-0.sql").read_text()
    copies = [line for line in hook.splitlines() if line.startswith(f'insert into "warehouse"."raw"."{source}_rows" ')]
    return {name for line in copies for name in re.findall(r"/raw/([^']+/_packs/[^/']+\.parquet)'", line)}


def dates_checked(home: Path, model: str) -> list[str]:
    """The snapshot dates the latest build's grain check of a staging model grouped (the literal
    dates of its SQL as compiled: macros/latest_loaded.sql)."""
    sql = (latest_compiled(home) / "models" / "staging" / f"{model}.yml" / f"checks_{model}.sql").read_text()
    return re.findall(r"date '(\d{4}-\d{2}-\d{2})'", sql)


def rows_dated(home: Path, day: date) -> dict[str, int]:
    """Per table, the rows with a column naming a snapshot (a sighting's date, the next or previous
    snapshot, the date a counter was counted on) that equals day."""
    counts = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for table in TABLES:
            schema, name = table.split(".")
            columns = [
                column
                for (column,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                    " and data_type = 'DATE' and column_name <> 'month'",
                    [schema, name],
                ).fetchall()
            ]
            where = " or ".join(f'"{column}" = ?' for column in columns) or "false"
            query = f"select count(*) from {table} where {where}"  # noqa: S608 (names from the catalogue)
            counts[table] = con.execute(query, [day] * len(columns)).fetchone()[0]
    return counts


@pytest.mark.parametrize("table", sorted({**TABLES, **STORED}))
def test_day_by_day_equals_full_refresh(day_by_day, table):
    incremental, full = day_by_day["incremental"], day_by_day["full"]
    assert incremental[table], table
    assert incremental[table] == full[table]


def test_the_days_hold_what_the_test_is_about(day_by_day):
    """The late day and the retake really changed the per-model tables: models vanished with the
    retake (some seen only in it, whose row must go), a model first seen on the late day, and
    the lifecycle counts takedowns and removals; the day after the retake was an ordinary one."""
    before, after, world = day_by_day["before_retake"], day_by_day["after_retake"], day_by_day["world"]
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
    assert lifecycle[("civitai", LATE_DAY)][4] > 0  # n_removed: the models the late day no longer lists
    # versions last seen on the first day again: their models were in the retaken day alone since
    versions_before = {r[1]: r[5] for r in before["intermediate.int_civitai__versions_last_seen"]}
    versions_after = {r[1]: r[5] for r in after["intermediate.int_civitai__versions_last_seen"]}
    assert any(versions_before[v] == DAYS[-1] and versions_after.get(v) == DAYS[0] for v in versions_before)
    # the counters and versions of the models the retake no longer lists went back to earlier days
    counters = {(r[0], r[1]): r for r in after["intermediate.int_model_counters"]}  # r[10]: last_seen
    assert all(counters[("civitai", m)][10] < DAYS[-1] for m in still_listed)
    versions = after["intermediate.int_civitai__versions_last_seen"]  # r[5]: last_seen
    assert {r[5] for r in versions} >= {DAYS[-1], LATE_DAY}
    latest = day_by_day["incremental"]
    merged = [r for r in latest["intermediate.int_model_counters"] if r[10] == NEXT_DAY]  # the ordinary day's models
    assert any(r[4] is not None and r[5] == DAYS[0] for r in merged)  # favourites counted on the first day alone


def test_a_model_flagged_later_counts_in_every_snapshot_that_listed_it(day_by_day):
    """The ordinary day flagged a model seen since the first day (a real-person tag): the real-person
    downloads of every earlier snapshot that listed it count it now, though the build read no
    earlier snapshot but for that model (and equals a full refresh: see above)."""
    assert day_by_day["flagged_now"] == [(True,)]
    before = {(r[0], r[1]): r for r in day_by_day["after_retake"]["marts.real_person_downloads_by_snapshot"]}
    after = {(r[0], r[1]): r for r in day_by_day["incremental"]["marts.real_person_downloads_by_snapshot"]}
    first = ("civitai", DAYS[0])
    assert after[first][2] == before[first][2] + 1  # n_listed
    assert after[first][3] == before[first][3] + 1  # n_listed_with_downloads
    assert after[first][5] == before[first][5] + 1  # n_seen


def test_a_model_leaving_or_joining_the_lineage_changed_it_on_an_ordinary_day(day_by_day):
    """The ordinary day moved one model out of the SD 1.5 lineage and one into it (their earlier
    sightings move between the lineage counts of every snapshot that listed them; equal to a full
    refresh: see above), and the first day's lineage count is not what it was before."""
    leaves, joins, lineage_now = day_by_day["lineage_changes"]
    assert lineage_now == {joins}
    before = {(r[0], r[1]): r for r in day_by_day["after_retake"]["intermediate.int_sd15_lineage_counts"]}
    after = {(r[0], r[1]): r for r in day_by_day["incremental"]["intermediate.int_sd15_lineage_counts"]}
    first = ("civitai", DAYS[0])
    assert after[first][6] != before[first][6] or after[first][7] != before[first][7]  # n_with_downloads, downloads


def test_a_withdrawn_snapshot_leaves_every_per_model_table(day_by_day):
    """After the late day's snapshots are withdrawn, the next build is a full refresh and no
    per-model table keeps a row naming that snapshot (each of them is incremental and would
    otherwise; before the withdrawal they all held such rows)."""
    assert day_by_day["withdrawn_record"]["full_refresh"] is True
    before, after = day_by_day["rows_dated_late_before"], day_by_day["rows_dated_late_after"]
    undated = ("version_index", "weight_file", "cross_platform")  # no column names the snapshot a row comes from
    assert all(before[table] for table in before if not any(name in table for name in undated)), before
    assert not any(after.values()), after


def test_an_ordinary_day_copies_only_the_stored_files_it_added(day_by_day):
    """The copies of the stored rows read each stored file once: the ordinary day's build reads
    the model files that day's snapshots stored and no earlier one (reading every earlier day's
    would make a day's build grow with the days)."""
    added = day_by_day["stored_on_next_day"]
    for source, copied in day_by_day["copied_on_next_day"].items():
        models_added = {path for path in added if path.startswith(f"{source}/_packs/models.")}
        assert models_added, (source, added)  # the day stored new model rows: there was something to copy
        assert copied == models_added


def test_an_ordinary_day_checks_the_grain_of_its_own_counters_only(day_by_day):
    """The grain check of the Civitai counters (a view over every snapshot) groups only the day the
    build loaded, named as a literal date so that DuckDB reads no other snapshot."""
    assert day_by_day["stats_checked_on_next_day"] == [NEXT_DAY.isoformat()]


def test_a_snapshot_that_gave_int_model_files_no_row_is_not_read_again(day_by_day, tmp_path):
    """A snapshot can give int_model_files no row (a Hugging Face list imported without file hashes):
    the next build must not take that for a snapshot it never loaded, or every build would read it
    and every snapshot after it from raw/ again. Planted: the late day's Hugging Face files gone from
    the table; a build of the table with nothing new leaves them gone and the other days' rows as
    they were."""
    home = tmp_path / "home"
    shutil.copytree(day_by_day["refreshed"], home)
    table = "intermediate.int_model_files"
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        deleted = con.execute(
            f"delete from {table} where platform = 'huggingface' and snapshot_date = ?",  # noqa: S608 (a fixed name)
            [LATE_DAY],
        ).fetchone()[0]
        assert deleted > 0
        kept = con.execute(f"select * from {table} order by all").fetchall()  # noqa: S608 (a fixed name)
    assert any(row[0] == "huggingface" and row[2] > LATE_DAY for row in kept)  # later Hugging Face days stay
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=[dg.AssetKey(table.split("."))])
    assert outcome.success, outcome.error
    assert query(home, f"select * from {table} order by all") == kept  # noqa: S608 (a fixed name)


def test_a_day_retaken_without_file_hashes_keeps_none_of_its_first_take_files(day_by_day, tmp_path):
    """A day's Hugging Face list retaken without file hashes gives int_model_files no row for that
    day: the first take's files must go (delete+insert deletes only the days it writes), as a full
    refresh would have none."""
    home = tmp_path / "home"
    shutil.copytree(day_by_day["refreshed"], home)
    table = "intermediate.int_model_files"
    hf_files_next_day = f"select count(*) from {table} where platform = 'huggingface' and snapshot_date = ?"  # noqa: S608 (a fixed name)
    assert query(home, hf_files_next_day, [NEXT_DAY])[0][0] > 0
    hashless = copy.deepcopy(day_by_day["world"])
    for repo in hashless.repos:  # a new revision of each, so the crawl fetches its files again
        repo.files = [(name, size, None) for name, size, _sha256 in repo.files]
        repo.modified_at = [*repo.modified_at, datetime(2025, 6, 30, tzinfo=UTC)]
    with FakeHub(hashless) as hub:
        take_snapshot(
            "hf_models",
            home=home,
            endpoints=Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint),
            as_of=NEXT_DAY.isoformat(),
            force=True,
            politeness=Politeness(requests_per_second=0),
        )
    selection = [dg.AssetKey(["intermediate", "int_snapshots"]), dg.AssetKey(table.split("."))]  # the retake's version
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=selection)
    assert outcome.success, outcome.error
    assert query(home, hf_files_next_day, [NEXT_DAY]) == [(0,)]
    civitai_files_next_day = hf_files_next_day.replace("'huggingface'", "'civitai'")
    assert query(home, civitai_files_next_day, [NEXT_DAY])[0][0] > 0  # the other platform's day stays


@pytest.mark.parametrize(
    ("planted", "column", "kept_type"),
    [
        ("alter table raw.civitai_models_rows drop column name", "name", "VARCHAR"),
        ("alter table raw.civitai_models_rows alter nsfw_level type smallint", "nsfw_level", "BIGINT"),
    ],
    ids=["a-column-it-lacks", "a-wider-type"],
)
def test_a_copy_of_stored_rows_unlike_new_files_is_made_whole(day_by_day, tmp_path, planted, column, kept_type):
    """New stored files with a column the warehouse's copy lacks, or a wider type (files of a newer
    normaliser; here planted: the copy's column dropped or narrowed), make the build copy every file
    again, rather than stop on the insert, drop the column or cast its values; the copy then holds
    every stored row, the column as the files have it."""
    home = tmp_path / "home"
    shutil.copytree(day_by_day["refreshed"], home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute(planted)
    with FakeHub(day_by_day["world"]) as hub:  # a later day: new stored files of every table
        snapshot(hub, home, NEXT_DAY.replace(month=NEXT_DAY.month + 1))
    selection = [dg.AssetKey(["intermediate", "int_snapshots"]), dg.AssetKey(["staging", "stg_civitai__models"])]
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=selection)
    assert outcome.success, outcome.error
    packs = (home / "raw" / "civitai_models" / "_packs").as_posix()
    copied = "select * from raw.civitai_models_rows order by all"
    stored = f"select * from read_parquet('{packs}/models.*.parquet', union_by_name = true) order by all"  # noqa: S608 (a test's own path)
    assert query(home, copied) == query(home, stored)
    columns = dict(query(home, "select column_name, column_type from (describe raw.civitai_models_rows)"))
    assert columns[column] == kept_type


# the grain runs: the tables of a run, each with a repeated key planted, are selected together (one dbt
# run); within a run none reads another (a failure of one would skip what reads it: int_real_person_file_sightings
# reads int_civitai__model_snapshots, and model_snapshots reads the three)
GRAIN_RUNS = (
    ("intermediate.int_civitai__model_snapshots", "intermediate.int_huggingface__model_snapshots"),
    ("intermediate.int_real_person_file_sightings",),
    ("marts.model_snapshots",),
)


def plant_repeated_key(con, table: str) -> None:
    """One row of the latest snapshot of the table repeated. model_snapshots holds its grain with a
    unique index (this home was last built by a full refresh, which rebuilt it): DuckDB refuses the
    repeat, so it is planted with the index dropped."""
    model = table.split(".")[1]
    dated = "intermediate.int_civitai__model_snapshots" if model == "model_snapshots" else table
    latest = f"(select max(snapshot_date) from {dated})"  # noqa: S608 (fixed names)
    civitai = "platform = 'civitai' and " if model == "model_snapshots" else ""
    repeat = f"insert into {table} select * from {table} where {civitai}snapshot_date = {latest} limit 1"  # noqa: S608 (fixed names)
    if model == "model_snapshots":
        with pytest.raises(duckdb.ConstraintException):
            con.execute(repeat)
        con.execute("drop index marts.model_snapshots_grain")
    con.execute(repeat)


@pytest.fixture(scope="module")
def grain_run(day_by_day, tmp_path_factory):
    """The run of GRAIN_RUNS that holds a table, made once, when a test first asks for it: a copy of
    the refreshed home (not the other: its withdrawal keeps a full refresh pending) with a repeated
    key planted in each of the run's tables, then those tables alone selected through the dbt assets
    as `hubwatch build` runs them (with no new snapshot each keeps its row, and its tests run).
    Returns a function of a table's name: the run's outcome and its build record."""
    made = {}

    def run(table: str):
        [tables] = [tables for tables in GRAIN_RUNS if table in tables]
        if tables not in made:
            home = tmp_path_factory.mktemp("grain") / "home"
            shutil.copytree(day_by_day["refreshed"], home)
            with duckdb.connect(str(home / "warehouse.duckdb")) as con:
                for planted in tables:
                    plant_repeated_key(con, planted)
            keys = [dg.AssetKey(planted.split(".")) for planted in tables]
            outcome = run_job(home, "rebuild_from_raw_job", asset_selection=keys)
            made[tables] = outcome, orjson.loads((home / "builds" / "latest.json").read_bytes())
        return made[tables]

    return run


@pytest.mark.parametrize(
    ("schema", "model"),
    [
        ("intermediate", "int_civitai__model_snapshots"),
        ("intermediate", "int_huggingface__model_snapshots"),
        ("intermediate", "int_real_person_file_sightings"),
        ("marts", "model_snapshots"),
    ],
)
def test_a_key_repeated_in_a_snapshot_the_latest_build_loaded_fails_its_grain_test(grain_run, schema, model):
    """The grain tests of the per-snapshot model tables group only the snapshots the latest build
    (re)loaded (a build writes whole snapshots, so only those can hold a new repeat; grouping every
    snapshot's rows made a daily build dearer with each day of history), yet a repeated
    row among them fails the build (the grain_run of the table). model_snapshots holds its grain
    with a unique index: planted with the index dropped, the build fails at model_snapshots, which
    cannot put its index back."""
    outcome, record = grain_run(f"{schema}.{model}")
    assert not outcome.success
    if model == "model_snapshots":
        assert "model_snapshots" in outcome.error and "constraint" in outcome.error.lower(), outcome.error
        return
    failed = [check.split(":", 1)[1].split(" ")[0] for check in outcome.failed_checks]
    assert f"checks_{model}" in failed, failed
    assert [f for f in record["failures"] if f".checks_{model}." in f and "(repeated grain keys: " in f], record

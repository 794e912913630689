"""The warehouse end to end: fakehub snapshots across the 2025-05-22 ban -> `hubwatch build` ->
marts equal to the world's ground truth; incremental equals full refresh; bad raw refused."""

import hashlib
import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest

from dagster_project.runs import build_warehouse, code_location, run_job
from ingest import __version__
from ingest.fakehub import truth
from ingest.fakehub.world import NAMESAKES, SHARED_CONFIG, SHARED_VAE
from ingest.http import Politeness
from ingest.snapshots import Endpoints, take_snapshot
from tests.conftest import (
    build,
    build_incremental_state,
    copy_home,
    hub_env,
    hubwatch,
    hubwatch_here,
    publish_in_process,
    shared_home,
    snapshot_days,
)

pytestmark = pytest.mark.slow
FIRST_DAYS = [date(2025, 1, 1), date(2025, 4, 1), date(2025, 6, 1)]
LAST_DAY = date(2025, 8, 1)
DAYS = [*FIRST_DAYS, LAST_DAY]
PERIOD = "Month"
TZ = "Pacific/Kiritimati"
SEEDS = Path(__file__).parent.parent / "dbt" / "seeds"


def marts(home: Path, table: str, order: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(f"select * from marts.{table} order by {order}").fetchall()  # noqa: S608 (fixed names)


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_world):
    """Three snapshots built, then a fourth added incrementally; and a full-refresh copy made by
    the `hubwatch build --full-refresh` command (its click command, exit code and stderr, in this
    process: conftest.hubwatch_here; test_spark_engine runs the installed `hubwatch build`). The
    builds run in a time zone 14 hours from UTC: no item may move to another month (the truth is
    UTC). Made once per session. The first build makes what the second meets: every incremental
    model and what they read, not the tables the second rebuilds whole anyway, and none of their
    checks (no test reads them; the second and the full refresh run every check):
    conftest.build_incremental_state."""

    def make(home: Path) -> dict:
        from ingest.fakehub import FakeHub

        with FakeHub(small_world) as hub:
            snapshot_days(hub, home, FIRST_DAYS, period=PERIOD)
            build_incremental_state(home, tz=TZ, checks=False)
            snapshot_days(hub, home, [LAST_DAY], period=PERIOD)
            build(home, tz=TZ)
            refreshed = home.parent / "refreshed"
            shutil.copytree(home, refreshed)
            env = hub_env(hub, refreshed, TZ=TZ)
            full = hubwatch_here("build", "--full-refresh", env=env)
        assert full.returncode == 0, full.stderr
        return {"full_refresh_stderr": full.stderr}

    home, made = shared_home(tmp_path_factory, "warehouse", make)
    return home, home.parent / "refreshed", made["full_refresh_stderr"]


def test_build_reports_a_summary(built):
    """`hubwatch build` (here the full refresh, the command's own code and output) ends with its one-line summary."""
    _home, _refreshed, stderr = built
    assert re.search(r"build: \d+ tables and seeds built; checks: \d+ passed, 0 failed", stderr), stderr


def test_every_view_of_the_warehouse_reads_from_any_working_directory(built, tmp_path, monkeypatch):
    """A researcher opens warehouse.duckdb from wherever they are: the views over raw/ name its files
    by absolute path, never relative to the folder dbt ran in (a build that gave dbt home-relative
    paths made every staging view fail outside the home)."""
    home, _refreshed, _stderr = built
    monkeypatch.chdir(tmp_path)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        views = con.sql("select schema_name, view_name from duckdb_views() where not internal").fetchall()
        assert len(views) > 10
        for schema, view in views:
            con.sql(f'select count(*) from "{schema}"."{view}"').fetchall()  # noqa: S608 (the warehouse's own names)


def dbt_targets(home: Path) -> list[Path]:
    """Each build's dbt folder, oldest first."""
    return sorted(p for p in (home / "dbt" / "target").iterdir() if p.is_dir())


def dbt_logs(home: Path) -> list[str]:
    """Each build's dbt log, oldest first (dbt rotates its log at 10 MB: dbt.log.1, ...; the parse
    is at the start of a big build's log)."""
    return ["".join(f.read_text() for f in target.glob("dbt.log*")) for target in dbt_targets(home)]


def test_no_build_parses_the_whole_project_in_a_new_or_copied_home(built):
    """The second build starts from the first one's parsed project (dbt's partial parsing), and the
    first, in a new home, from the checkout's (`make manifest` parses as a build does: no home path
    in dbt's vars or profile); the copy, at another path, was built by `hubwatch build
    --full-refresh` from the parse of the home it was copied from."""
    home, refreshed, _stderr = built
    logs = dbt_logs(home)
    assert len(logs) == 2
    assert len(dbt_logs(refreshed)) == 3
    for log in [*logs, dbt_logs(refreshed)[-1]]:
        assert "Unable to do partial parsing" not in log
        assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed" in log


def test_a_build_without_its_checks_runs_no_dbt_test(built):
    """The first build left out its asset checks (run_job(checks=False): Dagster's asset-check
    selection): dbt built its models and ran no test (dagster-dbt's indirect selection `empty`, none
    of build_args' own); the second, with its checks, ran its tests."""
    first, second = (orjson.loads((t / "run_results.json").read_bytes()) for t in dbt_targets(built[0]))
    kinds = [Counter(r["unique_id"].split(".")[0] for r in run["results"]) for run in (first, second)]
    assert kinds[0]["model"] > 0 and kinds[0]["test"] == 0, kinds[0]
    assert first["args"]["indirect_selection"] == "empty"
    assert kinds[1]["test"] > 0, kinds[1]


def test_every_mart_and_its_columns_carry_dbt_descriptions_and_the_grain_index_stays(built):
    """persist_docs (dbt/macros/persist_docs.sql: one statement per mart, the columns not read
    again where the contract holds them) leaves dbt's descriptions as comments on every mart and
    each of its columns, after an incremental build and after a full refresh; model_snapshots keeps
    its unique grain index through both (dbt/macros/drop_indexes.sql lists the indexes of a table
    that declares one only)."""
    for home in built[:2]:
        target = dbt_targets(home)[-1]
        nodes = orjson.loads((target / "manifest.json").read_bytes())["nodes"].values()
        marts = {n["name"]: n for n in nodes if n["resource_type"] == "model" and n["schema"] == "marts"}
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            tables = dict(
                con.sql("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
            )
            columns = {
                (t, c): comment
                for t, c, comment in con.sql(
                    "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
                ).fetchall()
            }
            index = con.sql(
                "select expressions from duckdb_indexes() where index_name = 'model_snapshots_grain' and is_unique"
            ).fetchall()
        built_tables = {name: node for name, node in marts.items() if node["config"]["materialized"] != "view"}
        assert len(built_tables) > 30 and set(built_tables) <= set(tables)
        for name, node in built_tables.items():
            assert node["description"] and tables[name] == node["description"], name
            assert node["columns"] and all(
                columns[(name, column)] == meta["description"] for column, meta in node["columns"].items()
            ), name
        assert [str(row[0]) for row in index] == ["[platform, model_id, snapshot_date]"]


def test_a_mart_is_built_without_rereading_its_columns_or_listing_its_indexes(built):
    """What a table model costs dbt beyond its SQL: no DESCRIBE of the table just built for its
    comments (the contract holds its columns), no duckdb_indexes() listing before its rename (no
    index is declared on it), its comments in one statement, its contract checked in one query; and a data test's query
    runs without a BEGIN and ROLLBACK of its own (dbt/macros/materializations/test.sql)."""
    log = dbt_logs(built[1])[-1]
    statements = re.split(r"\n(?=\d\d:\d\d:\d\d\.\d+ )", log)
    creators = [s for s in statements if "On model.hubwatch.creators: " in s]
    assert any("create  table" in s or "create table" in s for s in creators), creators
    assert not [s for s in creators if "duckdb_indexes()" in s or 'from (describe "warehouse"' in s]
    assert len([s for s in creators if "comment on" in s]) == 1
    assert len([s for s in creators if "describe (" in s.lower()]) == 1  # the contract's, both sides in one
    tests = [s for s in statements if re.search(r"\]: On test\.hubwatch\.", s)]
    assert tests and not [s for s in tests if re.search(r": On test\.[\w.]+: (BEGIN|ROLLBACK)\b", s)]


def test_nsfw_share_monthly_equals_truth(built, small_world):
    home = built[0]
    models = truth.model_truth(small_world, DAYS, DAYS)
    images = truth.image_truth(small_world, DAYS, PERIOD)
    expected = truth.nsfw_share_monthly(models, images)
    got = {(p, e, m): (n, a, s) for p, e, m, n, a, s, *_ in marts(home, "nsfw_share_monthly", "1, 2, 3")}
    assert got == expected
    assert any(k[1] == "image" for k in got) and any(k[0] == "huggingface" for k in got)


def test_real_person_monthly_equals_truth_for_every_tier(built, small_world):
    home = built[0]
    expected = truth.real_person_monthly(truth.model_truth(small_world, DAYS, DAYS))
    rows = query(home, "select * exclude (share_real_person) from marts.real_person_monthly")
    got = {(r[0], r[1]): dict(zip(truth.REAL_PERSON_COUNTS, r[2:], strict=True)) for r in rows}
    assert got == expected
    totals = Counter()
    for counts in got.values():
        totals.update(counts)
    # every tier is exercised by the simulated world, the hash tier on Hugging Face re-uploads
    assert all(totals[c] > 0 for c in ("n_declared", "n_tagged", "n_name_match", "n_hash_match", "n_female"))


def test_lifecycle_shows_the_ban_and_equals_truth(built, small_world):
    home = built[0]
    models = truth.model_truth(small_world, DAYS, DAYS)
    expected = truth.lifecycle_by_snapshot(small_world, DAYS, DAYS, models)
    got = {(r[0], r[1]): tuple(r[2:]) for r in marts(home, "lifecycle_by_snapshot", "1, 2")}
    assert got == expected
    before, at_ban = got[("civitai", date(2025, 4, 1))], got[("civitai", date(2025, 6, 1))]
    # at the ban real-person models vanish: most removals, far more than before
    assert at_ban[5] > at_ban[2] / 2 and at_ban[5] > 5 * before[5]


def test_cross_platform_matches_equal_truth(built, small_world):
    """Re-uploads only: the VAE that Civitai checkpoints and real-person models ship and that some
    Hugging Face repos hold (rule set v1 paired every one of them) makes no match."""
    home = built[0]
    expected = truth.cross_platform_matches(small_world, DAYS, DAYS)
    got = {(r[0], r[1]) for r in marts(home, "cross_platform_matches", "1, 2")}
    assert got == expected and expected
    assert all(r[0] for r in query(home, "select civitai_real_person from marts.cross_platform_matches"))
    vae = SHARED_VAE[1].lower()
    assert query(home, f"select count(*) from marts.cross_platform_matches where sha256 = '{vae}'") == [(0,)]  # noqa: S608
    # the matching file is kept, by its id and name on both sides
    files = query(
        home,
        """select civitai_file_id, civitai_file_name, hf_file_name, n_matching_files
           from marts.cross_platform_matches""",
    )
    assert all(f[0] is not None and f[1].endswith(".safetensors") and f[1] == f[2] and f[3] == 1 for f in files)


def test_shared_files_and_fictional_namesakes_make_no_real_person(built, small_world):
    """The world's planted real shapes, model by model: every carrier of the shared VAE or config
    that no other tier flags stays not real-person; the plain-named Civitai re-upload of a
    real-person model's weights is found by the hash tier; fictional namesakes of public figures
    are not name matches (on Civitai and on the Hub)."""
    home = built[0]
    rows = {
        r[0]: r[1:]
        for r in query(
            home, "select model_id, real_person, real_person_name_match, real_person_hash_match from marts.models"
        )
    }
    carriers = {
        str(m.model_id)
        for m in small_world.models
        if any(f.sha256 in (SHARED_VAE[1], SHARED_CONFIG[1]) for v in m.versions for f in v.files)
        and not (m.poi or m.real_person_name or set(m.tags) & truth.REAL_PERSON_TAG_SET)
    }
    seen_carriers = carriers & set(rows)
    assert len(seen_carriers) > 20 and not [c for c in seen_carriers if rows[c][0]]
    hf_carriers = {r.repo_id for r in small_world.repos if any(sha == SHARED_VAE[1].lower() for _n, _s, sha in r.files)}
    assert hf_carriers & set(rows) and not [r for r in hf_carriers & set(rows) if rows[r][2]]
    by_name = {m.name: str(m.model_id) for m in small_world.models}
    assert rows[by_name["Dreamy Portrait LORA"]] == (True, False, True)
    for name, _word, repo_id in NAMESAKES:
        assert rows[by_name[name]] == (False, False, False), name
        if repo_id:
            assert rows[repo_id] == (False, False, False), repo_id


PUBLIC = {
    "monthly_coverage": "1, 2",
    "rules_changelog": "1, 2, 3, 4",
    "model_snapshots": "platform, model_id, snapshot_date",
    "models": "platform, model_id",
    "images": "platform, image_id",
    "nsfw_share_monthly": "1, 2, 3",
    "nsfw_share_by_snapshot": "1, 2, 3",
    "real_person_monthly": "1, 2",
    "tag_trends_monthly": "1, 2, 3, 4",
    "subculture_trends_monthly": "1, 2, 3, 4",
    "base_model_mix_monthly": "1, 2, 3",
    "lifecycle_by_snapshot": "1, 2",
    "cross_platform_matches": "1, 2",
    "snapshot_coverage": "1, 2",
    "image_feed_delay": "1",
}


@pytest.mark.parametrize("table", sorted(PUBLIC))
def test_incremental_build_equals_full_refresh(built, table):
    home, refreshed, _ = built
    assert marts(home, table, PUBLIC[table]) == marts(refreshed, table, PUBLIC[table])


IMAGE_NSFW_FROM_IMAGES = """
    select month, count(*), count_if(nsfw_any), count_if(nsfw_strict) from marts.images group by 1 order by 1
"""
IMAGE_TAGS_FROM_IMAGES = """
    select month, tag, count(*) from (select month, unnest(list_distinct(tags)) as tag from marts.images)
    where month is not null group by all order by all"""
IMAGE_SUBCULTURES_FROM_IMAGES = """
    select month, subculture, count(distinct image_id)
    from (select image_id, month, unnest(tags) as tag from marts.images)
    inner join rules.rules_subculture_tags using (tag)
    where month is not null group by all order by all"""


def test_images_stay_right_after_a_late_and_a_retaken_image_snapshot(built, fakehub, tmp_path):
    """An image snapshot older than every loaded one arrives late, and a loaded one is retaken
    narrower (a week instead of a month), so some images vanish. After an incremental build,
    `images` equals what the raw snapshots now hold, computed straight from their Parquet, and
    the image rows of the trend marts equal counts made straight from `images`; counts that were
    made under other subculture rules (here: marked so, and falsified) are all made again. The
    build is `hubwatch build`'s job on what the four tables read need (their upstream: every
    model and check on the way from raw/ to them), as build_warehouse(upstream_of=...) selects."""
    home = tmp_path / "home"
    shutil.copytree(built[0], home)
    before = query(home, "select count(*) from marts.images where last_seen = date '2025-04-01'")[0][0]
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        falsified = con.execute(
            """update intermediate.int_image_counts_by_last_seen
               set n_items = n_items + 1000, rules_hash = 'older rules'
               where kind <> 'all' and last_seen < date '2025-04-01'"""
        ).fetchall()[0][0]
    assert falsified > 0
    endpoints = Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint)
    for as_of, period, force in (("2025-03-01", "Month", False), ("2025-04-01", "Week", True)):
        take_snapshot(
            "civitai_images",
            home=home,
            endpoints=endpoints,
            as_of=as_of,
            images_period=period,
            force=force,
            politeness=Politeness(requests_per_second=0),
        )
    definitions = code_location(home)
    read = [
        dg.AssetKey(["marts", t])
        for t in ("images", "nsfw_share_monthly", "tag_trends_monthly", "subculture_trends_monthly")
    ]
    needed = dg.AssetSelection.assets(*read).upstream().resolve(definitions.resolve_asset_graph())
    keys = [k for k in definitions.resolve_all_asset_keys() if k in needed and k.path[0] != "raw"]
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=keys, definitions=definitions)
    assert outcome.success, (outcome.error, outcome.failed_checks)

    after = query(home, "select count(*) from marts.images where last_seen = date '2025-04-01'")[0][0]
    assert 0 < after < before  # the retake really dropped images
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        from_raw = con.execute(
            """select cast(image_id as varchar), min(snapshot_date), max(snapshot_date),
                      arg_max(browsing_level, snapshot_date), arg_max(created_at, snapshot_date)
               from read_parquet(?, hive_partitioning = true)
               group by 1 order by 1""",
            [f"{home}/raw/civitai_images/*/images.parquet"],
        ).fetchall()
    assert from_raw == query(
        home, "select image_id, first_seen, last_seen, browsing_level, created_at from marts.images order by 1"
    )
    assert (date(2025, 3, 1),) in query(home, "select distinct first_seen from marts.images")
    # nsfw_share_monthly counts images from int_image_last_seen: the same images, the same tiers
    assert query(home, IMAGE_NSFW_FROM_IMAGES) == query(
        home,
        """select month, n_items, n_nsfw_any, n_nsfw_strict from marts.nsfw_share_monthly
           where entity = 'image' order by 1""",
    )
    assert query(home, IMAGE_TAGS_FROM_IMAGES) == query(
        home, "select month, tag, n_items from marts.tag_trends_monthly where entity = 'image' order by all"
    )
    assert query(home, IMAGE_SUBCULTURES_FROM_IMAGES) == query(
        home,
        "select month, subculture, n_items from marts.subculture_trends_monthly where entity = 'image' order by all",
    )


def test_a_key_repeated_among_the_rows_a_build_wrote_fails_its_grain_test(built, tmp_path):
    """The grain tests of the per-image tables look only at the keys the latest build wrote
    (regrouping 40M keys daily would cost more than the day's load), yet across the whole table.
    One table at a time, through the dbt assets as `hubwatch build` runs them (the table alone
    selected: with no new snapshot it keeps the repeated row, and its tests run). A failing test
    on int_image_sightings skips everything downstream of it. (A repeated image also breaks the
    match of images and int_image_last_seen.)"""
    home = tmp_path / "home"
    shutil.copytree(built[0], home)
    # each table, and its column that tells the rows the last build wrote
    keys = {
        "images": "platform, image_id",
        "int_image_last_seen": "image_id",
        "int_image_sightings": "image_id, snapshot_date",
    }
    for schema, model, written in (
        ("marts", "images", "last_seen"),
        ("intermediate", "int_image_last_seen", "loaded_at"),
        ("intermediate", "int_image_sightings", "loaded_at"),
    ):
        table = f"{schema}.{model}"
        latest = f"{written} = (select max({written}) from {table})"  # noqa: S608 (fixed names)
        with duckdb.connect(str(home / "warehouse.duckdb")) as con:
            con.execute(f"insert into {table} select * from {table} where {latest} limit 1")  # noqa: S608 (fixed names)
        outcome = run_job(home, "rebuild_from_raw_job", asset_selection=[dg.AssetKey([schema, model])])
        assert not outcome.success
        failed = [check.split(":", 1)[1].split(" ")[0] for check in outcome.failed_checks]
        assert f"checks_{model}" in failed and set(failed) <= {f"checks_{model}", "images_match_their_last_sightings"}
        record = orjson.loads((home / "builds" / "latest.json").read_bytes())
        assert record["run_id"] == outcome.run_id and record["result"] == "failed", record
        # the checks test fails on its grain alone: the repeated key, and nothing else of the row
        [grain] = [f for f in record["failures"] if f".checks_{model}." in f]
        assert grain.endswith("Got 1 result, configured to fail if != 0 (repeated grain keys: " + keys[model] + " 1)")


def test_a_models_checks_fail_the_build_naming_each_kind_and_column(built, tmp_path):
    """A model's checks of one severity are one dbt test (`checks`): nulls planted in two of
    `models`' columns and an unknown status (through int_model_history, which the table is made
    from) fail it, and the build's one-line error and its record name each kind of check and each
    column with its count; a missing month (a hub's undated item) warns in the model's warnings."""
    home = copy_home(built[0], tmp_path / "home")
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        ids = [row[0] for row in con.sql("select model_id from intermediate.int_model_history order by 1").fetchall()]
        history = "update intermediate.int_model_history set {} where model_id in ({})"
        con.execute(history.format("first_seen = null", "?, ?"), ids[:2])
        con.execute(history.format("target_gender = null", "?"), ids[2:3])
        con.execute(history.format("created_at = null", "?"), ids[3:4])
        con.execute(history.format("status = 'misplaced'", "?"), ids[4:5])
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=[dg.AssetKey(["marts", "models"])])
    assert not outcome.success
    assert "marts/models:checks_models_warn (WARN)" in outcome.failed_checks, outcome.failed_checks
    assert "marts/models:checks_models (ERROR)" in outcome.failed_checks, outcome.failed_checks
    counted = "select count(*) - count(first_seen), count(*) - count(target_gender), count(*) - count(month)"
    nulls = query(home, f"{counted} from marts.models")[0]  # noqa: S608 (fixed names)
    assert nulls[:2] == (2, 1) and nulls[2] >= 1
    says = (
        "Got 4 results, configured to fail if != 0"
        " (nulls: first_seen 2; target_gender 1; values not accepted: status 1)"
    )
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["result"] == "failed", record
    assert [f for f in record["failures"] if ".checks_models." in f and f.endswith(says)], record["failures"]
    assert f"dbt build failed at test checks_models: {says} (build record" in outcome.error, outcome.error
    assert says in record["error"], record["error"]


def test_a_mart_whose_columns_break_its_contract_fails_the_build(built, tmp_path):
    """Marts' contracts stay enforced (on DuckDB in one query, dbt/macros/contracts.sql): a column
    of `models` that its SQL now makes a varchar, where the contract declares a date, fails the
    model with dbt's contract error, naming the column, and the table is left as it was."""
    home = copy_home(built[0], tmp_path / "home")
    before = query(home, "select count(*), min(first_seen) from marts.models")
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("alter table intermediate.int_model_history alter first_seen type varchar")
    outcome = run_job(home, "rebuild_from_raw_job", asset_selection=[dg.AssetKey(["marts", "models"])])
    assert not outcome.success
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["result"] == "failed", record
    assert "dbt build failed at model models: This model has an enforced contract that failed" in outcome.error
    target = dbt_targets(home)[-1]
    results = orjson.loads((target / "run_results.json").read_bytes())["results"]
    message = next(r["message"] for r in results if r["unique_id"] == "model.hubwatch.models")
    assert re.search(r"first_seen\s*\|\s*VARCHAR\s*\|\s*DATE\s*\|\s*data type mismatch", message), message
    assert query(home, "select count(*), min(first_seen) from marts.models") == before


def test_the_build_record_names_what_the_build_read_and_build_info_agrees(built):
    """Each input the record lists is a complete snapshot on disk, with its manifest's sha256; the
    warehouse's build_info names the record's dbt invocation and this hubwatch's version."""
    home = built[0]
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["result"] == "succeeded" and record["selection"] == "all" and record["rules_version"] == "v3"
    assert orjson.loads((home / "builds" / f"{record['run_id']}.json").read_bytes()) == record
    on_disk = {
        (p.parent.parent.name, p.parent.name.removeprefix("snapshot_date=")): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (home / "raw").glob("*/snapshot_date=*/manifest.json")
    }
    assert {(i["source"], i["snapshot_date"]): i["manifest_sha256"] for i in record["inputs"]} == on_disk
    assert len(on_disk) == 3 * len(DAYS)
    [(version, invocation)] = query(home, "select hubwatch_version, dbt_invocation_id from marts.build_info")
    assert version == __version__ != "unknown" and invocation == record["dbt_invocation_id"]


def test_a_snapshot_with_many_undatable_items_fails_the_build(built, tmp_path):
    """Undatable items warn; a snapshot where more than 1% and more than 10 of the items have no
    creation date (a parser that lost a field, not an odd item) fails its coverage check."""
    home = tmp_path / "home"
    shutil.copytree(built[0], home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute(
            """update marts.model_snapshots set created_at = null
               where platform = 'civitai' and snapshot_date = date '2025-04-01'"""
        )
    outcome = build_warehouse(home, upstream_of="snapshot_coverage")
    assert not outcome.success
    failed = [check for check in outcome.failed_checks if check.endswith("(ERROR)")]
    assert len(failed) == 1 and "share_within_limit_snapshot_coverage" in failed[0], outcome.failed_checks
    n_models = query(
        home,
        "select count(*) from marts.model_snapshots where platform = 'civitai' and snapshot_date = date '2025-04-01'",
    )
    assert query(home, "select n_undated from marts.snapshot_coverage where n_undated > 0") == n_models


def test_downloads_delta_is_computed_between_consecutive_snapshots(built):
    rows = query(
        built[0],
        """
        select count(*) filter (where downloads_delta is not null),
               count(*) filter (where snapshot_date = date '2025-01-01' and downloads_delta is not null)
        from marts.model_snapshots where platform = 'civitai'""",
    )
    assert rows[0][0] > 0 and rows[0][1] == 0


def test_sql_command_reads_the_published_copy_only(built, fakehub, tmp_path):
    home = copy_home(built[0], tmp_path / "home")  # publish writes into the home
    env = hub_env(fakehub, home)
    missing = hubwatch("sql", "select 1", env=env)
    assert missing.returncode != 0 and "hubwatch publish" in missing.stderr
    published = publish_in_process(home)  # `hubwatch publish`'s job, in this process (test_publish runs the command)
    assert published.success, published.error
    ok = hubwatch("sql", "select count(*) as n from models", "--csv", env=env)
    assert ok.returncode == 0 and ok.stdout.splitlines()[0] == "n" and int(ok.stdout.splitlines()[1]) > 0
    for statement in (
        "drop table marts.models",
        "copy (select 1) to '/tmp/x.csv'",
        "create table t as select 1",
    ):
        refused = hubwatch("sql", statement, env=env)
        assert refused.returncode != 0 and "read-only" in refused.stderr, refused.stderr
    assert marts(home, "build_info", "1")[0][0] == "v3"


def test_monthly_coverage_equals_truth(built, small_world):
    home = built[0]
    models = truth.model_truth(small_world, DAYS, DAYS)
    images = truth.image_truth(small_world, DAYS, PERIOD)
    expected = {k: (*v, v[2] / v[0]) for k, v in truth.monthly_coverage(models, images).items()}
    assert {(r[0], r[1]): tuple(r[2:]) for r in marts(home, "monthly_coverage", "1, 2")} == expected

"""The warehouse end to end: fakehub snapshots across the 2025-05-22 ban -> `hubwatch build` ->
marts equal to the world's ground truth; incremental equals full refresh; bad raw refused."""

import csv
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

from dagster_project.runs import build_warehouse, run_job
from dagster_project.warehouse import BuildError, verify_raw
from ingest import __version__, civitai
from ingest.fakehub import truth
from ingest.fakehub.world import FEMALE_NAMES, MALE_NAMES, NAME_WORDS, NAMESAKES, SHARED_CONFIG, SHARED_VAE
from ingest.home import snapshot_path
from ingest.http import Politeness
from ingest.landing import StagedSnapshot
from ingest.snapshots import Endpoints, take_snapshot
from tests.conftest import hub_env, hubwatch, load_real

pytestmark = pytest.mark.slow
FIRST_DAYS = [date(2025, 1, 1), date(2025, 4, 1), date(2025, 6, 1)]
LAST_DAY = date(2025, 8, 1)
DAYS = [*FIRST_DAYS, LAST_DAY]
PERIOD = "Month"
SEEDS = Path(__file__).parent.parent / "dbt" / "seeds"


def snapshot_all(hub, home, days):
    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    for day in days:
        for source in ("civitai_models", "civitai_images", "hf_models"):
            take_snapshot(
                source,
                home=home,
                endpoints=endpoints,
                as_of=day.isoformat(),
                images_period=PERIOD,
                politeness=Politeness(requests_per_second=0),
            )


def marts(home: Path, table: str, order: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(f"select * from marts.{table} order by {order}").fetchall()  # noqa: S608 (fixed names)


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_world):
    """Three snapshots built, then a fourth added incrementally; and a full-refresh copy. The builds
    run in a time zone 14 hours from UTC: no item may move to another month (the truth is UTC)."""
    from ingest.fakehub import FakeHub

    home = tmp_path_factory.mktemp("warehouse") / "home"
    with FakeHub(small_world) as hub:
        env = hub_env(hub, home, TZ="Pacific/Kiritimati")
        snapshot_all(hub, home, FIRST_DAYS)
        first = hubwatch("build", env=env, timeout=600)
        assert first.returncode == 0, first.stderr
        snapshot_all(hub, home, [LAST_DAY])
        second = hubwatch("build", env=env, timeout=600)
        assert second.returncode == 0, second.stderr
        refreshed = home.parent / "refreshed"
        shutil.copytree(home, refreshed)
        full = hubwatch("build", "--full-refresh", env={**env, "HUBWATCH_HOME": str(refreshed)}, timeout=600)
        assert full.returncode == 0, full.stderr
    return home, refreshed, second.stderr


def test_build_reports_a_summary(built):
    _home, _refreshed, stderr = built
    assert re.search(r"build: \d+ tables and seeds built; checks: \d+ passed, 0 failed", stderr), stderr


def test_a_later_build_in_the_same_home_parses_only_what_changed(built):
    """The second build starts from the first one's parsed project (dbt's partial parsing)."""
    home, _refreshed, _stderr = built
    logs = sorted((home / "dbt" / "target").glob("*/dbt.log"))
    assert len(logs) == 2
    assert "Unable to do partial parsing" in logs[0].read_text() or "saved manifest not found" in logs[0].read_text()
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed" in logs[1].read_text()


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
    made under other subculture rules (here: marked so, and falsified) are all made again."""
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
    incremental = hubwatch("build", env=hub_env(fakehub, home), timeout=600)
    assert incremental.returncode == 0, incremental.stderr

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
        grain = [name for name in failed if name.startswith(f"unique_combination_{model}_")]
        others = set(failed) - set(grain)
        assert len(grain) == 1 and others <= {"images_match_their_last_sightings"}, failed
        record = orjson.loads((home / "builds" / "latest.json").read_bytes())
        assert record["run_id"] == outcome.run_id and record["result"] == "failed", record


def test_the_build_record_names_what_the_build_read_and_build_info_agrees(built):
    """Each input the record lists is a complete snapshot on disk, with its manifest's sha256; the
    warehouse's build_info names the record's dbt invocation and this hubwatch's version."""
    home = built[0]
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["result"] == "succeeded" and record["selection"] == "all" and record["rules_version"] == "v2"
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


def test_sql_command_reads_the_published_copy_only(built, fakehub):
    env = hub_env(fakehub, built[0])
    missing = hubwatch("sql", "select 1", env=env)
    assert missing.returncode != 0 and "hubwatch publish" in missing.stderr
    assert hubwatch("publish", env=env).returncode == 0
    ok = hubwatch("sql", "select count(*) as n from models", "--csv", env=env)
    assert ok.returncode == 0 and ok.stdout.splitlines()[0] == "n" and int(ok.stdout.splitlines()[1]) > 0
    for statement in (
        "drop table marts.models",
        "copy (select 1) to '/tmp/x.csv'",
        "create table t as select 1",
    ):
        refused = hubwatch("sql", statement, env=env)
        assert refused.returncode != 0 and "read-only" in refused.stderr, refused.stderr
    assert marts(built[0], "build_info", "1")[0][0] == "v2"


def test_monthly_coverage_equals_truth(built, small_world):
    home = built[0]
    models = truth.model_truth(small_world, DAYS, DAYS)
    images = truth.image_truth(small_world, DAYS, PERIOD)
    expected = {k: (*v, v[2] / v[0]) for k, v in truth.monthly_coverage(models, images).items()}
    assert {(r[0], r[1]): tuple(r[2:]) for r in marts(home, "monthly_coverage", "1, 2")} == expected


def test_planted_names_are_not_ambiguous_and_namesakes_are():
    """The truth counts a name match exactly where the world planted a public figure's name: none of
    those may be in the ambiguous-names seed, and every fictional namesake must be."""
    with (SEEDS / "rules_ambiguous_names.csv").open() as handle:
        ambiguous = {row["name"] for row in csv.DictReader(handle)}
    assert not ambiguous & set(FEMALE_NAMES + MALE_NAMES)
    assert {"queen elizabeth", "drake"} <= ambiguous


def test_every_civitai_file_type_is_classified_for_the_hash_tier():
    """Each file type of Civitai's own enum (real /api/v1/enums) is in the seed, weight or not."""
    with (SEEDS / "rules_civitai_file_types.csv").open() as handle:
        seeded = {row["file_type"]: row["is_weight"] for row in csv.DictReader(handle)}
    assert set(load_real("civitai_v1_enums_2026-03.json")["ModelFileType"]) == set(seeded)
    assert {t for t, weight in seeded.items() if weight == "true"} == {"Model", "Pruned Model"}


NAME_LABELS = Path(__file__).parent / "fixtures" / "real" / "name_tier_labels_2023-07.csv"


def test_ambiguous_names_remove_only_false_name_matches_of_the_labelled_sample():
    """The hand-labelled name-tier matches of the real 2023 crawl: every match the ambiguous-names
    seed takes away was labelled not a real person, and the tier's precision goes up."""
    with NAME_LABELS.open(newline="") as handle:
        labels = list(csv.DictReader(handle))
    with (SEEDS / "rules_ambiguous_names.csv").open() as handle:
        ambiguous = {row["name"] for row in csv.DictReader(handle)}
    assert len(labels) >= 200 and all(row["reason"].strip() for row in labels)
    assert {row["real_person"] for row in labels} == {"true", "false"}
    kept = [row for row in labels if set(row["matched_names"].split(";")) - ambiguous]
    dropped = [row for row in labels if row not in kept]
    assert dropped and all(row["real_person"] == "false" for row in dropped)

    def precision(rows):
        return sum(row["real_person"] == "true" for row in rows) / len(rows)

    assert precision(kept) > precision(labels)


def test_simulated_names_never_match_the_seed_by_accident():
    """The truth counts a name match only where the world planted a name: check that holds."""
    with (SEEDS / "rules_real_person_names.csv").open() as handle:
        names = {row["name"] for row in csv.DictReader(handle)}
    generic = {w.lower() for w in NAME_WORDS} | {
        "lora",
        "checkpoint",
        "textualinversion",
        "locon",
        "image",
        "model",
        "chat",
        "adapter",
        "pony",
        "sd",
        "flux",
        "illustrious",
        "noobai",
    }
    assert not generic & names


def test_a_partition_without_manifest_or_with_a_corrupt_file_is_refused(tmp_path):
    home = tmp_path / "home"
    stage(home, "civitai_models", date(2025, 1, 1), load_real("civitai_v1_models_items_2023-07_selection.json"))
    verify_raw(home)
    target = snapshot_path(home, "civitai_models", date(2025, 1, 1)) / "models.parquet"
    original = target.read_bytes()
    target.write_bytes(original[:-20] + b"x" * 20)
    with pytest.raises(BuildError, match="models.parquet does not match"):
        verify_raw(home, full=True)
    with pytest.raises(BuildError, match="models.parquet does not match"):
        verify_raw(home)  # a file whose mtime moved is hashed again, ledger or not
    target.write_bytes(original)
    stray = home / "raw" / "civitai_images" / "snapshot_date=2025-02-01"
    stray.mkdir(parents=True)
    (stray / "images.parquet").write_bytes(b"PAR1")
    with pytest.raises(BuildError, match="snapshot_date=2025-02-01 has no manifest.json"):
        verify_raw(home)


def stage(home: Path, source: str, day: date, items: list[dict], kind: str = "simulated") -> None:
    """A snapshot made of given items, through the same store and normaliser as a crawl."""
    import orjson

    from ingest.http import Fetched

    with StagedSnapshot(home, source, day, kind=kind, host="fixture", plan={"scope": "all"}) as snap:
        body = orjson.dumps({"items": items, "metadata": {}})
        snap.add_page(
            Fetched(
                "fixture",
                200,
                body,
                None,
                {},
                __import__("datetime").datetime.now(__import__("datetime").UTC),
                1,
            ),
            stream="items",
            items=len(items),
            cursor=None,
            state=None,
            errors=Counter(),
        )
        normalise = civitai.normalise_models if source == "civitai_models" else civitai.normalise_images
        snap.publish(normalise(civitai.items_of(snap.pages())))


def test_real_samples_classify_as_their_fields_say(tmp_path, fakehub):
    home = tmp_path / "home"
    stage(home, "civitai_models", date(2023, 7, 5), load_real("civitai_v1_models_items_2023-07_selection.json"))
    stage(
        home,
        "civitai_models",
        date(2025, 8, 14),
        load_real("civitai_v1_models_list_limit10_2025-08.json")["items"],
    )
    done = hubwatch("build", env=hub_env(fakehub, home), timeout=600)
    assert done.returncode == 0, done.stderr
    rows = {
        r[0]: r[1:]
        for r in query(
            home,
            """
        select model_id, real_person_declared, real_person, removal_kind, removed_on, nsfw_any, nsfw_strict
        from marts.models where platform = 'civitai'""",
        )
    }
    assert rows["45321"][:2] == (True, True)  # the 2023 poi:true item
    assert rows["12671"][2:4] == ("taken_down", date(2025, 8, 14))  # TakenDown, gone by 2025
    assert rows["43331"][4:] == (True, True)  # nsfw:false with nsfwLevel 31
    assert rows["3760"][2:4] == ("absent", date(2025, 8, 14))


REAL_2023_V2 = "civitai_v1_models_items_2023-07_rules_v2_selection.json"
EMPTY_VERSION_LISTS = {"47551", "61016", "79185", "81398", "84616", "96216", "98409"}


@pytest.fixture(scope="module")
def real_2023(tmp_path_factory, small_world):
    """The real 2023 items behind issue #15, imported as one snapshot and built as a user would."""
    from ingest.fakehub import FakeHub

    home = tmp_path_factory.mktemp("real2023") / "home"
    stage(home, "civitai_models", date(2023, 7, 5), load_real(REAL_2023_V2), kind="imported")
    with FakeHub(small_world) as hub:
        done = hubwatch("build", env=hub_env(hub, home), timeout=600)
    return home, done


def test_real_2023_items_build_without_failure_and_undated_models_are_counted(real_2023):
    """Seven real 2023 models have `modelVersions: []` and so no creation date: the build must
    pass (a warning, not an error), keep them in models/model_snapshots with a null month, count
    them per snapshot and in monthly_coverage, and leave them out of the monthly tables."""
    home, done = real_2023
    assert done.returncode == 0, done.stderr
    assert re.search(r"checks: \d+ passed, 0 failed, [1-9]\d* warned", done.stderr), done.stderr
    undated = {r[0] for r in query(home, "select model_id from marts.models where month is null")}
    assert undated == EMPTY_VERSION_LISTS
    assert query(home, "select count(*) from marts.model_snapshots where created_at is null") == [(7,)]
    assert query(home, "select source, n_undated from marts.snapshot_coverage") == [("civitai_models", 7)]
    coverage = query(home, "select * from marts.monthly_coverage")
    assert coverage == [("civitai", "model", 19, 12, 7, 7 / 19)]
    assert query(
        home, "select sum(n_items) from marts.nsfw_share_monthly where platform = 'civitai' and entity = 'model'"
    ) == [(12,)]
    assert query(home, "select sum(n_models) from marts.real_person_monthly") == [(12,)]


def test_real_2023_shared_vae_and_fictional_names_make_no_real_person_match(real_2023):
    """Rule set v2 on the real items behind issue #15: a VAE (vae-ft-mse-840000-ema-pruned,
    the NAI VAE as orangemix.vae.pt / Anything-V3.0.vae.pt) shipped beside real-person models no
    longer makes Realistic Vision V3.0 (4201), AOM3 (9942), Anything V3 (66) or a VAE uploaded as a
    model (varOrangemix, 14052) real-person; Azur Lane's Queen Elizabeth (8325, 75513) and the Drakes
    of Azur Lane and NIKKE (28123, 29847) are not public figures. A real re-upload still matches:
    MilaKunis (39106) ships the very embedding file of Mila Kunis Embedding (4318)."""
    home, done = real_2023
    assert done.returncode == 0, done.stderr
    rows = {
        r[0]: r[1:]
        for r in query(
            home,
            "select model_id, real_person, real_person_name_match, real_person_hash_match from marts.models",
        )
    }
    for model_id in ("4201", "9942", "66", "14052"):
        assert rows[model_id] == (False, False, False), model_id
    for model_id in ("8325", "75513", "28123", "29847"):
        assert rows[model_id] == (False, False, False), model_id
    assert rows["4318"][:2] == (True, True)  # the name tier still finds Mila Kunis
    assert rows["39106"] == (True, False, True)  # "MilaKunis" is no whole-word name; its file is hers
    assert query(home, "select rules_version from marts.build_info") == [("v2",)]

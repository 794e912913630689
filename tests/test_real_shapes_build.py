"""Real shapes end to end: real 2023-2025 Civitai items imported and a fakehub serving the real
odd shapes (zone-less times, `modelVersions: []`) build with zero failed dbt tests, every public
table, and the undated items counted, not dropped."""

import shutil
from datetime import date

import duckdb
import polars as pl
import pytest

from ingest import pagestore, rowstore
from ingest.fakehub import FakeHub, build_world, truth
from ingest.home import snapshot_path
from ingest.importers import import_crawl
from ingest.landing import read_manifest
from publish.package import PUBLIC_TABLES
from tests.conftest import REAL, build, outcome_facts, shared_home, snapshot_days

pytestmark = pytest.mark.slow
EMPTY_VERSION_IDS = {47551, 61016, 79185, 81398, 84616, 96216, 98409}


def assert_no_failed_dbt_test(outcome: dict) -> None:
    """The build succeeded and no check failed at error severity (undated items may warn).
    outcome: conftest.outcome_facts of the build's run."""
    errors = [name for name in outcome["failed_checks"] if " (ERROR)" in name]
    assert outcome["success"] and outcome["checks"]["failed"] == 0 and not errors, outcome


def query(home, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_real_2023_2024_2025_items_import_and_build(tmp_path):
    home = tmp_path / "home"
    crawl_2023 = tmp_path / "CivitaiModelList"
    crawl_2023.mkdir()
    for name in (
        "civitai_v1_models_items_2023-07_selection.json",
        "civitai_v1_models_items_2023-07_empty_versions.json",
    ):
        shutil.copy(REAL / name, crawl_2023 / name)
    imports = (
        (crawl_2023, date(2023, 7, 5)),
        (REAL / "civitai_v1_models_list_checkpoint_highestrated_limit10_2024-05.json", date(2024, 5, 29)),
        (REAL / "civitai_v1_models_list_limit10_2025-08.json", date(2025, 8, 14)),
    )
    for path, day in imports:  # `hubwatch import` in this process (conftest.real_crawls runs the command)
        import_crawl("civitai-models-json", path, home=home, as_of=day)
    manifests = {day: read_manifest(home, "civitai_models", day) for _path, day in imports}
    assert [m["undated"]["models"] for m in manifests.values()] == [7, 0, 0]
    assert all(sum(m["unparsed"].values()) == 0 and not m["odd_values"] for m in manifests.values())

    built = outcome_facts(build(home, must_pass=False))

    # kept, month-less and counted: the seven real models without versions
    undated = query(home, "select model_id from marts.models where platform = 'civitai' and month is null")
    assert {int(m) for (m,) in undated} == EMPTY_VERSION_IDS
    # dated by the zone-less publishedAt of its 2024 versions (it is absent from the 2025 page)
    assert query(home, "select month from marts.models where model_id = '12606'") == [(date(2023, 2, 1),)]
    coverage = query(
        home,
        "select snapshot_date, n_unparsed_timestamps, n_odd_values, n_skipped_invalid, n_input_files,"
        " length(inputs_sha256), params from marts.snapshot_coverage order by 1",
    )
    assert [row[:6] for row in coverage] == [
        (date(2023, 7, 5), 0, 0, 0, 2, 64),
        (date(2024, 5, 29), 0, 0, 0, 1, 64),
        (date(2025, 8, 14), 0, 0, 0, 1, 64),
    ]
    assert not any(str(tmp_path) in row[6] or "input_sha256" in row[6] for row in coverage)
    widest = query(home, "select max(length(cast(columns(*) as varchar))) from marts.snapshot_coverage")[0]
    assert max(w for w in widest if w is not None) < 1000  # no multi-megabyte cell

    assert_no_failed_dbt_test(built)
    present = {
        t for (t,) in query(home, "select table_name from information_schema.tables where table_schema = 'marts'")
    }
    assert set(PUBLIC_TABLES) <= present
    for table in ("model_snapshots", "models", "nsfw_share_monthly", "real_person_monthly", "lifecycle_by_snapshot"):
        assert query(home, f"select count(*) from marts.{table}")[0][0] > 0, table  # noqa: S608 (fixed names)


DAYS = [date(2025, 1, 1), date(2025, 7, 1)]


@pytest.fixture(scope="module")
def versionless_world():
    # about 2% undated: an odd item per fifty warns; more than 1% and more than 10 of a snapshot would fail it
    return build_world(seed=5, n_models=250, n_images=1500, n_repos=80, versionless_share=0.02)


@pytest.fixture(scope="module")
def versionless_home(tmp_path_factory, versionless_world):
    """Two simulated snapshots of a world where some models are listed with `modelVersions: []`,
    built (once per session: conftest.shared_home). Returns the home and the build's outcome."""

    def make(home):
        with FakeHub(versionless_world) as hub:
            snapshot_days(hub, home, DAYS, period="Month")
        return outcome_facts(build(home, must_pass=False))

    return shared_home(tmp_path_factory, "versionless", make)


def test_fakehub_serves_zone_less_times_and_empty_version_lists_and_both_parse(versionless_home, versionless_world):
    home, _built = versionless_home
    for day in DAYS:
        partition = snapshot_path(home, "civitai_models", day)
        models = rowstore.read_table(partition, "models")
        assert set(models["model_id"]) == truth.civitai_model_ids(versionless_world, day)
        undated = set(models.filter(pl.col("created_at").is_null())["model_id"])
        assert undated == truth.civitai_undated_model_ids(versionless_world, day) and undated
        versions = rowstore.read_table(partition, "model_versions")
        assert versions["published_at"].null_count() == 0
        manifest = read_manifest(home, "civitai_models", day)
        assert manifest["undated"] == {"models": len(undated)}
        assert sum(manifest["unparsed"].values()) == 0 and manifest["odd_values"] == {}
        sent = list(pagestore.raw_items(partition))  # every item as the hub sent it, from the stored pages
        assert {item["id"] for item in sent} == set(models["model_id"])
        assert any(item["modelVersions"] == [] for item in sent)
        published = [v["publishedAt"] for item in sent for v in item["modelVersions"]]
        assert any(not p.endswith("Z") for p in published) and any(p.endswith("Z") for p in published)
    # the zone-less texts are the same instants the world holds (to the millisecond it serves)
    stored = rowstore.read_table(snapshot_path(home, "civitai_models", DAYS[-1]), "model_versions")
    world = {v.version_id: v.created_at for m in versionless_world.models for v in m.versions}
    zone_less = stored.filter(pl.col("version_id") % 4 == 0)
    assert zone_less.height > 10
    for version_id, published in zone_less.select("version_id", "published_at").iter_rows():
        expected = world[version_id]
        assert published == expected.replace(microsecond=expected.microsecond // 1000 * 1000)
        assert published.utcoffset().total_seconds() == 0


def test_a_world_with_undated_models_builds_to_its_truth(versionless_home, versionless_world):
    home, built = versionless_home
    assert_no_failed_dbt_test(built)
    models = truth.model_truth(versionless_world, DAYS, DAYS)
    images = truth.image_truth(versionless_world, DAYS, "Month")
    got = {(p, e, m): (n, a, s) for p, e, m, n, a, s, *_ in query(home, "select * from marts.nsfw_share_monthly")}
    assert got == truth.nsfw_share_monthly(models, images)
    rows = query(home, "select * exclude (share_real_person) from marts.real_person_monthly")
    assert {(r[0], r[1]): dict(zip(truth.REAL_PERSON_COUNTS, r[2:], strict=True)) for r in rows} == (
        truth.real_person_monthly(models)
    )
    got_matches = {(r[0], r[1]) for r in query(home, "select * from marts.cross_platform_matches")}
    assert got_matches == truth.cross_platform_matches(versionless_world, DAYS, DAYS)

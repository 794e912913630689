"""Every real API response in tests/fixtures/real parses into the normalised schema, with the
field values the response actually holds."""

import copy
from datetime import UTC, date, datetime

import orjson
import polars as pl

from ingest import civitai, huggingface
from ingest.fakehub.world import BASE_MODELS
from tests.conftest import load_real


def test_2023_items_keep_poi_mode_and_nsfw_flags():
    tables = civitai.normalise_models(load_real("civitai_v1_models_items_2023-07_selection.json"))
    models = tables["models"]
    assert models.height == 5
    by_id = {row["model_id"]: row for row in models.iter_rows(named=True)}
    assert by_id[45321]["poi"] is True and by_id[45321]["name"] == "Diana"
    assert by_id[69966]["nsfw"] is True
    assert by_id[35484]["mode"] == "Archived"
    assert by_id[12671]["mode"] == "TakenDown"
    assert by_id[3760]["mode"] is None
    # the 2023 shape has no nsfwLevel: it stays null rather than being guessed
    assert models["nsfw_level"].null_count() == 5
    assert by_id[3760]["download_count"] == 1497
    assert by_id[3760]["favorite_count"] == 206
    assert by_id[3760]["tags"] == ["victorian", "furniture", "bordello", "style"]
    assert by_id[3760]["created_at"] is not None  # from the version's createdAt (2023 shape)
    files = tables["model_files"]
    sha = files.filter(pl.col("file_id") == 4060)["sha256"].item()
    assert sha == "98fde1f0e60ae90df18624b2ddf671d84a950a6d73fc9200b525a63af246ad32"
    # Archived: both versions kept, their files gone; this TakenDown item still lists its file
    assert tables["model_versions"].filter(pl.col("model_id") == 35484).height == 2
    assert files.filter(pl.col("model_id") == 35484).height == 0
    assert files.filter(pl.col("model_id") == 12671).height == 1


def test_2025_page_has_bitmask_levels_and_cursor():
    page = load_real("civitai_v1_models_list_limit10_2025-08.json")
    items, cursor = civitai.page_items(page, "sample")
    assert cursor == "37169|338034|122359"
    tables = civitai.normalise_models(items)
    models = tables["models"]
    assert models.height == 10
    pony = models.filter(pl.col("model_id") == 257749).row(0, named=True)
    assert pony["name"] == "Pony Diffusion V6 XL"
    assert pony["nsfw_level"] == 7 and pony["nsfw"] is False
    assert pony["download_count"] == 713857
    assert pony["thumbs_up_count"] == 68768
    # nsfw:false with nsfwLevel 31 is kept as both facts (the warehouse decides)
    assert models.filter(pl.col("model_id") == 43331)["nsfw_level"].item() == 31
    pony_file = tables["model_files"].filter(pl.col("file_id") == 228616).row(0, named=True)
    assert pony_file["sha256"] == "67ab2fd8ec439a89b3fedb15cc65f54336af163c7eb5e4f2acc98f090a29b0b3"
    assert pony_file["is_primary"] is True
    # 2025 list versions have publishedAt only: created_at falls back to it
    assert models["created_at"].null_count() == 0


def test_2024_checkpoint_page_counts():
    items, cursor = civitai.page_items(
        load_real("civitai_v1_models_list_checkpoint_highestrated_limit10_2024-05.json"), "sample"
    )
    tables = civitai.normalise_models(items)
    assert cursor == "22138|364671|25494"
    assert (tables["models"].height, tables["model_versions"].height, tables["model_files"].height) == (
        10,
        123,
        201,
    )
    assert set(tables["models"]["type"]) == {"Checkpoint"}


def test_by_id_models_and_condensed_2026_item():
    for name, model_id in (
        ("civitai_v1_models_id_1102_2025-08.json", 1102),
        ("civitai_v1_models_id_1231067_2025-09.json", 1231067),
        ("civitai_v1_models_list_item_2851602_2026-08_condensed.json", 2851602),
    ):
        models = civitai.normalise_models([load_real(name)])["models"]
        assert models["model_id"].to_list() == [model_id]
    item = civitai.normalise_models([load_real("civitai_v1_models_list_item_2851602_2026-08_condensed.json")])
    row = item["models"].row(0, named=True)
    assert row["base_models"] == ["Krea 2"]  # the 2026 top-level baseModels field
    assert row["tipped_amount_count"] == 0 and row["download_count"] == 0


def test_model_version_responses_normalise_as_one_version_models():
    for name, version_id in (
        ("civitai_v1_model-versions_id_1387174_2025-03.json", 1387174),
        ("civitai_v1_model-versions_id_1255556_2025-09.json", 1255556),
    ):
        version = load_real(name)
        tables = civitai.normalise_models([civitai.model_item_from_version(version)])
        assert tables["models"]["model_id"].to_list() == [version["modelId"]]
        assert tables["model_versions"]["version_id"].to_list() == [version_id]
        assert tables["models"]["poi"].to_list() == [version["model"]["poi"]]
    versions = civitai.normalise_models(
        [civitai.model_item_from_version(load_real("civitai_v1_model-versions_id_1387174_2025-03.json"))]
    )
    assert versions["models"]["name"].item() == "Vivid Impressions Storybook Style"


def test_a_file_listed_under_two_versions_is_kept_once_under_the_lower():
    """The warehouse's staging view relies on one row per file id in a snapshot."""
    item = copy.deepcopy(load_real("civitai_v1_models_id_1102_2025-08.json"))
    later, earlier = sorted(item["modelVersions"], key=lambda v: v["id"], reverse=True)[:2]
    later["files"].append(copy.deepcopy(earlier["files"][0]))
    files = civitai.normalise_models([item])["model_files"]
    shared = files.filter(pl.col("file_id") == earlier["files"][0]["id"])
    assert shared["version_id"].to_list() == [earlier["id"]]
    assert files["file_id"].is_unique().all()
    assert files.height == sum(len(v.get("files") or []) for v in item["modelVersions"]) - 1


def test_image_item_keeps_browsing_level_and_lossy_label_apart():
    images = civitai.normalise_images([load_real("civitai_v1_images_item_98780806_2025-09.json")])["images"]
    row = images.row(0, named=True)
    assert row["image_id"] == 98780806
    assert row["browsing_level"] == 1 and row["nsfw_level_label"] == "None" and row["nsfw"] is False
    assert row["base_model"] == "Chroma"
    assert row["model_version_ids"] == []
    assert row["like_count"] == 4816
    assert row["created_at"] == datetime(2025, 9, 7, 19, 58, 26, 745000, tzinfo=UTC)


def test_hf_default_list_and_model_info():
    models = huggingface.normalise_models(load_real("hf_api_models_default_list_2024-11.json"))
    assert models.height == 10
    qwq = models.filter(pl.col("model_id") == "Qwen/QwQ-32B-Preview").row(0, named=True)
    assert qwq["downloads_30d"] == 26706 and qwq["likes"] == 894
    assert qwq["base_models"] == ["Qwen/Qwen2.5-32B-Instruct"]
    assert qwq["created_at"] == datetime(2024, 11, 27, 15, 50, 55, tzinfo=UTC)
    info = load_real("hf_api_models_id_stabilityai_stable-diffusion-2-1_2025-01.json")
    one = huggingface.normalise_models([info]).row(0, named=True)
    assert one["sha"] == "5cae40e6a2745ae2b01ad92ae5043f95f23644d6" and one["pipeline_tag"] == "text-to-image"
    files = huggingface.normalise_files([info], date(2025, 1, 22))
    assert ".gitattributes" in files["rfilename"].to_list()
    assert files["sha256"].null_count() == files.height  # no blobs=true: no hashes to invent


def test_fakehub_base_model_names_are_real_civitai_enums():
    enums = load_real("civitai_v1_enums_2026-03.json")
    assert {name for name, *_ in BASE_MODELS} <= set(enums["BaseModel"])


# -- real shapes that once broke or bent a build (issue #15) ------------------------------------
PAGE_2024 = "civitai_v1_models_list_checkpoint_highestrated_limit10_2024-05.json"
PAGE_2025 = "civitai_v1_models_list_limit10_2025-08.json"
EMPTY_VERSIONS_2023 = "civitai_v1_models_items_2023-07_empty_versions.json"


def test_zone_less_2024_times_parse_beside_zulu_2025_times_in_one_snapshot():
    """One crawl sees both shapes: a format inferred from the first value nulled the other."""
    items = load_real(PAGE_2025)["items"] + load_real(PAGE_2024)["items"]
    tables = civitai.normalise_models(items)
    meina = tables["models"].filter(pl.col("model_id") == 12606).row(0, named=True)
    # the earliest of its versions' publishedAt (2024 list versions carry no createdAt)
    assert meina["created_at"] == datetime(2023, 2, 24, 14, 9, 39, 328000, tzinfo=UTC)
    assert meina["last_version_at"] == datetime(2023, 7, 18, 0, 24, 49, 764000, tzinfo=UTC)
    assert tables["models"]["created_at"].null_count() == 0
    assert tables["model_versions"]["published_at"].null_count() == 0
    # "2023-05-06T15:52:00.75": a two-digit fraction, no zone
    version = tables["model_versions"].filter(pl.col("version_id") == 64046)["published_at"].item()
    assert version == datetime(2023, 5, 6, 15, 52, 0, 750000, tzinfo=UTC)


def test_creation_date_falls_back_in_the_documented_order():
    from ingest.quality import Quality

    base = load_real("civitai_v1_models_id_1231067_2025-09.json")  # versions with createdAt and publishedAt
    only_published = copy.deepcopy(base) | {"id": 2}
    for version in only_published["modelVersions"]:
        del version["createdAt"]
    model_level = {"id": 3, "name": "no versions", "modelVersions": [], "publishedAt": "2024-03-01T10:00:00"}
    undated = load_real(EMPTY_VERSIONS_2023)[0]
    bad_created = copy.deepcopy(base) | {"id": 4}
    bad_created["modelVersions"][0]["createdAt"] = "not-a-date"
    quality = Quality()
    models = civitai.normalise_models([base, only_published, model_level, undated, bad_created], quality)["models"]
    got = {r["model_id"]: (r["created_at"], r["created_at_source"]) for r in models.iter_rows(named=True)}
    assert got[1231067] == (datetime(2025, 2, 8, 11, 15, 47, 197000, tzinfo=UTC), "version.createdAt")
    assert got[2] == (datetime(2025, 2, 8, 11, 29, 4, 487000, tzinfo=UTC), "version.publishedAt")
    assert got[3] == (datetime(2024, 3, 1, 10, 0, tzinfo=UTC), "model.publishedAt")
    assert got[undated["id"]] == (None, None)
    assert got[4][1] == "version.publishedAt"  # its createdAt did not parse: counted, not guessed
    assert civitai.CREATION_DATE_ORDER == (
        "version.createdAt",
        "version.publishedAt",
        "model.publishedAt",
        "model.createdAt",
    )
    assert quality.unparsed["model_versions.created_at"] == 1 and quality.undated["models"] == 1
    kept = orjson.loads(models.filter(pl.col("model_id") == 4)["raw_json"].item())
    assert kept["modelVersions"][0]["createdAt"] == "not-a-date"  # the raw text stays


def test_real_models_without_versions_are_kept_undated_and_counted():
    from ingest.quality import Quality

    items = load_real(EMPTY_VERSIONS_2023)
    assert sorted(i["id"] for i in items) == [47551, 61016, 79185, 81398, 84616, 96216, 98409]
    quality = Quality()
    tables = civitai.normalise_models(items, quality)
    models = tables["models"]
    assert models.height == 7 and models["created_at"].null_count() == 7
    assert models["n_versions"].to_list() == [0] * 7
    assert tables["model_versions"].height == 0
    assert quality.manifest()["undated"] == {"models": 7}


def test_hf_timestamp_that_is_not_one_is_counted_not_a_traceback():
    from ingest.quality import Quality

    items = copy.deepcopy(load_real("hf_api_models_default_list_2024-11.json"))
    items[0]["createdAt"] = "yesterday"
    quality = Quality()
    models = huggingface.normalise_models(items, quality)
    assert models.height == 10
    assert models.filter(pl.col("model_id") == items[0]["id"])["created_at"].item() is None
    assert quality.unparsed["models.created_at"] == 1
    assert orjson.loads(models.filter(pl.col("model_id") == items[0]["id"])["raw_json"].item())["createdAt"] == (
        "yesterday"
    )

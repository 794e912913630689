"""One odd item from a live hub never raises in a normaliser: a field of the wrong type becomes
null or empty, is counted for the snapshot's manifest, and the item stays whole in raw_json."""

import copy
from datetime import date

import orjson
import polars as pl
import pytest

from ingest import civitai, huggingface
from ingest.quality import Quality
from tests.conftest import load_real

MODEL = load_real("civitai_v1_models_id_1102_2025-08.json")
IMAGE = load_real("civitai_v1_images_item_98780806_2025-09.json")
HF_ITEM = load_real("hf_api_models_default_list_2024-11.json")[0]
HF_INFO = load_real("hf_api_models_id_stabilityai_stable-diffusion-2-1_2025-01.json")


def with_value(item: dict, path: tuple, value) -> dict:
    odd = copy.deepcopy(item)
    target = odd
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return odd


@pytest.mark.parametrize(
    ("path", "value", "counted"),
    [
        (("creator",), ["someone"], "models.creator"),
        (("modelVersions", 0, "files"), "model.safetensors", "model_versions.files"),
        (("tags",), {"anime": True}, "models.tags"),
        (("stats",), [1, 2], "models.stats"),
        (("modelVersions",), {"0": {}}, "models.modelVersions"),
        (("name",), {"en": "x"}, "models.name"),
        (("nsfwLevel",), "31", "models.nsfw_level"),
        (("poi",), "false", "models.poi"),
        (("modelVersions", 0, "trainedWords"), "a, b", "model_versions.trainedWords"),
        (("modelVersions", 0, "files", 0, "hashes"), "ABC", "model_files.hashes"),
        (("modelVersions", 0, "files", 0, "primary"), "yes", "model_files.primary"),
        (("modelVersions", 0, "publishedAt"), 1714557600, "model_versions.published_at"),
    ],
)
def test_an_odd_civitai_model_field_is_nulled_and_counted(path, value, counted):
    odd = with_value(MODEL, path, value)
    quality = Quality()
    tables = civitai.normalise_models([odd, load_real("civitai_v1_models_id_1231067_2025-09.json")], quality)
    models = tables["models"]
    assert models.height == 2
    assert quality.odd_values[counted] >= 1, quality.odd_values
    assert orjson.loads(models.filter(pl.col("model_id") == 1102)["raw_json"].item()) == odd


def test_an_item_without_a_usable_id_is_left_out_and_counted():
    quality = Quality()
    models = civitai.normalise_models([with_value(MODEL, ("id",), "1102"), "not an item", MODEL], quality)["models"]
    assert models["model_id"].to_list() == [1102]
    assert quality.odd_values == {"models.id": 1, "models.item": 1}


@pytest.mark.parametrize(
    ("path", "value", "counted"),
    [
        (("tags",), {"name": "x"}, "images.tags"),
        (("stats",), "many", "images.stats"),
        (("modelVersionIds",), [1, "2"], "images.modelVersionIds"),
        (("browsingLevel",), "banana", "images.browsing_level"),
        (("createdAt",), "not-a-date", None),
    ],
)
def test_an_odd_image_field_is_nulled_and_counted(path, value, counted):
    quality = Quality()
    images = civitai.normalise_images([with_value(IMAGE, path, value)], quality)["images"]
    assert images.height == 1
    if counted:
        assert quality.odd_values[counted] == 1
    else:
        assert quality.unparsed["images.created_at"] == 1 and images["created_at"].item() is None


@pytest.mark.parametrize(
    ("field", "value", "counted"),
    [
        ("tags", {"lora": 1}, "models.tags"),
        ("likes", "many", "models.likes"),
        ("gated", ["manual"], "models.gated"),
        ("createdAt", ["2024"], "models.created_at"),
    ],
)
def test_an_odd_hugging_face_field_is_nulled_and_counted(field, value, counted):
    quality = Quality()
    models = huggingface.normalise_models([HF_ITEM | {field: value}], quality)
    assert models.height == 1
    assert quality.odd_values[counted] + quality.unparsed[counted] == 1


def test_odd_hugging_face_siblings_never_raise():
    info = copy.deepcopy(HF_INFO)
    info["siblings"] = [*info["siblings"][:2], "README.md", {"size": 3}, {"rfilename": "x", "lfs": "sha"}]
    quality = Quality()
    files = huggingface.normalise_files([info, {"siblings": []}], date(2025, 1, 22), quality)
    assert files["rfilename"].to_list() == [s["rfilename"] for s in HF_INFO["siblings"][:2]] + ["x"]
    assert quality.odd_values == {
        "model_files.siblings": 1,
        "model_files.rfilename": 1,
        "model_files.lfs": 1,
        "model_files.item": 1,
    }

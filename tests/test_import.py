"""Imports of third-party crawls: real 2023 and 2025 pages become dated history; a table import
round-trips exactly; every bad input is refused by name with nothing written."""

import hashlib
from datetime import date

import duckdb
import orjson
import polars as pl
import pytest

from ingest.home import snapshot_path
from ingest.landing import complete_snapshots, read_manifest
from tests.conftest import REAL, hub_env, hubwatch

pytestmark = pytest.mark.slow


SELECTION_2023 = REAL / "civitai_v1_models_items_2023-07_selection.json"


def import_2023_selection(env, *extra: str):
    """The real 2023 model selection, imported as a snapshot of 2023-07-05."""
    return hubwatch("import", "civitai-models-json", str(SELECTION_2023), "--as-of", "2023-07-05", *extra, env=env)


def test_real_crawls_become_imported_history(fakehub, tmp_path):
    home = tmp_path / "home"
    env = hub_env(fakehub, home)
    first = import_2023_selection(env, "--source-url", "https://github.com/dfanr/CivitaiModelList")
    assert first.returncode == 0, first.stderr
    second = hubwatch(
        "import",
        "civitai-models-json",
        str(REAL / "civitai_v1_models_list_limit10_2025-08.json"),
        "--as-of",
        "2025-08-14",
        env=env,
    )
    assert second.returncode == 0, second.stderr
    manifest = read_manifest(home, "civitai_models", date(2023, 7, 5))
    assert manifest["kind"] == "imported" and manifest["source_url"] == "https://github.com/dfanr/CivitaiModelList"
    assert manifest["inputs"]["files"] == {SELECTION_2023.name: hashlib.sha256(SELECTION_2023.read_bytes()).hexdigest()}
    built = hubwatch("build", env=env, timeout=600)
    assert built.returncode == 0, built.stderr
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        declared = con.sql("select real_person_declared, month from marts.models where model_id = '45321'").fetchall()
        assert declared[0][0] is True
        month = declared[0][1]
        monthly = "select n_declared from marts.real_person_monthly where platform = 'civitai' and month = ?"
        assert con.execute(monthly, [month]).fetchall()[0][0] >= 1  # noqa: S608
        assert con.sql("select removal_kind from marts.models where model_id = '12671'").fetchall() == [("taken_down",)]
        kinds = con.sql("select snapshot_date, kind from marts.snapshot_coverage order by 1").fetchall()
        assert kinds == [(date(2023, 7, 5), "imported"), (date(2025, 8, 14), "imported")]
        # each import is its own scope: the ten 2025 models never make the 2023 five look removed
        assert con.sql("select count(*) from marts.models where removal_kind = 'absent'").fetchall() == [(0,)]


def image_table(n: int = 300) -> pl.DataFrame:
    """A Civ-40K-like table: the documented columns plus some the mapping does not name."""
    return pl.DataFrame(
        {
            "id": list(range(9_000_000, 9_000_000 + n)),
            "createdAt": [f"2024-0{1 + k % 9}-1{k % 10}T12:00:00.000Z" for k in range(n)],
            "browsingLevel": [(1, 2, 4, 8, 16)[k % 5] for k in range(n)],
            "nsfw": [k % 5 != 0 for k in range(n)],
            "positivePrompt": [f"masterpiece, prompt {k}, 1girl" for k in range(n)],
            "usernameHash": [hashlib.sha256(str(k).encode()).hexdigest()[:12] for k in range(n)],
        }
    )


MAPPING = {"image_id": "id", "created_at": "createdAt", "browsing_level": "browsingLevel"}


def key_checksum(frame: pl.DataFrame, columns: list[str]) -> str:
    rows = sorted(frame.select(columns).iter_rows())
    return hashlib.sha256(orjson.dumps(rows, default=str)).hexdigest()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_table_import_round_trips_exactly(fakehub, tmp_path, suffix):
    home = tmp_path / "home"
    table = image_table()
    source = tmp_path / f"civ.{suffix}"
    table.write_csv(source) if suffix == "csv" else table.write_parquet(source)
    mapping = tmp_path / "mapping.json"
    mapping.write_bytes(orjson.dumps(MAPPING))
    done = hubwatch(
        "import",
        "civitai-images-table",
        str(source),
        "--as-of",
        "2024-10-01",
        "--mapping",
        str(mapping),
        env=hub_env(fakehub, home),
    )
    assert done.returncode == 0, done.stderr
    images = pl.read_parquet(snapshot_path(home, "civitai_images", date(2024, 10, 1)) / "images.parquet")
    assert images.height == table.height
    ours = images.select("image_id", pl.col("created_at").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "browsing_level")
    assert key_checksum(ours, ["image_id", "created_at", "browsing_level"]) == key_checksum(
        table.rename({"id": "image_id", "createdAt": "created_at", "browsingLevel": "browsing_level"}),
        ["image_id", "created_at", "browsing_level"],
    )
    kept = orjson.loads(images.filter(pl.col("image_id") == 9_000_007)["raw_json"].item())
    assert kept["positivePrompt"] == "masterpiece, prompt 7, 1girl" and kept["usernameHash"]  # unknown columns kept


def test_reimporting_the_same_file_is_a_no_op(fakehub, tmp_path):
    home = tmp_path / "home"
    args = ("import", "hf-models-json", str(REAL / "hf_api_models_default_list_2024-11.json"), "--as-of", "2024-11-27")
    assert hubwatch(*args, env=hub_env(fakehub, home)).returncode == 0
    before = (snapshot_path(home, "hf_models", date(2024, 11, 27)) / "manifest.json").read_bytes()
    again = hubwatch(*args, env=hub_env(fakehub, home))
    assert again.returncode == 0 and "already imported" in again.stderr
    assert (snapshot_path(home, "hf_models", date(2024, 11, 27)) / "manifest.json").read_bytes() == before


@pytest.mark.parametrize("case", ["wrong kind", "not json", "missing column", "date conflict"])
def test_bad_imports_are_refused_by_name_and_write_nothing(fakehub, tmp_path, case):
    home = tmp_path / "home"
    env = hub_env(fakehub, home)
    existing = import_2023_selection(env)
    assert existing.returncode == 0
    earlier = (snapshot_path(home, "civitai_models", date(2023, 7, 5)) / "manifest.json").read_bytes()
    if case == "wrong kind":
        args, named = (
            ("civitai-models-json", str(REAL / "hf_api_models_default_list_2024-11.json"), "--as-of", "2024-11-27"),
            "hf_api_models_default_list_2024-11.json item 0",
        )
    elif case == "not json":
        bad = tmp_path / "page.json"
        bad.write_text("<html>maintenance</html>")
        args, named = ("civitai-models-json", str(bad), "--as-of", "2024-11-27"), "page.json is not JSON"
    elif case == "missing column":
        table = tmp_path / "t.csv"
        image_table(5).write_csv(table)
        mapping = tmp_path / "m.json"
        mapping.write_bytes(orjson.dumps({**MAPPING, "base_model": "baseModel"}))
        args, named = (
            ("civitai-images-table", str(table), "--as-of", "2024-11-27", "--mapping", str(mapping)),
            "base_model -> baseModel",
        )
    else:
        args, named = (
            ("civitai-models-json", str(REAL / "civitai_v1_models_list_limit10_2025-08.json"), "--as-of", "2023-07-05"),
            "already has a complete",
        )
    done = hubwatch("import", *args, env=env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error:") and named in lines[0], done.stderr
    assert complete_snapshots(home, "civitai_models") == [date(2023, 7, 5)]
    assert complete_snapshots(home, "civitai_images") == []
    assert (snapshot_path(home, "civitai_models", date(2023, 7, 5)) / "manifest.json").read_bytes() == earlier
    assert not [p for p in home.glob("staging/*/snapshot_date=*") if p.is_dir()]  # nothing half-written

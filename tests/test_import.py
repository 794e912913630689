"""Imports of third-party crawls: real 2023 and 2025 pages become dated history; a table import
round-trips exactly; every bad input is refused by name with nothing written. The commands run as
`hubwatch` runs them, in this process (conftest.hubwatch_here); the installed command's own process
is kept for one refusal and for the shared real_crawls imports."""

import hashlib
from datetime import date

import duckdb
import orjson
import polars as pl
import pytest

from ingest import civitai, pagestore
from ingest.home import snapshot_path
from ingest.landing import complete_snapshots, read_manifest
from tests.conftest import REAL, hub_env, hubwatch, hubwatch_here, load_real

pytestmark = pytest.mark.slow


SELECTION_2023 = REAL / "civitai_v1_models_items_2023-07_selection.json"
PAGE_2024 = "civitai_v1_models_list_checkpoint_highestrated_limit10_2024-05.json"


def import_2023_selection(env, *extra: str):
    """The real 2023 model selection, imported as a snapshot of 2023-07-05 (`hubwatch import`, in this process)."""
    return hubwatch_here("import", "civitai-models-json", str(SELECTION_2023), "--as-of", "2023-07-05", *extra, env=env)


def test_real_crawls_become_imported_history(real_crawls):
    """The two real crawls imported with `hubwatch import` (the shared conftest.real_crawls home,
    which test_model_measures also reads) and built."""
    home, made = real_crawls
    for done in made["imports"]:
        assert done["returncode"] == 0, done["stderr"]
    manifest = read_manifest(home, "civitai_models", date(2023, 7, 5))
    assert manifest["kind"] == "imported" and manifest["source_url"] == "https://github.com/dfanr/CivitaiModelList"
    assert manifest["inputs"]["files"] == {SELECTION_2023.name: hashlib.sha256(SELECTION_2023.read_bytes()).hexdigest()}
    assert made["build"]["success"], made["build"]
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
    done = hubwatch_here(
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
    assert hubwatch_here(*args, env=hub_env(fakehub, home)).returncode == 0
    before = (snapshot_path(home, "hf_models", date(2024, 11, 27)) / "manifest.json").read_bytes()
    again = hubwatch_here(*args, env=hub_env(fakehub, home))
    assert again.returncode == 0 and "already imported" in again.stderr
    assert (snapshot_path(home, "hf_models", date(2024, 11, 27)) / "manifest.json").read_bytes() == before


@pytest.mark.parametrize("case", ["wrong kind", "not json", "missing column", "date conflict", "no json in a tree"])
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
    elif case == "date conflict":
        args, named = (
            ("civitai-models-json", str(REAL / "civitai_v1_models_list_limit10_2025-08.json"), "--as-of", "2023-07-05"),
            "already has a complete",
        )
    else:  # pointed at a big unrelated tree (say /tmp): refused, not walked silently into an import
        tree = tmp_path / "tree"
        for n in range(300):
            (tree / f"d{n % 7}" / f"e{n % 3}").mkdir(parents=True, exist_ok=True)
            (tree / f"d{n % 7}" / f"e{n % 3}" / f"f{n}.txt").write_text("x")
        args, named = ("civitai-models-json", str(tree), "--as-of", "2024-11-27"), "holds no .json file (300 other"
    # one refusal through the installed command (its exit status and whole stderr as a process has
    # them; the imports above and below are the same click group, in this process)
    done = (hubwatch if case == "wrong kind" else hubwatch_here)("import", *args, env=env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error:") and named in lines[0], done.stderr
    assert complete_snapshots(home, "civitai_models") == [date(2023, 7, 5)]
    assert complete_snapshots(home, "civitai_images") == []
    assert (snapshot_path(home, "civitai_models", date(2023, 7, 5)) / "manifest.json").read_bytes() == earlier
    assert not [p for p in home.glob("staging/*/snapshot_date=*") if p.is_dir()]  # nothing half-written


# -- validation before anything is written (issue #15, item 8) ------------------------------------
def json_file(tmp_path, name: str, payload) -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(payload))
    return str(path)


def odd_model(**changes):
    item = load_real("civitai_v1_models_id_1102_2025-08.json")
    for path, value in changes.items():
        target = item
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return item


def bad_image_table(tmp_path, bad_row: dict) -> tuple[str, str]:
    table = image_table(5).to_dicts()
    table[3] = {**table[3], **bad_row}
    path = tmp_path / "civ.csv"
    pl.DataFrame(table, schema_overrides={"browsingLevel": pl.String}).write_csv(path)
    mapping = tmp_path / "mapping.json"
    mapping.write_bytes(orjson.dumps(MAPPING))
    return str(path), str(mapping)


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("image createdAt not-a-date", ["civ.csv row 4", "createdAt", "not a timestamp"]),
        ("image browsingLevel banana", ["civ.csv row 4", "browsingLevel"]),
        ("image browsingLevel -5", ["civ.csv row 4", "browsingLevel", "browsing levels"]),
        ("image from 2099 in a 2024 snapshot", ["civ.csv row 4", "2099", "after the snapshot's date 2024-10-01"]),
        ("image from 2021", ["civ.csv row 4", "before 2022-01-01"]),
        ("model creator a list", ["models.json item 1 (id 1102)", "creator"]),
        ("version files a string", ["models.json item 1 (id 1102)", "modelVersions[1].files"]),
        ("version published in 2099", ["models.json item 1 (id 1102)", "modelVersions[0].publishedAt"]),
        ("model nsfwLevel outside the bitmask", ["models.json item 1 (id 1102)", "nsfwLevel"]),
        ("hf createdAt yesterday", ["hf.json item 3 (id Lightricks/LTX-Video)", "createdAt", "not a timestamp"]),
    ],
)
def test_an_invalid_item_refuses_the_import_by_file_and_position(fakehub, tmp_path, case, named):
    home = tmp_path / "home"
    good = load_real("civitai_v1_models_list_item_2851602_2026-08_condensed.json")
    if case.startswith("image"):
        row = {
            "image createdAt not-a-date": {"createdAt": "not-a-date"},
            "image browsingLevel banana": {"browsingLevel": "banana"},
            "image browsingLevel -5": {"browsingLevel": "-5"},
            "image from 2099 in a 2024 snapshot": {"createdAt": "2099-01-01T00:00:00Z"},
            "image from 2021": {"createdAt": "2021-06-01T00:00:00Z"},
        }[case]
        table, mapping = bad_image_table(tmp_path, row)
        args = ("civitai-images-table", table, "--as-of", "2024-10-01", "--mapping", mapping)
    elif case.startswith("hf"):
        items = load_real("hf_api_models_default_list_2024-11.json")
        items[3]["createdAt"] = "yesterday"
        args = ("hf-models-json", json_file(tmp_path, "hf.json", items), "--as-of", "2024-11-27")
    else:
        odd = {
            "model creator a list": odd_model(creator=["someone"]),
            "version files a string": odd_model(modelVersions__1__files="model.safetensors"),
            "version published in 2099": odd_model(modelVersions__0__publishedAt="2099-01-01T00:00:00.000Z"),
            "model nsfwLevel outside the bitmask": odd_model(nsfwLevel=99),
        }[case]
        args = ("civitai-models-json", json_file(tmp_path, "models.json", [good, odd]), "--as-of", "2026-08-20")
    done = hubwatch_here("import", *args, env=hub_env(fakehub, home))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error:"), done.stderr  # never a traceback
    assert all(part in lines[0] for part in named), lines[0]
    assert not home.joinpath("raw").exists() and not list(home.glob("staging/*/*/pages"))  # nothing written


def test_skip_invalid_leaves_out_and_counts_what_is_invalid(fakehub, tmp_path):
    home = tmp_path / "home"
    table = image_table(300).to_dicts()
    table[10]["createdAt"] = "not-a-date"
    table[20]["browsingLevel"] = "banana"
    table[30]["createdAt"] = "2099-01-01T00:00:00Z"
    source = tmp_path / "civ.csv"
    pl.DataFrame(table, schema_overrides={"browsingLevel": pl.String}).write_csv(source)
    mapping = tmp_path / "mapping.json"
    mapping.write_bytes(orjson.dumps(MAPPING))
    args = ("import", "civitai-images-table", str(source), "--as-of", "2024-10-01", "--mapping", str(mapping))
    done = hubwatch_here(*args, "--skip-invalid", env=hub_env(fakehub, home))
    assert done.returncode == 0, done.stderr
    assert "3 invalid items left out" in done.stderr
    day = date(2024, 10, 1)
    images = pl.read_parquet(snapshot_path(home, "civitai_images", day) / "images.parquet")
    assert images.height == 297 and images["created_at"].null_count() == 0
    assert not {table[k]["id"] for k in (10, 20, 30)} & set(images["image_id"])
    invalid = read_manifest(home, "civitai_images", day)["invalid"]
    assert invalid["items"] == 3
    assert sorted(e.split(":")[0] for e in invalid["examples"]) == [
        "civ.csv row 11 (id 9000010)",
        "civ.csv row 21 (id 9000020)",
        "civ.csv row 31 (id 9000030)",
    ]


@pytest.mark.parametrize("as_of", ["0001-01-01", "2021-12-31", "2099-01-01"])
def test_as_of_must_be_a_real_past_date(fakehub, tmp_path, as_of):
    home = tmp_path / "home"
    done = hubwatch_here(
        "import", "civitai-models-json", str(SELECTION_2023), "--as-of", as_of, env=hub_env(fakehub, home)
    )
    assert done.returncode != 0 and done.stderr.startswith(f"hubwatch: error: --as-of {as_of}"), done.stderr
    assert not home.joinpath("raw").exists()


def test_an_import_never_discards_a_staged_crawl_without_force(fakehub, tmp_path):
    home = tmp_path / "home"
    env = hub_env(fakehub, home)
    paused = hubwatch_here(
        "snapshot", "--sources", "civitai_models", "--as-of", "2025-12-01", "--max-pages", "1", env=env
    )
    assert paused.returncode == 0 and "staged" in paused.stderr, paused.stderr
    staged = home / "staging" / "civitai_models" / "snapshot_date=2025-12-01"
    before = sorted(p.name for p in (staged / "pages").iterdir())
    args = ("import", "civitai-models-json", str(REAL / PAGE_2024), "--as-of", "2025-12-01")
    refused = hubwatch_here(*args, env=env)
    assert refused.returncode != 0 and "has a staged crawl (1 pages" in refused.stderr and "--force" in refused.stderr
    assert sorted(p.name for p in (staged / "pages").iterdir()) == before  # the paused crawl is intact
    forced = hubwatch_here(*args, "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert read_manifest(home, "civitai_models", date(2025, 12, 1))["kind"] == "imported"
    assert not (staged / "checkpoint.json").exists()


# -- streaming and provenance (issue #15, items 7 and 9) ---------------------------------------------
def test_a_folder_imports_in_batches_exactly_as_one_batch_with_the_last_sighting_winning(fakehub, tmp_path):
    """Many small batches (forced by a tiny batch size) give the tables one batch would."""
    crawl = tmp_path / "crawl"
    items = [*load_real(PAGE_2024)["items"], *load_real("civitai_v1_models_list_limit10_2025-08.json")["items"]]
    for number, item in enumerate(items):  # one model per file, as dfanr/CivitaiModelList
        folder = crawl / ("a" if number % 2 else "b") / "json"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:03d}.json").write_bytes(orjson.dumps(item))
    (crawl / ".git").mkdir()
    (crawl / ".git" / "ignored.json").write_text("not even json")
    renamed = {**items[0], "name": "seen last"}
    (crawl / "z-last.json").write_bytes(orjson.dumps(renamed))
    home = tmp_path / "home"
    env = hub_env(fakehub, home, HUBWATCH_IMPORT_BATCH_BYTES="50000")
    done = hubwatch_here("import", "civitai-models-json", str(crawl), "--as-of", "2025-08-14", env=env)
    assert done.returncode == 0, done.stderr
    partition = snapshot_path(home, "civitai_models", date(2025, 8, 14))
    ordered = [orjson.loads(p.read_bytes()) for p in sorted(crawl.rglob("[!.]*.json")) if ".git" not in p.parts]
    expected = civitai.normalise_models(ordered)
    for table, keys in (("models", ["model_id"]), ("model_versions", ["version_id"]), ("model_files", ["file_id"])):
        got = pl.read_parquet(partition / f"{table}.parquet").sort(keys)
        assert got.equals(expected[table].sort(keys)), table
    manifest = read_manifest(home, "civitai_models", date(2025, 8, 14))
    assert manifest["pages"] == len(items) + 1 and manifest["inputs"]["n_files"] == len(items) + 1
    assert pl.read_parquet(partition / "models.parquet").filter(pl.col("model_id") == items[0]["id"])[
        "name"
    ].item() == ("seen last")
    assert len(list((home / "staging").rglob("*.parquet"))) == 0  # the parts are gone


def test_no_local_path_reaches_the_manifest_and_params_stay_small(fakehub, tmp_path):
    home = tmp_path / "home"
    crawl = tmp_path / "o'brien's crawl"
    crawl.mkdir()
    (crawl / "selection.json").write_bytes(SELECTION_2023.read_bytes())
    done = hubwatch_here(
        "import", "civitai-models-json", str(crawl), "--as-of", "2023-07-05", env=hub_env(fakehub, home)
    )
    assert done.returncode == 0, done.stderr
    partition = snapshot_path(home, "civitai_models", date(2023, 7, 5))
    manifest = read_manifest(home, "civitai_models", date(2023, 7, 5))
    assert str(tmp_path) not in (partition / "manifest.json").read_text()
    assert str(tmp_path) not in orjson.dumps(pagestore.page_entries(partition)).decode()
    assert set(manifest["params"]) == {"import_kind", "scope", "inputs_sha256", "source_url"}
    assert len(orjson.dumps(manifest["params"])) < 400
    assert manifest["inputs"]["files"] == {"selection.json": hashlib.sha256(SELECTION_2023.read_bytes()).hexdigest()}

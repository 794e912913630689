"""What images are made with (#21 item 1): fakehub's image items name their models in every real
shape (version ids, civitaiResources, A1111 hashes, an unresolvable AutoV1, nothing at all); the
snapshot keeps every reference, and the marts equal the world's truth exactly."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest import civitai, prompt_terms
from ingest.fakehub import truth
from ingest.quality import Quality
from tests.conftest import MEASURES_DAYS, MEASURES_PERIOD, copy_home, load_real, publish_in_process

DAYS = MEASURES_DAYS
PERIOD = MEASURES_PERIOD
SEEDS = Path(__file__).parent.parent / "dbt" / "seeds"


def families() -> dict[str, str]:
    with (SEEDS / "rules_base_model_families.csv").open() as f:
        return {row["base_model"]: row["family"] for row in csv.DictReader(f)}


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


# -- the normaliser: every real shape ------------------------------------------------------------


def refs(item: dict) -> list[dict]:
    quality = Quality()
    table = civitai.normalise_images([item], quality)["image_resources"]
    return table.drop("image_id").to_dicts()


def test_the_real_2025_item_names_nothing_and_yields_no_reference():
    """modelVersionIds [] and a meta without resources (the real image 98780806): no row."""
    item = load_real("civitai_v1_images_item_98780806_2025-09.json")
    assert refs(item) == []


def test_real_a1111_meta_keeps_the_model_hash_and_skips_empty_hashes():
    """The real 2023 showcase meta: `Model hash` 04baab99 (an AutoV1) with its model's name; the
    real 2025 `hashes: {model: ""}` and `Model hash: ""` name nothing."""
    models = load_real("civitai_v1_models_items_2023-07_selection.json")
    meta = models[0]["modelVersions"][0]["images"][0]["meta"]
    got = refs({"id": 1, "meta": meta})
    assert [(r["source"], r["hash"], r["hash_kind"], r["resource_name"]) for r in got] == [
        ("meta.Model hash", "04baab99", "autov1", "3DKX_1.0b")
    ]
    version = load_real("civitai_v1_model-versions_id_1387174_2025-03.json")
    assert refs({"id": 2, "meta": version["images"][0]["meta"]}) == []


def test_every_reference_is_a_row_in_order_even_one_that_names_nothing():
    item = {
        "id": 5,
        "modelVersionIds": [11, "12"],
        "meta": {
            "civitaiResources": [{"type": "lora", "modelVersionId": "13", "weight": "0.8"}, "odd"],
            "resources": [{"name": "x", "type": "model", "hash": "ABCDEF0123"}, {"name": "neg", "type": "embed"}],
            "hashes": {"model": "abcdef0123", "lora:y": "", "vae": None},
            "Model hash": "abcdef0123",
            "Model": "x",
        },
    }
    quality = Quality()
    got = civitai.normalise_images([item], quality)["image_resources"].to_dicts()
    assert [(r["position"], r["source"], r["model_version_id"], r["hash"], r["hash_kind"]) for r in got] == [
        (0, "modelVersionIds", 11, None, None),
        (1, "meta.civitaiResources", 13, None, None),
        (2, "meta.civitaiResources", None, None, None),  # not an object: kept, names nothing
        (3, "meta.resources", None, "abcdef0123", "autov2"),
        (4, "meta.resources", None, None, None),
        (5, "meta.hashes", None, "abcdef0123", "autov2"),
        (6, "meta.Model hash", None, "abcdef0123", "autov2"),
    ]
    assert got[1]["weight"] == 0.8 and got[1]["resource_type"] == "lora"
    assert quality.odd_values["images.modelVersionIds"] == 1  # the "12" in modelVersionIds is counted


def test_legacy_wrapped_meta_is_unwrapped():
    item = {"id": 7, "meta": {"id": 7, "meta": {"civitaiResources": [{"modelVersionId": 3}]}}}
    assert [r["model_version_id"] for r in refs(item)] == [3]


# -- end to end: fakehub -> snapshots -> build -> marts == truth ---------------------------------


@pytest.fixture(scope="module")
def built(measures_home):
    """The small world snapshotted on DAYS (the API's AllTime image window) and built, once per
    session: conftest.measures_home, which test_model_measures reads too. Every source is in it, so
    Hugging Face's files count in the hash tier that makes a model real-person (the truth's hf_days)."""
    return measures_home


@pytest.fixture(scope="module")
def expected(small_world):
    return truth.images_made_with(small_world, DAYS, DAYS, DAYS, PERIOD, families())


@pytest.mark.slow
def test_images_made_with_monthly_equals_truth(built, expected):
    cols = ", ".join(truth.IMAGE_MADE_WITH_COUNTS)
    rows = query(built, f"select month, {cols} from marts.images_made_with_monthly")  # noqa: S608 (fixed names)
    got = {r[0]: dict(zip(truth.IMAGE_MADE_WITH_COUNTS, r[1:], strict=True)) for r in rows}
    assert got == expected["monthly"]
    totals = {k: sum(c[k] for c in got.values()) for k in truth.IMAGE_MADE_WITH_COUNTS}
    # every shape and every reason is exercised, and the real-person tiers and NSFW models show
    for key in ("n_real_person", "n_real_person_declared", "n_nsfw_model", "n_refs_unknown_version"):
        assert totals[key] > 0, key
    for key in ("n_refs_unindexed_hash", "n_refs_no_identifier", "n_refs_resolved"):
        assert totals[key] > 0, key
    assert totals["n_with_resources"] < totals["n_images"]  # some images say nothing: coverage < 1


@pytest.mark.slow
def test_images_by_base_model_family_monthly_equals_truth(built, expected):
    rows = query(
        built, "select month, base_model_family, n_images, n_nsfw_images from marts.images_by_base_model_family_monthly"
    )
    assert {(r[0], r[1]): (r[2], r[3]) for r in rows} == expected["by_family"]
    assert len({r[1] for r in rows}) > 1


@pytest.mark.slow
def test_top_models_by_images_monthly_equals_truth(built, expected):
    rows = query(
        built,
        "select month, model_id, n_images, n_nsfw_images from marts.top_models_by_images_monthly "
        "order by month, model_rank",
    )
    got: dict[date, list] = {}
    for month, model_id, n, nsfw in rows:
        got.setdefault(month, []).append((model_id, n, nsfw))
    assert got == expected["top"]


@pytest.mark.slow
def test_unresolved_references_are_kept_in_image_resources(built):
    rows = dict(query(built, "select resolution, count(*) from marts.image_resources group by 1"))
    assert rows.get("unindexed_hash") and rows.get("no_identifier") and rows.get("resolved")
    # no free text of a resource (a name) is in the public table
    columns = {
        r[0]
        for r in query(
            built,
            "select column_name from duckdb_columns() where table_name = 'image_resources' and schema_name = 'marts'",
        )
    }
    assert "resource_name" not in columns


# -- prompt vocabulary (#21 item 2) ----------------------------------------------------------------


def seed_rows() -> list[dict[str, str]]:
    with (SEEDS / "rules_prompt_terms.csv").open() as f:
        return list(csv.DictReader(f))


def test_the_prompt_terms_seed_is_what_its_generator_writes_and_every_pattern_compiles():
    assert (SEEDS / "rules_prompt_terms.csv").read_text() == prompt_terms.seed_text()
    assert prompt_terms.FAMILY_MACRO.read_text() == prompt_terms.family_macro_text()
    rows = seed_rows()
    assert {r["family"] for r in rows} >= {"booru_vocabulary", "quality_tags", "civitai_nsfw", "civitai_minor_nouns"}
    with duckdb.connect() as con:
        for row in rows:  # RE2 (DuckDB) and Python take every pattern
            con.execute("select regexp_matches('x', ?)", [row["pattern"]]).fetchall()
            re.compile(row["pattern"])
    notes = [r for r in rows if r["note"]]
    assert notes and all("lookahead" in r["note"] for r in notes)  # the one change is stated on its row


@pytest.mark.parametrize(
    ("prompt", "families"),
    [
        # Civitai's partial nouns match inside words by design (\\w*girl+\\w*): alone they code nothing
        ("1girl, solo, masterpiece, best_quality", {"booru_vocabulary", "quality_tags", "civitai_minor_partial_nouns"}),
        ("Score_9, score_8_up, a landscape", {"quality_tags"}),
        ("score 99, xsolox, masterpieces", set()),  # whole terms only
        ("a young girl, nsfw", {"civitai_minor_adjectives", "civitai_minor_partial_nouns", "civitai_nsfw"}),
        ("teenager at the beach", {"civitai_minor_nouns"}),
    ],
)
def test_families_are_whole_terms_of_the_normalised_prompt(prompt, families):
    normalised = prompt_terms.normalise_prompt(prompt)
    assert prompt_terms.families_of(normalised, seed_rows()) == families
    # the per-family alternation dbt matches finds the same, in RE2 as in Python
    combined = prompt_terms.family_rows(seed_rows())
    assert prompt_terms.families_of(normalised, combined) == families
    with duckdb.connect() as con:
        found = {
            r["family"]
            for r in combined
            if con.execute("select regexp_matches(?, ?)", [normalised, r["pattern"]]).fetchone()[0]
        }
    assert found == families


def test_the_normaliser_keeps_prompts_normalised_and_counts_an_odd_one():
    item = load_real("civitai_v1_images_item_98780806_2025-09.json")
    quality = Quality()
    row = civitai.normalise_images([item, {"id": 2, "meta": {"prompt": 5}}], quality)["image_prompts"].to_dicts()
    assert [r["image_id"] for r in row] == [98780806]
    assert row[0]["prompt"].startswith("closeup body, a hyper-stylistic")
    assert row[0]["negative_prompt"].startswith("neck,(worst quality:1.2)")
    assert quality.odd_values["images.meta.prompt"] == 1


@pytest.fixture(scope="module")
def prompt_truth(small_world):
    return truth.prompt_families(small_world, DAYS, PERIOD, seed_rows())


@pytest.mark.slow
def test_prompt_families_monthly_equals_truth(built, prompt_truth):
    rows = query(
        built,
        "select month, family, n_images, n_nsfw_images, n_with_prompt, n_nsfw_with_prompt "
        "from marts.prompt_families_monthly",
    )
    assert {(r[0], r[1]): (r[2], r[3]) for r in rows} == prompt_truth["families"]
    assert {r[0]: (r[4], r[5]) for r in rows} == {
        m: t for m, t in prompt_truth["totals"].items() if any(k[0] == m for k in prompt_truth["families"])
    }
    assert {r[1] for r in rows} >= {"booru_vocabulary", "quality_tags", "civitai_nsfw", "civitai_minor_nouns"}


@pytest.mark.slow
def test_minor_terms_nsfw_monthly_equals_truth(built, prompt_truth):
    rows = query(
        built,
        "select month, n_images, n_with_prompt, n_nsfw_with_prompt, n_minor_coded, n_minor_coded_nsfw, "
        "n_minor_coded_explicit from marts.minor_terms_nsfw_monthly",
    )
    got = {r[0]: tuple(r[1:]) for r in rows}
    assert got == prompt_truth["minor"]
    assert sum(v[4] for v in got.values()) > 0 and sum(v[3] for v in got.values()) > sum(v[4] for v in got.values())


@pytest.mark.slow
def test_no_prompt_text_reaches_a_package(built, small_world, tmp_path):
    """Every simulated prompt holds a marker (zqprompt<image id>): it is in the internal warehouse,
    and in no file of the package, no table of its DuckDB file and no value of its Parquet files."""
    marker = "zqprompt"
    internal = query(built, f"select count(*) from staging.stg_civitai__image_prompts where prompt like '%{marker}%'")  # noqa: S608
    assert internal[0][0] > 0  # the test can fail: the text is there to leak
    home = copy_home(built, tmp_path / "home")  # publish writes into the home
    result = publish_in_process(home)  # `hubwatch publish`'s job, in this process (test_publish runs the command)
    assert result.success, result.error
    package = next(p for p in (home / "publish").iterdir() if p.is_dir() and p.name[:4].isdigit())
    for path in package.rglob("*"):
        if path.is_file() and path.suffix not in (".parquet", ".duckdb"):
            assert marker.encode() not in path.read_bytes(), path
    for path in (package / "data").glob("*.parquet"):
        frame = pl.read_parquet(path)
        for column in frame.columns:
            text = frame[column].cast(pl.String, strict=False) if frame[column].dtype != pl.List else None
            if text is not None:
                assert not text.str.contains(marker).any(), (path.name, column)
    with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
        for (table,) in con.sql("select table_name from duckdb_tables()").fetchall():
            rows = con.sql(f"select * from {table}").fetchall()  # noqa: S608 (names from the catalog)
            assert marker not in repr(rows), table


# -- the dashboard page ----------------------------------------------------------------------------


def made_with_tables() -> dict[str, pl.DataFrame]:
    months = [date(2025, m, 1) for m in range(9, 13)]
    zeros = dict.fromkeys(truth.IMAGE_MADE_WITH_COUNTS[3:], 0)
    monthly = pl.DataFrame(
        [
            {
                "platform": "civitai",
                "month": m,
                **zeros,
                "n_images": 100,
                "n_with_resources": 60,
                "n_resolved": 50,
                "n_real_person": 5,
                "n_nsfw_model": 20,
                "share_with_resources": 0.6,
                "share_resolved": 0.5,
                "share_real_person": 0.1,
                "share_nsfw_model": 0.4,
            }
            for m in months
        ]
    )
    families = pl.DataFrame(
        [
            {
                "platform": "civitai",
                "month": m,
                "base_model_family": f,
                "n_images": 25,
                "n_nsfw_images": 5,
                "share": 0.5,
            }
            for m in months
            for f in ("SDXL", "Pony")
        ]
    )
    top = pl.DataFrame(
        [
            {
                "platform": "civitai",
                "month": m,
                "model_rank": r,
                "model_id": str(r),
                "n_images": 10 - r,
                "n_nsfw_images": 1,
                "model_type": "LORA",
                "base_model_family": "SDXL",
                "real_person": r == 2,
                "nsfw_strict": False,
            }
            for m in months
            for r in (1, 2, 3)
        ]
    )
    prompts = pl.DataFrame(
        [
            {
                "platform": "civitai",
                "month": m,
                "family": family,
                "n_images": 40,
                "n_nsfw_images": 10,
                "n_with_prompt": 80,
                "n_nsfw_with_prompt": 20,
                "share": 0.5,
                "share_of_nsfw": 0.5,
            }
            for m in months
            for family in ("quality_tags", "civitai_nsfw")
        ]
    )
    minor = pl.DataFrame(
        [
            {
                "platform": "civitai",
                "month": m,
                "n_images": 100,
                "n_with_prompt": 80,
                "n_nsfw_with_prompt": 20,
                "n_minor_coded": 5,
                "n_minor_coded_nsfw": 2,
                "n_minor_coded_explicit": 1,
                "share_with_prompt": 0.8,
                "share_nsfw_of_minor_coded": 0.4,
            }
            for m in months
        ]
    )
    return {
        "images_made_with_monthly": monthly,
        "images_by_base_model_family_monthly": families,
        TOP: top,
        "prompt_families_monthly": prompts,
        "minor_terms_nsfw_monthly": minor,
    }


TOP = "top_models_by_images_monthly"


def test_the_page_shows_coverage_kinds_families_and_escapes_model_names(tmp_path):
    from dashboards.site import render_site
    from tests.dashboard_package import XSS, write_package

    package = write_package(tmp_path, made_with_tables())
    render_site(package)
    page = (package / "dashboards" / "images-made-with.html").read_text()
    charts = ("image-resources-coverage", "images-made-with-kinds", "images-by-base-model-family")
    for chart in (*charts, "prompt-families", "minor-coded-nsfw"):
        assert f'id="{chart}"' in page, chart
    assert "SIMULATED" in page.upper()
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # model 1's name, escaped
    assert "Models the most images of November 2025 were made with" in page  # the last complete month
    rows = list(csv.DictReader((package / "dashboards" / "data" / "images-made-with-kinds.csv").open()))
    assert {r["denominator"] for r in rows} == {"50"}  # kinds are shares of the resolved images


def test_a_package_without_the_tables_says_so(rendered_package):
    # tests/dashboard_package.py's tables only, rendered once per session (conftest)
    page = (rendered_package / "dashboards" / "images-made-with.html").read_text()
    assert "does not measure what images are made with" in page

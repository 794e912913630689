"""The warehouse on real items and the rule seeds: real samples and real 2023 items imported and
built as a user would, and the seeds' names and file types checked against the world (a module of
its own beside test_warehouse.py, whose one built warehouse the other tests share, so that
`pytest -n 2 --dist loadscope` runs the two on two workers)."""

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import orjson
import pytest

from dagster_project.runs import build_warehouse
from dagster_project.warehouse import BuildError, verify_raw
from ingest import civitai
from ingest.fakehub.world import FEMALE_NAMES, MALE_NAMES, NAME_WORDS
from ingest.home import snapshot_path
from ingest.landing import StagedSnapshot
from tests.conftest import build, load_real
from tests.test_warehouse import SEEDS, query

pytestmark = pytest.mark.slow


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
    target = snapshot_path(home, "civitai_models", date(2025, 1, 1)) / "models.listing.parquet"
    original = target.read_bytes()
    target.write_bytes(original[:-20] + b"x" * 20)
    with pytest.raises(BuildError, match="models.listing.parquet does not match"):
        verify_raw(home, full=True)
    with pytest.raises(BuildError, match="models.listing.parquet does not match"):
        verify_raw(home)  # a file whose mtime moved is hashed again, ledger or not
    target.write_bytes(original)
    stray = home / "raw" / "civitai_images" / "snapshot_date=2025-02-01"
    stray.mkdir(parents=True)
    (stray / "images.parquet").write_bytes(b"PAR1")
    with pytest.raises(BuildError, match="snapshot_date=2025-02-01 has no manifest.json"):
        verify_raw(home)


def stage(home: Path, source: str, day: date, items: list[dict], kind: str = "simulated") -> None:
    """A snapshot made of given items, through the same store and normaliser as a crawl."""

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


def test_real_samples_classify_as_their_fields_say(tmp_path):
    home = tmp_path / "home"
    stage(home, "civitai_models", date(2023, 7, 5), load_real("civitai_v1_models_items_2023-07_selection.json"))
    stage(
        home,
        "civitai_models",
        date(2025, 8, 14),
        load_real("civitai_v1_models_list_limit10_2025-08.json")["items"],
    )
    # the job `hubwatch build` runs, in this process, over what the test reads: `models` and
    # everything upstream of it (raw/ verified, staging, the rule seeds, each tier), without their
    # checks (the test reads the tiers' rows; test_real_shapes_build builds the same real items with
    # every check)
    built = build_warehouse(home, upstream_of="models", checks=False)
    assert built.success, (built.error, built.failed_checks)
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
def real_2023(tmp_path_factory):
    """The real 2023 items behind issue #15, imported as one snapshot and built (in this process,
    the job `hubwatch build` runs). Returns the home and the build's outcome."""
    home = tmp_path_factory.mktemp("real2023") / "home"
    stage(home, "civitai_models", date(2023, 7, 5), load_real(REAL_2023_V2), kind="imported")
    return home, build(home, must_pass=False)


def test_real_2023_items_build_without_failure_and_undated_models_are_counted(real_2023):
    """Seven real 2023 models have `modelVersions: []` and so no creation date: the build must
    pass (a warning, not an error), keep them in models/model_snapshots with a null month, count
    them per snapshot and in monthly_coverage, and leave them out of the monthly tables."""
    home, done = real_2023
    assert done.success, (done.error, done.failed_checks)
    assert done.checks["passed"] > 0 and done.checks["failed"] == 0 and done.checks["warned"] > 0, done.checks
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
    assert done.success, (done.error, done.failed_checks)
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
    assert query(home, "select rules_version from marts.build_info") == [("v3",)]

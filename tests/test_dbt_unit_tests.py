"""dbt's unit tests (the models' logic on fixed rows, declared in dbt/models/**/*.yml), run once here.

No build runs them (dbt's advice: unit tests belong in development and CI, not in every production
build; dagster_project/warehouse.py build_args), so this module is where a broken model logic
shows. A unit test reads its inputs' column types from the warehouse, so the models it needs (each
unit-tested model and everything upstream of it) are first built empty (`dbt build --empty`: every
relation, zero rows) in a home of one tiny fakehub day (zero rows: only the raw files' columns
matter); the unit tests run in that same dbt build, each before the model it tests, and the data
tests are left out (they run at every real build). dbt starts from the parse `make manifest` made
(the same project and vars), as a build does.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from dbt.cli.main import dbtRunner

from dagster_project.dbt_child import run_settings
from dagster_project.warehouse import DBT_DIR, PARTIAL_PARSE, build_args
from ingest.fakehub import FakeHub, build_world
from tests.test_crash_harness import SOURCES, take_in_process

pytestmark = pytest.mark.slow


def unit_tests_declared() -> dict[str, str]:
    """Every unit test of the project and the model it tests, from the manifest `make manifest` writes."""
    manifest = orjson.loads((DBT_DIR / "target" / "manifest.json").read_bytes())
    tests = manifest.get("unit_tests", {}).items()
    return {key: node["model"] for key, node in tests if node["resource_type"] == "unit_test"}


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("unit") / "home"
    with FakeHub(build_world(seed=5, n_models=12, n_images=30, n_repos=6)) as hub:
        for source in SOURCES:
            take_in_process(home, source, hub)
    return home


def test_a_daily_build_leaves_the_unit_tests_out(home):
    args = build_args(home)
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"


def test_every_dbt_unit_test_passes(home, monkeypatch):
    target = home / "dbt" / "target" / "unit-tests"
    args = build_args(home, target=target)
    dbt_vars = args[args.index("--vars") + 1]
    # dbt as hubwatch-dbt starts it: inside the home, with what the build left for it to read at run time
    settings = run_settings(str(target))
    monkeypatch.chdir(settings["home"])
    for name, value in settings["env"].items():
        monkeypatch.setenv(name, value)
    (target / PARTIAL_PARSE).write_bytes((DBT_DIR / "target" / PARTIAL_PARSE).read_bytes())
    declared = unit_tests_declared()
    result = dbtRunner().invoke(
        [
            "build",
            "--select",
            *sorted({f"+{model}" for model in declared.values()}),
            "--empty",
            "--exclude-resource-type",
            "test",
            "--vars",
            dbt_vars,
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target),
            "--quiet",
        ]
    )
    results = orjson.loads((target / "run_results.json").read_bytes())["results"]
    unit = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert unit.keys() == declared.keys() and declared, "a unit test did not run"
    failed = {key: status for key, status in unit.items() if status != "pass"}
    messages = [r.get("message") for r in results if r["unique_id"] in failed]
    assert not failed, f"{failed}: {messages}"
    assert result.success, result.exception

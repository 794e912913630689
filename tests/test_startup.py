"""What a daily `hubwatch build` pays before dbt starts: the code location loaded once, for the
build's own home, and no import the build does not use."""

import subprocess
import sys

from dagster_project import runs


def test_a_build_loads_the_code_location_once_for_its_own_home(tmp_path, monkeypatch):
    import dagster_project.definitions

    loaded, asked = [], {}
    real = dagster_project.definitions.defs

    def counting_defs():
        loaded.append(runs.partitions_home)  # the home the partitions are made from, at load time
        return real()

    def fake_run_job(home, job_name, **kwargs):
        asked.update(kwargs, job_name=job_name)
        return "outcome"

    monkeypatch.setattr(dagster_project.definitions, "defs", counting_defs)
    monkeypatch.setattr(runs, "run_job", fake_run_job)
    home = tmp_path / "home"
    assert runs.build_warehouse(home) == "outcome"
    assert loaded == [home]
    assert asked["job_name"] == "rebuild_from_raw_job"
    assert asked["definitions"] is not None and asked["asset_selection"]
    assert all(key.path[0] not in ("raw", "publish", "dashboards") for key in asked["asset_selection"])


def test_loading_the_definitions_imports_no_dashboards():
    code = (
        "import sys; from dagster_project.definitions import defs; defs(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('plotly', 'dashboards')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.strip() == "[]"


def test_a_publish_runs_the_code_locations_publish_job_without_loading_dbt(tmp_path):
    """`hubwatch publish`/`dashboards` run publish_job from publish_location.publish_location(): the same job
    (same assets, same selection) as in the whole code location, without importing dagster-dbt
    or dbt-core (about a third of a publish's CPU)."""
    code = (
        "import sys; from dagster_project.publish_location import publish_location; "
        "job = publish_location().resolve_job_def('publish_job'); "
        "print(sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dbt', 'dagster_dbt')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=600, check=True
    )
    keys, imported = done.stdout.strip().splitlines()
    assert imported == "[]"
    whole = runs.code_location(tmp_path).resolve_job_def("publish_job")
    assert keys == str(sorted(k.to_user_string() for k in whole.asset_layer.executable_asset_keys))
    assert keys == "['dashboards/site', 'publish/package']"

"""The dbt project, its manifest `make manifest`'s (tests, CI, `make dev` make it first).

Under `dg dev` the code location runs `make manifest` again (prepare_if_dev), so that the UI's
"Reload definitions" picks up an edited model: make parses only when a dbt file changed since, and
then as a build parses (its vars), so the checkout's parse keeps serving every home's first build.
dagster-dbt's own DbtProject.prepare_if_dev is not used: it runs `dbt --version` and a `dbt parse`
without a build's vars at every start (~8 CPU-s), replacing the checkout's parse with one no build
can start from (a home's first build then parses the whole project)."""

import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.warehouse import DBT_DIR


def prepare_if_dev(project: DbtProject, checkout: Path) -> None:
    """Under `dg dev`, bring the checkout's parse up to date the one way it is made (`make manifest`)."""
    if project.preparer.using_dagster_dev():
        subprocess.run(["make", "--silent", "--no-print-directory", "-C", str(checkout), "manifest"], check=True)  # noqa: S603


dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
prepare_if_dev(dbt_project, DBT_DIR.parent)

"""The dbt project, prepared (manifest parsed) when running under `dg dev`; `make` prepares it
for tests and CI."""

from dagster_dbt import DbtProject

from dagster_project.warehouse import DBT_DIR

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
dbt_project.prepare_if_dev()

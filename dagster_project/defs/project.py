"""The dbt project, its manifest `make manifest`'s (tests, CI, `make dev` make it first); under
`dg dev` the checkout's parse is brought up to date on each load (warehouse.remake_parse_under_dev)."""

from dagster_dbt import DbtProject

from dagster_project.warehouse import DBT_DIR, remake_parse_under_dev

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
remake_parse_under_dev(dbt_project, DBT_DIR.parent)

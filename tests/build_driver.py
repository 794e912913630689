"""One build in a process of its own, for the crash harness (it SIGKILLs itself at the step
HUBWATCH_CRASH_AT names) and for test_orchestration's second process: python -m tests.build_driver HOME.

It runs the job `hubwatch build` runs (build_warehouse: rebuild_from_raw_job's dbt assets, same
verification, build record and dbt child) over every incremental model and what they read, the
tables whose state a finished dbt run leaves for the next build to meet: every other table is
rebuilt whole by the next build whatever this one did. Killed at `dbt-finished`, it leaves what a
whole build leaves there (its dbt run complete, its record written, Dagster's run unfinished, its
dbt target unpruned), at about a third of the nodes. It exits 0 when the run succeeded, 1 when not."""

import sys
from pathlib import Path

INCREMENTAL = "incremental"


def incremental_and_upstream(definitions) -> list:
    """The warehouse's asset keys of every incremental dbt model and everything upstream of it."""
    import dagster as dg

    graph = definitions.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    incremental = [k for k in keys if _materialization(graph.get(k).metadata) == INCREMENTAL]
    if not incremental:
        raise SystemExit("no incremental model in the code location: nothing for this driver to build")
    wanted = dg.AssetSelection.assets(*incremental).upstream().resolve(graph)
    return [k for k in keys if k in wanted and k.path[0] not in ("raw", "publish", "dashboards")]


def _materialization(metadata) -> str | None:
    value = metadata.get("dagster-dbt/materialization_type")
    return getattr(value, "value", value)


def main() -> None:
    from dagster_project.runs import code_location, run_job

    home = Path(sys.argv[1])
    definitions = code_location(home)
    config = {"ops": {"warehouse": {"config": {"full_refresh": False, "engine": "duckdb"}}}}
    keys = incremental_and_upstream(definitions)
    outcome = run_job(home, "rebuild_from_raw_job", run_config=config, asset_selection=keys, definitions=definitions)
    print("succeeded" if outcome.success else f"failed: {outcome.error}")
    if not outcome.success:
        raise SystemExit(1)  # a caller that waits for it (test_orchestration) sees it failed


if __name__ == "__main__":
    main()

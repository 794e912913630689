"""The cost of one build, both processes (Dagster's and dbt's): python -m benchmarks.build_cost DIR [--profile FILE]

Takes two simulated daily snapshots of the tests' small fakehub world (300 models, 2,500 images,
120 repos) into DIR/snapshots once, then copies them into a fresh home and builds it in this
process, as `hubwatch build` does (dagster_project.runs.build_warehouse: Dagster's job, the dbt
child). Prints the build's wall time and the CPU seconds (user + sys) of this process and of its
children (dbt) apart, the events Dagster stored and the load average, so that a change to a build's
cost can be compared on a shared machine (CPU seconds move far less with the load than wall time).
--profile FILE: cProfile of this process during the build (dbt's child is not in it).
A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

DAYS = [date(2025, 3, 1) + timedelta(days=k) for k in range(2)]


def snapshots(folder: Path) -> Path:
    """The two days' raw/ (made once, kept for the next run)."""
    done = folder / "snapshots.done"
    if done.is_file():
        return folder
    from ingest.fakehub import FakeHub, build_world
    from ingest.snapshots import Endpoints, snapshot_each_day

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with FakeHub(build_world(seed=11, n_models=300, n_images=2500, n_repos=120)) as hub:
        endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
        snapshot_each_day(endpoints, folder, DAYS, images_period="Month")
    done.write_text("ok\n")
    return folder


def cpu() -> tuple[float, float]:
    """CPU seconds (user + sys) of this process and of its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def stored_events(home: Path, run_id: str) -> int:
    from dagster_project.runs import use_instance

    return len(use_instance(home).all_logs(run_id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    source = snapshots(args.folder.resolve() / "snapshots")
    home = args.folder.resolve() / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    shutil.copytree(source / "raw", home / "raw", symlinks=True)
    for extra in source.iterdir():  # the creator salt and anything else a snapshot left beside raw/
        if extra.is_file() and extra.name != "snapshots.done":
            shutil.copy2(extra, home / extra.name)

    started, (own0, children0) = time.perf_counter(), cpu()
    from dagster_project.runs import build_warehouse

    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        outcome = profiler.runcall(build_warehouse, home)
        profiler.dump_stats(args.profile)
    else:
        outcome = build_warehouse(home)
    wall, (own1, children1) = time.perf_counter() - started, cpu()
    if not outcome.success:
        raise SystemExit(f"the build failed: {outcome.error}")
    print(
        f"build (imports included) {wall:.1f} s wall; CPU {own1 - own0:.1f} s this process + "
        f"{children1 - children0:.1f} s dbt = {own1 - own0 + children1 - children0:.1f} s; "
        f"{len(outcome.materialized)} materialisations, {sum(outcome.checks.values())} checks, "
        f"{stored_events(home, outcome.run_id)} events stored; load {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()

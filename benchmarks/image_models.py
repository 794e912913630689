"""What a day added costs the image models, old code against new, on the medium tier's generator.

    PYTHONPATH=<checkout> python -m benchmarks.image_models prepare DIR 29   # 29 days, one build
    PYTHONPATH=<checkout> python -m benchmarks.image_models day DIR 29       # the 30th day, one build
    PYTHONPATH=<checkout> python -m benchmarks.image_models build DIR        # one build, nothing new

PYTHONPATH picks the checkout whose code builds (e.g. an old commit from `git archive`, with its
own `dbt parse`), so the same generated day can be added to copies of one home by each. It prints
the dbt node seconds of the image models and their tests (from the build's run_results.json), the
build's wall time and the CPU of this process and its children. A measurement, not a test.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import orjson

from benchmarks.generate import TIERS, write_tier
from dagster_project.runs import build_warehouse

NODES = (
    "int_images_made_with",
    "int_images_prompted",
    "study_comparisons",
    "int_image_resource_kinds",
    "int_image_counts_by_created_day",
    "int_image_made_with_counts",
    "int_image_prompt_counts",
    "images_made_with_monthly",
    "images_by_base_model_family_monthly",
    "minor_terms_nsfw_monthly",
    "checks_int_images_made_with",
    "checks_int_images_prompted",
    "checks_int_image_resource_kinds",
    "checks_int_image_counts_by_created_day",
    "checks_int_image_made_with_counts",
    "checks_int_image_prompt_counts",
)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(home: Path, label: str) -> None:
    runs = sorted((home / "dbt" / "target").glob("*/run_results.json"))
    results = orjson.loads(runs[-1].read_bytes())
    total = 0.0
    for result in sorted(results["results"], key=lambda r: r["unique_id"]):
        name = result["unique_id"].split(".")[2]
        if name.startswith(NODES):
            total += result["execution_time"]
            print(f"  {result['execution_time']:7.2f} s  {name[:90]}")
    print(f"{label}: these nodes {total:.2f} s; dbt elapsed {results['elapsed_time']:.1f} s; load {os.getloadavg()}")


def main(argv: list[str]) -> None:
    step, home = argv[0], Path(argv[1])
    tier = TIERS["medium"]
    os.environ["HUBWATCH_HOME"] = str(home)
    if step == "prepare":
        write_tier(home, tier, days=int(argv[2]))
    elif step == "day":
        write_tier(home, tier, days=1, first_day=int(argv[2]))
    elif step != "build":
        raise SystemExit(f"unknown step {step!r}: prepare, day or build")
    started, cpu = time.time(), cpu_seconds()
    outcome = build_warehouse(home)
    if not outcome.success:
        raise SystemExit(f"the build failed: {outcome.error}")
    print(f"{step} {home}: build wall {time.time() - started:.1f} s, CPU {cpu_seconds() - cpu:.1f} s")
    report(home, step)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The per-model tables' dbt nodes when a day is added: python -m benchmarks.per_model_tables --home DIR

Writes a synthetic warehouse of model snapshots (benchmarks.generate's tier writer: 23,000 Civitai
and 3,000 Hugging Face models a day, few images), builds it whole, then adds days one at a time
and prints the seconds each per-model node took in each incremental build (from Dagster's
materialisation metadata). A measurement, not a test: run it on a quiet machine, or say the load.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson

from benchmarks.generate import Tier, write_tier
from dagster_project.runs import build_warehouse

NODES = ("model_snapshots", "int_model_history", "int_model_snapshot_changes", "models", "lifecycle_by_snapshot")


def node_seconds(outcome) -> dict[str, float]:
    """Execution seconds of the per-model dbt models a build materialised."""
    times = {}
    for meta in outcome.materialized.values():
        name = str(meta.get("unique_id", "")).split(".")[-1]
        if str(meta.get("unique_id", "")).startswith("model.") and name in NODES:
            times[name] = round(meta["Execution Duration"], 2)
    return times


def timed_build(home: Path, full_refresh: bool = False) -> dict:
    started = time.perf_counter()
    outcome = build_warehouse(home, full_refresh=full_refresh)
    if not outcome.success:
        raise SystemExit(f"build failed: {outcome.error}")
    return {"seconds": round(time.perf_counter() - started, 1), "nodes": node_seconds(outcome)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--snapshots", type=int, default=30, help="days built whole before adding days")
    parser.add_argument("--add", type=int, default=2, help="days then added one at a time")
    parser.add_argument("--models", type=int, default=23_000)
    parser.add_argument("--hf-models", type=int, default=3_000)
    args = parser.parse_args()
    tier = Tier("per-model", args.models, 1_000 * args.snapshots, args.snapshots, args.hf_models)
    write_tier(args.home, tier)
    print(orjson.dumps({"full_build": timed_build(args.home, full_refresh=True)}).decode(), flush=True)
    for day in range(args.snapshots, args.snapshots + args.add):
        write_tier(args.home, tier, days=1, first_day=day)
        print(orjson.dumps({"day_added_to": day, **timed_build(args.home)}).decode(), flush=True)


if __name__ == "__main__":
    main()

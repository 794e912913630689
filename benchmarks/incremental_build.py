"""Cost of adding one snapshot to a small vs a long history (issue 3's incremental target).

    python -m benchmarks.incremental_build [--short 2] [--long 50]

Takes daily simulated snapshots of one fakehub world, builds a warehouse of `short` and one of
`long` snapshots, then times the incremental `hubwatch build` that adds one more snapshot (of
the same size) to each. Target: long / short <= 1.5.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from ingest.fakehub import FakeHub, build_world
from ingest.snapshots import Endpoints, snapshot_each_day


def snapshots(hub: FakeHub, home: Path, days: list[date]) -> None:
    snapshot_each_day(Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint), home, days)


def build(home: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("hubwatch")), "build"],
        env={**os.environ, "HUBWATCH_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", type=int, default=2)
    parser.add_argument("--long", type=int, default=50)
    args = parser.parse_args()
    start = date(2025, 1, 1)
    days = [start + timedelta(days=k) for k in range(args.long + 1)]
    world = build_world(seed=3, n_models=1500, n_images=25_000, n_repos=300)
    with tempfile.TemporaryDirectory() as tmp, FakeHub(world) as hub:
        results = {}
        for label, n in (("short", args.short), ("long", args.long)):
            home = Path(tmp) / label
            snapshots(hub, home, days[:n])
            full = build(home)
            snapshots(hub, home, [days[n]])
            results[label] = build(home)
            print(
                f"{label}: {n} snapshots, initial build {full:.1f} s; adding snapshot {n + 1}: {results[label]:.1f} s",
                flush=True,
            )
    print(f"ratio long/short: {results['long'] / results['short']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()

"""Both engines on one tier: `python -m benchmarks.engines --tier small|medium --home DIR`.

Writes the tier's synthetic snapshots (benchmarks/generate.py) into an empty home, then runs
`hubwatch build` (DuckDB) and `hubwatch build --engine spark` on them, each a first (full) build:
wall time, and the peak of the resident memory of the whole process tree (hubwatch, dbt and, for
Spark, the JVM dbt-spark starts), summed from /proc every 0.2 s (GNU time's maximum misses the JVM,
which its parent never waits for). A measurement, not a test; say how loaded the machine was.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import TIERS, write_tier

HUBWATCH = str(Path(sys.executable).with_name("hubwatch"))


def tree_rss_kb(root: int) -> int:
    """Resident memory (kB) of a process and all its descendants, now."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(match.group(1)) if match else 0
    return total


def measured(home: Path, engine: str) -> dict[str, float | str]:
    """One build: seconds, and the peak RSS (MiB) of its whole process tree. The build's output
    goes to `<home>/benchmark-<engine>.log` (a file, not a pipe nobody reads while it runs, which
    would stall a long build once full), where its progress can be followed."""
    env = {**os.environ, "HUBWATCH_HOME": str(home)}
    log = home / f"benchmark-{engine}.log"
    started = time.monotonic()
    with (
        log.open("w") as output,
        subprocess.Popen(  # noqa: S603 (our own command)
            [HUBWATCH, "build", "--engine", engine], env=env, stdout=output, stderr=subprocess.STDOUT
        ) as build,
    ):
        peak = 0
        while build.poll() is None:
            peak = max(peak, tree_rss_kb(build.pid))
            time.sleep(0.2)
    seconds = time.monotonic() - started
    if build.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{engine} build failed after {seconds:.0f} s (log {log}): {tail}")
    return {"engine": engine, "wall_s": round(seconds, 1), "peak_tree_rss_mib": round(peak / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="small")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--engine", action="append", choices=("duckdb", "spark"), help="default: both, DuckDB first")
    args = parser.parse_args()
    home = args.home.resolve()
    if not (home / "raw").is_dir():
        write_tier(home, TIERS[args.tier])
    for engine in args.engine or ("duckdb", "spark"):
        before = os.getloadavg()[0]
        result = measured(home, engine)
        after = os.getloadavg()[0]
        loads = {"load_average_before": round(before, 1), "load_average_after": round(after, 1)}
        print({"tier": args.tier, **result, **loads}, flush=True)


if __name__ == "__main__":
    main()

"""Both engines on one tier: `python -m benchmarks.engines --tier small|medium --home DIR`.

Writes the tier's synthetic snapshots (benchmarks/generate.py) into an empty home, then runs
`hubwatch build` (DuckDB) and `hubwatch build --engine spark` on them, each a first (full) build,
under GNU time: wall time and the peak resident set of the largest process of the build (for Spark,
the JVM that dbt-spark starts). A measurement, not a test; say how loaded the machine was.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.generate import TIERS, write_tier

HUBWATCH = str(Path(sys.executable).with_name("hubwatch"))


def measured(home: Path, engine: str) -> dict[str, float | str]:
    """One build under /usr/bin/time -v: seconds and peak RSS (MiB) of its largest process."""
    env = {**os.environ, "HUBWATCH_HOME": str(home)}
    run = subprocess.run(
        ["/usr/bin/time", "-v", HUBWATCH, "build", "--engine", engine],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"{engine} build failed: {run.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", run.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    return {"engine": engine, "wall_s": round(seconds, 1), "peak_rss_mib": round(rss_kb / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="small")
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    home = args.home.resolve()
    if not (home / "raw").is_dir():
        write_tier(home, TIERS[args.tier])
    load = os.getloadavg()[0]
    for engine in ("duckdb", "spark"):
        print({"tier": args.tier, **measured(home, engine), "load_average_before": round(load, 1)}, flush=True)
        load = os.getloadavg()[0]


if __name__ == "__main__":
    main()

"""Raw bytes per ordinary day: python -m benchmarks.raw_storage --home DIR [--days 4] [--models 2000]

Takes consecutive daily snapshots of every source from a fakehub on loopback, each as
`hubwatch snapshot` takes it (models listed whole, images since the previous snapshot), and
prints the bytes raw/ holds after each day: the first day is a full snapshot, each later one
what an ordinary day adds, per source and by kind of file (each table, the page index, the
manifest, the packs of page bodies). A measurement, not a test; the same script runs on any version of
hubwatch (it only counts the files under raw/), so a before/after comparison runs it on both.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

from ingest.fakehub import FakeHub, build_world
from ingest.huggingface import HfScope
from ingest.snapshots import Endpoints, snapshot_each_day
from ingest.sources import SOURCES


def raw_bytes(home: Path) -> dict[str, int]:
    """Bytes of the files under raw/<source>/ (partitions and packs), per source."""
    return {
        source: sum(p.stat().st_size for p in (home / "raw" / source).rglob("*") if p.is_file()) for source in SOURCES
    }


def raw_bytes_by_file(home: Path) -> dict[str, int]:
    """The same bytes by kind of file: <source>/<file name> over every partition (a table, the page
    index, the manifest), and <source>/_packs for the page bodies."""
    sizes: dict[str, int] = {}
    for source in SOURCES:
        for path in (home / "raw" / source).rglob("*"):
            if path.is_file():
                kind = path.parent.name if path.parent.name.startswith("_") else path.name
                sizes[f"{source}/{kind}"] = sizes.get(f"{source}/{kind}", 0) + path.stat().st_size
    return sizes


def run(home: Path, days: int, first: date, n_models: int, n_images: int, n_repos: int) -> dict:
    world = build_world(seed=5, n_models=n_models, n_images=n_images, n_repos=n_repos)
    rows = []
    with FakeHub(world) as hub:
        endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
        before, before_by_file = raw_bytes(home), raw_bytes_by_file(home)
        for n in range(days):
            day = first + timedelta(days=n)
            started = time.perf_counter()
            snapshot_each_day(endpoints, home, [day], sources=SOURCES, hf_scope=HfScope(files_budget=100_000))
            after, after_by_file = raw_bytes(home), raw_bytes_by_file(home)
            added = {source: after[source] - before[source] for source in SOURCES}
            by_file = {k: v - before_by_file.get(k, 0) for k, v in sorted(after_by_file.items())}
            rows.append(
                {
                    "day": day.isoformat(),
                    "added": added,
                    "total": sum(added.values()),
                    "by_file": {k: v for k, v in by_file.items() if v},
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            print(orjson.dumps(rows[-1]).decode(), flush=True)
            before, before_by_file = after, after_by_file
    full, ordinary = rows[0]["total"], [row["total"] for row in rows[1:]]
    mean = sum(ordinary) / len(ordinary) if ordinary else 0
    summary = {
        "world": {"models": n_models, "images": n_images, "repos": n_repos},
        "first_day_bytes": full,
        "ordinary_day_bytes_mean": round(mean),
        "ordinary_day_share_of_first": round(mean / full, 4) if full else None,
    }
    print(orjson.dumps(summary).decode())
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--first-day", type=date.fromisoformat, default=date(2025, 6, 1))
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--repos", type=int, default=500)
    args = parser.parse_args()
    run(args.home, args.days, args.first_day, args.models, args.images, args.repos)


if __name__ == "__main__":
    main()

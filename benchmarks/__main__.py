"""Scale benchmarks: python -m benchmarks run --tier small|medium|large|year [--home DIR] [--out DIR] [--resume]
                                             [--repeats R]

In one run on one machine it measures, and writes results/<tier>-<date>.json plus a table:
- incremental builds adding one day to warehouses of 1, 10 and 30 snapshots (fewer for small;
  the year tier: 29, 179 and 364, i.e. the 30th, 180th and 365th day), each with its peak RSS,
  the load average at its end and the raw bytes the added day wrote. The warehouse grows from
  one step to the next (generate the days up to the step, one ordinary build, then the timed
  day), never rebuilt from scratch. With --repeats R (default 3) R days are added one after the
  other at each step and the median build is reported, every build's time kept beside it: one
  build's time moves by ~10 % from run to run on a shared machine, as much as the growth measured.
  With --home the steps done so far are kept in <home>/benchmark-progress.json, and --resume goes
  on from there after an interruption;
- the full build (`--full-refresh`) of the resulting warehouse: wall time and peak RSS of the
  whole process tree (dbt runs in a child process). Every build is `hubwatch build`'s own path
  (dagster_project.runs.build_warehouse: the Dagster dbt assets, run in this process);
- overhead: nsfw_share_monthly for images by one hand-written DuckDB query straight over the
  raw Parquet vs the dbt nodes that compute it, in the full build and when a day is added
  (their results must be equal);
- publish time (the whole package, its site included) and the site's render alone; size on disk
  of raw/, the warehouse and publish/.
These are measurements, not tests; `make test` runs the smoke tier once as a smoke run.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson

from benchmarks.generate import START, TIERS, write_tier
from dagster_project.runs import build_warehouse
from dashboards.site import render_site
from ingest.files import write_atomic
from ingest.home import snapshot_path
from ingest.sources import SOURCES  # write_tier writes each of them every day
from publish.package import publish

RESULTS = Path(__file__).parent / "results"
HAND_QUERY = """
select month, count(*) as n_items, count_if(level >= 2) as n_nsfw_any, count_if(level >= 4) as n_nsfw_strict
from (
    select image_id, arg_max(browsing_level, snapshot_date) as level,
           cast(date_trunc('month', arg_max(created_at, snapshot_date)) as date) as month
    from read_parquet(?, hive_partitioning = true)
    group by image_id
)
group by month order by month
"""
# the dbt nodes the images figure is computed through (stg_civitai__images is a view over raw/)
LINEAGE = ("stg_civitai__images", "int_image_last_seen", "nsfw_share_monthly")


class PeakRss:
    """Samples the resident memory of this process and all its descendants."""

    def __init__(self, interval: float = 0.1):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_rss(pid) for pid in _tree(os.getpid())))
            time.sleep(self.interval)


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return pids


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed_build(home: Path, full_refresh: bool = False) -> dict:
    with PeakRss() as rss:
        started = time.perf_counter()
        outcome = build(home, full_refresh=full_refresh)
        seconds = time.perf_counter() - started
    lineage = sum(
        meta["Execution Duration"]
        for meta in outcome.materialized.values()
        if str(meta.get("unique_id", "")).startswith("model.") and meta["unique_id"].split(".")[-1] in LINEAGE
    )
    return {
        "seconds": round(seconds, 2),
        "peak_rss_bytes": rss.peak,
        "lineage_seconds": round(lineage, 2),
        "load": load_average(),  # the machine is shared: the 1/5/15-minute load at the end
    }


def days_per_step(steps: list[int], repeats: int) -> dict[int, int]:
    """The days each step adds and times: `repeats`, never reaching the next step's warehouse (the
    small tier's steps, 1 and 2 snapshots, are a day apart: one day there)."""
    following = [*steps[1:], None]
    return {n: min(repeats, after - n) if after else repeats for n, after in zip(steps, following, strict=True)}


def median_build(samples: list[dict]) -> dict:
    """The median build of a step by wall time (the lower middle of an even count), with every
    build's seconds beside it."""
    chosen = sorted(samples, key=lambda sample: sample["seconds"])[(len(samples) - 1) // 2]
    return {**chosen, "samples_seconds": [sample["seconds"] for sample in samples]}


def build(home: Path, full_refresh: bool = False):
    """The warehouse built as `hubwatch build` builds it; a failed build ends the benchmark."""
    outcome = build_warehouse(home, full_refresh=full_refresh)
    if not outcome.success:
        raise SystemExit(f"build failed: {outcome.error}")
    return outcome


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


PROGRESS = "benchmark-progress.json"  # in the home: the steps done so far, for --resume


def days_present(home: Path) -> int:
    """How many consecutive generated days (from START) raw/ holds for every source."""
    n = 0
    while all(snapshot_path(home, source, START + timedelta(days=n)).exists() for source in SOURCES):
        n += 1
    return n


def load_average() -> dict[str, float]:
    """What `uptime` shows: timings on a shared machine mean little without it."""
    return dict(zip(("1min", "5min", "15min"), (round(x, 2) for x in os.getloadavg()), strict=True))


def run(tier_name: str, home: Path, out: Path, resume: bool = False, repeats: int = 3) -> dict:
    tier = TIERS[tier_name]
    # one day is added to warehouses of each step's snapshots (the small tier: 1 and its own size)
    steps = sorted({n for n in tier.steps if n <= tier.snapshots} | {tier.snapshots})
    progress = home / PROGRESS
    result: dict = {
        "tier": tier_name,
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "sizes": {
            "models": tier.models,
            "images": tier.images,
            "snapshots": tier.snapshots,
            "at_end": None,  # the snapshots the full build reads: set when the steps are done
        },
        "repeats": repeats,
        "incremental": {},
        "raw_bytes_added_by_one_day": {},
        "started_at": datetime.now(UTC).isoformat(),
    }
    built = 0  # snapshots the warehouse holds
    if resume and progress.exists():  # go on from the last finished step of an earlier run
        saved = orjson.loads(progress.read_bytes())
        result, built = saved["result"], saved["built"]
        if result.get("repeats", 1) != repeats:
            raise SystemExit(f"{home} was measured with --repeats {result.get('repeats', 1)}: resume with the same")
        print(f"[{tier_name}] resuming: steps done {sorted(map(int, result['incremental']))}", flush=True)
    elif not resume and (home / "raw").exists() and any((home / "raw").iterdir()):
        raise SystemExit(f"{home} already holds snapshots: use --resume to go on, or an empty --home")
    days = days_per_step(steps, repeats)
    for n in steps:
        if str(n) in result["incremental"]:
            continue
        present = days_present(home)
        if present > n:  # days added by a step that did not finish: its warehouse is not of n snapshots
            raise SystemExit(f"{home} holds {present} days, more than step {n} starts from: start with an empty --home")
        if present < n:
            print(f"[{tier_name}] generating snapshots {present + 1}..{n}…", flush=True)
            write_tier(home, tier, days=n - present, first_day=present)
            present = n
        if built != n and present == n:  # a warehouse of exactly n snapshots, then one day added to it
            print(f"[{tier_name}] building {n} snapshots…", flush=True)
            build(home)
            built = n
        samples = []
        for k in range(days[n]):  # one more day, the same size, each built on the one before
            raw_before = size(home / "raw")
            write_tier(home, tier, days=1, first_day=n + k)
            if k == 0:
                result["raw_bytes_added_by_one_day"][str(n)] = size(home / "raw") - raw_before
            samples.append(timed_build(home))
        result["incremental"][str(n)] = median_build(samples)
        built = n + days[n]
        write_atomic(progress, orjson.dumps({"result": result, "built": built}, option=orjson.OPT_INDENT_2))
        print(
            f"[{tier_name}] adding one day to {n} snapshots: {result['incremental'][str(n)]['seconds']} s "
            f"(load {result['incremental'][str(n)]['load']['1min']})",
            flush=True,
        )
    have = built
    result["sizes"]["at_end"] = have
    first, last = result["incremental"][str(steps[0])]["seconds"], result["incremental"][str(steps[-1])]["seconds"]
    result["incremental_ratio"] = round(last / first, 2)
    print(f"[{tier_name}] full build of {have} snapshots…", flush=True)
    result["full_build"] = timed_build(home, full_refresh=True)
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")  # months in UTC, as the warehouse makes them
        hand = con.execute(HAND_QUERY, [f"{home}/raw/civitai_images/snapshot_date=*/images.parquet"]).fetchall()
    hand_seconds = time.perf_counter() - started
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        dbt_rows = con.sql("""select month, n_items, n_nsfw_any, n_nsfw_strict from marts.nsfw_share_monthly
                              where platform = 'civitai' and entity = 'image' order by month""").fetchall()
    daily = result["incremental"][str(steps[-1])]["lineage_seconds"]
    result["overhead"] = {
        "hand_query_seconds": round(hand_seconds, 2),
        "dbt_lineage_seconds": result["full_build"]["lineage_seconds"],
        "ratio": round(result["full_build"]["lineage_seconds"] / max(hand_seconds, 1e-6), 2),
        # the same nodes when a day is added to the largest warehouse (what a daily run pays)
        "daily_lineage_seconds": daily,
        "daily_ratio": round(daily / max(hand_seconds, 1e-6), 2),
        "results_equal": hand == dbt_rows,
    }
    started = time.perf_counter()
    published = publish(home, force=True)  # the whole package, its site included
    result["publish_seconds"] = round(time.perf_counter() - started, 2)
    with tempfile.TemporaryDirectory(dir=home) as scratch:  # the site alone, beside the package
        (Path(scratch) / "data").symlink_to(published.path / "data")
        started = time.perf_counter()
        render_site(Path(scratch), published.manifest)
        result["dashboards_seconds"] = round(time.perf_counter() - started, 2)
    result["disk_bytes"] = {
        "raw": size(home / "raw"),
        "warehouse": size(home / "warehouse.duckdb"),
        "publish": size(home / "publish"),
    }
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{tier_name}-{datetime.now(UTC).date().isoformat()}.json"
    target.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(table(result))
    print(f"results: {target}")
    return result


def table(r: dict) -> str:
    gb = 1024**3
    rows = [
        ("full build (s)", r["full_build"]["seconds"]),
        ("full build peak RSS (GiB)", round(r["full_build"]["peak_rss_bytes"] / gb, 2)),
        *[(f"add one day to {n} snapshots (s)", v["seconds"]) for n, v in r["incremental"].items()],
        *[
            (f"peak RSS adding one day to {n} (GiB)", round(v["peak_rss_bytes"] / gb, 2))
            for n, v in r["incremental"].items()
        ],
        ("incremental ratio last/first", r["incremental_ratio"]),
        *[
            (f"raw bytes added by day {int(n) + 1} (MiB)", round(v / 1024**2, 2))
            for n, v in r.get("raw_bytes_added_by_one_day", {}).items()
        ],
        ("hand-written query (s)", r["overhead"]["hand_query_seconds"]),
        ("same figure's dbt nodes (s)", r["overhead"]["dbt_lineage_seconds"]),
        ("overhead ratio (full build)", r["overhead"]["ratio"]),
        ("same nodes adding one day (s)", r["overhead"]["daily_lineage_seconds"]),
        ("overhead ratio (daily build)", r["overhead"]["daily_ratio"]),
        ("results equal", r["overhead"]["results_equal"]),
        ("publish (s)", r["publish_seconds"]),
        ("dashboards (s)", r["dashboards_seconds"]),
        *[(f"disk: {k} (MiB)", round(v / 1024**2, 1)) for k, v in r["disk_bytes"].items()],
    ]
    return "\n".join(
        f"| {name} | {value} |" for name, value in [("measure", f"tier {r['tier']}"), ("---", "---"), *rows]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--tier", choices=sorted(TIERS), default="small")
    go.add_argument("--home", type=Path, help="where to generate (default: a temporary folder, removed after)")
    go.add_argument("--out", type=Path, default=RESULTS)
    go.add_argument(
        "--resume", action="store_true", help="go on in --home from the last step an interrupted run finished"
    )
    go.add_argument("--repeats", type=int, default=3, help="days added at each step; the median build is reported")
    args = parser.parse_args()
    if args.resume and not args.home:
        parser.error("--resume needs --home")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.home:
        run(args.tier, args.home.resolve(), args.out, resume=args.resume, repeats=args.repeats)
    else:
        with tempfile.TemporaryDirectory(prefix=f"hubwatch-bench-{args.tier}-") as tmp:
            run(args.tier, Path(tmp) / "home", args.out, repeats=args.repeats)


if __name__ == "__main__":
    main()

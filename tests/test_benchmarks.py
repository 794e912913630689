"""The benchmark runner's smoke tier (every step of the runner once: generate, build, add a day,
full build, the hand-written query, publish, the site; the least data and one step, so three
builds where the small tier takes four): it completes, writes its JSON, and the hand-written
DuckDB query and the warehouse agree. (Timings are measured, never asserted.)

The runner runs in this process (`python -m benchmarks run`'s own main, its arguments as given on
the command line): its builds are in-process already, so a process of its own would add only a
Python, Dagster and dbt start-up. Its peak RSS is then this process's, which is measured, not judged.

Its first build (the warehouse of n snapshots, untimed, that the timed day is added to) makes only
what the timed build meets: every incremental model and what they read, without their checks
(conftest.build_incremental_state, an eighth of the nodes: no one reads its checks). Every other
table is rebuilt whole by the timed build whatever the first did, and the timed builds, the full
build and the publish after it are the runner's own, as in production."""

import sys

import orjson
import pytest

import benchmarks.__main__ as runner
from benchmarks.__main__ import main
from benchmarks.generate import TIERS
from tests.conftest import build_incremental_state

pytestmark = pytest.mark.slow


@pytest.fixture
def first_build_partial(monkeypatch):
    """The runner's build_warehouse, its first call (an incremental build) making the incremental
    state alone, without checks; every later call the runner's own. Returns the calls' full_refresh flags."""
    whole, calls = runner.build_warehouse, []

    def build_warehouse(home, full_refresh=False, **kwargs):
        calls.append(full_refresh)
        if len(calls) == 1 and not full_refresh and not kwargs:
            return build_incremental_state(home, checks=False)
        return whole(home, full_refresh=full_refresh, **kwargs)

    monkeypatch.setattr(runner, "build_warehouse", build_warehouse)
    return calls


def test_smoke_tier_runs_and_agrees_with_the_hand_written_query(tmp_path, monkeypatch, capsys, first_build_partial):
    out = tmp_path / "results"
    home = str(tmp_path / "home")
    argv = ["python -m benchmarks", "run", "--tier", "smoke", "--home", home, "--out", str(out), "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    main()
    assert first_build_partial == [False, False, True]  # the warehouse of one snapshot, the day added, the full build
    builds = [orjson.loads(r.read_bytes()) for r in (tmp_path / "home" / "builds").glob("*-*.json")]
    records = sorted(builds, key=lambda r: r["started_at"])
    assert [r["selection"] for r in records] == ["part", "all", "all"]  # the first build alone was partial
    printed = capsys.readouterr().out
    [result_file] = list(out.glob("smoke-*.json"))
    result = orjson.loads(result_file.read_bytes())
    assert result["overhead"]["results_equal"] is True
    assert set(result["incremental"]) == {str(n) for n in TIERS["smoke"].steps} == {"1"}
    assert result["full_build"]["peak_rss_bytes"] > 0 and result["disk_bytes"]["raw"] > 0
    assert result["incremental"]["1"]["samples_seconds"] == [result["incremental"]["1"]["seconds"]]
    assert "| overhead ratio (full build) |" in printed and "| overhead ratio (daily build) |" in printed


@pytest.mark.parametrize(
    ("seconds", "median"),
    [([9.0, 7.0, 8.0], 8.0), ([7.5], 7.5), ([9.0, 7.0], 7.0), ([6.0, 9.0, 7.0, 8.0], 7.0)],
)
def test_a_step_reports_its_median_build_and_keeps_every_builds_time(seconds, median):
    samples = [{"seconds": s, "peak_rss_bytes": int(s * 10)} for s in seconds]
    chosen = runner.median_build(samples)
    assert chosen["seconds"] == median and chosen["peak_rss_bytes"] == int(median * 10)  # one build's figures
    assert chosen["samples_seconds"] == seconds


@pytest.mark.parametrize(
    ("tier", "repeats", "days"),
    [("small", 3, {1: 1, 2: 3}), ("year", 3, {29: 3, 179: 3, 364: 3}), ("large", 1, {1: 1, 10: 1, 30: 1})],
)
def test_a_step_never_adds_days_past_the_next_steps_warehouse(tier, repeats, days):
    steps = sorted({n for n in TIERS[tier].steps if n <= TIERS[tier].snapshots} | {TIERS[tier].snapshots})
    assert runner.days_per_step(steps, repeats) == days

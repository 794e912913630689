"""The benchmark runner's smoke tier (every step of the runner once: generate, build, add a day,
full build, the hand-written query, publish, the site; the least data and one step, so three
builds where the small tier takes four): it completes, writes its JSON, and the hand-written
DuckDB query and the warehouse agree. (Timings are measured, never asserted.)

The runner runs in this process (`python -m benchmarks run`'s own main, its arguments as given on
the command line): its builds are in-process already, so a process of its own would add only a
Python, Dagster and dbt start-up. Its peak RSS is then this process's, which is measured, not judged."""

import sys

import orjson
import pytest

from benchmarks.__main__ import main
from benchmarks.generate import TIERS

pytestmark = pytest.mark.slow


def test_smoke_tier_runs_and_agrees_with_the_hand_written_query(tmp_path, monkeypatch, capsys):
    out = tmp_path / "results"
    argv = ["python -m benchmarks", "run", "--tier", "smoke", "--home", str(tmp_path / "home"), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    main()
    printed = capsys.readouterr().out
    [result_file] = list(out.glob("smoke-*.json"))
    result = orjson.loads(result_file.read_bytes())
    assert result["overhead"]["results_equal"] is True
    assert set(result["incremental"]) == {str(n) for n in TIERS["smoke"].steps} == {"1"}
    assert result["full_build"]["peak_rss_bytes"] > 0 and result["disk_bytes"]["raw"] > 0
    assert "| overhead ratio (full build) |" in printed and "| overhead ratio (daily build) |" in printed

"""The small benchmark tier as a smoke run: it completes, writes its JSON, and the hand-written
DuckDB query and the warehouse agree. (Timings are measured, never asserted.)

The runner runs in this process (`python -m benchmarks run`'s own main, its arguments as given on
the command line): its builds are in-process already, so a process of its own would add only a
Python, Dagster and dbt start-up. Its peak RSS is then this process's, which is measured, not judged."""

import sys

import orjson
import pytest

from benchmarks.__main__ import main

pytestmark = pytest.mark.slow


def test_small_tier_runs_and_agrees_with_the_hand_written_query(tmp_path, monkeypatch, capsys):
    out = tmp_path / "results"
    argv = ["python -m benchmarks", "run", "--tier", "small", "--home", str(tmp_path / "home"), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    main()
    printed = capsys.readouterr().out
    [result_file] = list(out.glob("small-*.json"))
    result = orjson.loads(result_file.read_bytes())
    assert result["overhead"]["results_equal"] is True
    assert set(result["incremental"]) == {"1", "2"}
    assert result["full_build"]["peak_rss_bytes"] > 0 and result["disk_bytes"]["raw"] > 0
    assert "| overhead ratio (full build) |" in printed and "| overhead ratio (daily build) |" in printed

"""The small benchmark tier as a smoke run: it completes, writes its JSON, and the hand-written
DuckDB query and the warehouse agree. (Timings are measured, never asserted.)"""

import subprocess
import sys

import orjson
import pytest

pytestmark = pytest.mark.slow


def test_small_tier_runs_and_agrees_with_the_hand_written_query(tmp_path):
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "run",
            "--tier",
            "small",
            "--home",
            str(tmp_path / "home"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [result_file] = list(out.glob("small-*.json"))
    result = orjson.loads(result_file.read_bytes())
    assert result["overhead"]["results_equal"] is True
    assert set(result["incremental"]) == {"1", "2"}
    assert result["full_build"]["peak_rss_bytes"] > 0 and result["disk_bytes"]["raw"] > 0
    assert "| overhead ratio (full build) |" in done.stdout and "| overhead ratio (daily build) |" in done.stdout

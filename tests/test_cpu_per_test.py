"""tests/cpu_per_test.py: each test's CPU, the worker's own and its children's, recorded and summed."""

import subprocess
import sys
from pathlib import Path

from tests.cpu_per_test import read_rows, report

ROOT = Path(__file__).resolve().parent.parent
BURN = "sum(i * i for i in range(3_000_000))"  # ~0.2 CPU-s


def test_a_tests_own_and_its_childrens_cpu_are_recorded_apart(tmp_path):
    (tmp_path / "test_burn.py").write_text(
        "import subprocess, sys\n"
        f"def test_in_the_worker():\n    {BURN}\n"
        f"def test_in_a_child():\n    subprocess.run([sys.executable, '-c', '{BURN}'], check=True)\n"
        "def test_idle():\n    pass\n"
    )
    prefix = tmp_path / "cpu"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.cpu_per_test",
         "--cpu-per-test", str(prefix), "--rootdir", str(tmp_path), "-c", "/dev/null", str(tmp_path / "test_burn.py")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {r["test"].split("::")[1]: r for r in read_rows(str(prefix))}
    assert set(rows) == {"test_in_the_worker", "test_in_a_child", "test_idle"}
    assert rows["test_in_the_worker"]["self"] > 0.05 and rows["test_in_the_worker"]["children"] < 0.05
    assert rows["test_in_a_child"]["children"] > 0.05
    assert rows["test_idle"]["self"] + rows["test_idle"]["children"] < 0.05


def test_the_report_sums_per_module_dearest_first():
    rows = [
        {"test": "tests/test_a.py::x", "wall": 2.0, "self": 1.0, "children": 0.5},
        {"test": "tests/test_a.py::y", "wall": 1.0, "self": 0.5, "children": 0.0},
        {"test": "tests/test_b.py::z", "wall": 9.0, "self": 0.0, "children": 5.0},
    ]
    lines = report(rows, top=1).splitlines()
    assert lines[0].startswith("7 CPU-s (2 in the workers, 6 in their children), 3 tests")
    assert lines[1].endswith("tests/test_b.py") and lines[1].split()[0] == "5.0"
    assert lines[2].endswith("tests/test_a.py") and lines[2].split()[0] == "2.0"
    assert lines[-1].endswith("tests/test_b.py::z")

"""Where the test suite's CPU goes: CPU seconds per test, of the worker and of the processes it waited for.

`make test` is CPU-bound (its two cores ~98 % busy), so a module's wall seconds (JUnit, which
tests/scheduling.py orders by) say little about what it costs the run: a test that waits on a
timeout costs seconds and no CPU, a build costs both. This plugin records, around each test's
setup, call and teardown, `getrusage` of the worker itself (in-process builds and crawls) and of
its reaped children (`hubwatch` and dbt processes, browsers); a session fixture's cost lands on
the first test that asks for it. Processes never waited for (a JVM kept running, daemons) are not
seen: process accounting (`accton`, `sa`) covers those.

    pytest -p tests.cpu_per_test --cpu-per-test /tmp/cpu ...     # one file per xdist worker
    python -m tests.cpu_per_test /tmp/cpu [N]                     # per module, then the N dearest tests
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest


def cpu_seconds() -> tuple[float, float]:
    """(this process, its reaped children): user + system CPU seconds so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def pytest_addoption(parser) -> None:
    parser.addoption("--cpu-per-test", metavar="PREFIX", help="write each test's CPU seconds to PREFIX.<worker>")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001 (pytest's signature)
    prefix = item.config.getoption("--cpu-per-test")
    if not prefix:
        yield
        return
    before, started = cpu_seconds(), time.monotonic()
    yield
    after = cpu_seconds()
    row = {
        "test": item.nodeid,
        "wall": round(time.monotonic() - started, 3),
        "self": round(after[0] - before[0], 3),
        "children": round(after[1] - before[1], 3),
    }
    with open(f"{prefix}.{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", "ab") as out:
        out.write(orjson.dumps(row) + b"\n")


def read_rows(prefix: str) -> list[dict]:
    """Every worker's rows of one run (PREFIX.gw0, PREFIX.gw1, ... or PREFIX.main)."""
    folder, name = Path(prefix).parent, Path(prefix).name
    files = [p for p in folder.glob(f"{name}.*") if p.suffix[1:].startswith(("gw", "main"))]
    return [orjson.loads(line) for path in sorted(files) for line in path.read_bytes().splitlines() if line]


def report(rows: list[dict], top: int = 20) -> str:
    """CPU per module, dearest first, then the `top` dearest tests."""
    modules: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for row in rows:
        module = modules[row["test"].split("::", 1)[0]]
        module[0] += row["self"]
        module[1] += row["children"]
        module[2] += row["wall"]
        module[3] += 1
    own, children = sum(r["self"] for r in rows), sum(r["children"] for r in rows)
    total = f"{own + children:.0f} CPU-s ({own:.0f} in the workers, {children:.0f} in their children)"
    lines = [f"{total}, {len(rows)} tests"]
    for name, (s, c, wall, n) in sorted(modules.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
        lines.append(f"{s + c:7.1f} CPU-s ({s:6.1f} + {c:6.1f}) {wall:7.1f} s wall {n:4d} tests  {name}")
    lines.append(f"-- the {top} dearest tests")
    for row in sorted(rows, key=lambda r: -(r["self"] + r["children"]))[:top]:
        lines.append(f"{row['self'] + row['children']:7.1f} CPU-s {row['wall']:7.1f} s wall  {row['test']}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(read_rows(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20))

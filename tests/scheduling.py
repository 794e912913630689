"""The order in which `make test`'s two workers take the test modules: the longest first.

pytest-xdist's `--dist loadscope` keeps a module on one worker (its fixtures build once) and hands
the next module to whichever worker is free. By default it orders modules by their number of
tests, which put the few long end-to-end modules (one Spark comparison, one crash harness) last:
one worker then ran a 6-minute module alone while the other sat idle. Longest first is the
classic answer to that (LPT scheduling). The Makefile runs pytest with `--no-loadscope-reorder`,
so xdist keeps the order this plugin gives the collection.

The seconds each module took come from a measured run, kept in tests/module_seconds.json and
refreshed with `python -m tests.scheduling JUNIT_XML...` from `pytest --junitxml=JUNIT_XML` runs
(setup, call and teardown of each test; a module's from the last report that ran it). A module
not listed there goes first: a new module's cost is unknown, and running it early costs at most
its own time at the end.

Loaded by pyproject's `addopts = "-p tests.scheduling"`.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import orjson

SECONDS = Path(__file__).with_name("module_seconds.json")


def module_of(nodeid: str) -> str:
    """tests/test_x.py::test_y[z] -> tests/test_x.py"""
    return nodeid.split("::", 1)[0]


def longest_first(nodeids: list[str], seconds: dict[str, float]) -> list[str]:
    """Node ids grouped by module, modules in decreasing measured seconds (unknown ones first),
    each module's tests in their own order."""
    order = {module: index for index, module in enumerate(dict.fromkeys(module_of(n) for n in nodeids))}
    return sorted(nodeids, key=lambda n: (-seconds.get(module_of(n), float("inf")), order[module_of(n)]))


def pytest_collection_modifyitems(session, config, items) -> None:
    seconds = orjson.loads(SECONDS.read_bytes()) if SECONDS.is_file() else {}
    position = {nodeid: index for index, nodeid in enumerate(longest_first([i.nodeid for i in items], seconds))}
    items.sort(key=lambda item: position[item.nodeid])


def seconds_by_module(junit_xml: Path) -> dict[str, float]:
    """Seconds per module of a pytest JUnit report (each testcase's time is its setup, call and
    teardown: pytest's default junit_duration_report)."""
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit_xml).iter("testcase"):  # noqa: S314 (pytest's own report, not input)
        module = case.get("classname", "").split(".")
        # classname is "tests.test_x" or "tests.test_x.TestClass"
        path = "/".join(module[:2]) + ".py" if len(module) >= 2 else module[0] + ".py"
        totals[path] += float(case.get("time", 0))
    return {module: round(total, 1) for module, total in sorted(totals.items(), key=lambda kv: -kv[1])}


def merged(reports: list[Path]) -> dict[str, float]:
    """Seconds per module from several reports: a module's from the last report that ran it (a
    module re-run alone after a whole run, say)."""
    seconds: dict[str, float] = {}
    for report in reports:
        seconds.update(seconds_by_module(report))
    return dict(sorted(seconds.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tests.scheduling JUNIT_XML [JUNIT_XML ...]")
    SECONDS.write_bytes(orjson.dumps(merged([Path(a) for a in sys.argv[1:]]), option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {SECONDS}")

"""The order `make test`'s workers take the modules in (tests/scheduling.py): longest first."""

from tests.scheduling import longest_first, merged, seconds_by_module

NODEIDS = [
    "tests/test_a.py::test_one",
    "tests/test_a.py::test_two[x]",
    "tests/test_b.py::test_one",
    "tests/test_c.py::TestThing::test_one",
    "tests/test_new.py::test_one",
    "tests/test_c.py::TestThing::test_two",
]


def test_modules_go_longest_first_unknown_ones_first_and_keep_their_tests_in_order():
    seconds = {"tests/test_a.py": 5.0, "tests/test_b.py": 300.0, "tests/test_c.py": 40.0}
    assert longest_first(NODEIDS, seconds) == [
        "tests/test_new.py::test_one",
        "tests/test_b.py::test_one",
        "tests/test_c.py::TestThing::test_one",
        "tests/test_c.py::TestThing::test_two",
        "tests/test_a.py::test_one",
        "tests/test_a.py::test_two[x]",
    ]


def test_equal_costs_keep_the_collection_order():
    assert longest_first(NODEIDS[:3], {"tests/test_a.py": 1.0, "tests/test_b.py": 1.0}) == NODEIDS[:3]


def test_a_junit_report_sums_setup_call_and_teardown_per_module(tmp_path):
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="test_one" time="1.5"/>'
        '<testcase classname="tests.test_a" name="test_two[x]" time="2.25"/>'
        '<testcase classname="tests.test_c.TestThing" name="test_one" time="40"/>'
        "</testsuite></testsuites>"
    )
    assert seconds_by_module(report) == {"tests/test_c.py": 40.0, "tests/test_a.py": 3.8}


def test_a_later_report_replaces_the_modules_it_ran(tmp_path):
    whole, alone = tmp_path / "whole.xml", tmp_path / "alone.xml"
    whole.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="t" time="10"/>'
        '<testcase classname="tests.test_spark" name="t" time="45"/>'
        "</testsuite></testsuites>"
    )
    alone.write_text('<testsuite><testcase classname="tests.test_spark" name="t" time="300"/></testsuite>')
    assert merged([whole, alone]) == {"tests/test_spark.py": 300.0, "tests/test_a.py": 10.0}

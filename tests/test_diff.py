"""`hubwatch diff`: rows added, removed and changed per table by its key, the models that
disappeared and how, whole-row comparison where no key holds, and CSV output; on two small
hand-made packages (the before/after-the-ban test on real fakehub packages is in
test_orchestration.py)."""

import csv
import io
import subprocess
from pathlib import Path

import duckdb
import orjson
import pytest

from publish.diff import diff_packages, summary_text, table_keys, write_csv
from tests.conftest import HUBWATCH, hubwatch_here

MODELS_A = """
    ('civitai', '1', 'kept', false, null, null, 10),
    ('civitai', '2', 'banned', true, null, null, 20),
    ('civitai', '3', 'archived', false, null, null, 30),
    ('civitai', '4', 'was gone', false, date '2025-04-01', 'absent', 40),
    ('huggingface', 'x/y', 'changes', false, null, null, 50)
"""
MODELS_B = """
    ('civitai', '1', 'kept', false, null, null, 10),
    ('civitai', '2', 'banned', true, date '2025-05-22', 'absent', 20),
    ('civitai', '3', 'archived', false, date '2025-05-22', 'archived', 30),
    ('civitai', '4', 'was gone', false, null, null, 45),
    ('huggingface', 'x/y', 'changes', false, null, null, 55),
    ('huggingface', 'new/one', 'new', true, null, null, 1)
"""


def make_package(folder: Path, day: str, models: str, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    with duckdb.connect(str(folder / "hubwatch.duckdb")) as con:
        con.execute(
            "create table models as select * from (values "  # noqa: S608 (a test's own path and values)
            + models
            + ") as t(platform, model_id, name, real_person, removed_on, removal_kind, downloads_total)"
        )
        con.execute("create table build_info as select 'v1' as rules_version, date '" + day + "' as last_snapshot")
        con.execute("create table notes as select * from (values ('a'), ('a'), ('b')) as t(note)")
        if extra:
            con.execute(extra)
    (folder / "manifest.json").write_bytes(
        orjson.dumps({"publish_date": day, "rules_version": "v1", "simulated": True})
    )
    return folder / "hubwatch.duckdb"


@pytest.fixture
def packages(tmp_path):
    home = tmp_path / "home"
    a = make_package(home / "publish" / "2025-05-21", "2025-05-21", MODELS_A)
    b = make_package(
        home / "publish" / "2025-05-23",
        "2025-05-23",
        MODELS_B,
        extra="create table only_new as select 1 as x; alter table notes add column extra int",
    )
    return home, a, b


KEYS = {"models": ("platform", "model_id"), "build_info": ("rules_version",)}


def test_keys_come_from_the_dbt_grain_tests():
    keys = table_keys()
    assert keys["models"] == ("platform", "model_id")
    assert keys["model_snapshots"] == ("platform", "model_id", "snapshot_date")
    assert keys["snapshot_coverage"] == ("source", "snapshot_date")


def test_rows_added_removed_and_changed_by_key(packages):
    _home, a, b = packages
    result = diff_packages(a, b, keys=KEYS, examples=10)
    models = next(t for t in result.tables if t.table == "models")
    assert (models.rows_a, models.rows_b, models.added, models.removed, models.changed) == (5, 6, 1, 0, 4)
    assert models.changed_columns == {"removed_on": 3, "removal_kind": 3, "downloads_total": 2}
    assert models.examples["added"] == ["platform=huggingface model_id=new/one"]
    assert (
        "platform=civitai model_id=2 (removed_on: NULL → 2025-05-22; removal_kind: NULL → absent)"
        in (models.examples["changed"])
    )


def test_the_models_that_disappeared_and_how(packages):
    _home, a, b = packages
    result = diff_packages(a, b, keys=KEYS)
    assert result.disappeared_total == 2
    assert result.disappeared_by_kind == {"archived": 1, "absent": 1}
    assert [(m["model_id"], m["removal_kind"], m["real_person"]) for m in result.disappeared] == [
        ("2", "absent", True),
        ("3", "archived", False),
    ]
    assert result.reappeared == 1
    text = summary_text(result)
    assert "models that disappeared from A to B: 2 (absent 1, archived 1); 1 of them depict a real person" in text
    assert "models that came back (removed in A, present in B): 1" in text


def test_tables_without_a_unique_key_are_compared_whole_and_schema_changes_named(packages):
    _home, a, b = packages
    result = diff_packages(a, b, keys={**KEYS, "notes": ("note",)})
    notes = next(t for t in result.tables if t.table == "notes")
    assert notes.key == () and "not unique" in notes.note
    assert (notes.added, notes.removed) == (0, 0)
    assert notes.columns_added == ["extra"]
    assert result.only_in_b == ["only_new"] and result.only_in_a == []


def test_csv_lists_every_change(packages):
    _home, a, b = packages
    result = diff_packages(a, b, keys=KEYS, tables=("models",), examples=0)
    out = io.StringIO()
    write_csv(a, b, result, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {(r["change"], orjson.loads(r["key"])["model_id"], r["removal_kind"]) for r in rows} == {
        ("added", "new/one", ""),
        ("disappeared", "2", "absent"),
        ("disappeared", "3", "archived"),
        ("reappeared", "4", ""),
        ("changed", "x/y", ""),
    }
    assert next(r for r in rows if r["change"] == "changed")["changed_columns"] == "downloads_total"


def test_the_command_takes_dates_folders_or_files_and_fails_in_one_line(packages):
    """The installed command for the first comparison and the first refusal; the others run its
    click group in this process (conftest.hubwatch_here)."""
    home, a, b = packages
    env = {"HUBWATCH_HOME": str(home), "PATH": "/usr/bin:/bin"}

    def process(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([HUBWATCH, "diff", *args], env=env, capture_output=True, text=True, timeout=60)

    def here(*args: str) -> subprocess.CompletedProcess:
        return hubwatch_here("diff", *args, env=env)

    for run, args in (
        (process, ["2025-05-21", "2025-05-23"]),
        (here, [str(a.parent), str(b.parent)]),
        (here, [str(a), str(b)]),
    ):
        done = run(*args)
        assert done.returncode == 0, done.stderr
        assert "models that disappeared from A to B: 2" in done.stdout
    done = here("--csv", "--table", "models", "2025-05-21", "2025-05-23")
    assert (
        done.returncode == 0
        and done.stdout.splitlines()[0] == "table,change,key,changed_columns,removal_kind,removed_on"
    )
    for run, args in ((process, ["2025-05-21", "2024-01-01"]), (here, ["2025-05-21", "2025-05-23", "--table", "nope"])):
        done = run(*args)
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith("hubwatch: error: ")

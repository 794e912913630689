"""After an upgrade (`git pull`), the next build neither stops nor mixes logic: an incremental model
whose dbt logic changed (here: a column added and a column computed differently) is rebuilt whole,
with the incremental models that read it, and equals a full build of the new code; the other
incremental models stay incremental, and an unchanged project refreshes nothing.

The new code is a copy of this checkout with one model's SQL changed, run in a process of its own
(its working directory first on sys.path, so the copy's dagster_project and dbt/ are the ones
used), on a copy of a home this code built (conftest.two_days_built) with the next day's snapshots
added: the situation of a user who pulled a new hubwatch before the next daily build."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import orjson
import pytest

from dagster_project.model_logic import RECORD_VERSION, Fingerprints
from dagster_project.warehouse import DBT_DIR, logic_refresh
from ingest.home import built_logic_path
from tests.conftest import SPARE_DAY, TWO_DAYS, copy_home, copy_snapshot

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
CODE = ("dagster_project", "ingest", "publish", "dashboards", "benchmarks")
MART = "model_snapshots"  # a build of what it needs: four incremental models, two fed by a third
CHANGED = "int_civitai__model_snapshots"
DOWNSTREAM = ("int_real_person_file_sightings", "model_snapshots")  # incremental, read CHANGED
UNTOUCHED = "int_huggingface__model_snapshots"  # incremental, in the build, reads nothing CHANGED does
SELECTED = {CHANGED, *DOWNSTREAM, UNTOUCHED}
TABLES = (
    "intermediate.int_civitai__model_snapshots",
    "intermediate.int_real_person_file_sightings",
    "marts.model_snapshots",
)
# in the new code's process: the daily build after the upgrade; what the decision says after it;
# a copy of the home rebuilt whole (each build as `hubwatch build` runs it, of what MART needs)
NEW_CODE_BUILDS = """
import shutil, sys
from pathlib import Path
import orjson
from dagster_project.runs import build_warehouse
from dagster_project.warehouse import logic_refresh
home, fresh, mart, selected = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], set(sys.argv[4].split(","))
upgrade = build_warehouse(home, upstream_of=mart)
again = logic_refresh(home, selected=selected).refresh
shutil.copytree(home, fresh, symlinks=True)
full = build_warehouse(fresh, full_refresh=True, upstream_of=mart)
said = {"upgrade": upgrade, "full": full}
said = {key: "succeeded" if run.success else f"failed: {run.error}" for key, run in said.items()}
print(orjson.dumps({**said, "again": again}).decode())
"""


def new_code(to: Path) -> Path:
    """This checkout's code and dbt project, with CHANGED computing `name` differently and gaining a
    column (the parsed manifest copied as it was: a user may not have run `make manifest` yet)."""
    ignore = shutil.ignore_patterns("__pycache__", "logs")
    for package in CODE:
        shutil.copytree(REPO / package, to / package, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", to / "pyproject.toml")  # Dagster's project config (dg)
    shutil.copytree(REPO / "dbt", to / "dbt", ignore=shutil.ignore_patterns("target", "logs"))
    (to / "dbt" / "target").mkdir()
    shutil.copy2(REPO / "dbt" / "target" / "manifest.json", to / "dbt" / "target" / "manifest.json")
    model = to / "dbt" / "models" / "intermediate" / f"{CHANGED}.sql"
    sql = model.read_text()
    assert "    enriched.name,\n" in sql and "    enriched.tags,\n" in sql
    sql = sql.replace("    enriched.name,\n", "    'v2:' || enriched.name as name,\n")
    model.write_text(sql.replace("    enriched.tags,\n", "    enriched.tags,\n    'v2' as logic_probe,\n"))
    return to


def run_new_code(code: Path, home: Path, fresh: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", NEW_CODE_BUILDS, str(home), str(fresh), MART, ",".join(sorted(SELECTED))],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    return orjson.loads(lines[-1])


def record(home: Path) -> dict:
    return orjson.loads((home / "builds" / "latest.json").read_bytes())


def rows(home: Path) -> dict[str, list[tuple]]:
    """Each table's rows in a fixed order, without the columns saying when a build wrote them."""
    out = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for table in TABLES:
            schema, name = table.split(".")
            columns = [
                f'"{c}"'
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                    " and column_name not in ('loaded_at', 'loaded_through') order by ordinal_position",
                    [schema, name],
                ).fetchall()
            ]
            out[table] = con.sql(f"select {', '.join(columns)} from {table} order by all").fetchall()  # noqa: S608
    return out


def run_sql(home: Path, build: dict) -> dict[str, str]:
    """What dbt ran for each incremental model of the build (its target's run/ folder): a whole
    rebuild creates the table from its query, an incremental run adds to it."""
    (target,) = (home / "dbt" / "target").glob(f"*-{build['run_id'].replace('-', '')[:8]}")
    ran = {path.stem: path.read_text() for path in (target / "run").rglob("*.sql")}
    return {name: ran.get(name, "") for name in (CHANGED, *DOWNSTREAM, UNTOUCHED)}  # "": it did not run


def rebuilt_whole(sql: str) -> bool:
    """dbt created the table anew (an incremental run creates a temporary table at most)."""
    return re.search(r"\bcreate\s+table\b", sql, re.IGNORECASE) is not None


def newest_dbt_log(home: Path) -> str:
    """The dbt log of the home's newest build (its target folders are named by UTC time)."""
    (newest, *_) = sorted((p for p in (home / "dbt" / "target").iterdir() if p.is_dir()), reverse=True)
    return "".join(log.read_text() for log in sorted(newest.glob("dbt.log*")))


def as_recorded_by_version_1(home: Path) -> None:
    """The home's record of the logic that built it rewritten as a hubwatch from before 2026-12-01
    kept it (version 1: each macro fingerprinted by its whole file), for the same logic: the record
    every warehouse in use holds when it is upgraded to this version."""
    path = built_logic_path(home)
    record = orjson.loads(path.read_bytes())
    assert record["version"] == RECORD_VERSION
    manifest = orjson.loads((DBT_DIR / "target" / "manifest.json").read_bytes())
    by_file = Fingerprints(manifest, DBT_DIR, macros_by_file=True).all()
    path.write_bytes(orjson.dumps({"version": 1, "models": {uid: by_file[uid] for uid in record["models"]}}))


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory, two_days_built):
    """A copy of a home this code built on two days, its record as version 1 kept it, the next day's
    snapshots added; what this code would refresh in it; then the new code's builds (NEW_CODE_BUILDS)."""
    shared, spare = two_days_built
    root = tmp_path_factory.mktemp("upgrade")
    home, code = copy_home(shared, root / "home"), new_code(root / "code")
    as_recorded_by_version_1(home)
    for partition in spare.glob(f"raw/*/snapshot_date={SPARE_DAY}"):
        copy_snapshot(partition, home / "raw")
    old, unchanged = rows(home), logic_refresh(home)
    outcome = run_new_code(code, home, root / "fresh")
    upgrade_record = record(home)  # the new code's only build in this home
    return {
        "old": old,
        "unchanged": unchanged,
        **outcome,
        "upgrade_record": upgrade_record,
        "logic_record": orjson.loads(built_logic_path(home).read_bytes()),
        "upgrade_sql": run_sql(home, upgrade_record),
        "upgraded": rows(home),
        "full_rows": rows(root / "fresh"),
        "full_log": newest_dbt_log(root / "fresh"),
    }


def test_a_build_after_an_upgrade_that_changed_an_incremental_model_succeeds(upgraded):
    """The bug: dbt's on_schema_change='fail' stopped the scheduled build until someone ran
    `hubwatch build --full-refresh` by hand."""
    assert upgraded["upgrade"] == "succeeded", upgraded["upgrade"]
    assert upgraded["upgrade_record"]["result"] == "partial"  # upstream_of: a part of the warehouse
    assert upgraded["upgrade_record"]["full_refresh"] is False


def test_the_changed_model_and_what_reads_it_are_rebuilt_whole_and_said_so(upgraded):
    refresh = upgraded["upgrade_record"]["logic_refresh"]
    assert sorted(refresh["models"]) == sorted([CHANGED, *DOWNSTREAM])  # UNTOUCHED's logic did not change
    ran = upgraded["upgrade_sql"]
    assert all(rebuilt_whole(ran[name]) for name in (CHANGED, *DOWNSTREAM)), ran
    assert not rebuilt_whole(ran[UNTOUCHED]), ran[UNTOUCHED]  # the day added to what it held
    assert CHANGED in refresh["reason"] and "rebuilding" in refresh["reason"]
    assert "\n" not in refresh["reason"]


def test_no_table_mixes_rows_of_the_old_and_the_new_logic(upgraded):
    """Every row, the first days' too, is computed by the new logic (names prefixed, the new column
    filled), and each table equals a full build of the new code on the same raw/."""
    assert upgraded["full"] == "succeeded", upgraded["full"]
    new, old = upgraded["upgraded"], upgraded["old"]
    classified = new["intermediate.int_civitai__model_snapshots"]
    assert {row[2].isoformat() for row in classified} == {*TWO_DAYS, SPARE_DAY}
    assert all(row[-1] == "v2" for row in classified)
    names = [row[4] for row in new["marts.model_snapshots"] if row[0] == "civitai" and row[4] is not None]
    assert names and all(name.startswith("v2:") for name in names)
    assert not any(row[4].startswith("v2:") for row in old["marts.model_snapshots"] if row[4] is not None)
    for table in TABLES:
        assert new[table], table
        assert new[table] == upgraded["full_rows"][table], table


def test_an_unchanged_project_refreshes_nothing(upgraded):
    """In the home this code built, this code refreshes nothing, its record being of version 1 (the
    new way of fingerprinting macros rebuilds nothing by itself); after the upgrade's build, the new
    code refreshes nothing either (and a model not listed is built incrementally: UNTOUCHED above),
    so the daily builds after an upgrade stay incremental. That build wrote the record anew, of
    this version, for every model it held."""
    assert upgraded["unchanged"].refresh == []
    assert upgraded["unchanged"].fingerprints  # the project was read
    assert upgraded["again"] == []
    record = upgraded["logic_record"]
    assert record["version"] == RECORD_VERSION and f"model.hubwatch.{UNTOUCHED}" in record["models"]


def test_the_build_after_the_upgrades_reuses_its_parse(upgraded):
    """The upgrade's build parses the new project in full (another checkout: dbt's own check); the
    build after it (here the full build in a copy of that home) starts from that parse. The models to
    rebuild whole reached dbt as a var, which the next build no longer set: dbt parsed the whole
    project again (a second full parse after every upgrade); they now reach it at run time."""
    assert upgraded["full"] == "succeeded", upgraded["full"]
    assert "Running with dbt=" in upgraded["full_log"]  # the build's own log was read
    assert "Unable to do partial parsing" not in upgraded["full_log"]

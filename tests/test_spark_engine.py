"""The same fakehub world built on both engines gives the same public tables.

One home, as a user would have it: the small world on four days (conftest.measures_home: every
source, built whole on DuckDB, which test_model_measures and test_image_measures read too; copied
here) published by DuckDB; the first three days built on Spark, the fourth added, and `hubwatch
build --engine spark` adds it incrementally (insert_overwrite of its snapshot partitions), running
every data test, then publishes the same date again (--force). Every public table of the two
packages must hold the same rows (EXCEPT ALL both ways, doubles rounded), build_info aside, which
must name its engine: Spark's incremental build equals DuckDB's full one.

Spark's cost here is start-up and a per-query cost, not data (about a second per node, ~470
nodes), so the module pays for one Spark build whole. The first Spark step only lays down what the
incremental build starts from: the incremental models and the models and seeds they read, built
by dbt on Spark with the vars and target `hubwatch build` gives it, without data tests (every other
table is rebuilt whole by the build under test, which runs every data test on the final tables).
That step's parsed project is reused by the build (its partial parse, as a daily build reuses the
one before), and so is its JVM: the step runs in tests/spark_gateway.py, which keeps the JVM
running, and the Spark build's pyspark starts its Spark context in it (PYSPARK_GATEWAY_PORT), its
classes loaded and its code compiled, instead of starting a JVM of its own (it could not: its
JAVA_HOME names a folder without Java, so the module fails if that reuse is lost). DuckDB's publish
runs in this process (publish.package.publish), the Spark build and its publish as the commands a user
runs. Both Spark steps run Spark tuned for short runs on small data (SPARK_ENV: the JVM's flags,
expressions and queries interpreted, no adaptive re-planning, one shuffle partition).
Needs Java 17 (`make java`); skipped without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import orjson
import pytest

from dagster_project.model_logic import record_built
from dagster_project.warehouse import DBT_DIR, build_args, dbt_target, logic_refresh, parsed_for
from ingest.files import sql_text
from publish.package import PUBLIC_TABLES
from tests.conftest import MEASURES_DAYS, copy_home, hubwatch

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Java 17 is not installed (make java)"),
]
# conftest.measures_home: the small world on four days, every source, built whole on DuckDB
LAST_DAY = MEASURES_DAYS[-1]  # the first Spark step builds the days before it
GATEWAY = Path(__file__).with_name("spark_gateway.py")  # runs the first Spark step, keeps its JVM
INCREMENTAL = "incremental"  # the materialisation whose tables a build carries forward
# a safety net, not a target: a build that takes minutes on an idle machine took 15 on one
# shared by five builds at once (load 26), and a timeout there says nothing about Spark
TIMEOUT = 2400
SPARK_ENV = {
    "HUBWATCH_SPARK_DRIVER_MEMORY": "2g",
    # a short run on small data: no optimising JIT, one GC thread (about half the JVM's CPU time);
    # that JIT alone gets a 48 MB code cache, which the project's queries fill: the JVM then fails
    # ("Out of space in CodeCache for adapters"), so it gets Java's usual 240 MB. Nor does Spark
    # compile Java for each expression (spark.sql.codegen.factoryMode=NO_CODEGEN, the interpreted
    # evaluation Spark's own test suites run; a system property "spark.*" is a Spark setting):
    # compiling them with Janino was ~13 % of the JVM's CPU here (the results are the same: the
    # comparison below holds). Queries interpreted with adaptive execution off (below), a filter
    # that dynamic partition pruning adds fails in Spark ("input[1, date, true] IN dynamicpruning#...
    # has not finished": int_sd15_lineage_counts, int_real_person_downloads); the spark profile
    # turns that pruning off under these settings (dbt/profiles.yml), which these builds test.
    "HUBWATCH_SPARK_JAVA_OPTIONS": (
        "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"
        " -Dspark.sql.codegen.factoryMode=NO_CODEGEN"
    ),
    # no Java compiled per query: on this little data compiling costs more than it saves
    "HUBWATCH_SPARK_WHOLESTAGE_CODEGEN": "false",
    # nor re-planned between its stages (adaptive execution), over one shuffle partition: a few
    # hundred rows need no more
    "HUBWATCH_SPARK_ADAPTIVE": "false",
    "HUBWATCH_SPARK_SHUFFLE_PARTITIONS": "1",
}


@contextlib.contextmanager
def spark_incremental_tables(home: Path, env: dict[str, str]):
    """The tables an incremental Spark build starts from (the incremental models and what they read,
    full build), without data tests: dbt on Spark with the arguments `hubwatch build --engine spark`
    would give it, its artefacts in a build folder of the home (so the build reuses its parse), and
    the record of the logic that built them, as `hubwatch build` keeps it (else the next build would
    rebuild them whole: dagster_project/model_logic.py). dbt runs in tests/spark_gateway.py, which
    keeps its JVM: yields the environment under which a later Spark process starts its Spark
    context in that JVM (pyspark's PYSPARK_GATEWAY_PORT and _SECRET) rather than a JVM of its own;
    the JVM stops when the block ends."""
    selection = ["--select", f"+config.materialized:{INCREMENTAL}", "--exclude-resource-type", "test"]
    target = dbt_target(home, uuid.uuid4().hex)
    places = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(target)]
    args = [*build_args(home, engine="spark"), *selection, *places, "--log-path", str(target)]
    info, log = home.parent / "spark-gateway.json", home.parent / "spark-gateway.log"  # beside the home
    with log.open("wb") as out:
        keeper = subprocess.Popen(  # noqa: S603 (our own helper, our own arguments)
            [sys.executable, str(GATEWAY), str(info), *args], env=env, stdin=subprocess.PIPE, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        while not info.is_file() and keeper.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert info.is_file(), log.read_text()[-3000:]
        kept = orjson.loads(info.read_bytes())
        assert kept["success"] and kept["port"], log.read_text()[-3000:]
        record_built(home, "spark", target / "run_results.json", logic_refresh(home, "spark"))
        yield {"PYSPARK_GATEWAY_PORT": str(kept["port"]), "PYSPARK_GATEWAY_SECRET": kept["secret"]}
    finally:
        keeper.stdin.close()  # the keeper exits, and its JVM with it
        try:
            keeper.wait(timeout=60)
        except subprocess.TimeoutExpired:
            keeper.kill()
            keeper.wait()


def table_differences(left: Path, right: Path, table: str) -> tuple[int, int, list[tuple]]:
    """Rows of one Parquet file not in the other, each way (EXCEPT ALL; doubles rounded to 9
    places, lists and every other type compared as they are), and a few examples."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        described = con.sql(f"describe select * from read_parquet('{sql_text(str(left))}')").fetchall()  # noqa: S608
        columns = [
            f"round({name}, 9) as {name}" if kind in ("DOUBLE", "FLOAT") else name for name, kind, *_ in described
        ]
        select = ", ".join(columns)
        a = f"(select {select} from read_parquet('{sql_text(str(left))}'))"  # noqa: S608 (test paths)
        b = f"(select {select} from read_parquet('{sql_text(str(right))}'))"  # noqa: S608 (test paths)
        only_left = con.sql(f"select * from {a} except all select * from {b}").fetchall()  # noqa: S608
        only_right = con.sql(f"select * from {b} except all select * from {a}").fetchall()  # noqa: S608
    return len(only_left), len(only_right), (only_left + only_right)[:3]


def spark_env(home: Path) -> dict[str, str]:
    """The environment of a `hubwatch` command on the home (no hub is crawled), Spark as above."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "CIVITAI_", "HF_", "PYSPARK_"))}
    return {**env, "HUBWATCH_HOME": str(home), **SPARK_ENV}


def set_aside(partitions: list[Path], home: Path, aside: Path) -> None:
    """Raw partitions moved between raw/ and a folder beside the home, keeping raw/'s layout
    (a rename: their bytes and times are kept, so raw/ verifies as before)."""
    for partition in partitions:
        to = aside / partition.relative_to(home)
        to.parent.mkdir(parents=True, exist_ok=True)
        partition.rename(to)


@pytest.fixture(scope="module")
def packages(tmp_path_factory, measures_home):
    from publish.package import publish

    home = copy_home(measures_home, tmp_path_factory.mktemp("engines") / "home")
    duckdb_package = home.parent / "duckdb-package"
    shutil.copytree(publish(home, publish_date=LAST_DAY).path, duckdb_package)  # DuckDB's, built whole
    env = spark_env(home)
    last_day = sorted(home.glob(f"raw/*/snapshot_date={LAST_DAY.isoformat()}"))
    assert len(last_day) >= 2, last_day
    with contextlib.ExitStack() as stack:
        aside = home.parent / "last-day"
        set_aside(last_day, home, aside)  # Spark's first step sees the first days only
        kept_jvm = stack.enter_context(spark_incremental_tables(home, env))
        set_aside([aside / p.relative_to(home) for p in last_day], aside, home)  # the last day arrives
        # a DuckDB build's parse is the home's newest (as if DuckDB had built since): the Spark build
        # must still start from Spark's (warehouse.reuse_parse)
        duckdb_parse = next(p for p in sorted((home / "dbt" / "target").glob("2*")) if parsed_for(p) == "duckdb")
        duckdb_parse.rename(dbt_target(home, uuid.uuid4().hex))
        # the build can only run in the kept JVM: JAVA_HOME names a folder without Java, so a JVM of
        # its own (the gateway's variables lost on the way) would fail to start and the build with it
        no_java = home.parent / "no-java"
        no_java.mkdir()
        build_env = {**env, **kept_jvm, "JAVA_HOME": str(no_java)}
        spark = hubwatch("build", "--engine", "spark", env=build_env, timeout=TIMEOUT)
    assert spark.returncode == 0, spark.stderr[-3000:]
    checks = re.search(r"checks: (\d+) passed, (\d+) failed", spark.stderr)
    assert checks and int(checks[1]) > 0 and checks[2] == "0", spark.stderr[-3000:]  # the data tests ran on Spark
    again = hubwatch("publish", "--date", LAST_DAY.isoformat(), "--force", env=env, timeout=TIMEOUT)
    assert again.returncode == 0, again.stderr[-3000:]
    return duckdb_package, home / "publish" / LAST_DAY.isoformat(), home


def test_both_engines_publish_the_same_tables(packages):
    duckdb_package, spark_package, _ = packages
    differences = {}
    for table in PUBLIC_TABLES:
        if table == "build_info":
            continue
        left, right = duckdb_package / "data" / f"{table}.parquet", spark_package / "data" / f"{table}.parquet"
        only_duckdb, only_spark, examples = table_differences(left, right, table)
        if only_duckdb or only_spark:
            differences[table] = (only_duckdb, only_spark, examples)
    assert differences == {}


def test_both_packages_have_the_same_files_and_schemas(packages):
    duckdb_package, spark_package, _ = packages
    a = orjson.loads((duckdb_package / "manifest.json").read_bytes())
    b = orjson.loads((spark_package / "manifest.json").read_bytes())
    assert sorted(a["files"]) == sorted(b["files"])
    assert {t: v["schema"] for t, v in a["tables"].items()} == {t: v["schema"] for t, v in b["tables"].items()}
    assert {t: v["rows"] for t, v in a["tables"].items()} == {t: v["rows"] for t, v in b["tables"].items()}


def test_the_package_says_which_engine_built_it(packages):
    duckdb_package, spark_package, _ = packages
    for package, engine in ((duckdb_package, "duckdb"), (spark_package, "spark")):
        manifest = orjson.loads((package / "manifest.json").read_bytes())
        assert manifest["build"]["engine"] == engine
        assert manifest["tools"]["engine"]["name"] == engine
        with duckdb.connect(str(package / "hubwatch.duckdb"), read_only=True) as con:
            assert con.sql("select engine from build_info").fetchall() == [(engine,)]


def test_spark_keeps_its_state_under_the_home(packages):
    _, _, home = packages
    assert (home / "spark" / "warehouse" / "marts.db" / "model_snapshots").is_dir()
    assert (home / "spark" / "public.duckdb").is_file()
    assert not (Path.cwd() / "metastore_db").exists() and not (Path.cwd() / "spark-warehouse").exists()


def test_spark_added_the_last_snapshot_incrementally(packages):
    """The build compared above is incremental on Spark: every model incremental there overwrote only
    the new snapshot's partitions (insert_overwrite, reading from the last day, or only the rows the
    per-snapshot tables loaded since it last wrote: last_written_at), none was built whole (as it
    would be if the first step had not laid its table down)."""
    _, _, home = packages
    target = max(p for p in (home / "dbt" / "target").iterdir() if p.is_dir())  # the Spark build's
    assert parsed_for(target) == "spark"
    manifest = orjson.loads((target / "manifest.json").read_bytes())
    incremental = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == INCREMENTAL
    ]
    assert len(incremental) >= 5, [node["name"] for node in incremental]
    for node in incremental:
        run = (target / "run" / "hubwatch" / node["original_file_path"]).read_text()
        compiled = (target / "compiled" / "hubwatch" / node["original_file_path"]).read_text()
        assert run.lstrip().startswith("insert overwrite table"), (node["name"], run[:300])
        if "last_written_at()" in node["raw_code"]:  # reads what was loaded since it last wrote
            assert "where loaded_at > timestamp '" in compiled, node["name"]
        else:
            assert f"date '{LAST_DAY.isoformat()}'" in compiled, node["name"]
        assert "date '0001-01-01'" not in compiled, node["name"]


def test_the_spark_build_reused_the_parse_of_the_first_spark_step(packages):
    """DuckDB built in between, yet the Spark build started from Spark's own parsed project
    (warehouse.reuse_parse picks the newest parse of the build's engine), not a full parse."""
    _, _, home = packages
    target = max(p for p in (home / "dbt" / "target").iterdir() if p.is_dir())
    log = "".join(f.read_text() for f in target.glob("dbt.log*"))  # rotated at 10 MB
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed" in log
    assert "Unable to do partial parsing" not in log

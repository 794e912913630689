"""Everything `dbt build` needs that dbt cannot do itself (dbt itself runs in one place only:
the `@dbt_assets` of dagster_project/defs/transform, which tests and benchmarks run too).

dbt must read only complete, intact snapshots, and DuckDB errors on a glob that matches no
file. So before every build: each raw/ partition is verified against its manifest (a ledger
remembers, for each verified partition, its manifest's sha256 and every file's size and mtime:
a daily build hashes only the new snapshot and stats the others, so a truncated or replaced file
is caught before dbt runs; a partition is hashed again when a file's stat changed, and every
HUBWATCH_REHASH_DAYS; --full-refresh hashes everything), an empty Parquet file with the right
schema stands in for a source that has no snapshot yet, and the verified locations are handed to
dbt at run time (build_args: never in dbt's vars, so that one parse serves every home). dbt writes
its artefacts under $HUBWATCH_HOME/dbt/target/, the last few kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import sys
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from dagster_project import build_record, model_logic
from dagster_project.dbt_child import RUN_FILE
from ingest import __version__, civitai, huggingface, pagestore, rowstore
from ingest.files import dumps, sql_text, write_atomic
from ingest.home import ensure_creator_salt, warehouse_path
from ingest.http import CrawlError, env_number
from ingest.landing import MANIFEST, SOURCES, BadSnapshot, partition_date, stored_files, verify_snapshot

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")  # the dbt of this environment, PATH or not
DBT_CHILD = Path(sys.executable).with_name("hubwatch-dbt")  # that dbt, killed with its parent (dbt_child.py)
TARGET_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
TABLES = {
    "civitai_models": ("models", "model_versions", "model_files"),
    "civitai_images": ("images", "image_resources", "image_prompts"),
    "hf_models": ("models", "model_files"),
}
LEDGER = "verified_snapshots.json"
RAW_ENV = "HUBWATCH_DBT_RAW"  # the raw files' lists, read by dbt at run time (macros/raw_sources.sql)
REFRESH_ENV = "HUBWATCH_DBT_REFRESH"  # models rebuilt whole, read at run time (macros/refresh_changed_logic.sql)
WAREHOUSE_ENV = "HUBWATCH_DBT_WAREHOUSE"  # the warehouse's path as dbt opens it (dbt/profiles.yml)
PENDING_REFRESH = "full_refresh_pending.json"


class BuildError(CrawlError):
    """The warehouse could not be built; the message says why in one line."""


def empty_tables() -> dict[str, pl.DataFrame]:
    """Zero-row tables with exactly the schemas ingest writes, keyed 'source/table'."""
    frames = {
        **{f"civitai_models/{k}": v for k, v in civitai.normalise_models([]).items()},
        **{f"civitai_images/{k}": v for k, v in civitai.normalise_images([]).items()},
        "hf_models/models": huggingface.normalise_models([]),
        "hf_models/model_files": huggingface.normalise_files([], date(1, 1, 1)),
    }
    return frames


def verify_raw(home: Path, full: bool = False) -> dict[str, list[date]]:
    """Verify every raw/ partition (cheaply when already verified); return complete dates per source.

    A partition not in the ledger, with a changed manifest, with a file whose size or mtime moved,
    or last hashed more than HUBWATCH_REHASH_DAYS ago is hashed whole; the others are checked by
    size (against the manifest) and mtime (against the ledger). Raises BuildError naming the fault.
    """
    ledger_path = home / LEDGER
    ledger = {} if full else read_ledger(ledger_path)
    rehash_before = datetime.now(UTC) - timedelta(days=env_number("HUBWATCH_REHASH_DAYS", 30.0, float))
    dates: dict[str, list[date]] = {}
    try:
        for source in SOURCES:
            root = home / "raw" / source
            for partition in sorted(root.glob("*")) if root.is_dir() else []:
                if partition.name == pagestore.PACKS:  # the source's page store: checked through each manifest
                    continue
                day = partition_date(partition)
                key = partition.relative_to(home).as_posix()
                ledger[key] = verified_entry(partition, ledger.get(key), rehash_before)
                dates.setdefault(source, []).append(day)
    except CrawlError as error:  # a damaged or misnamed partition: what was verified stays verified
        with suppress(OSError):
            write_atomic(ledger_path, dumps({"version": 2, "partitions": ledger}))
        raise BuildError(str(error)) from None
    write_atomic(ledger_path, dumps({"version": 2, "partitions": ledger}))
    return dates


def read_ledger(path: Path) -> dict[str, Any]:
    """Partitions verified before (a ledger from before sizes and mtimes counts as none)."""
    if not path.is_file():
        return {}
    try:
        ledger = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return {}
    return ledger.get("partitions", {}) if isinstance(ledger, dict) and ledger.get("version") == 2 else {}


def verified_entry(partition: Path, entry: dict[str, Any] | None, rehash_before: datetime) -> dict[str, Any]:
    """The ledger entry of a partition that is intact: stat-checked if possible, else hashed."""
    manifest_file = partition / MANIFEST
    if not manifest_file.is_file():
        verify_snapshot(partition)  # raises, naming the partition
    stamp = hashlib.sha256(manifest_file.read_bytes()).hexdigest()
    if entry and entry.get("manifest_sha256") == stamp and entry.get("hashed_at", "") >= rehash_before.isoformat():
        manifest = orjson.loads(manifest_file.read_bytes())
        stats = file_stats(partition, manifest)
        if stats == entry.get("files"):
            return entry
    manifest = verify_snapshot(partition)
    return {"manifest_sha256": stamp, "files": file_stats(partition, manifest), "hashed_at": _now()}


def file_stats(partition: Path, manifest: dict[str, Any]) -> dict[str, list[int]]:
    """[size, mtime_ns] of every file the manifest lists (its packs too); a missing or resized file is
    a BadSnapshot."""
    stats = {}
    for target, entry in stored_files(partition, manifest).items():
        inside = target.parent != pagestore.packs_dir(partition)
        name = target.relative_to(partition).as_posix() if inside else f"{pagestore.PACKS}/{target.name}"
        try:
            stat = target.stat()
        except FileNotFoundError:
            raise BadSnapshot(f"{target} is listed in the manifest but missing") from None
        if "bytes" in entry and stat.st_size != entry["bytes"]:
            raise BadSnapshot(
                f"{target} is {stat.st_size} bytes, its manifest says {entry['bytes']} (truncated or altered)"
            )
        stats[name] = [stat.st_size, stat.st_mtime_ns]
    return stats


def _now() -> str:
    return datetime.now(UTC).isoformat()


# -- dbt's artefacts under the home, and its failures in one line ---------------------------------
def dbt_target(home: Path, run_id: str) -> Path:
    """Where one build's dbt artefacts go: $HUBWATCH_HOME/dbt/target/<UTC time>-<run>/."""
    return home / "dbt" / "target" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{run_id.replace('-', '')[:8]}"


PARTIAL_PARSE = "partial_parse.msgpack"


def reuse_parse(home: Path, target: Path, engine: str = "duckdb") -> Path | None:
    """Give a build's new target folder the newest earlier build's parsed project of the same engine,
    so dbt parses only what changed (its partial parsing; dbt itself starts a full parse when the
    project, the vars, the profile or dbt's version differ). A daily build in one home keeps its
    vars, so it skips the ~5 s full parse (Spark's ~10 s); a home built on both engines reuses each
    engine's own parse (the other's is for another profile: dbt would parse in full). The file
    copied, or None when no earlier build of that engine left one."""
    root = home / "dbt" / "target"
    earlier = sorted(p for p in root.glob("*") if p.is_dir() and TARGET_NAME.match(p.name)) if root.is_dir() else []
    for folder in reversed(earlier):
        saved = folder / PARTIAL_PARSE
        if folder != target and saved.is_file() and parsed_for(folder) == engine:
            target.mkdir(parents=True, exist_ok=True)
            write_atomic(target / PARTIAL_PARSE, saved.read_bytes())
            return saved
    return None


ADAPTER_TYPE = re.compile(rb'"adapter_type":\s*"(\w+)"')


def parsed_for(folder: Path) -> str | None:
    """The engine (dbt adapter) a build folder's project was parsed for: dbt's manifest.json names
    it in its metadata, which dbt writes first (only the file's head is read)."""
    try:
        with (folder / "manifest.json").open("rb") as manifest:
            found = ADAPTER_TYPE.search(manifest.read(8192))
    except OSError:
        return None
    return found[1].decode() if found else None


def prune_dbt_targets(home: Path, keep: int | None = None) -> list[Path]:  # after a build: it counts too
    """Remove all but the newest `keep` build folders (HUBWATCH_KEEP_DBT_TARGETS, default 5)."""
    keep = keep if keep is not None else env_number("HUBWATCH_KEEP_DBT_TARGETS", 5, int, minimum=1)
    root = home / "dbt" / "target"
    builds = sorted(p for p in root.glob("*") if p.is_dir() and TARGET_NAME.match(p.name)) if root.is_dir() else []
    removed = builds[: max(len(builds) - keep, 0)]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def dbt_failure(target: Path, returncode: int | None, record_id: str | None = None) -> str:
    """One line for a failed dbt build: the first failing node and its message, the build record
    that says so, and the log path (last)."""
    log = target / "dbt.log"
    run_results = target / "run_results.json"
    failed = []
    if run_results.is_file():
        results = orjson.loads(run_results.read_bytes()).get("results", [])
        failed = [r for r in results if r.get("status") in ("error", "fail")]
    record = f" (build record {record_id})" if record_id else ""
    if not failed:
        return f"dbt failed before building anything (exit code {returncode}){record}; see {log}"
    first = failed[0]
    kind, *_, last = parts = first["unique_id"].split(".")
    node = f"{kind} {parts[2] if kind == 'test' else last}"  # test.<project>.<name>.<hash>: its name
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    # a `checks` test (a model's checks in one node) names what failed in its rows, not in its name:
    # quote them (the target folder is <home>/dbt/target/<build>, dbt_target)
    warehouse = warehouse_path(target.parents[2]) if parsed_for(target) == "duckdb" else None
    message = f"{node_message(first.get('message'))}{build_record.merged_test_rows(first, warehouse)}"
    return f"dbt build failed at {node}: {message}{more}{record}; the full log: {log}"


def node_message(message: str | None) -> str:
    """The informative line of a dbt node's message (after 'Runtime Error in model x (path)')."""
    lines = [ANSI.sub("", line).strip() for line in (message or "").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1 and re.match(r"^[\w ]*Error in \w+ ", lines[0]):
        lines = lines[1:]
    text = " ".join(lines) or "no message"
    return text if len(text) <= 300 else text[:299] + "…"


def pending_refresh_path(home: Path, engine: str = "duckdb") -> Path:
    """Each engine's warehouse keeps its own rows, so each has its own list of snapshots to drop."""
    return home / PENDING_REFRESH if engine == "duckdb" else home / engine / PENDING_REFRESH


def vanished_snapshots(home: Path, engine: str = "duckdb") -> list[str]:
    """Snapshots an earlier build loaded that are no longer in raw/ as they were: withdrawn (or
    removed by hand), even if the date was imported or taken again since. Incremental models
    keep the rows of such a snapshot, so the build must rebuild every table (a full refresh);
    until one succeeds they stay listed in PENDING_REFRESH, so a failed rebuild is retried. A
    snapshot found gone is listed for every engine that has a warehouse (the other engine's next
    build must drop its rows too, though this build's verification forgets it)."""
    pending_path = pending_refresh_path(home, engine)
    ledger = {key: entry["manifest_sha256"] for key, entry in read_ledger(home / LEDGER).items()}
    pending = orjson.loads(pending_path.read_bytes()) if pending_path.is_file() else []
    withdrawn = {
        orjson.loads(p.read_bytes()).get("manifest_sha256") for p in home.glob("withdrawn/*/*/withdrawal.json")
    }
    gone = []
    for key, stamp in ledger.items():
        manifest = home / key / "manifest.json"
        retaken = manifest.is_file() and hashlib.sha256(manifest.read_bytes()).hexdigest() != stamp
        if not manifest.is_file() or (retaken and stamp in withdrawn):
            gone.append(key)
    vanished = sorted(set(pending) | set(gone))
    if vanished != pending:
        write_atomic(pending_path, dumps(vanished))
    built = {"duckdb": (home / "warehouse.duckdb").is_file(), "spark": (home / "spark").is_dir()}
    for other in (e for e in built if e != engine and built[e] and gone):
        other_path = pending_refresh_path(home, other)
        listed = orjson.loads(other_path.read_bytes()) if other_path.is_file() else []
        if set(gone) - set(listed):
            write_atomic(other_path, dumps(sorted(set(listed) | set(gone))))
    return vanished


def refreshed(home: Path, engine: str = "duckdb") -> None:
    """A full refresh succeeded: no vanished snapshot's rows are left in that engine's warehouse."""
    pending_refresh_path(home, engine).unlink(missing_ok=True)


def describe_vanished(keys: list[str]) -> str:
    """One line for the operator: which snapshots left raw/, and what the build does about it."""
    names = [key.removeprefix("raw/").replace("/snapshot_date=", " ") for key in keys]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    them = "it" if len(names) == 1 else "them"
    return f"{shown} left raw/ (withdrawn) since an earlier build: rebuilding every table without {them} (full refresh)"


def logic_refresh(home: Path, engine: str = "duckdb", selected: set[str] | None = None) -> model_logic.LogicCheck:
    """Which incremental models this build must rebuild whole because the dbt project's logic that
    built them has changed since (an upgrade): model_logic.py. An engine's first build has nothing
    to refresh; a partial build refreshes only what it builds (selected: model names)."""
    built = (home / "warehouse.duckdb").is_file() if engine == "duckdb" else (home / engine).is_dir()
    return model_logic.check(home, DBT_DIR / "target" / "manifest.json", DBT_DIR, engine, built, selected)


def sql_list(paths: list[str]) -> str:
    """A DuckDB list literal of string paths, quotes escaped."""
    return "[" + ", ".join(f"'{sql_text(p)}'" for p in paths) + "]"


def dbt_vars(home: Path, dates: dict[str, list[date]]) -> dict[str, Any]:
    """Where dbt's raw sources are: a glob over raw/'s partitions (verified before: verify_raw), or
    an empty stand-in. DuckDB reads the globs (raw_files); Spark the same files as folders of Hive
    partitions and a file name (raw_locations: macros/raw_sources.sql)."""
    if not any(dates.values()):
        raise BuildError(f"no complete snapshots under {home / 'raw'}: take one with `hubwatch snapshot` first")
    stand_ins = home / "warehouse_schemas"
    files: dict[str, str] = {"manifests": sql_list([f"{home}/raw/*/snapshot_date=*/manifest.json"])}
    locations: dict[str, dict[str, str]] = {"manifests": {"path": f"{home}/raw", "file": MANIFEST}}
    for source, tables in TABLES.items():
        for table in tables:
            key = f"{source}/{table}"
            pattern = f"snapshot_date=*/{table}.parquet"
            # a table newer than every snapshot of the source (taken before it existed) reads empty
            if dates.get(source) and any((home / "raw" / source).glob(pattern)):
                files[key] = sql_list([f"{home}/raw/{source}/{pattern}"])
                locations[key] = {"path": f"{home}/raw/{source}", "file": f"{table}.parquet"}
            else:
                stand_in = stand_ins / source / "snapshot_date=0001-01-01" / f"{table}.parquet"
                if not stand_in.is_file():
                    stand_in.parent.mkdir(parents=True, exist_ok=True)
                    empty_tables()[key].write_parquet(stand_in)
                files[key] = sql_list([str(stand_in)])
                locations[key] = {"path": str(stand_in.parent.parent), "file": stand_in.name}
            if table in rowstore.stored_tables(source):  # crawled model tables: listings + stored rows
                for name, (paths, location) in rowstore.dbt_sources(
                    home, source, table, empty_tables()[key], stand_ins
                ).items():
                    files[name], locations[name] = sql_list(paths), location
    return {"raw_files": files, "raw_locations": locations}


def parse_vars() -> dict[str, Any]:
    """The vars of every DuckDB build (and of `make manifest`'s parse): nothing of the home. dbt
    hashes its --vars (with the profile's connection values, the target and the env vars that
    dbt_project.yml reads) and parses the whole project again when the hash differs from the saved
    parse's, so these are the same in every home and a parse made in one serves all. The dbt
    project's own folder is among them, though no model reads it: a saved parse holds the project's
    absolute paths (its seeds' files among them), so one made for a checkout elsewhere must not be
    reused, and with it in the vars dbt's own check refuses it."""
    return {"hubwatch_version": __version__, "dbt_project_dir": str(DBT_DIR)}


def write_run_file(target: Path, home: Path, raw_files: dict[str, str], refresh_models: list[str] = ()) -> Path:
    """What dbt reads at run time only, in the build's target folder, where hubwatch-dbt finds it
    (dbt_child.py): dbt runs inside the home, opening the warehouse by its path relative to the
    home; $HUBWATCH_HOME (the salt of creator hashes is under it) and the raw files' lists (the
    macros over raw/, macros/raw_sources.sql) name the home by absolute path, so every view keeps
    absolute paths and the warehouse opens from any folder. The incremental models to rebuild whole
    (refresh_models) go here too, not in the vars: a var that comes and goes made dbt parse the
    whole project twice after an upgrade (the build that refreshes, then the next without it)."""
    env = {
        "HUBWATCH_HOME": str(home),
        WAREHOUSE_ENV: warehouse_path(home).relative_to(home).as_posix(),
        RAW_ENV: orjson.dumps(raw_files).decode(),
        REFRESH_ENV: orjson.dumps(list(refresh_models)).decode(),
    }
    target.mkdir(parents=True, exist_ok=True)
    write_atomic(target / RUN_FILE, dumps({"home": str(home), "env": env}))
    return target / RUN_FILE


def build_args(
    home: Path,
    full_refresh: bool = False,
    partial: bool = False,
    engine: str = "duckdb",
    refresh_models: list[str] | None = None,
    target: Path | None = None,
    checks_left_out: bool = False,
) -> list[str]:
    """`dbt build` with its vars, once raw/ is verified (BuildError names what was refused).

    DuckDB: the vars are parse_vars(), the same in every home; where the raw files are goes into
    target's run file (write_run_file), which hubwatch-dbt reads before it starts dbt: a build in a
    new or copied home reuses a parse made elsewhere (the home's own last one, else `make
    manifest`'s: dagster-dbt copies dbt/target/partial_parse.msgpack), and dbt still re-parses
    each file changed since. Without target (dbt run some other way) the run file is not written:
    give dbt its environment yourself (tests/test_dbt_unit_tests.py). Spark: the vars also hold the
    home, the salt's path and the raw folders (raw_locations), as before: its paths stay absolute
    (its metastore records each table's location, its JVM's folders are set from the home).

    refresh_models: incremental models to rebuild whole although the build is incremental (their
    logic changed since the warehouse was built: logic_refresh), which dbt/macros/refresh_changed_logic.sql
    reads at run time: on DuckDB from the run file (a var that comes and goes makes dbt parse the
    whole project again), on Spark or without target as the var refresh_models. A partial
    build runs only the tests whose every parent it builds or needs (dbt's buildable indirect selection): a
    test that also reads a table outside the selection may find it missing or stale. checks_left_out:
    the run's Dagster selection leaves out checks of the assets it builds (Dagster's asset-check
    selection, e.g. run_job(checks=False)); dagster-dbt then names the dbt tests of the checks it
    kept itself, with dbt's indirect selection empty (none when it kept none), which an indirect
    selection given here would override.

    dbt's unit tests are left out of every build, as dbt recommends ("only running unit tests in
    development or CI environments. Since the inputs of the unit tests are static, there's no need
    to use additional compute cycles running them in production": docs.getdbt.com/docs/build/unit-tests,
    "When to run unit tests"). They pin the models' logic on fixed rows, so they cannot fail on a
    day's data; `make test` runs them once (tests/test_dbt_unit_tests.py), and the data tests still
    run at every build. (Their fixtures are DuckDB SQL; the cross-engine test holds Spark's models
    equal to DuckDB's.)"""
    home = home.resolve()  # every path dbt is given is absolute
    salt = ensure_creator_salt(home)
    raw_vars = dbt_vars(home, verify_raw(home, full=full_refresh))
    settings = parse_vars()
    refresh = sorted(refresh_models or []) if not full_refresh else []
    run_file = engine == "duckdb" and target is not None  # what dbt reads at run time only
    if run_file:
        write_run_file(target, home, raw_vars["raw_files"], refresh)
    if engine != "duckdb":
        settings.update(hubwatch_home=str(home), creator_salt_path=str(salt), raw_locations=raw_vars["raw_locations"])
    if refresh and not run_file:
        settings["refresh_models"] = refresh
    args = ["build", "--vars", orjson.dumps(settings).decode(), "--exclude-resource-type", "unit_test"]
    if partial and not checks_left_out:
        args += ["--indirect-selection", "buildable"]
    if engine != "duckdb":
        args += ["--target", engine]
    return [*args, "--full-refresh"] if full_refresh else args


def remake_parse_under_dev(project: DbtProject, checkout: Path) -> None:
    """Under `dg dev`, bring the checkout's parse up to date the one way it is made, `make manifest`,
    so that the UI's "Reload definitions" picks up an edited model: make parses only when a dbt file
    changed, and then with a build's vars, so the parse keeps serving every home's first build.
    dagster-dbt's own DbtProject.prepare_if_dev is not used: it runs `dbt --version` and a `dbt parse`
    without a build's vars at every start (~8 CPU-s), a parse no build can start from. make is told
    the environment is current (-o .venv/.synced): a `git pull` that moved the lock must not
    re-install .venv under the running Dagster (`make install` does that). Without make (`dg dev`
    run by hand) or when the parse fails (a model being edited), the manifest there is used as it
    is, with a warning."""
    if not project.preparer.using_dagster_dev():
        return
    log = logging.getLogger(__name__)
    make = shutil.which("make")
    if make is None:
        log.warning("no make: %s/dbt/target's manifest is used as it is", checkout)
        return
    command = [make, "--silent", "--no-print-directory", "-C", str(checkout), "-o", ".venv/.synced", "manifest"]
    done = subprocess.run(command, check=False)  # noqa: S603
    if done.returncode != 0:
        log.warning("make manifest failed (%s): %s/dbt/target's manifest is used as it is", done.returncode, checkout)

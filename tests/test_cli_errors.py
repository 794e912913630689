"""Every failure the CLI can meet is one line on stderr and a non-zero exit, never a traceback:
misnamed or foreign partitions in raw/, bad settings, dbt failures, a damaged verified snapshot,
a full disk (Dagster's storage included). Each kind of failure is met once by the installed command
(its exit status and whole stderr as a process has them); further cases of a kind run the same
click group in this process (conftest.hubwatch_here)."""

import os
import shutil
import subprocess
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from dagster_project.warehouse import BuildError, verify_raw
from ingest import civitai, pagestore, rowstore
from ingest.home import snapshot_path
from ingest.http import Fetched
from ingest.landing import StagedSnapshot, complete_snapshots, read_manifest, verify_snapshot
from tests.conftest import copy_home, hub_env, hubwatch, hubwatch_here, snapshot_in_process

DAY = date(2025, 3, 1)


def error_lines(stderr: str) -> list[str]:
    """stderr without progress lines (a source's page count, the build's summary)."""
    progress = ("civitai_", "hf_models", "build: ", "  check not passed")
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(progress)]


def assert_one_line(done: subprocess.CompletedProcess, *fragments: str) -> str:
    assert done.returncode != 0
    lines = error_lines(done.stderr)
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error: "), done.stderr
    assert "Traceback" not in done.stderr and "\x1b[" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def staged_models(home: Path, day: date, drop: str | None = None) -> None:
    """A Civitai models snapshot of one model (optionally without a column), through the store."""
    with StagedSnapshot(home, "civitai_models", day, kind="simulated", host="fixture", plan={"scope": "all"}) as snap:
        item = {"id": 1, "name": "m", "modelVersions": [{"id": 2, "createdAt": "2025-01-01T00:00:00Z", "files": []}]}
        body = b'{"items": [], "metadata": {}}'
        snap.add_page(
            Fetched("fixture", 200, body, None, {}, datetime.now(UTC), 1),
            stream="items",
            items=1,
            cursor=None,
            state=None,
            errors=Counter(),
        )
        tables = civitai.normalise_models([item])
        if drop:
            tables["models"] = tables["models"].drop(drop)
        snap.publish(tables)


# -- raw/ -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_misnamed_partition_is_named_in_one_line(fakehub, home):
    bad = home / "raw" / "civitai_models" / "snapshot_date=2025-13-45"
    bad.mkdir(parents=True)
    env = hub_env(fakehub, home)
    assert_one_line(hubwatch("build", env=env), str(bad), "not a snapshot partition")  # the command's process
    snapshot = hubwatch_here("snapshot", "--sources", "civitai_models", "--as-of", DAY.isoformat(), env=env)
    assert_one_line(snapshot, str(bad), "not a snapshot partition")


@pytest.mark.slow
def test_a_snapshot_over_a_partition_without_manifest_is_refused_in_one_line(fakehub, home):
    """A refusal inside the snapshot run (the command's process for one: tests/test_snapshot_e2e.py's
    unreachable host)."""
    foreign = snapshot_path(home, "civitai_models", DAY)
    foreign.mkdir(parents=True)
    (foreign / "models.parquet").write_bytes(b"PAR1")
    env = hub_env(fakehub, home)
    done = hubwatch_here("snapshot", "--sources", "civitai_models", "--as-of", DAY.isoformat(), env=env)
    assert_one_line(done, str(foreign), "has no manifest.json")
    assert (foreign / "models.parquet").read_bytes() == b"PAR1"  # left as found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HUBWATCH_RATE", "abc", "HUBWATCH_RATE='abc' is not a number"),
        ("HUBWATCH_MAX_RETRIES", "2.5", "HUBWATCH_MAX_RETRIES='2.5' is not a whole number"),
        ("HUBWATCH_HF_FILES_BUDGET", "lots", "HUBWATCH_HF_FILES_BUDGET='lots' is not a whole number"),
        ("HUBWATCH_STEP_RETRIES", "x", "HUBWATCH_STEP_RETRIES='x' is not a whole number"),
        ("HUBWATCH_MAX_EMPTY_PAGES", "0", "HUBWATCH_MAX_EMPTY_PAGES='0' must be"),
    ],
)
def test_a_bad_setting_is_one_line_before_any_work(fakehub, home, name, value, message):
    env = hub_env(fakehub, home, **{name: value})
    command = hubwatch if name == "HUBWATCH_RATE" else hubwatch_here  # the first through the installed command
    done = command("snapshot", "--sources", "civitai_models", "--as-of", DAY.isoformat(), env=env)
    assert_one_line(done, message)
    assert fakehub.requests == 0 and not (home / "dagster").exists()


# -- the build --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_dbt_failure_is_one_line_naming_the_node_its_message_and_the_log(fakehub, home):
    staged_models(home, DAY, drop="tags")
    done = hubwatch("build", env=hub_env(fakehub, home), timeout=900)
    line = assert_one_line(done, "model stg_civitai__models", "Binder Error", "dbt.log")
    assert "--vars" not in line and "raw_files" not in line
    log = Path(line.rsplit("the full log: ", 1)[1])
    assert log.is_file() and log.is_relative_to(home / "dbt" / "target")


def test_a_truncated_parquet_in_a_verified_partition_is_caught_by_the_next_verification(tmp_path):
    staged_models(tmp_path, DAY)
    verify_raw(tmp_path)
    models = snapshot_path(tmp_path, "civitai_models", DAY) / "models.listing.parquet"
    size = models.stat().st_size
    with models.open("r+b") as handle:
        handle.truncate(size - 100)
    with pytest.raises(BuildError, match=f"models.listing.parquet is {size - 100} bytes, its manifest says {size}"):
        verify_raw(tmp_path)


def test_a_touched_file_is_hashed_again_and_a_same_size_alteration_caught_by_the_periodic_hash(tmp_path, monkeypatch):
    staged_models(tmp_path, DAY)
    verify_raw(tmp_path)
    models = snapshot_path(tmp_path, "civitai_models", DAY) / "models.listing.parquet"
    stat = models.stat()
    os.utime(models, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes: still fine
    verify_raw(tmp_path)
    data = bytearray(models.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, stat put back: only a hash can tell
    models.write_bytes(bytes(data))
    os.utime(models, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    verify_raw(tmp_path)  # within HUBWATCH_REHASH_DAYS the stat check trusts the ledger
    monkeypatch.setenv("HUBWATCH_REHASH_DAYS", "0")
    with pytest.raises(BuildError, match="does not match the sha256"):
        verify_raw(tmp_path)


@pytest.mark.slow
def test_a_damaged_verified_partition_stops_the_build_before_dbt(fakehub, real_crawls, tmp_path):
    """A home after a good build (a copy of the shared conftest.real_crawls home: two imported
    snapshots, verified and built), then one of its verified files damaged."""
    shared, made = real_crawls
    assert made["build"]["success"], made["build"]
    home = copy_home(shared, tmp_path / "home")
    env = hub_env(fakehub, home)
    verify_raw(home)  # the copy's files are the ones the build verified (same bytes, same stat)
    targets = set((home / "dbt" / "target").iterdir())
    assert targets
    models = snapshot_path(home, "civitai_models", date(2025, 8, 14)) / "models.parquet"
    with models.open("r+b") as handle:
        handle.truncate(models.stat().st_size // 2)
    done = hubwatch_here("build", env=env)  # the command's process: test_a_misnamed_partition_is_named_in_one_line
    assert_one_line(done, str(models), "truncated or altered")
    assert set((home / "dbt" / "target").iterdir()) == targets, "dbt ran on a damaged snapshot"


# -- a full disk ------------------------------------------------------------------------------------
def can_mount_tmpfs() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs (root and mount permitted, as on CI); a ballast file sets how full it is."""
    if not can_mount_tmpfs():
        pytest.skip("needs root and permission to mount a tmpfs (as on CI)")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_leaving(mount: Path, free_bytes: int) -> Path:
    ballast = mount / "ballast"
    available = shutil.disk_usage(mount).free + (ballast.stat().st_size if ballast.exists() else 0)
    with ballast.open("wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(available - free_bytes, 0))
    return ballast


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_the_rerun_after_freeing_space_completes(fakehub, small_disk, tmp_path):
    """Disks filled at several levels: the run stops in Dagster's storage, in the pages or in the
    Parquet; each time one line, nothing in raw/, and once space is freed the rerun completes. The
    runs that fill the disk are the command, each a process of its own (its one line is the point,
    and a run the full disk stopped may leave its run open and its pool slot claimed, which the next
    run reaps only once that process has ended: runs.reap_dead_runs; in this process the rerun
    waited for the slot for ever); the first snapshot and the reruns run the command's job in this
    process, under the command's environment."""
    from datetime import timedelta

    from ingest.home import staging_path
    from ingest.http import Politeness
    from ingest.snapshots import Endpoints, take_snapshot

    home, clean = small_disk / "home", tmp_path / "clean"
    env = hub_env(fakehub, home)
    # the command's job in this process (its start-up spared): Dagster's storage exists, as on a machine in use
    first = snapshot_in_process(env, DAY.isoformat(), ["hf_models"])
    assert first.success, first.error
    stopped_in = []
    for index, free_kb in enumerate((40, 250, 500, 540)):  # a run keeps Dagster's files open: ~300 KB more than before
        day = DAY + timedelta(days=index)
        args = ("snapshot", "--sources", "civitai_models", "--as-of", day.isoformat())
        ballast = fill_leaving(small_disk, free_kb * 1024)
        done = hubwatch(*args, env=env)
        line = assert_one_line(done)
        assert any(word in line for word in ("space", "disk")), line
        # raw/ holds whole snapshots only: this one (if only Dagster's record of it failed) or none
        raw = home / "raw" / "civitai_models"
        assert {d.name for d in (raw.iterdir() if raw.is_dir() else []) if d.name != pagestore.PACKS} == {
            f"snapshot_date={d}" for d in complete_snapshots(home, "civitai_models")
        }
        for complete in complete_snapshots(home, "civitai_models"):
            verify_snapshot(snapshot_path(home, "civitai_models", complete))
        checkpoint = staging_path(home, "civitai_models", day) / "checkpoint.json"
        if day in complete_snapshots(home, "civitai_models"):
            stopped_in.append("published")
        else:
            stopped_in.append(orjson.loads(checkpoint.read_bytes())["phase"] if checkpoint.is_file() else "start")
        ballast.unlink()
        requests = fakehub.requests
        rerun = snapshot_in_process(env, day.isoformat(), ["civitai_models"])  # `hubwatch snapshot`'s job, here
        assert rerun.success, rerun.error
        assert not list((raw / pagestore.PACKS).glob(".*")), "a half-written pack was left behind"
        if stopped_in[-1] == "crawled":
            assert fakehub.requests == requests, "the rerun fetched pages already stored"
        take_snapshot(
            "civitai_models",
            home=clean,
            endpoints=Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint),
            as_of=day.isoformat(),
            politeness=Politeness(requests_per_second=0),
        )
        for table in ("models", "model_versions", "model_files"):
            ours = rowstore.read_table(snapshot_path(home, "civitai_models", day), table)
            assert ours.equals(rowstore.read_table(snapshot_path(clean, "civitai_models", day), table))
        ours, theirs = read_manifest(home, "civitai_models", day), read_manifest(clean, "civitai_models", day)
        assert (ours["pages"], ours["items"]) == (theirs["pages"], theirs["items"])
    print("full disk stopped the runs in:", stopped_in)
    assert len(set(stopped_in)) >= 2, f"every level stopped the run at the same point: {stopped_in}"

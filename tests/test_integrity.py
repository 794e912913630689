"""Every package comes from one good build, traceably, and stays as published.

Publish refuses a failed, partial or outdated build (latest kept); a publish killed at any step,
or out of disk, leaves a complete `latest` (the previous package or the new one) and the next
publish cleans up; a dated package is never modified in place; the manifest names its build
and its inputs by their manifests' sha256; `hubwatch verify` passes a good package and fails a
tampered one.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import orjson
import pytest

from dagster_project.runs import build_warehouse
from ingest.fakehub import FakeHub
from publish.package import PublishError, publish
from publish.verify import VerifyError, verify
from tests.conftest import (
    SPARE_DAY,
    TWO_DAYS,
    copy_home,
    copy_snapshot,
    hub_env,
    hubwatch,
    hubwatch_here,
    publish_in_process,
)

pytestmark = pytest.mark.slow
DAYS = TWO_DAYS
# SPARE_DAY: snapshotted apart (conftest.two_days_built), added to raw/ by the tests that need new data
FIRST_PACKAGE = "2025-05-15"  # published by the fixture: `latest` before each test


@pytest.fixture(scope="module")
def origin(tmp_path_factory, two_days_built, small_world):
    """Two simulated days built (conftest.two_days_built, which test_publish shares: its home lies
    under a folder named o'brien, so every path that reaches SQL in the build is quoted) and, in a
    copy of that home also under a folder named o'brien (the package files' paths), published as
    2025-05-15; a third day's snapshots kept apart. The scene is set in this process (snapshots,
    `build_warehouse`, the publish job: what the commands run); the tests run the commands."""
    shared, spare = two_days_built
    home = copy_home(shared, tmp_path_factory.mktemp("integrity") / "o'brien" / "home")
    with FakeHub(small_world) as hub:  # no hub is read: the settings a user's shell would hold
        env = hub_env(hub, home)
    published = publish_in_process(home, FIRST_PACKAGE)
    assert published.success, published.error
    return home, spare, env


@pytest.fixture(scope="module", autouse=True)
def datapackage_validated_once():
    """verify's Frictionless validation of datapackage.json (a quarter CPU-second, its CSVs row by
    row) runs once per package content here: a killed publish leaves the previous package in place,
    and the tests verify those same bytes again and again (12 of the module's 26 validations were of
    one package). The key is SHA256SUMS as read after verify's check_files found every file of the
    package listed in it with its sha256, so the same key is the same bytes Frictionless read."""
    import publish.verify

    validate, valid = publish.verify.check_datapackage, set()

    def check_datapackage(package: Path) -> None:
        sums = (package / "SHA256SUMS").read_bytes()
        if sums not in valid:
            validate(package)  # raises VerifyError: never remembered as valid
            valid.add(sums)

    patch = pytest.MonkeyPatch()
    patch.setattr(publish.verify, "check_datapackage", check_datapackage)
    yield
    patch.undo()


@pytest.fixture
def home(origin, tmp_path) -> Path:
    """A copy of the fixture's home, for one test to change."""
    copy = tmp_path / "home"
    shutil.copytree(origin[0], copy, symlinks=True)
    return copy


def env_for(origin, home: Path) -> dict[str, str]:
    return {**origin[2], "HUBWATCH_HOME": str(home)}


def add_spare_snapshots(origin, home: Path) -> None:
    for partition in origin[1].glob(f"raw/*/snapshot_date={SPARE_DAY}"):
        copy_snapshot(partition, home / "raw")


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def publish_state(home: Path) -> tuple[str, dict[str, dict[str, str]]]:
    """Where `latest` points, and every file of every package (dated folders and hidden ones)."""
    root = home / "publish"
    packages = {p.name: tree_hashes(p) for p in root.iterdir() if p.is_dir() and not p.is_symlink()}
    return os.readlink(root / "latest"), packages


def assert_latest_complete(home: Path) -> Path:
    latest = (home / "publish" / "latest").resolve()
    verify(latest, home)  # raises VerifyError naming what is wrong
    return latest


def last_error_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert lines[0].startswith("hubwatch: error: ")
    return lines[0]


def refusal(done) -> str:
    """The error of a publish job run in this process (publish_in_process) that was refused: the
    one line `hubwatch publish` prints after `hubwatch: error: ` (cli.report_published), without
    that command's start-up; the tests that run the command check the line as printed."""
    assert not done.success
    assert done.error and "\n" not in done.error.strip(), done.error
    return done.error


# -- refused builds ----------------------------------------------------------------------------


def test_a_partial_dbt_failure_never_yields_a_mixed_package(origin, home):
    """A failing dbt node makes dbt skip everything downstream while build_info already names the
    new snapshot: the warehouse mixes two builds. The node: model_snapshots, holding a repeated row
    in an earlier snapshot (planted with its grain index dropped, as DuckDB refuses it otherwise),
    fails to put its unique index back. Publish refuses it, naming the failed build. The
    build is `hubwatch build`'s job over what the two tables that show the mix need (their upstream:
    model_snapshots and its failing grain test among them), as build_warehouse(upstream_of=...)
    selects: a whole build fails and skips the same way, and publish refuses a failed build before
    it asks how much of the warehouse the build selected (the refusal names the failure)."""
    before = publish_state(home)
    add_spare_snapshots(origin, home)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:  # one repeated row: model_snapshots fails
        first = f"snapshot_date = date '{DAYS[0]}'"
        repeat = f"insert into marts.model_snapshots select * from marts.model_snapshots where {first} limit 1"  # noqa: S608 (constants)
        with pytest.raises(duckdb.ConstraintException):  # refused while the grain index holds
            con.execute(repeat)
        con.execute("drop index marts.model_snapshots_grain")
        con.execute(repeat)
    env = env_for(origin, home)
    # in this process, the job `hubwatch build` runs (test_cli_errors runs the command)
    built = build_warehouse(home, upstream_of=("build_info", "lifecycle_by_snapshot"))
    assert not built.success
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["run_id"] == built.run_id
    assert record["result"] == "failed" and record["dbt_results"].get("skipped", 0) > 0, record
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:  # the mixed state is real
        assert con.sql("select last_snapshot from marts.build_info").fetchall() == [(date.fromisoformat(SPARE_DAY),)]
        lifecycle = "select count(*) from marts.lifecycle_by_snapshot where snapshot_date = ?"
        assert con.execute(lifecycle, [SPARE_DAY]).fetchall() == [(0,)]
    refused = f"the last build (run {record['run_id']}) failed"
    # the command's one line, from the installed command: the one process of a refused publish (every
    # refusal reaches it the same way, the publish job's error through cli.report_published; the other
    # refusals run the command in this process, conftest.hubwatch_here)
    line = last_error_line(hubwatch("publish", env=env))
    assert refused in line and "publish refused" in line, line
    for day, force in ((SPARE_DAY, False), ("2025-05-20", True)):  # `publish --date day [--force]`'s job, here
        said = refusal(publish_in_process(home, day, force=force))
        assert refused in said and "publish refused" in said, said
    assert publish_state(home) == before


def test_publish_is_refused_after_a_refused_raw_partition(origin, home):
    before = publish_state(home)
    add_spare_snapshots(origin, home)
    target = home / "raw" / "civitai_models" / f"snapshot_date={SPARE_DAY}" / "models.listing.parquet"
    target.write_bytes(target.read_bytes()[:-16] + b"x" * 16)
    built = build_warehouse(home)  # in this process, the job `hubwatch build` runs (test_cli_errors runs the command)
    assert not built.success and "does not match the sha256" in built.error, built.error
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["run_id"] == built.run_id
    assert record["result"] == "failed" and record["dbt_invocation_id"] is None
    # `hubwatch publish`'s job, in this process (the command's line for a failed build: the test above)
    said = refusal(publish_in_process(home))
    assert f"the last build (run {record['run_id']}) failed" in said and "models.listing.parquet" in said, said
    assert publish_state(home) == before


def test_publish_is_refused_when_raw_changed_since_the_build(origin, home):
    before = publish_state(home)
    add_spare_snapshots(origin, home)
    said = refusal(publish_in_process(home))  # `hubwatch publish`'s job, in this process
    assert "raw/ has changed since the last build" in said and "3 new snapshot(s)" in said, said
    assert publish_state(home) == before


def test_publish_is_refused_while_a_build_is_unfinished(origin, home):
    """A build killed outright leaves its record `running`: nothing may be published from it."""
    path = home / "builds" / "latest.json"
    record = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps({**record, "result": "running", "run_id": "killed-run"}))
    before = publish_state(home)
    said = refusal(publish_in_process(home, "2025-05-20"))  # `hubwatch publish --date`'s job, in this process
    assert "the last build (run killed-run" in said and "never finished" in said, said
    assert publish_state(home) == before


def test_a_public_table_never_built_is_refused_in_one_line(origin, home):
    """Where a table was never built (here: dropped), publish says so instead of failing on SQL."""
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("drop table marts.cross_platform_matches")
    before = publish_state(home)
    line = last_error_line(hubwatch_here("publish", env=env_for(origin, home)))  # the command, in this process
    assert "no table marts.cross_platform_matches" in line and "hubwatch build" in line, line
    assert publish_state(home) == before


def test_dates_after_the_data_or_in_the_future_are_refused_and_never_latest(origin, home):
    before = publish_state(home)
    env = env_for(origin, home)
    assert "after the last snapshot the build read" in last_error_line(
        hubwatch_here("publish", "--date", "2025-06-02", env=env)  # the command, in this process
    )
    # the job the command runs (the command's line for a future date: test_an_interrupted_two_rename_...)
    assert "in the future" in refusal(publish_in_process(home, "2099-12-31"))
    assert publish_state(home) == before
    # a future-dated package left by an older hubwatch never becomes latest
    shutil.copytree(home / "publish" / FIRST_PACKAGE, home / "publish" / "2099-12-31")
    done = publish_in_process(home)  # `hubwatch publish`'s job, here; default date: the build's last snapshot
    assert done.success, done.error
    assert os.readlink(home / "publish" / "latest") == DAYS[-1]


# -- provenance ----------------------------------------------------------------------------------


def test_the_manifest_names_its_build_inputs_and_withdrawn_snapshots(origin, home):
    withdrawn = home / "withdrawn" / "civitai_images" / "snapshot_date=2025-03-01"
    withdrawn.mkdir(parents=True)
    note = {
        "source": "civitai_images",
        "snapshot_date": "2025-03-01",
        "reason": "crawl cut short by a proxy",
        "withdrawn_at": "2025-03-02T10:00:00+00:00",
        "manifest_sha256": "ab" * 32,
    }
    (withdrawn / "withdrawal.json").write_bytes(orjson.dumps(note))
    done = publish_in_process(home)  # `hubwatch publish`'s job, in this process
    assert done.success, done.error
    manifest = orjson.loads((home / "publish" / DAYS[-1] / "manifest.json").read_bytes())
    raw = {
        (p.parent.parent.name, p.parent.name.removeprefix("snapshot_date=")): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (home / "raw").glob("*/snapshot_date=*/manifest.json")
    }
    assert {(i["source"], i["snapshot_date"]): i["manifest_sha256"] for i in manifest["inputs"]} == raw
    record_path = home / manifest["build"]["record"]
    record = orjson.loads(record_path.read_bytes())
    assert manifest["build"]["record_sha256"] == hashlib.sha256(record_path.read_bytes()).hexdigest()
    assert manifest["build"]["run_id"] == record["run_id"] and manifest["build"]["result"] == "succeeded"
    assert manifest["build"]["dbt_invocation_id"] == record["dbt_invocation_id"]
    assert manifest["withdrawn"] == [note]
    assert manifest["tools"]["hubwatch"] not in (None, "unknown") and manifest["tools"]["dbt"].startswith("1.11")
    assert manifest["replaces"] is None
    assert str(home) not in (home / "publish" / DAYS[-1] / "manifest.json").read_text()


# -- verify --------------------------------------------------------------------------------------


def test_verify_passes_a_good_package_and_fails_a_tampered_one(origin, home, tmp_path):
    env = env_for(origin, home)
    package = home / "publish" / FIRST_PACKAGE
    good = hubwatch("verify", str(package), env=env)
    assert good.returncode == 0, good.stderr
    assert (
        good.stdout.count("\n") == 1
        and "6 input snapshots match raw/" in good.stdout
        and "datapackage valid" in good.stdout
    )

    def tampered(change, *, command: bool = False) -> str:
        """What verifying a changed copy says: the command's one line (command), else the error of
        what `hubwatch verify COPY --raw-home HOME` runs, in this process (no start-up of its own)."""
        copy = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(package, copy)
        for p in copy.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        change(copy)
        if command:
            done = hubwatch("verify", str(copy), "--raw-home", str(home), env=env)
            assert done.returncode != 0
            return last_error_line(done)
        with pytest.raises((VerifyError, OSError, ValueError)) as refused:  # what the command turns into its line
            verify(copy, home)
        assert "\n" not in str(refused.value), refused.value  # the command prints it as one line
        return str(refused.value)

    def edit(name: str, old: bytes, new: bytes):
        def change(copy: Path) -> None:
            data = (copy / name).read_bytes()
            assert old in data
            (copy / name).write_bytes(data.replace(old, new, 1))

        return change

    line = tampered(edit("data/models.csv", b"civitai", b"civitaj"), command=True)
    assert "data/models.csv does not match its sha256" in line
    assert "manifest.json does not match" in tampered(
        edit("manifest.json", b'"simulated": true', b'"simulated": false')
    )
    assert "dashboards/index.html does not match" in tampered(edit("dashboards/index.html", b"SIMULATED", b"simulated"))
    assert "not in SHA256SUMS" in tampered(lambda copy: (copy / "data" / "extra.csv").write_text("x\n"))
    assert "listed in SHA256SUMS but missing" in tampered(lambda copy: (copy / "CODEBOOK.md").unlink())

    # the inputs: a snapshot missing from raw/ fails; one withdrawn with that manifest passes as withdrawn
    partition = home / "raw" / "hf_models" / f"snapshot_date={DAYS[0]}"
    sha = hashlib.sha256((partition / "manifest.json").read_bytes()).hexdigest()
    aside = home / "withdrawn" / "hf_models" / partition.name
    aside.parent.mkdir(parents=True)
    partition.rename(aside)
    # what `hubwatch verify PACKAGE` runs, in this process (the command's own lines: the good package's and
    # the tampered copy's, above)
    with pytest.raises(VerifyError) as missing:
        verify(package, home)
    assert f"input snapshot hf_models {DAYS[0]}" in str(missing.value) and "\n" not in str(missing.value)
    note = {
        "source": "hf_models",
        "snapshot_date": DAYS[0],
        "reason": "test",
        "withdrawn_at": "x",
        "manifest_sha256": sha,
    }
    (aside / "withdrawal.json").write_bytes(orjson.dumps(note))
    assert "(1 withdrawn since, as recorded)" in verify(package, home).line(package)  # the command's line


# -- immutability -----------------------------------------------------------------------------


def test_dashboards_never_modify_a_dated_package_in_place(origin, home):
    env = env_for(origin, home)
    package = home / "publish" / FIRST_PACKAGE
    before = tree_hashes(package)
    old_manifest = hashlib.sha256((package / "manifest.json").read_bytes()).hexdigest()
    line = last_error_line(hubwatch("dashboards", env=env))
    assert "never modified in place" in line and "--force" in line
    assert tree_hashes(package) == before
    inode = (package / "manifest.json").stat().st_ino
    done = hubwatch_here("dashboards", "--force", env=env)  # the command, in this process
    assert done.returncode == 0, done.stderr
    assert "dashboards: " in done.stderr, done.stderr
    manifest = orjson.loads((package / "manifest.json").read_bytes())
    assert manifest["replaces"] == {"manifest_sha256": old_manifest, "by": "hubwatch dashboards --force"}
    assert (package / "manifest.json").stat().st_ino != inode  # a new package, not an edited one
    after = tree_hashes(package)
    assert {n: h for n, h in after.items() if n.startswith("data/")} == {
        n: h for n, h in before.items() if n.startswith("data/")
    }
    assert os.readlink(home / "publish" / "latest") == FIRST_PACKAGE
    assert_latest_complete(home)
    assert sorted(p.name for p in (home / "publish").iterdir()) == [".lock", FIRST_PACKAGE, "latest"]


# -- a publish killed or out of disk --------------------------------------------------------------

KILLER = """
import os, signal, sys
from datetime import date
from pathlib import Path

import publish.package as package

home, step, day, force = Path(sys.argv[1]), sys.argv[2], date.fromisoformat(sys.argv[3]), sys.argv[4] == "force"


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


if step == "data":  # the DuckDB file and some data files written, the rest not
    package.csv_select = die
elif step == "site":  # half a site rendered into the staging folder
    def render(path, manifest):
        (path / "dashboards").mkdir()
        (path / "dashboards" / "index.html").write_text("half a site")
        die()
    package.render_site = render
elif step == "seal":  # the manifest written, the citation files and SHA256SUMS not
    package.citation.citation_cff = die
elif step == "move":  # everything written and flushed, not yet in place
    package.move_into_place = die
elif step == "latest":  # in place, latest not yet switched (the first call is the cleanup's)
    calls = []
    original = package.latest_package
    def latest_package(root):
        calls.append(root)
        if len(calls) > 1:
            die()
        return original(root)
    package.latest_package = latest_package
package.publish(home, publish_date=day, force=force)
print("not killed")
"""


@pytest.mark.parametrize("step", ["data", "site", "seal", "move", "latest"])
@pytest.mark.parametrize("day", [DAYS[-1], FIRST_PACKAGE], ids=["new-date", "replacing-latest"])
def test_a_publish_killed_at_any_step_leaves_a_complete_latest(origin, home, tmp_path, step, day):
    """Killed with SIGKILL while writing the data, the site, the seals, before the move or before
    `latest` is switched: `latest` is the previous package or the new one, complete either way;
    the next publish cleans up what was left and succeeds."""
    before_link, before_packages = publish_state(home)
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    force = "force" if day == FIRST_PACKAGE else "new"
    done = subprocess.run(
        [sys.executable, str(script), str(home), step, day, force], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == -9, done.stdout + done.stderr
    latest = assert_latest_complete(home)
    link, packages = publish_state(home)
    published = {name: files for name, files in packages.items() if not name.startswith(".")}
    if step == "latest":  # the new package is in place and complete; latest is whole either way
        assert latest.name in (before_link, day)
        verify(home / "publish" / day, home)
    else:  # nothing of the new package is visible: the previous state exactly
        assert link == before_link and published == before_packages
    # the next publish cleans up and publishes: what `hubwatch publish --date day --force`'s job runs, in this
    # process (the killed one ran publish itself: no Dagster run of it is left to meet); raises if it fails
    publish(home, publish_date=date.fromisoformat(day), force=True)
    assert not [
        p.name for p in (home / "publish").iterdir() if p.name not in (".lock", "latest", FIRST_PACKAGE, DAYS[-1])
    ]
    assert assert_latest_complete(home).name == max(FIRST_PACKAGE, day)


def test_an_interrupted_two_rename_replacement_is_rolled_back(origin, home):
    """Where folders cannot be swapped in one step, a replacement is two renames; killed between
    them, the next publish puts the old package back before anything else."""
    root = home / "publish"
    package = root / FIRST_PACKAGE
    hashes = tree_hashes(package)
    package.rename(root / f".replaced-{FIRST_PACKAGE}")
    (root / f".staging-{FIRST_PACKAGE}-12345").mkdir()
    (package.parent / DAYS[-1]).mkdir()  # a stray folder with no manifest is never latest
    # the command, in this process
    line = last_error_line(hubwatch_here("publish", "--date", "2099-01-01", env=env_for(origin, home)))
    assert "in the future" in line
    assert tree_hashes(package) == hashes and os.readlink(root / "latest") == FIRST_PACKAGE
    assert not list(root.glob(".replaced-*")) and not list(root.glob(".staging-*"))


def test_a_full_disk_while_publishing_leaves_latest_whole(origin, home, monkeypatch):
    """Out of space at any write of the package (simulated: the write raises ENOSPC) the publish
    fails, its staging folder is removed, and latest and every package are as before. Each write
    fails once, a new date's publish and one replacing latest taking turns (each kind fails before
    the site is rendered and after), and both fail at the last write (the whole package staged)."""
    from publish import package as package_module

    before = publish_state(home)
    real_write = package_module.write_atomic
    new, replacing = (DAYS[-1], False), (FIRST_PACKAGE, True)
    for victim, (day, force) in (
        ("CODEBOOK.md", new),
        ("datapackage.json", replacing),
        ("manifest.json", new),
        ("CITATION.cff", replacing),
        ("SHA256SUMS", new),
        ("SHA256SUMS", replacing),
    ):

        def full(path, data, victim=victim):
            if path.name == victim:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real_write(path, data)

        monkeypatch.setattr(package_module, "write_atomic", full)
        with pytest.raises(OSError, match="No space left"):
            publish(home, publish_date=date.fromisoformat(day), force=force)
        assert publish_state(home) == before, (victim, day)
    monkeypatch.setattr(package_module, "write_atomic", real_write)
    assert publish(home, publish_date=date.fromisoformat(DAYS[-1])).path.name == DAYS[-1]


def test_a_really_full_disk_while_publishing_leaves_latest_whole(origin, home, tmp_path):
    """publish/ on a tmpfs with room for the existing package and a bit: the next publish runs out
    of space for real (DuckDB, Parquet or the site, wherever it happens)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    root = home / "publish"
    saved = tmp_path / "saved-publish"
    shutil.copytree(root, saved, symlinks=True)
    used = sum(p.stat().st_size for p in saved.rglob("*") if p.is_file())
    size_kb = (used + used // 3) // 1024 + 64
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(root)], check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(saved, root, symlinks=True, dirs_exist_ok=True)
        before = publish_state(home)
        for day, force in ((DAYS[-1], False), (FIRST_PACKAGE, True)):
            with pytest.raises((OSError, duckdb.Error, PublishError)) as raised:
                publish(home, publish_date=date.fromisoformat(day), force=force)
            assert "space" in str(raised.value).lower(), raised.value
            assert publish_state(home) == before
            assert not list(root.glob(".staging-*"))
        assert_latest_complete(home)
    finally:
        subprocess.run(["umount", str(root)], check=False)

"""The crash harness: SIGKILL a snapshot at each named step (ingest/crash.py), rerun, and compare
with an uninterrupted run. Builds are in test_crash_harness_builds.py (a module of their own, so
`pytest -n 2 --dist loadscope` runs the two halves on two workers); publish steps are in the
publish tests. The killed snapshot is a process of its own, killed for real, forked by a server
that imported the snapshot code once (tests/snapshot_driver.py); the rerun takes the snapshot in
this process (the same take_snapshot): neither costs a Python start-up per case."""

import itertools
import logging
import os
import select
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

from ingest import pagestore, rowstore
from ingest.crash import SNAPSHOT_STEPS
from ingest.fakehub import FakeHub
from ingest.home import snapshot_path, staging_path
from ingest.http import Politeness
from ingest.huggingface import HfScope
from ingest.landing import MANIFEST, complete_snapshots, read_manifest, verify_snapshot
from ingest.snapshots import Endpoints, take_snapshot
from ingest.sources import SOURCES
from tests.conftest import HUBWATCH, copy_snapshot, hub_env, hubwatch_here

pytestmark = pytest.mark.slow
DAY, NEXT_DAY = date(2025, 3, 1), date(2025, 3, 2)
TABLES = {
    "civitai_models": ("models", "model_versions", "model_files"),
    "civitai_images": ("images",),
    "hf_models": ("models", "model_files"),
}
ROOT = Path(__file__).resolve().parent.parent
KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def snapshot_server():
    """tests/snapshot_driver.py's server, started once: it forks each killed snapshot."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBWATCH_")}
    env["HUBWATCH_HF_FILES_BUDGET"] = "1000"
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.snapshot_driver"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # the server and the snapshots it forks: one process group to kill
    )
    yield server
    server.stdin.close()
    try:
        assert server.wait(timeout=60) == 0
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        raise


REQUEST_IDS = itertools.count()


def driver(server, home: Path, source: str, hub: FakeHub, *, crash: str | None = None, force: bool = False):
    """One snapshot in a process of its own (forked by snapshot_server), which may kill itself.
    Returns its exit code and what it wrote (stdout and stderr), as a CompletedProcess."""
    args = [str(home), source, hub.base_url, DAY.isoformat(), *(["--force"] if force else [])]
    output = home.parent / f"{home.name}.driver.out"
    request = next(REQUEST_IDS)
    server.stdin.write(orjson.dumps({"args": args, "crash": crash, "output": str(output), "id": request}) + b"\n")
    server.stdin.flush()
    ready, _, _ = select.select([server.stdout], [], [], 300)
    if not ready:  # a hung snapshot: end it and the server, so no later case reads its answer
        os.killpg(server.pid, signal.SIGKILL)
        pytest.fail("the snapshot process never ended")
    answered, returncode = (int(field) for field in server.stdout.readline().split())
    assert answered == request, f"the answer to request {answered}, not {request}"
    return subprocess.CompletedProcess(args, returncode, stderr=output.read_text())


def take_in_process(home: Path, source: str, hub: FakeHub, day: date = DAY, *, force: bool = False):
    return take_snapshot(
        source,
        home=home,
        endpoints=Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint),
        as_of=day.isoformat(),
        force=force,
        images_period="AllTime",
        hf_scope=HfScope(files_budget=1000),
        politeness=Politeness(requests_per_second=0, backoff_initial=0.01, backoff_max=0.05),
    )


def rerun(home: Path, source: str, hub: FakeHub, caplog, *, force: bool = False) -> tuple[str, str]:
    """The run after a killed one, in this process: its status and what it logged (as the driver's stderr)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        status = take_in_process(home, source, hub, force=force).status
    return status, caplog.text


@pytest.fixture(scope="module")
def clean(tmp_path_factory, small_world):
    """Uninterrupted snapshots of every source, and the requests each took."""
    home = tmp_path_factory.mktemp("clean")
    requests = {}
    with FakeHub(small_world) as hub:
        for source in SOURCES:
            before = hub.requests
            take_in_process(home, source, hub)
            requests[source] = hub.requests - before
    return home, requests


def assert_same_snapshot(home: Path, clean_home: Path, source: str) -> None:
    ours, theirs = snapshot_path(home, source, DAY), snapshot_path(clean_home, source, DAY)
    verify_snapshot(ours)
    for table in TABLES[source]:
        assert rowstore.read_table(ours, table).equals(rowstore.read_table(theirs, table)), table
    pages = [(meta["page"], body) for meta, body in pagestore.read_pages(ours)]  # each rebuilt and checked
    assert pages and pages == [(meta["page"], body) for meta, body in pagestore.read_pages(theirs)]
    manifest, expected = read_manifest(home, source, DAY), read_manifest(clean_home, source, DAY)
    assert (manifest["pages"], manifest["items"]) == (expected["pages"], expected["items"])
    assert set(manifest["files"]) == set(expected["files"])


def leftovers(home: Path, source: str) -> list[str]:
    parent = staging_path(home, source, DAY).parent
    staged = sorted(p.name for p in parent.iterdir() if p.suffix != ".lock") if parent.is_dir() else []
    return staged + sorted(p.name for p in pagestore.packs_dir(snapshot_path(home, source, DAY)).glob(".*"))


# -- snapshots ---------------------------------------------------------------------------------------
STORE_STEPS = (
    "page-stored:2",
    "page-committed:2",
    "crawled",
    "pages-packed",
    "tables-written",
    "manifest-written",
    "sealed",
)
SNAPSHOT_CASES = [(source, step) for source in SOURCES for step in STORE_STEPS] + [
    ("hf_models", "page-committed:3"),  # the last listing page: files not yet begun
    ("hf_models", "page-stored:5"),  # in the middle of the files
    ("civitai_models", "rows-stored"),  # the model tables' rows are in _packs/, no table written yet
    ("hf_models", "rows-stored"),
]


def test_every_snapshot_step_is_in_the_harness():
    named = {step.split(":")[0] for _source, step in SNAPSHOT_CASES} | {step.split(":")[0] for step in FORCE_STEPS}
    assert named == set(SNAPSHOT_STEPS)


@pytest.mark.parametrize(("source", "step"), SNAPSHOT_CASES)
def test_a_snapshot_killed_at_each_step_finishes_on_rerun_equal_to_an_uninterrupted_one(
    clean, snapshot_server, fakehub, tmp_path, caplog, source, step
):
    clean_home, clean_requests = clean
    home = tmp_path / "home"
    killed = driver(snapshot_server, home, source, fakehub, crash=step)
    assert killed.returncode == KILLED, f"never reached {step}: {killed.stderr}"
    if source == "hf_models" and step == "page-committed:3":
        meta = orjson.loads((staging_path(home, source, DAY) / "pages" / "000003.meta.json").read_bytes())
        assert meta["stream"] == "list:2"  # the premise: page 3 is the last listing page
    assert complete_snapshots(home, source) == []  # nothing in raw/ before the rerun
    killed_requests = fakehub.requests

    status, logged = rerun(home, source, fakehub, caplog)
    assert status == "complete", logged
    rerun_requests = fakehub.requests - killed_requests
    assert killed_requests + rerun_requests <= clean_requests[source] + 1, "stored pages were fetched again"
    if step.split(":")[0] in ("crawled", "pages-packed", "rows-stored", "tables-written", "manifest-written", "sealed"):
        assert rerun_requests == 0
    assert_same_snapshot(home, clean_home, source)
    if step in ("manifest-written", "sealed"):  # the killed run had sealed it: the rerun moves it in
        assert "published the snapshot an interrupted run had finished" in logged
        assert read_manifest(home, source, DAY)["resumes"] == 0
    else:
        assert read_manifest(home, source, DAY)["resumes"] == 1
    assert leftovers(home, source) == []


FORCE_STEPS = ("page-committed:2", "crawled", "manifest-written", "sealed", "exchanged")


@pytest.mark.parametrize("step", FORCE_STEPS)
def test_a_force_retake_killed_at_each_step_never_leaves_raw_without_the_snapshot(
    clean, snapshot_server, fakehub, tmp_path, caplog, step
):
    clean_home, _ = clean
    home, source = tmp_path / "home", "civitai_images"
    copy_snapshot(snapshot_path(clean_home, source, DAY), home / "raw")  # with its page bodies
    old = read_manifest(home, source, DAY)
    killed = driver(snapshot_server, home, source, fakehub, crash=step, force=True)
    assert killed.returncode == KILLED, f"never reached {step}: {killed.stderr}"
    assert (snapshot_path(home, source, DAY) / MANIFEST).is_file(), "raw/ lost the partition"
    verify_snapshot(snapshot_path(home, source, DAY))  # whole: the old one or the new one

    requests = fakehub.requests
    status, logged = rerun(home, source, fakehub, caplog, force=True)
    assert status == "complete", logged
    if step in ("crawled", "manifest-written", "sealed", "exchanged"):  # the retake's pages were all stored
        assert fakehub.requests == requests, "the rerun crawled again"
    assert_same_snapshot(home, clean_home, source)
    manifest = read_manifest(home, source, DAY)
    assert manifest["finished_at"] != old["finished_at"]
    assert manifest["replaces"]["manifest_sha256"] is not None
    assert leftovers(home, source) == []


def test_a_cli_snapshot_killed_when_sealed_is_published_by_the_next_cli_run(clean, fakehub, home):
    """Through Dagster: the killed run (the command's process, killed for real) is reaped and the next
    run (the command run as it runs, in this process: conftest.hubwatch_here) publishes without crawling."""
    clean_home, _ = clean
    env = hub_env(fakehub, home, HUBWATCH_IMAGES_PERIOD="AllTime")
    args = ("snapshot", "--sources", "civitai_images", "--as-of", DAY.isoformat())
    killed = subprocess.run([HUBWATCH, *args], env={**env, "HUBWATCH_CRASH_AT": "sealed"}, capture_output=True)
    assert killed.returncode == KILLED
    requests = fakehub.requests
    rerun = hubwatch_here(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "published the snapshot an interrupted run had finished" in rerun.stderr
    assert "complete (simulated)" in rerun.stderr
    assert fakehub.requests == requests
    assert_same_snapshot(home, clean_home, "civitai_images")

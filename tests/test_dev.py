"""`make dev`: the Dagster UI over a home, stopped promptly and completely by SIGTERM (a process
manager, `kill`) or Ctrl-C (SIGINT to the terminal's foreground group), also when started as a
background job (SIGINT ignored, as a shell sets it): no webserver, daemon or code server is left.
Once up, the UI shows the code location with its jobs, schedule and sensor, and the checkout's dbt
parse (`make manifest`'s, which every home's first build starts from) is as it was."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
CHECKOUT_PARSE = [REPO / "dbt" / "target" / name for name in ("manifest.json", "partial_parse.msgpack")]
LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  ... on RepositoryLocation { repositories { jobs { name } schedules { name } sensors { name } } } } } } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(root: int) -> set[int]:
    """Every live process below root (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def signal_states(pids) -> dict[int, str]:
    """What each live process is, with the signals it ignores and blocks (/proc/PID/status), to
    tell a signal that never arrived from a stop that hung."""
    states = {}
    for pid in pids:
        try:
            status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120].decode()
        except (OSError, ValueError):
            continue
        signals = f"ignored={status.get('SigIgn')} blocked={status.get('SigBlk')}"
        states[pid] = f"{command} state={status.get('State')} {signals}"
    return states


def digests(paths: list[Path]) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def ui_shows(port: int) -> dict[str, object]:
    """What the UI's workspace shows: each code location, with its jobs, schedules and sensors."""
    query = json.dumps({"query": LOCATION_QUERY}).encode()
    request = urllib.request.Request(  # noqa: S310
        f"http://127.0.0.1:{port}/graphql", data=query, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        entries = json.loads(answer.read())["data"]["workspaceOrError"]["locationEntries"]
    shown = {}
    for entry in entries:
        location = entry["locationOrLoadError"]
        repositories = location.get("repositories", []) if location else []
        shown[entry["name"]] = {
            kind: sorted(item["name"] for repository in repositories for item in repository[kind])
            for kind in ("jobs", "schedules", "sensors")
        }
    return shown


def wait_for_ui(port: int, make: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert make.poll() is None, "make dev exited before the UI answered"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)  # a refused connect costs nothing: stop waiting soon after the UI is up
    pytest.fail("the Dagster UI did not answer")


@pytest.mark.parametrize(
    ("how", "ignore_sigint"),
    [("SIGTERM to make", True), ("Ctrl-C to the foreground group", False)],
)
def test_make_dev_stops_promptly_leaving_nothing(tmp_path, how, ignore_sigint):
    port = free_port()
    home = tmp_path / "home"
    # a user's shell, the environment not activated (as the README has it)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "DAGSTER_")) and k != "VIRTUAL_ENV"}

    def as_a_background_job():  # what a shell does to `make dev &`, from a clean signal state
        signal.pthread_sigmask(signal.SIG_SETMASK, [])  # nothing this test process blocked
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # nor ignored
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    started: set[int] = set()
    parsed = digests(CHECKOUT_PARSE)
    with (tmp_path / "dev.log").open("w") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "dev", f"DEV_PORT={port}", f"HUBWATCH_HOME={home}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=as_a_background_job,
        )
        try:
            wait_for_ui(port, make)
            started = descendants(make.pid)
            assert len(started) >= 3  # the wrapper, dg dev and what it started
            shown = ui_shows(port)
            # the code location has loaded: under `dg dev` it ran `make manifest` (defs/project.py), which
            # found the parse current, so dbt's parse for builds was not replaced by one without their vars
            reparsed = digests(CHECKOUT_PARSE) != parsed
            if how == "SIGTERM to make":
                os.kill(make.pid, signal.SIGTERM)
            else:
                os.killpg(make.pid, signal.SIGINT)
            stopping = time.monotonic()
            try:
                make.wait(timeout=90)
            except subprocess.TimeoutExpired:
                pytest.fail(f"make dev still runs 90 s after {how}: {signal_states([make.pid, *started])}")
            took = time.monotonic() - stopping
            deadline = time.monotonic() + 10
            while [pid for pid in started if alive(pid)] and time.monotonic() < deadline:
                time.sleep(0.2)
            left = [pid for pid in started if alive(pid)]
        finally:  # whatever the outcome, nothing this test started outlives it
            for pid in [*started, *descendants(make.pid), make.pid]:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
    assert left == [], (left, (tmp_path / "dev.log").read_text()[-3000:])
    # run as the README says (the environment not activated): dg is told which one it runs in
    assert "does not match the virtual environment" not in (tmp_path / "dev.log").read_text()
    assert shown == {
        "hubwatch": {
            "jobs": ["__ASSET_JOB", "daily_snapshot_job", "publish_job", "rebuild_from_raw_job"],
            "schedules": ["daily_snapshot_job_schedule"],
            "sensors": ["record_failed_runs"],
        }
    }
    assert not reparsed
    assert took < 60
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)  # noqa: S310
    assert (home / "dagster" / "dagster.yaml").is_file()  # the UI ran on this home's instance

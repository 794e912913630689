"""`make dev`: the Dagster UI over a home, stopped promptly and completely by SIGTERM (a process
manager, `kill`) or Ctrl-C (SIGINT to the terminal's foreground group), also when started as a
background job (SIGINT ignored, as a shell sets it): no webserver, daemon or code server is left."""

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "DAGSTER_"))}

    def as_a_background_job():  # what a shell does to `make dev &`, from a clean signal state
        signal.pthread_sigmask(signal.SIG_SETMASK, [])  # nothing this test process blocked
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # nor ignored
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    started: set[int] = set()
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
    assert took < 60
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)  # noqa: S310
    assert (home / "dagster" / "dagster.yaml").is_file()  # the UI ran on this home's instance

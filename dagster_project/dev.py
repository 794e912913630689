"""`make dev`: the Dagster UI over one home ($HUBWATCH_HOME), stopped cleanly by Ctrl-C or SIGTERM.

`dg dev` alone does not stop when started from a script or in the background: such a process
inherits SIGINT ignored (as a shell sets it for background jobs, and Python then installs no
KeyboardInterrupt handler), and SIGTERM to `make` reaches only its first child. So this wrapper
starts `dg dev` in a session of its own with default signal handling, and on SIGINT, SIGTERM or
SIGHUP sends SIGINT (Dagster's own graceful stop, what a terminal's Ctrl-C sends) to that whole
session: the webserver, the daemon and the code servers. Whatever still runs after a grace
period gets SIGTERM, then SIGKILL, so nothing is left holding the port or the instance.

Usage: python -m dagster_project.dev [dg dev options]   (the Makefile's `dev` target)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dagster_project.runs import prepare_dagster_home
from ingest.home import hubwatch_home

# The project's definitions are Python (defs/), no component YAML: dg's check of it would only import
# every installed component library (dagster_dbt, and dbt with it) into dg's own process (~1.5 CPU-s).
DG_DEV = ("dev", "--no-check-yaml")
GRACE_SECONDS = 20.0  # for Dagster's own graceful stop, before SIGTERM and SIGKILL
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def session_members(session: int) -> list[int]:
    """Processes of a session (Linux /proc; elsewhere none are found and the group kill does it)."""
    members = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":  # fields after the name: state, ppid, pgrp, session
            members.append(int(entry.parent.name))
    return members


def signal_session(session: int, signum: int) -> None:
    """Send a signal to every process of the session: its group, and any member in another group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(session, signum)
    for pid in session_members(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def stop(child: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGINT to the session, then SIGTERM, then SIGKILL, until none of it is left."""
    for signum, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        signal_session(child.pid, signum)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            child.poll()
            if child.returncode is not None and not session_members(child.pid):
                return
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    home = hubwatch_home()
    dagster_home = prepare_dagster_home(home)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "HUBWATCH_HOME": str(home)}
    if sys.prefix != sys.base_prefix:  # the environment this runs in (.venv, not activated, as the README
        env["VIRTUAL_ENV"] = sys.prefix  # has it): else dg warns that the project's .venv is not the active one
    received: list[int] = []
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda number, _frame: received.append(number))
    print(f"dev: Dagster UI for {home} (runs in {dagster_home}); Ctrl-C or SIGTERM stops it", file=sys.stderr)
    dg = Path(sys.executable).with_name("dg")
    child = subprocess.Popen(
        [str(dg), *DG_DEV, *(sys.argv[1:] if argv is None else argv)], env=env, start_new_session=True
    )
    try:
        while child.poll() is None and not received:
            time.sleep(0.2)
    finally:
        stop(child)
    if received:
        print(f"dev: stopped ({signal.Signals(received[0]).name})", file=sys.stderr)
        return 0
    return child.returncode or 0


if __name__ == "__main__":
    sys.exit(main())

"""`hubwatch-dbt`: dbt, bound to the life of the hubwatch process that started it.

dagster-dbt starts dbt as a plain child process. When that parent is killed (SIGKILL, OOM), dbt
would go on for seconds to minutes holding the warehouse's DuckDB lock, so the next build fails
on the lock. This wrapper asks Linux to SIGKILL it when its parent dies (prctl
PR_SET_PDEATHSIG, kept across exec), checks the parent is still the one that started it, and then
runs dbt's command line in this process (no extra process, same arguments, same exit code).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from dagster_project.gc_tuning import freeze_survivors

PR_SET_PDEATHSIG = 1
PARENT_ENV = "HUBWATCH_DBT_PARENT"  # the pid of the process that asked for dbt
DBT = Path(sys.executable).with_name("dbt")


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover (not Linux)
        pass


def main() -> None:
    die_with_parent()
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        sys.exit("hubwatch-dbt: the hubwatch process that asked for dbt is gone; not starting")
    # dbt in this process (what the `dbt` script does: no extra pid, same arguments, same exit code),
    # with survivors of full collections frozen (gc_tuning: ~1.5 of dbt's ~27 CPU-s a day's build);
    # unfrozen before exit, so that Python's shutdown still releases them (DuckDB's bindings report
    # objects left at exit on stderr)
    undo = freeze_survivors()
    try:
        from dbt.cli.main import cli

        sys.argv = [str(DBT), *sys.argv[1:]]
        sys.exit(cli())
    finally:
        undo()


if __name__ == "__main__":
    main()

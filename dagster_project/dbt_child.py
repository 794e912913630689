"""`hubwatch-dbt`: dbt, bound to the life of the hubwatch process that started it.

dagster-dbt starts dbt as a plain child process. When that parent is killed (SIGKILL, OOM), dbt
would go on for seconds to minutes holding the warehouse's DuckDB lock, so the next build fails
on the lock. This wrapper asks Linux to SIGKILL it when its parent dies (prctl
PR_SET_PDEATHSIG, kept across exec), checks the parent is still the one that started it, and then
becomes dbt itself (exec: no extra process, same arguments, same exit code).

It starts dbt in the home the build is for (the home of dagster-dbt's DBT_TARGET_PATH,
$HUBWATCH_HOME/dbt/target/<build>): a DuckDB build's vars and profile name the home's files
relative to it (warehouse.in_home_paths), so that they, and dbt's saved parse, are the same for
every home.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path

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


def home_of_target(target: str | None) -> Path | None:
    """The home whose build writes to the dbt target folder `target` (<home>/dbt/target/<build>), or
    None for a folder elsewhere (dbt then starts where it was asked to)."""
    if not target:
        return None
    folder = Path(target).resolve()
    if folder.parent.name == "target" and folder.parent.parent.name == "dbt":
        return folder.parents[2]
    return None


def wants_home(args: list[str]) -> bool:
    """Whether dbt's --vars name the home's files relative to it (hubwatch_home ".")."""
    if "--vars" not in args or args.index("--vars") + 1 >= len(args):
        return False
    try:
        given = json.loads(args[args.index("--vars") + 1])
    except ValueError:
        return False
    return isinstance(given, dict) and given.get("hubwatch_home") == "."


def main() -> None:
    die_with_parent()
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        sys.exit("hubwatch-dbt: the hubwatch process that asked for dbt is gone; not starting")
    home = home_of_target(os.environ.get("DBT_TARGET_PATH"))
    if home is not None and home.is_dir():
        os.chdir(home)
    elif wants_home(sys.argv[1:]):  # its relative paths would read and write beside the dbt project
        sys.exit("hubwatch-dbt: this build's paths are relative to its home, but its dbt target folder is not in one")
    os.execv(DBT, [str(DBT), *sys.argv[1:]])  # noqa: S606 (dbt replaces this process: no shell, no extra pid)


if __name__ == "__main__":
    main()

"""`hubwatch-dbt`: dbt, bound to the life of the hubwatch process that started it.

dagster-dbt starts dbt as a plain child process. When that parent is killed (SIGKILL, OOM), dbt
would go on for seconds to minutes holding the warehouse's DuckDB lock, so the next build fails
on the lock. This wrapper asks Linux to SIGKILL it when its parent dies (prctl
PR_SET_PDEATHSIG, kept across exec), checks the parent is still the one that started it, and then
runs dbt's command line in this process (no extra process, same arguments, same exit code).

It also runs dbt inside the home, with what dbt reads at run time only, when `hubwatch build` left
them in dbt's target folder (RUN_FILE: the home and environment variables, written by
warehouse.build_args): the DuckDB warehouse's path relative to the home, the raw files' lists and
the home itself. dbt hashes its vars and the profile's connection values to decide whether a saved
parse still holds, so with no home path in either, a parse made in one home (or by `make
manifest`) serves every home, instead of a full parse of the project (~3 CPU-s) in each new one.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path

from dagster_project.gc_tuning import freeze_survivors

PR_SET_PDEATHSIG = 1
PARENT_ENV = "HUBWATCH_DBT_PARENT"  # the pid of the process that asked for dbt
RUN_FILE = "hubwatch_run.json"  # in dbt's target folder: {"home": dir dbt runs in, "env": {name: value}}
PATH_ENVS = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")
DBT = Path(sys.executable).with_name("dbt")


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover (not Linux)
        pass


def run_settings(target: str | None) -> dict | None:
    """What `hubwatch build` left for this dbt run in its target folder, or None."""
    try:
        return json.loads((Path(target) / RUN_FILE).read_bytes()) if target else None
    except FileNotFoundError:
        return None


def run_in_home(settings: dict) -> None:
    """Move into the home with the run's environment. dbt finds its project, profile, target and
    log folders where they were (dagster-dbt names them, some relative to the project folder dbt is
    started in; the profile, unnamed, is in that folder)."""
    here = Path.cwd()
    if "DBT_PROFILES_DIR" not in os.environ and (here / "profiles.yml").is_file():
        os.environ["DBT_PROFILES_DIR"] = str(here)
    os.environ.setdefault("DBT_PROJECT_DIR", str(here))
    for name in PATH_ENVS:
        if name in os.environ:
            os.environ[name] = str(here / os.environ[name])  # an absolute path stays as it is
    os.environ.update(settings["env"])
    os.chdir(settings["home"])


def main() -> None:
    die_with_parent()
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        sys.exit("hubwatch-dbt: the hubwatch process that asked for dbt is gone; not starting")
    settings = run_settings(os.environ.get("DBT_TARGET_PATH"))
    if settings:
        run_in_home(settings)
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

"""A hubwatch process started in the background (SIGINT ignored, as a shell starts `cmd &` or
nohup) still stops on SIGTERM after it has run a Dagster job, and so do the processes it starts.

Dagster's in-process execution maps SIGTERM to whatever SIGINT's handler was when the run ended
(dagster._utils.interrupts): with SIGINT ignored, SIGTERM became ignored too, for the rest of the
process and every child it started (an ignored signal survives exec), so `kill` could not stop a
background `hubwatch demo` after its first job, nor `make dev` started from such a process."""

import signal
import subprocess
import sys
import textwrap

from tests.conftest import hub_env

SCRIPT = textwrap.dedent(
    """
    import signal, subprocess, sys
    from pathlib import Path
    from dagster import AssetKey
    from dagster_project.runs import run_job

    home = Path(sys.argv[1])
    outcome = run_job(
        home, "daily_snapshot_job", partition_key="2025-03-01",
        asset_selection=[AssetKey(["raw", "hf_models"])],
    )
    assert outcome.success, outcome.error
    print("SIGTERM is default after the run:", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    child = subprocess.Popen(["sleep", "60"])
    child.send_signal(signal.SIGTERM)
    try:
        print("a child it started, sent SIGTERM, exits with:", child.wait(timeout=10))
    finally:
        child.kill()
    """
)


def ignore_sigint() -> None:  # what a shell does to a background job (SIGTERM as the shell had it: default)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_a_background_process_still_stops_on_sigterm_after_a_job(fakehub, home):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home)],
        env=hub_env(fakehub, home),
        preexec_fn=ignore_sigint,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SIGTERM is default after the run: True" in done.stdout, done.stdout
    assert f"exits with: {-signal.SIGTERM}" in done.stdout, done.stdout

"""Snapshots in processes of their own, for the crash tests (each may SIGKILL itself at the step
HUBWATCH_CRASH_AT names): `python -m tests.snapshot_driver` imports the snapshot code once, then
forks one process per line on its stdin (JSON: the arguments HOME SOURCE BASE_URL DATE [--force],
the crash step, the file for the process's output, an id) and answers each with its id and exit
code (-9: it was killed). Each snapshot is a real process killed for real, without a Python start-up and the
imports of its own (~0.3 CPU-s of the ~0.4 a killed snapshot cost); each is forked from the server
as it was before any snapshot ran, so none inherits another's state. The server exits at EOF."""

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

import orjson

from ingest.crash import ENV
from ingest.http import CrawlError, Politeness
from ingest.huggingface import HfScope
from ingest.snapshots import Endpoints, take_snapshot


def main(argv: list[str]) -> None:
    """One snapshot, as the arguments say; prints its status."""
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("source")
    parser.add_argument("base_url")
    parser.add_argument("as_of")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    endpoints = Endpoints(civitai_base=f"{args.base_url}/api/v1", hf_endpoint=args.base_url)
    try:
        result = take_snapshot(
            args.source,
            home=args.home,
            endpoints=endpoints,
            as_of=args.as_of,
            force=args.force,
            images_period="AllTime",
            hf_scope=HfScope(files_budget=1000),
            politeness=Politeness(requests_per_second=0, backoff_initial=0.01, backoff_max=0.05),
        )
    except CrawlError as error:
        sys.exit(f"error: {error}")
    print(result.status)


def child(request: dict) -> int:
    """In a forked process: its stdout and stderr into the request's file, its crash step set, one
    snapshot. Returns the exit code (for os._exit: nothing of the server's is run at exit)."""
    output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(output, 1)
    os.dup2(output, 2)
    if request["crash"]:
        os.environ[ENV] = request["crash"]
    code = 0
    try:
        main(request["args"])
    except SystemExit as done:
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001 (said on stderr, as an interpreter would at exit)
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def serve(requests, answers) -> None:
    """Fork one process per request line, wait for it, answer with the request's id and the
    process's exit code (so an answer can never be taken for another request's)."""
    for line in requests:
        request = orjson.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = child(request)
            finally:
                os._exit(code)  # never back into this loop
        _, status = os.waitpid(pid, 0)
        answers.write(f"{request['id']} {os.waitstatus_to_exitcode(status)}\n")
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)

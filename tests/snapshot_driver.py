"""Take one snapshot in a process of its own, for the crash tests (it may SIGKILL itself at the
step HUBWATCH_CRASH_AT names): python -m tests.snapshot_driver HOME SOURCE BASE_URL DATE [--force]."""

import argparse
import logging
import sys
from pathlib import Path

from ingest.http import CrawlError, Politeness
from ingest.huggingface import HfScope
from ingest.snapshots import Endpoints, take_snapshot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("source")
    parser.add_argument("base_url")
    parser.add_argument("as_of")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()

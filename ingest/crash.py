"""Named crash steps, for the crash tests: `HUBWATCH_CRASH_AT=<step>[:<n>]` makes this process
SIGKILL itself the n-th time (default the first) it reaches that step.

The steps are the instants at which a snapshot or a build may be cut short (see README, "What a
crash leaves"); a test kills at each one, reruns, and compares with an uninterrupted run. Unset
(always, outside tests), `crash_point` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "HUBWATCH_CRASH_AT"
SNAPSHOT_STEPS = (
    "page-stored",  # a page's body and meta are written, the checkpoint does not count it yet
    "page-committed",  # the checkpoint counts the page (use :n for the n-th page)
    "crawled",  # the checkpoint says every page is stored; nothing normalised yet
    "pages-packed",  # the pages are in their pack and the page index; the staged page files may remain
    "rows-stored",  # a crawl's new model rows are in _packs/ (ingest/rowstore.py); no table written yet
    "tables-written",  # the Parquet tables are written; no manifest yet
    "manifest-written",  # the manifest is written in staging/; the checkpoint is still there
    "sealed",  # the checkpoint is gone; the snapshot waits in staging/ to move into raw/
    "exchanged",  # --force: the new snapshot is in raw/, the old one waits in staging/ to be removed
)
BUILD_STEPS = (
    "raw-verified",  # raw/ verified and the ledger written; dbt not started
    "dbt-event",  # dbt is running (use :n for its n-th event): the parent dies, dbt must follow
    "dbt-finished",  # dbt has finished; Dagster has not recorded the step's end
)
_reached: Counter[str] = Counter()


def crash_point(step: str) -> None:
    """SIGKILL this process here if HUBWATCH_CRASH_AT names this step (and its count is reached)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != step:
        return
    _reached[step] += 1
    if _reached[step] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)

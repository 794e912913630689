"""Python's cycle collector in a build's two processes: old objects are not traversed again and again.

Both processes of a build hold a large object graph that lives as long as they do (dbt's parsed
manifest; Dagster's ~470 asset definitions, the dbt manifest dict and their imports) and make many
short-lived objects per dbt node and per Dagster event. CPython's full (generation-2) collections
traverse every tracked object each time: on a day added to the year tier's 30 snapshots the dbt
child spent 3.6 of its ~27 CPU-s collecting (13 full collections, 2.0 s), the Dagster parent 0.8 of
its ~7.5. gc.freeze() moves what is alive into a permanent generation that collections skip, so a
later one looks only at objects made since.

Memory: a frozen object is still freed by reference counting as soon as nothing refers to it; only
a reference cycle that becomes garbage after it was frozen waits, until unfreeze (the parent, at the
end of each run) or the end of the process (dbt's child, one build long).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


def _freeze_after_full_collection(phase: str, info: dict) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()  # what survived a full collection is long-lived: the next ones skip it


def freeze_survivors() -> None:
    """For a process that lives one build (hubwatch-dbt): after each full collection, freeze what
    survived it (dbt's imports first, then its manifest)."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


_lock = threading.Lock()
_runs = 0


@contextlib.contextmanager
def frozen_during_run() -> Iterator[None]:
    """For a run in a process that goes on after it (the CLI, tests, benchmarks): everything that
    exists when the run starts (imports, definitions) is frozen for the run and unfrozen when the
    last concurrent run ends, so its garbage is collected as usual afterwards."""
    global _runs
    with _lock:
        _runs += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                gc.unfreeze()

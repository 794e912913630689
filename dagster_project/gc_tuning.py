"""Python's cycle collector in a build's two processes: old objects are not traversed again and again.

Both processes of a build hold a large object graph that lives as long as they do (dbt's parsed
manifest; Dagster's ~470 asset definitions, the dbt manifest dict and their imports) and make many
short-lived objects per dbt node and per Dagster event. CPython's full (generation-2) collections
traverse every tracked object each time: on a day added to the year tier's 30 snapshots the dbt
child spent 3.6 of its ~27 CPU-s collecting (13 full collections, 2.0 s), the Dagster parent 0.8 of
its ~7.5 (5 full collections while importing and loading the definitions, 0.6 s). gc.freeze() moves
what is alive into a permanent generation that collections skip, so a later one looks only at
objects made since.

Memory: a frozen object is still freed by reference counting as soon as nothing refers to it; only
a reference cycle that becomes garbage after it was frozen waits, until the end of the process (both
live one command) or, in a process that goes on (a test invoking the CLI in-process), the command's
end, which unfreezes everything.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable


def _freeze_after_full_collection(phase: str, info: dict) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()  # what survived a full collection is long-lived: the next ones skip it


def freeze_survivors() -> Callable[[], None]:
    """After each full collection, freeze what survived it (imports first, then dbt's manifest or
    Dagster's definitions). Returns what undoes it (the callback removed, everything unfrozen): a
    process that goes on after the command (a test's CliRunner) keeps no frozen garbage."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)
    return _undo


def _undo() -> None:
    with contextlib.suppress(ValueError):
        gc.callbacks.remove(_freeze_after_full_collection)
    gc.unfreeze()

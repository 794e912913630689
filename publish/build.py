"""Which build a package may come from: the latest build record ($HUBWATCH_HOME/builds/latest.json,
written by the transform assets), and only when it succeeded over every complete snapshot in raw/
now. A failed, partial, unfinished or outdated build is refused in one line that names it, so a
package never mixes two builds. publish/ reads the file; it never imports dagster_project.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson

from ingest.files import sha256_file
from ingest.home import build_record_path, latest_build_path
from ingest.landing import snapshot_inputs


class PublishError(RuntimeError):
    """The package cannot be written; the message says why in one line."""


def usable_build(home: Path) -> dict[str, Any]:
    """The latest build record, if a package may be made from it; PublishError otherwise."""
    path = latest_build_path(home)
    if not path.is_file():
        raise PublishError(f"no build record at {path}: run `hubwatch build` first")
    try:
        record = orjson.loads(path.read_bytes())
        run, result = record["run_id"], record["result"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise PublishError(f"{path} is not a hubwatch build record: run `hubwatch build`") from None
    if result == "running":
        raise PublishError(
            f"the last build (run {run}, started {record.get('started_at')}) never finished (still running, or "
            "stopped): publish refused; run `hubwatch build`"
        )
    if result == "failed":
        raise PublishError(
            f"the last build (run {run}) failed: {record.get('error')}; publish refused (fix it, then `hubwatch build`)"
        )
    if result != "succeeded":
        raise PublishError(
            f"the last build (run {run}) built only part of the warehouse ({result}): publish refused; "
            "run `hubwatch build`"
        )
    changes = input_changes(record["inputs"], snapshot_inputs(home))
    if changes:
        raise PublishError(
            f"raw/ has changed since the last build (run {run}): {changes}; publish refused (run `hubwatch build`)"
        )
    return record


def input_changes(built: list[dict[str, Any]], now: list[dict[str, Any]]) -> str:
    """What differs between the snapshots a build read and those in raw/ now ('' when nothing)."""

    def keyed(inputs):
        return {(i["source"], i["snapshot_date"]): i["manifest_sha256"] for i in inputs}

    before, after = keyed(built), keyed(now)
    parts = []
    for label, keys in (
        ("new", sorted(after.keys() - before.keys())),
        ("retaken or altered", sorted(k for k in after.keys() & before.keys() if after[k] != before[k])),
        ("gone", sorted(before.keys() - after.keys())),
    ):
        if keys:
            parts.append(f"{len(keys)} {label} snapshot(s), e.g. {keys[0][0]} {keys[0][1]}")
    return ", ".join(parts)


def last_snapshot(record: dict[str, Any]) -> date:
    """The latest snapshot date a build read (a package is never dated after its data)."""
    return max(date.fromisoformat(i["snapshot_date"]) for i in record["inputs"])


def build_reference(home: Path, record: dict[str, Any]) -> dict[str, Any]:
    """What a package manifest says of its build: the record's place under the home, its sha256,
    and the facts a reader needs without it."""
    keys = ("run_id", "dbt_invocation_id", "started_at", "finished_at", "result", "full_refresh", "engine")
    path = build_record_path(home, record["run_id"])
    return {
        **{k: record.get(k) for k in keys},
        "record": path.relative_to(home).as_posix(),
        "record_sha256": sha256_file(path) if path.is_file() else None,
    }

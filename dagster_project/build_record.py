"""The build record: what a build read and whether it succeeded ($HUBWATCH_HOME/builds/).

The transform assets write it: `running` before anything is touched, then `succeeded`,
`partial` (only a selection of the warehouse was built) or `failed` (raw/ refused, dbt failed
or was stopped). A build killed outright stays `running`. Each record is kept as
builds/<run_id>.json and copied to builds/latest.json; publish reads that file alone
(publish/build.py) and publishes only a `succeeded` build over every complete snapshot that is
in raw/ at that moment, so a package never mixes two builds. Plain Python, no Dagster import.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from ingest import __version__
from ingest.files import dumps, write_atomic
from ingest.home import build_record_path, latest_build_path
from ingest.landing import snapshot_inputs

FAILED_STATUSES = ("error", "fail", "runtime error")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def save(home: Path, record: dict[str, Any]) -> dict[str, Any]:
    """builds/<run_id>.json, then builds/latest.json (each written whole)."""
    data = dumps(record)
    path = build_record_path(home, record["run_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
    write_atomic(latest_build_path(home), data)
    return record


def start(home: Path, run_id: str, *, full_refresh: bool, partial: bool, engine: str) -> dict[str, Any]:
    """Record a build that has begun: until it finishes, publish refuses the warehouse."""
    return save(
        home,
        {
            "run_id": run_id,
            "result": "running",
            "started_at": _now(),
            "finished_at": None,
            "full_refresh": full_refresh,
            "selection": "part" if partial else "all",
            "engine": engine,
            "hubwatch_version": __version__,
            "dbt_invocation_id": None,
            "dbt_version": None,
            "rules_version": None,
            "logic_refresh": {"models": [], "reason": None},
            "inputs": [],
            "dbt_results": {},
            "failures": [],
            "error": None,
        },
    )


def logic_refreshed(home: Path, record: dict[str, Any], models: list[str], reason: str) -> dict[str, Any]:
    """The incremental models this build rebuilds whole because the dbt logic that built their rows
    changed since (dagster_project/model_logic.py), and why, in the line the operator saw."""
    if not models:
        return record
    names = [uid.rsplit(".", 1)[-1] for uid in models]
    return save(home, {**record, "logic_refresh": {"models": names, "reason": reason}})


def refused(home: Path, record: dict[str, Any], error: str) -> dict[str, Any]:
    """raw/ could not be read (a partition refused): dbt never ran."""
    return save(home, {**record, "result": "failed", "finished_at": _now(), "error": error})


def read_inputs(home: Path, record: dict[str, Any]) -> dict[str, Any]:
    """The complete snapshots this build reads (verified just before), with their manifests' sha256."""
    return save(home, {**record, "inputs": snapshot_inputs(home)})


def finished(home: Path, record: dict[str, Any], run_results_path: Path, warehouse: Path) -> dict[str, Any]:
    """Record how dbt went, from its run_results.json (none: dbt did not run or was stopped), and
    the rule set the warehouse's build_info names."""
    run_results = orjson.loads(run_results_path.read_bytes()) if run_results_path.is_file() else None
    if run_results is None:
        return save(
            home,
            {**record, "result": "failed", "finished_at": _now(), "error": "dbt did not run (no run_results.json)"},
        )
    results = run_results.get("results", [])
    counts = Counter(r["status"] for r in results)
    engine_warehouse = warehouse if record.get("engine", "duckdb") == "duckdb" else None
    failures = [
        f"{r['unique_id']}: {_first_line(r.get('message'))}{merged_test_rows(r, engine_warehouse)}"[:300]
        for r in results
        if r["status"] in FAILED_STATUSES
    ]
    metadata = run_results.get("metadata", {})
    ok = not failures and bool(results)
    result = "failed" if not ok else ("partial" if record["selection"] != "all" else "succeeded")
    error = None
    if not ok:
        skipped = counts.get("skipped", 0)
        error = (
            f"dbt: {len(failures)} node(s) failed"
            + (f", {skipped} skipped" if skipped else "")
            + (f"; first: {failures[0]}" if failures else "; no node ran")
        )
    record = {
        **record,
        "result": result,
        "finished_at": _now(),
        "dbt_invocation_id": metadata.get("invocation_id"),
        "dbt_version": metadata.get("dbt_version"),
        "dbt_results": dict(sorted(counts.items())),
        "failures": failures[:20],
        "error": error,
    }
    return save(home, {**record, "rules_version": _rules_version(warehouse) if ok else None})


# what each kind of check of a `checks` test (dbt/tests/generic/checks.sql) counts, in the order
# a failure lists them: one node checks a model's grain, columns and invariants, so its name does
# not say which failed; its rows do (kind, checked, n_failing)
CHECK_KINDS = {
    "grain": "repeated grain keys",
    "rows_per_group": "groups holding another number of rows",
    "unique": "repeated keys",
    "not_null": "nulls",
    "accepted_values": "values not accepted",
    "unit_interval": "shares outside [0, 1]",
    "expressions": "rows where false",
}
CHECKS_ROWS = ("kind", "checked", "n_failing")


def merged_test_rows(result: dict[str, Any], warehouse: Path | None) -> str:
    """What a failed `checks` test found, per kind of check and column, key or expression, e.g.
    " (nulls: first_seen 2; target_gender 1; values not accepted: status 1)": its rows, read again
    from the warehouse with the test's compiled SQL from dbt's run_results (the project's own SQL).
    "" for any other test, or where they cannot be read (no DuckDB warehouse: Spark's SQL is not
    DuckDB's; a locked file)."""
    parts = str(result.get("unique_id", "")).split(".")
    sql = result.get("compiled_code")
    if warehouse is None or not sql or len(parts) < 3 or parts[0] != "test" or not parts[2].startswith("checks_"):
        return ""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            found = con.sql(f"select * from ({sql}) as failing")  # noqa: S608 (dbt's compiled test)
            rows = found.fetchall() if tuple(found.columns) == CHECKS_ROWS else []
    except (duckdb.Error, OSError):
        return ""
    return f" ({describe_checks(rows)})" if rows else ""


def describe_checks(rows: list[tuple[str, str, int]]) -> str:
    """A `checks` test's rows as one phrase per kind (its label once), the most failing first."""
    phrases = []
    for kind, label in CHECK_KINDS.items():
        found = sorted(((checked, n) for k, checked, n in rows if k == kind), key=lambda row: (-row[1], row[0]))
        if found:
            phrases.append(f"{label}: {'; '.join(f'{checked} {n}' for checked, n in found)}")
    return "; ".join(phrases)


def _rules_version(warehouse: Path) -> str | None:
    """The rule set marts.build_info names (read-only; None where it cannot be read)."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.sql("select rules_version from marts.build_info").fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if len(rows) == 1 else None


def _first_line(message: str | None) -> str:
    return next((line.strip() for line in (message or "").splitlines() if line.strip()), "")

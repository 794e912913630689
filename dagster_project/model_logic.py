"""Which incremental models' logic changed since the warehouse was built, so that a build after an
upgrade (`git pull`) rebuilds them whole instead of stopping on a changed column or mixing rows
computed by old and new logic in one table.

An incremental model keeps the rows earlier builds computed. Its *logic* is everything that decides
those rows: its SQL file, its config and column types, the macros it calls (with every engine's
variant of a dispatched macro, so that a Spark-only change counts on Spark too), the project's vars
(the rule set), and the logic of every model, seed and source it reads, recursively. A build records
the fingerprint of the logic of each model it built (`built_logic.json`, one per engine, beside the
pending-refresh list); the next build refreshes every incremental model whose fingerprint differs or
was never recorded. A change upstream changes every fingerprint downstream, so what depends on a
changed model is refreshed with it; tables and views are rebuilt whole at every build anyway.

The graph and configs come from the parsed project (dbt/target/manifest.json, which the Dagster
definitions load too), the contents from the project's files as they are on disk now, so a file
changed since the last `make manifest` still counts. dbt's flags (dbt_project.yml `flags:`), docs
and tests do not. Plain Python, no dbt import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from ingest.files import dumps, write_atomic
from ingest.home import built_logic_path

# config that documents or grants, never decides a row; stored_keys (dbt/macros/delete_insert.sql)
# only narrows which written keys a delete+insert looks for among the stored rows
NOT_LOGIC = frozenset(
    {"docs", "persist_docs", "tags", "meta", "grants", "access", "group", "freshness", "packages", "stored_keys"}
)
BUILT_STATUSES = ("success", "pass")


class Fingerprints:
    """The logic fingerprint of every model and seed of a parsed dbt project (memoised)."""

    def __init__(self, manifest: dict[str, Any], project_dir: Path) -> None:
        self.manifest = manifest
        self.project_dir = project_dir
        self.root = manifest.get("metadata", {}).get("project_name")
        self._files: dict[Path, str] = {}
        self._nodes: dict[str, str] = {}
        self._variants: dict[str, list[str]] = {}
        for unique_id, macro in manifest.get("macros", {}).items():
            if macro.get("package_name") == self.root:
                self._variants.setdefault(dispatch_base(macro["name"]), []).append(unique_id)
        project_file = project_dir / "dbt_project.yml"
        project = yaml.safe_load(project_file.read_text()) if project_file.is_file() else {}
        self.vars = orjson.dumps((project or {}).get("vars") or {}, option=orjson.OPT_SORT_KEYS).decode()

    def incremental_models(self) -> list[str]:
        nodes = self.manifest.get("nodes", {})
        return sorted(
            uid
            for uid, node in nodes.items()
            if node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "incremental"
        )

    def all(self) -> dict[str, str]:
        """Every model's and seed's fingerprint."""
        nodes = self.manifest.get("nodes", {})
        return {uid: self.of(uid) for uid, node in nodes.items() if node.get("resource_type") in ("model", "seed")}

    def of(self, unique_id: str) -> str:
        if unique_id not in self._nodes:
            self._nodes[unique_id] = digest(self._logic(unique_id))
        return self._nodes[unique_id]

    def _logic(self, unique_id: str) -> dict[str, Any]:
        node = self.manifest.get("nodes", {}).get(unique_id) or self.manifest.get("sources", {}).get(unique_id)
        if node is None:  # an exposure, a function, a node of a package not parsed: its name alone
            return {"id": unique_id}
        if node.get("resource_type") == "source":  # data, not logic: where it is and what it holds
            keep = ("identifier", "schema", "external", "loaded_at_field", "config", "meta")
            return {"id": unique_id, **{k: node.get(k) for k in keep}, "columns": column_types(node)}
        depends = node.get("depends_on", {})
        return {
            "id": unique_id,
            "code": self._content(node),
            "config": {k: v for k, v in (node.get("config") or {}).items() if k not in NOT_LOGIC},
            "columns": column_types(node),
            "macros": sorted(self._macro_closure(depends.get("macros", []))),
            "vars": self.vars,
            "parents": sorted(self.of(parent) for parent in depends.get("nodes", [])),
        }

    def _content(self, node: dict[str, Any]) -> str:
        """The file as it is now (dbt's checksum, from the last parse, if it is not on disk)."""
        if node.get("package_name") == self.root and node.get("original_file_path"):
            text = self._file(self.project_dir / node["original_file_path"])
            if text is not None:
                return text
        return str((node.get("checksum") or {}).get("checksum"))

    def _macro_closure(self, macro_ids: list[str]) -> set[str]:
        """Each macro reached (and every engine's variant of a dispatched one), as its file's hash
        (a macro of the project) or its code's (one of dbt's or a package's)."""
        seen: set[str] = set()
        todo = list(macro_ids)
        macros = self.manifest.get("macros", {})
        while todo:
            unique_id = todo.pop()
            if unique_id in seen:
                continue
            seen.add(unique_id)
            macro = macros.get(unique_id)
            if macro is None:
                continue
            todo += macro.get("depends_on", {}).get("macros", [])
            if macro.get("package_name") == self.root:
                todo += self._variants.get(dispatch_base(macro["name"]), [])
        hashes = set()
        for unique_id in seen:
            macro = macros.get(unique_id)
            if macro is None:
                hashes.add(unique_id)
            elif macro.get("package_name") == self.root:
                path = self.project_dir / macro["original_file_path"]
                hashes.add(f"{macro['original_file_path']}:{self._file(path) or digest(macro.get('macro_sql'))}")
            else:
                hashes.add(f"{unique_id}:{digest(macro.get('macro_sql'))}")
        return hashes

    def _file(self, path: Path) -> str | None:
        if path not in self._files:
            try:
                self._files[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                return None
        return self._files[path]


def dispatch_base(name: str) -> str:
    """`duckdb__unnest`, `spark__unnest`, `default__unnest` and `unnest` are one macro."""
    return name.rsplit("__", 1)[-1]


def plural(items: list[Any], one: str, many: str) -> str:
    return one if len(items) == 1 else many


def column_types(node: dict[str, Any]) -> dict[str, Any]:
    return {name: column.get("data_type") for name, column in sorted((node.get("columns") or {}).items())}


def digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class LogicCheck:
    """What a build must refresh because the logic that built the warehouse changed."""

    fingerprints: dict[str, str] = field(default_factory=dict)  # every model's and seed's, now
    changed: list[str] = field(default_factory=list)  # incremental models built by other logic
    unrecorded: list[str] = field(default_factory=list)  # incremental models with no record of theirs

    @property
    def refresh(self) -> list[str]:
        return sorted({*self.changed, *self.unrecorded})

    def describe(self) -> str:
        """One line for the operator (empty when nothing is refreshed)."""
        if not self.refresh:
            return ""
        names = [uid.rsplit(".", 1)[-1] for uid in self.changed]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        why = [f"the dbt logic of {shown} changed since {plural(names, 'it was', 'they were')} built"] if names else []
        if self.unrecorded:
            many = self.unrecorded
            why.append(
                f"{len(many)} incremental {plural(many, 'model has', 'models have')} no record of the logic"
                f" that built {plural(many, 'it', 'them')}"
            )
        n = len(self.refresh)
        return (
            f"{' and '.join(why)}: rebuilding {'it' if n == 1 else f'those {n} incremental models'} whole from raw/"
            " (the rest of the build stays incremental)"
        )


def check(
    home: Path,
    manifest_path: Path,
    project_dir: Path,
    engine: str = "duckdb",
    built: bool = True,
    selected: set[str] | None = None,
) -> LogicCheck:
    """Fingerprint the project's logic and compare it with what built the warehouse. built: whether
    that engine's warehouse exists (its first build refreshes nothing: every table is new);
    selected: the names of the models a partial build builds (None: all)."""
    try:
        manifest = orjson.loads(manifest_path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return LogicCheck()
    prints = Fingerprints(manifest, project_dir)
    fingerprints = prints.all()
    if not built:
        return LogicCheck(fingerprints)
    record = built_logic_path(home, engine)
    recorded = read_recorded(record)
    incremental = [m for m in prints.incremental_models() if selected is None or m.rsplit(".", 1)[-1] in selected]
    changed = [uid for uid in incremental if uid in recorded and recorded[uid] != fingerprints[uid]]
    # no record at all: a warehouse built before hubwatch kept one, whose logic is unknown. Once this
    # code keeps the record, a model missing from it was never built on this engine (a partial build,
    # a model new in this version, one that is a table on this engine): dbt builds it whole anyway,
    # and listing it would only change the vars (a full parse)
    unrecorded = [uid for uid in incremental if uid not in recorded] if not record.is_file() else []
    return LogicCheck(fingerprints, changed, unrecorded)


def read_recorded(path: Path) -> dict[str, str]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data.get("models", {}) if isinstance(data, dict) else {}


def record_built(home: Path, engine: str, run_results_path: Path, fingerprints: dict[str, str]) -> list[str]:
    """After a build (finished or failed), the fingerprint of each model and seed dbt built: that
    logic computed the rows its table holds now. A node that failed, was skipped or not selected
    keeps what was recorded before (a pending refresh stays pending)."""
    try:
        results = orjson.loads(run_results_path.read_bytes()).get("results", [])
    except (OSError, orjson.JSONDecodeError):
        return []
    built = [r["unique_id"] for r in results if r.get("status") in BUILT_STATUSES and r["unique_id"] in fingerprints]
    if not built:
        return []
    path = built_logic_path(home, engine)
    recorded = read_recorded(path)
    recorded.update({uid: fingerprints[uid] for uid in built})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, dumps({"version": 1, "models": dict(sorted(recorded.items()))}))
    return built

"""Which incremental models' logic changed since the warehouse was built, so that a build after an
upgrade (`git pull`) rebuilds them whole instead of stopping on a changed column or mixing rows
computed by old and new logic in one table.

An incremental model keeps the rows earlier builds computed. Its *logic* is everything that decides
those rows: its SQL file, its config and column types, the macros it calls (with every engine's
variant of a dispatched macro, so that a Spark-only change counts on Spark too), the project's vars
(the rule set), and the logic of every model, seed and source it reads, recursively. The macros a
model reaches are those dbt recorded while parsing and those its file, config and macros call by
name on disk (dbt parses with is_incremental() false: a macro called only on an incremental run is
in no depends_on). A macro of the project counts by its own text (its `{% macro %}` block in its
file), so that a change to one macro of a file holding several refreshes only the models that reach
that one; a macro whose block cannot be told apart (a materialization, a generic test, a file that
does not split into the macros the last parse found in it) counts by its whole file, as every macro
did in the record's version 1 (a record of that version is re-expressed, not refreshed: see
`check`). A build records the fingerprint of the logic of each model it built (`built_logic.json`,
one per engine, beside the pending-refresh list); the next build refreshes every incremental model
whose fingerprint differs or was never recorded. A change upstream changes every fingerprint
downstream, so what depends on a changed model is refreshed with it; tables and views are rebuilt
whole at every build anyway.

The graph and configs come from the parsed project (dbt/target/manifest.json, which the Dagster
definitions load too), the contents from the project's files as they are on disk now, so a file
changed since the last `make manifest` still counts. dbt's flags (dbt_project.yml `flags:`), docs
and tests do not. Plain Python, no dbt import.
"""

from __future__ import annotations

import hashlib
import re
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
RECORD_VERSION = 2  # 1: a project macro fingerprinted by its whole file; 2: by its own block
# a Jinja comment, or a tag that opens or closes a macro or a raw block (whose text is not Jinja)
MACRO_TAGS = re.compile(r"\{#.*?#\}|\{%[-+]?\s*(macro|endmacro|raw|endraw)\b\s*(\w*).*?%\}", re.S)


class Fingerprints:
    """The logic fingerprint of every model and seed of a parsed dbt project (memoised)."""

    def __init__(self, manifest: dict[str, Any], project_dir: Path, macros_by_file: bool = False) -> None:
        self.manifest = manifest
        self.project_dir = project_dir
        # the record's version 1, exactly: each project macro as its whole file, the macros dbt recorded only
        self.macros_by_file = macros_by_file
        self.root = manifest.get("metadata", {}).get("project_name")
        self._files: dict[Path, str] = {}
        self._blocks: dict[Path, dict[str, str]] = {}
        self._nodes: dict[str, str] = {}
        self._files_reached: dict[str, frozenset[str]] = {}  # project macro files, the node's and upstream's
        self._variants: dict[str, list[str]] = {}
        self._by_name: dict[str, str] = {}  # each project macro's unique id, by its name
        self._names_in_file: dict[str, set[str]] = {}  # the macros the last parse found in each file
        for unique_id, macro in manifest.get("macros", {}).items():
            if macro.get("package_name") == self.root:
                self._variants.setdefault(dispatch_base(macro["name"]), []).append(unique_id)
                self._by_name[macro["name"]] = unique_id
                self._names_in_file.setdefault(macro["original_file_path"], set()).add(macro["name"])
        names = sorted(self._by_name, key=len, reverse=True)
        # a call of a project macro by name in SQL or Jinja text (not a method: x.name(...))
        package = rf"(?:{re.escape(self.root)}\.)?" if self.root else ""  # hubwatch.name(...) too
        self._call = re.compile(rf"(?<![\w.]){package}({'|'.join(map(re.escape, names))})\s*\(") if names else None
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

    def files_reached(self, unique_id: str) -> frozenset[str]:
        """The project's macro files whose macros count in the node's logic or upstream of it."""
        self.of(unique_id)
        return self._files_reached.get(unique_id, frozenset())

    def _logic(self, unique_id: str) -> dict[str, Any]:
        node = self.manifest.get("nodes", {}).get(unique_id) or self.manifest.get("sources", {}).get(unique_id)
        if node is None:  # an exposure, a function, a node of a package not parsed: its name alone
            return {"id": unique_id}
        if node.get("resource_type") == "source":  # data, not logic: where it is and what it holds
            keep = ("identifier", "schema", "external", "loaded_at_field", "config", "meta")
            return {"id": unique_id, **{k: node.get(k) for k in keep}, "columns": column_types(node)}
        depends = node.get("depends_on", {})
        macros, files = self._macro_closure([*depends.get("macros", []), *self._named_by(node)])
        parents = sorted(self.of(parent) for parent in depends.get("nodes", []))
        for parent in depends.get("nodes", []):
            files |= self._files_reached.get(parent, frozenset())
        self._files_reached[unique_id] = frozenset(files)
        return {
            "id": unique_id,
            "code": self._content(node),
            "config": logic_config(node),
            "columns": column_types(node),
            "macros": sorted(macros),
            "vars": self.vars,
            "parents": parents,
        }

    def _content(self, node: dict[str, Any]) -> str:
        """The file as it is now (dbt's checksum, from the last parse, if it is not on disk)."""
        if node.get("package_name") == self.root and node.get("original_file_path"):
            text = self._file(self.project_dir / node["original_file_path"])
            if text is not None:
                return text
        return str((node.get("checksum") or {}).get("checksum"))

    def _named_by(self, node: dict[str, Any]) -> list[str]:
        """The project macros a node's file (as on disk now) and config call by name, or name as a
        config value (not one of NOT_LOGIC: `stored_keys` names a macro that only narrows a delete's
        search). dbt records in depends_on only the macros it saw called while parsing, when
        `is_incremental()` is false: a macro called only on an incremental run (the very code that
        decides which stored rows change) is not among them.
        A name that is no call of it (`unnest(` in SQL) costs at most a needless rebuild. None in
        version 1's fingerprints (macros_by_file), which this reproduces."""
        if self.macros_by_file:
            return []
        text = ""
        if node.get("package_name") == self.root and node.get("original_file_path"):
            text = self._text(self.project_dir / node["original_file_path"]) or ""
        config = logic_config(node)
        named = [self._by_name[v] for v in config.values() if isinstance(v, str) and v in self._by_name]
        return named + self._calls_in(text + "\n" + orjson.dumps(config).decode())

    def _calls_in(self, text: str) -> list[str]:
        return [self._by_name[call.group(1)] for call in self._call.finditer(text)] if self._call else []

    def _macro_closure(self, macro_ids: list[str]) -> tuple[set[str], set[str]]:
        """Each macro reached (and every engine's variant of a dispatched one), as its own text's
        hash (a macro of the project: _project_macro) or its code's (one of dbt's or a package's);
        and the project's files those macros lie in."""
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
                if not self.macros_by_file:  # as on disk now, incremental branches too
                    todo += self._calls_in(self._macro_text(macro))
        hashes, files = set(), set()
        for unique_id in seen:
            macro = macros.get(unique_id)
            if macro is None:
                hashes.add(unique_id)
            elif macro.get("package_name") == self.root:
                hashes.add(self._project_macro(macro))
                files.add(macro["original_file_path"])
            else:
                hashes.add(f"{unique_id}:{digest(macro.get('macro_sql'))}")
        return hashes, files

    def _project_macro(self, macro: dict[str, Any]) -> str:
        """A project macro as it is on disk now: its block's hash, or its whole file's where the block
        cannot be told apart (_block), or its parsed code's where the file is gone."""
        where = macro["original_file_path"]
        block = None if self.macros_by_file else self._block(macro)
        if block is not None:
            return f"{where}:{macro['name']}:{hashlib.sha256(block.encode()).hexdigest()}"
        return f"{where}:{self._file(self.project_dir / where) or digest(macro.get('macro_sql'))}"

    def _block(self, macro: dict[str, Any]) -> str | None:
        """The macro's block in its file on disk, where the file splits into the very macros the last
        parse found in it (a macro added, removed or renamed since, or a split dbt would not make:
        the whole file counts)."""
        path = self.project_dir / macro["original_file_path"]
        if path not in self._blocks:
            text = self._text(path)
            blocks = macro_blocks(text) if text is not None else {}
            same = set(blocks) == self._names_in_file.get(macro["original_file_path"], set())
            self._blocks[path] = blocks if same else {}
        return self._blocks[path].get(macro["name"])

    def _macro_text(self, macro: dict[str, Any]) -> str:
        """What the macro's calls are read from: its block, else its whole file, else its parsed code."""
        block = self._block(macro)
        if block is not None:
            return block
        return self._text(self.project_dir / macro["original_file_path"]) or macro.get("macro_sql") or ""

    def _text(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _file(self, path: Path) -> str | None:
        if path not in self._files:
            try:
                self._files[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                return None
        return self._files[path]


def macro_blocks(text: str) -> dict[str, str]:
    """Each top-level `{% macro name(...) %} ... {% endmacro %}` block of a macro file, by name, from
    its opening tag to its closing one (macros nested in it included), as dbt reads a
    macro file: block by block, text outside the blocks belonging to none. Comments and raw blocks
    are skipped. {} when the file does not split cleanly (unbalanced tags, a name given twice): its
    macros then count by the whole file."""
    blocks: dict[str, str] = {}
    depth, start, name, in_raw = 0, 0, "", False
    for tag in MACRO_TAGS.finditer(text):
        kind = tag.group(1)
        if kind is None:  # a comment
            continue
        if kind in ("raw", "endraw"):
            in_raw = kind == "raw"
            continue
        if in_raw:
            continue
        if kind == "macro":
            if depth == 0:
                start, name = tag.start(), tag.group(2)
            depth += 1
            continue
        depth -= 1
        if depth < 0:
            return {}
        if depth == 0:
            if not name or name in blocks:
                return {}
            blocks[name] = text[start : tag.end()]
    return blocks if depth == 0 and not in_raw else {}


def dispatch_base(name: str) -> str:
    """`duckdb__unnest`, `spark__unnest`, `default__unnest` and `unnest` are one macro."""
    return name.rsplit("__", 1)[-1]


def plural(items: list[Any], one: str, many: str) -> str:
    return one if len(items) == 1 else many


def logic_config(node: dict[str, Any]) -> dict[str, Any]:
    """The node's config that decides its rows (NOT_LOGIC left out)."""
    return {k: v for k, v in (node.get("config") or {}).items() if k not in NOT_LOGIC}


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
    # what the record says built each model, in this version's fingerprints (record_built adds to it)
    recorded: dict[str, str] = field(default_factory=dict)

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
    record = built_logic_path(home, engine)
    version, recorded = read_record(record)
    if recorded and version < RECORD_VERSION:
        recorded = re_expressed(recorded, prints, Fingerprints(manifest, project_dir, macros_by_file=True))
    if not built:
        return LogicCheck(fingerprints, recorded=recorded)
    incremental = [m for m in prints.incremental_models() if selected is None or m.rsplit(".", 1)[-1] in selected]
    changed = [uid for uid in incremental if uid in recorded and recorded[uid] != fingerprints[uid]]
    # no record at all: a warehouse built before hubwatch kept one, whose logic is unknown. Once this
    # code keeps the record, a model missing from it was never built on this engine (a partial build,
    # a model new in this version, one that is a table on this engine): dbt builds it whole anyway,
    # and listing it would only change the vars (a full parse)
    unrecorded = [uid for uid in incremental if uid not in recorded] if not record.is_file() else []
    return LogicCheck(fingerprints, changed, unrecorded, recorded)


def re_expressed(recorded: dict[str, str], prints: Fingerprints, by_file: Fingerprints) -> dict[str, str]:
    """A version-1 record in this version's fingerprints. A model whose whole-file fingerprint is the
    one recorded was built by the logic of today's files, as far as version 1 read them: where that
    covers every macro file this version reads for it and upstream of it, it was built by today's
    logic, and its entry is today's fingerprint (no rebuild for the new way of counting). A model
    whose logic differs, or which reaches a macro version 1 never read (called only on incremental
    runs: it may have changed unseen), keeps its entry, which differs from any fingerprint of this
    version: it is rebuilt."""
    old = by_file.all()
    return {
        uid: prints.of(uid) if old.get(uid) == was and prints.files_reached(uid) <= by_file.files_reached(uid) else was
        for uid, was in recorded.items()
    }


def read_record(path: Path) -> tuple[int, dict[str, str]]:
    """The record's version and its fingerprint per model (version 1, nothing: no record)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return 1, {}
    if not isinstance(data, dict):
        return 1, {}
    version = data.get("version", 1)
    return version if isinstance(version, int) else 1, data.get("models", {})


def record_built(home: Path, engine: str, run_results_path: Path, logic: LogicCheck) -> list[str]:
    """After a build (finished or failed), the fingerprint of each model and seed dbt built: that
    logic computed the rows its table holds now. A node that failed, was skipped or not selected
    keeps what was recorded before (a pending refresh stays pending), as the check before the build
    read it (logic.recorded: in this version's fingerprints)."""
    try:
        results = orjson.loads(run_results_path.read_bytes()).get("results", [])
    except (OSError, orjson.JSONDecodeError):
        return []
    fingerprints = logic.fingerprints
    built = [r["unique_id"] for r in results if r.get("status") in BUILT_STATUSES and r["unique_id"] in fingerprints]
    if not built:
        return []
    path = built_logic_path(home, engine)
    # the record as the check before this build read it (builds of one warehouse never overlap: the
    # writer pool runs one at a time), plus what this build computed
    recorded = {**logic.recorded, **{uid: fingerprints[uid] for uid in built}}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, dumps({"version": RECORD_VERSION, "models": dict(sorted(recorded.items()))}))
    return built

"""`hubwatch diff A B`: what changed between two published packages.

Per public table: rows added, removed and changed, matched by the table's key (its grain, as the
dbt project tests it: the `grain` of its `checks` test in dbt/models/marts/*.yml), the columns that
changed and how often, with examples. A table without a known key, or whose key is not unique in
a package, is compared row by row as a whole (added and removed rows only). For `models`, the
journalist's question: which models disappeared between the two packages, and how
(`removal_kind`: absent from a later snapshot, taken down, archived), and which came back.

Both packages are attached read-only to an in-memory DuckDB session; nothing is written but the
CSV stream on request. Only hubwatch's own SQL runs here, with identifiers from the catalogs.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import duckdb
import orjson
import yaml

from ingest.files import sql_text

MARTS_YAML = Path(__file__).resolve().parent.parent / "dbt" / "models" / "marts"
MODEL_COLUMNS = ("platform", "model_id", "name", "model_type", "real_person", "removed_on", "removal_kind")
CSV_COLUMNS = ("table", "change", "key", "changed_columns", "removal_kind", "removed_on")


class DiffError(RuntimeError):
    """The packages cannot be compared; the message says why in one line."""


@dataclass
class TableDiff:
    table: str
    key: tuple[str, ...]  # empty: compared as whole rows
    rows_a: int
    rows_b: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    changed_columns: dict[str, int] = field(default_factory=dict)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    columns_retyped: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    note: str = ""


@dataclass
class PackageDiff:
    a: dict[str, Any]  # what each package says of itself (path, date, rules, simulated)
    b: dict[str, Any]
    tables: list[TableDiff]
    only_in_a: list[str]
    only_in_b: list[str]
    disappeared: list[dict[str, Any]]  # models present in A, removed in B
    disappeared_total: int
    disappeared_by_kind: dict[str, int]
    disappeared_real_person: int | None  # None: the package has no real_person column
    reappeared: int


def table_keys(folder: Path = MARTS_YAML) -> dict[str, tuple[str, ...]]:
    """Each public table's key: the columns its `checks` test holds unique (its `grain`)."""
    keys: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            for test in model.get("data_tests", []) or []:
                if isinstance(test, dict) and "checks" in test:
                    spec = test["checks"] or {}
                    columns = (spec.get("arguments") or spec).get("grain")
                    if columns:
                        keys[model["name"]] = tuple(columns)
    return keys


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def diff_packages(
    a: Path, b: Path, *, tables: tuple[str, ...] | None = None, examples: int = 5, keys: dict | None = None
) -> PackageDiff:
    """Compare two packages' DuckDB files, table by table."""
    keys = table_keys() if keys is None else keys
    with _attached(a, b) as con:
        in_a, in_b = _tables(con, "a"), _tables(con, "b")
        wanted = sorted(in_a | in_b) if not tables else list(tables)
        unknown = [t for t in wanted if t not in in_a and t not in in_b]
        if unknown:
            raise DiffError(
                f"no table {', '.join(unknown)} in either package; tables: {', '.join(sorted(in_a | in_b))}"
            )
        compared = [
            _table_diff(con, table, keys.get(table, ()), examples)
            for table in wanted
            if table in in_a and table in in_b
        ]
        gone = _disappeared(con, examples) if _comparable_models(con) else ([], 0, {}, None, 0)
        return PackageDiff(
            a=_describe_package(con, "a", a),
            b=_describe_package(con, "b", b),
            tables=compared,
            only_in_a=sorted(t for t in wanted if t in in_a and t not in in_b),
            only_in_b=sorted(t for t in wanted if t in in_b and t not in in_a),
            disappeared=gone[0],
            disappeared_total=gone[1],
            disappeared_by_kind=gone[2],
            disappeared_real_person=gone[3],
            reappeared=gone[4],
        )


class _attached:
    """An in-memory session with package A attached as `a` and B as `b`, both read-only."""

    def __init__(self, a: Path, b: Path):
        self.paths = (a, b)

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
        self.con.execute("set TimeZone = 'UTC'")
        for alias, path in zip(("a", "b"), self.paths, strict=True):
            try:
                self.con.execute(f"attach '{sql_text(str(path))}' as {alias} (read_only)")
            except duckdb.Error as error:
                self.con.close()
                raise DiffError(f"cannot open {path} read-only: {str(error).splitlines()[0]}") from None
        return self.con

    def __exit__(self, *exc) -> None:
        self.con.close()


def _tables(con, alias: str) -> set[str]:
    rows = con.execute("select table_name from duckdb_tables() where database_name = ?", [alias]).fetchall()
    return {name for (name,) in rows}


def _columns(con, alias: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and table_name = ? "
        "order by column_index",
        [alias, table],
    ).fetchall()
    return dict(rows)


def _count(con, sql: str) -> int:
    return con.sql(sql).fetchall()[0][0]


def _is_unique(con, relation: str, key: tuple[str, ...]) -> bool:
    columns = ", ".join(quote(c) for c in key)
    return _count(con, f"select count(*) - count(distinct ({columns})) from {relation}") == 0  # noqa: S608 (identifiers quoted from the catalog)


def _table_diff(con, table: str, key: tuple[str, ...], examples: int) -> TableDiff:
    columns_a, columns_b = _columns(con, "a", table), _columns(con, "b", table)
    a_rel, b_rel = f"a.main.{quote(table)}", f"b.main.{quote(table)}"
    result = TableDiff(
        table,
        (),
        _count(con, f"select count(*) from {a_rel}"),  # noqa: S608 (identifiers quoted from the catalog)
        _count(con, f"select count(*) from {b_rel}"),  # noqa: S608 (identifiers quoted from the catalog)
    )
    result.columns_added = [c for c in columns_b if c not in columns_a]
    result.columns_removed = [c for c in columns_a if c not in columns_b]
    result.columns_retyped = [c for c in columns_a if c in columns_b and columns_a[c] != columns_b[c]]
    common = [c for c in columns_a if c in columns_b and c not in result.columns_retyped]
    usable = key and all(c in common for c in key) and _is_unique(con, a_rel, key) and _is_unique(con, b_rel, key)
    if not usable:
        result.note = (
            "compared as whole rows: no key known"
            if not key
            else f"compared as whole rows: key ({', '.join(key)}) is missing or not unique"
        )
        listed = ", ".join(quote(c) for c in common)
        result.added = _count(
            con,
            f"select count(*) from (select {listed} from {b_rel} except all select {listed} from {a_rel})",  # noqa: S608 (identifiers quoted from the catalog)
        )
        result.removed = _count(
            con,
            f"select count(*) from (select {listed} from {a_rel} except all select {listed} from {b_rel})",  # noqa: S608 (identifiers quoted from the catalog)
        )
        return result
    result.key = key
    using = ", ".join(quote(c) for c in key)
    values = [c for c in common if c not in key]
    result.added = _count(con, f"select count(*) from {b_rel} anti join {a_rel} using ({using})")  # noqa: S608 (identifiers quoted from the catalog)
    result.removed = _count(con, f"select count(*) from {a_rel} anti join {b_rel} using ({using})")  # noqa: S608 (identifiers quoted from the catalog)
    if values:
        flags = ", ".join(f"count(*) filter (x.{quote(c)} is distinct from y.{quote(c)})" for c in values)
        differs = " or ".join(f"x.{quote(c)} is distinct from y.{quote(c)}" for c in values)
        row = con.sql(
            f"select count(*) filter ({differs}), {flags} from {a_rel} x join {b_rel} y using ({using})"  # noqa: S608
        ).fetchall()[0]
        result.changed = row[0]
        result.changed_columns = {c: n for c, n in sorted(zip(values, row[1:], strict=True), key=lambda p: -p[1]) if n}
    if examples:
        result.examples = _examples(con, a_rel, b_rel, key, values, examples)
    return result


def _key_text(key: tuple[str, ...], row: tuple) -> str:
    return " ".join(f"{c}={v}" for c, v in zip(key, row, strict=True))


def _examples(con, a_rel: str, b_rel: str, key: tuple[str, ...], values: list[str], limit: int) -> dict[str, list[str]]:
    using = ", ".join(quote(c) for c in key)
    order = f"order by {using}"
    found: dict[str, list[str]] = {}
    for change, (left, right) in {"added": (b_rel, a_rel), "removed": (a_rel, b_rel)}.items():
        rows = con.sql(f"select {using} from {left} anti join {right} using ({using}) {order} limit {limit}").fetchall()  # noqa: S608 (identifiers quoted from the catalog)
        found[change] = [_key_text(key, row) for row in rows]
    if values:
        differs = " or ".join(f"x.{quote(c)} is distinct from y.{quote(c)}" for c in values)
        pairs = ", ".join(f"x.{quote(c)}, y.{quote(c)}" for c in values)
        keyed = ", ".join(f"x.{quote(c)}" for c in key)
        rows = con.sql(
            f"select {keyed}, {pairs} from {a_rel} x join {b_rel} y using ({using}) where {differs} "  # noqa: S608
            f"order by {keyed} limit {limit}"
        ).fetchall()
        texts = []
        for row in rows:
            before_after = row[len(key) :]
            changes = [
                f"{c}: {_short(before_after[2 * i])} → {_short(before_after[2 * i + 1])}"
                for i, c in enumerate(values)
                if before_after[2 * i] != before_after[2 * i + 1]
            ]
            texts.append(
                f"{_key_text(key, row[: len(key)])} ({'; '.join(changes[:4])}{'; …' if len(changes) > 4 else ''})"
            )
        found["changed"] = texts
    return found


def _short(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _comparable_models(con) -> bool:
    need = {"platform", "model_id", "removed_on", "removal_kind"}
    return need <= set(_columns(con, "a", "models")) and need <= set(_columns(con, "b", "models"))


def _disappeared(con, limit: int | None) -> tuple[list[dict[str, Any]], int, dict[str, int], int | None, int]:
    """Models listed as present in A (no removal date) and removed in B; and the reverse count."""
    available = set(_columns(con, "b", "models"))
    shown = [c for c in MODEL_COLUMNS if c in available]
    joined = "from a.main.models x join b.main.models y using (platform, model_id)"
    gone = "x.removed_on is null and y.removed_on is not null"
    by_kind = dict(
        con.sql(
            f"select coalesce(y.removal_kind, 'unknown'), count(*) {joined} where {gone} group by 1 order by 1"  # noqa: S608
        ).fetchall()
    )
    rows = con.sql(
        f"select {', '.join(f'y.{quote(c)}' for c in shown)} {joined} where {gone} "  # noqa: S608
        "order by y.removal_kind, y.platform, y.model_id" + (f" limit {int(limit)}" if limit is not None else "")
    )
    listed = [dict(zip(shown, row, strict=True)) for row in rows.fetchall()]
    real = (
        _count(con, f"select count(*) {joined} where {gone} and y.real_person") if "real_person" in available else None
    )
    back = _count(con, f"select count(*) {joined} where x.removed_on is not null and y.removed_on is null")
    return listed, sum(by_kind.values()), by_kind, real, back


def _describe_package(con, alias: str, path: Path) -> dict[str, Any]:
    """Date, rules and simulated flag: from the package's manifest beside the file, else its build_info."""
    manifest_path = path.parent / "manifest.json"
    info: dict[str, Any] = {"path": str(path.parent if manifest_path.is_file() else path)}
    if manifest_path.is_file():
        manifest = orjson.loads(manifest_path.read_bytes())
        info.update({k: manifest.get(k) for k in ("publish_date", "rules_version", "simulated")})
    elif "build_info" in _tables(con, alias):
        build = con.sql(f"select rules_version, last_snapshot from {alias}.main.build_info").fetchall()  # noqa: S608
        if build:
            info.update(rules_version=build[0][0], last_snapshot=str(build[0][1]))
    return info


def summary_text(result: PackageDiff) -> str:
    """The diff as a reader wants it first: models that disappeared, then every table's counts."""

    def label(info: dict[str, Any]) -> str:
        facts = [
            info.get("publish_date") or info.get("last_snapshot"),
            info.get("rules_version") and f"rules {info['rules_version']}",
        ]
        facts.append("SIMULATED" if info.get("simulated") else None)
        return f"{info['path']} ({', '.join(str(f) for f in facts if f)})"

    lines = [f"A: {label(result.a)}", f"B: {label(result.b)}", ""]
    kinds = ", ".join(f"{kind} {n}" for kind, n in result.disappeared_by_kind.items())
    lines.append(f"models that disappeared from A to B: {result.disappeared_total}" + (f" ({kinds})" if kinds else ""))
    if result.disappeared_real_person is not None and result.disappeared_total:
        lines[-1] += f"; {result.disappeared_real_person} of them depict a real person"
    if result.disappeared:
        lines += _aligned(
            [list(result.disappeared[0])] + [[_short(v) for v in row.values()] for row in result.disappeared]
        )
        if result.disappeared_total > len(result.disappeared):
            lines.append(f"  … and {result.disappeared_total - len(result.disappeared)} more (--csv lists every one)")
    lines.append(f"models that came back (removed in A, present in B): {result.reappeared}")
    lines.append("")
    width = max([len(t.table) for t in result.tables] + [5])
    lines.append(f"{'table':<{width}}  {'rows A':>9}  {'rows B':>9}  {'added':>8}  {'removed':>8}  {'changed':>8}")
    for t in result.tables:
        changed = f"{t.changed:>8}" if t.key else f"{'-':>8}"
        lines.append(f"{t.table:<{width}}  {t.rows_a:>9}  {t.rows_b:>9}  {t.added:>8}  {t.removed:>8}  {changed}")
        if t.note:
            lines.append(f"  ({t.note})")
        if t.changed_columns:
            lines.append("  changed columns: " + ", ".join(f"{c} {n}" for c, n in t.changed_columns.items()))
        for name, found in (("columns only in B", t.columns_added), ("columns only in A", t.columns_removed)):
            if found:
                lines.append(f"  {name}: {', '.join(found)}")
        if t.columns_retyped:
            lines.append(f"  columns whose type changed (not compared): {', '.join(t.columns_retyped)}")
        for change, examples in t.examples.items():
            for example in examples:
                lines.append(f"  {change}: {example}")
    for name, found in (("tables only in A", result.only_in_a), ("tables only in B", result.only_in_b)):
        if found:
            lines.append(f"{name}: {', '.join(found)}")
    return "\n".join(lines) + "\n"


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def write_csv(a: Path, b: Path, result: PackageDiff, out: IO[str]) -> None:
    """Every change as one CSV row: table, change (added, removed, changed, disappeared, reappeared,
    or the whole-row kinds), key (JSON), changed_columns, and for models removal_kind and removed_on."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    with _attached(a, b) as con, tempfile.TemporaryDirectory(prefix="hubwatch-diff-") as scratch:
        for t in result.tables:
            target = Path(scratch) / f"{t.table}.csv"
            con.execute(f"copy ({_change_rows(con, t)}) to '{sql_text(str(target))}' (format csv, header false)")
            out.flush()
            with target.open() as rows:
                shutil.copyfileobj(rows, out)
            target.unlink()
    out.flush()


def _change_rows(con, t: TableDiff) -> str:
    """SQL listing every changed row of one table in CSV_COLUMNS order."""
    a_rel, b_rel = f"a.main.{quote(t.table)}", f"b.main.{quote(t.table)}"
    name = f"'{sql_text(t.table)}'"
    columns_a = _columns(con, "a", t.table)
    common = [c for c in columns_a if c in _columns(con, "b", t.table) and c not in t.columns_retyped]
    if not t.key:
        listed = ", ".join(quote(c) for c in common)
        row_json = f"to_json(struct_pack({', '.join(f'{quote(c)} := {quote(c)}' for c in common)}))::varchar"

        def whole(change: str, left: str, right: str) -> str:
            return (
                f"select {name}, '{change}', {row_json}, '', null, null from "  # noqa: S608
                f"(select {listed} from {left} except all select {listed} from {right})"
            )

        return f"{whole('added', b_rel, a_rel)} union all {whole('removed', a_rel, b_rel)}"
    using = ", ".join(quote(c) for c in t.key)

    def key_json(prefix: str) -> str:
        return f"to_json(struct_pack({', '.join(f'{quote(c)} := {prefix}{quote(c)}' for c in t.key)}))::varchar"

    values = [c for c in common if c not in t.key]
    parts = [
        f"select {name}, 'added', {key_json('')}, '', null, null from {b_rel} anti join {a_rel} using ({using})",  # noqa: S608 (identifiers quoted from the catalog)
        f"select {name}, 'removed', {key_json('')}, '', null, null from {a_rel} anti join {b_rel} using ({using})",  # noqa: S608 (identifiers quoted from the catalog)
    ]
    if values:
        which = ", ".join(
            f"case when x.{quote(c)} is distinct from y.{quote(c)} then '{sql_text(c)}' end" for c in values
        )
        differs = " or ".join(f"x.{quote(c)} is distinct from y.{quote(c)}" for c in values)
        is_models = t.table == "models" and {"removed_on", "removal_kind"} <= set(values)
        change = (
            "case when x.removed_on is null and y.removed_on is not null then 'disappeared' "
            "when x.removed_on is not null and y.removed_on is null then 'reappeared' else 'changed' end"
            if is_models
            else "'changed'"
        )
        removal = "y.removal_kind, y.removed_on" if is_models else "null, null"
        parts.append(
            f"select {name}, {change}, {key_json('x.')}, concat_ws(';', {which}), {removal} "  # noqa: S608
            f"from {a_rel} x join {b_rel} y using ({using}) where {differs}"
        )
    return " union all ".join(parts) + " order by 2, 3"

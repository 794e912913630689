"""The logic fingerprints that decide which incremental models a build rebuilds whole after an
upgrade (dagster_project/model_logic.py): they change with what decides a model's rows (its SQL,
a macro it calls on any engine, a seed or model upstream, the rule set's vars) and with nothing
else (dbt's flags, another model's change, the folder the project lies in). Cheap: no dbt run, the
project's parsed manifest and a copy of its files."""

import shutil
from pathlib import Path

import orjson
import pytest

from dagster_project.model_logic import RECORD_VERSION, Fingerprints, LogicCheck, check, macro_blocks, record_built
from ingest.home import built_logic_path

DBT = Path(__file__).resolve().parent.parent / "dbt"
MANIFEST = DBT / "target" / "manifest.json"
CHANGED = "model.hubwatch.int_civitai__model_snapshots"
# incremental models that read it, directly or not
DOWNSTREAM = ("model.hubwatch.model_snapshots", "model.hubwatch.int_model_history")
# `b` of synthetic() as hubwatch before 2026-12-01 fingerprinted it (record version 1)
VERSION_1_OF_B = "c08280fd88e1a40726e7f089de58e05d691735a1adab60c243b7e3b5240f09c4"
# incremental models that read nothing of it
APART = ("model.hubwatch.int_huggingface__model_snapshots", "model.hubwatch.int_image_sightings")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return orjson.loads(MANIFEST.read_bytes())


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the dbt project's files (not its target/)."""
    to = tmp_path / "dbt"
    shutil.copytree(DBT, to, ignore=shutil.ignore_patterns("target", "logs"))
    return to


def incremental_prints(manifest: dict, project: Path) -> dict[str, str]:
    prints = Fingerprints(manifest, project)
    return {uid: prints.of(uid) for uid in prints.incremental_models()}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {uid for uid in before if before[uid] != after[uid]}


def test_an_unchanged_project_has_the_same_fingerprints_wherever_it_lies(manifest, project, tmp_path):
    first = incremental_prints(manifest, project)
    assert set(first) >= {CHANGED, *DOWNSTREAM, *APART}
    moved = shutil.copytree(project, tmp_path / "elsewhere" / "dbt")
    assert incremental_prints(manifest, project) == first
    assert incremental_prints(manifest, moved) == first


def test_a_changed_model_changes_itself_and_every_model_downstream_only(manifest, project):
    before = incremental_prints(manifest, project)
    sql = project / "models" / "intermediate" / "int_civitai__model_snapshots.sql"
    sql.write_text(sql.read_text().replace("enriched.name,", "upper(enriched.name) as name,", 1))
    after = incremental_prints(manifest, project)
    assert {CHANGED, *DOWNSTREAM} <= changed(before, after)
    assert not changed(before, after) & set(APART)


def test_a_changed_seed_changes_what_reads_it(manifest, project):
    before = incremental_prints(manifest, project)
    seed = project / "seeds" / "rules_base_model_families.csv"
    seed.write_text(seed.read_text() + "Some New Base,other,false\n")
    after = incremental_prints(manifest, project)
    assert {CHANGED, *DOWNSTREAM} <= changed(before, after)
    assert not changed(before, after) & set(APART)


def test_the_rule_set_counts_and_dbt_flags_do_not(manifest, project):
    before = incremental_prints(manifest, project)
    settings = project / "dbt_project.yml"
    text = settings.read_text()
    assert "partial_parse: true" in text and "rules_version: v3" in text
    settings.write_text(text.replace("partial_parse: true", "partial_parse: false"))
    assert incremental_prints(manifest, project) == before
    settings.write_text(text.replace("rules_version: v3", "rules_version: v4"))
    assert changed(before, incremental_prints(manifest, project)) == set(before)


def write_files(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)


def incremental_model(name: str, nodes: list[str], macros: list[str], **config) -> dict:
    """A manifest's entry for models/<name>.sql of project `p`, as dbt parses it."""
    return {
        "resource_type": "model",
        "package_name": "p",
        "original_file_path": f"models/{name}.sql",
        "config": {"materialized": "incremental", **config},
        "depends_on": {"nodes": nodes, "macros": macros},
    }


def synthetic(project: Path) -> dict:
    """A project of three models: `a` (incremental) calls a dispatched macro whose Spark variant
    lies in a file of its own; `b` (incremental) reads `a`; `c` (incremental) reads neither."""
    files = {
        "models/a.sql": "select {{ words('x') }} as w",
        "models/b.sql": "select * from {{ ref('a') }}",
        "models/c.sql": "select 1 as one",
        "macros/words.sql": "{% macro words(x) %}{{ adapter.dispatch('words')(x) }}{% endmacro %}",
        "macros/duckdb_words.sql": "{% macro duckdb__words(x) %}split({{ x }}){% endmacro %}",
        "macros/spark_words.sql": "{% macro spark__words(x) %}split({{ x }}, ' '){% endmacro %}",
        "dbt_project.yml": "name: p\nvars:\n  rules_version: v1\n",
    }
    write_files(project, files)

    def model(name, nodes, macros):
        return incremental_model(name, nodes, macros, docs={"show": True})

    def macro(name, path, calls):
        return {"name": name, "package_name": "p", "original_file_path": path, "depends_on": {"macros": calls}}

    return {
        "metadata": {"project_name": "p"},
        "nodes": {
            "model.p.a": model("a", [], ["macro.p.words"]),
            "model.p.b": model("b", ["model.p.a"], []),
            "model.p.c": model("c", [], []),
        },
        "macros": {  # as a DuckDB parse records them: the Spark variant is reached by no depends_on
            "macro.p.words": macro("words", "macros/words.sql", ["macro.p.duckdb__words"]),
            "macro.p.duckdb__words": macro("duckdb__words", "macros/duckdb_words.sql", []),
            "macro.p.spark__words": macro("spark__words", "macros/spark_words.sql", []),
        },
        "sources": {},
    }


def test_a_macro_changed_for_another_engine_counts(tmp_path):
    """The manifest is parsed for DuckDB, but a Spark warehouse's rows come from the Spark variants."""
    project = tmp_path / "p"
    manifest = synthetic(project)
    before = incremental_prints(manifest, project)
    (project / "macros" / "spark_words.sql").write_text("{% macro spark__words(x) %}split({{ x }}, ','){% endmacro %}")
    after = incremental_prints(manifest, project)
    assert changed(before, after) == {"model.p.a", "model.p.b"}


def test_docs_config_does_not_count_and_other_config_does(tmp_path):
    project = tmp_path / "p"
    manifest = synthetic(project)
    before = incremental_prints(manifest, project)
    manifest["nodes"]["model.p.c"]["config"]["docs"] = {"show": False}
    assert incremental_prints(manifest, project) == before
    manifest["nodes"]["model.p.c"]["config"]["unique_key"] = "one"
    assert changed(before, incremental_prints(manifest, project)) == {"model.p.c"}


def write_manifest(tmp_path: Path, manifest: dict) -> Path:
    path = tmp_path / "manifest.json"
    path.write_bytes(orjson.dumps(manifest))
    return path


def test_check_refreshes_what_changed_or_was_never_recorded_once_a_warehouse_exists(tmp_path):
    project, home = tmp_path / "p", tmp_path / "home"
    home.mkdir()
    manifest = synthetic(project)
    path = write_manifest(tmp_path, manifest)
    assert check(home, path, project, built=False).refresh == []  # a first build: every table is new
    unknown = check(home, path, project)  # built by a hubwatch that recorded no logic
    assert unknown.refresh == ["model.p.a", "model.p.b", "model.p.c"] and not unknown.changed
    assert "3 incremental models have no record" in unknown.describe()
    fingerprints = unknown.fingerprints
    recorded = {"version": RECORD_VERSION, "models": {**fingerprints, "model.p.a": "older logic"}}
    built_logic_path(home).write_bytes(orjson.dumps(recorded))
    changes = check(home, path, project)
    assert changes.changed == ["model.p.a"] and changes.refresh == ["model.p.a"]
    line = changes.describe()
    assert line.startswith("the dbt logic of a changed since it was built") and "\n" not in line
    assert check(home, path, project, selected={"b", "c"}).refresh == []  # a partial build without `a`
    assert check(home, path, project, selected={"a"}).refresh == ["model.p.a"]
    built_logic_path(home).write_bytes(orjson.dumps({"version": RECORD_VERSION, "models": fingerprints}))
    assert check(home, path, project) == LogicCheck(fingerprints, recorded=fingerprints)
    assert LogicCheck(fingerprints).describe() == ""


def test_only_what_dbt_built_is_recorded(tmp_path):
    """A model that failed or was skipped keeps the logic recorded before (its refresh stays due)."""
    home = tmp_path / "home"
    results = {
        "results": [
            {"unique_id": "model.p.a", "status": "success"},
            {"unique_id": "model.p.b", "status": "error"},
            {"unique_id": "model.p.c", "status": "skipped"},
            {"unique_id": "test.p.t", "status": "pass"},
        ]
    }
    (tmp_path / "run_results.json").write_bytes(orjson.dumps(results))
    new = LogicCheck({"model.p.a": "new a", "model.p.b": "new b", "model.p.c": "new c"}, recorded={"model.p.b": "old"})
    assert record_built(home, "duckdb", tmp_path / "run_results.json", new) == ["model.p.a"]
    record = orjson.loads(built_logic_path(home).read_bytes())
    assert record == {"version": RECORD_VERSION, "models": {"model.p.a": "new a", "model.p.b": "old"}}
    assert record_built(home, "spark", tmp_path / "missing.json", new) == []
    assert not built_logic_path(home, "spark").exists()


def test_hubwatch_build_says_in_one_line_what_it_rebuilds_whole(tmp_path, monkeypatch):
    """The command's own line, before the build starts (the build itself is stopped here: what it
    then does is test_upgrade's): a warehouse from a hubwatch that recorded no logic."""
    from click.testing import CliRunner

    from dagster_project import cli, runs
    from dagster_project.warehouse import logic_refresh

    home = tmp_path / "home"
    (home / "raw" / "civitai_models" / "snapshot_date=2025-01-01").mkdir(parents=True)
    (home / "warehouse.duckdb").write_bytes(b"")  # built before this record existed

    def stopped(*args, **kwargs):
        raise RuntimeError("stopped by the test after the command's lines")

    monkeypatch.setattr(runs, "build_warehouse", stopped)
    result = CliRunner().invoke(cli.main, ["build", "--home", str(home)])
    due = len(logic_refresh(home).refresh)
    said = [line for line in result.stderr.splitlines() if "incremental model" in line]
    assert due > 0 and said == [
        f"build: {due} incremental models have no record of the logic that built them: rebuilding those"
        f" {due} incremental models whole from raw/ (the rest of the build stays incremental)"
    ], result.stderr
    assert "stopped by the test" in result.stderr
    whole = CliRunner().invoke(cli.main, ["build", "--home", str(home), "--full-refresh"])
    assert "incremental model" not in whole.stderr, whole.stderr  # everything is rebuilt: nothing singled out


TWO_MACROS = """{# `first` and `second` share a file; a comment's {% macro ghost() %} is no macro #}
{% macro first(x) -%}
    lower({{ x }})
{%- endmacro %}

{% macro second(x) -%}
    {% raw %}{% endmacro %}{% endraw %}upper({{ x }})
{%- endmacro %}
"""


def two_macros_in_one_file(project: Path) -> dict:
    """`a` (incremental) calls `first`, `b` (incremental) reads `a`, `c` (incremental) calls `second`;
    `first` and `second` lie in one file."""
    files = {
        "models/a.sql": "select {{ first('x') }} as w",
        "models/b.sql": "select * from {{ ref('a') }}",
        "models/c.sql": "select {{ second('x') }} as w",
        "macros/two.sql": TWO_MACROS,
        "dbt_project.yml": "name: p\n",
    }
    write_files(project, files)
    model = incremental_model

    def macro(name):
        return {"name": name, "package_name": "p", "original_file_path": "macros/two.sql", "depends_on": {"macros": []}}

    return {
        "metadata": {"project_name": "p"},
        "nodes": {
            "model.p.a": model("a", [], ["macro.p.first"]),
            "model.p.b": model("b", ["model.p.a"], []),
            "model.p.c": model("c", [], ["macro.p.second"]),
        },
        "macros": {"macro.p.first": macro("first"), "macro.p.second": macro("second")},
        "sources": {},
    }


def test_a_changed_macro_counts_for_the_models_that_reach_it_not_for_those_of_its_file_neighbours(tmp_path):
    """An upgrade that changes or adds one macro of a shared file (dbt/macros/incremental_images.sql
    holds 20) refreshes only what reaches the macros that changed."""
    project = tmp_path / "p"
    manifest = two_macros_in_one_file(project)
    macros = project / "macros" / "two.sql"
    before = incremental_prints(manifest, project)
    macros.write_text(TWO_MACROS.replace("upper(", "initcap("))
    assert changed(before, incremental_prints(manifest, project)) == {"model.p.c"}
    macros.write_text(TWO_MACROS.replace("lower(", "trim("))
    assert changed(before, incremental_prints(manifest, project)) == {"model.p.a", "model.p.b"}
    macros.write_text(TWO_MACROS + "\n{% macro third() %}1{% endmacro %}\n")  # a macro added, and parsed
    third = {"name": "third", "package_name": "p", "original_file_path": "macros/two.sql", "depends_on": {"macros": []}}
    parsed = {**manifest, "macros": {**manifest["macros"], "macro.p.third": third}}
    assert incremental_prints(parsed, project) == before  # nothing reaches it yet


def test_a_file_whose_macros_are_not_those_of_the_last_parse_counts_whole(tmp_path):
    """A macro renamed (or added) on disk since the last parse (`make manifest`): the file's split
    is not trusted, and every model reaching any of its macros changes with it."""
    project = tmp_path / "p"
    manifest = two_macros_in_one_file(project)
    macros = project / "macros" / "two.sql"
    before = incremental_prints(manifest, project)
    macros.write_text(TWO_MACROS.replace("macro first(", "macro first_renamed("))
    assert changed(before, incremental_prints(manifest, project)) == {"model.p.a", "model.p.b", "model.p.c"}
    macros.write_text(TWO_MACROS + "\n{% macro third() %}1{% endmacro %}\n")
    assert changed(before, incremental_prints(manifest, project)) == {"model.p.a", "model.p.b", "model.p.c"}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (TWO_MACROS, {"first", "second"}),
        ("{%+ macro a() %}1{%- endmacro +%}\n{%-macro b()-%}2{%-endmacro-%}", {"a", "b"}),
        ("{%- macro outer() -%}{% macro inner() %}1{% endmacro %}{{ inner() }}{%- endmacro -%}", {"outer"}),
        ("{% materialization table, adapter='duckdb' %}{% endmaterialization %}", set()),
        ("{% macro a() %}1{% endmacro %}{% macro a() %}2{% endmacro %}", set()),  # a name twice
        ("{% macro a() %}1{% endmacro %}{% endmacro %}", set()),  # unbalanced
        ("{% macro a() %}1", set()),  # never closed
        ("{% macro a() %}{% raw %}1{% endmacro %}", set()),  # a raw block never closed
    ],
)
def test_macro_blocks_split_a_file_as_dbt_does_or_not_at_all(text, names):
    assert set(macro_blocks(text)) == names


def test_a_record_of_whole_file_fingerprints_is_re_expressed_not_refreshed(tmp_path):
    """Upgrading from a hubwatch that fingerprinted each macro by its file (record version 1): a model
    whose logic is the same by that measure is not rebuilt, and the next record is of this version;
    one whose logic changed is rebuilt."""
    project, home = tmp_path / "p", tmp_path / "home"
    home.mkdir()
    manifest = two_macros_in_one_file(project)
    path = write_manifest(tmp_path, manifest)
    by_file = Fingerprints(manifest, project, macros_by_file=True).all()
    older = {"model.p.a": "logic of an older version", "model.p.c": "logic of an older version"}
    built_logic_path(home).write_bytes(orjson.dumps({"version": 1, "models": {**by_file, **older}}))
    logic = check(home, path, project)
    assert logic.refresh == ["model.p.a", "model.p.c"]  # b's record is of today's logic
    assert logic.recorded == {**logic.fingerprints, **older}
    results = {"results": [{"unique_id": "model.p.c", "status": "success"}]}  # a partial build: c alone
    (tmp_path / "run_results.json").write_bytes(orjson.dumps(results))
    assert record_built(home, "duckdb", tmp_path / "run_results.json", logic) == ["model.p.c"]
    record = orjson.loads(built_logic_path(home).read_bytes())
    assert record == {"version": RECORD_VERSION, "models": {**logic.fingerprints, "model.p.a": older["model.p.a"]}}
    assert check(home, path, project).refresh == ["model.p.a"]  # still due, in a record of this version


def test_a_change_to_the_image_counts_macro_leaves_the_per_image_tables_alone(manifest, project):
    """dbt/macros/incremental_images.sql: wave 18 changed how the counts find the snapshots to
    recount; with whole-file fingerprints every per-image table beside them was rebuilt on upgrade
    (210.6 s at 44M images)."""
    before = incremental_prints(manifest, project)
    macros = project / "macros" / "incremental_images.sql"
    text = macros.read_text()
    assert text.count("where counted.n_items is distinct from now_in_images.n_items") == 1
    macros.write_text(text.replace("is distinct from now_in_images.n_items", "<> now_in_images.n_items"))
    after = changed(before, incremental_prints(manifest, project))
    counts = {f"model.hubwatch.{m}" for m in ("int_image_counts_by_created_day", "int_image_made_with_counts")}
    per_image = {f"model.hubwatch.{m}" for m in ("images", "int_images_made_with", "int_images_prompted")}
    assert counts <= after and "model.hubwatch.int_image_prompt_counts" in after
    assert not after & per_image


def edit_macro(project: Path, file: str, name: str) -> None:
    """A Jinja comment written into one macro's block (its text changes, not what it renders)."""
    path = project / "macros" / file
    text = path.read_text()
    block = macro_blocks(text)[name]
    opened = block.index("%}") + 2
    path.write_text(text.replace(block, block[:opened] + "{# an upgrade's edit #}" + block[opened:], 1))


@pytest.mark.parametrize(
    ("file", "macro", "models"),
    [
        ("incremental_images.sql", "image_sighting_changed", {"images", "int_images_made_with", "int_images_prompted"}),
        ("incremental_images.sql", "resource_kinds_changed_since_written", {"image_resources"}),
        ("per_model_state.sql", "model_chain_start", {"model_snapshots"}),
        ("model_measures.sql", "sd15_lineage_match", {"int_sd15_lineage_counts"}),
    ],
)
def test_a_macro_called_only_on_incremental_runs_counts(manifest, project, file, macro, models):
    """dbt records the macros it saw called while parsing, when is_incremental() is false: these are
    called only on an incremental run, where they decide which stored rows change, and are missing
    from the models' depends_on."""
    parsed = {uid.rsplit(".", 1)[-1] for uid, node in manifest["nodes"].items() if f"macro.hubwatch.{macro}" in
              node.get("depends_on", {}).get("macros", [])}  # fmt: skip
    assert not parsed & models  # the premise: the last parse did not see these calls
    before = incremental_prints(manifest, project)
    edit_macro(project, file, macro)
    assert {f"model.hubwatch.{m}" for m in models} <= changed(before, incremental_prints(manifest, project))


def test_macro_blocks_split_every_macro_file_of_the_project_as_dbt_does(manifest):
    from dbt_common.clients.jinja import extract_toplevel_blocks

    files = {m["original_file_path"] for m in manifest["macros"].values() if m["package_name"] == "hubwatch"}
    for file in sorted(files):
        text = (DBT / file).read_text()
        dbt_blocks = extract_toplevel_blocks(text, allowed_blocks={"macro"}, collect_raw_data=False)
        assert macro_blocks(text) == {block.block_name: block.full_block for block in dbt_blocks}, file


def test_a_macro_a_macro_calls_only_on_incremental_runs_counts_and_did_not_in_version_1(tmp_path):
    """`outer` (in the model's depends_on) calls `inner` only on an incremental run, so the parse
    recorded no call: this version reads the call in outer's block; version 1 did not."""
    project = tmp_path / "p"
    manifest = two_macros_in_one_file(project)
    (project / "macros" / "nested.sql").write_text(
        "{% macro outer() %}{% if is_incremental() %}{{ inner() }}{% endif %}{% endmacro %}\n"
    )
    (project / "macros" / "inner.sql").write_text("{% macro inner() %}1{% endmacro %}\n")
    (project / "models" / "c.sql").write_text("select {{ outer() }} as w")
    for name, file in (("outer", "macros/nested.sql"), ("inner", "macros/inner.sql")):
        manifest["macros"][f"macro.p.{name}"] = {
            "name": name, "package_name": "p", "original_file_path": file, "depends_on": {"macros": []},
        }  # fmt: skip
    manifest["nodes"]["model.p.c"]["depends_on"]["macros"] = ["macro.p.outer"]
    before = incremental_prints(manifest, project)
    version_1 = Fingerprints(manifest, project, macros_by_file=True).all()
    (project / "macros" / "inner.sql").write_text("{% macro inner() %}2{% endmacro %}\n")
    assert changed(before, incremental_prints(manifest, project)) == {"model.p.c"}
    assert Fingerprints(manifest, project, macros_by_file=True).all() == version_1


def test_a_version_1_record_of_a_model_reaching_a_macro_version_1_never_read_is_not_re_expressed(tmp_path):
    """Such a macro may have changed since the record was made, unseen by version 1: the model is
    rebuilt once rather than trusted."""
    project, home = tmp_path / "p", tmp_path / "home"
    home.mkdir()
    manifest = two_macros_in_one_file(project)
    (project / "macros" / "inner.sql").write_text("{% macro inner() %}1{% endmacro %}\n")
    (project / "models" / "c.sql").write_text("select {% if is_incremental() %}{{ inner() }}{% endif %} as w")
    manifest["macros"]["macro.p.inner"] = {
        "name": "inner", "package_name": "p", "original_file_path": "macros/inner.sql", "depends_on": {"macros": []},
    }  # fmt: skip
    manifest["nodes"]["model.p.c"]["depends_on"]["macros"] = []  # as parsed: the call is on the incremental branch
    by_file = Fingerprints(manifest, project, macros_by_file=True).all()
    built_logic_path(home).write_bytes(orjson.dumps({"version": 1, "models": by_file}))
    assert check(home, write_manifest(tmp_path, manifest), project).refresh == ["model.p.c"]


def test_version_1_fingerprints_stay_those_version_1_recorded(tmp_path):
    """The re-expression compares with what hubwatch before 2026-12-01 recorded: its fingerprint of
    this small project, computed by that code (dagster_project/model_logic.py at 7a744cb)."""
    project = tmp_path / "p"
    manifest = synthetic(project)
    assert Fingerprints(manifest, project, macros_by_file=True).of("model.p.b") == VERSION_1_OF_B

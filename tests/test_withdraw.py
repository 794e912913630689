"""`hubwatch withdraw`: a bad snapshot leaves raw/ whole (never deleted), with its reason; the next
build rebuilds without it even though incremental models would keep its rows; the date is free
to be imported again."""

import hashlib
from datetime import UTC, date, datetime

import duckdb
import orjson
import pytest

from dagster_project.warehouse import vanished_snapshots
from ingest import pagestore
from ingest.home import snapshot_path, withdrawn_path
from ingest.importers import import_crawl
from ingest.landing import read_manifest
from ingest.withdraw import withdraw, withdrawals
from tests.conftest import REAL, build_incremental_state, copy_home, hub_env, hubwatch, hubwatch_here

SELECTION_2023 = REAL / "civitai_v1_models_items_2023-07_selection.json"
PAGE_2024 = REAL / "civitai_v1_models_list_checkpoint_highestrated_limit10_2024-05.json"
PAGE_2025 = REAL / "civitai_v1_models_list_limit10_2025-08.json"


def ids_in(page) -> set[str]:
    return {str(item["id"]) for item in orjson.loads(page.read_bytes())["items"]}


def snapshot_rows(home) -> dict[date, set[str]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        sql = "select snapshot_date, model_id from marts.model_snapshots where platform = 'civitai'"
        rows = con.sql(sql).fetchall()
    out: dict[date, set[str]] = {}
    for day, model_id in rows:
        out.setdefault(day, set()).add(model_id)
    return out


@pytest.mark.slow
def test_a_withdrawn_snapshot_leaves_every_table_at_the_next_build(fakehub, real_crawls, tmp_path):
    """The two real crawls imported with `hubwatch import` and built (a copy of the shared
    conftest.real_crawls home: the same imports and build this test made itself); after the
    withdrawals (one of them the installed command's), the build that matters is `hubwatch build`
    run as the command runs it, in this process (conftest.hubwatch_here: what it prints, its exit
    code); the import onto the freed date and the last build (the refresh not repeated) run what
    the commands run, in this process."""
    shared, made = real_crawls
    assert [done["returncode"] for done in made["imports"]] == [0, 0], made["imports"]
    assert made["build"]["success"], made["build"]
    home = copy_home(shared, tmp_path / "home")
    env = hub_env(fakehub, home)
    assert read_manifest(home, "civitai_models", date(2023, 7, 5))["inputs"]["files"] == {
        SELECTION_2023.name: hashlib.sha256(SELECTION_2023.read_bytes()).hexdigest()
    }
    assert read_manifest(home, "civitai_models", date(2025, 8, 14))["inputs"]["files"] == {
        PAGE_2025.name: hashlib.sha256(PAGE_2025.read_bytes()).hexdigest()
    }
    assert set(snapshot_rows(home)) == {date(2023, 7, 5), date(2025, 8, 14)}
    manifest_sha = hashlib.sha256(
        (snapshot_path(home, "civitai_models", date(2025, 8, 14)) / "manifest.json").read_bytes()
    ).hexdigest()

    withdraw(home, "civitai_models", date(2023, 7, 5), "test import")  # what `hubwatch withdraw` runs, here
    done = hubwatch("withdraw", "civitai_models", "2025-08-14", "--reason", "imported onto the wrong date", env=env)
    assert done.returncode == 0, done.stderr
    moved = withdrawn_path(home, "civitai_models", date(2025, 8, 14))
    record = orjson.loads((moved / "withdrawal.json").read_bytes())
    assert record["reason"] == "imported onto the wrong date" and record["manifest_sha256"] == manifest_sha
    assert set(record) == {"source", "snapshot_date", "reason", "withdrawn_at", "manifest_sha256"}
    pages = orjson.loads((moved / "manifest.json").read_bytes())["pages"]
    assert (moved / "models.parquet").is_file() and pagestore.verify_pages(moved) == pages >= 1  # whole: pages rebuild
    assert not snapshot_path(home, "civitai_models", date(2025, 8, 14)).exists()
    # the date is free again: another crawl is imported onto it before the next build
    again = import_crawl("civitai-models-json", PAGE_2024, home=home, as_of=date(2025, 8, 14))  # `hubwatch import`'s
    assert again.status == "imported" and again.snapshot_date == date(2025, 8, 14), again

    second = hubwatch_here("build", env=env)
    assert second.returncode == 0, second.stderr
    said = [line for line in second.stderr.splitlines() if "left raw/" in line]
    assert len(said) == 1 and "full refresh" in said[0] and "civitai_models 2023-07-05" in said[0], second.stderr
    assert snapshot_rows(home) == {date(2025, 8, 14): ids_in(PAGE_2024)}  # nothing of the withdrawn two
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        coverage = con.sql("select source, snapshot_date from marts.snapshot_coverage").fetchall()
        models = {r[0] for r in con.sql("select model_id from marts.models where platform = 'civitai'").fetchall()}
    assert coverage == [("civitai_models", date(2025, 8, 14))]
    assert models == ids_in(PAGE_2024)

    # the rebuild is done once, not at every build: `hubwatch build` says "left raw/" (and refreshes) exactly
    # when vanished_snapshots lists something; the next build, in this process, is incremental and passes: the
    # job over every incremental model (what a refresh would rebuild) and what they read, with their checks
    assert vanished_snapshots(home) == []
    third = build_incremental_state(home)  # asserts it succeeded
    record = orjson.loads((home / "builds" / "latest.json").read_bytes())
    assert record["run_id"] == third.run_id and record["full_refresh"] is False


def test_withdrawing_a_date_twice_keeps_both_and_nothing_is_deleted(tmp_path):
    home = tmp_path / "home"
    day = date(2025, 8, 14)
    partition = snapshot_path(home, "civitai_models", day)
    for n in (1, 2):
        (partition / "pages").mkdir(parents=True)
        (partition / "manifest.json").write_text(f'{{"n": {n}}}')
        (partition / "pages" / "000001.json.gz").write_bytes(b"page %d" % n)
        withdraw(home, "civitai_models", day, f"reason {n}", now=datetime(2026, 1, n, 12, tzinfo=UTC))
    first = withdrawn_path(home, "civitai_models", day)
    second = first.with_name(f"{first.name}.20260102T120000Z")
    assert (first / "pages" / "000001.json.gz").read_bytes() == b"page 1"
    assert (second / "pages" / "000001.json.gz").read_bytes() == b"page 2"
    assert [r["reason"] for r in withdrawals(home)] == ["reason 1", "reason 2"]
    assert not partition.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("civitai_models", "2025-08-14", "--reason", "x"), "has no complete snapshot dated 2025-08-14"),
        (("civitai_models", "2025-08-14", "--reason", "  "), "needs a reason"),
        (("civitai_models", "14/08/2025", "--reason", "x"), "expected a date"),
        (("civitai_model", "2025-08-14", "--reason", "x"), "unknown source 'civitai_model'"),
    ],
)
def test_a_withdrawal_that_cannot_be_done_is_one_line_and_moves_nothing(fakehub, tmp_path, args, message):
    home = tmp_path / "home"
    command = hubwatch if message == "needs a reason" else hubwatch_here  # one through the installed command
    done = command("withdraw", *args, env=hub_env(fakehub, home))
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("hubwatch: error:")
    assert not (home / "withdrawn").exists()

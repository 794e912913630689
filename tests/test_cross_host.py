"""Both Civitai hosts (#21 item 6): CIVITAI_API_BASES names several; an image snapshot records every
host's count per browsing level, warns when they diverge, and snapshot_coverage shows it. fakehub's
second host hides R, X and XXX from 2026-04-15, as civitai.com has since civitai.red took them."""

from __future__ import annotations

from datetime import date

import duckdb
import orjson
import pytest

from dagster_project.runs import build_warehouse
from ingest import cross_host
from ingest.fakehub import truth
from ingest.fakehub.server import SECOND_HOST_HIDES, SECOND_HOST_SPLIT
from ingest.fakehub.world import clock_of
from ingest.home import snapshot_path
from tests.conftest import hub_env, hubwatch_here

BEFORE, AFTER = date(2026, 3, 1), date(2026, 5, 1)


def test_civitai_bases_come_from_the_list_else_the_single_base():
    env = {"CIVITAI_API_BASES": " https://civitai.red/api/v1/ , https://civitai.com/api/v1,https://civitai.red/api/v1"}
    assert cross_host.civitai_bases(env) == ("https://civitai.red/api/v1", "https://civitai.com/api/v1")
    assert cross_host.civitai_bases({"CIVITAI_API_BASE": "http://x/api/v1/"}) == ("http://x/api/v1",)
    assert cross_host.civitai_bases({}) == ("https://civitai.com/api/v1",)


@pytest.mark.parametrize(
    ("counts", "divergent"),
    [
        ({"a": 400, "b": 400}, []),  # equal (both probes stopped at their page budget)
        ({"a": 400, "b": 0}, [4]),  # one host hides the level
        ({"a": 100, "b": 96}, []),  # within 5%
        ({"a": 100, "b": 94}, [4]),  # beyond it
        ({"a": 0, "b": 0}, []),  # nothing at that level anywhere
    ],
)
def test_a_level_diverges_beyond_the_tolerance_only(counts, divergent):
    levels = {"4": {host: {"items": n, "complete": True} for host, n in counts.items()}}
    assert cross_host.divergent_levels(levels, 0.05) == divergent


def hidden_on(day: date) -> int:
    """What fakehub's second host hides on a snapshot's date."""
    return SECOND_HOST_HIDES if clock_of(day) >= SECOND_HOST_SPLIT else 0


def snapshot_images(hub, home, day, bases):
    """`hubwatch snapshot` of the images over these hosts, as the command runs it, in this process."""
    env = hub_env(hub, home, CIVITAI_API_BASES=",".join(bases))
    return hubwatch_here("snapshot", "--sources", "civitai_images", "--as-of", day.isoformat(), env=env)


def manifest(home, day):
    return orjson.loads((snapshot_path(home, "civitai_images", day) / "manifest.json").read_bytes())


@pytest.mark.slow
def test_both_hosts_end_to_end(tmp_path, small_world):
    from ingest.fakehub import FakeHub

    home = tmp_path / "home"
    with FakeHub(small_world) as hub:
        bases = [hub.civitai_base, hub.civitai_second_base]
        before = snapshot_images(hub, home, BEFORE, bases)
        assert before.returncode == 0, before.stderr
        after = snapshot_images(hub, home, AFTER, bases)
        assert after.returncode == 0, after.stderr
        # in this process, the job `hubwatch build` runs, over what the test reads: snapshot_coverage
        # and its checks, with everything upstream of it (raw/ verified, staging, the image tables)
        built = build_warehouse(home, upstream_of="snapshot_coverage")
        assert built.success, (built.error, built.failed_checks)
        unreachable = snapshot_images(hub, home, date(2026, 6, 1), [hub.civitai_base, "http://127.0.0.1:9/api/v1"])
        assert unreachable.returncode == 0, unreachable.stderr  # a host that cannot be read never fails it

    expected_after = truth.cross_host_divergent_levels(small_world, AFTER, hidden_on(AFTER))
    assert expected_after and truth.cross_host_divergent_levels(small_world, BEFORE, hidden_on(BEFORE)) == []
    for day in (BEFORE, AFTER):
        hidden = hidden_on(day)
        record = manifest(home, day)["cross_host"]
        assert record["bases"] == bases  # the snapshot's own host first
        counts = {int(level): tuple(by_host[b]["items"] for b in bases) for level, by_host in record["levels"].items()}
        assert counts == truth.cross_host_levels(small_world, day, hidden)
        assert record["divergent_levels"] == truth.cross_host_divergent_levels(small_world, day, hidden)
    assert "hosts_agree" not in before.stderr
    assert "hosts_agree (WARN)" in after.stderr and "cross-host check" in after.stderr
    assert "hosts_agree (WARN)" in unreachable.stderr and "unreachable" in unreachable.stderr
    assert built.checks["warned"] > 0  # the build warns too

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(
            "select snapshot_date, host, cross_host_bases, cross_host_divergent, cross_host_divergent_levels "
            "from marts.snapshot_coverage where source = 'civitai_images' order by 1"
        ).fetchall()
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (BEFORE, False, ""),
        (AFTER, True, ",".join(map(str, expected_after))),
    ]
    assert all(r[1] and r[2] == ", ".join(bases) for r in rows)

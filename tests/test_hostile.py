"""Hostile servers are bounded: endless empty pages, endless pages, endless Retry-After each end
in one clear line with nothing in raw/ (the crawl stays staged: a rerun resumes if the server
recovers)."""

import itertools
import time
from collections import Counter
from datetime import date

import httpx
import pytest

from ingest import civitai
from ingest.fakehub import Faults
from ingest.home import staging_path
from ingest.http import CrawlError, PoliteClient, Politeness
from ingest.landing import CrawlBounds, StagedSnapshot, complete_snapshots
from tests.conftest import hub_env, hubwatch
from tests.test_landing import fetched

DAY = date(2025, 1, 2)
GUARD = 400  # a test server stops answering here, so a crawl without bounds fails instead of hanging


def endless(page):
    """A server answering page(n) for the n-th request, for ever (until the guard)."""
    counter = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        if n > GUARD:
            raise RuntimeError(f"unbounded crawl: {GUARD} requests and still going")
        return httpx.Response(200, json=page(n))

    return httpx.MockTransport(handler)


def staged(home, bounds, day=DAY):
    return StagedSnapshot(home, "civitai_images", day, kind="simulated", host="h", plan={"p": 1}, bounds=bounds)


def crawl(home, transport, bounds, day=DAY):
    with staged(home, bounds, day) as snap, PoliteClient(Politeness(requests_per_second=0), transport=transport) as c:
        civitai.crawl(snap, c, "http://127.0.0.1/api/v1/images", {})
        snap.publish({})
    return snap


def test_empty_pages_with_fresh_cursors_for_ever_are_stopped(tmp_path):
    transport = endless(lambda n: {"items": [], "metadata": {"nextCursor": f"e{n}"}})
    with pytest.raises(CrawlError) as error:
        crawl(tmp_path, transport, CrawlBounds(max_empty_pages=20))
    message = str(error.value)
    assert "21 empty pages in a row" in message and "HUBWATCH_MAX_EMPTY_PAGES=20" in message and "\n" not in message
    assert complete_snapshots(tmp_path, "civitai_images") == []
    assert len(list((staging_path(tmp_path, "civitai_images", DAY) / "pages").glob("*.meta.json"))) == 20


def test_empty_pages_between_full_ones_are_normal(tmp_path):
    # a database timeout returns an empty page: runs shorter than the bound never stop a crawl
    def page(n):
        last = n == 60
        items = [] if n % 10 else [{"id": n}]
        return {"items": items, "metadata": {} if last else {"nextCursor": f"c{n}"}}

    snap = crawl(tmp_path, endless(page), CrawlBounds(max_empty_pages=9))
    assert snap.pages_done == 60


def test_a_crawl_far_longer_than_the_previous_snapshot_is_stopped(tmp_path):
    def short(n):
        return {"items": [{"id": n}], "metadata": {"nextCursor": f"c{n}"} if n < 4 else {}}

    bounds = CrawlBounds(page_growth=3, min_page_limit=5)
    crawl(tmp_path, endless(short), bounds, day=date(2025, 1, 1))  # 4 pages
    looping = endless(lambda n: {"items": [{"id": 1}], "metadata": {"nextCursor": f"fresh{n}"}})
    with pytest.raises(CrawlError) as error:
        crawl(tmp_path, looping, bounds)
    message = str(error.value)
    assert "page 13 would pass the limit of 12 pages" in message and "2025-01-01" in message
    assert "HUBWATCH_MAX_PAGE_GROWTH" in message and "\n" not in message
    assert complete_snapshots(tmp_path, "civitai_images") == [date(2025, 1, 1)]


def test_the_empty_page_count_survives_a_resume(tmp_path):
    bounds = CrawlBounds(max_empty_pages=5)
    with staged(tmp_path, bounds) as snap:
        for n in range(4):
            snap.add_page(
                fetched({"items": []}),
                stream="items",
                items=0,
                cursor=f"e{n}",
                state={"cursor": f"e{n}"},
                errors=Counter(),
            )
    with staged(tmp_path, bounds) as snap:
        snap.add_page(
            fetched({"items": []}), stream="items", items=0, cursor="e4", state={"cursor": "e4"}, errors=Counter()
        )
        with pytest.raises(CrawlError, match="6 empty pages in a row"):
            snap.add_page(
                fetched({"items": []}), stream="items", items=0, cursor="e5", state={"cursor": "e5"}, errors=Counter()
            )


@pytest.mark.slow
def test_cli_against_a_server_of_endless_empty_pages(fakehub, home):
    fakehub.faults = Faults(always="empty_page")
    env = hub_env(fakehub, home, HUBWATCH_MAX_EMPTY_PAGES="30")
    done = hubwatch("snapshot", "--sources", "civitai_models", "--as-of", "2025-03-01", env=env, timeout=120)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if not line.startswith("civitai_models: ")]  # progress
    assert errors == [
        "hubwatch: error: civitai_models: 31 empty pages in a row, each pointing to another "
        "(HUBWATCH_MAX_EMPTY_PAGES=30); the server is not making progress. The crawl stays staged; nothing is in raw/"
    ], done.stderr
    assert complete_snapshots(home, "civitai_models") == []
    assert fakehub.requests == 31


@pytest.mark.slow
def test_cli_against_a_server_asking_to_retry_after_ten_minutes(fakehub, home):
    fakehub.faults = Faults(always="429", retry_after=600)
    env = hub_env(fakehub, home, HUBWATCH_MAX_RETRIES="6", HUBWATCH_REQUEST_BUDGET="3")
    started = time.monotonic()
    done = hubwatch("snapshot", "--sources", "civitai_models", "--as-of", "2025-03-01", env=env, timeout=120)
    assert time.monotonic() - started < 60
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error: civitai_models: giving up on"), done.stderr
    assert "HUBWATCH_REQUEST_BUDGET" in lines[0] and "HTTP 429" in lines[0]
    assert complete_snapshots(home, "civitai_models") == []

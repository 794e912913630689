"""The site in headless Chromium on a small package written to disk (fast; the published package of a
real crawl goes through the same checks in tests/test_publish.py). One Chromium serves the module (a
launch costs ~0.7 CPU-s); each test opens its pages in a tab of its own, each page a new document
(tests/browser.py Tab)."""

from __future__ import annotations

import json
import shutil

import pytest

from dashboards.pages import PAGES
from tests.browser import browser, check_site, tab


@pytest.fixture(scope="module")
def site(rendered_package):
    """The site of tests/dashboard_package.py's package, rendered once per session (conftest)."""
    return rendered_package / "dashboards"


@pytest.fixture(scope="module")
def chromium_session():
    """One headless Chromium for the module's tests."""
    with browser() as instance:
        yield instance


def test_every_page_passes_the_browser_checks(site, chromium_session):
    visits = check_site(site, instance=chromium_session)
    assert set(visits) == {name for name, _title in PAGES}  # every page of the site
    assert "&lt;img" not in visits["index.html"].text and "<img src=x onerror=alert(1)>" in visits["index.html"].text


@pytest.fixture
def pages(chromium_session):
    """A tab of the module's Chromium for one test."""
    with tab(chromium_session) as opened:
        yield opened


def test_the_console_check_catches_a_script_error(tmp_path, pages):
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><script>throw new Error('boom')</script></body></html>")
    assert pages.visit(page).errors


@pytest.mark.parametrize(
    "store",
    [
        "localStorage.setItem('seen', '1')",
        "sessionStorage.setItem('seen', '1')",
        "window.name = 'seen'",
        "addEventListener('pagehide', () => localStorage.setItem('seen', '1'))",
        "indexedDB.open('seen').onupgradeneeded = e => e.target.result.createObjectStore('pages')",
        "caches.open('seen')",
        "localStorage.setItem('seen', '1'); addEventListener('pagehide', () => localStorage.clear())",
    ],
    ids=[
        "localStorage",
        "sessionStorage",
        "window.name",
        "localStorage as it is left",
        "IndexedDB",
        "Cache Storage",
        "localStorage while shown, cleared as it is left",
    ],
)
def test_a_page_that_stores_state_for_the_next_page_is_caught(tmp_path, pages, store):
    """A site's pages share one tab (one context): what one page stores, the next would see."""
    page = tmp_path / "stores.html"
    page.write_text(f"<!doctype html><html><body><script>{store}</script></body></html>")
    assert pages.visit(page).stored


def test_the_cite_block_reads_citation_js_and_falls_back_without_it(site, tmp_path, pages):
    without = pages.visit(site / "methodology.html")
    assert "could not be read" in without.text and "sha256sum manifest.json" in without.text
    package = tmp_path / "package"
    shutil.copytree(site.parent, package)
    citation = {
        "title": "hubwatch snapshot package 2025-12-01",
        "publish_date": "2025-12-01",
        "rules_version": "v1",
        "manifest_sha256": "ab" * 32,
        "simulated": True,
        "license": "CC-BY-4.0",
        "url": "https://example.org/hubwatch/2025-12-01",
    }
    (package / "citation.js").write_text(f"window.hubwatchCitation = {json.dumps(citation)};\n")
    present = pages.visit(package / "dashboards" / "methodology.html")
    assert not present.errors and not present.failed_loads
    shown = present.text
    assert "ab" * 32 in shown and "CC-BY-4.0" in shown and "https://example.org/hubwatch/2025-12-01" in shown
    assert "could not be read" not in shown

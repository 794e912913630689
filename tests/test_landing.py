"""The raw snapshot store: staged until complete, checksummed, never silently overwritten."""

from collections import Counter
from datetime import UTC, date, datetime

import httpx
import orjson
import polars as pl
import pytest

from ingest import civitai
from ingest.files import sha256_file
from ingest.home import snapshot_path
from ingest.http import CrawlError, Fetched, PoliteClient, Politeness
from ingest.landing import SnapshotExists, StagedSnapshot, complete_snapshots, is_loopback

DAY = date(2025, 1, 1)


def fetched(payload) -> Fetched:
    body = orjson.dumps(payload)
    return Fetched("http://127.0.0.1/x", 200, body, payload, {}, datetime.now(UTC), 1)


def staged(home, **kwargs) -> StagedSnapshot:
    return StagedSnapshot(home, "civitai_images", DAY, kind="simulated", host="127.0.0.1", plan={"p": 1}, **kwargs)


def take(home, n_pages=2, **kwargs):
    with staged(home, **kwargs) as snap:
        for page in range(n_pages):
            last = page == n_pages - 1
            snap.add_page(
                fetched({"items": [{"id": page}]}),
                stream="items",
                items=1,
                cursor=None if last else f"c{page}",
                state=None if last else {"cursor": f"c{page}"},
                errors=Counter(),
            )
        return snap.publish({"images": pl.DataFrame({"image_id": list(range(n_pages))})})


def test_snapshot_is_invisible_until_published(tmp_path):
    with staged(tmp_path) as snap:
        snap.add_page(
            fetched({"items": []}),
            stream="items",
            items=0,
            cursor="c",
            state={"cursor": "c"},
            errors=Counter(),
        )
        assert complete_snapshots(tmp_path, "civitai_images") == []
        assert not snapshot_path(tmp_path, "civitai_images", DAY).exists()
    take(tmp_path)
    assert complete_snapshots(tmp_path, "civitai_images") == [DAY]


def test_manifest_checksums_every_file(tmp_path):
    manifest = take(tmp_path)
    root = snapshot_path(tmp_path, "civitai_images", DAY)
    listed = set(manifest["files"])
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"manifest.json"}
    assert listed == on_disk
    for name, entry in manifest["files"].items():
        assert sha256_file(root / name) == entry["sha256"]
    assert manifest["complete"] is True and manifest["pages"] == 2 and manifest["items"] == {"images": 2}
    assert manifest["kind"] == "simulated"


def test_complete_snapshot_is_never_overwritten_without_force(tmp_path):
    first = take(tmp_path)
    with pytest.raises(SnapshotExists):
        take(tmp_path)
    assert orjson.loads((snapshot_path(tmp_path, "civitai_images", DAY) / "manifest.json").read_bytes()) == first
    second = take(tmp_path, n_pages=3, force=True)
    assert second["pages"] == 3
    assert not list((tmp_path / "staging").rglob("*.replaced"))


def test_two_crawls_of_one_snapshot_cannot_mix(tmp_path):
    with staged(tmp_path), pytest.raises(CrawlError, match="another crawl"), staged(tmp_path):
        pass


def test_a_repeated_cursor_is_an_error(tmp_path):
    page = {"items": [{"id": 1}], "metadata": {"nextCursor": "same"}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=page))
    with (
        staged(tmp_path) as snap,
        PoliteClient(Politeness(requests_per_second=0), transport=transport) as client,
    ):
        with pytest.raises(CrawlError, match="cursor 'same' a second time"):
            civitai.crawl(snap, client, "http://127.0.0.1/api/v1/images", {})
        assert snap.pages_done == 1


def test_loopback_detection():
    assert is_loopback("http://127.0.0.1:8080/api/v1")
    assert is_loopback("http://localhost:1/")
    assert not is_loopback("https://civitai.com/api/v1")

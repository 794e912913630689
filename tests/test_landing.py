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


# -- recovery of what a killed run left ------------------------------------------------------------
class Killed(BaseException):
    """Stands for SIGKILL at a chosen instant (not an Exception: nothing catches it on the way)."""


def kill_on_call(monkeypatch, target, name, when):
    original = getattr(target, name)

    def wrapper(*args, **kwargs):
        if when(*args):
            raise Killed
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


def test_the_checkpoint_has_a_phase_and_the_last_page_sets_it_in_the_same_write(tmp_path):
    with staged(tmp_path) as snap:
        assert snap.checkpoint["phase"] == "crawling" and not snap.crawled
        snap.add_page(
            fetched({"items": []}), stream="items", items=0, cursor="c", state={"cursor": "c"}, errors=Counter()
        )
        assert not snap.crawled
        snap.add_page(fetched({"items": []}), stream="items", items=0, cursor=None, state=None, errors=Counter())
        on_disk = orjson.loads((snap.dir / "checkpoint.json").read_bytes())
        assert on_disk["phase"] == "crawled" and on_disk["pages"] == 2
        with pytest.raises(CrawlError, match="already ended"):
            snap.add_page(fetched({"items": []}), stream="items", items=0, cursor=None, state=None, errors=Counter())
    with staged(tmp_path) as snap:  # a rerun: nothing to fetch
        assert snap.crawled and snap.pages_done == 2


def test_a_page_written_but_not_counted_is_dropped_on_resume(tmp_path):
    with staged(tmp_path) as snap:
        snap.add_page(
            fetched({"items": []}), stream="items", items=0, cursor="c", state={"cursor": "c"}, errors=Counter()
        )
        (snap.dir / "pages" / "000002.zst").write_bytes(b"uncommitted")
        (snap.dir / "pages" / ".000003.zst.tmp").write_bytes(b"half")
    with staged(tmp_path) as snap:
        assert sorted(p.name for p in (snap.dir / "pages").iterdir()) == ["000001.meta.json", "000001.zst"]


def test_a_legacy_checkpoint_with_no_phase_after_its_last_page_counts_as_crawled(tmp_path):
    with staged(tmp_path) as snap:
        snap.add_page(fetched({"items": []}), stream="items", items=0, cursor=None, state=None, errors=Counter())
        legacy = {k: v for k, v in snap.checkpoint.items() if k not in ("phase", "empty_pages", "extra")}
        (snap.dir / "checkpoint.json").write_bytes(orjson.dumps(legacy))
    with staged(tmp_path) as snap:
        assert snap.crawled


def test_a_sealed_snapshot_left_in_staging_is_moved_into_raw_by_the_next_run(tmp_path, monkeypatch):
    from ingest import landing

    kill_on_call(monkeypatch, landing, "_move_into_raw", lambda *args: True)
    with pytest.raises(Killed):
        take(tmp_path)
    monkeypatch.undo()
    assert complete_snapshots(tmp_path, "civitai_images") == []
    with pytest.raises(SnapshotExists) as exists, staged(tmp_path):
        pass
    assert exists.value.recovered
    assert complete_snapshots(tmp_path, "civitai_images") == [DAY]


@pytest.mark.parametrize("instant", ["old set aside", "new moved in"])
def test_the_two_rename_fallback_is_recovered_at_either_instant(tmp_path, monkeypatch, instant):
    """Where renameat2 is missing, --force sets the old snapshot aside: a kill there is recovered."""
    from pathlib import Path

    from ingest import files

    first = take(tmp_path)
    monkeypatch.setattr(files, "exchange_dirs", lambda a, b: False)
    renames = []
    original = Path.rename

    def rename(self, target):
        renames.append(self)
        if instant == "old set aside" and len(renames) == 2:
            raise Killed
        return original(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    if instant == "new moved in":
        kill_on_call(monkeypatch, files.shutil, "rmtree", lambda path, *a: str(path).endswith(".replaced"))
    with pytest.raises(Killed):
        take(tmp_path, n_pages=3, force=True)
    monkeypatch.undo()
    aside = snapshot_path(tmp_path, "civitai_images", DAY).parent.parent.parent / "staging" / "civitai_images"
    assert (aside / "snapshot_date=2025-01-01.replaced").is_dir()
    with pytest.raises(SnapshotExists), staged(tmp_path):
        pass
    manifest = orjson.loads((snapshot_path(tmp_path, "civitai_images", DAY) / "manifest.json").read_bytes())
    assert manifest["pages"] == 3 and manifest["replaces"]["finished_at"] == first["finished_at"]
    assert sorted(p.name for p in aside.iterdir() if p.suffix != ".lock") == []


def test_an_old_snapshot_set_aside_with_no_new_one_is_put_back(tmp_path):
    take(tmp_path)
    final = snapshot_path(tmp_path, "civitai_images", DAY)
    aside = tmp_path / "staging" / "civitai_images" / "snapshot_date=2025-01-01.replaced"
    aside.parent.mkdir(parents=True, exist_ok=True)
    final.rename(aside)  # as a kill between the renames of an older hubwatch left it, new crawl lost
    with pytest.raises(SnapshotExists), staged(tmp_path):
        pass
    assert complete_snapshots(tmp_path, "civitai_images") == [DAY] and not aside.exists()


def test_a_damaged_sealed_snapshot_goes_back_to_its_checkpoint(tmp_path, monkeypatch):
    from ingest import landing

    kill_on_call(monkeypatch, landing, "_move_into_raw", lambda *args: True)
    with pytest.raises(Killed):
        take(tmp_path)
    monkeypatch.undo()
    staged_dir = tmp_path / "staging" / "civitai_images" / "snapshot_date=2025-01-01"
    (staged_dir / "images.parquet").write_bytes(b"damaged")
    with staged(tmp_path) as snap:  # the manifest is dropped, the pages (no checkpoint) too: crawl again
        assert snap.pages_done == 0 and not (staged_dir / "manifest.json").exists()

"""A snapshot interrupted at any instant: the rerun continues (never re-crawls a stored page,
never stores one twice) and ends equal to an uninterrupted snapshot; `--force` never leaves
raw/ without the partition. In-process interruptions here; real SIGKILLs in test_crash_harness."""

import errno
import shutil
from datetime import date
from pathlib import Path

import orjson
import polars as pl
import pytest

from ingest import pagestore, rowstore, snapshots
from ingest.home import snapshot_path, staging_path
from ingest.http import Politeness
from ingest.huggingface import HfScope
from ingest.landing import read_manifest
from ingest.snapshots import Endpoints, take_snapshot

DAY = date(2025, 3, 1)
FAST = Politeness(requests_per_second=0, backoff_initial=0.001, backoff_max=0.002)
SCOPE = HfScope(page_size=20, files_budget=1000)
TABLES = {
    "civitai_models": ("models", "model_versions", "model_files"),
    "civitai_images": ("images",),
    "hf_models": ("models", "model_files"),
}
pytestmark = pytest.mark.slow


class Interrupted(BaseException):
    """Stands for a kill: not an Exception, so nothing on the way catches it."""


def take(hub, home, source, **kwargs):
    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    period = kwargs.pop("images_period", "AllTime")
    scope = kwargs.pop("hf_scope", SCOPE)
    return take_snapshot(
        source,
        home=home,
        endpoints=endpoints,
        as_of=DAY.isoformat(),
        politeness=FAST,
        hf_scope=scope,
        images_period=period,
        **kwargs,
    )


def tables(home, source):
    root = snapshot_path(home, source, DAY)
    return {name: rowstore.read_table(root, name) for name in TABLES[source]}


def stored_pages(home, source):
    """(page number, body exactly as received) of every stored page, each rebuilt and checked."""
    return [(meta["page"], body) for meta, body in pagestore.read_pages(snapshot_path(home, source, DAY))]


def assert_equal_snapshots(home, clean_home, source):
    for name, frame in tables(clean_home, source).items():
        assert tables(home, source)[name].equals(frame), name
    assert stored_pages(home, source) == stored_pages(clean_home, source)
    manifest, clean = read_manifest(home, source, DAY), read_manifest(clean_home, source, DAY)
    assert manifest["pages"] == clean["pages"] and manifest["items"] == clean["items"]
    assert set(manifest["files"]) == set(clean["files"])


def interrupt_once(monkeypatch, target, name, exception):
    """Make target.name raise `exception` on its first call, then behave."""
    original = getattr(target, name)
    calls = []

    def wrapper(*args, **kwargs):
        if not calls:
            calls.append(1)
            raise exception
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return calls


def full_disk():
    return OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    ("source", "period", "scope"),
    [
        ("civitai_models", "AllTime", SCOPE),
        ("hf_models", "AllTime", SCOPE),  # Link-paged listing
        ("hf_models", "AllTime", HfScope(files_budget=1000)),  # one page per listing query
        ("civitai_images", "Day", SCOPE),  # the one-page image crawl
    ],
    ids=["civitai_models", "hf_models-paged", "hf_models-one-page-per-query", "civitai_images-one-page"],
)
@pytest.mark.parametrize("how", ["killed before normalising", "disk full writing the Parquet"])
def test_a_crawl_stopped_after_its_last_page_publishes_on_rerun_without_crawling_again(
    fakehub, tmp_path, monkeypatch, source, period, scope, how
):
    clean_home, home = tmp_path / "clean", tmp_path / "home"
    take(fakehub, clean_home, source, images_period=period, hf_scope=scope)
    if source == "civitai_images":
        assert read_manifest(clean_home, source, DAY)["pages"] == 1  # the one-page image crawl
    if how == "killed before normalising":
        interrupt_once(monkeypatch, snapshots, "_normalise", Interrupted())
        expected = Interrupted
    else:
        interrupt_once(monkeypatch, pl.DataFrame, "write_parquet", full_disk())
        expected = OSError
    with pytest.raises(expected):
        take(fakehub, home, source, images_period=period, hf_scope=scope)
    assert not snapshot_path(home, source, DAY).exists()
    requests = fakehub.requests
    result = take(fakehub, home, source, images_period=period, hf_scope=scope)
    assert result.status == "complete"
    assert fakehub.requests == requests, "the rerun fetched pages that were already stored"
    assert_equal_snapshots(home, clean_home, source)


def test_a_crawl_stopped_while_writing_its_manifest_publishes_on_rerun_without_crawling_again(
    fakehub, tmp_path, monkeypatch
):
    from ingest import landing

    clean_home, home = tmp_path / "clean", tmp_path / "home"
    take(fakehub, clean_home, "civitai_models")
    original = landing.write_atomic

    def write_atomic(path: Path, data: bytes) -> None:
        if path.name == "manifest.json":
            raise full_disk()
        original(path, data)

    monkeypatch.setattr(landing, "write_atomic", write_atomic)
    with pytest.raises(OSError):
        take(fakehub, home, "civitai_models")
    monkeypatch.setattr(landing, "write_atomic", original)
    requests = fakehub.requests
    assert take(fakehub, home, "civitai_models").status == "complete"
    assert fakehub.requests == requests
    assert_equal_snapshots(home, clean_home, "civitai_models")


def test_force_interrupted_while_replacing_keeps_a_whole_snapshot_in_raw_and_the_next_run_tidies_up(
    fakehub, home, monkeypatch
):
    first = take(fakehub, home, "civitai_images", images_period="Day").manifest
    final = snapshot_path(home, "civitai_images", DAY)
    renames, original_rename, original_rmtree = [], Path.rename, shutil.rmtree

    def rename(self, target):  # the second rename of a replacement (the first sets the old one aside)
        renames.append((self, target))
        if len(renames) == 2:
            raise Interrupted
        return original_rename(self, target)

    def rmtree(path, *args, **kwargs):  # or the removal of the old snapshot once the new one is in
        manifest = Path(path) / "manifest.json"
        if manifest.is_file() and orjson.loads(manifest.read_bytes()) == first:
            raise Interrupted
        return original_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(Path, "rename", rename)
    monkeypatch.setattr(shutil, "rmtree", rmtree)
    with pytest.raises(Interrupted):
        take(fakehub, home, "civitai_images", images_period="Day", force=True)
    monkeypatch.setattr(Path, "rename", original_rename)
    monkeypatch.setattr(shutil, "rmtree", original_rmtree)
    assert (final / "manifest.json").is_file(), "raw/ lost the partition while --force replaced it"
    requests = fakehub.requests
    result = take(fakehub, home, "civitai_images", images_period="Day")
    assert result.status == "complete" and fakehub.requests == requests  # the retake had finished
    assert result.recovered
    assert read_manifest(home, "civitai_images", DAY)["finished_at"] != first["finished_at"]
    leftovers = [p.name for p in staging_path(home, "civitai_images", DAY).parent.iterdir() if p.suffix != ".lock"]
    assert leftovers == [], "the old snapshot was left behind in staging/"


def test_the_checkpoint_says_the_crawl_is_done_before_anything_is_normalised(fakehub, home, monkeypatch):
    interrupt_once(monkeypatch, snapshots, "_normalise", Interrupted())
    with pytest.raises(Interrupted):
        take(fakehub, home, "civitai_images", images_period="Day")
    checkpoint = orjson.loads((staging_path(home, "civitai_images", DAY) / "checkpoint.json").read_bytes())
    assert checkpoint["phase"] == "crawled"

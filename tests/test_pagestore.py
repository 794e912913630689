"""The raw page store (ingest/pagestore.py): every page of every day rebuilds to the bytes the hub
sent, any changed or missing byte is caught, and a day that changed little costs little."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from ingest import landing, pagestore
from ingest.fakehub import FakeHub
from ingest.files import sha256_file
from ingest.home import snapshot_path
from ingest.http import Politeness
from ingest.huggingface import HfScope
from ingest.landing import BadSnapshot, read_manifest, verify_snapshot
from ingest.snapshots import Endpoints, take_snapshot
from ingest.sources import SOURCES
from ingest.withdraw import withdraw

D0 = date(2025, 3, 1)
DAYS = [D0 + timedelta(days=n) for n in range(3)]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def three_days(tmp_path_factory, small_world):
    """Three daily snapshots of every source, and every body as the crawl received it."""
    home = tmp_path_factory.mktemp("pagestore") / "home"
    received: dict[tuple[str, date], list[bytes]] = defaultdict(list)
    real_add_page = landing.StagedSnapshot.add_page

    def recording_add_page(self, fetched, **kwargs):
        received[(self.source, self.snapshot_date)].append(fetched.body)
        return real_add_page(self, fetched, **kwargs)

    with pytest.MonkeyPatch.context() as patch, FakeHub(small_world) as hub:
        patch.setattr(landing.StagedSnapshot, "add_page", recording_add_page)
        for day in DAYS:
            for source in SOURCES:
                take_snapshot(
                    source,
                    home=home,
                    endpoints=Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint),
                    as_of=day.isoformat(),
                    images_period="AllTime",
                    hf_scope=HfScope(files_budget=1000),
                    politeness=Politeness(requests_per_second=0),
                )
    return home, dict(received)


def pack_bytes(home, source, day) -> int:
    """Bytes of the packs a snapshot added (its own pack: the one its first page is in)."""
    entries = pagestore.read_index(snapshot_path(home, source, day))
    return sum(
        (pagestore.packs_dir(snapshot_path(home, source, day)) / name).stat().st_size for name in own_packs(entries)
    )


def own_packs(entries) -> set[str]:
    return {entry["frame"]["pack"] for entry in entries}


def test_every_page_of_every_day_rebuilds_to_the_bytes_received(three_days):
    home, received = three_days
    for source in SOURCES:
        for day in DAYS:
            partition = snapshot_path(home, source, day)
            rebuilt = [body for _meta, body in pagestore.read_pages(partition)]
            assert rebuilt == received[(source, day)], (source, day)
            assert read_manifest(home, source, day)["pages"] == len(rebuilt)
            assert not (partition / "pages").exists()  # packed: no second copy left in the partition


def test_a_later_day_is_stored_as_deltas_against_the_day_before(three_days):
    home, _ = three_days
    for source in ("civitai_models", "hf_models"):
        first, last = (
            pagestore.read_index(snapshot_path(home, source, DAYS[0])),
            pagestore.read_index(snapshot_path(home, source, DAYS[-1])),
        )
        assert not any(entry["bases"] for entry in first)  # nothing before it to refer to
        deltas = [entry for entry in last if entry["bases"]]
        assert len(deltas) >= len(last) // 2, source
        # a base is always a frame stored alone, however many days lie between
        alone = {
            (e["frame"]["pack"], e["frame"]["offset"])
            for d in DAYS
            for e in pagestore.read_index(snapshot_path(home, source, d))
            if not e["bases"]
        }
        assert all((ref["pack"], ref["offset"]) in alone for entry in deltas for ref in entry["bases"])
        assert pack_bytes(home, source, DAYS[-1]) < 0.5 * pack_bytes(home, source, DAYS[0]), source


def test_the_manifest_lists_every_pack_a_snapshot_needs(three_days):
    home, _ = three_days
    partition = snapshot_path(home, "civitai_models", DAYS[-1])
    manifest = verify_snapshot(partition)
    needed = pagestore.packs_needed(pagestore.read_index(partition))
    assert manifest["page_store"]["format"] == pagestore.FORMAT
    assert set(manifest["page_store"]["packs"]) == needed and len(needed) >= 2  # its own and its bases'
    for name, entry in manifest["page_store"]["packs"].items():
        assert entry["sha256"] == sha256_file(pagestore.packs_dir(partition) / name)
        assert name == f"{entry['sha256']}.pack"  # named by its content: never rewritten in place
    assert manifest["files"][pagestore.INDEX]["sha256"] == sha256_file(partition / pagestore.INDEX)


def test_a_changed_byte_in_a_base_pack_fails_every_snapshot_built_on_it(three_days, tmp_path):
    home, _ = three_days
    first = snapshot_path(home, "civitai_models", DAYS[0])
    (name,) = own_packs(pagestore.read_index(first))
    pack = pagestore.packs_dir(first) / name
    original = pack.read_bytes()
    try:
        pack.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
        for day in DAYS:
            with pytest.raises(BadSnapshot, match="sha256"):
                verify_snapshot(snapshot_path(home, "civitai_models", day))
            with pytest.raises(BadSnapshot):
                landing.verify_pages(snapshot_path(home, "civitai_models", day))
        pack.unlink()
        with pytest.raises(BadSnapshot, match="missing"):
            landing.verify_pages(snapshot_path(home, "civitai_models", DAYS[-1]))
    finally:
        pack.write_bytes(original)
    assert landing.verify_pages(snapshot_path(home, "civitai_models", DAYS[-1])) > 0


def test_a_withdrawn_base_snapshot_leaves_the_later_ones_whole(three_days, tmp_path):
    home, received = three_days
    withdrawn = withdraw(home, "hf_models", DAYS[0], "test: the base day goes", now=datetime(2025, 4, 1, tzinfo=UTC))
    try:
        for day in DAYS[1:]:
            partition = snapshot_path(home, "hf_models", day)
            assert [body for _meta, body in pagestore.read_pages(partition)] == received[("hf_models", day)]
        assert pagestore.verify_pages(withdrawn) == len(received[("hf_models", DAYS[0])])  # itself still whole
    finally:
        (withdrawn / "withdrawal.json").unlink()
        withdrawn.rename(snapshot_path(home, "hf_models", DAYS[0]))


def test_a_snapshot_stored_before_the_packs_reads_as_it_did(tmp_path):
    import gzip

    partition = snapshot_path(tmp_path, "civitai_models", D0)
    (partition / "pages").mkdir(parents=True)
    body = orjson.dumps({"items": [{"id": 7, "name": "x"}], "metadata": {}})
    (partition / "pages" / "000001.json.gz").write_bytes(gzip.compress(body))
    meta = {"page": 1, "stream": "items", "body_sha256": pagestore.hashlib.sha256(body).hexdigest()}
    (partition / "pages" / "000001.meta.json").write_bytes(orjson.dumps(meta))
    assert list(pagestore.read_pages(partition)) == [(meta, body)]
    (partition / "pages" / "000001.json.gz").write_bytes(gzip.compress(body.replace(b"x", b"y")))
    with pytest.raises(pagestore.StoreError, match="sha256"):
        pagestore.verify_pages(partition)


def test_a_delta_is_kept_only_when_it_is_much_smaller_than_the_page_alone(tmp_path):
    frames = pagestore.Frames(tmp_path / "packs")
    base_body = orjson.dumps({"items": [{"id": n, "name": f"model {n}", "downloads": n} for n in range(200)]})
    name, spans, _ = pagestore.write_pack(frames.packs, [pagestore.compress_alone(base_body)])
    ref = {
        "pack": name,
        "offset": spans[0][0],
        "length": spans[0][1],
        "sha256": pagestore.hashlib.sha256(base_body).hexdigest(),
        "bytes": len(base_body),
    }
    changed = base_body.replace(b'"downloads":7}', b'"downloads":8}')
    frame, bases = pagestore.encode(changed, [ref], frames)
    assert bases == [ref] and len(frame) < 0.1 * len(pagestore.compress_alone(changed))
    assert frames.body(frame, bases) == changed
    unrelated = bytes(range(256)) * 40
    frame, bases = pagestore.encode(unrelated, [ref], frames)
    assert bases == [] and frames.body(frame, []) == unrelated

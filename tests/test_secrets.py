"""No credential in any stored URL: a sentinel credential put in every place a user can put one
(base URLs' userinfo, tokens, an import's --source-url) reaches the server as a header to its
own origin and is found in no file under $HUBWATCH_HOME, no log, no package, no Dagster record."""

import gzip
import zlib
from contextlib import suppress
from datetime import date
from pathlib import Path

import orjson
import pytest

from ingest import pagestore
from ingest.fakehub import FakeHub, Faults
from ingest.home import snapshot_path
from ingest.http import Politeness
from ingest.huggingface import HfScope
from ingest.landing import read_manifest
from ingest.snapshots import Endpoints, take_snapshot
from tests.conftest import FIXTURES, hub_env, hubwatch

DAY = date(2025, 3, 1)
SENTINEL = "SENTINEL-9f3c1e"
FAST = Politeness(requests_per_second=0)
pytestmark = pytest.mark.slow


def with_userinfo(url: str, secret: str = SENTINEL) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://hubwatch:{secret}@{rest}"


def files_holding(root: Path, secret: str) -> list[str]:
    """Every file under root whose bytes (gzip and zlib streams opened too, and the page bodies a
    index stands for) hold the secret."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data += gzip.decompress(data)
        elif data[:1] == b"\x78":
            with suppress(zlib.error):
                data += zlib.decompress(data)
        if path.name in (pagestore.INDEX, pagestore.LEGACY_INDEX):  # the index's lines (zstd) and the
            # partition's page bodies, rebuilt from their zstd packs
            data += b"".join(orjson.dumps(entry) for entry in pagestore.read_index(path.parent))
            data += b"".join(body for _meta, body in pagestore.read_pages(path.parent))
        if secret.encode() in data:
            found.append(str(path.relative_to(root)))
    return found


def test_userinfo_and_tokens_are_sent_as_headers_and_stored_nowhere(fakehub, home):
    endpoints = Endpoints(
        civitai_base=with_userinfo(fakehub.civitai_base),
        hf_endpoint=with_userinfo(fakehub.hf_endpoint, SENTINEL + "-hf"),
        civitai_api_key=None,
        hf_token=SENTINEL + "-token",
    )
    for source in ("civitai_models", "civitai_images", "hf_models"):
        take_snapshot(source, home=home, endpoints=endpoints, as_of=DAY.isoformat(), politeness=FAST)
        manifest = read_manifest(home, source, DAY)
        assert manifest["host"] == fakehub.base_url.removeprefix("http://")
    assert fakehub.authorized == fakehub.requests > 0
    assert files_holding(home, SENTINEL) == []


def test_the_hf_token_is_not_sent_along_a_paging_link_to_another_host(small_world, home, monkeypatch):
    with FakeHub(small_world) as own, FakeHub(small_world) as other:
        endpoints = Endpoints(hf_endpoint=own.hf_endpoint, hf_token=SENTINEL)
        real_base_url = FakeHub.base_url.fget

        def base_url(hub):  # `own` writes its Link: rel="next" to point at `other`
            return real_base_url(other) if hub is own else real_base_url(hub)

        monkeypatch.setattr(FakeHub, "base_url", property(base_url))
        take_snapshot(
            "hf_models",
            home=home,
            endpoints=endpoints,
            as_of=DAY.isoformat(),
            politeness=FAST,
            hf_scope=HfScope(page_size=10),
        )
    assert own.requests > 0 and own.authorized == own.requests
    assert other.requests > 0, "the paging links did not lead to the other host"
    assert other.authorized == 0, "the token was sent to another host"


def test_an_import_source_url_is_stored_without_its_credentials(home):
    from ingest.importers import import_crawl

    url = f"https://crawler:{SENTINEL}@data.example/crawl.json?token={SENTINEL}&version=2"
    result = import_crawl(
        "civitai-models-json",
        FIXTURES / "real" / "civitai_v1_models_items_2023-07_selection.json",
        home=home,
        as_of=date(2023, 7, 5),
        source_url=url,
    )
    manifest = result.manifest
    assert manifest["source_url"] == manifest["params"]["source_url"] == "https://data.example/crawl.json?version=2"
    assert manifest["host"] == "data.example"
    assert files_holding(home, SENTINEL) == []


def test_a_sentinel_credential_reaches_no_file_log_package_or_dagster_record(small_world, tmp_path):
    """Through the CLI as a user runs it: snapshot every source, import, build, publish."""
    home = tmp_path / "home"
    with FakeHub(small_world, Faults.every_kind(0.03, retry_after=0, slow_seconds=1.0, seed=3)) as hub:
        env = hub_env(
            hub,
            home,
            CIVITAI_API_BASE=with_userinfo(hub.civitai_base),
            HF_ENDPOINT=with_userinfo(hub.hf_endpoint),
            CIVITAI_API_KEY=SENTINEL + "-civitai",
            HF_TOKEN=SENTINEL + "-hf",
        )
        outputs = [hubwatch("-v", "snapshot", "--as-of", DAY.isoformat(), env=env)]
        assert outputs[-1].returncode == 0, outputs[-1].stderr
        assert hub.authorized == hub.requests > 0
        host = hub.base_url.removeprefix("http://")
    outputs.append(
        hubwatch(
            "import",
            "civitai-models-json",
            str(FIXTURES / "real" / "civitai_v1_models_items_2023-07_selection.json"),
            "--as-of",
            "2023-07-05",
            "--source-url",
            f"https://u:{SENTINEL}@data.example/crawl.json?access_token={SENTINEL}",
            env=env,
        )
    )
    assert outputs[-1].returncode == 0, outputs[-1].stderr
    for command in (("build",), ("publish", "--date", "2025-03-01")):
        outputs.append(hubwatch(*command, env=env, timeout=900))
        assert outputs[-1].returncode == 0, outputs[-1].stderr
    assert (home / "publish" / "2025-03-01" / "manifest.json").is_file()
    assert list((home / "dagster").rglob("*.db")), "no Dagster storage to search"
    assert files_holding(home, SENTINEL) == []
    for done in outputs:
        assert SENTINEL not in done.stdout + done.stderr
    published = (home / "publish" / "2025-03-01" / "data" / "snapshot_coverage.csv").read_text()
    assert "data.example" in published and host in published
    assert snapshot_path(home, "civitai_models", DAY).is_dir()

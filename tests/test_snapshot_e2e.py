"""End to end over loopback: the `hubwatch snapshot` command against fakehub, faults and all. The
command runs as `hubwatch` runs it, in this process (conftest.hubwatch_here), except where its process
is the point: SIGKILL mid-crawl, and one refusal of each kind (inside the run, before it)."""

import gzip
import signal
import socket
import subprocess
import time
from datetime import date

import httpx
import orjson
import pytest

from ingest import pagestore, rowstore
from ingest.fakehub import FAULT_KINDS, Faults, truth
from ingest.home import snapshot_path, staging_path
from ingest.http import Politeness
from ingest.huggingface import HfScope
from ingest.landing import complete_snapshots, read_manifest
from ingest.snapshots import Endpoints, take_snapshot
from tests.conftest import HUBWATCH, hub_env, hubwatch, hubwatch_here

DAY = date(2025, 3, 1)
AFTER_BAN = date(2025, 8, 1)
pytestmark = pytest.mark.slow
IMAGES_ALL_TIME = ("snapshot", "--sources", "civitai_images", "--as-of", DAY.isoformat(), "--images-period", "AllTime")


def raw(home, source, day, table):
    return rowstore.read_table(snapshot_path(home, source, day), table)


def page_metas(home, source, day):
    return pagestore.page_entries(snapshot_path(home, source, day))


def test_every_fault_still_gives_the_exact_ground_truth(fakehub, small_world, home):
    rates = {**dict.fromkeys(FAULT_KINDS, 0.05), "empty_page": 0.4}  # empty pages: list requests only
    fakehub.faults = Faults(rates=rates, retry_after=0, slow_seconds=1.0, seed=5)
    env = hub_env(fakehub, home)
    done = hubwatch_here("snapshot", "--as-of", DAY.isoformat(), "--images-period", "AllTime", env=env)
    assert done.returncode == 0, done.stderr
    assert set(fakehub.injected) == set(FAULT_KINDS), fakehub.injected

    models = raw(home, "civitai_models", DAY, "models")
    expected_models = truth.civitai_model_ids(small_world, DAY)
    assert set(models["model_id"]) == expected_models and models.height == len(expected_models)
    images = raw(home, "civitai_images", DAY, "images")
    expected_images = truth.civitai_image_ids(small_world, DAY, "AllTime")
    assert set(images["image_id"]) == expected_images and images.height == len(expected_images)
    # no page stored twice and none lost: the pages hold each item exactly once
    assert sum(m["items"] for m in page_metas(home, "civitai_images", DAY)) == len(expected_images)
    assert sum(m["items"] for m in page_metas(home, "civitai_models", DAY)) == len(expected_models)
    # short pages (rows dropped after the server's LIMIT) did not end the crawl
    assert any(m["items"] < 100 and m["cursor"] for m in page_metas(home, "civitai_models", DAY))

    hf = raw(home, "hf_models", DAY, "models")
    assert set(hf["model_id"]) == truth.hf_model_ids(small_world, DAY)
    files = raw(home, "hf_models", DAY, "model_files").drop_nulls("sha256")
    assert set(files.select("model_id", "sha256").iter_rows()) == truth.hf_file_hashes(small_world, DAY)

    for source in ("civitai_models", "civitai_images", "hf_models"):
        manifest = read_manifest(home, source, DAY)
        assert manifest["complete"] and manifest["kind"] == "simulated"
        assert manifest["host"].startswith("127.0.0.1:")
    assert (
        sum(
            sum(read_manifest(home, s, DAY)["errors"].values())
            for s in ("civitai_models", "civitai_images", "hf_models")
        )
        > 0
    )
    assert "complete (simulated)" in done.stderr


def test_after_the_ban_real_person_models_are_gone_and_reuploads_appear(fakehub, small_world, home):
    endpoints = Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint)
    fast = Politeness(requests_per_second=0)
    for day in (DAY, AFTER_BAN):
        for source in ("civitai_models", "hf_models"):
            take_snapshot(source, home=home, endpoints=endpoints, as_of=day.isoformat(), politeness=fast)
    before, after = (
        raw(home, "civitai_models", DAY, "models"),
        raw(home, "civitai_models", AFTER_BAN, "models"),
    )
    assert before["poi"].sum() > 0 and after["poi"].sum() == 0
    civitai_hashes = set(raw(home, "civitai_models", DAY, "model_files")["sha256"])
    hf_hashes = set(raw(home, "hf_models", AFTER_BAN, "model_files")["sha256"].drop_nulls())
    assert civitai_hashes & hf_hashes  # re-uploads carry the same file sha256


def test_hugging_face_link_paging_and_hash_carry_forward(fakehub, small_world, home):
    endpoints = Endpoints(civitai_base=fakehub.civitai_base, hf_endpoint=fakehub.hf_endpoint)
    scope = HfScope(page_size=10)
    fast = Politeness(requests_per_second=0)
    first = take_snapshot(
        "hf_models", home=home, endpoints=endpoints, as_of="2025-07-01", hf_scope=scope, politeness=fast
    )
    assert sum(1 for m in page_metas(home, "hf_models", date(2025, 7, 1)) if m["stream"].startswith("list:")) > 3
    assert set(raw(home, "hf_models", date(2025, 7, 1), "models")["model_id"]) == truth.hf_model_ids(
        small_world, date(2025, 7, 1)
    )
    second = take_snapshot(
        "hf_models", home=home, endpoints=endpoints, as_of="2025-07-02", hf_scope=scope, politeness=fast
    )
    assert first.manifest["files_fetched"] > 0
    assert second.manifest["files_carried"] > 0 and second.manifest["files_fetched"] < first.manifest["files_fetched"]
    files = raw(home, "hf_models", date(2025, 7, 2), "model_files").drop_nulls("sha256")
    assert set(files.select("model_id", "sha256").iter_rows()) == truth.hf_file_hashes(small_world, date(2025, 7, 2))


def images_all_time_in_process(hub, home) -> str:
    """What `hubwatch snapshot --sources civitai_images --images-period AllTime` takes, in this process."""
    endpoints = Endpoints(civitai_base=hub.civitai_base, hf_endpoint=hub.hf_endpoint)
    fast = Politeness(requests_per_second=0, backoff_initial=0.01, backoff_max=0.05)
    result = take_snapshot(
        "civitai_images",
        home=home,
        endpoints=endpoints,
        as_of=DAY.isoformat(),
        images_period="AllTime",
        politeness=fast,
    )
    return result.status


def test_sigkill_mid_crawl_then_rerun_equals_an_uninterrupted_crawl(fakehub, tmp_path):
    """The killed crawl is a `hubwatch snapshot` process, killed for real; the uninterrupted crawl
    and the rerun take the same snapshot in this process."""
    args = IMAGES_ALL_TIME
    clean_home, killed_home = tmp_path / "clean", tmp_path / "killed"
    assert images_all_time_in_process(fakehub, clean_home) == "complete"

    slow_env = hub_env(fakehub, killed_home, HUBWATCH_RATE="12")
    checkpoint = staging_path(killed_home, "civitai_images", DAY) / "checkpoint.json"
    process = subprocess.Popen([HUBWATCH, *args], env=slow_env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # the CLI's start-up alone can take a minute on a loaded machine
    while time.monotonic() < deadline:
        if checkpoint.exists() and orjson.loads(checkpoint.read_bytes())["pages"] >= 4:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert complete_snapshots(killed_home, "civitai_images") == []

    assert images_all_time_in_process(fakehub, killed_home) == "complete"
    resumed = raw(killed_home, "civitai_images", DAY, "images")
    assert resumed.equals(raw(clean_home, "civitai_images", DAY, "images"))
    manifest, clean = (
        read_manifest(killed_home, "civitai_images", DAY),
        read_manifest(clean_home, "civitai_images", DAY),
    )
    assert manifest["resumes"] == 1 and manifest["pages"] == clean["pages"]


def test_max_pages_stages_and_a_rerun_resumes(fakehub, home):
    """The command stops after --max-pages and says so; the next run (the same snapshot, taken in
    this process) resumes it; the command then finds it complete."""
    env = hub_env(fakehub, home)
    args = IMAGES_ALL_TIME
    paused = hubwatch_here(*args, "--max-pages", "2", env=env)
    assert paused.returncode == 0 and "incomplete" in paused.stderr
    assert complete_snapshots(home, "civitai_images") == []
    assert images_all_time_in_process(fakehub, home) == "complete"
    assert read_manifest(home, "civitai_images", DAY)["resumes"] == 1
    again = hubwatch_here(*args, env=env)
    assert again.returncode == 0 and "already complete" in again.stderr


def test_tokens_reach_the_server_but_no_file_or_log(fakehub, home):
    civitai_key, hf_token = "civitai-SECRET-7d1f0a", "hf_SECRET_93ab77"
    fakehub.faults = Faults.every_kind(0.04, retry_after=0, slow_seconds=1.0, seed=9)
    env = hub_env(fakehub, home, CIVITAI_API_KEY=civitai_key, HF_TOKEN=hf_token)
    done = hubwatch_here("-v", "snapshot", "--as-of", DAY.isoformat(), env=env)  # the process: test_secrets
    assert done.returncode == 0, done.stderr
    assert fakehub.authorized == fakehub.requests > 0
    assert "retrying" in done.stderr  # the verbose log really ran
    for secret in (civitai_key, hf_token):
        assert secret not in done.stdout + done.stderr
        for path in home.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                data = gzip.decompress(data) if path.suffix == ".gz" else data
                if path.name == pagestore.INDEX:  # the page index, one zstd frame: its lines
                    data += b"".join(orjson.dumps(entry) for entry in pagestore.read_index(path.parent))
                assert secret.encode() not in data, path
        for partition in home.glob("raw/*/snapshot_date=*"):  # the page bodies, decompressed from their packs
            assert not any(secret.encode() in body for _meta, body in pagestore.read_pages(partition)), partition


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("case", "args", "extra_env", "message"),
    [
        (
            "unreachable host",
            (),
            {"CIVITAI_API_BASE": f"http://127.0.0.1:{closed_port()}/api/v1"},
            "giving up",
        ),
        ("html forever", (), {}, "is not JSON"),
        ("bad date", ("--as-of", "2025-13-01"), {}, "invalid --as-of"),
        (
            "as-of on a live host",
            ("--as-of", "2025-01-01"),
            {"CIVITAI_API_BASE": "https://civitai.com/api/v1"},
            "loopback",
        ),
        ("unknown source", ("--sources", "civitai_modles"), {}, "unknown source"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_nothing_complete(fakehub, home, case, args, extra_env, message):
    if case == "html forever":
        fakehub.faults = Faults(always="html")
    env = hub_env(fakehub, home, HUBWATCH_MAX_RETRIES="2", **extra_env)
    # the installed command for one refusal inside the run and one before it; the rest in this process
    command = hubwatch if case in ("unreachable host", "bad date") else hubwatch_here
    done = command("snapshot", "--sources", "civitai_models", *args, env=env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error:") and message in lines[0], done.stderr
    assert complete_snapshots(home, "civitai_models") == []


def test_fakehub_answers_a_kept_alive_connection_without_waiting_for_a_delayed_ack(fakehub):
    """fakehub writes a response's headers and body in two sends; with Nagle's algorithm on, the body
    waits for the client's ACK of the headers, which Linux delays by 40 ms: every page of every crawl
    against it (tests, `hubwatch demo`) waited that long, with the CPU idle. Its median answer on one
    kept-alive connection must come in well under that."""
    with httpx.Client() as client:
        url = f"{fakehub.civitai_base}/images?limit=5"
        client.get(url).raise_for_status()  # the connection made, and kept
        seconds = []
        for _ in range(21):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            seconds.append(time.perf_counter() - started)
    assert sorted(seconds)[10] < 0.02, sorted(seconds)

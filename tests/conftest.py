"""Shared test helpers: fixture paths, a fakehub on loopback, and running the CLI as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from ingest import pagestore
from ingest.fakehub import FakeHub, Faults, build_world

# Whole-step retries (minutes apart, for the scheduled pipeline) are a setting of each run: CLI
# and run_job runs default to none (HUBWATCH_STEP_RETRIES), so tests wait for no retry.
FIXTURES = Path(__file__).parent / "fixtures"
HUBWATCH = str(Path(sys.executable).with_name("hubwatch"))  # the installed command, as a user runs it
REAL = FIXTURES / "real"
# Fast, bounded politeness for crawls against fakehub (the defaults are for the real hubs).
FAST_ENV = {
    "HUBWATCH_RATE": "0",
    "HUBWATCH_BACKOFF_INITIAL": "0.01",
    "HUBWATCH_BACKOFF_MAX": "0.05",
    "HUBWATCH_TIMEOUT": "0.5",
    "HUBWATCH_MAX_RETRIES": "8",
}


def load_real(name: str):
    return orjson.loads((REAL / name).read_bytes())


@pytest.fixture(scope="session")
def small_world():
    return build_world(seed=11, n_models=300, n_images=2500, n_repos=120)


@pytest.fixture
def fakehub(small_world):
    """A fault-free fakehub; tests that want faults set `hub.faults`."""
    with FakeHub(small_world, Faults()) as hub:
        yield hub


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def hub_env(hub: FakeHub, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "CIVITAI_", "HF_"))}
    env.update(FAST_ENV)
    env.update(
        HUBWATCH_HOME=str(home),
        CIVITAI_API_BASE=hub.civitai_base,
        HF_ENDPOINT=hub.hf_endpoint,
        HUBWATCH_HF_FILES_BUDGET="1000",
    )
    env.update(extra)
    return env


def hubwatch(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed `hubwatch` command the way a user would."""
    return subprocess.run([HUBWATCH, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def copy_snapshot(partition: Path, raw: Path) -> None:
    """A raw partition into another home's raw/, with the page packs its pages are stored in (a
    partition alone is not the whole snapshot). Packs are named by their content and never
    modified, so merging two homes' pack folders is safe."""
    shutil.copytree(partition, raw / partition.parent.name / partition.name)
    packs = pagestore.packs_dir(partition)
    if packs.is_dir():
        shutil.copytree(packs, raw / partition.parent.name / packs.name, dirs_exist_ok=True)

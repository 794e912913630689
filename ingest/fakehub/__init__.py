"""A simulated Civitai + Hugging Face hub on loopback, for tests and the demo."""

from ingest.fakehub.server import AS_OF_HEADER, FAULT_KINDS, FakeHub, Faults
from ingest.fakehub.world import World, build_world

__all__ = ["AS_OF_HEADER", "FAULT_KINDS", "FakeHub", "Faults", "World", "build_world"]

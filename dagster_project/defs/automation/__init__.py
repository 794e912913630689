"""Automation runs only where it is switched on: HUBWATCH_SCHEDULE=on (a server) starts the daily
schedule and the failure sensor; unset or off (a laptop running `make dev`), both start stopped, so
opening the UI never starts a live crawl by itself. The UI can still turn either on by hand."""

import os


def automation_on() -> bool:
    value = os.environ.get("HUBWATCH_SCHEDULE", "off").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"HUBWATCH_SCHEDULE must be on or off, not {value!r}")
    return value == "on"

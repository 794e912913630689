"""hubwatch ingest: crawlers, the raw snapshot store and the simulated hub. No Dagster here."""

from functools import cache


@cache
def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hubwatch")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    """`ingest.__version__`, looked up when first named: importlib.metadata and the scan of the
    installed distributions cost every `hubwatch` process ~15 ms, and `sql`, `diff`, `--help` never
    name it."""
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""hubwatch ingest: crawlers, the raw snapshot store and the simulated hub. No Dagster here."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hubwatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

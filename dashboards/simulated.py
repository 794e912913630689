"""Which snapshots of a package are simulated, said exactly: the one statement the site's banner,
each chart's metadata and the package's CODEBOOK.md all print (plain Python: publish/ uses it
without Polars)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

SIMULATED_KIND = "simulated"
SIMULATOR = "hubwatch's simulator"


def simulated_statement(snapshots: Iterable[tuple[str, date, str]], simulated: bool) -> str | None:
    """All of them, or the sources and dates that are, from (source, snapshot_date, kind) rows; None
    when none is. `simulated` (the manifest's flag) speaks for a package that lists no snapshot."""
    snaps = sorted(snapshots)
    if not snaps:
        return f"some snapshots come from {SIMULATOR}, not a real hub" if simulated else None
    fake = [s for s in snaps if s[2] == SIMULATED_KIND]
    if not fake:
        return None
    if len(fake) == len(snaps):
        first, last = min(s[1] for s in snaps), max(s[1] for s in snaps)
        sources = ", ".join(sorted({s[0] for s in snaps}))
        return f"all {len(snaps)} snapshots ({sources}; {first} to {last}) come from {SIMULATOR}, not a real hub"
    by_source: dict[str, list[date]] = {}
    for source, day, _kind in fake:
        by_source.setdefault(source, []).append(day)
    parts = []
    for source, dates in by_source.items():
        listed = ", ".join(str(d) for d in dates[:6]) + (f" and {len(dates) - 6} more" if len(dates) > 6 else "")
        parts.append(f"{source} of {listed}")
    return f"{len(fake)} of {len(snaps)} snapshots come from {SIMULATOR}, not a real hub: " + "; ".join(parts)

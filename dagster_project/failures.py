"""Any exception the CLI meets, as the one line a person can act on (the traceback goes to a log).

hubwatch's own errors (CrawlError and its kinds) already are one line. The rest are what the
machine or a library raised: a full disk (an OSError, or SQLite's "disk I/O error" / "database or
disk is full" from Dagster's storage, which otherwise prints 30-90 lines of SQLAlchemy), a
permission, a damaged Dagster database. They are named for what they are, with the free space
when the disk may be the cause.
"""

from __future__ import annotations

import errno
import re
import shutil
import traceback
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import CrawlError

DISK_WORDS = ("disk i/o error", "database or disk is full", "no space left")
USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


def describe(error: BaseException, home: Path) -> str:
    """One line for an exception of any kind."""
    if isinstance(error, CrawlError):
        return first_line(str(error))
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        where = error.filename or home
        return f"no space left on the device holding {where}{free_space(home)}"
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or type(error).__name__}{where}"
    if _is_database_error(error):
        message = first_line(str(getattr(error, "orig", None) or error)).removeprefix("(sqlite3.OperationalError) ")
        hint = " (is the disk full?)" if any(word in message.lower() for word in DISK_WORDS) else ""
        return f"Dagster's run storage in {home / 'dagster'} failed: {message}{hint}{free_space(home)}"
    return f"unexpected {type(error).__name__}: {first_line(str(error)) or 'no message'}"


def _is_database_error(error: BaseException) -> bool:
    return any(cls.__module__.startswith(("sqlalchemy", "sqlite3")) for cls in type(error).__mro__)


def first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return USERINFO.sub(r"\1", line)


def free_space(home: Path) -> str:
    """'; N MB free on <mount>' for the device holding home (nothing if it cannot be told)."""
    probe = home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return ""
    return f"; {free / 1e6:.1f} MB free under {probe}"


def keep_traceback(error: BaseException, home: Path) -> Path | None:
    """Append the full traceback to $HUBWATCH_HOME/logs/errors.log (if the disk lets us)."""
    path = home / "logs" / "errors.log"
    with suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()}\n")
            log.write(USERINFO.sub(r"\1", "".join(traceback.format_exception(error))))
        return path
    return None

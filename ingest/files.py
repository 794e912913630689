"""File helpers every writer of $HUBWATCH_HOME shares: hashes, atomic writes, rename into place.

Readers see a file or a folder whole or not at all: a file is written under a temporary name,
fsynced and renamed; a folder is built beside its final place and renamed into it. A folder that
replaces another swaps places with it in one rename (Linux `renameat2(RENAME_EXCHANGE)`), so the
final path never stops holding a whole folder, old or new.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from ingest.crash import crash_point

RENAME_EXCHANGE = 2  # linux/fs.h


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    """What a manifest records of a file: its sha256 and size."""
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


@contextmanager
def replaced_atomically(path: Path, *, fsync: bool = True) -> Iterator[Path]:
    """The temporary name beside path to write to. When the block ends well the file is fsynced
    (unless the caller syncs the whole folder later, as a snapshot does) and renamed to path, so
    readers see all of it or none; on any failure it is removed (a full disk gets its space back).
    The temporary name is the process's own, so that processes writing the same path at once (dbt
    children sharing the checkout's template cache) never write into one file: the last rename wins."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        if fsync:
            with tmp.open("rb+") as handle:
                os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name, fsync, then rename: readers see all of it or none."""
    with replaced_atomically(path) as tmp:
        tmp.write_bytes(data)


def dumps(value: Any) -> bytes:
    """JSON as hubwatch writes it to disk: indented, keys sorted (stable bytes, stable hashes)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def sql_text(text: str) -> str:
    """A value made safe inside a single-quoted SQL string literal (paths, settings)."""
    return text.replace("'", "''")


def exchange_dirs(first: Path, second: Path) -> bool:
    """Swap two paths in one rename (Linux renameat2 RENAME_EXCHANGE); False where the system or
    the file system cannot, so the caller falls back to two renames."""
    rename = getattr(_libc(), "renameat2", None)
    if rename is None:
        return False
    at_cwd = -100  # AT_FDCWD
    if rename(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


@cache
def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover (no C library to load)
        return None


def replace_dir(staging: Path, final: Path, aside: Path | None = None) -> None:
    """Move a finished folder into its final place. An older one there swaps places with it in one
    rename and is then removed from where `staging` was; without that system call, the old one is
    moved aside (default: `.replaced-<name>` beside it) and stays whole until the new one is in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        staging.rename(final)
        return
    if exchange_dirs(staging, final):
        crash_point("exchanged")
        shutil.rmtree(staging)
        return
    old = aside or final.with_name(f".replaced-{final.name}")
    if old.exists():
        shutil.rmtree(old)
    final.rename(old)
    staging.rename(final)
    shutil.rmtree(old)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under root to disk (before it is renamed into place, so a
    power cut cannot leave a published name over unwritten bytes)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [root]:
        if path.is_symlink():
            continue
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""The checksums lock file of downloaded sources (fetch.lock_file, config/sources.lock.tsv).

Records the bytes first downloaded from each URL, one row per URL, sorted by
URL, tab-separated under the header `url<TAB>sha256<TAB>bytes`. When the
URL is recorded and no `sha256` is given, the bytes must match the record
(the error says they differ from those recorded in the lock file on first
download); an explicit `sha256` that disagrees with the record is an error
before any download. A URL not yet recorded is added after its bytes
passed the checks. Parallel fetch jobs may share one lock file: a writer
holds fcntl.flock on it, re-reads it and replaces it through a temporary
file (os.replace), so a reader never sees it half-written and no writer's
row is lost. As os.replace swaps the file, a writer that got the flock
checks that its descriptor still is the file at that path, else locks the
new one. Local paths and file:// URLs are neither checked nor recorded:
a local file is the user's to edit (an edit reruns the chain).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from gfm_limits.files import InputError, atomic_path

log = logging.getLogger(__name__)

LOCK_HEADER = ("url", "sha256", "bytes")
SHA256 = re.compile(r"[0-9a-f]{64}")


class Locked(NamedTuple):
    """What the lock file records of one URL."""

    sha256: str
    size: int


def read_lock(path: Path) -> dict[str, Locked]:
    """The lock file's rows by URL; {} when the file does not exist or is empty."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return {}
    header = "\t".join(LOCK_HEADER)
    if lines[0] != header:
        raise InputError(f"{path}: line 1: expected the header {header!r}, got {lines[0]!r}")
    rows: dict[str, Locked] = {}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 3 or not SHA256.fullmatch(fields[1]) or not fields[2].isdigit():
            raise InputError(f"{path}: line {number}: expected url<TAB>sha256<TAB>bytes, got {line!r}")
        if fields[0] in rows:
            raise InputError(f"{path}: line {number}: {fields[0]!r} is listed twice")
        rows[fields[0]] = Locked(fields[1], int(fields[2]))
    return rows


def record(lock: Path, url: str, row: Locked) -> None:
    """Add `url` to the lock file unless a fetch recorded it already (then it must agree)."""
    if any(c in url for c in "\t\r\n"):
        raise InputError(f"source {url!r}: a URL with a tab or line break cannot be recorded in {lock}")
    with _flocked(lock):
        rows = read_lock(lock)
        if url in rows:  # a parallel fetch of the same URL was first
            if rows[url].sha256 != row.sha256:
                raise InputError(f"source {url!r}: sha256 mismatch: expected {rows[url].sha256}, "
                                 f"got {row.sha256}; the bytes differ from those recorded in {lock} "
                                 "on first download")
            return
        rows[url] = row
        with atomic_path(lock) as tmp:
            tmp.write_text(_format_lock(rows), encoding="utf-8")
    log.info("recorded %s in %s (sha256 %s, %d bytes)", url, lock, row.sha256, row.size)


def _format_lock(rows: dict[str, Locked]) -> str:
    lines = ["\t".join(LOCK_HEADER)]
    lines += [f"{url}\t{row.sha256}\t{row.size}" for url, row in sorted(rows.items())]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _flocked(path: Path) -> Iterator[None]:
    """Hold an exclusive fcntl.flock on the file now at `path` (created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = open(path, "ab")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        if _same_file(handle, path):
            break
        handle.close()  # another writer replaced the file while we waited: lock the new one
    try:
        yield
    finally:
        handle.close()  # releases the flock


def _same_file(handle: BinaryIO, path: Path) -> bool:
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(handle.fileno())
    return (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino)

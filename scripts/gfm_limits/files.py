"""Atomic file writing: an output appears complete or not at all.

Every writer in the package goes through `atomic_path`, which hands out a
temporary name in the destination's directory and renames it over the final
name only when the block finished without an exception (os.replace is atomic
on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


class InputError(ValueError):
    """Bad input data or configuration; the message names the file or key."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` on success."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        # mkstemp/mkdtemp create 0600/0700; give the result the usual umask-based mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (0o777 if directory else 0o666) & ~umask)
        if directory and final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def sha256sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def gzip_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn a corrupt or truncated gzip stream into an InputError naming the file."""
    import gzip
    import zlib

    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise InputError(f"{path}: corrupt or truncated gzip: {err}") from err


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether the file starts with the gzip magic bytes."""
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_maybe_gzip(path: str | os.PathLike, mode: str = "rt", **kwargs):
    """Open a file, decompressing it when it is gzip (BGZF included)."""
    import gzip

    if is_gzip(path):
        return gzip.open(path, mode, **kwargs)
    return open(path, mode, **kwargs)

"""Atomic file writing: an output appears complete or not at all.

Every writer in the package goes through `atomic_path`, which hands out a
temporary name in the destination's directory and renames it over the final
name only when the block finished without an exception (os.replace is atomic
on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


class InputError(ValueError):
    """Bad input data or configuration; the message names the file or key."""


class OutputError(OSError):
    """An output could not be written (disk full, quota, not writable); names the output."""


_CANNOT_WRITE = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
                 errno.EFBIG: "the file is larger than this system allows", errno.EROFS: "the file system is read-only",
                 errno.EACCES: "permission denied", errno.ENOTDIR: "a parent of the path is not a directory"}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` on success.

    A write that fails for want of space or permission raises OutputError naming `path`;
    whatever was at `path` before stays as it was."""
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
            os.close(fd)
            tmp = Path(name)
    except OSError as err:
        if err.errno in _CANNOT_WRITE:
            raise _cannot_write(final, err) from err
        raise
    try:
        try:
            yield tmp
        except OSError as err:
            if err.errno in _CANNOT_WRITE and not isinstance(err, OutputError):
                raise _cannot_write(final, err) from err
            raise
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


def _cannot_write(final: Path, err: OSError) -> OutputError:
    return OutputError(err.errno, f"{final}: cannot write: {_CANNOT_WRITE[err.errno]} ({err.strerror}); "
                                  f"anything already at this path is unchanged")


def sha256sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz"}


def compression(path: str | os.PathLike) -> str | None:
    """'gzip' (BGZF included) or 'xz' by the file's magic bytes; None for anything else."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


@contextlib.contextmanager
def compressed_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn a corrupt or truncated gzip or xz stream into an InputError naming the file."""
    import gzip
    import lzma
    import zlib

    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError) as err:
        raise InputError(f"{path}: corrupt or truncated {compression(path) or 'file'}: {err}") from err


def open_compressed(path: str | os.PathLike, mode: str = "rt", **kwargs):
    """Open a file, decompressing it when it is gzip (BGZF included) or xz."""
    import gzip
    import lzma

    kind = compression(path)
    if kind == "gzip":
        return gzip.open(path, mode, **kwargs)
    if kind == "xz":
        return lzma.open(path, mode, **kwargs)
    return open(path, mode, **kwargs)

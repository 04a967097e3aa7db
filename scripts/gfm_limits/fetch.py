"""Fetch a corpus source into results/: a local path, a file:// or an https:// URL.

The bytes are copied unchanged, verified against a sha256 when one is given,
and appear under the destination name only after verification (files.atomic_path).
"""

from __future__ import annotations

import logging
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from gfm_limits.files import InputError, atomic_path, sha256sum

log = logging.getLogger(__name__)


def _copy_url(url: str, dest: Path, timeout: float) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file"):
        local = Path(urllib.parse.unquote(parsed.path) if parsed.scheme else url)
        if not local.is_file():
            raise InputError(f"source {url!r}: no such file {str(local)!r}")
        shutil.copyfile(local, dest)
        return
    if parsed.scheme not in ("http", "https"):
        raise InputError(f"source {url!r}: unsupported scheme {parsed.scheme!r} (use a path, file:// or https://)")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    except urllib.error.HTTPError as err:
        raise InputError(f"source {url!r}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise InputError(f"source {url!r}: download failed: {err}") from err


def fetch(url: str, dest: str | Path, sha256: str | None = None, timeout: float = 60.0) -> str:
    """Copy or download `url` to `dest`; return the sha256 of the bytes written."""
    with atomic_path(dest) as tmp:
        _copy_url(url, tmp, timeout)
        digest = sha256sum(tmp)
        if sha256 is not None and digest != sha256.lower():
            raise InputError(f"source {url!r}: sha256 mismatch: expected {sha256.lower()}, got {digest}")
        if tmp.stat().st_size == 0:
            raise InputError(f"source {url!r}: the file is empty")
    log.info("fetched %s -> %s (sha256 %s)", url, dest, digest)
    return digest

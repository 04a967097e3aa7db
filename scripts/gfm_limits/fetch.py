"""Fetch one corpus source into results/: a local path, a file:// or an http(s):// URL.

Built for single files of tens of GB from public hosts, with the standard
library only (urllib.request; the fetch environment has no `requests`).
`fetch()` returns the sha256 (hex) of the bytes it wrote, computed while
writing (no second read of the file).

Nothing partial is ever left behind: the bytes go to a temporary file beside
`dest` (files.atomic_path), which is renamed onto `dest` only after every check
below passed, and removed on any error.

Local sources
    A plain path or a file:// URL is copied. A missing file, or a directory
    (a file is needed), is an InputError.

HTTP(S) downloads
    * Streamed in 1 MiB chunks. `timeout` is the socket timeout: it bounds the
      connect and every single read, not the whole download, so a server that
      stalls is noticed after `timeout` seconds whatever the file size.
    * Retried: connection errors (refused, reset, closed before the announced
      size arrived), timeouts, and HTTP 408, 429 and 5xx. Before the k-th
      retry in a row the wait is backoff * 2**(k-1) seconds, or the server's
      Retry-After when longer, capped at 60 s. `retries` bounds the retries in
      a row *without progress*: an attempt that got further into the file than
      any before starts the count again, so a long download over a flaky link
      is not abandoned while it advances. When the count is exhausted the error gives the last reason
      and the number of attempts ("timed out after 60 s; gave up after 6
      attempts"). Other 4xx (404, 403, ...) and TLS certificate errors fail at
      once: "HTTP 404 Not Found".
    * A retry after some bytes arrived resumes: it sends `Range: bytes=<have>-`
      (and `If-Range` with the first answer's strong ETag or Last-Modified, so
      a file that changed on the server is sent whole). A 206 answer must carry
      `Content-Range: bytes <have>-<end>/<total>` (else an error) and its body
      is appended; a 200 answer means the server ignores ranges, and the file
      restarts from byte 0.
    * Checks on each answer: Content-Type text/html (a login or error page
      served with 200 instead of the data) is an error naming the URL and the
      type. When the size is known (Content-Length, or the total of
      Content-Range) the body must reach it ("the connection closed early;
      expected N bytes, got M" once the retries are spent). `max_bytes` caps the size: checked against the
      announced size before any byte is written, and against the bytes written
      while streaming, so a wrong URL cannot fill the disk ("larger than the
      limit of N bytes for this source").
    * Progress: an INFO line every `progress_every` seconds (MB so far, of the
      total and percent when known, MB/s since the last line) and a WARNING
      line per retry ("connection lost at N bytes (reason); resuming with
      Range in S s, attempt k/retries").

Verification, for every source, before the rename onto `dest`
    1. sha256 against the `sha256` argument, else against the lock file's
       record of the URL: "sha256 mismatch: expected X, got Y".
    2. An empty file is an error.
    3. gzip or xz (by magic bytes, files.compression) is decompressed once,
       streamed, to prove it complete: "corrupt or truncated gzip" (or xz).
       `check_compressed=False` skips this, for byte-split pieces of one
       archive that are complete only once joined.

Lock file (`lock_file`, http(s) URLs only)
    The checksums of first downloads, verified on later ones: see lockfile.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import BinaryIO, NamedTuple

from gfm_limits.files import InputError, atomic_path, compressed_errors, compression
from gfm_limits.lockfile import SHA256, Locked, read_lock, record

log = logging.getLogger(__name__)

CHUNK = 1 << 20
MAX_WAIT = 60.0  # seconds, the cap on one backoff wait
RETRY_STATUS = frozenset({408, 429})  # and every 5xx
USER_AGENT = f"gfm-limits-fetch Python-urllib/{sys.version_info.major}.{sys.version_info.minor}"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class _Transient(Exception):
    """A failure worth retrying: connection lost, timeout, HTTP 408/429/5xx."""

    def __init__(self, reason: str, wait: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait  # the server's Retry-After in seconds; 0 when none


@dataclass(frozen=True)
class _Options:
    timeout: float
    retries: int
    backoff: float
    max_bytes: int | None
    progress_every: float


class _Expected(NamedTuple):
    sha256: str | None  # lower-case hex, None when nothing is known
    note: str  # appended to a mismatch error: where the expectation came from


@dataclass
class _Sink:
    """The temporary file being written: running sha256, size, limit and progress lines."""

    url: str
    out: BinaryIO
    options: _Options
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    have: int = 0  # bytes in the file now
    total: int | None = None  # the size the source announced, None when unknown
    validator: str | None = None  # ETag or Last-Modified, sent as If-Range when resuming
    received: int = 0  # bytes received over all attempts (progress and speed)
    last_time: float = field(default_factory=time.monotonic)
    last_received: int = 0

    def expect(self, total: int | None) -> None:
        limit = self.options.max_bytes
        if total is not None and limit is not None and total > limit:
            raise InputError(f"source {self.url!r}: {total} bytes is larger than the limit of {limit} bytes "
                             "for this source")
        self.total = total

    def write(self, block: bytes) -> None:
        self.have += len(block)
        self.received += len(block)
        limit = self.options.max_bytes
        if limit is not None and self.have > limit:
            raise InputError(f"source {self.url!r}: more than {limit} bytes arrived, "
                             f"larger than the limit of {limit} bytes for this source")
        self.out.write(block)
        self.digest.update(block)
        self._report()

    def restart(self) -> None:
        self.out.seek(0)
        self.out.truncate()
        self.digest = hashlib.sha256()
        self.have = 0
        self.total = None

    def _report(self) -> None:
        now = time.monotonic()
        if now - self.last_time < self.options.progress_every:
            return
        speed = (self.received - self.last_received) / max(now - self.last_time, 1e-9) / 1e6
        done = f"{self.have / 1e6:.1f} MB"
        if self.total:
            done += f" of {self.total / 1e6:.1f} MB ({100 * self.have / self.total:.1f}%)"
        log.info("%s: %s, %.1f MB/s", self.url, done, speed)
        self.last_time, self.last_received = now, self.received


def fetch(url: str, dest: str | os.PathLike, sha256: str | None = None, timeout: float = 60.0, *,
          retries: int = 5, backoff: float = 1.0, max_bytes: int | None = None,
          lock_file: str | os.PathLike | None = None, progress_every: float = 10.0,
          check_compressed: bool = True) -> str:
    """Copy or download `url` to `dest`, verified; return the sha256 of the bytes written.

    See the module docstring for retries, resumption, the checks and the lock file.
    `check_compressed=False` skips the gzip/xz check (for byte-split pieces of
    one archive, which are not complete streams on their own).
    """
    options = _Options(timeout, retries, backoff, max_bytes, progress_every)
    remote = urllib.parse.urlparse(url).scheme in ("http", "https")
    lock = Path(lock_file) if lock_file is not None and remote else None
    expected = _expected_sha256(url, sha256, lock)
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            sink = _transfer(url, out, options)
        digest = sink.digest.hexdigest()
        _verify(url, tmp, digest, sink.have, expected)
        if check_compressed:
            _check_compressed(url, tmp)
        if lock is not None:
            record(lock, url, Locked(digest, sink.have))
    log.info("fetched %s -> %s (%d bytes, sha256 %s)", url, dest, sink.have, digest)
    return digest


def _transfer(url: str, out: BinaryIO, options: _Options) -> _Sink:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file"):
        local = Path(urllib.parse.unquote(parsed.path) if parsed.scheme else url)
        return _copy_local(url, local, out, options)
    if parsed.scheme not in ("http", "https"):
        raise InputError(f"source {url!r}: unsupported scheme {parsed.scheme!r} (use a path, file:// or https://)")
    return _download(url, out, options)


def _copy_local(url: str, local: Path, out: BinaryIO, options: _Options) -> _Sink:
    if local.is_dir():
        raise InputError(f"source {url!r}: {str(local)!r} is a directory; a file is needed")
    if not local.is_file():
        raise InputError(f"source {url!r}: no such file {str(local)!r}")
    sink = _Sink(url, out, options)
    sink.expect(local.stat().st_size)
    with open(local, "rb") as handle:
        while block := handle.read(CHUNK):
            sink.write(block)
    return sink


# --- HTTP(S) ------------------------------------------------------------------------------


def _download(url: str, out: BinaryIO, options: _Options) -> _Sink:
    """Download with retries, resuming with Range after a loss; return the finished sink."""
    sink = _Sink(url, out, options)
    failures = 0  # failed attempts in a row; one that got further into the file starts a new row
    furthest = 0  # so a server that restarts at 0 and drops at the same byte each time is given up on
    while True:
        try:
            _attempt(sink)
            return sink
        except _Transient as err:
            failures = 1 if sink.have > furthest else failures + 1
            furthest = max(furthest, sink.have)
            if failures > options.retries:
                raise _gave_up(sink, err, failures) from err
            _pause(sink, err, failures)


def _gave_up(sink: _Sink, err: _Transient, failures: int) -> InputError:
    short = sink.total is not None and sink.have < sink.total
    got = f"; expected {sink.total} bytes, got {sink.have}" if short else ""
    attempts = f"{failures} attempt{'s' if failures > 1 else ''}"
    return InputError(f"source {sink.url!r}: {err.reason}{got}; gave up after {attempts}")


def _pause(sink: _Sink, err: _Transient, failures: int) -> None:
    options = sink.options
    wait = min(max(options.backoff * 2 ** (failures - 1), err.wait), MAX_WAIT)
    if sink.have:
        log.warning("%s: connection lost at %d bytes (%s); resuming with Range in %.1f s, attempt %d/%d",
                    sink.url, sink.have, err.reason, wait, failures, options.retries)
    else:
        log.warning("%s: %s; retrying in %.1f s, attempt %d/%d",
                    sink.url, err.reason, wait, failures, options.retries)
    time.sleep(wait)


def _attempt(sink: _Sink) -> None:
    """One request: check the answer, append its body; _Transient when it ends early."""
    timeout = sink.options.timeout
    with _network(sink.url, timeout):
        response = urllib.request.urlopen(_request(sink), timeout=timeout)
    with response:
        _accept(sink, response)
        while True:
            with _network(sink.url, timeout):
                block = response.read(CHUNK)
            if not block:
                break
            sink.write(block)
    if sink.total is not None and sink.have < sink.total:
        # http.client returns end-of-file, without an error, when the server closes early
        raise _Transient("the connection closed early")


def _request(sink: _Sink) -> urllib.request.Request:
    # identity: Content-Length then counts the bytes that are stored
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if sink.have:
        headers["Range"] = f"bytes={sink.have}-"
        if sink.validator:
            headers["If-Range"] = sink.validator
    return urllib.request.Request(sink.url, headers=headers)


def _accept(sink: _Sink, response: http.client.HTTPResponse) -> None:
    """Check an answer's headers; append its body (206) or restart the file with it (200)."""
    headers = response.headers
    if headers.get_content_type() == "text/html":
        raise InputError(f"source {sink.url!r}: the server sent Content-Type {headers.get('Content-Type')!r}, "
                         "a web page (a login or error page?) instead of the data")
    if sink.have and response.status == 206:
        sink.expect(_resumed_total(sink, headers.get("Content-Range", "")))
        return
    if sink.have:
        log.warning("%s: the server answered the Range request with HTTP %d (no range support, "
                    "or the file changed); restarting from byte 0",
                    sink.url, response.status)
        sink.restart()
    sink.validator = _validator(headers)
    sink.expect(response.length)  # Content-Length; None when absent or chunked


def _resumed_total(sink: _Sink, content_range: str) -> int | None:
    """The total size a 206 answer announces, after checking that it starts where the file ends."""
    match = _CONTENT_RANGE.fullmatch(content_range.strip())
    if match is None or int(match[1]) != sink.have:
        raise InputError(f"source {sink.url!r}: asked for bytes {sink.have}- but the server answered "
                         f"206 with Content-Range {content_range!r}")
    total = None if match[3] == "*" else int(match[3])
    if total is not None and sink.total is not None and total != sink.total:
        raise InputError(f"source {sink.url!r}: the file changed on the server during the download "
                         f"({sink.total} bytes, then {total})")
    return total if total is not None else sink.total


def _validator(headers: Message) -> str | None:
    """A strong ETag, else Last-Modified: what If-Range may carry (RFC 9110, 13.1.5)."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified")


@contextlib.contextmanager
def _network(url: str, timeout: float) -> Iterator[None]:
    """Sort network failures: retryable ones become _Transient, final ones InputError."""
    try:
        yield
    except urllib.error.HTTPError as err:
        if err.code in RETRY_STATUS or err.code >= 500:
            raise _Transient(f"HTTP {err.code} {err.reason}", _retry_after(err.headers)) from err
        raise InputError(f"source {url!r}: HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError):
            raise _Transient(f"timed out after {timeout:g} s") from err
        if isinstance(err.reason, ssl.SSLCertVerificationError):
            raise InputError(f"source {url!r}: {err.reason}") from err
        raise _Transient(f"download failed: {err.reason}") from err
    except TimeoutError as err:
        raise _Transient(f"timed out after {timeout:g} s") from err
    except http.client.InvalidURL as err:
        raise InputError(f"source {url!r}: {err}") from err
    except (OSError, http.client.HTTPException) as err:
        raise _Transient(f"download failed: {err!r}") from err


def _retry_after(headers: Message | None) -> float:
    value = headers.get("Retry-After", "") if headers is not None else ""
    return float(value) if value.strip().isdigit() else 0.0


# --- verification ------------------------------------------------------------------------


def _verify(url: str, path: Path, digest: str, size: int, expected: _Expected) -> None:
    if expected.sha256 is not None and digest != expected.sha256:
        raise InputError(f"source {url!r}: sha256 mismatch: expected {expected.sha256}, "
                         f"got {digest}{expected.note}")
    if size == 0:
        raise InputError(f"source {url!r}: the file is empty")


def _check_compressed(url: str, path: Path) -> None:
    """Decompress a gzip or xz file once, streamed, to prove it complete."""
    kind = compression(path)
    if kind is None:
        return
    import gzip
    import lzma

    try:
        with compressed_errors(path), (gzip.open if kind == "gzip" else lzma.open)(path, "rb") as handle:
            while handle.read(CHUNK):
                pass
    except InputError as err:
        raise InputError(f"source {url!r}: {str(err).removeprefix(f'{path}: ')}") from err


def _expected_sha256(url: str, sha256: str | None, lock: Path | None) -> _Expected:
    """The sha256 the bytes must have: the argument, else the lock file's record of the URL."""
    given = sha256.lower() if sha256 is not None else None
    if given is not None and not SHA256.fullmatch(given):
        raise InputError(f"source {url!r}: sha256 {sha256!r} is not 64 hexadecimal digits")
    locked = read_lock(lock).get(url) if lock is not None else None
    if given is not None and locked is not None and given != locked.sha256:
        raise InputError(f"source {url!r}: the sha256 given, {given}, disagrees with {locked.sha256} "
                         f"recorded in {lock}")
    if given is None and locked is not None:
        return _Expected(locked.sha256, f"; the bytes differ from those recorded in {lock} on first download")
    return _Expected(given, "")

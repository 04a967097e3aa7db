"""A real HTTP server on 127.0.0.1 that serves fixture bytes with injected faults, for test_fetch.py.

A URL path is /<mode>/<name>[?anything]: `name` is a key of FaultServer.files
(the query string only makes URLs distinct), `mode` picks the behaviour:

    ok        200 with Content-Length; a Range request `bytes=N-` gets 206 + Content-Range
    drop      the first request announces the whole Content-Length, sends half, closes; later as ok
    norange   as drop, but later requests ignore Range (200 with the whole file)
    badrange  as drop, but later a Range request gets 206 with a Content-Range from byte 0
    stall     the first request sends half, then stalls `stall` seconds; later as ok
    flaky     every request ignores Range, announces the whole file, sends half and closes
    pieces    every request honours Range but sends at most a fifth of the file, then closes
    changed   the first request sends half of version 1 (ETag "v1") and closes; later requests
              serve `<name>.v2` (ETag "v2"): Range with If-Range "v1" gets the whole of it (200)
    slow      every request waits `stall` seconds before answering
    nolength  200 without Content-Length; the body ends when the connection closes
    html      200 with Content-Type text/html
    503once   the first request gets 503 Service Unavailable; later as ok
    404, 403  that status, always

Every request is recorded as (path, Range header or None) in `requests`.
"""

from __future__ import annotations

import http.server
import re
import threading
import time


class FaultServer(http.server.ThreadingHTTPServer):
    """Serves `files` on 127.0.0.1 (a free port) from a daemon thread while used as a context manager."""

    def __init__(self, files: dict[str, bytes], stall: float = 1.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = dict(files)
        self.stall = stall
        self.requests: list[tuple[str, str | None]] = []
        self._log_lock = threading.Lock()

    def __enter__(self) -> FaultServer:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()  # quick shutdown
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def url(self, mode: str, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{mode}/{name}"

    def record(self, path: str, byte_range: str | None) -> int:
        """Log a request; return how many requests this path has had, this one included."""
        with self._log_lock:
            self.requests.append((path, byte_range))
            return sum(seen == path for seen, _ in self.requests)

    def ranges(self, mode: str, name: str) -> list[str | None]:
        """The Range header of every request to /<mode>/<name>, in order."""
        return [r for path, r in self.requests if path == f"/{mode}/{name}"]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.0"  # one request per connection; a body may end at the close

    def log_message(self, format: str, *args) -> None:  # quiet: the test output stays readable
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        _, mode, name = path.split("/", 2)
        nth = self.server.record(path, self.headers.get("Range"))
        try:
            self._answer(mode, name, first=nth == 1)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def _answer(self, mode: str, name: str, first: bool) -> None:
        data = self.server.files[name]
        if mode in ("404", "403") or (mode == "503once" and first):
            self.send_error(int(mode[:3]))
        elif mode == "flaky" or (mode in ("drop", "norange", "badrange", "stall", "changed") and first):
            self._head(200, len(data), etag='"v1"' if mode == "changed" else None)
            self._cut(data, len(data) // 2, stall=mode == "stall")
        elif mode == "pieces":
            self._ranged(data, most=len(data) // 5 + 1)
        elif mode == "changed":
            self._changed(self.server.files[name + ".v2"])
        elif mode == "slow":
            time.sleep(self.server.stall)
            self._ranged(data)
        elif mode in ("norange", "nolength", "html"):
            html = "text/html; charset=utf-8" if mode == "html" else "application/octet-stream"
            self._head(200, None if mode == "nolength" else len(data), html)
            self.wfile.write(data)
        else:
            self._ranged(data, bad=mode == "badrange")

    def _cut(self, body: bytes, size: int, stall: bool = False) -> None:
        """Send the first `size` bytes of `body`, then (after a stall) close the connection."""
        self.wfile.write(body[:size])
        self.wfile.flush()
        if stall:
            time.sleep(self.server.stall)

    def _changed(self, new: bytes) -> None:
        """Version 2 of the file: If-Range with version 1's ETag gets the whole of it (RFC 9110)."""
        if self.headers.get("If-Range", '"v2"') != '"v2"':
            self._head(200, len(new), etag='"v2"')
            self.wfile.write(new)
        else:
            self._ranged(new, etag='"v2"')

    def _ranged(self, data: bytes, bad: bool = False, most: int | None = None, etag: str | None = None) -> None:
        """200 with the whole file, or 206 from where `Range: bytes=N-` asks (`most` bytes, then close)."""
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        start = int(match[1]) if match else 0
        if start >= len(data) > 0:
            self.send_error(416)
            return
        if match is None:
            self._head(200, len(data), etag=etag)
        else:
            shown = 0 if bad else start
            self._head(206, len(data) - start, content_range=f"bytes {shown}-{len(data) - 1}/{len(data)}", etag=etag)
        self._cut(data[start:], len(data) if most is None else most)

    def _head(self, status: int, length: int | None, content_type: str = "application/octet-stream",
              content_range: str | None = None, etag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for header, value in (("Content-Length", length), ("Content-Range", content_range), ("ETag", etag)):
            if value is not None:
                self.send_header(header, str(value))
        self.end_headers()

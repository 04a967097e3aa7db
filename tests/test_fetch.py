"""Fetching a source: local path, file:// and http:// from a real server on 127.0.0.1."""

import functools
import hashlib
import http.server
import threading

import pytest

from gfm_limits.fetch import fetch
from gfm_limits.files import InputError

from conftest import DNA


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(DNA.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


SHA = hashlib.sha256(DNA.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["path", "file", "http"])
def test_fetch_copies_exact_bytes(tmp_path, server, kind):
    url = {"path": str(DNA), "file": DNA.as_uri(), "http": f"{server}/{DNA.name}"}[kind]
    dest = tmp_path / "out" / "dna.data"
    assert fetch(url, dest, sha256=SHA) == SHA
    assert dest.read_bytes() == DNA.read_bytes()


def test_checksum_mismatch_leaves_nothing(tmp_path, server):
    dest = tmp_path / "dna.data"
    with pytest.raises(InputError, match="sha256 mismatch"):
        fetch(f"{server}/{DNA.name}", dest, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url, message",
    [
        ("{server}/missing.fa", "HTTP 404"),
        ("/no/such/file.fa", "no such file"),
        ("ftp://example.org/x.fa", "unsupported scheme"),
        ("http://127.0.0.1:9/x.fa", "download failed"),
    ],
)
def test_failed_fetch_is_a_clear_error(tmp_path, server, url, message):
    url = url.format(server=server)
    with pytest.raises(InputError, match=message) as err:
        fetch(url, tmp_path / "x.data", timeout=5)
    assert url in str(err.value)
    assert list(tmp_path.iterdir()) == []

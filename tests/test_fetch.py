"""Fetching a source: local path, file:// and http:// from real servers on 127.0.0.1.

The fault tests use httpfaults.FaultServer: it drops, stalls, ignores Range,
answers 404/403/503 or text/html, as the URL path asks, and logs every request
so a test can assert how many requests (and which Range headers) were made.
"""

import concurrent.futures
import fcntl
import functools
import hashlib
import http.server
import lzma
import os
import random
import threading
import time

import pytest

from gfm_limits.fetch import fetch
from gfm_limits.files import InputError

from conftest import DNA
from httpfaults import FaultServer


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
# 3 MiB and a bit: several 1 MiB chunks, and a half that is not chunk-aligned
DATA = b"raw:" + random.Random(0).randbytes(3 * 2**20 + 12345)
DATA_SHA = hashlib.sha256(DATA).hexdigest()
OTHER = b"raw:" + random.Random(1).randbytes(50_000)
NEW = b"new:" + DATA[4:][::-1]  # the same size as DATA, other bytes
XZ = lzma.compress(DATA[:300_000])
FAST = {"retries": 3, "backoff": 0.01}  # retries that cost milliseconds


@pytest.fixture
def faults():
    files = {"data": DATA, "other": OTHER, "cut.gz": DNA.read_bytes()[: DNA.stat().st_size // 2],
             "cut.xz": XZ[: len(XZ) // 2], "small": OTHER[:1000]}
    with FaultServer(files, stall=1.0) as httpd:
        yield httpd


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
        fetch(url, tmp_path / "x.data", timeout=5, retries=1, backoff=0.01)
    assert url in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_local_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a directory; a file is needed"):
        fetch(str(DNA.parent), tmp_path / "out" / "x.data")
    assert list((tmp_path / "out").iterdir()) == []


# --- HTTP faults -------------------------------------------------------------------------


def test_download_streams_exact_bytes_and_logs_progress(tmp_path, faults, caplog):
    dest = tmp_path / "out" / "data"
    with caplog.at_level("INFO", logger="gfm_limits.fetch"):
        assert fetch(faults.url("ok", "data"), dest, progress_every=0) == DATA_SHA
    assert dest.read_bytes() == DATA
    assert faults.ranges("ok", "data") == [None]
    assert "(100.0%)" in caplog.text and "MB/s" in caplog.text


def test_dropped_connection_resumes_with_range(tmp_path, faults, caplog):
    dest = tmp_path / "out" / "data"
    half = len(DATA) // 2
    assert fetch(faults.url("drop", "data"), dest, **FAST) == DATA_SHA
    assert dest.read_bytes() == DATA
    assert faults.ranges("drop", "data") == [None, f"bytes={half}-"]
    assert f"connection lost at {half} bytes" in caplog.text and "resuming with Range" in caplog.text
    assert os.listdir(dest.parent) == ["data"]


def test_read_timeout_mid_file_resumes_with_range(tmp_path, faults):
    dest = tmp_path / "out" / "data"
    assert fetch(faults.url("stall", "data"), dest, timeout=0.3, **FAST) == DATA_SHA
    assert dest.read_bytes() == DATA
    first, resumed = faults.ranges("stall", "data")
    # resumes after the bytes written (a chunk cut by the timeout may be asked for again)
    assert first is None and 0 < int(resumed.removeprefix("bytes=").removesuffix("-")) <= len(DATA) // 2


def test_server_without_range_support_restarts_from_zero(tmp_path, faults):
    dest = tmp_path / "out" / "data"
    assert fetch(faults.url("norange", "data"), dest, **FAST) == DATA_SHA
    assert dest.read_bytes() == DATA  # appending the 200 body would double the first half
    assert faults.ranges("norange", "data")[1] == f"bytes={len(DATA) // 2}-"


def test_retries_count_again_after_progress(tmp_path, faults):
    dest = tmp_path / "out" / "data"
    # five pieces need four resumptions; one retry in a row suffices while each gets further
    assert fetch(faults.url("pieces", "data"), dest, retries=1, backoff=0.01) == DATA_SHA
    assert dest.read_bytes() == DATA
    assert len(faults.ranges("pieces", "data")) == 5


def test_a_server_that_drops_at_the_same_byte_every_time_is_given_up_on(tmp_path, faults):
    message = rf"expected {len(DATA)} bytes, got {len(DATA) // 2}; gave up after 3 attempts"
    with pytest.raises(InputError, match=message):
        fetch(faults.url("flaky", "data"), tmp_path / "out" / "data", retries=2, backoff=0.01)
    assert len(faults.ranges("flaky", "data")) == 3
    assert list((tmp_path / "out").iterdir()) == []


def test_a_file_changed_on_the_server_is_fetched_whole_again(tmp_path, faults):
    faults.files["data.v2"] = NEW
    dest = tmp_path / "out" / "data"
    assert fetch(faults.url("changed", "data"), dest, **FAST) == hashlib.sha256(NEW).hexdigest()
    assert dest.read_bytes() == NEW  # not half of the old file and half of the new one
    assert faults.ranges("changed", "data") == [None, f"bytes={len(DATA) // 2}-"]


def test_content_range_must_start_where_the_file_ends(tmp_path, faults):
    message = r"asked for bytes \d+- but the server answered 206 with Content-Range 'bytes 0-"
    with pytest.raises(InputError, match=message):
        fetch(faults.url("badrange", "data"), tmp_path / "out" / "data", **FAST)
    assert list((tmp_path / "out").iterdir()) == []


def test_short_body_after_the_last_retry_is_an_error(tmp_path, faults):
    with pytest.raises(InputError, match=rf"expected {len(DATA)} bytes, got {len(DATA) // 2}; gave up after 1 attempt"):
        fetch(faults.url("drop", "data"), tmp_path / "out" / "data", retries=0)
    assert list((tmp_path / "out").iterdir()) == []


def test_wrong_bytes_fail_the_checksum_and_leave_nothing(tmp_path, faults):
    message = f"sha256 mismatch: expected {DATA_SHA}, got {hashlib.sha256(OTHER).hexdigest()}"
    with pytest.raises(InputError, match=message):
        fetch(faults.url("ok", "other"), tmp_path / "out" / "data", sha256=DATA_SHA, **FAST)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("status, reason", [("404", "Not Found"), ("403", "Forbidden")])
def test_client_errors_fail_at_once(tmp_path, faults, status, reason):
    url = faults.url(status, "data")
    with pytest.raises(InputError, match=f"HTTP {status} {reason}") as err:
        fetch(url, tmp_path / "out" / "data", **FAST)
    assert url in str(err.value)
    assert len(faults.ranges(status, "data")) == 1
    assert list((tmp_path / "out").iterdir()) == []


def test_503_is_retried(tmp_path, faults):
    dest = tmp_path / "out" / "data"
    assert fetch(faults.url("503once", "data"), dest, **FAST) == DATA_SHA
    assert dest.read_bytes() == DATA
    assert faults.ranges("503once", "data") == [None, None]


def test_a_stalled_server_times_out_with_the_attempts_named(tmp_path, faults):
    url = faults.url("slow", "data")
    start = time.monotonic()
    with pytest.raises(InputError, match=r"timed out after 0.5 s; gave up after 2 attempts") as err:
        fetch(url, tmp_path / "out" / "data", timeout=0.5, retries=1, backoff=0.01)
    assert time.monotonic() - start < 3
    assert url in str(err.value)
    assert len(faults.ranges("slow", "data")) == 2
    assert list((tmp_path / "out").iterdir()) == []


def test_html_instead_of_data_is_an_error(tmp_path, faults):
    url = faults.url("html", "data")
    with pytest.raises(InputError, match="Content-Type 'text/html; charset=utf-8'") as err:
        fetch(url, tmp_path / "out" / "data", **FAST)
    assert url in str(err.value)
    assert len(faults.ranges("html", "data")) == 1
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("mode, message", [
    ("ok", f"{len(DATA)} bytes is larger than the limit of 100000 bytes for this source"),
    ("nolength", "more than 100000 bytes arrived, larger than the limit of 100000 bytes for this source"),
])
def test_max_bytes_stops_the_download(tmp_path, faults, mode, message):
    with pytest.raises(InputError, match=message):
        fetch(faults.url(mode, "data"), tmp_path / "out" / "data", max_bytes=100_000, **FAST)
    assert len(faults.ranges(mode, "data")) == 1
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("name, kind", [("cut.gz", "gzip"), ("cut.xz", "xz")])
def test_truncated_compressed_file_is_an_error(tmp_path, faults, name, kind):
    url = faults.url("ok", name)
    with pytest.raises(InputError, match=f"corrupt or truncated {kind}") as err:
        fetch(url, tmp_path / "out" / "data", **FAST)
    assert url in str(err.value)
    assert list((tmp_path / "out").iterdir()) == []
    # a byte-split piece of an archive is not a complete stream: the caller may skip the check
    piece = faults.files[name]
    assert fetch(url, tmp_path / "out" / "piece", check_compressed=False) == hashlib.sha256(piece).hexdigest()


# --- lock file ---------------------------------------------------------------------------

HEADER = "url\tsha256\tbytes\n"


def test_lock_records_first_download_and_rejects_different_bytes_later(tmp_path, faults):
    lock = tmp_path / "sources.lock.tsv"
    url = faults.url("ok", "data")
    fetch(url, tmp_path / "out" / "first", lock_file=lock, **FAST)
    assert lock.read_text() == f"{HEADER}{url}\t{DATA_SHA}\t{len(DATA)}\n"
    faults.files["data"] = OTHER  # the host now serves other bytes under the same URL
    with pytest.raises(InputError, match=f"differ from those recorded in {lock} on first download"):
        fetch(url, tmp_path / "out" / "second", lock_file=lock, **FAST)
    assert os.listdir(tmp_path / "out") == ["first"]
    assert lock.read_text() == f"{HEADER}{url}\t{DATA_SHA}\t{len(DATA)}\n"


def test_local_sources_are_not_locked(tmp_path):
    lock = tmp_path / "sources.lock.tsv"
    assert fetch(str(DNA), tmp_path / "out" / "dna", lock_file=lock) == SHA
    assert not lock.exists()


def test_sha256_argument_must_agree_with_the_lock(tmp_path, faults):
    lock = tmp_path / "sources.lock.tsv"
    url = faults.url("ok", "data")
    lock.write_text(f"{HEADER}{url}\t{DATA_SHA}\t{len(DATA)}\n")
    wrong = "1" * 64
    with pytest.raises(InputError, match=f"sha256 given, {wrong}, disagrees with {DATA_SHA} recorded in {lock}"):
        fetch(url, tmp_path / "out" / "data", sha256=wrong, lock_file=lock, **FAST)
    assert faults.requests == []  # refused before downloading


def test_parallel_fetches_into_one_lock_lose_no_row(tmp_path, faults):
    lock = tmp_path / "sources.lock.tsv"
    urls = [faults.url("ok", "small") + f"?copy={i:02d}" for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        jobs = [pool.submit(fetch, url, tmp_path / "out" / str(i), lock_file=lock, **FAST)
                for i, url in enumerate(urls)]
        digests = {job.result() for job in jobs}
    sha = hashlib.sha256(OTHER[:1000]).hexdigest()
    assert digests == {sha}
    assert lock.read_text() == HEADER + "".join(f"{url}\t{sha}\t1000\n" for url in sorted(urls))
    assert sorted(os.listdir(tmp_path)) == ["out", "sources.lock.tsv"]  # no temporary lock file left


def test_lock_writer_waits_for_the_flock_of_the_current_file(tmp_path, faults):
    """A writer that waited on a lock file that was replaced meanwhile must lock the new file."""
    lock = tmp_path / "sources.lock.tsv"
    lock.write_text(HEADER)
    url, dest = faults.url("ok", "small"), tmp_path / "out" / "data"
    rows = [f"http://a.example/1\t{'a' * 64}\t1\n", f"http://b.example/2\t{'b' * 64}\t2\n"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with open(lock, "ab") as first:
            fcntl.flock(first, fcntl.LOCK_EX)  # another writer holds the lock
            job = pool.submit(fetch, url, dest, lock_file=lock, **FAST)
            time.sleep(0.3)
            assert not job.done() and not dest.exists()  # downloaded, waiting to record
            second = _replace(lock, HEADER + rows[0])
            fcntl.flock(second, fcntl.LOCK_EX)  # a third writer locks the new file first
        time.sleep(0.3)
        assert not job.done()  # the waiter noticed the file was replaced and waits on the new one
        _replace(lock, HEADER + "".join(rows)).close()
        second.close()
        job.result(timeout=5)
    ours = f"{url}\t{hashlib.sha256(OTHER[:1000]).hexdigest()}\t1000\n"
    assert lock.read_text() == HEADER + "".join(sorted([*rows, ours]))


def _replace(path, text):
    """Replace `path` as a writer does (temp file + os.replace); return a handle on the new file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return open(path, "ab")

"""A configured source as a folder of fetched files: results/fetch/{source}/.

A source is one file (`url`), several (`urls`: shards such as Wikipedia's
parquet files), the byte-split pieces of one archive (`urls` with `join`), or a
local directory (a mirror fetched elsewhere: every file in it, in name order).
Each file goes through fetch.fetch (resumable, retried, verified, checksums
locked, for http(s) URLs); the folder holds them as `00000-<name>`, ..., in the configured order,
and `manifest.tsv` (file, url, bytes, sha256). It appears only when every file
is complete (files.atomic_path), so a failed download leaves nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from gfm_limits.fetch import fetch
from gfm_limits.files import InputError, atomic_path, compressed_errors, compression, open_compressed, sha256sum

log = logging.getLogger(__name__)
MANIFEST = "manifest.tsv"


@dataclass(frozen=True)
class FetchConfig:
    """The `fetch` keys of the config: how every source is downloaded."""

    timeout: float = 60.0
    retries: int = 5
    lock_file: str | None = "config/sources.lock.tsv"


def expand(urls: list[str], sha256: list[str | None]) -> list[tuple[str, str | None]]:
    """(url, sha256) of every file; a single local directory becomes its files in name order."""
    if len(urls) == 1 and "://" not in urls[0] and Path(urls[0]).is_dir():
        files = sorted(p for p in Path(urls[0]).iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError(f"source {urls[0]!r}: the directory holds no files")
        return [(str(p), None) for p in files]
    return list(zip(urls, sha256))


def _name(index: int, url: str) -> str:
    base = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name or "data"
    return f"{index:05d}-{base}"


def fetch_source(urls: list[str], sha256: list[str | None], out_dir, cfg: FetchConfig, *, join: bool = False,
                 max_bytes: int | None = None) -> Path:
    """Fetch every file of a source into `out_dir` (atomically) and write its manifest;
    `max_bytes` bounds each downloaded file (the source's `max_bytes`)."""
    rows = []
    with atomic_path(out_dir, directory=True) as tmp:
        for i, (url, digest) in enumerate(expand(urls, sha256)):
            dest = Path(tmp) / _name(i, url)
            remote = urllib.parse.urlparse(url).scheme in ("http", "https")  # local files need no lock
            got = fetch(url, dest, digest, cfg.timeout, retries=cfg.retries, max_bytes=max_bytes,
                        lock_file=cfg.lock_file if remote else None, check_compressed=not join)
            rows.append((dest.name, url, dest.stat().st_size, got))
        if join:
            rows = [_join(Path(tmp), rows, urls)]
        lines = ["file\turl\tbytes\tsha256"] + ["\t".join(map(str, row)) for row in rows]
        (Path(tmp) / MANIFEST).write_text("\n".join(lines) + "\n")
    log.info("source in %s: %d file(s), %d bytes", os.fspath(out_dir), len(rows), sum(r[2] for r in rows))
    return Path(out_dir)


def _join(folder: Path, rows: list[tuple], urls: list[str]) -> tuple:
    """Concatenate the fetched pieces into one file and check it when it is compressed."""
    joined = folder / _name(0, urls[0].rsplit(".", 1)[0] if len(urls) > 1 else urls[0])
    with open(joined.with_suffix(joined.suffix + ".part"), "wb") as out:
        for name, *_ in rows:
            with open(folder / name, "rb") as piece:
                shutil.copyfileobj(piece, out, 1 << 22)
            (folder / name).unlink()
    joined.with_suffix(joined.suffix + ".part").replace(joined)
    if compression(joined):
        with compressed_errors(joined), open_compressed(joined, "rb") as handle:
            while handle.read(1 << 22):
                pass
    return joined.name, " + ".join(urls), joined.stat().st_size, sha256sum(joined)


def source_files(folder) -> list[Path]:
    """The files of a fetched source, in order, from its manifest."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise InputError(f"{folder}: no {MANIFEST}; fetch the source again")
    names = [line.split("\t", 1)[0] for line in manifest.read_text().splitlines()[1:] if line]
    return [folder / name for name in names]

"""Build training and evaluation corpora: one document (text) or window (DNA) per line.

Text sources come in three formats: plain text (documents separated by blank
lines), WikiExtractor output (`<doc id=.. url=.. title=..>` ... `</doc>`) and
JSON lines with a "text" field; plain, gzip or xz. Documents are cleaned as the
paper's code cleans them (`clean_text`) and split into training and
evaluation sets by document: a document is held out when the sha256 of its
cleaned text, read as a number in [0, 1), is below `eval_fraction`. The split
so does not depend on file order (the paper takes the rows after the training
rows, which in a topic-sorted file such as the bundled summaries would hold
out one topic), and duplicated documents never straddle the split.
DNA goes through fasta.split_windows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gfm_limits.fasta import WindowConfig, split_windows
from gfm_limits.files import InputError, atomic_path, compressed_errors, open_compressed

log = logging.getLogger(__name__)

TEXT_FORMATS = ("text", "wikiextractor", "jsonl")
_WHITESPACE = re.compile(r"\s+")
# lbcb-sci/GFMs clean_text: characters outside this set become one space per run
_NOT_KEPT = re.compile(r"[^a-zA-Z0-9\s.,;:!?\"'()\-\u2013\u2014/\\&%$\u20ac@#\[\]{}<>]+")
_DOC_OPEN = re.compile(r'^<doc\b[^>]*>\s*$')


@dataclass(frozen=True)
class TextConfig:
    eval_fraction: float = 0.1
    min_chars: int = 50  # shorter documents are dropped after cleaning


def clean_text(text: str) -> str:
    """The paper's clean_text: no-break spaces and whitespace runs (newlines included)
    become one space, each run of characters outside ASCII letters, digits and common
    punctuation becomes one space (so non-ASCII letters are lost, as in the paper), strip.
    """
    text = _WHITESPACE.sub(" ", text.replace("\u00a0", " "))
    return _NOT_KEPT.sub(" ", text).strip()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) of a UTF-8 file, plain, gzip or xz, naming bad bytes."""
    with compressed_errors(path), open_compressed(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InputError(
                    f"{path}: line {number} is not valid UTF-8 (byte {err.start}: {raw[err.start:err.start + 1]!r})"
                ) from err


def read_plain(path: Path) -> Iterator[str]:
    """Documents of a plain text file: blocks separated by blank lines."""
    block: list[str] = []
    for _, line in _lines(path):
        if line.strip():
            block.append(line)
        elif block:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


def read_wikiextractor(path: Path) -> Iterator[str]:
    """Documents of WikiExtractor output; the title line that opens each body is dropped."""
    body: list[str] | None = None
    for number, line in _lines(path):
        if _DOC_OPEN.match(line):
            if body is not None:
                raise InputError(f"{path}: line {number}: <doc> opened inside another <doc>")
            body = []
        elif line.strip() == "</doc>":
            if body is None:
                raise InputError(f"{path}: line {number}: </doc> without an opening <doc>")
            yield "".join(body[1:])
            body = None
        elif body is not None:
            body.append(line)
    if body is not None:
        raise InputError(f"{path}: the last <doc> is never closed")


def read_jsonl(path: Path) -> Iterator[str]:
    """The "text" field of every line of a JSON-lines file."""
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}: line {number} is not valid JSON: {err.msg}") from err
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(f'{path}: line {number} has no string field "text"')
        yield record["text"]


READERS = {"text": read_plain, "wikiextractor": read_wikiextractor, "jsonl": read_jsonl}


def split_documents(path: str | os.PathLike, fmt: str, cfg: TextConfig) -> tuple[list[str], list[str]]:
    """Cleaned training and evaluation documents of a text source, split by document."""
    path = Path(path)
    if fmt not in READERS:
        raise InputError(f"{path}: unknown text format {fmt!r}; expected one of {', '.join(READERS)}")
    train: list[str] = []
    held_out: list[str] = []
    for doc in map(clean_text, READERS[fmt](path)):
        if len(doc) >= cfg.min_chars:
            (held_out if held_out_by_hash(doc, cfg.eval_fraction) else train).append(doc)
    if not train or not held_out:
        raise InputError(
            f"{path}: {len(train)} training and {len(held_out)} evaluation documents of at least "
            f"{cfg.min_chars} characters; too few to hold out {cfg.eval_fraction:.0%} for evaluation"
        )
    return train, held_out


def held_out_by_hash(doc: str, eval_fraction: float) -> bool:
    """True when the document's sha256, as a fraction of 2^64, falls below eval_fraction."""
    digest = hashlib.sha256(doc.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < eval_fraction


def write_lines(path: str | os.PathLike, lines: list[str]) -> None:
    """Write one item per line, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


def build_corpus(source: str | os.PathLike, fmt: str, train_out, eval_out, stats_out,
                 dna: WindowConfig, text: TextConfig, origin: str | None = None) -> dict:
    """Split a fetched source into train/eval line files and record their sizes.

    `origin` (the configured URL or path) is named in errors beside the fetched copy.
    """
    try:
        if fmt == "fasta":
            train, held_out = split_windows(source, dna)
        else:
            train, held_out = split_documents(source, fmt, text)
    except InputError as err:
        if origin is None:
            raise
        raise InputError(f"{origin} (fetched to {source}): {str(err).removeprefix(f'{source}: ')}") from err
    stats = {
        "format": fmt,
        "train_items": len(train),
        "eval_items": len(held_out),
        "train_chars": sum(map(len, train)),
        "eval_chars": sum(map(len, held_out)),
    }
    write_lines(train_out, train)
    write_lines(eval_out, held_out)
    with atomic_path(stats_out) as tmp:
        tmp.write_text(json.dumps(stats, indent=2) + "\n")
    log.info("corpus %s: %s", source, stats)
    return stats

"""Build training and evaluation corpora: one document (text) or window (DNA) per line.

A source is one file or several (read in order, up to `max_documents`
documents). Text formats: plain text (documents separated by blank lines),
WikiExtractor output (`<doc id=.. url=.. title=..>` ... `</doc>`), JSON lines
(the document is a field, "text" by default), one document per line, and
parquet (a column, read with pyarrow one row group at a time); plain, gzip or
xz except parquet. DNA comes as FASTA or, in the same line, JSON-lines and
parquet formats, as pieces of sequence (the paper's plant genomes are one
piece per line). Documents are cleaned as the
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

from gfm_limits.fasta import WindowConfig, split_pieces_masked, split_windows_masked
from gfm_limits.files import InputError, atomic_path, compressed_errors, open_compressed
from gfm_limits.sources import source_files

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


@dataclass(frozen=True)
class CorpusConfig:
    """The `corpus` keys of the config; `dna` and `text` are the settings of each kind of source."""

    eval_fraction: float = 0.1  # held out: the tail of every DNA record, text documents by hash
    dna_window: int = 1000
    dna_min_window: int = 200
    text_min_chars: int = 50

    @property
    def dna(self) -> WindowConfig:
        return WindowConfig(window=self.dna_window, min_window=self.dna_min_window, eval_fraction=self.eval_fraction)

    @property
    def text(self) -> TextConfig:
        return TextConfig(eval_fraction=self.eval_fraction, min_chars=self.text_min_chars)


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


def read_jsonl(path: Path, field: str = "text") -> Iterator[str]:
    """The `field` of every line of a JSON-lines file."""
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, an int of > 4300 digits, nesting too deep
            raise InputError(f"{path}: line {number} is not valid JSON: {getattr(err, 'msg', err)}") from err
        if not isinstance(record, dict) or not isinstance(record.get(field), str):
            raise InputError(f'{path}: line {number} has no string field "{field}"')
        yield record[field]


def read_lines(path: Path) -> Iterator[str]:
    """Every non-blank line of a file, one document each."""
    for _, line in _lines(path):
        if line.strip():
            yield line.rstrip("\r\n")


def read_parquet(path: Path, field: str = "text") -> Iterator[str]:
    """The column `field` of every row of a parquet file, one row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:  # a corrupt footer can fail as Arrow, I/O or UTF-8 errors (column names are decoded)
        table = pq.ParquetFile(path)
        names = table.schema_arrow.names
    except (pa.ArrowException, OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a readable parquet file: {err}") from err
    if field not in names:
        raise InputError(f'{path}: no column "{field}" (columns: {", ".join(names)})')
    for group in range(table.num_row_groups):
        try:
            values = table.read_row_group(group, columns=[field]).column(0).to_pylist()
        except (pa.ArrowException, OSError, UnicodeDecodeError) as err:
            raise InputError(f"{path}: row group {group}: corrupt parquet data: {err}") from err
        for value in values:
            if not isinstance(value, str):
                raise InputError(f'{path}: row group {group}: column "{field}" holds {type(value).__name__}, not text')
            yield value


READERS = {"text": read_plain, "wikiextractor": read_wikiextractor, "jsonl": read_jsonl, "lines": read_lines,
           "parquet": read_parquet}
WITH_FIELD = ("jsonl", "parquet")


def read_documents(paths, fmt: str, field: str = "text", limit: int | None = None) -> Iterator[str]:
    """The documents of one or several files, in order, at most `limit` of them."""
    if fmt not in READERS:
        raise InputError(f"{paths}: unknown format {fmt!r}; expected one of {', '.join(READERS)}")
    count = 0
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        reader = READERS[fmt](Path(path), field) if fmt in WITH_FIELD else READERS[fmt](Path(path))
        for doc in reader:
            if limit is not None and count >= limit:
                return
            count += 1
            yield doc


def split_documents(paths, fmt: str, cfg: TextConfig, field: str = "text",
                    limit: int | None = None) -> tuple[list[str], list[str]]:
    """Cleaned training and evaluation documents of a text source, split by document."""
    path = paths if isinstance(paths, (str, os.PathLike)) else paths[0]
    train: list[str] = []
    held_out: list[str] = []
    for doc in map(clean_text, read_documents(paths, fmt, field, limit)):
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
    # surrogatepass: a JSON string may hold a lone surrogate ("\ud800"), which UTF-8 cannot encode
    digest = hashlib.sha256(doc.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < eval_fraction


def write_lines(path: str | os.PathLike, lines: list[str]) -> None:
    """Write one item per line, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


def split_source(files: list[Path], fmt: str, kind: str, *, dna: WindowConfig, text: TextConfig,
                 field: str = "text", limit: int | None = None) -> tuple[list[str], list[str]]:
    """Training and evaluation items (DNA windows or text documents) of a source's files."""
    train, held_out, _ = split_source_masked(files, fmt, kind, dna=dna, text=text, field=field, limit=limit)
    return train, held_out


def split_source_masked(files: list[Path], fmt: str, kind: str, *, dna: WindowConfig, text: TextConfig,
                        field: str = "text", limit: int | None = None) -> tuple[list[str], list[str], list[str]]:
    """split_source with the soft mask of each evaluation item (fasta.soft_mask; empty for text)."""
    if kind == "text":
        train, held_out = split_documents(files, fmt, text, field, limit)
        return train, held_out, [""] * len(held_out)
    if fmt == "fasta":
        train, held_out, held_out_mask = [], [], []
        for path in files:
            part_train, part_held_out, part_mask = split_windows_masked(path, dna, limit)
            train.extend(part_train)
            held_out.extend(part_held_out)
            held_out_mask.extend(part_mask)
        return train, held_out, held_out_mask
    pieces = read_documents(files, fmt, field, limit)
    train, held_out, held_out_mask = split_pieces_masked(
        pieces, dna, lambda piece: held_out_by_hash(piece, dna.eval_fraction))
    if not train or not held_out:
        raise InputError(f"{files[0]}: no usable sequence: {len(train)} training and {len(held_out)} evaluation "
                         f"windows of at least {dna.min_window} bp of A/C/G/T")
    return train, held_out, held_out_mask


def build_corpus(source: str | os.PathLike, fmt: str, *, train_out, eval_out, stats_out, cfg: CorpusConfig,
                 eval_repeats_out=None, origin: str | None = None, kind: str | None = None, field: str = "text",
                 max_documents: int | None = None) -> dict:
    """Split a fetched source (a folder from sources.fetch_source, or one file) into
    train/eval line files and record their sizes.

    `origin` (the configured URL or path) is named in errors beside the fetched copy;
    `eval_repeats_out` receives the soft mask of each evaluation line (fasta.soft_mask: '1' where
    the base was lowercase in the FASTA, a repeat; an empty line for each text document).
    """
    files = source_files(source) if Path(source).is_dir() else [Path(source)]
    kind = kind or ("dna" if fmt == "fasta" else "text")
    try:
        train, held_out, held_out_mask = split_source_masked(files, fmt, kind, dna=cfg.dna, text=cfg.text,
                                                             field=field, limit=max_documents)
    except InputError as err:
        if origin is None:
            raise
        message = str(err)
        for path in files:
            message = message.removeprefix(f"{path}: ")
        raise InputError(f"{origin} (fetched to {source}): {message}") from err
    stats = {
        "format": fmt,
        "kind": kind,
        "files": len(files),
        "train_items": len(train),
        "eval_items": len(held_out),
        "train_chars": sum(map(len, train)),
        "eval_chars": sum(map(len, held_out)),
    }
    write_lines(train_out, train)
    write_lines(eval_out, held_out)
    if eval_repeats_out is not None:
        write_lines(eval_repeats_out, held_out_mask)
    with atomic_path(stats_out) as tmp:
        tmp.write_text(json.dumps(stats, indent=2) + "\n")
    log.info("corpus %s: %s", source, stats)
    return stats

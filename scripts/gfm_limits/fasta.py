"""DNA corpus: read a FASTA with pyfaidx and cut it into clean training windows.

Close to the paper's v2 FASTA preprocessing (docs/paper-notes.md, Setup), but the
sequence is uppercased first, so soft-masked repeats stay as sequence (their annotation is
kept beside the evaluation windows: `soft_mask`, '1' where a base was lowercase); runs of N and IUPAC
ambiguity codes split the sequence, because neither tokenizer can model them
(only A, C, G, T remain); segments are cut into non-overlapping windows.
Held-out data is disjoint by region: the last `eval_fraction` of every record
is evaluation, the rest training, and no window crosses that boundary.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gfm_limits.files import InputError, compressed_errors, compression, open_compressed

_ACGT_RUN = re.compile(r"[ACGT]+")


@dataclass(frozen=True)
class WindowConfig:
    window: int = 1000  # bp per window
    min_window: int = 200  # shorter pieces are dropped
    eval_fraction: float = 0.1  # tail of each record held out


def clean_segments(seq: str) -> list[tuple[int, str]]:
    """Uppercase `seq` and split it at every non-ACGT run: [(offset, segment)]."""
    upper = seq.upper()
    return [(m.start(), m.group()) for m in _ACGT_RUN.finditer(upper)]


_SOFT_MASK = str.maketrans({c: "1" for c in "abcdefghijklmnopqrstuvwxyz"})


def soft_mask(seq: str) -> str:
    """The soft-mask annotation of `seq` (repeats in lowercase): '1' where a character is
    lowercase, '0' elsewhere, one character for each of seq's."""
    return re.sub(r"[^1]", "0", seq.translate(_SOFT_MASK))


def cut_windows(segment: str, cfg: WindowConfig) -> list[str]:
    """Non-overlapping windows of cfg.window bp; a tail of >= cfg.min_window is kept."""
    windows = [segment[i : i + cfg.window] for i in range(0, len(segment), cfg.window)]
    return [w for w in windows if len(w) >= cfg.min_window]


def _check_header(path: Path) -> None:
    with compressed_errors(path), open_compressed(path, "rb") as handle:
        head = handle.read(1 << 16).lstrip()
    if not head.startswith(b">"):
        raise InputError(f"{path}: not a FASTA file (the first non-blank character is not '>')")
    if re.search(rb"\r(?!\n)", head):  # pyfaidx splits lines at \n only, so a CR alone joins two lines
        raise InputError(f"{path}: a line ends in CR alone (old Mac or mixed line endings); convert them to LF")


def read_records(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Yield (name, sequence) for every record of a plain, gzip or xz FASTA, via pyfaidx, in the
    file's case (soft-masked repeats in lowercase; clean_segments uppercases)."""
    import pyfaidx

    path = Path(path)
    _check_header(path)
    with tempfile.TemporaryDirectory(prefix="gfm_fasta_") as tmp:
        # pyfaidx reads only plain or BGZF files and writes its .fai beside the
        # file, so work on a plain copy (or a link) inside a private directory.
        plain = Path(tmp) / "sequence.fa"
        if compression(path):
            with compressed_errors(path), open_compressed(path, "rb") as src, open(plain, "wb") as out:
                while block := src.read(1 << 22):
                    out.write(block)
        else:
            os.symlink(path.resolve(), plain)
        try:
            fasta = pyfaidx.Fasta(str(plain), as_raw=True, sequence_always_upper=False)  # soft-masking kept
        except (pyfaidx.FastaIndexingError, ValueError) as err:
            raise InputError(f"{path}: malformed FASTA: {err}") from err
        except RuntimeError as err:  # pyfaidx 0.9 check_bad_lines: blank lines that end a record
            raise InputError(f"{path}: malformed FASTA: blank lines at the end of a record ({err})") from err
        with fasta:
            for name in fasta.keys():
                seq = fasta[name][:]
                if ">" in seq:  # past the first 64 KiB, a header after a CR alone reads as sequence
                    raise InputError(f"{path}: record {name} holds '>' (a header after a line ending in CR alone?)")
                yield name, seq


def split_windows(path: str | os.PathLike, cfg: WindowConfig,
                  max_records: int | None = None) -> tuple[list[str], list[str]]:
    """Training and evaluation windows of a FASTA (its first `max_records` records), disjoint by region."""
    train, held_out, _ = split_windows_masked(path, cfg, max_records)
    return train, held_out


def split_windows_masked(path: str | os.PathLike, cfg: WindowConfig,
                         max_records: int | None = None) -> tuple[list[str], list[str], list[str]]:
    """split_windows with the soft mask of each evaluation window (soft_mask), in the same order."""
    train: list[str] = []
    held_out: list[str] = []
    held_out_mask: list[str] = []
    for number, (_, seq) in enumerate(read_records(path)):
        if max_records is not None and number >= max_records:
            break
        boundary = int(round(len(seq) * (1.0 - cfg.eval_fraction)))
        mask = soft_mask(seq)
        for offset, segment in clean_segments(seq):
            end = offset + len(segment)
            if offset < boundary:
                train += cut_windows(segment[: max(0, min(end, boundary) - offset)], cfg)
            if end > boundary:
                start = max(0, boundary - offset)
                held_out += cut_windows(segment[start:], cfg)
                held_out_mask += cut_windows(mask[offset + start : end], cfg)
    if not train or not held_out:
        raise InputError(
            f"{path}: no usable sequence: {len(train)} training and {len(held_out)} evaluation windows "
            f"of at least {cfg.min_window} bp of A/C/G/T"
        )
    return train, held_out, held_out_mask


def split_pieces(pieces, cfg: WindowConfig, held_out) -> tuple[list[str], list[str]]:
    """Training and evaluation windows of DNA pieces (one per document of a lines, jsonl or
    parquet source): each piece is cleaned and windowed as a record, and goes whole to
    the evaluation side when `held_out(piece)` is true."""
    train, evaluation, _ = split_pieces_masked(pieces, cfg, held_out)
    return train, evaluation


def split_pieces_masked(pieces, cfg: WindowConfig, held_out) -> tuple[list[str], list[str], list[str]]:
    """split_pieces with the soft mask of each evaluation window (soft_mask), in the same order."""
    train: list[str] = []
    evaluation: list[str] = []
    evaluation_mask: list[str] = []
    for piece in pieces:
        is_held_out = held_out(piece.upper())
        mask = soft_mask(piece)
        for offset, segment in clean_segments(piece):
            if is_held_out:
                evaluation += cut_windows(segment, cfg)
                evaluation_mask += cut_windows(mask[offset : offset + len(segment)], cfg)
            else:
                train += cut_windows(segment, cfg)
    return train, evaluation, evaluation_mask

"""Tokenizers (BPE, k-mer) saved as HF tokenizer JSON, and corpus encoding.

BPE: HF tokenizers BPE trained with BpeTrainer(vocab_size) on the training
corpus, special tokens included in the vocabulary size, Whitespace
pre-tokenizer (as the paper's code; docs/paper-notes.md, Setup).

k-mer: the Nucleotide Transformer tokenizer the paper used (non-overlapping
6-mers read left to right; a position where no full k-mer of A/C/G/T starts,
for instance next to an N or at the tail of a sequence, falls back to a
single base A/C/G/T/N). That greedy longest match over a vocabulary of all
4^k k-mers plus single bases is the regular expression `[ACGT]{k}|.` applied
left to right, so it is built locally with HF tokenizers (a Split
pre-tokenizer and a WordLevel model) and no hub download, in linear time
(a WordPiece model gives the same tokens but is quadratic in the length of a
sequence).

Encoding packs each corpus into rows of exactly `seq_len` tokens:
[CLS] t1 ... t_{seq_len-2} [SEP], the token stream running across documents
with [SEP] between them, so no position is padding and every condition
trains on the same number of tokens per step. [CLS] and [SEP] are roles
(special_tokens.py): an imported tokenizer's own tokens fill them (the
Nucleotide Transformer's <cls> and, lacking a separator, <eos>).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from dataclasses import dataclass

import numpy as np

from gfm_limits import special_tokens
from gfm_limits.files import InputError, atomic_path
from gfm_limits.layout import SPECIAL_TOKENS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenizerConfig:
    """The `tokenizer` keys of the config."""

    bpe_vocab_size: int = 4096  # special tokens included
    kmer_k: int = 6


@dataclass(frozen=True)
class EncodeConfig:
    """The `encode` keys of the config."""

    seq_len: int = 512  # tokens per row, [CLS] and [SEP] included


def build_tokenizer(kind: str, corpus: str | os.PathLike | None, out: str | os.PathLike, cfg: TokenizerConfig):
    """A condition's tokenizer: BPE trained on `corpus`, or the k-mer tokenizer (no corpus needed)."""
    if kind == "kmer":
        return build_kmer(out, cfg.kmer_k)
    return train_bpe(corpus, out, cfg.bpe_vocab_size)


def train_bpe(corpus: str | os.PathLike, out: str | os.PathLike, vocab_size: int = 4096):
    """Train a BPE tokenizer on a one-document-per-line corpus and save it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.Fuse()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    tok.train([str(corpus)], trainer)
    _save(tok, out)
    return tok


def build_kmer(out: str | os.PathLike, k: int = 6):
    """The Nucleotide Transformer k-mer tokenizer: specials, all 4^k k-mers, single bases (for
    k = 1 single nucleotides: the specials, A, C, G, T and N)."""
    kmers = ["".join(p) for p in itertools.product("ACGT", repeat=k)]
    bases = [b for b in "ACGTN" if b not in kmers]  # k = 1: the k-mers are the bases, N follows them
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *kmers, *bases])}
    tok = kmer_tokenizer(vocab, k, "[UNK]")
    _save(tok, out)
    return tok


def kmer_tokenizer(vocab: dict[str, int], k: int, unk: str):
    """Greedy non-overlapping k-mers with single-base fallback over `vocab` (token -> id), as
    the Nucleotide Transformer's EsmTokenizer splits a sequence: the regex [ACGT]{k}|. left to right."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel(vocab, unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Split(Regex(f"[ACGT]{{{k}}}|."), behavior="isolated"),
    ])
    tok.decoder = decoders.Fuse()
    return tok


def _save(tok, out: str | os.PathLike) -> None:
    with atomic_path(out) as tmp:
        tok.save(str(tmp))
    log.info("tokenizer %s: %d tokens", out, tok.get_vocab_size())


def load(path: str | os.PathLike):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def encode_lines(corpus: str | os.PathLike, tok, sep: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """One token stream for the corpus, documents separated by the sep token (id `sep`): (N,)
    int64; and the number of tokens of each document (D,), the separators excluded."""
    pieces: list[np.ndarray] = []
    with open(corpus, encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    for start in range(0, len(lines), batch):
        for enc in tok.encode_batch(lines[start : start + batch], add_special_tokens=False):
            pieces.append(np.asarray(enc.ids + [sep], dtype=np.int64))
    lengths = np.array([len(p) - 1 for p in pieces], dtype=np.int64)
    return (np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)), lengths


def pack_rows(stream: np.ndarray, seq_len: int, cls_id: int, sep_id: int) -> np.ndarray:
    """Cut a token stream into rows [CLS] body [SEP] of exactly seq_len: (R, seq_len) uint16."""
    body = seq_len - 2
    n_rows = len(stream) // body
    rows = np.empty((n_rows, seq_len), dtype=np.uint16)
    rows[:, 0] = cls_id
    rows[:, 1:-1] = stream[: n_rows * body].reshape(n_rows, body)
    rows[:, -1] = sep_id
    return rows


def encode_corpus(corpus: str | os.PathLike, tokenizer: str | os.PathLike, out: str | os.PathLike,
                  seq_len: int, stats_out: str | os.PathLike | None = None) -> np.ndarray:
    """Encode a line corpus into packed rows and save them as .npy (and document_stats as JSON)."""
    tok = load(tokenizer)
    if tok.get_vocab_size() > np.iinfo(np.uint16).max:
        raise InputError(f"{tokenizer}: vocabulary of {tok.get_vocab_size()} does not fit uint16 token arrays")
    ids = special_tokens.read(tokenizer)  # by role: imported tokenizers put them elsewhere
    stream, lengths = encode_lines(corpus, tok, ids.sep)
    rows = pack_rows(stream, seq_len, ids.cls, ids.sep)
    if len(rows) == 0:
        raise InputError(f"{corpus}: {len(stream)} tokens, fewer than one row of {seq_len}")
    unk = int((rows == ids.unk).sum())
    log.info("%s: %d tokens -> %d rows of %d (%d [UNK])", corpus, len(stream), len(rows), seq_len, unk)
    if unk > 0.1 * rows.size:  # an imported tokenizer that expects other input (DNABERT: spaced k-mers)
        log.warning("%s: %.0f%% of the tokens are unknown to %s; does the corpus match the tokenizer's input?",
                    corpus, 100 * unk / rows.size, tokenizer)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, rows)
    if stats_out is not None:
        with atomic_path(stats_out) as tmp:
            tmp.write_text(json.dumps(document_stats(lengths, seq_len, len(rows)), indent=2) + "\n")
    return rows


def token_repeat_flags(offsets: list[tuple[int, int]], mask: str) -> np.ndarray:
    """1 for each token whose characters (offsets, from the tokenizer) are mostly soft-masked
    ('1' in mask, fasta.soft_mask), else 0: (n_tokens,) uint8. An empty mask (text) gives 0s."""
    if not mask:
        return np.zeros(len(offsets), dtype=np.uint8)
    marked = np.concatenate([[0], np.cumsum(np.frombuffer(mask.encode("ascii"), dtype=np.uint8) == ord("1"))])
    start, end = np.asarray(offsets, dtype=np.int64).reshape(-1, 2).T
    return (2 * (marked[end] - marked[start]) > end - start).astype(np.uint8)


def encode_repeats(corpus: str | os.PathLike, repeats: str | os.PathLike, tokenizer: str | os.PathLike,
                   out: str | os.PathLike, seq_len: int, batch: int = 4096) -> np.ndarray:
    """The repeat flags of encode_corpus's rows, (R, seq_len) uint8 saved as .npy: 1 where the
    token's bases are mostly lowercase in the FASTA (token_repeat_flags over the corpus's soft
    mask file, one line per corpus line), 0 for [CLS], [SEP] and text."""
    tok = load(tokenizer)
    with open(corpus, encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    with open(repeats, encoding="utf-8") as handle:
        masks = [line.rstrip("\n") for line in handle]
    if len(masks) != len(lines) or any(m and len(m) != len(x) for m, x in zip(masks, lines)):
        raise InputError(f"{repeats}: its lines do not match those of {corpus}; rerun the corpus rule")
    pieces: list[np.ndarray] = []
    for start in range(0, len(lines), batch):
        encodings = tok.encode_batch(lines[start : start + batch], add_special_tokens=False)
        for enc, mask in zip(encodings, masks[start : start + batch]):
            pieces.append(np.append(token_repeat_flags(enc.offsets, mask), np.uint8(0)))  # [SEP]: 0
    stream = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8)
    flags = pack_rows(stream, seq_len, 0, 0).astype(np.uint8)  # (R, seq_len)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, flags)
    log.info("%s: %d of %d tokens in repeats", corpus, int(flags.sum()), flags.size)
    return flags


def document_stats(lengths: np.ndarray, seq_len: int, n_rows: int) -> dict:
    """Sizes for the token budget: documents, tokens, and the mean tokens of one document
    as the paper's rows hold it ([CLS] + document truncated to seq_len - 2 + [SEP], unpadded)."""
    per_row = np.minimum(lengths, seq_len - 2) + 2
    return {"documents": int(len(lengths)), "tokens": int(lengths.sum()), "rows": int(n_rows), "seq_len": seq_len,
            "mean_tokens_per_document_row": float(per_row.mean()) if len(per_row) else 0.0}

"""Context baselines: how well can context predict a held-out symbol at all?

Every number is a held-out cross-entropy in bits per symbol (or, for the
compressor, total bits) of the test sequences given the training sequences.

- Order-k Markov models, k = 0..5, over tokens and over characters or bases,
  smoothed by interpolated Kneser-Ney (kneser_ney.py), every sequence preceded
  by begin-of-sequence symbols so no context reaches into the previous one.
- Unigram entropy: the plug-in entropy -sum p_w log2 p_w of the in-sample
  symbol frequencies, no smoothing.
- Compression: 8 * (|xz(context + test)| - |xz(context)|) bits, lzma preset 9e,
  context = the tail of the training text. An upper bound on the information
  in the test text given the training text, as far as a compressor that has
  seen that text can exploit it.
"""

from __future__ import annotations

import lzma
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gfm_limits.kneser_ney import KN_DISCOUNT, check_symbols, kn_probs, lookup

XZ_PRESET = 9 | lzma.PRESET_EXTREME
XZ_DICT_BYTES = 64 * 2**20  # the dictionary (match window) of preset 9


def char_sequences(lines: Iterable[str], alphabet: dict[str, int] | None = None
                   ) -> tuple[list[np.ndarray], dict[str, int]]:
    """Each line (newline stripped) as character ids; a character not in `alphabet` gets id len(alphabet).

    Without an alphabet it is built from these lines: sorted characters -> 0..A-1.
    The vocabulary for a Markov model is then len(alphabet) + 1.
    """
    codes = [np.frombuffer(line.rstrip("\r\n").encode("utf-32-le"), dtype=np.uint32) for line in lines]
    if alphabet is None:
        seen = np.unique(np.concatenate(codes)) if codes else np.zeros(0, dtype=np.uint32)
        alphabet = {chr(c): i for i, c in enumerate(seen.tolist())}
    points = np.array([ord(ch) for ch in alphabet], dtype=np.uint32)
    ids = np.array(list(alphabet.values()), dtype=np.int64)
    by_point = np.argsort(points)
    points, ids = points[by_point], ids[by_point]
    return [lookup(points, ids, c, len(alphabet)) for c in codes], alphabet


def token_sequences(rows: np.ndarray, special: Sequence[int]) -> list[np.ndarray]:
    """Runs of non-special tokens of the packed stream rows (N, T), split at every special id.

    Empty runs are dropped; the runs are views of the flattened rows (their dtype).
    """
    flat = np.ascontiguousarray(rows).ravel()  # (N * T,)
    cuts = np.flatnonzero(np.isin(flat, np.asarray(special, dtype=np.int64)))
    starts = np.concatenate([[0], cuts + 1])
    ends = np.concatenate([cuts, [len(flat)]])
    return [flat[a:b] for a, b in zip(starts.tolist(), ends.tolist()) if b > a]


def _xz_len(data: bytes) -> int:
    return len(lzma.compress(data, format=lzma.FORMAT_XZ, preset=XZ_PRESET))


def compression_bits(train_text: bytes, test_text: bytes, max_context_bytes: int = 32 * 2**20) -> float:
    """Bits xz needs for test_text after the last max_context_bytes of train_text: 8 (|xz(c + t)| - |xz(c)|).

    An upper bound on the information in the test text given the training text
    (what a general-purpose compressor that has seen the training text still pays).
    The context must fit the 64 MiB match window of preset 9, or it could not be used.
    """
    if not 0 <= max_context_bytes <= XZ_DICT_BYTES:
        raise ValueError(f"max_context_bytes must lie in [0, {XZ_DICT_BYTES}] (the xz window), got {max_context_bytes}")
    context = train_text[len(train_text) - max_context_bytes:] if max_context_bytes else b""
    return 8.0 * (_xz_len(context + test_text) - _xz_len(context))


def unigram_entropy_bits(sequences: Sequence[np.ndarray], vocab_size: int) -> float:
    """Plug-in entropy -sum p log2 p of the symbol frequencies of `sequences` (in-sample, unsmoothed)."""
    check_symbols(sequences, vocab_size)
    counts = np.zeros(vocab_size, dtype=np.int64)
    for s in sequences:
        counts += np.bincount(np.asarray(s, dtype=np.int64), minlength=vocab_size)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def baseline_table(train_seqs: list[np.ndarray], test_seqs: list[np.ndarray], vocab_size: int,
                   orders: Sequence[int] = (1, 2, 3, 4, 5), unit: str = "token") -> list[dict]:
    """One record per estimator on the test sequences: unigram_entropy (of the test symbols), markov0, markov<k>.

    markov0 is always included; all orders come from one KN pass.
    """
    orders = sorted({0, *orders})
    probs = kn_probs(train_seqs, test_seqs, orders[-1], vocab_size, KN_DISCOUNT)
    n_test = len(probs[0])
    if not n_test:
        raise ValueError("the test sequences hold no symbols")
    rows = [{"unit": unit, "baseline": "unigram_entropy", "order": None,
             "bits_per_symbol": unigram_entropy_bits(test_seqs, vocab_size), "symbols": n_test}]
    for k in orders:
        rows.append({"unit": unit, "baseline": f"markov{k}", "order": k,
                     "bits_per_symbol": float(-np.log2(probs[k]).mean()), "symbols": n_test})
    return rows


# --- the baselines rules: one table per source (characters or bases) and per condition (tokens)


@dataclass(frozen=True)
class BaselinesConfig:
    """The `baselines` keys of the config."""

    orders: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])  # of the Markov models (0 always)
    max_train_symbols: int = 20_000_000  # the first ones of the training corpus
    max_eval_symbols: int = 2_000_000  # the first held-out ones
    compression_context_bytes: int = 32 * 2**20  # the last bytes of training text xz sees first


COLUMNS = ["unit", "baseline", "order", "bits_per_symbol", "symbols", "chars_per_symbol", "bits_per_char"]


def _read_lines(path, max_chars: int) -> list[str]:
    """The first documents (lines, newline stripped) of a corpus, until max_chars are read."""
    lines, total = [], 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            lines.append(line)
            total += len(line)
            if total >= max_chars:
                break
    return lines


def _tail_bytes(path, n: int) -> bytes:
    """The last n bytes of a file, read without reading the rest."""
    import os

    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - n))
        return handle.read()


def char_baselines(train_txt, eval_txt, out, cfg: BaselinesConfig) -> None:
    """Markov models over single characters (bases for DNA) and the xz estimate, in bits per
    character of the held-out corpus (up to max_eval characters; newlines between documents are
    not characters of any document)."""
    import pandas as pd

    from gfm_limits.files import atomic_path

    train_lines = _read_lines(train_txt, cfg.max_train_symbols)
    test_lines = _read_lines(eval_txt, cfg.max_eval_symbols)
    train, alphabet = char_sequences(train_lines)
    test, _ = char_sequences(test_lines, alphabet)
    rows = baseline_table(train, test, len(alphabet) + 1, cfg.orders, unit="char")
    test_text = "\n".join(test_lines)
    chars = sum(len(line) for line in test_lines)
    context = _tail_bytes(train_txt, cfg.compression_context_bytes)
    bits = compression_bits(context, test_text.encode("utf-8"), max_context_bytes=cfg.compression_context_bytes)
    rows.append({"unit": "char", "baseline": "xz", "order": None, "bits_per_symbol": bits / chars, "symbols": chars})
    table = pd.DataFrame(rows).assign(chars_per_symbol=1.0)
    table["bits_per_char"] = table["bits_per_symbol"]
    with atomic_path(out) as tmp:
        table[COLUMNS].to_csv(tmp, sep="\t", index=False, float_format="%.8g")


def token_baselines(*, train_npy, eval_npy, eval_txt, eval_stats, tokenizer_json, chars_table, out,
                    cfg: BaselinesConfig) -> None:
    """Markov models over the condition's tokens, in bits per token and per character (with the
    held-out corpus's characters per token), beside the source's character baselines. The special
    tokens (special_tokens.read, by role) cut the runs; the others are renumbered 0..V'-1."""
    import json

    import pandas as pd

    from gfm_limits import special_tokens
    from gfm_limits.files import atomic_path

    specials = special_tokens.read(tokenizer_json)
    ordinary = specials.ordinary_index()  # (V,) id -> 0..V'-1, -1 for specials

    def first(path, limit: int) -> list[np.ndarray]:
        """The token runs of the first rows holding `limit` tokens (memory-mapped: a paper-scale
        token array is not read whole), ids renumbered past the special tokens (never predicted)."""
        rows = np.load(path, mmap_mode="r")
        rows = np.asarray(rows[: limit // max(rows.shape[1] - 2, 1) + 1])
        seqs = token_sequences(rows, specials.special)
        ends = np.cumsum([len(s) for s in seqs])
        return [ordinary[s.astype(np.int64)] for s in seqs[: int(np.searchsorted(ends, limit)) + 1]]

    train, test = first(train_npy, cfg.max_train_symbols), first(eval_npy, cfg.max_eval_symbols)
    vocab_size = specials.vocab_size - len(specials.special)
    with open(eval_txt, encoding="utf-8") as handle:
        chars = sum(len(line.rstrip("\n")) for line in handle)
    with open(eval_stats, encoding="utf-8") as handle:
        chars_per_token = chars / json.load(handle)["tokens"]
    table = pd.DataFrame(baseline_table(train, test, vocab_size, cfg.orders, unit="token"))
    table["chars_per_symbol"] = chars_per_token
    table["bits_per_char"] = table["bits_per_symbol"] / chars_per_token
    table = pd.concat([table, pd.read_csv(chars_table, sep="\t")], ignore_index=True)
    with atomic_path(out) as tmp:
        table[COLUMNS].to_csv(tmp, sep="\t", index=False, float_format="%.8g")

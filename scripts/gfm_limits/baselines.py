"""Context baselines: how well can context predict a held-out symbol at all?

Every number is a held-out cross-entropy in bits per symbol (or, for the
compressor, total bits) of the test sequences given the training sequences.

- Order-k Markov models, k = 0..5, smoothed by interpolated Kneser-Ney with a
  fixed absolute discount D = 0.75 (Chen & Goodman 1998, "An empirical study of
  smoothing techniques for language modeling", TR-10-98, eqs. 14-15 with one
  discount per order; "plain" rather than modified KN). With h a context of j
  symbols and h' = h without its oldest symbol:

      P_j(w | h) = max(c_j(h, w) - D, 0) / C_j(h) + D * N1_j(h) / C_j(h) * P_{j-1}(w | h')
      P_{-1}(w)  = 1 / V                        (the uniform distribution)

  where C_j(h) = sum_w c_j(h, w) and N1_j(h) = #{w : c_j(h, w) > 0}; when
  C_j(h) = 0 (context never seen) P_j(w | h) = P_{j-1}(w | h'). At the top
  level j = k, c_k is the raw count of the (k+1)-gram (h, w); at every lower
  level c_j(h, w) = N1+(. h w) is the continuation count, the number of distinct
  symbols x seen before h w. Each P_j(. | h) sums to 1 over the V symbols and is
  > 0 everywhere (0 < D <= 1).
- Sequence boundaries: every sequence (train and test) is preceded by k
  begin-of-sequence symbols BOS (id V, a context symbol that is never
  predicted), so a context never reaches into the previous sequence and the
  first symbols of a sequence are predicted from BOS-padded contexts (the
  <s> convention of SRILM / KenLM). The continuation counts count BOS as a
  left neighbour.
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

import numpy as np

KN_DISCOUNT = 0.75
XZ_PRESET = 9 | lzma.PRESET_EXTREME
XZ_DICT_BYTES = 64 * 2**20  # the dictionary (match window) of preset 9


def _check_symbols(seqs: Sequence[np.ndarray], vocab_size: int) -> None:
    for s in seqs:
        if len(s) and (int(np.min(s)) < 0 or int(np.max(s)) >= vocab_size):
            raise ValueError(f"symbol ids must lie in [0, {vocab_size}), got [{np.min(s)}, {np.max(s)}]")


def _pad(seqs: Sequence[np.ndarray], order: int, bos: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate sequences, each after `order` BOS symbols: symbols (L,), positions of real symbols (N,)."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)  # (S,)
    ends = np.cumsum(lengths + order)
    starts = ends - lengths  # first real symbol of each sequence
    symbols = np.full(int(ends[-1]) if len(seqs) else 0, bos, dtype=np.int32)  # (L,)
    real = np.ones(len(symbols), dtype=bool)
    real[(np.repeat(starts - order, order) + np.tile(np.arange(order), len(seqs)))] = False
    positions = np.flatnonzero(real)  # (N,)
    if len(positions):
        symbols[positions] = np.concatenate([np.asarray(s, dtype=np.int32) for s in seqs])
    return symbols, positions


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray, default: int) -> np.ndarray:
    """values[i] where keys[i] == query, else default. keys: sorted, unique (U,); query (M,) -> (M,)."""
    if not len(keys):
        return np.full(len(query), default, dtype=values.dtype)
    idx = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[idx] == query, values[idx], default)


def _interpolate(keys: np.ndarray, counts: np.ndarray, ctx: np.ndarray, target: np.ndarray,
                 n_ctx: int, vocab_size: int, lower: np.ndarray, discount: float) -> np.ndarray:
    """One KN level: max(c(h,w) - D, 0)/C(h) + D N1(h)/C(h) * lower, or lower where C(h) = 0.

    keys: sorted (h * V + w) of the training pairs, counts: their c(h, w), both (U,);
    ctx, target, lower: the queried contexts, symbols and lower-order probabilities, (M,).
    """
    h = keys // vocab_size
    total = np.bincount(h, weights=counts, minlength=n_ctx)[ctx]  # C(h), (M,)
    distinct = np.bincount(h, minlength=n_ctx)[ctx]  # N1(h), (M,)
    c = _lookup(keys, counts, ctx * vocab_size + target, 0)  # c(h, w), (M,)
    seen = total > 0
    safe = np.where(seen, total, 1.0)
    alpha = np.where(seen, np.maximum(c - discount, 0.0) / safe, 0.0)
    gamma = np.where(seen, discount * distinct / safe, 1.0)
    return alpha + gamma * lower


def _extend(ctx: np.ndarray, older: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the contexts extended by their next older symbol, and each new id's parent id.

    ctx, older: (N,) -> new ids (N,), parent (U,). Ids are ranks of ctx * base + older, so
    parents are non-decreasing and ctx * base stays far inside int64 (N * base < 2**63).
    """
    key = ctx * base
    key += older
    uniq, new_ctx = np.unique(key, return_inverse=True)
    del key
    uniq //= base
    return new_ctx.astype(np.int64, copy=False), uniq


def _kn_probs(train: Sequence[np.ndarray], test: Sequence[np.ndarray], max_order: int,
              vocab_size: int, discount: float) -> list[np.ndarray]:
    """P(test symbol | its context) under the KN models of orders 0..max_order: one (N_test,) array per order.

    One pass serves every order: with >= j+1 BOS pads, the order-j model and
    the continuation counts of level j do not depend on how many pads precede.
    """
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"the discount must lie in (0, 1], got {discount}")
    if max_order < 0:
        raise ValueError(f"the order must be >= 0, got {max_order}")
    _check_symbols(train, vocab_size)
    _check_symbols(test, vocab_size)
    v, bos = vocab_size, vocab_size
    sym_tr, pos_tr = _pad(train, max_order, bos)
    sym_te, pos_te = _pad(test, max_order, bos)
    symbols = np.concatenate([sym_tr, sym_te])  # (L,)
    positions = np.concatenate([pos_tr, pos_te + len(sym_tr)])  # (N,) train first, then test
    n_tr = len(pos_tr)
    target = symbols[positions]  # (N,)
    ctx, n_ctx = np.zeros(len(positions), dtype=np.int64), 1  # dense context ids, level 0: the empty context
    lower = np.full(len(pos_te), 1.0 / v)  # continuation chain up to level j-1, (N_test,)
    out = []
    for j in range(max_order + 1):
        keys, counts = np.unique(ctx[:n_tr] * v + target[:n_tr], return_counts=True)  # raw (h, w) counts
        if j > 0:  # level j-1 continuation counts: distinct left neighbours x of (h', w)
            ckeys, ccounts = np.unique(parent[keys // v] * v + keys % v, return_counts=True)
            lower = _interpolate(ckeys, ccounts, prev_te, target[n_tr:], prev_n, v, lower, discount)
        out.append(_interpolate(keys, counts, ctx[n_tr:], target[n_tr:], n_ctx, v, lower, discount))
        if j < max_order:
            del keys, counts  # free them before the largest step
            prev_te, prev_n = ctx[n_tr:].copy(), n_ctx
            ctx, parent = _extend(ctx, symbols[positions - (j + 1)], v + 1)
            n_ctx = len(parent)
    return out


def markov_cross_entropy_bits(train: list[np.ndarray], test: list[np.ndarray], order: int,
                              vocab_size: int, *, discount: float = KN_DISCOUNT) -> tuple[float, int]:
    """Held-out cross-entropy (bits per symbol, mean over all test symbols) of an order-k KN model, and N_test.

    Sort-based, no loop over symbols: 20 M training symbols, V = 4100, order 5
    take about 25 s and peak near 125 bytes per symbol (measured on a CPU host).
    """
    probs = _kn_probs(train, test, order, vocab_size, discount)[order]  # (N_test,)
    if not len(probs):
        raise ValueError("the test sequences hold no symbols")
    return float(-np.log2(probs).mean()), len(probs)


def markov_probs(train: list[np.ndarray], context: np.ndarray, order: int, vocab_size: int,
                 *, discount: float = KN_DISCOUNT) -> np.ndarray:
    """P(w | context) for every w: (V,). `context` is a sequence's prefix (shorter than `order`: BOS-padded)."""
    context = np.asarray(context, dtype=np.int64)
    queries = [np.append(context, w) for w in range(vocab_size)]  # V sequences ending in each w
    probs = _kn_probs(train, queries, order, vocab_size, discount)[order]  # (V * (len(context) + 1),)
    return probs[len(context)::len(context) + 1]


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
    return [_lookup(points, ids, c, len(alphabet)) for c in codes], alphabet


def token_sequences(rows: np.ndarray, n_special: int) -> list[np.ndarray]:
    """Runs of non-special tokens of the packed stream rows (N, T), split at every id < n_special.

    Empty runs are dropped; the runs are views of the flattened rows (their dtype).
    """
    flat = np.ascontiguousarray(rows).ravel()  # (N * T,)
    cuts = np.flatnonzero(flat < n_special)
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
    _check_symbols(sequences, vocab_size)
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
    probs = _kn_probs(train_seqs, test_seqs, orders[-1], vocab_size, KN_DISCOUNT)
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


def char_baselines(train_txt, eval_txt, out, orders: Sequence[int], max_train: int, max_eval: int,
                   context_bytes: int) -> None:
    """Markov models over single characters (bases for DNA) and the xz estimate, in bits per
    character of the held-out corpus (up to max_eval characters; newlines between documents are
    not characters of any document)."""
    import pandas as pd

    from gfm_limits.files import atomic_path

    train_lines, test_lines = _read_lines(train_txt, max_train), _read_lines(eval_txt, max_eval)
    train, alphabet = char_sequences(train_lines)
    test, _ = char_sequences(test_lines, alphabet)
    rows = baseline_table(train, test, len(alphabet) + 1, orders, unit="char")
    test_text = "\n".join(test_lines)
    chars = sum(len(line) for line in test_lines)
    context = _tail_bytes(train_txt, context_bytes)
    bits = compression_bits(context, test_text.encode("utf-8"), max_context_bytes=context_bytes)
    rows.append({"unit": "char", "baseline": "xz", "order": None, "bits_per_symbol": bits / chars, "symbols": chars})
    table = pd.DataFrame(rows).assign(chars_per_symbol=1.0)
    table["bits_per_char"] = table["bits_per_symbol"]
    with atomic_path(out) as tmp:
        table[COLUMNS].to_csv(tmp, sep="\t", index=False, float_format="%.8g")


def token_baselines(train_npy, eval_npy, eval_txt, eval_stats, tokenizer_json, chars_table, out,
                    orders: Sequence[int], max_train: int, max_eval: int, n_special: int) -> None:
    """Markov models over the condition's tokens, in bits per token and per character (with the
    held-out corpus's characters per token), beside the source's character baselines."""
    import json

    import pandas as pd

    from gfm_limits.files import atomic_path

    def first(path, limit: int) -> list[np.ndarray]:
        """The token runs of the first rows holding `limit` tokens (memory-mapped: a paper-scale
        token array is not read whole), ids shifted past the special tokens (never predicted)."""
        rows = np.load(path, mmap_mode="r")
        rows = np.asarray(rows[: limit // max(rows.shape[1] - 2, 1) + 1])
        seqs = token_sequences(rows, n_special)
        ends = np.cumsum([len(s) for s in seqs])
        return [s.astype(np.int64) - n_special for s in seqs[: int(np.searchsorted(ends, limit)) + 1]]

    train, test = first(train_npy, max_train), first(eval_npy, max_eval)
    with open(tokenizer_json, encoding="utf-8") as handle:
        vocab_size = len(json.load(handle)["model"]["vocab"]) - n_special
    with open(eval_txt, encoding="utf-8") as handle:
        chars = sum(len(line.rstrip("\n")) for line in handle)
    with open(eval_stats, encoding="utf-8") as handle:
        chars_per_token = chars / json.load(handle)["tokens"]
    table = pd.DataFrame(baseline_table(train, test, vocab_size, orders, unit="token"))
    table["chars_per_symbol"] = chars_per_token
    table["bits_per_char"] = table["bits_per_symbol"] / chars_per_token
    table = pd.concat([table, pd.read_csv(chars_table, sep="\t")], ignore_index=True)
    with atomic_path(out) as tmp:
        table[COLUMNS].to_csv(tmp, sep="\t", index=False, float_format="%.8g")

"""Reverse-complement (RC) symmetry of k-mer models: a symmetry DNA has and text lacks.

A DNA sequence and its reverse complement carry the same information, so a model that
learned DNA should treat them alike. For non-overlapping k-mers the RC of a k-mer-aligned
row is token level: the body reversed, each k-mer replaced by its RC k-mer ([CLS] first and
[SEP] last stay where they are). `token_permutation` builds that map from the vocabulary
(an involution; specials, N and tokens whose RC is not in the vocabulary are fixed points),
and `exact_rows` keeps the held-out rows where the map is exact: every body token a full
k-mer of A/C/G/T, so the tokenizer would cut the RC sequence into exactly the mapped tokens
(a single-base fallback, an N or a document boundary inside the row breaks the alignment).

BPE is left out: its merges are learned left to right on one strand, so the RC of a BPE
token is in general not a token, and the RC sequence is cut elsewhere (docs/pipeline.md).

Two statistics (beyond the paper; "The Geometric Alignment Tax" reports that Evo 2's RC
robustness comes from composition, not from a learned symmetry):
- prediction consistency (`rc_member`): at each held-out masked position i of row x, the
  distribution p against the member's distribution at the mirrored position of RC(x), with
  the mirrored mask, mapped back through the permutation (q[v] = q_rc[rc(v)]); the
  Jensen-Shannon distance (base 2, scipy) and whether the argmaxes agree, beside the same
  statistics for a shuffled pairing (p_i against the mapped-back q of another position, a
  random cyclic derangement) as the chance level;
- static embeddings (`embedding_rc`): how often a k-mer's nearest neighbour among the k-mers
  (cosine, itself excluded) is its RC, against chance 1 / (n - 1), palindromes (their own RC)
  left out as queries; and the mean cosine of a k-mer to its RC against all pairs of k-mers.
`rc_table` gives both per member and their Multi-Bootstrap intervals (bootstrap.py: members
and held-out rows drawn jointly for the predictions, members only for the embeddings).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits.files import atomic_path

log = logging.getLogger(__name__)

COMPLEMENT = str.maketrans("ACGT", "TGCA")
PREDICTION_STATISTICS = ("js_distance", "agreement")  # each also "_shuffled" (chance) and "_gap" (shuffled - model)
EMBEDDING_STATISTICS = ("nn_is_rc", "nn_is_rc_chance", "cosine_rc", "cosine_random")
RC_COLUMNS = ("statistic", "seed", "estimate", "ci_low", "ci_high", "n_boot", "level", "positions", "rows_used",
              "rows_total", "kmers")


def reverse_complement(seq: str) -> str:
    """The reverse complement of a sequence of A/C/G/T."""
    return seq.translate(COMPLEMENT)[::-1]


def token_permutation(vocab: dict[str, int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The token-level RC map of a k-mer vocabulary (token -> id): perm (V,) int64 with
    perm[id] = the id of the token's RC (an involution; a token without RC in the vocabulary,
    a special, N, maps to itself), and kmer (V,) bool, the full k-mers of A/C/G/T whose RC is
    in the vocabulary (the tokens of an exact row)."""
    size = max(vocab.values()) + 1
    perm, kmer = np.arange(size, dtype=np.int64), np.zeros(size, dtype=bool)
    for token, i in vocab.items():
        if token and set(token) <= set("ACGT") and reverse_complement(token) in vocab:
            perm[i] = vocab[reverse_complement(token)]
            kmer[i] = len(token) == k
    return perm, kmer


def read_permutation(tokenizer_path, k: int) -> tuple[np.ndarray, np.ndarray]:
    """token_permutation of a tokenizer JSON's vocabulary (read as JSON: no tokenizers library)."""
    vocab = json.loads(Path(tokenizer_path).read_text())["model"]["vocab"]
    return token_permutation(vocab, k)


def rc_rows(rows: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """RC of packed rows (R, T): first and last token kept, the body reversed and mapped."""
    out = rows.copy()
    out[:, 1:-1] = perm[rows[:, 1:-1][:, ::-1]]
    return out


def mirror_mask(mask: np.ndarray) -> np.ndarray:
    """The mask (R, T) at mirrored body positions (i -> T - 1 - i); the ends are never masked."""
    out = np.zeros_like(mask)
    out[:, 1:-1] = mask[:, 1:-1][:, ::-1]
    return out


def exact_rows(rows: np.ndarray, kmer: np.ndarray) -> np.ndarray:
    """Rows (R, T) whose body is all full k-mers with an RC (token_permutation's kmer): (R,) bool."""
    return kmer[rows[:, 1:-1]].all(axis=1)


def mirrored_order(mask: np.ndarray) -> np.ndarray:
    """For each masked position of `mask` in row-major order, the index of its mirrored position
    among mirror_mask(mask)'s positions in row-major order: (M,) int64."""
    mirrored = mirror_mask(mask)
    index = np.full(mask.shape, -1, dtype=np.int64)
    index[mirrored] = np.arange(int(mirrored.sum()))
    r, c = np.nonzero(mask)
    return index[r, mask.shape[1] - 1 - c]


def derangement(n: int, rng) -> np.ndarray:
    """A random permutation (n,) with no fixed point (n >= 2): a random cycle through all positions."""
    order = rng.permutation(n)
    sigma = np.empty(n, dtype=np.int64)
    sigma[order] = np.roll(order, 1)
    return sigma


def consistency(p: np.ndarray, q: np.ndarray, sigma: np.ndarray) -> dict[str, np.ndarray]:
    """Per position (M,): JS distance (base 2) between p (M, V) and the mapped-back RC
    distributions q (M, V), argmax agreement, and both again against q[sigma] (the shuffled
    pairing, chance)."""
    from scipy.spatial.distance import jensenshannon

    out = {}
    for suffix, other in (("", q), ("_shuffled", q[sigma])):
        with np.errstate(invalid="ignore"):  # rounding: a JS divergence of -1e-17 when p == q
            out[f"js_distance{suffix}"] = np.nan_to_num(jensenshannon(p, other, axis=1, base=2))
        out[f"agreement{suffix}"] = (p.argmax(axis=1) == other.argmax(axis=1)).astype(np.float64)
    return out


def rc_member(model_dir, masks_path, tokenizer_path, out, *, k: int, batch_size: int, precision: str = "fp32",
              shuffle_seed: int = 0, threads: int = 1) -> dict:
    """Prediction consistency of one member on the exact rows of the shared held-out masks:
    writes .npz with, per masked position, js_distance, agreement and their _shuffled, row_of
    (the position's row among masks.npz's rows) and rows_total; returns the means."""
    import torch

    from gfm_limits.model import device as default_device
    from gfm_limits.model import load_model
    from gfm_limits.predictions import load_masks, predict_distributions
    from gfm_limits.special_tokens import read as read_special_tokens

    torch.set_num_threads(threads)
    device = default_device()
    model = load_model(model_dir).to(device)
    mask_id = read_special_tokens(tokenizer_path).mask
    perm, kmer = read_permutation(tokenizer_path, k)
    masks = load_masks(masks_path)
    keep = exact_rows(masks["rows"], kmer)  # (R,)
    rows, predict = masks["rows"][keep], masks["predict"][keep]
    p, _, _ = predict_distributions(model, rows, predict, mask_id, batch_size, device, precision)  # (M, V)
    q_rc, _, _ = predict_distributions(model, rc_rows(rows, perm), mirror_mask(predict), mask_id, batch_size,
                                       device, precision)
    q = q_rc[mirrored_order(predict)][:, perm]  # (M, V): back at the original positions and tokens
    values = consistency(p, q, derangement(len(p), np.random.default_rng(shuffle_seed)))
    row_of = np.flatnonzero(keep)[np.nonzero(predict)[0]]
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, row_of=row_of, rows_total=len(keep), **values)
    means = {name: float(v.mean()) for name, v in values.items()}
    log.info("%s: %d of %d rows exact, %d positions: %s", model_dir, keep.sum(), len(keep), len(p), means)
    return means


def embedding_rc(emb: np.ndarray, perm: np.ndarray, kmer: np.ndarray) -> dict[str, float]:
    """Static embeddings (V, H) and the RC map: among the k-mers (kmer), the share of
    non-palindromic k-mers whose nearest neighbour by cosine (itself excluded) is their RC, its
    chance 1 / (n - 1), the mean cosine of those k-mers to their RC, and the mean cosine over all
    pairs of distinct k-mers."""
    ids = np.flatnonzero(kmer)
    unit = emb[ids] / np.linalg.norm(emb[ids], axis=1, keepdims=True)  # (n, H)
    cos = unit @ unit.T  # (n, n)
    position = np.full(len(perm), -1)
    position[ids] = np.arange(len(ids))
    rc = position[perm[ids]]  # (n,) each k-mer's RC among the k-mers
    query = rc != np.arange(len(ids))  # palindromes are their own RC
    off = cos.copy()
    np.fill_diagonal(off, -np.inf)
    n = len(ids)
    return {"nn_is_rc": float((off.argmax(axis=1) == rc)[query].mean()), "nn_is_rc_chance": 1.0 / (n - 1),
            "cosine_rc": float(cos[np.arange(n), rc][query].mean()),
            "cosine_random": float((cos.sum() - np.trace(cos)) / (n * (n - 1))), "kmers": int(query.sum())}


def rc_table(consistencies: dict[int, str], embeddings: dict[int, str], tokenizer_path, *, k: int, n_boot: int,
             level: float, seed: int) -> pd.DataFrame:
    """rc_symmetry.tsv: every statistic per member (seed) and over the members (seed "mean", with
    its Multi-Bootstrap interval; members and held-out rows drawn jointly, a row's positions
    together, for the predictions; members only for the embeddings). Long format (RC_COLUMNS)."""
    perm, kmer = read_permutation(tokenizer_path, k)
    seeds = sorted(consistencies)
    loaded = {s: dict(np.load(consistencies[s])) for s in seeds}
    first = loaded[seeds[0]]
    row_of, n_rows = first["row_of"], int(first["rows_total"])
    used = int(len(np.unique(row_of)))
    names = [f"{name}{suffix}" for name in PREDICTION_STATISTICS for suffix in ("", "_shuffled", "_gap")]
    for v in loaded.values():
        v["js_distance_gap"] = v["js_distance_shuffled"] - v["js_distance"]
        v["agreement_gap"] = v["agreement"] - v["agreement_shuffled"]
    base = {"level": level, "rows_used": used, "rows_total": n_rows}
    rows = []
    if len(row_of):
        d = bs.draws(len(seeds), n_rows, n_boot, seed)
        counts = bs.row_sums(np.ones((1, len(row_of))), row_of, n_rows)[0]
        for name in names:
            per = np.array([loaded[s][name].mean() for s in seeds])
            sums = bs.row_sums(np.stack([loaded[s][name] for s in seeds]), row_of, n_rows)  # (S, R)
            rows += [{"statistic": name, "seed": str(s), "estimate": per[i], "positions": len(row_of), **base}
                     for i, s in enumerate(seeds)]
            rows.append({"statistic": name, "seed": "mean", **bs.summarize_ci(per.mean(), bs.member_mean(
                sums, d, counts), level), "positions": len(row_of), **base})
    members = {s: embedding_rc(np.load(embeddings[s]), perm, kmer) for s in seeds}
    d = bs.draws(len(seeds), None, n_boot, seed)
    for name in EMBEDDING_STATISTICS:
        per = np.array([members[s][name] for s in seeds])
        kmers = members[seeds[0]]["kmers"]
        rows += [{"statistic": name, "seed": str(s), "estimate": per[i], "kmers": kmers, **base}
                 for i, s in enumerate(seeds)]
        rows.append({"statistic": name, "seed": "mean", **bs.summarize_ci(per.mean(), bs.member_mean(per, d), level),
                     "kmers": kmers, **base})
    log.info("RC symmetry: %d of %d held-out rows exact, %d positions", used, n_rows, len(row_of))
    counts = {name: "Int64" for name in ("n_boot", "positions", "rows_used", "rows_total", "kmers")}
    return pd.DataFrame(rows, columns=list(RC_COLUMNS)).astype(counts)


def write_rc_table(consistencies, embeddings, tokenizer_path, out, **kwargs) -> pd.DataFrame:
    df = rc_table(consistencies, embeddings, tokenizer_path, **kwargs)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", index=False)
    return df

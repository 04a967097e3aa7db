"""Reverse-complement (RC) symmetry of k-mer models, beyond the paper ("The Geometric Alignment
Tax" reports that Evo 2's RC robustness comes from composition, not from a learned symmetry).

- prediction consistency (`consistency`, of rc_predictions.rc_member's distributions): at each
  held-out masked position i of row x, the member's distribution p against its distribution at
  the mirrored position of RC(x) (reverse_complement.py), with the mirrored mask, mapped back
  through the vocabulary's RC permutation (q[v] = q_rc[rc(v)]); the Jensen-Shannon distance
  (base 2, scipy) and whether the argmaxes agree, beside the same statistics for a shuffled
  pairing (p_i against the mapped-back q of another position, a random cyclic derangement) as
  the chance level;
- static embeddings (`embedding_rc`): how often a k-mer's nearest neighbour among the k-mers
  (cosine, itself excluded) is its RC, against chance 1 / (n - 1), palindromes (their own RC)
  left out as queries; and the mean cosine of a k-mer to its RC against all pairs of k-mers.
`rc_table` gives both per member and their Multi-Bootstrap intervals (bootstrap.py: members
and held-out rows drawn jointly for the predictions, members only for the embeddings).
No torch: the stats environment runs it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits.files import atomic_path
from gfm_limits.reverse_complement import read_permutation

log = logging.getLogger(__name__)

PREDICTION_STATISTICS = ("js_distance", "agreement")  # each also "_shuffled" (chance) and "_gap" (model vs chance)
EMBEDDING_STATISTICS = ("nn_is_rc", "nn_is_rc_chance", "cosine_rc", "cosine_random")
RC_COLUMNS = ("statistic", "seed", "estimate", "ci_low", "ci_high", "n_boot", "level", "positions", "rows_used",
              "rows_total", "kmers")


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

"""Statistics of predictive distributions: entropy, divergence, disagreement.

Definitions follow the paper's analysis code (docs/paper-notes.md, Metrics), in bits:
- H(p) = -sum_v p_v log2 p_v;  KL(p || U) = log2 |V| - H(p) (the paper's v1 KL).
- KL(U || p) = sum_v (1/|V|) (log2 (1/|V|) - log2 p_v), the paper's v2 KL
  (its distribution.py: kl_divergence(uniform, distributions)), with p clamped at
  1e-10 as its kl_divergence does (unclamped it is infinite wherever p underflows
  to 0); dominated by the smallest probabilities, unlike KL(p || U).
- accuracy: argmax p == target; perplexity: exp of the mean cross-entropy in nats.
- context gain: -log2 q(target) - (-log2 p(target)) with q the unigram model of
  the training tokens, bits per masked token; > 0 where the model uses context.
- top-p truncation: sort p descending, keep tokens while the cumulative mass
  is <= top_p (the top token always kept), renormalise.
- Jensen-Shannon distance between two members' truncated distributions,
  sqrt(KL(P||M)/2 + KL(Q||M)/2) with M = (P+Q)/2, base 2
  (scipy.spatial.distance.jensenshannon), averaged over positions.
- argmax disagreement: the share of positions where two members' top tokens
  differ (the small-top_p limit of the JS distance).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.special import entr


def entropy_bits(probs: np.ndarray) -> np.ndarray:
    """H(p) in bits per row. probs: (M, V) -> (M,)."""
    return entr(probs.astype(np.float64)).sum(axis=-1) / np.log(2.0)


def kl_uniform_bits(probs: np.ndarray) -> np.ndarray:
    """KL(p || uniform over V) in bits per row: log2 V - H(p). (M, V) -> (M,)."""
    return np.log2(probs.shape[-1]) - entropy_bits(probs)


PAPER_CLAMP = 1e-10  # the paper's kl_divergence clamps both distributions at this


def kl_from_uniform_bits(probs: np.ndarray) -> np.ndarray:
    """KL(uniform over V || p) in bits per row, p clamped at PAPER_CLAMP as the paper's v2 code:
    -log2 V - mean_v log2 max(p_v, 1e-10). (M, V) -> (M,)."""
    log_p = np.log2(np.maximum(probs.astype(np.float64), PAPER_CLAMP))
    return -np.log2(probs.shape[-1]) - log_p.mean(axis=-1)


def cross_entropy_nats(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log p(target) per row, clipped at float32's tiniest positive value. (M, V), (M,) -> (M,)."""
    p = probs[np.arange(len(targets)), targets].astype(np.float64)
    return -np.log(np.maximum(p, np.finfo(np.float32).tiny))


def unigram_probs(tokens: np.ndarray, vocab_size: int, special: Sequence[int], pseudo: float = 0.5) -> np.ndarray:
    """Token frequencies of a corpus, add-`pseudo` smoothed, the special ids excluded: (V,)."""
    counts = np.bincount(tokens.ravel(), minlength=vocab_size).astype(np.float64) + pseudo
    counts[np.asarray(special, dtype=np.int64)] = 0.0
    return counts / counts.sum()


def unigram_surprisal_bits(unigram: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log2 q(target) per row under a context-free unigram model q. (V,), (M,) -> (M,)."""
    return -np.log2(unigram[targets])


def unigram_cross_entropy_bits(unigram: np.ndarray, targets: np.ndarray) -> float:
    """Mean -log2 q(target) under a context-free unigram model q: what a model learns with no context."""
    return float(unigram_surprisal_bits(unigram, targets).mean())


def context_gain_bits(probs: np.ndarray, targets: np.ndarray, unigram: np.ndarray) -> np.ndarray:
    """Bits per masked token the model saves over the unigram model q of the training tokens:
    -log2 q(target) - (-log2 p(target)). Positive: the model uses context (it has learned
    beyond the unigram plateau that every masked LM reaches first). (M, V), (M,), (V,) -> (M,)."""
    return unigram_surprisal_bits(unigram, targets) - cross_entropy_nats(probs, targets) / np.log(2.0)


def mass_up_to(probs: np.ndarray) -> np.ndarray:
    """For each token, the cumulative mass of its row's tokens ranked at or above it
    (descending, ties in index order); the row's top token gets -inf so it is always kept.
    (M, V) -> (M, V) float64. Sorting once serves every top-p."""
    probs = probs.astype(np.float64)
    order = np.argsort(-probs, axis=-1, kind="stable")  # (M, V)
    cumulative = np.cumsum(np.take_along_axis(probs, order, axis=-1), axis=-1)
    cumulative[:, 0] = -np.inf
    mass = np.empty_like(cumulative)
    np.put_along_axis(mass, order, cumulative, axis=-1)
    return mass


def truncate_top_p(probs: np.ndarray, top_p: float, mass: np.ndarray | None = None) -> np.ndarray:
    """Keep each row's most likely tokens while cumulative mass <= top_p (top one always); renormalise.
    `mass` is mass_up_to(probs), when already computed."""
    mass = mass_up_to(probs) if mass is None else mass
    kept = np.where(mass <= top_p, probs.astype(np.float64), 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)


def js_distance(p: np.ndarray, q: np.ndarray, top_p: float | None = None) -> np.ndarray:
    """Jensen-Shannon distance (base 2) per position, after top-p truncation when top_p is given.

    (M, V) x2 -> (M,). Like the paper, top_p = 1.0 still truncates: a tail whose
    cumulative sum rounds above 1 is dropped (a negligible mass in float64).
    """
    if top_p is not None:
        p, q = truncate_top_p(p, top_p), truncate_top_p(q, top_p)
    return jensenshannon(p.astype(np.float64), q.astype(np.float64), base=2, axis=-1)


def js_distance_top_p(p: np.ndarray, q: np.ndarray, top_ps) -> dict[float, np.ndarray]:
    """js_distance(p, q, top_p) for every top_p, sorting each distribution once."""
    mass_p, mass_q = mass_up_to(p), mass_up_to(q)
    return {top_p: jensenshannon(truncate_top_p(p, top_p, mass_p), truncate_top_p(q, top_p, mass_q), base=2, axis=-1)
            for top_p in top_ps}


def disagreement(p: np.ndarray, q: np.ndarray) -> float:
    """Share of positions whose argmax differs between two members."""
    return float((p.argmax(axis=-1) != q.argmax(axis=-1)).mean())


def mean_sorted_distribution(probs: np.ndarray) -> np.ndarray:
    """Each row sorted in descending order, averaged over rows: (M, V) -> (V,)."""
    return -np.sort(-probs, axis=-1).mean(axis=0)

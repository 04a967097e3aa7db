"""Consistency of static embeddings between two ensemble members.

The static embedding of a token is its row of word_embeddings.weight (tied to
the decoder). For two members A and B over the same vocabulary
(notes/paper.md, Metrics):
- top-k overlap: the Jaccard index of each token's k nearest neighbours by
  cosine similarity (self excluded) in A and in B, averaged over tokens;
- Spearman: for each token, scipy.stats.spearmanr between its cosine
  similarities to all other tokens in A and in B, averaged over tokens (the
  correct, global version of the paper's "local Spearman");
- Procrustes disparity: scipy.spatial.procrustes on the full (V, H) matrices.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import procrustes
from scipy.stats import spearmanr


def cosine_similarity(emb: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair of rows. (V, H) -> (V, V) float64."""
    unit = emb.astype(np.float64)
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    return unit @ unit.T


def nearest_neighbours(cos: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's k most similar other rows, most similar first. (V, V) -> (V, k)."""
    sim = cos.copy()
    np.fill_diagonal(sim, -np.inf)
    top = np.argpartition(-sim, kth=k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sim, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def topk_jaccard(cos_a: np.ndarray, cos_b: np.ndarray, ks: list[int]) -> dict[int, float]:
    """Mean Jaccard overlap of the k-nearest-neighbour sets for every k in ks."""
    k_max = max(ks)
    nn_a, nn_b = nearest_neighbours(cos_a, k_max), nearest_neighbours(cos_b, k_max)
    result = {}
    for k in ks:
        overlaps = [len(set(a[:k]) & set(b[:k])) for a, b in zip(nn_a, nn_b)]
        inter = np.asarray(overlaps, dtype=np.float64)
        result[k] = float((inter / (2 * k - inter)).mean())
    return result


def spearman_similarity(cos_a: np.ndarray, cos_b: np.ndarray) -> float:
    """Mean over tokens of Spearman's rho between their similarity rows in A and B (self excluded)."""
    n = len(cos_a)
    off = ~np.eye(n, dtype=bool)
    rhos = [spearmanr(cos_a[i, off[i]], cos_b[i, off[i]]).statistic for i in range(n)]
    return float(np.nanmean(rhos))


def procrustes_disparity(emb_a: np.ndarray, emb_b: np.ndarray) -> float:
    """scipy.spatial.procrustes disparity of the two (V, H) matrices."""
    return float(procrustes(emb_a.astype(np.float64), emb_b.astype(np.float64))[2])

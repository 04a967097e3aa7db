"""Consistency of static embeddings between two ensemble members.

The static embedding of a token is its row of word_embeddings.weight (tied to
the decoder). For two members A and B over the same vocabulary
(docs/paper-notes.md, Static embeddings):
- top-k overlap: the Jaccard index of each token's k nearest neighbours by
  cosine similarity (self excluded) in A and in B, averaged over tokens;
- Spearman: for each token, scipy.stats.spearmanr between its cosine
  similarities to all other tokens in A and in B, averaged over tokens;
- local Spearman at k, two versions: `local_spearman_paper` as lbcb-sci/GFMs
  computes it (Spearman over A's k nearest neighbours; its "from B" half
  re-selects B's top k among A's neighbours, which only permutes them, so it
  repeats the A half; ranks without tie averaging; 0 at k = 1), and
  `local_spearman`, the symmetric version it intended (the mean of the
  Spearman over A's k neighbours and over B's, each selected from the full
  similarity rows, with scipy's average ranks);
- Procrustes, both as the paper's code reports them (static.py): the disparity of
  scipy.spatial.procrustes on the full (V, H) matrices (1 - the squared sum of the
  singular values of A'B, both centred and scaled to unit norm), and the Procrustes
  cosine: the mean over tokens of the cosine similarity between a token's row of A and
  its row of B aligned to A (the two standardised matrices scipy returns; rows
  normalised as torch's F.normalize, norms floored at 1e-12);
- CKA (the paper's v2; Kornblith et al. 2019, "Similarity of Neural Network
  Representations Revisited", eq. 4-5): CKA(K, L) = HSIC(K, L) /
  sqrt(HSIC(K, K) HSIC(L, L)) with HSIC(K, L) = tr(K H L H) / (n-1)^2, H the
  centring matrix, over the same n items (tokens for static embeddings, masked
  positions or held-out rows for contextual ones). Linear: K = X X^T, computed in feature
  space as ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) after centring the columns. RBF:
  K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)), the bandwidth (stats.cka_bandwidth) either
  - `ckatorch` (the default, the paper's: its v2 metrics.py calls ckatorch's cka_base with
    the default threshold t = 1.0): sigma^2 = t^2 x the median of the squared distances
    over all n^2 ordered pairs, each item with itself included, as torch.median takes it
    (the lower of the two middle values), squared distances as ckatorch computes them
    (|x_i|^2 + |x_j|^2 - 2 x_i.x_j, not clipped at 0), t = stats.cka_sigma;
  - `median_distance`: sigma = stats.cka_sigma x the median distance between distinct
    items (the usual median heuristic; this pipeline's earlier default, with 0.5).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import procrustes
from scipy.stats import rankdata


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


def jaccard(nn_a: np.ndarray, nn_b: np.ndarray) -> float:
    """Mean Jaccard overlap of two members' neighbour sets. (V, k) x2 -> float."""
    k = nn_a.shape[1]
    inter = np.asarray([len(set(a) & set(b)) for a, b in zip(nn_a, nn_b)], dtype=np.float64)
    return float((inter / (2 * k - inter)).mean())


def topk_jaccard(cos_a: np.ndarray, cos_b: np.ndarray, ks: list[int]) -> dict[int, float]:
    """Mean Jaccard overlap of the k-nearest-neighbour sets for every k in ks."""
    nn_a, nn_b = nearest_neighbours(cos_a, max(ks)), nearest_neighbours(cos_b, max(ks))
    return {k: jaccard(nn_a[:, :k], nn_b[:, :k]) for k in ks}


def similarity_ranks(cos: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Each token's similarity row as scipy's average ranks (self excluded), centred and scaled to
    unit norm: (V, V - 1) float64, a constant row all zeros. Computed once per member, so that
    spearman_similarity of many pairs ranks each member once."""
    n = len(cos)
    out = np.empty((n, n - 1))
    for start in range(0, n, chunk):  # ranks of whole blocks of rows at once
        rows = np.arange(start, min(start + chunk, n))
        keep = np.arange(n)[None, :] != rows[:, None]  # (r, n): self excluded
        ranks = rankdata(cos[rows][keep].reshape(len(rows), n - 1), axis=1)
        ranks -= ranks.mean(axis=1, keepdims=True)
        norm = np.sqrt((ranks * ranks).sum(axis=1, keepdims=True))
        out[rows] = np.divide(ranks, norm, out=np.zeros_like(ranks), where=norm > 0)
    return out


def spearman_from_ranks(ranks_a: np.ndarray, ranks_b: np.ndarray) -> float:
    """Mean over tokens of Spearman's rho from two members' similarity_ranks; a token whose row
    is constant in either is left out (scipy's NaN)."""
    rho = np.einsum("ij,ij->i", ranks_a, ranks_b)
    defined = ranks_a.any(axis=1) & ranks_b.any(axis=1)
    return float(rho[defined].mean()) if defined.any() else float("nan")


def spearman_similarity(cos_a: np.ndarray, cos_b: np.ndarray, chunk: int = 256) -> float:
    """Mean over tokens of Spearman's rho between their similarity rows in A and B (self excluded;
    scipy.stats.spearmanr per row, computed as the Pearson correlation of average ranks)."""
    return spearman_from_ranks(similarity_ranks(cos_a, chunk), similarity_ranks(cos_b, chunk))


def _row_pearson(x: np.ndarray, y: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """Pearson correlation of each row pair. (V, k) x2 -> (V,)."""
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    return (x * y).sum(axis=1) / (np.sqrt((x**2).sum(axis=1) * (y**2).sum(axis=1)) + eps)


def _argsort_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..k along rows by argsort, ties broken by position (the paper's rankdata)."""
    ranks = np.empty_like(x)
    np.put_along_axis(ranks, np.argsort(x, axis=1, kind="stable"), np.arange(1, x.shape[1] + 1, dtype=x.dtype)[None],
                      axis=1)
    return ranks


def local_spearman_paper(cos_a: np.ndarray, cos_b: np.ndarray, nn_a: np.ndarray) -> float:
    """The paper's local Spearman, bug included (module docstring). nn_a: (V, k) from nearest_neighbours(cos_a, k)."""
    rows = np.arange(len(cos_a))[:, None]
    a, b = cos_a[rows, nn_a], cos_b[rows, nn_a]  # (V, k): both narrowed to A's neighbours
    halves = [_row_pearson(_argsort_ranks(a), _argsort_ranks(b), eps=1e-8).mean()]
    top = np.argsort(-b, axis=1, kind="stable")  # the "from B" half, within A's neighbours: a permutation
    a, b = np.take_along_axis(a, top, axis=1), np.take_along_axis(b, top, axis=1)
    halves.append(_row_pearson(_argsort_ranks(a), _argsort_ranks(b), eps=1e-8).mean())
    return float(np.mean(halves))


def local_spearman(cos_a: np.ndarray, cos_b: np.ndarray, nn_a: np.ndarray, nn_b: np.ndarray) -> float:
    """Symmetric local Spearman: mean over tokens and over both members' own k neighbourhoods (k >= 2)."""
    rows = np.arange(len(cos_a))[:, None]
    halves = [np.nanmean(_row_pearson(rankdata(cos_a[rows, nn], axis=1), rankdata(cos_b[rows, nn], axis=1)))
              for nn in (nn_a, nn_b)]
    return float(np.mean(halves))


def procrustes_fit(emb_a: np.ndarray, emb_b: np.ndarray) -> tuple[float, float]:
    """(disparity, cosine) of scipy.spatial.procrustes on the two (V, H) matrices: its disparity,
    and the mean over rows of the cosine between A's row and B's aligned row (the paper's
    procrustes_cosine), from one fit."""
    std_a, aligned_b, disparity = procrustes(emb_a.astype(np.float64), emb_b.astype(np.float64))
    unit_a = std_a / np.maximum(np.linalg.norm(std_a, axis=1, keepdims=True), 1e-12)
    unit_b = aligned_b / np.maximum(np.linalg.norm(aligned_b, axis=1, keepdims=True), 1e-12)
    return float(disparity), float(np.einsum("ij,ij->i", unit_a, unit_b).mean())


def procrustes_disparity(emb_a: np.ndarray, emb_b: np.ndarray) -> float:
    """scipy.spatial.procrustes disparity of the two (V, H) matrices."""
    return procrustes_fit(emb_a, emb_b)[0]


def procrustes_cosine(emb_a: np.ndarray, emb_b: np.ndarray) -> float:
    """The paper's Procrustes cosine: mean cosine between A's rows and B's rows aligned to A."""
    return procrustes_fit(emb_a, emb_b)[1]


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two representations of the same n items. (n, d1), (n, d2) -> [0, 1]."""
    x = x.astype(np.float64) - x.mean(axis=0)
    y = y.astype(np.float64) - y.mean(axis=0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


BANDWIDTHS = ("ckatorch", "median_distance")  # stats.cka_bandwidth, module docstring


def _rbf_kernel(x: np.ndarray, sigma_fraction: float, bandwidth: str) -> np.ndarray:
    x = x.astype(np.float64)
    if bandwidth == "ckatorch":  # ckatorch.utils.rbf_kernel, step by step
        dot = x @ x.T
        sq = np.diag(dot)
        d2 = -2 * dot + sq[:, None] + sq[None, :]  # (n, n), not clipped
        flat = d2.ravel()
        lower_median = np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2]  # torch.median
        return np.exp(-d2 / (2 * sigma_fraction**2 * lower_median))
    if bandwidth != "median_distance":
        raise ValueError(f"RBF bandwidth must be one of {BANDWIDTHS}, got {bandwidth!r}")
    sq = np.sum(x**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)  # (n, n) squared distances
    np.fill_diagonal(d2, 0.0)
    median = np.median(np.sqrt(d2[np.triu_indices(len(x), k=1)]))
    sigma = sigma_fraction * median
    return np.exp(-d2 / (2 * sigma**2))


def _centred(k: np.ndarray) -> np.ndarray:
    return k - k.mean(axis=0, keepdims=True) - k.mean(axis=1, keepdims=True) + k.mean()


def rbf_cka(x: np.ndarray, y: np.ndarray, sigma_fraction: float = 1.0, bandwidth: str = "ckatorch") -> float:
    """RBF-kernel CKA of two representations of the same n items, (n, d1), (n, d2) -> [0, 1]; the
    defaults are ckatorch's cka_base(kernel="rbf") as the paper calls it (module docstring)."""
    kc = _centred(_rbf_kernel(x, sigma_fraction, bandwidth))
    lc = _centred(_rbf_kernel(y, sigma_fraction, bandwidth))
    return float(np.sum(kc * lc) / np.sqrt(np.sum(kc * kc) * np.sum(lc * lc)))


def _unbiased_hsic_linear(x: np.ndarray, y: np.ndarray) -> float:
    """Song et al. (2012) unbiased HSIC of the linear kernels K = x x^T, L = y y^T with their
    diagonals set to 0 (K~, L~), from the features without forming (n, n) matrices:
    [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))."""
    n = len(x)
    kd, ld = np.sum(x**2, axis=1), np.sum(y**2, axis=1)  # (n,) the kernels' diagonals
    trace = np.linalg.norm(x.T @ y) ** 2 - kd @ ld  # sum over i != j of K_ij L_ij
    k1, l1 = x @ x.sum(axis=0) - kd, y @ y.sum(axis=0) - ld  # (n,) K~ 1, L~ 1
    return float((trace + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2 * (k1 @ l1) / (n - 2)) / (n * (n - 3)))


def debiased_linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Debiased linear CKA (Kornblith et al. 2019, Nguyen et al. 2021): CKA with the unbiased
    HSIC estimator of Song et al. (2012) in place of tr(K H L H) / (n-1)^2, whose bias grows
    with d / n (the plain estimate of two independent random matrices is far from 0 when d is
    not small against n). Features centred first, as Kornblith's code. (n, d1), (n, d2), n > 3
    -> about [-1, 1]; about 0 for independent representations."""
    if len(x) < 4:
        raise ValueError(f"the unbiased HSIC needs at least 4 items, got {len(x)}")
    x = x.astype(np.float64) - x.mean(axis=0)
    y = y.astype(np.float64) - y.mean(axis=0)
    xy, xx, yy = _unbiased_hsic_linear(x, y), _unbiased_hsic_linear(x, x), _unbiased_hsic_linear(y, y)
    return float(xy / np.sqrt(xx * yy))

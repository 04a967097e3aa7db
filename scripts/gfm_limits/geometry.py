"""Geometry of the contextual embeddings per layer (beyond the paper; the paper's v2 code,
lbcb-sci/GFMs 277899c src/analyze/embeddings/embeddings.py, has these on mean-pooled vectors).

For the hidden states at the masked positions after the embedding LayerNorm (layer 0) and after
each encoder layer (1..L), X (n, d), of one member:
- effective_rank: exp of the Shannon entropy of the normalised singular values s / sum(s) of
  the centred X (Roy & Vetterli 2007; as the v2 code): 1 for one direction, d for isotropic;
- anisotropy: the mean cosine similarity over pairs i < j of distinct rows (Ethayarajh 2019;
  the v2 code's `avg_cosine_sim`; its `anisotropy` is the norm of the mean unit vector);
- uniformity: log mean over pairs i < j of exp(-2 ||u_i - u_j||^2), u the rows normalised to
  unit length (Wang & Isola 2020, t = 2): -4 is the floor of antipodal pairs, 0 identical ones;
- participation_ratio: (sum lambda)^2 / sum lambda^2 of the eigenvalues of the covariance of X
  (the v2 code's `layerwise_PR`): d for isotropic, 1 for one direction.

`predictions.layer_states` (extract rule) collects the states; `geometry_table` (stats rule) writes
geometry.tsv: layer x seed x statistic, with the number of positions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STATISTICS = ("effective_rank", "anisotropy", "uniformity", "participation_ratio")


def effective_rank(x: np.ndarray) -> float:
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)  # (min(n, d),)
    p = s[s > 0] / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def anisotropy(x: np.ndarray) -> float:
    u = _unit(x)
    n, total = len(u), u.sum(axis=0)
    return float((total @ total - np.sum(u * u)) / (n * (n - 1)))  # sum over i != j of u_i . u_j


def uniformity(x: np.ndarray) -> float:
    u = _unit(x)
    sq = np.maximum(2.0 - 2.0 * (u @ u.T), 0.0)[np.triu_indices(len(u), k=1)]  # ||u_i - u_j||^2, i < j
    return float(np.log(np.mean(np.exp(-2.0 * sq))))


def participation_ratio(x: np.ndarray) -> float:
    lam = np.linalg.eigvalsh(np.cov(x, rowvar=False))  # (d,)
    lam = np.maximum(lam, 0.0)
    return float(lam.sum() ** 2 / np.sum(lam**2))


def statistics(x: np.ndarray) -> dict[str, float]:
    x = x.astype(np.float64)
    return {"effective_rank": effective_rank(x), "anisotropy": anisotropy(x), "uniformity": uniformity(x),
            "participation_ratio": participation_ratio(x)}


def geometry_table(layers: dict[int, np.ndarray]) -> pd.DataFrame:
    """geometry.tsv from each member's layer states (seed -> (L + 1, n, d), layers.npy)."""
    rows = []
    for seed, states in sorted(layers.items()):
        if states.shape[1] < 3:  # no positions kept (extract.contextual_positions 0)
            continue
        for layer, x in enumerate(states):
            rows += [{"layer": layer, "seed": seed, "statistic": name, "value": value, "items": len(x)}
                     for name, value in statistics(x).items()]
    return pd.DataFrame(rows, columns=["layer", "seed", "statistic", "value", "items"])

"""Confidence intervals by the Multi-Bootstrap over ensemble members and examples.

Follows Sellam et al., "The MultiBERTs: BERT Reproductions for Robustness
Analysis" (ICLR 2022), Section 3 and Appendix: each bootstrap replicate
resamples the ensemble members (seeds) with replacement AND the evaluation
examples with replacement, jointly; the statistic is recomputed on the
replicate; the interval is the percentile interval of the replicates.

Here every member of a condition is evaluated on the same examples (the shared
masked positions), so the design is paired: one example draw per replicate is
shared by all drawn members. Statistics without examples to resample (over the
vocabulary, or the paper's mini-batch Fisher) resample the members only.

Replicate statistics, for a replicate with drawn members m_1..m_S and drawn
examples e_1..e_N:
- member_mean:  (1/S) sum_s (1/N) sum_n x[m_s, e_n];
- member_ratio: (1/S) sum_s sum_n num[m_s, e_n] / sum_n den[m_s, e_n];
- pair_mean:    the mean, over positions a < b with m_a != m_b, of
  (1/N) sum_n v[(min, max)(m_a, m_b)][e_n] (pairs of the same member would
  compare a model with itself and are left out; NaN when no pair is left).

Conditions use independent draws (a different `seed` argument each), so the
replicates of a difference between conditions are the differences of their
replicate arrays (`difference_holds`). A claim holds when the whole two-sided
percentile interval lies on its side (of 0, or of a threshold): at level 0.95
a one-sided test at 2.5%.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

# elements of one (chunk of replicates x examples) block, bounding the memory of
# the example counts to ~8 bytes x this per array
_BLOCK = 4_000_000
_DIRECTIONS = ("greater", "less")


@dataclass(frozen=True)
class Draws:
    """Bootstrap draws: member indices (B, S) and example indices (B, N) or None."""

    seeds: np.ndarray  # (B, S) ints in [0, S)
    examples: np.ndarray | None  # (B, N) ints in [0, N), or None: members only

    def __post_init__(self) -> None:
        if self.seeds.ndim != 2 or self.seeds.shape[1] == 0:
            raise ValueError(f"seed draws must be (B, S) with S >= 1, got {self.seeds.shape}")
        _check_indices(self.seeds, "seed")
        if self.examples is not None:
            if self.examples.ndim != 2 or self.examples.shape[0] != self.seeds.shape[0]:
                raise ValueError(f"example draws must be (B={self.seeds.shape[0]}, N), "
                                 f"got {self.examples.shape}")
            _check_indices(self.examples, "example")

    @property
    def n_boot(self) -> int:
        return self.seeds.shape[0]

    @property
    def n_seeds(self) -> int:
        return self.seeds.shape[1]

    @property
    def n_examples(self) -> int | None:
        return None if self.examples is None else self.examples.shape[1]


def _check_indices(index: np.ndarray, what: str) -> None:
    if not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"{what} draws must be integers, got {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= index.shape[1]):
        raise ValueError(f"{what} draws must lie in [0, {index.shape[1]})")


def draws(n_seeds: int, n_examples: int | None, n_boot: int, seed: int) -> Draws:
    """Joint draws of members and examples with replacement (examples None: members only).
    Memory: 4 * n_boot * n_examples bytes for the example indices."""
    if n_seeds < 1 or n_boot < 1 or (n_examples is not None and n_examples < 1):
        raise ValueError(f"need n_seeds, n_boot, n_examples >= 1, got {n_seeds}, {n_boot}, {n_examples}")
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, n_seeds, size=(n_boot, n_seeds))  # (B, S)
    if n_examples is None:
        return Draws(seeds, None)
    dtype = np.int32 if n_examples < 2**31 else np.int64
    return Draws(seeds, rng.integers(0, n_examples, size=(n_boot, n_examples), dtype=dtype))  # (B, N)


def _example_means(values: np.ndarray, d: Draws) -> np.ndarray:
    """Mean of each row of values (K, N) over each replicate's drawn examples: (B, K).
    Without example draws values is (K,) and is repeated for every replicate."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite")
    if d.examples is None:
        if values.ndim != 1:
            raise ValueError(f"draws without examples need values (K,), got {values.shape}")
        return np.broadcast_to(values, (d.n_boot, values.shape[0]))
    n = d.n_examples
    if values.ndim != 2 or values.shape[1] != n:
        raise ValueError(f"values must be (K, N={n}), got {values.shape}")
    # multiplicity of each example in a replicate, then one matrix product; avoids
    # gathering a (B, K, N) array
    chunk = max(1, _BLOCK // n)
    out = np.empty((d.n_boot, values.shape[0]))
    for start in range(0, d.n_boot, chunk):
        idx = d.examples[start:start + chunk]  # (c, N)
        c = idx.shape[0]
        flat = (idx + (np.arange(c, dtype=np.int64) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=c * n).reshape(c, n)  # (c, N)
        out[start:start + c] = counts @ values.T / n  # (c, K)
    return out


def _check_members(values: np.ndarray, d: Draws, name: str) -> None:
    if np.shape(values)[:1] != (d.n_seeds,):
        raise ValueError(f"{name} must have one row per member (S={d.n_seeds}), got {np.shape(values)}")


def member_mean(values: np.ndarray, d: Draws) -> np.ndarray:
    """Replicates (B,) of the mean over members of the mean over examples.
    values: (S, N) per member per example, or (S,) when d has no examples."""
    _check_members(values, d, "values")
    means = _example_means(values, d)  # (B, S) per member
    return np.take_along_axis(means, d.seeds, axis=1).mean(axis=1)


def member_ratio(numerator: np.ndarray, denominator: np.ndarray, d: Draws) -> np.ndarray:
    """Replicates (B,) of the mean over drawn members of sum(num) / sum(den) over the
    drawn examples (e.g. a Fisher share). Shapes (S, N), or (S,) without examples.
    A zero denominator sum gives NaN for that replicate."""
    _check_members(numerator, d, "numerator")
    if np.shape(numerator) != np.shape(denominator):
        raise ValueError(f"numerator {np.shape(numerator)} and denominator {np.shape(denominator)} differ")
    num = np.take_along_axis(_example_means(numerator, d), d.seeds, axis=1)  # (B, S)
    den = np.take_along_axis(_example_means(denominator, d), d.seeds, axis=1)  # (B, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den != 0, num / den, np.nan)  # means: the 1/N cancels
    return ratio.mean(axis=1)


def pair_mean(values: dict[tuple[int, int], np.ndarray], d: Draws) -> np.ndarray:
    """Replicates (B,) of a pairwise statistic: mean over pairs of drawn positions with
    different members of values[(i, j)] (i < j) averaged over the drawn examples.
    values[(i, j)]: (N,) per example, or a scalar without example draws.
    NaN for replicates that drew one member only."""
    pairs = [(i, j) for i in range(d.n_seeds) for j in range(i + 1, d.n_seeds)]
    if set(values) != set(pairs):
        raise ValueError(f"values must hold exactly the pairs i < j of {d.n_seeds} members; "
                         f"missing {sorted(set(pairs) - set(values))}, "
                         f"unexpected {sorted(set(values) - set(pairs), key=str)}")
    if not pairs:
        return np.full(d.n_boot, np.nan)
    stacked = np.stack([np.asarray(values[p], dtype=np.float64) for p in pairs])  # (P, N) or (P,)
    per_pair = _example_means(stacked, d)  # (B, P)
    # member multiplicities c; the drawn positions hold c_i * c_j pairs of members (i, j)
    offsets = np.arange(d.n_boot)[:, None] * d.n_seeds
    counts = np.bincount((d.seeds + offsets).ravel(), minlength=d.n_boot * d.n_seeds)
    counts = counts.reshape(d.n_boot, d.n_seeds).astype(np.float64)  # (B, S)
    first, second = np.array(pairs).T  # (P,), (P,)
    weights = counts[:, first] * counts[:, second]  # (B, P)
    total = weights.sum(axis=1)  # (B,)
    with np.errstate(invalid="ignore"):
        return np.where(total > 0, (weights * per_pair).sum(axis=1) / total, np.nan)


def _valid(replicates: np.ndarray) -> np.ndarray:
    replicates = np.asarray(replicates, dtype=np.float64).ravel()
    valid = replicates[~np.isnan(replicates)]
    if valid.size == 0:
        raise ValueError("no valid (non-NaN) bootstrap replicate")
    if valid.size < replicates.size:
        log.warning("bootstrap: dropped %d of %d replicates that are NaN",
                    replicates.size - valid.size, replicates.size)
    return valid


def interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval (numpy's linear interpolation) of the non-NaN replicates."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(_valid(replicates), [tail, 100 - tail])
    return float(low), float(high)


def summarize_ci(point: float, replicates: np.ndarray, level: float = 0.95) -> dict:
    """Point estimate (from the original data) with its percentile interval."""
    low, high = interval(replicates, level)
    n_valid = int(np.count_nonzero(~np.isnan(np.asarray(replicates, dtype=np.float64))))
    return {"estimate": float(point), "ci_low": low, "ci_high": high, "n_boot": n_valid}


def _holds(low: float, high: float, reference: float, direction: str) -> bool:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    return bool(low > reference) if direction == "greater" else bool(high < reference)


def difference_holds(rep_a: np.ndarray, rep_b: np.ndarray, direction: str, level: float = 0.95) -> dict:
    """Claim "a > b" (direction "greater") or "a < b" ("less") from independent replicate
    arrays (B,) of two conditions: holds when the interval of a - b excludes 0 on that side."""
    rep_a, rep_b = np.asarray(rep_a, dtype=np.float64), np.asarray(rep_b, dtype=np.float64)
    if rep_a.shape != rep_b.shape or rep_a.ndim != 1:
        raise ValueError(f"replicate arrays must be (B,) of one length, got {rep_a.shape}, {rep_b.shape}")
    diff = rep_a - rep_b  # (B,)
    low, high = interval(diff, level)
    return {"replicates": diff, "ci_low": low, "ci_high": high,
            "n_boot": int(np.count_nonzero(~np.isnan(diff))), "holds": _holds(low, high, 0.0, direction)}


def threshold_holds(rep: np.ndarray, threshold: float, direction: str, level: float = 0.95) -> dict:
    """Claim "statistic > threshold" ("greater") or "< threshold" ("less"): holds when the
    interval of the replicates lies wholly on that side of the threshold."""
    low, high = interval(rep, level)
    return {"ci_low": low, "ci_high": high,
            "n_boot": int(np.count_nonzero(~np.isnan(np.asarray(rep, dtype=np.float64)))),
            "holds": _holds(low, high, float(threshold), direction)}

"""Confidence intervals by the Multi-Bootstrap over ensemble members and held-out rows.

Follows Sellam et al., "The MultiBERTs: BERT Reproductions for Robustness
Analysis" (ICLR 2022), Section 3 and Appendix: each bootstrap replicate
resamples the ensemble members (seeds) with replacement AND the evaluation
examples with replacement, jointly; the statistic is recomputed on the
replicate; the interval is the percentile interval of the replicates. The
interval targets the population mean over new members and new examples.

Here an example is a held-out row (a cluster): the masked positions of one row
share its context and are correlated, so positions are resampled by their row,
never one by one (resampling correlated positions as if independent makes the
interval too narrow: tests/test_coverage.py, bench/coverage.py). Every member
of a condition is evaluated on the same rows, so the design is paired: one row
draw per replicate is shared by all drawn members. Statistics without examples
to resample (over the vocabulary, or the paper's mini-batch Fisher) resample
the members only.

The values a replicate resamples are one per unit (`Draws.examples` indexes the
units): per held-out row, either a statistic's sum over the row's masked
positions (`row_sums`) with the row's position count beside it (`counts`), or a
row's own value (the per-example Fisher). For a replicate with drawn members
m_1..m_S and drawn rows r_1..r_N, a row drawn twice counted twice:
- member_mean:  (1/S) sum_s [sum_n x[m_s, r_n] / sum_n c[r_n]], x the row sums and
  c the position counts: the mean over all masked positions of the drawn rows (a
  ratio of sums); without counts each unit counts once, (1/N) sum_n x[m_s, r_n];
- member_ratio: (1/S) sum_s sum_n num[m_s, r_n] / sum_n den[m_s, r_n];
- pair_mean:    the mean, over positions a < b with m_a != m_b, of
  sum_n v[(min, max)(m_a, m_b)][r_n] / sum_n c[r_n] (pairs of the same member would
  compare a model with itself and are left out; NaN when no pair is left).
Memory: the draws are (B, R) row indices and the values (S, R) row sums, never
(B, M) over masked positions. Drawing positions instead of rows (`draws` over M
units, member_mean without counts) is the position-independent bootstrap, kept
only to show that it under-covers.

Conditions use independent draws (a different `seed` argument each), so the
replicates of a difference between conditions are the differences of their
replicate arrays (`difference_holds`). A claim holds when the whole two-sided
percentile interval lies on its side (of 0, or of a threshold): at level 0.95
a one-sided test at 2.5%. Beside it, `sign_p_value` is the bootstrap's
two-sided sign probability of the difference, as MultiBERTs reports: p =
2 min(P(diff <= 0), P(diff >= 0)) over the replicates, clipped to [1/B, 1].
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
    """Bootstrap draws: member indices (B, S) and example (unit) indices (B, N) or None; the
    units are held-out rows in the pipeline (positions for the position-independent bootstrap)."""

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


def row_sums(values: np.ndarray, row_of: np.ndarray, n_rows: int) -> np.ndarray:
    """Sums (K, R) of values (K, M) over the masked positions of each held-out row; row_of (M,)
    is each position's row in [0, n_rows) (np.nonzero(predict)[0] of the (R, T) mask). The
    position counts per row are row_sums(np.ones((1, M)), ...)[0]."""
    values = np.asarray(values, dtype=np.float64)
    row_of = np.asarray(row_of)
    if values.ndim != 2 or row_of.shape != values.shape[1:]:
        raise ValueError(f"values must be (K, M) and row_of (M,), got {values.shape} and {row_of.shape}")
    if row_of.size and (row_of.min() < 0 or row_of.max() >= n_rows):
        raise ValueError(f"row_of must lie in [0, {n_rows})")
    flat = (row_of[None, :] + np.arange(values.shape[0])[:, None] * n_rows).ravel()  # (K * M,)
    return np.bincount(flat, weights=values.ravel(), minlength=values.shape[0] * n_rows).reshape(-1, n_rows)


def _drawn_sums(values: np.ndarray, d: Draws) -> np.ndarray:
    """Sum of each row of values (K, N) over each replicate's drawn units, a unit drawn twice
    counted twice: (B, K)."""
    n = d.n_examples
    # multiplicity of each unit in a replicate, then one matrix product; avoids gathering a
    # (B, K, N) array
    chunk = max(1, _BLOCK // n)
    out = np.empty((d.n_boot, values.shape[0]))
    for start in range(0, d.n_boot, chunk):
        idx = d.examples[start:start + chunk]  # (c, N)
        c = idx.shape[0]
        flat = (idx + (np.arange(c, dtype=np.int64) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=c * n).reshape(c, n)  # (c, N)
        out[start:start + c] = counts @ values.T  # (c, K)
    return out


def _unit_means(values: np.ndarray, d: Draws, counts: np.ndarray | None = None) -> np.ndarray:
    """Per row of values (K, N), each replicate's sum over its drawn units divided by the drawn
    units' counts (N,) summed, or by N without counts: (B, K); NaN where the drawn counts sum
    to 0. Without unit draws values is (K,) and is repeated for every replicate."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite")
    if d.examples is None:
        if values.ndim != 1 or counts is not None:
            raise ValueError(f"draws without examples need values (K,) and no counts, got {values.shape}")
        return np.broadcast_to(values, (d.n_boot, values.shape[0]))
    n = d.n_examples
    if values.ndim != 2 or values.shape[1] != n:
        raise ValueError(f"values must be (K, N={n}), got {values.shape}")
    if counts is None:
        return _drawn_sums(values, d) / n
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (n,) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"counts must be (N={n},), finite and >= 0, got {counts.shape}")
    sums = _drawn_sums(np.vstack([values, counts[None, :]]), d)  # (B, K + 1): the counts last
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[:, -1:] > 0, sums[:, :-1] / sums[:, -1:], np.nan)


def _check_members(values: np.ndarray, d: Draws, name: str) -> None:
    if np.shape(values)[:1] != (d.n_seeds,):
        raise ValueError(f"{name} must have one row per member (S={d.n_seeds}), got {np.shape(values)}")


def member_mean(values: np.ndarray, d: Draws, counts: np.ndarray | None = None) -> np.ndarray:
    """Replicates (B,) of the mean over members of the mean over the drawn units.
    values: (S, N) per member per unit, or (S,) when d has no examples. With counts (N,), values
    are sums over each unit's positions (row_sums) and a member's mean is sum(values) / sum(counts)
    over the drawn units: the mean over all positions of the drawn rows."""
    _check_members(values, d, "values")
    means = _unit_means(values, d, counts)  # (B, S) per member
    return np.take_along_axis(means, d.seeds, axis=1).mean(axis=1)


def member_ratio(numerator: np.ndarray, denominator: np.ndarray, d: Draws) -> np.ndarray:
    """Replicates (B,) of the mean over drawn members of sum(num) / sum(den) over the
    drawn examples (e.g. a Fisher share). Shapes (S, N), or (S,) without examples.
    A zero denominator sum gives NaN for that replicate."""
    _check_members(numerator, d, "numerator")
    if np.shape(numerator) != np.shape(denominator):
        raise ValueError(f"numerator {np.shape(numerator)} and denominator {np.shape(denominator)} differ")
    num = np.take_along_axis(_unit_means(numerator, d), d.seeds, axis=1)  # (B, S)
    den = np.take_along_axis(_unit_means(denominator, d), d.seeds, axis=1)  # (B, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den != 0, num / den, np.nan)  # means: the 1/N cancels
    return ratio.mean(axis=1)


def pair_mean(values: dict[tuple[int, int], np.ndarray], d: Draws, counts: np.ndarray | None = None) -> np.ndarray:
    """Replicates (B,) of a pairwise statistic: mean over pairs of drawn positions with
    different members of values[(i, j)] (i < j) averaged over the drawn units.
    values[(i, j)]: (N,) per unit, or a scalar without example draws; with counts (N,), sums
    over each unit's positions, averaged as member_mean does.
    NaN for replicates that drew one member only."""
    pairs = [(i, j) for i in range(d.n_seeds) for j in range(i + 1, d.n_seeds)]
    if set(values) != set(pairs):
        raise ValueError(f"values must hold exactly the pairs i < j of {d.n_seeds} members; "
                         f"missing {sorted(set(pairs) - set(values))}, "
                         f"unexpected {sorted(set(values) - set(pairs), key=str)}")
    if not pairs:
        return np.full(d.n_boot, np.nan)
    stacked = np.stack([np.asarray(values[p], dtype=np.float64) for p in pairs])  # (P, N) or (P,)
    per_pair = _unit_means(stacked, d, counts)  # (B, P)
    # member multiplicities c; the drawn positions hold c_i * c_j pairs of members (i, j)
    offsets = np.arange(d.n_boot)[:, None] * d.n_seeds
    multiplicity = np.bincount((d.seeds + offsets).ravel(), minlength=d.n_boot * d.n_seeds)
    multiplicity = multiplicity.reshape(d.n_boot, d.n_seeds).astype(np.float64)  # (B, S)
    first, second = np.array(pairs).T  # (P,), (P,)
    weights = multiplicity[:, first] * multiplicity[:, second]  # (B, P)
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
    return {"replicates": diff, "ci_low": low, "ci_high": high, "p_value": sign_p_value(diff),
            "n_boot": int(np.count_nonzero(~np.isnan(diff))), "holds": _holds(low, high, 0.0, direction)}


def sign_p_value(replicates: np.ndarray) -> float:
    """The bootstrap's two-sided sign probability that a difference is 0, as MultiBERTs reports
    it: 2 min(P(diff <= 0), P(diff >= 0)) over the non-NaN replicates (B of them), clipped to
    [1/B, 1]. Not a p-value of an exact test: a replicate count, 1/B at best."""
    valid = _valid(replicates)
    below, above = np.mean(valid <= 0), np.mean(valid >= 0)
    return float(np.clip(2 * min(below, above), 1 / valid.size, 1.0))


def threshold_holds(rep: np.ndarray, threshold: float, direction: str, level: float = 0.95) -> dict:
    """Claim "statistic > threshold" ("greater") or "< threshold" ("less"): holds when the
    interval of the replicates lies wholly on that side of the threshold."""
    low, high = interval(rep, level)
    return {"ci_low": low, "ci_high": high,
            "n_boot": int(np.count_nonzero(~np.isnan(np.asarray(rep, dtype=np.float64)))),
            "holds": _holds(low, high, float(threshold), direction)}

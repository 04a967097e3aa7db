"""How often the Multi-Bootstrap's interval covers a known truth, on simulated ensembles.

The simulation follows the structure of the stats rule's data: S members are evaluated on the
same R held-out rows, each row holding a few masked positions. A member statistic at position j
of row r for member s is

    x[s, r, j] = mean + a_s + b_r + e_srj,   a_s ~ N(0, member_sd^2), b_r ~ N(0, row_sd^2),
                                              e_srj ~ N(0, noise_sd^2),

a member effect (a seed's model is better or worse everywhere), a row effect shared by the
positions of a row and by all members (they see the same rows: some contexts are harder), and
noise. With row_sd = noise_sd the positions of one row correlate at 0.5 within a member. A pair
statistic of members i < j is mean + a_i + a_j + b_r + e_ijrj, the pair effect the sum of its
members'. The truth is `mean`: the population mean over new members (or pairs of them) and new
rows, what MultiBERTs' interval targets (Sellam et al. 2022, Section 3). The estimate is the
pipeline's: the mean over members (pairs) of the mean over all masked positions.

Two bootstraps are compared (bootstrap.py): members+rows, the pipeline's (members and rows
drawn jointly, a row's positions together), and members+positions, positions drawn one by one
as if independent, which ignores the row effect's correlation and so under-covers.
tests/test_coverage.py checks both; bench/coverage.py writes docs/results/coverage.tsv.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs

METHODS = ("members+rows", "members+positions")
STATISTICS = ("member", "pair")


@dataclass(frozen=True)
class Design:
    """One simulated ensemble's shape and effects (the module docstring's model)."""

    members: int
    rows: int = 100
    min_positions: int = 2  # masked positions per row, uniform in [min, max]
    max_positions: int = 6
    mean: float = 0.0  # the truth
    member_sd: float = 0.25
    row_sd: float = 1.0
    noise_sd: float = 1.0  # row_sd = noise_sd: intra-row correlation 0.5

    @property
    def intra_row_correlation(self) -> float:
        return self.row_sd**2 / (self.row_sd**2 + self.noise_sd**2)


def simulate(design: Design, statistic: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One ensemble: values (K, M) per member (K = S) or per pair (K = S(S-1)/2, pairs i < j in
    order) at each masked position, and row_of (M,), each position's row, row-major."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    counts = rng.integers(design.min_positions, design.max_positions + 1, size=design.rows)  # (R,)
    row_of = np.repeat(np.arange(design.rows), counts)  # (M,)
    member = design.member_sd * rng.normal(size=design.members)  # (S,)
    if statistic == "pair":
        first, second = np.triu_indices(design.members, k=1)
        member = member[first] + member[second]  # (P,)
    row = design.row_sd * rng.normal(size=design.rows)  # (R,)
    noise = design.noise_sd * rng.normal(size=(len(member), len(row_of)))  # (K, M)
    return design.mean + member[:, None] + row[row_of][None, :] + noise, row_of


def replicates(values: np.ndarray, row_of: np.ndarray, *, n_rows: int, n_members: int, statistic: str, method: str,
               n_boot: int, seed: int) -> np.ndarray:
    """The bootstrap replicates (B,) of the estimate under `method` (METHODS), from simulate's
    values and row_of."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "members+rows":
        units, counts = bs.row_sums(values, row_of, n_rows), np.bincount(row_of, minlength=n_rows)  # (K, R), (R,)
    else:  # every position its own unit
        units, counts = values, None
    d = bs.draws(n_members, units.shape[1], n_boot, seed)
    if statistic == "member":
        return bs.member_mean(units, d, counts)
    pairs = zip(*np.triu_indices(n_members, k=1))
    return bs.pair_mean({(int(i), int(j)): u for (i, j), u in zip(pairs, units)}, d, counts)


def coverage(design: Design, *, statistic: str, methods=METHODS, simulations: int, n_boot: int, level: float = 0.95,
             seed: int = 0) -> pd.DataFrame:
    """Per method: the share of `simulations` ensembles whose interval covers design.mean, and
    the mean interval width. Every method sees the same ensembles."""
    rng = np.random.default_rng(seed)
    hits = {m: [] for m in methods}
    widths = {m: [] for m in methods}
    for k in range(simulations):
        values, row_of = simulate(design, statistic, rng)
        for method in methods:
            reps = replicates(values, row_of, n_rows=design.rows, n_members=design.members, statistic=statistic,
                              method=method, n_boot=n_boot, seed=seed * 1_000_003 + k)
            low, high = bs.interval(reps, level)
            hits[method].append(low <= design.mean <= high)
            widths[method].append(high - low)
    return pd.DataFrame([{"members": design.members, "statistic": statistic, "method": m, "simulations": simulations,
                          "coverage": float(np.mean(hits[m])), "mean_width": float(np.mean(widths[m]))}
                         for m in methods])

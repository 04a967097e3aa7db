"""The Multi-Bootstrap's 95% interval covers a known truth on simulated ensembles (coverage.py):
members with a member effect, held-out rows with a row effect shared by a row's positions and by
all members (intra-row correlation 0.5), the truth the population mean over new members and new
rows. Resampling rows (the pipeline's members+rows) covers it; resampling the correlated
positions one by one (members+positions) does not, which shows that the check can fail."""

import numpy as np
import pytest

from gfm_limits.coverage import Design, coverage, simulate


def test_the_simulation_has_the_declared_truth_and_intra_row_correlation():
    design = Design(members=4, rows=3000, min_positions=2, max_positions=2, mean=1.5)
    values, row_of = simulate(design, "member", np.random.default_rng(0))
    assert values.shape == (4, 6000) and np.array_equal(row_of, np.repeat(np.arange(3000), 2))
    within = values - values.mean(axis=1, keepdims=True)  # the member effect removed
    first, second = within[:, 0::2].ravel(), within[:, 1::2].ravel()  # two positions of one row
    assert np.corrcoef(first, second)[0, 1] == pytest.approx(design.intra_row_correlation, abs=0.03)
    assert design.intra_row_correlation == 0.5
    # the estimate over many members and rows reaches the truth
    many = Design(members=400, rows=400, mean=1.5)
    assert simulate(many, "member", np.random.default_rng(1))[0].mean() == pytest.approx(1.5, abs=0.15)
    pairs, _ = simulate(Design(members=5), "pair", np.random.default_rng(2))
    assert len(pairs) == 10


def test_the_row_bootstrap_covers_the_truth_and_the_position_bootstrap_does_not():
    # 400 ensembles of 20 members: the binomial sd of a 95% coverage is 1.1 points
    table = coverage(Design(members=20), statistic="member", simulations=400, n_boot=500, seed=0).set_index("method")
    rows, positions = table.loc["members+rows"], table.loc["members+positions"]
    assert rows["coverage"] >= 0.93
    assert positions["coverage"] < 0.85
    assert positions["mean_width"] < 0.8 * rows["mean_width"]  # too narrow: the row effect counted as noise

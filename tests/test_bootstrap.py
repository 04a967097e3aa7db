"""Multi-Bootstrap replicates against scipy, exact enumeration, loops and hand-worked draws."""

import itertools
import logging
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from gfm_limits import bootstrap as bs


def test_one_seed_matches_scipy_percentile_bootstrap():
    # S = 1: only examples vary, so the replicates are the ordinary example bootstrap
    x = np.random.default_rng(0).exponential(size=500)
    ours = bs.interval(bs.member_mean(x[None, :], bs.draws(1, x.size, 4000, seed=1)))
    ref = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=4000,
                          rng=np.random.default_rng(2)).confidence_interval
    width = ref.high - ref.low
    assert ours[0] == pytest.approx(ref.low, abs=0.1 * width)
    assert ours[1] == pytest.approx(ref.high, abs=0.1 * width)


def test_one_example_matches_exact_enumeration_of_seed_resamples():
    values = np.array([0.0, 1.0, 5.0])
    exact = Counter(float(np.mean(values[list(draw)])) for draw in itertools.product(range(3), repeat=3))
    support = np.array(sorted(exact))
    prob = np.array([exact[v] / 27 for v in support])
    n_boot = 4000
    reps = bs.member_mean(values[:, None], bs.draws(3, 1, n_boot, seed=3))
    freq = np.array([np.sum(np.isclose(reps, v)) for v in support]) / n_boot
    assert freq.sum() == pytest.approx(1.0)
    assert np.all(np.abs(freq - prob) < 5 * np.sqrt(prob * (1 - prob) / n_boot))
    mean, var = support @ prob, (support - support @ prob) ** 2 @ prob  # 2 and values.var() / 3
    assert reps.mean() == pytest.approx(mean, abs=5 * np.sqrt(var / n_boot))
    assert reps.var() == pytest.approx(var, rel=0.1)
    # exact quantiles of the 27 draws: sums 0 (1/27) ... 15 (1/27); the 10% quantile
    # falls inside the mass of sum 1, the 90% one inside the mass of sum 11
    assert bs.interval(reps, 0.95) == pytest.approx((0.0, 5.0))
    assert bs.interval(reps, 0.80) == pytest.approx((1 / 3, 11 / 3))


def test_pair_mean_hand_worked_draws():
    values = {(0, 1): np.array([1.0, 2, 3, 4]), (0, 2): np.array([10.0, 20, 30, 40]),
              (1, 2): np.array([100.0, 200, 300, 400])}
    d = bs.Draws(seeds=np.array([[0, 0, 2], [0, 1, 2], [1, 1, 1], [2, 1, 1]]),
                 examples=np.array([[0, 1, 2, 3], [0, 0, 0, 0], [0, 1, 2, 3], [3, 3, 1, 1]]))
    # [0, 0, 2]: (0,0) left out, (0,2) twice -> mean of values[(0,2)] = 25
    # [0, 1, 2] on example 0 only: (1 + 10 + 100) / 3
    # [1, 1, 1]: no pair; [2, 1, 1]: (1,2) twice on examples 3,3,1,1 -> (400 + 200) / 2
    np.testing.assert_allclose(bs.pair_mean(values, d), [25.0, 37.0, np.nan, 300.0])


def test_pair_mean_without_examples_hand_worked():
    values = {(0, 1): 1.0, (0, 2): 2.0, (1, 2): np.array(4.0)}
    d = bs.Draws(seeds=np.array([[0, 1, 2], [1, 2, 2], [0, 0, 0]]), examples=None)
    # [1, 2, 2]: pairs (1,2), (1,2), (2,2) left out -> 4
    np.testing.assert_allclose(bs.pair_mean(values, d), [7 / 3, 4.0, np.nan])


def test_pair_mean_matches_loop_over_drawn_positions():
    rng = np.random.default_rng(4)
    s, n = 4, 30
    values = {(i, j): rng.normal(size=n) for i in range(s) for j in range(i + 1, s)}
    d = bs.draws(s, n, 200, seed=5)
    expected = []
    for members, examples in zip(d.seeds, d.examples):
        terms = [values[(min(members[a], members[b]), max(members[a], members[b]))][examples].mean()
                 for a in range(s) for b in range(a + 1, s) if members[a] != members[b]]
        expected.append(np.mean(terms) if terms else np.nan)
    np.testing.assert_allclose(bs.pair_mean(values, d), expected, rtol=1e-12)


def test_pair_mean_rejects_missing_pairs():
    with pytest.raises(ValueError, match="missing"):
        bs.pair_mean({(0, 1): np.zeros(5)}, bs.draws(3, 5, 10, seed=0))


def test_member_mean_matches_loop():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 40))
    d = bs.draws(3, 40, 100, seed=7)
    expected = [x[members][:, examples].mean() for members, examples in zip(d.seeds, d.examples)]
    np.testing.assert_allclose(bs.member_mean(x, d), expected, rtol=1e-12)


def test_member_ratio_matches_loop():
    rng = np.random.default_rng(8)
    num = rng.exponential(size=(4, 25))
    den = num + rng.exponential(size=(4, 25))
    d = bs.draws(4, 25, 150, seed=9)
    expected = [np.mean([num[m, examples].sum() / den[m, examples].sum() for m in members])
                for members, examples in zip(d.seeds, d.examples)]
    np.testing.assert_allclose(bs.member_ratio(num, den, d), expected, rtol=1e-12)


def test_member_ratio_without_examples_and_zero_denominator():
    d = bs.Draws(seeds=np.array([[0, 1], [1, 1], [0, 0]]), examples=None)
    np.testing.assert_allclose(bs.member_ratio(np.array([1.0, 3.0]), np.array([4.0, 4.0]), d),
                               [0.5, 0.75, 0.25])
    assert np.isnan(bs.member_ratio(np.array([1.0, 0.0]), np.array([0.0, 2.0]), d)[[0, 2]]).all()


def test_interval_coverage_of_member_mean():
    # member means ~ N(mu, tau^2), example noise ~ N(0, sigma^2): the 95% interval should
    # cover mu in roughly 95% of datasets (the bootstrap is approximate)
    rng = np.random.default_rng(10)
    mu, tau, sigma, s, n = 1.0, 1.0, 2.0, 20, 200
    covered = 0
    n_data = 200
    for k in range(n_data):
        x = mu + tau * rng.normal(size=(s, 1)) + sigma * rng.normal(size=(s, n))
        low, high = bs.interval(bs.member_mean(x, bs.draws(s, n, 500, seed=1000 + k)))
        covered += low <= mu <= high
    assert 0.88 <= covered / n_data <= 0.99


def test_interval_ignores_nan_and_reports_them(caplog):
    reps = np.concatenate([np.arange(101.0), [np.nan] * 7])
    with caplog.at_level(logging.WARNING, logger="gfm_limits.bootstrap"):
        assert bs.interval(reps) == pytest.approx((2.5, 97.5))
    assert "dropped 7 of 108" in caplog.text
    assert bs.summarize_ci(50.0, reps, level=0.9) == pytest.approx(
        {"estimate": 50.0, "ci_low": 5.0, "ci_high": 95.0, "n_boot": 101})
    with pytest.raises(ValueError):
        bs.interval(np.full(5, np.nan))


def test_difference_holds_separated_and_overlapping():
    rng = np.random.default_rng(11)
    high, low = rng.normal(1.0, 0.1, 1000), rng.normal(0.0, 0.1, 1000)
    assert bs.difference_holds(high, low, "greater")["holds"]
    assert not bs.difference_holds(high, low, "less")["holds"]
    assert bs.difference_holds(low, high, "less")["holds"]
    out = bs.difference_holds(high, low, "greater")
    np.testing.assert_allclose(out["replicates"], high - low)
    # sd of the difference sqrt(0.02); 95% interval about 1 +- 0.28
    assert out["ci_low"] == pytest.approx(1 - 1.96 * np.sqrt(0.02), abs=0.05)
    a, b = rng.normal(0.05, 1.0, 1000), rng.normal(0.0, 1.0, 1000)
    assert not bs.difference_holds(a, b, "greater")["holds"]
    assert not bs.difference_holds(a, b, "less")["holds"]
    with pytest.raises(ValueError):
        bs.difference_holds(a, b, "bigger")


def test_threshold_holds():
    share = np.random.default_rng(12).normal(0.7, 0.05, 1000)
    assert bs.threshold_holds(share, 0.5, "greater")["holds"]
    assert not bs.threshold_holds(share, 0.5, "less")["holds"]
    assert not bs.threshold_holds(share, 0.7, "greater")["holds"]
    assert bs.threshold_holds(share, 0.9, "less")["holds"]


def test_draws_are_reproducible_and_in_range():
    d = bs.draws(5, 100, 50, seed=13)
    assert d.seeds.shape == (50, 5) and d.examples.shape == (50, 100)
    assert d.seeds.min() >= 0 and d.seeds.max() < 5 and d.examples.max() < 100
    np.testing.assert_array_equal(bs.draws(5, 100, 50, seed=13).examples, d.examples)
    assert not np.array_equal(bs.draws(5, 100, 50, seed=14).examples, d.examples)
    assert bs.draws(5, None, 50, seed=13).examples is None
    with pytest.raises(ValueError):
        bs.Draws(seeds=np.array([[0, 3]]), examples=None)


def test_row_sums_by_hand():
    # positions 0, 1 in row 0, none in row 1, positions 2, 3, 4 in row 2
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 20.0, 30.0, 40.0, 50.0]])
    row_of = np.array([0, 0, 2, 2, 2])
    np.testing.assert_allclose(bs.row_sums(values, row_of, 3), [[3.0, 0.0, 12.0], [30.0, 0.0, 120.0]])
    np.testing.assert_allclose(bs.row_sums(np.ones((1, 5)), row_of, 3), [[2.0, 0.0, 3.0]])
    with pytest.raises(ValueError, match="row_of"):
        bs.row_sums(values, np.array([0, 0, 2, 2, 3]), 3)


def _positions_of(rows, row_of):
    """Every masked position of the drawn rows, a row drawn twice listed twice."""
    return np.concatenate([np.flatnonzero(row_of == r) for r in rows]).astype(int)


def test_member_mean_by_rows_matches_loop_over_the_drawn_rows_positions():
    rng = np.random.default_rng(14)
    s, n_rows = 4, 12
    row_of = np.sort(rng.integers(0, n_rows, size=50))  # uneven counts, some rows may have none
    x = rng.normal(size=(s, row_of.size))  # (S, M) per position
    counts = np.bincount(row_of, minlength=n_rows)
    d = bs.draws(s, n_rows, 300, seed=15)
    expected = []
    for members, rows in zip(d.seeds, d.examples):
        at = _positions_of(rows, row_of)
        expected.append(np.mean([x[m, at].mean() for m in members]) if at.size else np.nan)
    ours = bs.member_mean(bs.row_sums(x, row_of, n_rows), d, counts)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    # on all rows once: the mean over every position
    once = bs.Draws(seeds=np.arange(s)[None, :], examples=np.arange(n_rows)[None, :])
    assert bs.member_mean(bs.row_sums(x, row_of, n_rows), once, counts)[0] == pytest.approx(x.mean())


def test_pair_mean_by_rows_matches_loop_over_the_drawn_rows_positions():
    rng = np.random.default_rng(16)
    s, n_rows = 4, 10
    row_of = np.repeat(np.arange(n_rows), rng.integers(1, 6, size=n_rows))
    values = {(i, j): rng.normal(size=row_of.size) for i in range(s) for j in range(i + 1, s)}
    d = bs.draws(s, n_rows, 200, seed=17)
    expected = []
    for members, rows in zip(d.seeds, d.examples):
        at = _positions_of(rows, row_of)
        terms = [values[(min(members[a], members[b]), max(members[a], members[b]))][at].mean()
                 for a in range(s) for b in range(a + 1, s) if members[a] != members[b]]
        expected.append(np.mean(terms) if terms else np.nan)
    sums = {p: bs.row_sums(v[None, :], row_of, n_rows)[0] for p, v in values.items()}
    ours = bs.pair_mean(sums, d, np.bincount(row_of, minlength=n_rows))
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_rows_without_positions_give_nan_replicates():
    d = bs.Draws(seeds=np.array([[0, 1], [1, 0]]), examples=np.array([[1, 1], [0, 1]]))
    sums, counts = np.array([[4.0, 0.0], [2.0, 0.0]]), np.array([2.0, 0.0])  # row 1 has no masked position
    reps = bs.member_mean(sums, d, counts)
    assert np.isnan(reps[0]) and reps[1] == pytest.approx((2.0 + 1.0) / 2)
    with pytest.raises(ValueError, match="counts"):
        bs.member_mean(sums, d, np.array([1.0, -1.0]))

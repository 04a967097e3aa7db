"""Output-distribution statistics against scipy and hand-worked cases."""

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from gfm_limits import metrics


def random_probs(rng, m=50, v=64, sharp=1.0):
    logits = rng.normal(size=(m, v)) * sharp
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def test_entropy_matches_scipy():
    p = random_probs(np.random.default_rng(0), sharp=3.0)
    np.testing.assert_allclose(metrics.entropy_bits(p), entropy(p, base=2, axis=1), rtol=1e-10)


def test_kl_uniform_is_zero_for_uniform_and_log2v_for_one_hot():
    v = 4096
    uniform = np.full((3, v), 1.0 / v)
    one_hot = np.eye(v)[[0, 7, 4095]]
    np.testing.assert_allclose(metrics.kl_uniform_bits(uniform), 0.0, atol=1e-9)
    np.testing.assert_allclose(metrics.kl_uniform_bits(one_hot), 12.0, atol=1e-9)


def test_kl_uniform_matches_scipy_relative_entropy():
    p = random_probs(np.random.default_rng(1))
    u = np.full_like(p, 1.0 / p.shape[1])
    np.testing.assert_allclose(metrics.kl_uniform_bits(p), entropy(p, u, base=2, axis=1), rtol=1e-9)


def test_kl_from_uniform_matches_scipy_relative_entropy_of_uniform_from_p():
    """The paper's v2 KL(U || p): scipy.stats.entropy(uniform, p, base=2) row by row."""
    p = random_probs(np.random.default_rng(2), sharp=2.0)
    assert p.min() > 1e-10  # above the paper's clamp, where scipy's unclamped value is the same
    u = np.full(p.shape[1], 1.0 / p.shape[1])
    np.testing.assert_allclose(metrics.kl_from_uniform_bits(p), [entropy(u, row, base=2) for row in p], rtol=1e-9)
    assert not np.allclose(metrics.kl_from_uniform_bits(p), metrics.kl_uniform_bits(p), rtol=0.01)  # not KL(p || U)
    np.testing.assert_allclose(metrics.kl_from_uniform_bits(np.full((2, 8), 1 / 8)), 0.0, atol=1e-12)


def test_kl_from_uniform_clamps_as_the_paper_by_hand():
    # V = 4, p = (1, 0, 0, 0): 1/4 (log2 1/4 - log2 1) + 3/4 (log2 1/4 - log2 1e-10), finite
    by_hand = 0.25 * (-2.0) + 0.75 * (-2.0 - np.log2(1e-10))
    assert metrics.kl_from_uniform_bits(np.array([[1.0, 0.0, 0.0, 0.0]]))[0] == pytest.approx(by_hand, rel=1e-12)


def test_js_of_identical_is_zero_and_matches_scipy_otherwise():
    rng = np.random.default_rng(2)
    p, q = random_probs(rng), random_probs(rng)
    np.testing.assert_allclose(metrics.js_distance(p, p), 0.0, atol=1e-7)
    expected = [jensenshannon(a, b, base=2) for a, b in zip(p, q)]
    np.testing.assert_allclose(metrics.js_distance(p, q), expected, rtol=1e-10)


def test_js_hand_worked_disjoint_supports_is_one():
    p = np.array([[1.0, 0.0]])
    q = np.array([[0.0, 1.0]])
    np.testing.assert_allclose(metrics.js_distance(p, q), 1.0)


def test_truncate_top_p_hand_worked():
    p = np.array([[0.1, 0.5, 0.3, 0.1]])
    # cumulative in rank order: 0.5, 0.8, 0.9, 1.0
    np.testing.assert_allclose(metrics.truncate_top_p(p, 0.05), [[0, 1, 0, 0]])
    np.testing.assert_allclose(metrics.truncate_top_p(p, 0.8), [[0, 0.625, 0.375, 0]])


def test_small_top_p_js_equals_argmax_disagreement():
    rng = np.random.default_rng(3)
    p, q = random_probs(rng, sharp=2.0), random_probs(rng, sharp=2.0)
    js = metrics.js_distance(p, q, top_p=1e-6)
    np.testing.assert_allclose(js, (p.argmax(1) != q.argmax(1)).astype(float), atol=1e-12)
    assert metrics.disagreement(p, q) == pytest.approx(js.mean())


def test_mean_sorted_distribution_hand_worked():
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_allclose(metrics.mean_sorted_distribution(p), [0.7, 0.3])


def test_unigram_baseline_hand_worked():
    tokens = np.array([[2, 5, 5, 6, 3], [2, 5, 7, 7, 3]])  # ids 0..4 special
    q = metrics.unigram_probs(tokens, vocab_size=8, special=range(5), pseudo=0.0)
    np.testing.assert_allclose(q, [0, 0, 0, 0, 0, 3 / 6, 1 / 6, 2 / 6])
    assert metrics.unigram_cross_entropy_bits(q, np.array([5, 5])) == pytest.approx(1.0)
    smoothed = metrics.unigram_probs(tokens, vocab_size=8, special=range(5), pseudo=0.5)
    assert smoothed[:5].sum() == 0 and smoothed.sum() == pytest.approx(1.0)


def _paper_top_p(row, top_p):
    """The paper's truncation, one row at a time in plain Python (ties keep index order)."""
    kept, total = [], 0.0
    for i in sorted(range(len(row)), key=lambda j: -row[j]):
        total += row[i]
        if kept and total > top_p:
            break
        kept.append(i)
    out = np.zeros(len(row))
    out[kept] = row[kept]
    return out / out.sum()


def test_js_distance_for_all_top_p_equals_row_by_row_truncation():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.full(12, 0.3), size=40)
    q = rng.dirichlet(np.full(12, 0.3), size=40)
    p[0] = q[0] = np.full(12, 1 / 12)  # ties everywhere
    top_ps = [0.05, 0.3, 0.7, 1.0]
    batched = metrics.js_distance_top_p(p, q, top_ps)
    for top_p in top_ps:
        expected = [jensenshannon(_paper_top_p(a, top_p), _paper_top_p(b, top_p), base=2) for a, b in zip(p, q)]
        np.testing.assert_allclose(batched[top_p], expected, atol=1e-12)
        np.testing.assert_allclose(metrics.js_distance(p, q, top_p), expected, atol=1e-12)


def test_frequency_bands_by_hand():
    from gfm_limits.stats import frequency_bands

    # ids 0..4 are special; 5..10 seen 6, 5, 4, 3, 2, 0 times
    tokens = np.array([5] * 6 + [6] * 5 + [7] * 4 + [8] * 3 + [9] * 2 + [2, 3])
    band, table = frequency_bands(tokens, 11, 3)
    assert list(band) == [-1] * 5 + [0, 0, 1, 1, 2, 2]
    assert list(table["count_max"]) == [6, 4, 2] and list(table["count_min"]) == [5, 3, 0]
    assert table["train_share"].tolist() == pytest.approx([11 / 20, 7 / 20, 2 / 20])


def test_context_position_by_hand():
    import pandas as pd

    from gfm_limits.stats import context_position

    baselines = pd.DataFrame({
        "unit": ["token", "token", "token", "char", "char"],
        "baseline": ["unigram_entropy", "markov0", "markov1", "markov2", "xz"],
        "chars_per_symbol": [4.0, 4.0, 4.0, 1.0, 1.0],
        "bits_per_char": [0.5, 3.0, 2.5, 2.0, 2.2]})  # the in-sample entropy (0.5) is no prediction
    found = context_position(baselines, model_bits_per_token=10.0)  # 2.5 bits per char
    assert found["best_baseline"] == "char markov2" and found["bits_per_char_best_baseline"] == 2.0
    assert found["bits_per_char_model"] == 2.5 and found["context_used"] == pytest.approx((3.0 - 2.5) / (3.0 - 2.0))

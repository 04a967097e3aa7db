"""Static-embedding consistency against scipy, brute force and known invariances."""

import numpy as np
import pytest
from scipy.stats import ortho_group, spearmanr

from gfm_limits import embeddings as emb


@pytest.fixture
def matrix():
    return np.random.default_rng(0).normal(size=(60, 16))


def test_identical_and_rotated_embeddings_agree_fully(matrix):
    rotated = matrix @ ortho_group.rvs(16, random_state=1)
    cos_a, cos_b = emb.cosine_similarity(matrix), emb.cosine_similarity(rotated)
    assert emb.topk_jaccard(cos_a, cos_a, [1, 5, 10]) == {1: 1.0, 5: 1.0, 10: 1.0}
    assert all(v == pytest.approx(1.0) for v in emb.topk_jaccard(cos_a, cos_b, [1, 5, 10]).values())
    assert emb.spearman_similarity(cos_a, cos_b) == pytest.approx(1.0)
    assert emb.procrustes_disparity(matrix, 3.0 * rotated + 1.0) == pytest.approx(0.0, abs=1e-12)


def test_nearest_neighbours_match_brute_force(matrix):
    cos = emb.cosine_similarity(matrix)
    nn = emb.nearest_neighbours(cos, 7)
    for i in range(len(matrix)):
        others = [j for j in np.argsort(-cos[i], kind="stable") if j != i][:7]
        assert list(nn[i]) == others


def test_jaccard_hand_worked():
    # 4 tokens on a line in A; in B token order is changed so neighbours differ.
    a = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    b = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9]])
    # k=1 neighbours. A: 0->1, 1->0, 2->3, 3->2. B: 0->2, 1->3, 2->0, 3->1: no overlap.
    assert emb.topk_jaccard(emb.cosine_similarity(a), emb.cosine_similarity(b), [1])[1] == 0.0
    # k=3 includes everyone else: Jaccard 1.
    assert emb.topk_jaccard(emb.cosine_similarity(a), emb.cosine_similarity(b), [3])[3] == 1.0


def test_spearman_matches_scipy_per_token(matrix):
    other = matrix + np.random.default_rng(5).normal(scale=0.8, size=matrix.shape)
    cos_a, cos_b = emb.cosine_similarity(matrix), emb.cosine_similarity(other)
    expected = np.mean([spearmanr(np.delete(cos_a[i], i), np.delete(cos_b[i], i))[0] for i in range(60)])
    assert emb.spearman_similarity(cos_a, cos_b) == pytest.approx(expected)
    assert emb.spearman_similarity(cos_b, cos_a) == pytest.approx(expected)  # symmetric in the members


def test_procrustes_of_unrelated_matrices_is_large(matrix):
    other = np.random.default_rng(9).normal(size=matrix.shape)
    assert emb.procrustes_disparity(matrix, other) > 0.5


def paper_local_spearman_loop(cos_a, cos_b, k):
    """A direct transcription of lbcb-sci/GFMs local_spearman_correlation, one token at a time."""
    n = len(cos_a)
    values = []
    for i in range(n):
        a, b = np.delete(cos_a[i], i), np.delete(cos_b[i], i)
        top = np.argsort(-a, kind="stable")[:k]
        ra = np.argsort(np.argsort(a[top], kind="stable"), kind="stable") + 1.0
        rb = np.argsort(np.argsort(b[top], kind="stable"), kind="stable") + 1.0
        ra, rb = ra - ra.mean(), rb - rb.mean()
        values.append((ra * rb).sum() / (np.sqrt((ra**2).sum() * (rb**2).sum()) + 1e-8))
    return np.mean(values)  # the "from B" half repeats this value


def test_local_spearman_paper_reproduces_the_bug(matrix):
    other = matrix + np.random.default_rng(7).normal(scale=0.8, size=matrix.shape)
    cos_a, cos_b = emb.cosine_similarity(matrix), emb.cosine_similarity(other)
    for k in (1, 3, 10):
        nn_a = emb.nearest_neighbours(cos_a, k)
        assert emb.local_spearman_paper(cos_a, cos_b, nn_a) == pytest.approx(paper_local_spearman_loop(cos_a, cos_b, k))
    assert emb.local_spearman_paper(cos_a, cos_b, emb.nearest_neighbours(cos_a, 1)) == 0.0
    # one-sided: swapping the members changes it
    assert emb.local_spearman_paper(cos_a, cos_b, emb.nearest_neighbours(cos_a, 10)) != pytest.approx(
        emb.local_spearman_paper(cos_b, cos_a, emb.nearest_neighbours(cos_b, 10)))


def test_local_spearman_is_symmetric_and_matches_scipy(matrix):
    other = matrix + np.random.default_rng(8).normal(scale=0.8, size=matrix.shape)
    cos_a, cos_b = emb.cosine_similarity(matrix), emb.cosine_similarity(other)
    k = 10
    nn_a, nn_b = emb.nearest_neighbours(cos_a, k), emb.nearest_neighbours(cos_b, k)
    assert emb.local_spearman(cos_a, cos_b, nn_a, nn_b) == pytest.approx(emb.local_spearman(cos_b, cos_a, nn_b, nn_a))
    halves = []
    for ref in (cos_a, cos_b):
        rhos = []
        for i in range(len(matrix)):
            top = [j for j in np.argsort(-ref[i], kind="stable") if j != i][:k]
            rhos.append(spearmanr(cos_a[i, top], cos_b[i, top]).statistic)
        halves.append(np.mean(rhos))
    assert emb.local_spearman(cos_a, cos_b, nn_a, nn_b) == pytest.approx(np.mean(halves))
    assert emb.local_spearman(cos_a, cos_a, nn_a, nn_a) == pytest.approx(1.0)


def _hsic_cka(k: np.ndarray, m: np.ndarray) -> float:
    """CKA of kernels k and m by Kornblith et al.'s kernel formula with an explicit centring matrix H."""
    n = len(k)
    h = np.eye(n) - np.ones((n, n)) / n
    hsic = lambda a, b: np.trace(a @ h @ b @ h) / (n - 1) ** 2  # noqa: E731
    return hsic(k, m) / np.sqrt(hsic(k, k) * hsic(m, m))


def test_linear_cka_equals_the_kernel_formula_and_its_invariances(matrix):
    other = np.random.default_rng(5).normal(size=(60, 9))
    assert emb.linear_cka(matrix, other) == pytest.approx(_hsic_cka(matrix @ matrix.T, other @ other.T), rel=1e-10)
    rotated = 2.5 * matrix @ ortho_group.rvs(16, random_state=2) + 7.0  # orthogonal, isotropic scale, shift
    assert emb.linear_cka(matrix, rotated) == pytest.approx(1.0, abs=1e-12)
    assert 0.0 <= emb.linear_cka(matrix, other) < 0.6  # independent random features share little


def test_rbf_cka_median_distance_equals_a_loop_over_pairs(matrix):
    other = np.random.default_rng(6).normal(size=(60, 9))

    def kernel(x):  # pair by pair, sigma = half the median distance between distinct items
        d = np.array([[np.linalg.norm(a - b) for b in x] for a in x])
        sigma = 0.5 * np.median([d[i, j] for i in range(len(x)) for j in range(i + 1, len(x))])
        return np.exp(-(d**2) / (2 * sigma**2))

    found = emb.rbf_cka(matrix, other, 0.5, "median_distance")
    assert found == pytest.approx(_hsic_cka(kernel(matrix), kernel(other)), rel=1e-9)
    rotated = 3.0 * matrix @ ortho_group.rvs(16, random_state=3) - 1.0  # the median scales with the data
    assert emb.rbf_cka(matrix, rotated, 0.5, "median_distance") == pytest.approx(1.0, abs=1e-9)


def ckatorch_rbf_cka(x: np.ndarray, y: np.ndarray, threshold: float = 1.0) -> float:
    """ckatorch 1.0.3's cka_base(x, y, kernel="rbf", threshold), the version the paper's v2 lock
    file pins, transcribed line by line in torch (ckatorch/core.py, utils.py: rbf_kernel,
    center_gram_matrix with unbiased=False, method fro_norm)."""
    import torch

    def rbf_kernel(x, threshold):
        dot_products = torch.mm(x, x.T)
        sq_norms = torch.diag(dot_products)
        sq_distances = -2 * dot_products + sq_norms[:, None] + sq_norms[None, :]
        sq_median_distance = torch.median(sq_distances)
        return torch.exp(-sq_distances / (2 * threshold**2 * sq_median_distance))

    def center_gram_matrix(gram_matrix):
        gram_matrix = gram_matrix.detach().clone()
        means = torch.mean(gram_matrix, dim=0, dtype=torch.float64)
        means -= torch.mean(means) / 2
        gram_matrix -= means[:, None]
        gram_matrix -= means[None, :]
        return gram_matrix

    x, y = torch.from_numpy(x).type(torch.float64), torch.from_numpy(y).type(torch.float64)
    gram_x, gram_y = center_gram_matrix(rbf_kernel(x, threshold)), center_gram_matrix(rbf_kernel(y, threshold))
    norm_xy = gram_x.ravel().dot(gram_y.ravel())
    return float(norm_xy / (torch.linalg.norm(gram_x, ord="fro") * torch.linalg.norm(gram_y, ord="fro")))


@pytest.mark.parametrize("n", [60, 61])  # an even and an odd number of squared distances
def test_rbf_cka_default_is_ckatorchs_as_the_paper_calls_it(matrix, n):
    x = np.random.default_rng(7).normal(size=(n, 16))
    y = x[:, :9] ** 2 + np.random.default_rng(8).normal(size=(n, 9))
    assert emb.rbf_cka(x, y) == pytest.approx(ckatorch_rbf_cka(x, y), rel=1e-10)
    assert emb.rbf_cka(x, y, 0.5) == pytest.approx(ckatorch_rbf_cka(x, y, 0.5), rel=1e-10)
    # not the median heuristic over distinct pairs: the self-pairs' zeros lower ckatorch's median
    assert emb.rbf_cka(x, y) != pytest.approx(emb.rbf_cka(x, y, 1.0, "median_distance"), rel=1e-6)
    with pytest.raises(ValueError, match="bandwidth"):
        emb.rbf_cka(x, y, 1.0, "mean")


def test_procrustes_cosine_is_the_papers_mean_cosine_of_aligned_rows(matrix):
    """The paper's static.py: scipy's two standardised matrices, rows normalised, mean of row-wise
    dot products, by a loop; 1 for a rotated, scaled and shifted copy."""
    from scipy.spatial import procrustes

    other = matrix + np.random.default_rng(9).normal(scale=0.5, size=matrix.shape)
    a, b, disparity = procrustes(matrix, other)
    by_loop = np.mean([ra @ rb / (np.linalg.norm(ra) * np.linalg.norm(rb)) for ra, rb in zip(a, b)])
    assert emb.procrustes_cosine(matrix, other) == pytest.approx(by_loop, rel=1e-12)
    assert emb.procrustes_fit(matrix, other) == pytest.approx((disparity, by_loop), rel=1e-12)
    rotated = 3.0 * matrix @ ortho_group.rvs(16, random_state=4) + 1.0
    assert emb.procrustes_cosine(matrix, rotated) == pytest.approx(1.0, abs=1e-12)
    assert 0.0 < emb.procrustes_cosine(matrix, other) < 1.0


def _unbiased_hsic_by_loops(k: np.ndarray, m: np.ndarray) -> float:
    """Song et al. (2012), eq. 5, written out: K and L with zero diagonals, sums over indices."""
    n = len(k)
    k, m = k.copy(), m.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(m, 0.0)
    trace = sum(k[i, j] * m[j, i] for i in range(n) for j in range(n))
    ones = sum(k[i, j] for i in range(n) for j in range(n)) * sum(m[i, j] for i in range(n) for j in range(n))
    triple = sum(k[i, j] * m[j, q] for i in range(n) for j in range(n) for q in range(n))
    return (trace + ones / ((n - 1) * (n - 2)) - 2 * triple / (n - 2)) / (n * (n - 3))


def test_debiased_linear_cka_equals_the_unbiased_hsic_formula_written_out():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(9, 4)), rng.normal(size=(9, 3))
    y[:, 0] += 2 * x[:, 1]
    xc, yc = x - x.mean(0), y - y.mean(0)
    k, m = xc @ xc.T, yc @ yc.T
    expected = _unbiased_hsic_by_loops(k, m) / np.sqrt(_unbiased_hsic_by_loops(k, k) * _unbiased_hsic_by_loops(m, m))
    assert emb.debiased_linear_cka(x, y) == pytest.approx(expected, rel=1e-10)
    assert emb.debiased_linear_cka(x, x @ ortho_group.rvs(4, random_state=1) * 3.0) == pytest.approx(1.0)


def test_debiased_linear_cka_is_about_zero_for_independent_matrices_where_the_plain_one_is_not():
    rng = np.random.default_rng(6)
    n, d = 40, 200  # few items, many dimensions: the plain estimate's bias
    plain, debiased = [], []
    for _ in range(20):
        x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        plain.append(emb.linear_cka(x, y))
        debiased.append(emb.debiased_linear_cka(x, y))
    assert np.mean(plain) > 0.5
    assert abs(np.mean(debiased)) < 0.02

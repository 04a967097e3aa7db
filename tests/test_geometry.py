"""Geometry of representations (geometry.py) against hand-worked cases and direct scipy/numpy
computations."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import entropy

from gfm_limits import geometry as geo


def test_isotropic_gaussian_has_full_participation_ratio_and_effective_rank():
    d = 16
    x = np.random.default_rng(0).normal(size=(20_000, d))
    assert geo.participation_ratio(x) == pytest.approx(d, rel=0.02)
    assert geo.effective_rank(x) == pytest.approx(d, rel=0.02)
    assert abs(geo.anisotropy(x)) < 0.01  # directions spread evenly: mean cosine about 0


def test_identical_vectors_are_one_direction():
    x = np.tile([[3.0, -1.0, 2.0]], (10, 1))
    assert geo.anisotropy(x) == pytest.approx(1.0)
    assert geo.uniformity(x) == pytest.approx(0.0)  # every pair at distance 0: log mean exp(0)
    # a line (centred: one direction) has one singular value: rank 1 and participation ratio 1
    line = np.outer(np.arange(10.0), [3.0, -1.0, 2.0])
    assert geo.effective_rank(line) == pytest.approx(1.0)
    assert geo.participation_ratio(line) == pytest.approx(1.0)


def test_antipodal_pairs_reach_the_floor_of_uniformity_and_cosine_of_minus_one():
    x = np.array([[1.0, 0.0], [-2.0, 0.0]])
    assert geo.uniformity(x) == pytest.approx(-8.0)  # ||u - v||^2 = 4: log exp(-8)
    assert geo.anisotropy(x) == pytest.approx(-1.0)


def test_each_statistic_against_a_direct_computation():
    x = np.random.default_rng(1).normal(size=(40, 6)) @ np.diag([4, 2, 1, 1, 0.5, 0.1]) + 3.0
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    assert geo.effective_rank(x) == pytest.approx(np.exp(entropy(s / s.sum())))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert geo.anisotropy(x) == pytest.approx(np.mean(1 - pdist(x, "cosine")))
    assert geo.uniformity(x) == pytest.approx(np.log(np.mean(np.exp(-2 * pdist(unit, "sqeuclidean")))))
    lam = np.linalg.eigvalsh(np.cov(x.T))
    assert geo.participation_ratio(x) == pytest.approx(lam.sum() ** 2 / (lam**2).sum())


def test_geometry_table_has_every_layer_member_and_statistic():
    rng = np.random.default_rng(2)
    layers = {1: rng.normal(size=(3, 30, 4)), 2: rng.normal(size=(3, 30, 4)), 3: np.zeros((3, 0, 4))}
    table = geo.geometry_table(layers)
    assert set(table["seed"]) == {1, 2}  # no positions kept: left out
    assert len(table) == 2 * 3 * len(geo.STATISTICS) and (table["items"] == 30).all()
    one = table[(table["seed"] == 2) & (table["layer"] == 1)].set_index("statistic")["value"]
    pd.testing.assert_series_equal(one, pd.Series(geo.statistics(layers[2][1])).rename_axis("statistic"),
                                   check_names=False)

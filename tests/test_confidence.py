"""Findings from bootstrap replicates: directions, pairing of conditions, hand-made cases; the
sign probability against a loop over the replicates and Cohen's d against hand-worked cases."""

import numpy as np
import pytest

from gfm_limits import bootstrap as bs
from gfm_limits.confidence import effect_size_d, findings


def test_a_finding_holds_only_when_its_whole_interval_is_on_the_claimed_side():
    rng = np.random.default_rng(0)
    noise = {c: rng.normal(0, 0.01, 1000) for c in ("dna", "text")}
    replicates = {"dna": {"kl_uniform_bits": 1.0 + noise["dna"], "js_p1": 0.50 + noise["dna"],
                          "context_gain_bits": 0.1 + noise["dna"]},
                  "text": {"kl_uniform_bits": 3.0 + noise["text"], "js_p1": 0.51 + noise["text"],
                           "context_gain_bits": 2.0 + noise["text"]}}
    estimates = {c: {k: float(np.mean(v)) for k, v in r.items()} for c, r in replicates.items()}
    members = {"dna": {"kl_uniform_bits": np.array([0.0, 2.0])}, "text": {"kl_uniform_bits": np.array([1.0, 1.0, 4.0])}}
    table = findings(replicates, estimates, members, comparisons=[("dna", "text")], k=10, top_p=1.0, level=0.95,
                     min_context_bits=0.5).set_index("statistic")
    # DNA KL 2 bits below text: "DNA < text" holds; JS 0.01 lower: "DNA > text" does not
    assert table.loc["kl_uniform_bits", "holds"] and not table.loc["js_p1", "holds"]
    kl = table.loc["kl_uniform_bits"]
    assert kl["difference"] == pytest.approx(-2.0 + noise["dna"].mean() - noise["text"].mean())
    low, high = np.percentile(replicates["dna"]["kl_uniform_bits"] - replicates["text"]["kl_uniform_bits"], [2.5, 97.5])
    assert [kl["ci_low"], kl["ci_high"]] == pytest.approx([low, high])
    assert set(table.index) == {"kl_uniform_bits", "js_p1"}  # statistics either condition lacks are left out
    # the claims read as headline.FINDINGS declare them: KL "less", JS "greater"
    assert table.loc["kl_uniform_bits", "claim"] == "DNA < text" and table.loc["js_p1", "claim"] == "DNA > text"
    assert table.loc["js_p1", "finding"] == "DNA members disagree more"
    # beside the interval: the sign probability of the difference, a loop over its replicates
    for stat in ("kl_uniform_bits", "js_p1"):
        diff = replicates["dna"][stat] - replicates["text"][stat]
        below = sum(1 for x in diff if x <= 0) / len(diff)
        above = sum(1 for x in diff if x >= 0) / len(diff)
        assert table.loc[stat, "p_value"] == pytest.approx(max(1 / len(diff), min(1.0, 2 * min(below, above))))
    assert table.loc["kl_uniform_bits", "p_value"] == pytest.approx(1 / 1000)  # every replicate below 0
    assert 0.05 < table.loc["js_p1", "p_value"] < 1
    # Cohen's d over members: (1 - 2) / sqrt((1 * 2 + 2 * 3) / 3), by hand; none for a pair statistic
    assert table.loc["kl_uniform_bits", "effect_size_d"] == pytest.approx(-1 / np.sqrt(8 / 3))
    assert np.isnan(table.loc["js_p1", "effect_size_d"])


def test_sign_p_value_by_hand():
    # diff -1, 0, 1, 2, 3: P(<= 0) = 2/5, P(>= 0) = 4/5 -> 2 * 2/5
    assert bs.sign_p_value(np.array([-1.0, 0.0, 1.0, 2.0, 3.0])) == pytest.approx(0.8)
    assert bs.sign_p_value(np.array([0.0, 0.0])) == 1.0  # 2 * 1, clipped to 1
    assert bs.sign_p_value(np.arange(1.0, 201.0)) == pytest.approx(1 / 200)  # 0, clipped to 1/B
    assert bs.sign_p_value(np.array([-3.0, np.nan, 1.0, 2.0])) == pytest.approx(2 / 3)  # NaN left out: B = 3
    rng = np.random.default_rng(1)
    diff = rng.normal(0.3, 1.0, 500)
    loop = 2 * min(sum(x <= 0 for x in diff), sum(x >= 0 for x in diff)) / 500
    assert bs.sign_p_value(diff) == pytest.approx(loop)
    assert bs.difference_holds(diff, np.zeros(500), "greater")["p_value"] == pytest.approx(loop)


def test_effect_size_d_by_hand():
    # equal variances 1 (ddof 1), means 2 and 5: d = -3
    assert effect_size_d(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == pytest.approx(-3.0)
    # variances 2 and 3, n 2 and 3: pooled sqrt((1 * 2 + 2 * 3) / 3)
    assert effect_size_d(np.array([0.0, 2.0]), np.array([1.0, 1.0, 4.0])) == pytest.approx(-1 / np.sqrt(8 / 3))
    assert np.isnan(effect_size_d(np.array([1.0, 1.0]), np.array([2.0, 2.0])))  # no spread
    assert np.isnan(effect_size_d(np.array([1.0]), np.array([2.0])))  # no degrees of freedom

"""Findings from bootstrap replicates: directions, pairing of conditions, hand-made cases."""

import numpy as np
import pytest

from gfm_limits.confidence import findings


def test_a_finding_holds_only_when_its_whole_interval_is_on_the_claimed_side():
    rng = np.random.default_rng(0)
    noise = {c: rng.normal(0, 0.01, 1000) for c in ("dna", "text")}
    replicates = {"dna": {"kl_uniform_bits": 1.0 + noise["dna"], "js_p1": 0.50 + noise["dna"],
                          "context_gain_bits": 0.1 + noise["dna"]},
                  "text": {"kl_uniform_bits": 3.0 + noise["text"], "js_p1": 0.51 + noise["text"],
                           "context_gain_bits": 2.0 + noise["text"]}}
    estimates = {c: {k: float(np.mean(v)) for k, v in r.items()} for c, r in replicates.items()}
    table = findings(replicates, estimates, comparisons=[("dna", "text")], k=10, top_p=1.0, level=0.95,
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

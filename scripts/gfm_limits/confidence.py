"""Confidence intervals for the headline statistics, and whether each finding holds.

Per condition (`condition_replicates`): the Multi-Bootstrap (bootstrap.py;
Sellam et al. 2021) of every resampled statistic of headline.STATISTICS, members
and held-out examples resampled together as the statistic declares: held-out
rows for the output statistics and the pairwise JS and argmax disagreement (the
masked positions resampled by their row, a replicate the mean over all
positions of the drawn rows) and for the per-example Fisher shares, members
only for statistics with no examples to resample (embedding consistency and CKA
over the vocabulary, the paper's mini-batch Fisher). One set of member draws
serves every statistic of a replicate, one set of row draws every statistic
resampled by rows. The estimate is headline.point, the mean that
summary.tsv reports. The first statistic is `context_gain_bits`, the unigram
cross-entropy of the masked targets minus the model's
(metrics.context_gain_bits): whether the models learned anything beyond the
unigram plateau at all (headline.uses_context).

Across conditions (`findings`): each of headline.FINDINGS is a directed
comparison of a DNA condition with a text condition of the same model (the
same `model` changes); with independent draws per condition, the replicates
of the difference are the differences of the replicates, and the finding
holds at the chosen level when the whole percentile interval of the
difference lies on the claimed side of 0 (bootstrap.difference_holds). Beside
the interval, as MultiBERTs reports: `p_value`, the bootstrap's two-sided sign
probability of the difference (bootstrap.sign_p_value: 2 min(P(diff <= 0),
P(diff >= 0)) over the replicates, at least 1/B), and `effect_size_d`, Cohen's
d over members (`effect_size_d`: the difference of the member means over the
pooled between-member standard deviation, ddof 1). d is NaN for a statistic
with no per-member spread: one over pairs of members (a pair's value belongs to
two members, so pairs are no independent units), or where the pooled standard
deviation is 0 or undefined (fewer than three members in all). A
comparison is interpretable only when the text condition uses context: a text
model still on the unigram plateau is no reference for what DNA models lack,
and its row's verdict says so instead of "holds" / "does not hold".
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits.headline import (
    BY_KEY,
    CONTEXT_GAIN,
    FINDINGS,
    STATISTICS,
    Evidence,
    Settings,
    point,
    uses_context,
)

NOT_INTERPRETABLE = "not interpretable: the text models do not use context"


def condition_seed(condition: str) -> int:
    """The seed of a condition's draws: independent draws per condition, the same on every run."""
    return zlib.crc32(condition.encode())


def condition_replicates(tables: dict[str, pd.DataFrame], evidence: Evidence, *, k: int, top_p: float, n_boot: int,
                         condition: str) -> dict[str, tuple[float, str, np.ndarray]]:
    """statistic name -> (estimate, what is resampled, replicates (B,)) for one condition, every
    resampled statistic of headline.STATISTICS that the condition has. tables: the condition's
    tidy tables (stats.condition_stats); evidence: what the replicates resample; k, top_p: the
    summary's."""
    seed = condition_seed(condition)
    at = Settings(k, top_p)
    draws: dict[str, bs.Draws] = {}
    out: dict[str, tuple[float, str, np.ndarray]] = {}
    for stat in STATISTICS:
        if stat.resampled is None:
            continue
        values = stat.values(tables, at)
        if values.empty:
            continue
        if stat.resampled not in draws:  # the same member draws for each, from the same seed
            draws[stat.resampled] = evidence.draws(stat.resampled, n_boot, seed)
        out[stat.name(at)] = (point(values), stat.resampled, stat.replicates(values, evidence, draws[stat.resampled]))
    return out


def ci_table(replicates: dict[str, tuple[float, str, np.ndarray]], level: float) -> pd.DataFrame:
    """One row per statistic: estimate, percentile interval, valid replicates, what was resampled."""
    rows = [{"statistic": name, **bs.summarize_ci(estimate, reps, level), "resampled": resampled, "level": level}
            for name, (estimate, resampled, reps) in replicates.items()]
    return pd.DataFrame(rows)


def member_values(tables: dict[str, pd.DataFrame], *, k: int, top_p: float) -> dict[str, np.ndarray]:
    """statistic name -> its values (n,), one per member, of every resampled statistic over
    members that the condition has (the spread behind effect_size_d)."""
    at = Settings(k, top_p)
    out = {}
    for stat in STATISTICS:
        if stat.over == "members" and stat.resampled is not None:
            values = stat.values(tables, at)
            if not values.empty:
                out[stat.name(at)] = values.to_numpy(dtype=np.float64)
    return out


def effect_size_d(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d of a against b: (mean(a) - mean(b)) / the pooled standard deviation
    sqrt(((n_a - 1) var_a + (n_b - 1) var_b) / (n_a + n_b - 2)), variances with ddof 1;
    NaN where that is undefined (n_a + n_b < 3) or 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    dof = a.size + b.size - 2
    if a.size == 0 or b.size == 0 or dof < 1:
        return float("nan")
    pooled = np.sqrt((((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / dof)
    return float((a.mean() - b.mean()) / pooled) if pooled > 0 else float("nan")


def _effect_size(members: dict[str, dict[str, np.ndarray]], stat: str, over: str, dna: str, text: str) -> float:
    if over != "members":  # no per-member spread
        return float("nan")
    missing = [c for c in (dna, text) if stat not in members[c]]
    if missing:
        raise ValueError(f"no per-member values of {stat} for {missing}; rerun their stats rule")
    return effect_size_d(members[dna][stat], members[text][stat])


def _context(replicates: dict[str, np.ndarray], estimates: dict[str, float], condition: str,
             level: float) -> tuple[float, float]:
    """A condition's context gain (bits per masked token) and the low end of its interval."""
    if CONTEXT_GAIN not in replicates or CONTEXT_GAIN not in estimates:
        raise ValueError(f"condition {condition!r} has no {CONTEXT_GAIN} replicates; rerun its stats rule")
    return float(estimates[CONTEXT_GAIN]), bs.interval(replicates[CONTEXT_GAIN], level)[0]


def findings(replicates: dict[str, dict[str, np.ndarray]], estimates: dict[str, dict[str, float]],
             members: dict[str, dict[str, np.ndarray]], *, comparisons: list[tuple[str, str]], k: int, top_p: float,
             level: float, min_context_bits: float) -> pd.DataFrame:
    """One row per (finding of headline.FINDINGS, DNA condition, text condition): whether both use
    context (the text one must, for the row to be interpretable), the difference DNA - text, its
    interval, the bootstrap's sign probability (p_value) and Cohen's d over members
    (effect_size_d), whether the claim holds, and the verdict. replicates/estimates: condition ->
    statistic name -> ...; members: condition -> member_values; k, top_p: the summary's."""
    at = Settings(k, top_p)
    context = {}
    for dna, text in comparisons:
        (dna_gain, dna_low), (text_gain, text_low) = (_context(replicates[c], estimates[c], c, level)
                                                      for c in (dna, text))
        context[dna, text] = {"text_context_gain_bits": text_gain, "text_context_ci_low": text_low,
                              "dna_context_gain_bits": dna_gain, "dna_context_ci_low": dna_low,
                              "min_context_bits": min_context_bits,
                              "interpretable": uses_context(text_gain, text_low, min_context_bits)}
    rows = []
    for finding in FINDINGS:
        declared = BY_KEY[finding.statistic]
        stat = declared.name(at)
        for dna, text in comparisons:
            if stat not in replicates[dna] or stat not in replicates[text]:
                continue
            test = bs.difference_holds(replicates[dna][stat], replicates[text][stat], finding.direction, level)
            holds = bool(test["holds"])
            verdict = "holds" if holds else "does not hold"
            verdict = verdict if context[dna, text]["interpretable"] else NOT_INTERPRETABLE
            rows.append({"finding": finding.text, "statistic": stat, "definition": finding.definition,
                         "claim": finding.claim,
                         "dna": dna, "text": text, **context[dna, text], "verdict": verdict,
                         "dna_estimate": estimates[dna][stat], "text_estimate": estimates[text][stat],
                         "difference": estimates[dna][stat] - estimates[text][stat],
                         "ci_low": test["ci_low"], "ci_high": test["ci_high"], "level": level,
                         "p_value": test["p_value"],
                         "effect_size_d": _effect_size(members, stat, declared.over, dna, text), "holds": holds})
    return pd.DataFrame(rows)

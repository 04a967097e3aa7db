"""Confidence intervals for the headline statistics, and whether each finding holds.

Per condition (`condition_replicates`): the Multi-Bootstrap (bootstrap.py;
Sellam et al. 2021) of every statistic in summary.tsv, members and held-out
examples resampled together: masked positions for the output statistics and
the pairwise JS and argmax disagreement, held-out rows for the per-example
Fisher shares, members only for statistics with no examples to resample
(embedding consistency and CKA over the vocabulary, the paper's mini-batch
Fisher). One set of member draws serves every statistic of a replicate.
The first statistic is `context_gain_bits`, the unigram cross-entropy of the
masked targets minus the model's (metrics.context_gain_bits): whether the
models learned anything beyond the unigram plateau at all (`uses_context`).

Across conditions (`findings`): each of the paper's findings is a directed
comparison of a DNA condition with a text condition of the same model (the
same `model` changes); with independent draws per condition, the replicates
of the difference are the differences of the replicates, and the finding
holds at the chosen level when the whole percentile interval of the
difference lies on the claimed side of 0 (bootstrap.difference_holds). A
comparison is interpretable only when the text condition uses context: a text
model still on the unigram plateau is no reference for what DNA models lack,
and its row's verdict says so instead of "holds" / "does not hold".
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits import metrics
from gfm_limits.stats import SPLIT_ROWS, fisher_shares

# (finding, statistic stem, claimed direction of DNA against text); stems take the
# summary's k and top-p (see `headline_names`)
FINDINGS = (
    ("DNA outputs are nearer uniform", "kl_uniform_bits", "less"),
    ("DNA members disagree more", "js", "greater"),
    ("DNA members disagree more", "disagreement", "greater"),
    ("DNA static embeddings are less consistent", "jaccard", "less"),
    ("DNA static embeddings are less consistent", "spearman", "less"),
    ("DNA static embeddings are less consistent", "procrustes", "greater"),
    ("DNA models hold more Fisher in the embeddings", "fisher_share_embeddings", "greater"),
    ("DNA models hold more Fisher in the embeddings", "fisher_pe_share_embeddings", "greater"),
)


CONTEXT_GAIN = "context_gain_bits"
NOT_INTERPRETABLE = "not interpretable: the text models do not use context"


def uses_context(gain_bits: float, ci_low: float, min_context_bits: float) -> bool:
    """The models learned beyond the unigram plateau: a context gain of at least
    min_context_bits per masked token whose interval lies above 0."""
    return bool(gain_bits >= min_context_bits and ci_low > 0)


def headline_names(k: int, top_p: float) -> dict[str, str]:
    """Statistic stem -> the name used in summary.tsv, ci.tsv and findings.tsv."""
    return {"js": f"js_p{top_p:g}", "jaccard": f"jaccard_k{k}"}


def _member_values(loaded: list[dict], unigram: np.ndarray) -> dict[str, np.ndarray]:
    """Per member and masked position (S, M): context gain over the unigram model (V,),
    entropy, KL from uniform, cross-entropy, correct."""
    members = {CONTEXT_GAIN: [], "entropy_bits": [], "kl_uniform_bits": [], "cross_entropy_bits": [], "accuracy": []}
    for data in loaded:
        probs, targets = data["probs"], data["targets"]
        members[CONTEXT_GAIN].append(metrics.context_gain_bits(probs, targets, unigram))
        members["entropy_bits"].append(metrics.entropy_bits(probs))
        members["kl_uniform_bits"].append(metrics.kl_uniform_bits(probs))
        members["cross_entropy_bits"].append(metrics.cross_entropy_nats(probs, targets) / np.log(2.0))
        members["accuracy"].append((probs.argmax(axis=-1) == targets).astype(np.float64))
    return {name: np.stack(v) for name, v in members.items()}


def _pair_scalars(table: pd.DataFrame, seeds: list[int], column: str) -> dict[tuple[int, int], np.ndarray]:
    index = {seed: i for i, seed in enumerate(seeds)}
    return {(index[a], index[b]): np.asarray(v) for a, b, v in table[["seed_a", "seed_b", column]].itertuples(index=False)}


def _fisher_rows(paths: list[str]) -> dict[str, np.ndarray]:
    """Numerators and denominators (S, R) of the per-example Fisher shares."""
    parts = {"embeddings": [], "transformer": [], "head": [], "total": [], "decoder": [], "word": []}
    for path in paths:
        data = np.load(path)
        groups, values = list(data["groups"]), data["values"]  # (R, G)
        col = {g: values[:, i] for i, g in enumerate(groups)}
        model = [g for g in groups if g not in SPLIT_ROWS]
        parts["embeddings"].append(col["embeddings"])
        parts["head"].append(col["head"])
        parts["transformer"].append(sum((col[g] for g in model if g.startswith("encoder.")), np.zeros(len(values))))
        parts["total"].append(sum(col[g] for g in model))
        parts["decoder"].append(col["word_decoder"])
        parts["word"].append(col["word_input"] + col["word_decoder"])
    return {name: np.stack(v) for name, v in parts.items()}


def condition_replicates(loaded: dict[int, dict], positions: dict[tuple[int, int], dict], fisher_rows: list[str],
                         tables: dict[str, pd.DataFrame], k: int, top_p: float, n_boot: int,
                         condition: str, *, unigram: np.ndarray) -> dict[str, tuple[float, str, np.ndarray]]:
    """statistic -> (estimate, what is resampled, replicates (B,)) for one condition.
    loaded: seed -> predictions; positions: stats.output_tables' per-position pair values;
    fisher_rows: the members' per-row Fisher files, in seed order; unigram: (V,) the
    unigram model of the training tokens (stats.training_unigram)."""
    seed = zlib.crc32(condition.encode())  # independent draws per condition, the same on every run
    seeds = sorted(loaded)
    index = {s: i for i, s in enumerate(seeds)}
    members = _member_values([loaded[s] for s in seeds], unigram)
    pairs = {name: {(index[a], index[b]): values[name] for (a, b), values in positions.items()}
             for name in ("js", "disagreement")}
    n_positions = members["accuracy"].shape[1]
    on_positions = bs.draws(len(seeds), n_positions, n_boot, seed)
    only_members = bs.draws(len(seeds), None, n_boot, seed)
    names = headline_names(k, top_p)
    out: dict[str, tuple[float, str, np.ndarray]] = {}
    for name, values in members.items():
        out[name] = (float(values.mean()), "members+positions", bs.member_mean(values, on_positions))
    for stem, values in pairs.items():
        point = float(np.mean([v.mean() for v in values.values()]))
        out[names.get(stem, stem)] = (point, "members+positions", bs.pair_mean(values, on_positions))
    topk = tables["topk"][tables["topk"]["k"] == k]
    scalar_pairs = {"spearman": (tables["pairs"], "spearman"), "procrustes": (tables["pairs"], "procrustes"),
                    names["jaccard"]: (topk, "jaccard")}
    cka = tables["cka"]
    for (space, kernel), sub in cka.groupby(["space", "kernel"]):
        scalar_pairs[f"cka_{space}_{kernel}"] = (sub, "cka")
    for name, (table, column) in scalar_pairs.items():
        values = _pair_scalars(table, seeds, column)
        out[name] = (float(table[column].mean()), "members", bs.pair_mean(values, only_members))
    shares = fisher_shares(tables["fisher"]).reindex(seeds)
    for part in ("embeddings", "transformer", "head"):
        values = shares[part].to_numpy()
        out[f"fisher_share_{part}"] = (float(values.mean()), "members", bs.member_mean(values, only_members))
    rows = _fisher_rows(fisher_rows)
    on_rows = bs.draws(len(seeds), rows["total"].shape[1], n_boot, seed)
    for part in ("embeddings", "transformer", "head"):
        point = float(np.mean(rows[part].sum(1) / rows["total"].sum(1)))
        out[f"fisher_pe_share_{part}"] = (point, "members+rows", bs.member_ratio(rows[part], rows["total"], on_rows))
    point = float(np.mean(rows["decoder"].sum(1) / rows["word"].sum(1)))
    out["fisher_pe_word_decoder_part"] = (point, "members+rows", bs.member_ratio(rows["decoder"], rows["word"], on_rows))
    return out


def ci_table(replicates: dict[str, tuple[float, str, np.ndarray]], level: float) -> pd.DataFrame:
    """One row per statistic: estimate, percentile interval, valid replicates, what was resampled."""
    rows = [{"statistic": name, **bs.summarize_ci(point, reps, level), "resampled": resampled, "level": level}
            for name, (point, resampled, reps) in replicates.items()]
    return pd.DataFrame(rows)


def _context(replicates: dict[str, np.ndarray], estimates: dict[str, float], condition: str,
             level: float) -> tuple[float, float]:
    """A condition's context gain (bits per masked token) and the low end of its interval."""
    if CONTEXT_GAIN not in replicates or CONTEXT_GAIN not in estimates:
        raise ValueError(f"condition {condition!r} has no {CONTEXT_GAIN} replicates; rerun its stats rule")
    return float(estimates[CONTEXT_GAIN]), bs.interval(replicates[CONTEXT_GAIN], level)[0]


def findings(replicates: dict[str, dict[str, np.ndarray]], estimates: dict[str, dict[str, float]],
             comparisons: list[tuple[str, str]], k: int, top_p: float, level: float, *,
             min_context_bits: float) -> pd.DataFrame:
    """One row per (finding statistic, DNA condition, text condition): whether both use context
    (the text one must, for the row to be interpretable), the difference DNA - text, its
    interval, whether the claim holds, and the verdict. replicates/estimates: condition ->
    statistic -> ..."""
    names = headline_names(k, top_p)
    context = {}
    for dna, text in comparisons:
        (dna_gain, dna_low), (text_gain, text_low) = (_context(replicates[c], estimates[c], c, level)
                                                      for c in (dna, text))
        context[dna, text] = {"text_context_gain_bits": text_gain, "text_context_ci_low": text_low,
                              "dna_context_gain_bits": dna_gain, "dna_context_ci_low": dna_low,
                              "min_context_bits": min_context_bits,
                              "interpretable": uses_context(text_gain, text_low, min_context_bits)}
    rows = []
    for finding, stem, direction in FINDINGS:
        stat = names.get(stem, stem)
        for dna, text in comparisons:
            if stat not in replicates[dna] or stat not in replicates[text]:
                continue
            test = bs.difference_holds(replicates[dna][stat], replicates[text][stat], direction, level)
            holds = bool(test["holds"])
            verdict = "holds" if holds else "does not hold"
            verdict = verdict if context[dna, text]["interpretable"] else NOT_INTERPRETABLE
            rows.append({"finding": finding, "statistic": stat, "claim": f"DNA {'<' if direction == 'less' else '>'} text",
                         "dna": dna, "text": text, **context[dna, text], "verdict": verdict,
                         "dna_estimate": estimates[dna][stat], "text_estimate": estimates[text][stat],
                         "difference": estimates[dna][stat] - estimates[text][stat],
                         "ci_low": test["ci_low"], "ci_high": test["ci_high"], "level": level, "holds": holds})
    return pd.DataFrame(rows)

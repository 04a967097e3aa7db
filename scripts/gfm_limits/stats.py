"""Tidy statistics tables for one condition, and the summary over conditions.

Per condition (results/stats/{condition}/): outputs.tsv (one row per member,
with the cross-entropy of a unigram model of the training tokens beside the
model's own: the no-context baseline),
js.tsv (pair x top_p), pairs.tsv (one row per pair: argmax disagreement,
Spearman, Procrustes), topk.tsv (pair x k), fisher.tsv (member x group, with
shares), sorted_probs.tsv (the averaged sorted output distribution).
summary.tsv: one row per condition, mean and population std (ddof=0, as the
paper) over members or pairs.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gfm_limits import embeddings as emb
from gfm_limits import metrics
from gfm_limits.files import atomic_path

log = logging.getLogger(__name__)

from gfm_limits.layout import SPECIAL_TOKENS, TABLES


@dataclass(frozen=True)
class StatsConfig:
    top_p: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    top_k: list[int] = field(default_factory=lambda: [1, 3, 5, 10, 20, 50, 100])


def _write(df: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.8g")


def output_tables(predictions: dict[int, str], train_tokens: str, cfg: StatsConfig) -> dict[str, pd.DataFrame]:
    """Per-member output statistics (beside the unigram baseline of the training tokens),
    pairwise JS and disagreement, mean sorted distribution."""
    loaded = {seed: np.load(path) for seed, path in predictions.items()}
    probs = {seed: data["probs"] for seed, data in loaded.items()}
    vocab_size = next(iter(probs.values())).shape[1]
    unigram = metrics.unigram_probs(np.load(train_tokens), vocab_size, len(SPECIAL_TOKENS))
    outputs = pd.DataFrame([{"seed": seed, **metrics.output_summary(probs[seed], data["targets"]),
                             "unigram_cross_entropy_bits": metrics.unigram_cross_entropy_bits(unigram, data["targets"])}
                            for seed, data in loaded.items()])
    js_rows, pair_rows = [], []
    for a, b in itertools.combinations(sorted(probs), 2):
        pair_rows.append({"seed_a": a, "seed_b": b, "disagreement": metrics.disagreement(probs[a], probs[b])})
        for top_p, js in metrics.js_distance_top_p(probs[a], probs[b], cfg.top_p).items():
            js_rows.append({"seed_a": a, "seed_b": b, "top_p": top_p, "js_distance": float(js.mean())})
    sorted_mean = np.mean([metrics.mean_sorted_distribution(p) for p in probs.values()], axis=0)
    sorted_probs = pd.DataFrame({"rank": np.arange(1, len(sorted_mean) + 1), "probability": sorted_mean})
    return {"outputs": outputs, "js": pd.DataFrame(js_rows), "pairs": pd.DataFrame(pair_rows),
            "sorted_probs": sorted_probs}


def embedding_tables(paths: dict[int, str], cfg: StatsConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairwise Spearman and Procrustes (one row per pair); top-k Jaccard and both local
    Spearman versions (pair x k; the corrected one is undefined at k = 1)."""
    mats = {seed: np.load(path) for seed, path in paths.items()}
    cos = {seed: emb.cosine_similarity(m) for seed, m in mats.items()}
    nn = {seed: emb.nearest_neighbours(c, max(cfg.top_k)) for seed, c in cos.items()}  # (V, k_max), once
    pair_rows, topk_rows = [], []
    for a, b in itertools.combinations(sorted(mats), 2):
        pair_rows.append({"seed_a": a, "seed_b": b, "spearman": emb.spearman_similarity(cos[a], cos[b]),
                          "procrustes": emb.procrustes_disparity(mats[a], mats[b])})
        for k in cfg.top_k:
            nn_a, nn_b = nn[a][:, :k], nn[b][:, :k]
            topk_rows.append({"seed_a": a, "seed_b": b, "k": k, "jaccard": emb.jaccard(nn_a, nn_b),
                              "local_spearman": emb.local_spearman(cos[a], cos[b], nn_a, nn_b) if k > 1 else np.nan,
                              "local_spearman_paper": emb.local_spearman_paper(cos[a], cos[b], nn_a)})
    return pd.DataFrame(pair_rows), pd.DataFrame(topk_rows)


SPLIT_ROWS = ("word_input", "word_decoder")  # per-example Fisher: the tied embedding's two uses


def fisher_table(paths: dict[int, str]) -> pd.DataFrame:
    """Every member's Fisher groups with their share of the member's total (the total over
    the model's groups; the word_input / word_decoder rows are shares of that same total)."""
    frames = []
    for seed, path in sorted(paths.items()):
        df = pd.read_csv(path, sep="\t")
        df.insert(0, "seed", seed)
        df["share"] = df["fisher"] / df.loc[~df["group"].isin(SPLIT_ROWS), "fisher"].sum()
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def condition_stats(predictions: dict[int, str], embeddings: dict[int, str], fishers: dict[int, str],
                    train_tokens: str, out: dict[str, str], cfg: StatsConfig,
                    fishers_per_example: dict[int, str] | None = None) -> None:
    """Compute and write every per-condition table named in TABLES."""
    if len(predictions) < 2:
        raise ValueError(f"pairwise statistics need at least two members, got seeds {sorted(predictions)}")
    tables = output_tables(predictions, train_tokens, cfg)
    emb_pairs, tables["topk"] = embedding_tables(embeddings, cfg)
    tables["pairs"] = tables["pairs"].merge(emb_pairs, on=["seed_a", "seed_b"])
    tables["fisher"] = fisher_table(fishers)
    tables["fisher_per_example"] = fisher_table(fishers_per_example or fishers)
    for name in TABLES:
        _write(tables[name], out[name])
    log.info("wrote %s", ", ".join(out[name] for name in TABLES))


def _mean_std(values: pd.Series, name: str) -> dict[str, float]:
    return {f"{name}_mean": float(values.mean()), f"{name}_std": float(values.std(ddof=0))}


def fisher_shares(fisher: pd.DataFrame) -> pd.DataFrame:
    """Per member: the Fisher share of embeddings, all transformer layers, and head."""
    fisher = fisher[~fisher["group"].isin(SPLIT_ROWS)]
    kind = fisher["group"].where(~fisher["group"].str.startswith("encoder."), "transformer")
    return fisher.assign(part=kind).pivot_table(index="seed", columns="part", values="share", aggfunc="sum")


def condition_summary(condition: str, tables: dict[str, pd.DataFrame], k: int, top_p: float) -> dict:
    """One summary row: mean and std over members (outputs, Fisher) or pairs (agreement)."""
    row: dict = {"condition": condition, "members": len(tables["outputs"])}
    for col in ("kl_uniform_bits", "entropy_bits", "cross_entropy_bits", "unigram_cross_entropy_bits", "accuracy",
                "perplexity"):
        row |= _mean_std(tables["outputs"][col], col)
    js = tables["js"]
    row |= _mean_std(js.loc[np.isclose(js["top_p"], top_p), "js_distance"], f"js_p{top_p:g}")
    for col in ("disagreement", "spearman", "procrustes"):
        row |= _mean_std(tables["pairs"][col], col)
    topk = tables["topk"]
    row |= _mean_std(topk.loc[topk["k"] == k, "jaccard"], f"jaccard_k{k}")
    shares = fisher_shares(tables["fisher"])
    for part in ("embeddings", "transformer", "head"):
        row |= _mean_std(shares[part], f"fisher_share_{part}")
    per_example = tables["fisher_per_example"]
    shares = fisher_shares(per_example)
    for part in ("embeddings", "transformer", "head"):
        row |= _mean_std(shares[part], f"fisher_pe_share_{part}")
    split = per_example[per_example["group"].isin(SPLIT_ROWS)].pivot_table(index="seed", columns="group",
                                                                           values="fisher")
    if set(SPLIT_ROWS) <= set(split.columns):
        row |= _mean_std(split["word_decoder"] / (split["word_input"] + split["word_decoder"]),
                         "fisher_pe_word_decoder_part")
    return row


def summarize(stat_dirs: dict[str, str], out: str, k: int = 10, top_p: float = 1.0) -> pd.DataFrame:
    """summary.tsv: one row per condition from the per-condition tables."""
    rows = []
    for condition, directory in stat_dirs.items():
        tables = {name: pd.read_csv(Path(directory) / f"{name}.tsv", sep="\t") for name in TABLES}
        rows.append(condition_summary(condition, tables, k, top_p))
    summary = pd.DataFrame(rows)
    _write(summary, out)
    return summary

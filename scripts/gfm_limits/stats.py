"""Tidy statistics tables for one condition, and the summary over conditions.

Per condition (results/stats/{condition}/): outputs.tsv (one row per member,
with the cross-entropy of a unigram model of the training tokens beside the
model's own: the no-context baseline),
js.tsv (pair x top_p), pairs.tsv (one row per pair: argmax disagreement,
Spearman, Procrustes), topk.tsv (pair x k), fisher.tsv (member x group, with
shares), sorted_probs.tsv (the averaged sorted output distribution),
cka.tsv (pair x static|contextual x linear|rbf), bands.tsv (the output and
agreement statistics by training-frequency band of the target token), ci.tsv
(Multi-Bootstrap intervals, confidence.py) with their replicates beside it.
summary.tsv: one row per condition, mean and population std (ddof=0, as the
paper) over members or pairs. Its first columns say whether the models use
context at all (`context_summary`): the gain over the unigram model in bits per
masked token with its interval, both cross-entropies, the distance to the best
baseline, and `uses_context`; every later column is read in that light.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

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
    summary_k: int = 10
    summary_top_p: float = 1.0
    frequency_bands: int = 3
    cka_sigma: float = 0.5
    bootstrap: int = 1000
    confidence: float = 0.95
    min_context_bits: float = 0.5


def training_unigram(train_tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """The no-context baseline: the smoothed unigram model of the training tokens, (V,)."""
    return metrics.unigram_probs(train_tokens, vocab_size, len(SPECIAL_TOKENS))


def _write(df: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.8g")


def output_tables(loaded: dict[int, dict], train_tokens: np.ndarray,
                  cfg: StatsConfig) -> tuple[dict[str, pd.DataFrame], dict[tuple[int, int], dict]]:
    """Per-member output statistics (beside the unigram baseline of the training tokens),
    pairwise JS and disagreement, mean sorted distribution; and per pair of seeds, the JS
    distance at summary_top_p and the argmax disagreement at every position, (M,) each."""
    probs = {seed: data["probs"] for seed, data in loaded.items()}
    vocab_size = next(iter(probs.values())).shape[1]
    unigram = training_unigram(train_tokens, vocab_size)
    outputs = pd.DataFrame([{"seed": seed, **metrics.output_summary(probs[seed], data["targets"]),
                             "unigram_cross_entropy_bits": metrics.unigram_cross_entropy_bits(unigram, data["targets"])}
                            for seed, data in loaded.items()])
    js_rows, pair_rows, positions = [], [], {}
    for a, b in itertools.combinations(sorted(probs), 2):
        pair_rows.append({"seed_a": a, "seed_b": b, "disagreement": metrics.disagreement(probs[a], probs[b])})
        by_top_p = metrics.js_distance_top_p(probs[a], probs[b], cfg.top_p)
        for top_p, js in by_top_p.items():
            js_rows.append({"seed_a": a, "seed_b": b, "top_p": top_p, "js_distance": float(js.mean())})
        summary_top_p = next(p for p in cfg.top_p if np.isclose(p, cfg.summary_top_p))  # config.py checks it is there
        positions[(a, b)] = {"js": by_top_p[summary_top_p],
                             "disagreement": (probs[a].argmax(axis=-1) != probs[b].argmax(axis=-1)).astype(np.float64)}
    sorted_mean = np.mean([metrics.mean_sorted_distribution(p) for p in probs.values()], axis=0)
    sorted_probs = pd.DataFrame({"rank": np.arange(1, len(sorted_mean) + 1), "probability": sorted_mean})
    tables = {"outputs": outputs, "js": pd.DataFrame(js_rows), "pairs": pd.DataFrame(pair_rows),
              "sorted_probs": sorted_probs}
    return tables, positions


def embedding_tables(mats: dict[int, np.ndarray],
                     cfg: StatsConfig) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, np.ndarray]]:
    """Pairwise Spearman and Procrustes (one row per pair); top-k Jaccard and both local
    Spearman versions (pair x k; the corrected one is undefined at k = 1); and each member's
    max(top_k) nearest neighbours, (V, k_max), most similar first."""
    cos = {seed: emb.cosine_similarity(m) for seed, m in mats.items()}
    nn = {seed: emb.nearest_neighbours(c, max(cfg.top_k)) for seed, c in cos.items()}  # (V, k_max), once
    ranks = {seed: emb.similarity_ranks(c) for seed, c in cos.items()}  # (V, V - 1), once
    pair_rows, topk_rows = [], []
    for a, b in itertools.combinations(sorted(mats), 2):
        pair_rows.append({"seed_a": a, "seed_b": b, "spearman": emb.spearman_from_ranks(ranks[a], ranks[b]),
                          "procrustes": emb.procrustes_disparity(mats[a], mats[b])})
        for k in cfg.top_k:
            nn_a, nn_b = nn[a][:, :k], nn[b][:, :k]
            topk_rows.append({"seed_a": a, "seed_b": b, "k": k, "jaccard": emb.jaccard(nn_a, nn_b),
                              "local_spearman": emb.local_spearman(cos[a], cos[b], nn_a, nn_b) if k > 1 else np.nan,
                              "local_spearman_paper": emb.local_spearman_paper(cos[a], cos[b], nn_a)})
    return pd.DataFrame(pair_rows), pd.DataFrame(topk_rows), nn


def cka_table(mats: dict[int, np.ndarray], loaded: dict[int, dict], sigma: float) -> pd.DataFrame:
    """Linear and RBF CKA between every pair of members, of the static embeddings (over the
    vocabulary) and of the contextual ones (final hidden states at the shared masked positions)."""
    spaces = {"static": mats, "contextual": {seed: data["hidden"] for seed, data in loaded.items()}}
    rows = []
    for space, mats in spaces.items():
        for a, b in itertools.combinations(sorted(mats), 2):
            if len(mats[a]) < 3:  # no contextual positions kept (extract.contextual_positions 0)
                continue
            for kernel, cka in (("linear", emb.linear_cka), ("rbf", lambda x, y: emb.rbf_cka(x, y, sigma))):
                rows.append({"seed_a": a, "seed_b": b, "space": space, "kernel": kernel, "items": len(mats[a]),
                             "cka": cka(mats[a], mats[b])})
    return pd.DataFrame(rows, columns=["seed_a", "seed_b", "space", "kernel", "items", "cka"])


def frequency_bands(train_tokens: np.ndarray, vocab_size: int, n_bands: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Each non-special token type's band (0 = most frequent in training), -1 for specials, and
    the bands' rank ranges and training counts. Types are ranked by count (ties by id) and split
    into n_bands groups of (nearly) equal size."""
    n_special = len(SPECIAL_TOKENS)
    counts = np.bincount(train_tokens.ravel(), minlength=vocab_size)[:vocab_size]
    order = n_special + np.argsort(-counts[n_special:], kind="stable")  # ids, most frequent first
    band = np.full(vocab_size, -1)
    rows, rank = [], 0
    for b, ids in enumerate(np.array_split(order, n_bands)):
        band[ids] = b
        rows.append({"band": b, "rank_from": rank + 1, "rank_to": rank + len(ids),
                     "count_min": int(counts[ids].min()), "count_max": int(counts[ids].max()),
                     "train_share": float(counts[ids].sum() / counts[n_special:].sum())})
        rank += len(ids)
    return band, pd.DataFrame(rows)


def bands_table(loaded: dict[int, dict], positions: dict[tuple[int, int], dict], nn: dict[int, np.ndarray],
                train_tokens: np.ndarray, cfg: StatsConfig) -> pd.DataFrame:
    """Statistics by the training-frequency band of the target token (positions) or of the
    token itself (embedding top-k overlap), from output_tables' per-position pair values and
    embedding_tables' neighbours. Long format: band, statistic, seed_a, seed_b, value."""
    first = next(iter(loaded.values()))
    vocab_size = first["probs"].shape[1]
    band_of, bands = frequency_bands(train_tokens, vocab_size, cfg.frequency_bands)
    target_band = band_of[first["targets"]]  # (M,)
    rows = []
    for b in bands["band"]:
        at = target_band == b
        if not at.any():
            continue
        for seed, data in loaded.items():
            for name, value in metrics.output_summary(data["probs"][at], data["targets"][at]).items():
                rows.append({"band": b, "statistic": name, "seed_a": seed, "seed_b": np.nan, "value": value,
                             "items": int(at.sum())})
        for (a, bb), values in positions.items():
            for name, value in ((f"js_p{cfg.summary_top_p:g}", float(values["js"][at].mean())),
                                ("disagreement", float(values["disagreement"][at].mean()))):
                rows.append({"band": b, "statistic": name, "seed_a": a, "seed_b": bb, "value": value,
                             "items": int(at.sum())})
    k = cfg.summary_k
    for a, bb in itertools.combinations(sorted(nn), 2):
        for b in bands["band"]:
            ids = np.flatnonzero(band_of == b)
            rows.append({"band": b, "statistic": f"jaccard_k{k}", "seed_a": a, "seed_b": bb,
                         "value": emb.jaccard(nn[a][ids, :k], nn[bb][ids, :k]), "items": len(ids)})
    return pd.DataFrame(rows).merge(bands, on="band")


SPLIT_ROWS = ("word_input", "word_decoder")  # per-example Fisher: the tied embedding's two uses


def fisher_table(paths: dict[int, str]) -> pd.DataFrame:
    """Every member's Fisher groups with their share of the member's total (the total over
    the model's groups; the word_input / word_decoder rows are shares of that same total)."""
    frames = []
    for seed, path in sorted(paths.items()):
        df = pd.read_csv(path, sep="\t")
        df.insert(0, "seed", seed)
        df["share"] = fisher_share(df)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def fisher_share(member: pd.DataFrame) -> pd.Series:
    """Each Fisher group's share of one member's total over the model's groups (group, fisher)."""
    return member["fisher"] / member.loc[~member["group"].isin(SPLIT_ROWS), "fisher"].sum()


def condition_stats(predictions: dict[int, str], embeddings: dict[int, str], fishers: dict[int, str],
                    fishers_per_example: dict[int, str], fisher_rows: dict[int, str], train_tokens: str,
                    out: dict[str, str], replicates_out: str, cfg: StatsConfig, condition: str) -> None:
    """Compute and write every per-condition table named in TABLES, and the bootstrap
    replicates behind ci.tsv (.npz, statistic -> (B,))."""
    from gfm_limits import confidence

    if len(predictions) < 2:
        raise ValueError(f"pairwise statistics need at least two members, got seeds {sorted(predictions)}")
    seeds = sorted(predictions)
    loaded = {seed: dict(np.load(predictions[seed])) for seed in seeds}  # each file read once
    mats = {seed: np.load(embeddings[seed]) for seed in seeds}
    tokens = np.load(train_tokens)
    tables, positions = output_tables(loaded, tokens, cfg)
    emb_pairs, tables["topk"], nn = embedding_tables(mats, cfg)
    tables["pairs"] = tables["pairs"].merge(emb_pairs, on=["seed_a", "seed_b"])
    tables["fisher"] = fisher_table(fishers)
    tables["fisher_per_example"] = fisher_table(fishers_per_example)
    tables["cka"] = cka_table(mats, loaded, cfg.cka_sigma)
    tables["bands"] = bands_table(loaded, positions, nn, tokens, cfg)
    unigram = training_unigram(tokens, loaded[seeds[0]]["probs"].shape[1])
    reps = confidence.condition_replicates(loaded, positions, [fisher_rows[s] for s in seeds], tables,
                                           cfg.summary_k, cfg.summary_top_p, cfg.bootstrap, condition,
                                           unigram=unigram)
    tables["ci"] = confidence.ci_table(reps, cfg.confidence)
    for name in TABLES:
        _write(tables[name], out[name])
    with atomic_path(replicates_out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **{name: r for name, (_, _, r) in reps.items()})
    log.info("wrote %s", ", ".join(out[name] for name in TABLES))


def _mean_std(values: pd.Series, name: str) -> dict[str, float]:
    return {f"{name}_mean": float(values.mean()), f"{name}_std": float(values.std(ddof=0))}


def fisher_shares(fisher: pd.DataFrame) -> pd.DataFrame:
    """Per member: the Fisher share of embeddings, all transformer layers, and head."""
    fisher = fisher[~fisher["group"].isin(SPLIT_ROWS)]
    kind = fisher["group"].where(~fisher["group"].str.startswith("encoder."), "transformer")
    shares = fisher.assign(part=kind).pivot_table(index="seed", columns="part", values="share", aggfunc="sum")
    return shares.reindex(columns=["embeddings", "transformer", "head"], fill_value=0.0)  # no layers: 0


def context_summary(tables: dict[str, pd.DataFrame], min_context_bits: float,
                    baselines: pd.DataFrame | None = None) -> dict:
    """The leading columns of a summary row: do the models use context? The gain over the
    unigram model (mean and std over members; interval from ci.tsv), both cross-entropies in
    bits per masked token, with baselines the model's excess over the best baseline per token
    (model CE - best bits per character x characters per token) and per character, and
    uses_context (confidence.uses_context on the ci.tsv estimate and interval)."""
    from gfm_limits.confidence import CONTEXT_GAIN, uses_context

    outputs, ci = tables["outputs"], tables["ci"].set_index("statistic")
    if CONTEXT_GAIN not in ci.index:
        raise ValueError(f"ci.tsv has no {CONTEXT_GAIN} row; rerun the stats rule")
    gain = ci.loc[CONTEXT_GAIN]
    row = {"uses_context": uses_context(float(gain["estimate"]), float(gain["ci_low"]), min_context_bits),
           **_mean_std(outputs["unigram_cross_entropy_bits"] - outputs["cross_entropy_bits"], CONTEXT_GAIN),
           f"{CONTEXT_GAIN}_ci_low": float(gain["ci_low"]), f"{CONTEXT_GAIN}_ci_high": float(gain["ci_high"])}
    for col in ("cross_entropy_bits", "unigram_cross_entropy_bits"):
        row |= _mean_std(outputs[col], col)
    if baselines is not None:
        position = context_position(baselines, row["cross_entropy_bits_mean"])
        best = position["bits_per_char_best_baseline"] * position["chars_per_token"]  # bits per token
        excess = row["cross_entropy_bits_mean"] - best
        # CE = unigram CE - gain with the unigram and the baseline fixed: the gain's interval, reflected
        unigram = row["unigram_cross_entropy_bits_mean"]
        row |= {"ce_minus_best_baseline_bits": excess,
                "ce_minus_best_baseline_bits_ci_low": unigram - float(gain["ci_high"]) - best,
                "ce_minus_best_baseline_bits_ci_high": unigram - float(gain["ci_low"]) - best,
                "ce_minus_best_baseline_bits_per_char": excess / position["chars_per_token"],
                "best_baseline": position["best_baseline"]}
    return row


def condition_summary(condition: str, tables: dict[str, pd.DataFrame], k: int, top_p: float, *,
                      min_context_bits: float, baselines: pd.DataFrame | None = None) -> dict:
    """One summary row: first whether the models use context (context_summary), then mean and
    std over members (outputs, Fisher) or pairs (agreement), then where the model sits between
    no context and the best baseline (context_position, with baselines)."""
    row: dict = {"condition": condition, "members": len(tables["outputs"]),
                 **context_summary(tables, min_context_bits, baselines)}
    for col in ("kl_uniform_bits", "entropy_bits", "accuracy", "perplexity"):
        row |= _mean_std(tables["outputs"][col], col)
    js = tables["js"]
    row |= _mean_std(js.loc[np.isclose(js["top_p"], top_p), "js_distance"], f"js_p{top_p:g}")
    for col in ("disagreement", "spearman", "procrustes"):
        row |= _mean_std(tables["pairs"][col], col)
    topk = tables["topk"]
    row |= _mean_std(topk.loc[topk["k"] == k, "jaccard"], f"jaccard_k{k}")
    for (space, kernel), sub in tables["cka"].groupby(["space", "kernel"]):
        row |= _mean_std(sub["cka"], f"cka_{space}_{kernel}")
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
    if baselines is not None:
        row |= context_position(baselines, row["cross_entropy_bits_mean"])  # best_baseline stays in front
    return row


def context_position(baselines: pd.DataFrame, model_bits_per_token: float) -> dict:
    """Where a model sits between no context and the best baseline, per character of the raw
    corpus: the held-out unigram cross-entropy of its tokens (markov0, no context), the lowest
    held-out baseline (Markov over tokens or characters, or xz), and the model's own masked-token
    cross-entropy; context_used = (no context - model) / (no context - best baseline)."""
    tokens = baselines[baselines["unit"] == "token"]
    chars_per_token = float(tokens["chars_per_symbol"].iloc[0])
    held_out = baselines[baselines["baseline"] != "unigram_entropy"]  # the in-sample entropy is no prediction
    best = held_out.loc[held_out["bits_per_char"].idxmin()]
    none = float(tokens.loc[tokens["baseline"] == "markov0", "bits_per_char"].iloc[0])
    model = model_bits_per_token / chars_per_token
    return {"chars_per_token": chars_per_token, "bits_per_char_model": model, "bits_per_char_no_context": none,
            "bits_per_char_best_baseline": float(best["bits_per_char"]),
            "best_baseline": f"{best['unit']} {best['baseline']}",
            "context_used": (none - model) / (none - float(best["bits_per_char"]))}


def summarize(stats_tables: dict[str, dict[str, str]], replicate_paths: dict[str, str], out: str, k: int = 10,
              top_p: float = 1.0, findings_out: str | None = None, comparisons: list[tuple[str, str]] = (),
              level: float = 0.95, baselines: dict[str, str] | None = None,
              min_context_bits: float = StatsConfig.min_context_bits) -> pd.DataFrame:
    """summary.tsv: one row per condition from the per-condition tables (stats_tables: condition ->
    table name -> path; replicate_paths: condition -> replicates.npz); findings.tsv: each of
    the paper's findings tested for every (DNA, text) pair of conditions in `comparisons`,
    interpretable where the text condition uses context (gain >= min_context_bits per token)."""
    from gfm_limits import confidence

    rows, replicates, estimates = [], {}, {}
    for condition, paths in stats_tables.items():
        tables = {name: pd.read_csv(path, sep="\t") for name, path in paths.items()}
        table = pd.read_csv(baselines[condition], sep="\t") if baselines else None
        rows.append(condition_summary(condition, tables, k, top_p, min_context_bits=min_context_bits,
                                      baselines=table))
        replicates[condition] = dict(np.load(replicate_paths[condition]))
        estimates[condition] = dict(zip(tables["ci"]["statistic"], tables["ci"]["estimate"]))
    summary = pd.DataFrame(rows)
    _write(summary, out)
    if findings_out is not None:
        found = confidence.findings(replicates, estimates, list(comparisons), k, top_p, level,
                                    min_context_bits=min_context_bits)
        _write(found, findings_out)
    return summary


def gather_dynamics(paths: dict[str, str], out) -> pd.DataFrame:
    """results/stats/dynamics.tsv: every condition's dynamics.tsv (dynamics.py) with its name in
    front; only the header when no condition trains here."""
    from gfm_limits.layout import DYNAMICS_COLUMNS

    frames = [pd.read_csv(path, sep="\t", dtype={"seed_b": "Int64"}).assign(condition=condition)
              for condition, path in paths.items()]
    columns = ["condition", *DYNAMICS_COLUMNS]
    table = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    _write(table, out)
    return table

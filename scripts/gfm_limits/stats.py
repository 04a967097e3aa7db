"""Tidy statistics tables for one condition, and the summary over conditions.

Per condition (results/stats/{condition}/): outputs.tsv (one row per member: the means over the
masked positions of headline.member_positions, with the cross-entropy of a unigram model of the
training tokens beside the model's own: the no-context baseline),
js.tsv (pair x top_p), pairs.tsv (one row per pair: argmax disagreement,
Spearman, Procrustes disparity and cosine), topk.tsv (pair x k; a k of at least V - 1 is left
out, where every token's other tokens are all its neighbours), fisher.tsv and
fisher_per_example.tsv (member x group, with shares), sorted_probs.tsv (the averaged sorted
output distribution), cka.tsv (pair x static|contextual|pooled x linear|rbf, and static|contextual x linear_debiased:
the vocabulary, the hidden states at masked positions, one mean-pooled vector per held-out row),
fisher_true.tsv (member x group: the true Fisher, labels drawn from the model), repeats.tsv (the
output and agreement statistics at repeat and non-repeat target positions, repeats_table), repeats_ci.tsv
(their Multi-Bootstrap intervals per region and of the paired difference, repeats_ci_table), geometry.tsv
(layer x member x statistic, geometry.py), gradient_geometry.tsv and
gradient_geometry_members.tsv (the per-example gradients' effective and stable rank by parameter
group, gradient_geometry.py), bands.tsv (the output and
agreement statistics by training-frequency band of the target token), ci.tsv
(Multi-Bootstrap intervals, confidence.py) with their replicates beside it.
summary.tsv: one row per condition, for every statistic of headline.STATISTICS the mean and
population std (ddof=0, as the paper) of its values over members or pairs; the mean is ci.tsv's
estimate (headline.point). Its first columns say whether the models use context at all
(`context_summary`): the gain over the unigram model in bits per masked token with its interval,
both cross-entropies, the distance to the best baseline, and `uses_context`; every later column
is read in that light.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gfm_limits import bootstrap as bs
from gfm_limits import confidence, headline, metrics, special_tokens
from gfm_limits import embeddings as emb
from gfm_limits.files import atomic_path
from gfm_limits.headline import CONTEXT_GAIN
from gfm_limits.layout import (
    DYNAMICS_COLUMNS,
    PIPELINE_SPECIAL_IDS,
    REPEAT_CI_COLUMNS,
    REPEAT_COLUMNS,
    REPEAT_DIFFERENCE,
    REPEAT_MEMBER_STATISTICS,
    REPEAT_PAIR_STATISTICS,
    TABLES,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatsConfig:
    top_p: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    top_k: list[int] = field(default_factory=lambda: [1, 3, 5, 10, 20, 50, 100, 1000, 4000])
    summary_k: int = 10
    summary_top_p: float = 1.0
    frequency_bands: int = 3
    cka_bandwidth: str = "ckatorch"  # ckatorch (the paper's) | median_distance (embeddings.rbf_cka)
    cka_sigma: float = 1.0  # ckatorch's threshold, or the fraction of the median distance
    bootstrap: int = 1000
    confidence: float = 0.95
    min_context_bits: float = 0.5


def training_unigram(train_tokens: np.ndarray, vocab_size: int,
                     special: Sequence[int] = PIPELINE_SPECIAL_IDS) -> np.ndarray:
    """The no-context baseline: the smoothed unigram model of the training tokens, (V,); the
    special ids (special_tokens.SpecialTokens.special) get no mass."""
    return metrics.unigram_probs(train_tokens, vocab_size, special)


def _write(df: pd.DataFrame, path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.8g")


def output_tables(loaded: dict[int, dict], unigram: np.ndarray, *, top_ps: list[float], summary_top_p: float
                  ) -> tuple[dict[str, pd.DataFrame], dict[int, dict], dict[tuple[int, int], dict]]:
    """outputs.tsv (headline.member_outputs of each member), js.tsv (pair x top_p) and each pair's
    argmax disagreement; with the values at every masked position behind them, (M,) each: per seed
    (headline.member_positions) and per pair of seeds (headline.pair_positions, the JS distance at
    summary_top_p). unigram: (V,), the unigram model of the training tokens (training_unigram)."""
    positions = {seed: headline.member_positions(data["probs"], data["targets"], unigram)
                 for seed, data in loaded.items()}
    outputs = pd.DataFrame([{"seed": seed, **headline.member_outputs(p)} for seed, p in positions.items()])
    summary_top_p = next(p for p in top_ps if np.isclose(p, summary_top_p))  # config.py checks it is there
    js_rows, pair_rows, pairs = [], [], {}
    for a, b in itertools.combinations(sorted(loaded), 2):
        p, q = loaded[a]["probs"], loaded[b]["probs"]
        by_top_p = metrics.js_distance_top_p(p, q, top_ps)
        pairs[(a, b)] = headline.pair_positions(p, q, by_top_p[summary_top_p])
        pair_rows.append({"seed_a": a, "seed_b": b, "disagreement": float(pairs[(a, b)]["disagreement"].mean())})
        js_rows += [{"seed_a": a, "seed_b": b, "top_p": top_p, "js_distance": float(js.mean())}
                    for top_p, js in by_top_p.items()]
    tables = {"outputs": outputs, "js": pd.DataFrame(js_rows), "pairs": pd.DataFrame(pair_rows)}
    return tables, positions, pairs


def sorted_probs_table(loaded: dict[int, dict]) -> pd.DataFrame:
    """The sorted output distribution, averaged over masked positions and members."""
    sorted_mean = np.mean([metrics.mean_sorted_distribution(data["probs"]) for data in loaded.values()], axis=0)
    return pd.DataFrame({"rank": np.arange(1, len(sorted_mean) + 1), "probability": sorted_mean})


def usable_k(top_k: list[int], vocab_size: int) -> list[int]:
    """The k of top_k below V - 1: at k = V - 1 every token's neighbours are all the other tokens
    (a Jaccard of 1 whatever the embeddings), and beyond it there are not k of them."""
    kept = [k for k in top_k if k < vocab_size - 1]
    if len(kept) < len(top_k):
        log.warning("top-k overlap: k %s left out, not below the vocabulary size %d minus 1",
                    [k for k in top_k if k not in kept], vocab_size)
    return kept


def embedding_tables(mats: dict[int, np.ndarray],
                     top_k: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, np.ndarray]]:
    """Pairwise Spearman, Procrustes disparity and Procrustes cosine (one row per pair); top-k
    Jaccard and both local Spearman versions (pair x k, for the k of usable_k; the corrected one
    is undefined at k = 1); and each member's largest such k nearest neighbours, (V, k_max),
    most similar first."""
    top_k = usable_k(top_k, len(next(iter(mats.values()))))
    cos = {seed: emb.cosine_similarity(m) for seed, m in mats.items()}
    nn = {seed: emb.nearest_neighbours(c, max(top_k)) for seed, c in cos.items()} if top_k else {}  # (V, k_max)
    ranks = {seed: emb.similarity_ranks(c) for seed, c in cos.items()}  # (V, V - 1), once
    pair_rows, topk_rows = [], []
    for a, b in itertools.combinations(sorted(mats), 2):
        disparity, cosine = emb.procrustes_fit(mats[a], mats[b])
        pair_rows.append({"seed_a": a, "seed_b": b, "spearman": emb.spearman_from_ranks(ranks[a], ranks[b]),
                          "procrustes": disparity, "procrustes_cosine": cosine})
        for k in top_k:
            nn_a, nn_b = nn[a][:, :k], nn[b][:, :k]
            topk_rows.append({"seed_a": a, "seed_b": b, "k": k, "jaccard": emb.jaccard(nn_a, nn_b),
                              "local_spearman": emb.local_spearman(cos[a], cos[b], nn_a, nn_b) if k > 1 else np.nan,
                              "local_spearman_paper": emb.local_spearman_paper(cos[a], cos[b], nn_a)})
    topk = pd.DataFrame(topk_rows, columns=["seed_a", "seed_b", "k", "jaccard", "local_spearman",
                                            "local_spearman_paper"])
    return pd.DataFrame(pair_rows), topk, nn


def cka_table(mats: dict[int, np.ndarray], loaded: dict[int, dict], sigma: float,
              bandwidth: str = StatsConfig.cka_bandwidth) -> pd.DataFrame:
    """Linear and RBF CKA between every pair of members (RBF: embeddings.rbf_cka with sigma and
    bandwidth), of the static embeddings (over the vocabulary), of the contextual ones at the
    shared masked positions (final hidden states, ours) and of the mean-pooled ones (one
    last-layer vector per held-out row, the paper's v2)."""
    spaces = {"static": mats, "contextual": {seed: data["hidden"] for seed, data in loaded.items()},
              "pooled": {seed: data["pooled"] for seed, data in loaded.items()}}
    rbf = lambda x, y: emb.rbf_cka(x, y, sigma, bandwidth)  # noqa: E731
    rows = []
    for space, mats in spaces.items():
        for a, b in itertools.combinations(sorted(mats), 2):
            if len(mats[a]) < 3:  # no contextual positions kept (extract.contextual_positions 0)
                continue
            for kernel, cka in (("linear", emb.linear_cka), ("rbf", rbf)):
                rows.append({"seed_a": a, "seed_b": b, "space": space, "kernel": kernel, "items": len(mats[a]),
                             "cka": cka(mats[a], mats[b])})
    return pd.DataFrame(rows, columns=["seed_a", "seed_b", "space", "kernel", "items", "cka"])


def debiased_cka_rows(mats: dict[int, np.ndarray], loaded: dict[int, dict]) -> pd.DataFrame:
    """cka.tsv's rows of kernel `linear_debiased` (embeddings.debiased_linear_cka, beyond the
    paper): every pair, static and contextual embeddings, as cka_table's."""
    spaces = {"static": mats, "contextual": {seed: data["hidden"] for seed, data in loaded.items()}}
    rows = [{"seed_a": a, "seed_b": b, "space": space, "kernel": "linear_debiased", "items": len(m[a]),
             "cka": emb.debiased_linear_cka(m[a], m[b])}
            for space, m in spaces.items() for a, b in itertools.combinations(sorted(m), 2) if len(m[a]) >= 4]
    return pd.DataFrame(rows, columns=["seed_a", "seed_b", "space", "kernel", "items", "cka"])


def beyond_tables(fishers_true: dict[int, str] | None, layers: dict[int, str] | None) -> dict[str, pd.DataFrame]:
    """fisher_true.tsv (fisher_table of the members' true Fisher, member x group with shares) and
    geometry.tsv (geometry.geometry_table of the members' layer states, layer x seed x statistic);
    each empty, with its columns, where its inputs are not given."""
    from gfm_limits import geometry

    true = (fisher_table(fishers_true) if fishers_true
            else pd.DataFrame(columns=["seed", "group", "n_params", "fisher", "fisher_per_param", "share"]))
    states = geometry.geometry_table({seed: np.load(path) for seed, path in layers.items()} if layers else {})
    return {"fisher_true": true, "geometry": states}


def gradient_geometry_tables(paths: dict[int, str] | None, train_tokens: np.ndarray, special: Sequence[int], *,
                             cfg: StatsConfig, condition: str) -> dict[str, pd.DataFrame]:
    """gradient_geometry_members.tsv (member x group x statistic) and gradient_geometry.tsv (the
    mean over members with a members-only interval, the condition's seed), gradient_geometry.py."""
    from gfm_limits import gradient_geometry as gg

    members = (gg.member_table(paths, train_tokens, special) if paths
               else pd.DataFrame(columns=list(gg.MEMBER_COLUMNS)))
    return {"gradient_geometry_members": members,
            "gradient_geometry": gg.ci_table(members, n_boot=cfg.bootstrap, level=cfg.confidence,
                                             seed=confidence.condition_seed(condition))}


def frequency_bands(train_tokens: np.ndarray, vocab_size: int, n_bands: int,
                    special: Sequence[int] = PIPELINE_SPECIAL_IDS) -> tuple[np.ndarray, pd.DataFrame]:
    """Each non-special token type's band (0 = most frequent in training), -1 for specials, and
    the bands' rank ranges and training counts. Types are ranked by count (ties by id) and split
    into n_bands groups of (nearly) equal size."""
    ordinary = np.setdiff1d(np.arange(vocab_size), np.asarray(special, dtype=np.int64))  # (V',) increasing
    counts = np.bincount(train_tokens.ravel(), minlength=vocab_size)[:vocab_size]
    order = ordinary[np.argsort(-counts[ordinary], kind="stable")]  # ids, most frequent first
    band = np.full(vocab_size, -1)
    rows, rank = [], 0
    for b, ids in enumerate(np.array_split(order, n_bands)):
        band[ids] = b
        rows.append({"band": b, "rank_from": rank + 1, "rank_to": rank + len(ids),
                     "count_min": int(counts[ids].min()), "count_max": int(counts[ids].max()),
                     "train_share": float(counts[ids].sum() / counts[ordinary].sum())})
        rank += len(ids)
    return band, pd.DataFrame(rows)


def bands_table(*, loaded: dict[int, dict], positions: dict[int, dict], pairs: dict[tuple[int, int], dict],
                nn: dict[int, np.ndarray], train_tokens: np.ndarray, cfg: StatsConfig,
                special: Sequence[int] = PIPELINE_SPECIAL_IDS) -> pd.DataFrame:
    """The statistics of headline.appearing_in("bands") by the training-frequency band of the
    target token (output_tables' per-position values of members and pairs) or of the token itself
    (the top-k overlap, from embedding_tables' neighbours). Long format: band, statistic, seed_a,
    seed_b, value, items."""
    first = next(iter(loaded.values()))
    vocab_size = first["probs"].shape[1]
    band_of, bands = frequency_bands(train_tokens, vocab_size, cfg.frequency_bands, special)
    target_band = band_of[first["targets"]]  # (M,)
    at = headline.Settings(cfg.summary_k, cfg.summary_top_p)
    shown = headline.appearing_in("bands")
    of_members = {stat.key for stat in shown if stat.over == "members"}  # columns of outputs.tsv
    of_positions = [stat for stat in shown if stat.over == "pairs" and stat.at_positions]
    rows = []
    for b in bands["band"]:
        at_band = target_band == b
        if not at_band.any():
            continue
        for seed, values in positions.items():
            outputs = headline.member_outputs({name: v[at_band] for name, v in values.items()})
            rows += [{"band": b, "statistic": name, "seed_a": seed, "seed_b": np.nan, "value": outputs[name],
                      "items": int(at_band.sum())} for name in headline.OUTPUTS if name in of_members]
        for (a, bb), values in pairs.items():
            rows += [{"band": b, "statistic": stat.name(at), "seed_a": a, "seed_b": bb,
                      "value": float(values[stat.key][at_band].mean()), "items": int(at_band.sum())}
                     for stat in of_positions]
    jaccard, k = headline.BY_KEY["jaccard"], cfg.summary_k
    usable = k < vocab_size - 1  # a vocabulary of single nucleotides has no k = summary_k neighbours
    for a, bb in itertools.combinations(sorted(nn) if usable else [], 2):
        for b in bands["band"]:
            ids = np.flatnonzero(band_of == b)
            rows.append({"band": b, "statistic": jaccard.name(at), "seed_a": a, "seed_b": bb,
                         "value": emb.jaccard(nn[a][ids, :k], nn[bb][ids, :k]), "items": len(ids)})
    return pd.DataFrame(rows).merge(bands, on="band")


def repeats_table(positions: dict[int, dict], pairs: dict[tuple[int, int], dict], repeat: np.ndarray
                  ) -> pd.DataFrame:
    """The means of output_tables' per-position values (headline.member_positions of each member,
    headline.pair_positions of each pair: JS distance at summary_top_p, argmax disagreement) over
    the masked positions whose target token is a repeat (repeat (M,) bool, repeat_flags) and over
    the others; a region without positions (text: every position is non-repeat) has no rows.
    Long format (REPEAT_COLUMNS)."""
    rows = []
    for region, at in (("repeat", repeat), ("non-repeat", ~repeat)):
        if not at.any():
            continue
        n = int(at.sum())
        for seed, values in positions.items():
            rows += [{"region": region, "statistic": name, "seed_a": seed, "seed_b": np.nan,
                      "value": float(values[name][at].mean()), "positions": n} for name in REPEAT_MEMBER_STATISTICS]
        for (a, b), values in pairs.items():
            rows += [{"region": region, "statistic": name, "seed_a": a, "seed_b": b,
                      "value": float(values[key][at].mean()), "positions": n}
                     for name, key in REPEAT_PAIR_STATISTICS.items()]
    return pd.DataFrame(rows, columns=list(REPEAT_COLUMNS))


def repeats_ci_table(positions: dict[int, dict], pairs: dict[tuple[int, int], dict], repeat: np.ndarray, *,
                     row_of: np.ndarray, n_rows: int, draws: bs.Draws, level: float,
                     means: pd.DataFrame | None = None) -> pd.DataFrame:
    """Multi-Bootstrap intervals of repeats_table's statistics, and of their difference between the
    regions. Members and held-out rows are drawn jointly, as for ci.tsv (one set of draws from
    `seed`, the condition's): a replicate is, per drawn member or pair, the mean over the drawn
    rows' masked positions of the region (a ratio of sums; NaN where the drawn rows hold none of
    its positions), averaged over the drawn members or pairs. The same draws serve both regions,
    so "repeat - non-repeat" is a paired difference whose replicates are the differences of the
    regions' replicates. row_of (M,): each masked position's held-out row (masked_rows); draws:
    the condition's members+rows draws (headline.Evidence.draws), those of ci.tsv; means:
    repeats_table of the same arguments, where already computed. Long format
    (REPEAT_CI_COLUMNS); a region without positions has no rows, nor then the difference."""
    point = repeats_table(positions, pairs, repeat) if means is None else means
    regional = {}
    for region, at in (("repeat", repeat), ("non-repeat", ~repeat)):
        if not at.any():
            continue
        evidence = headline.Evidence.gather({s: {k: v[at] for k, v in by.items()} for s, by in positions.items()},
                                            {p: {k: v[at] for k, v in by.items()} for p, by in pairs.items()},
                                            {}, row_of=row_of[at], n_rows=n_rows)
        estimates = point[point["region"] == region].groupby("statistic")["value"].mean()  # headline.point
        reps = {name: bs.member_mean(evidence.positions[name], draws, evidence.counts)
                for name in REPEAT_MEMBER_STATISTICS}
        reps |= {name: bs.pair_mean(evidence.pairs[key], draws, evidence.counts)
                 for name, key in REPEAT_PAIR_STATISTICS.items() if pairs}
        regional[region] = (estimates, reps, int(at.sum()))
    rows = []
    for region, (estimates, reps, n) in regional.items():
        rows += [{"region": region, "statistic": name, **bs.summarize_ci(estimates[name], r, level),
                  "positions": n, "level": level} for name, r in reps.items()]
    if len(regional) == 2:
        (e_r, r_r, n_r), (e_n, r_n, n_n) = regional["repeat"], regional["non-repeat"]
        rows += [{"region": REPEAT_DIFFERENCE, "statistic": name,
                  **bs.summarize_ci(e_r[name] - e_n[name], r_r[name] - r_n[name], level),
                  "positions": n_r + n_n, "level": level} for name in r_r]
    return pd.DataFrame(rows, columns=list(REPEAT_CI_COLUMNS))


def repeat_flags(masks: str) -> np.ndarray:
    """Whether each masked position's target token is a repeat, (M,) bool in the order of the
    predictions (row-major over predict), from masks.npz's repeat (R, T); all False in a masks
    file written before the repeat flags."""
    data = np.load(masks)
    predict = data["predict"]  # (R, T)
    repeat = data["repeat"] if "repeat" in data else np.zeros_like(predict)
    return repeat[predict].astype(bool)


def fisher_frame(members: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Every member's Fisher groups (group, fisher, ...) with seed in front and their share of the
    member's total (headline.fisher_share: the total over the model's groups; the word_input /
    word_decoder rows are shares of that same total)."""
    frames = []
    for seed, df in sorted(members.items()):
        df = df.copy()
        df.insert(0, "seed", seed)
        df["share"] = headline.fisher_share(df)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def fisher_table(paths: dict[int, str]) -> pd.DataFrame:
    """fisher_frame of the members' Fisher tables (fisher.tsv or fisher_per_example.tsv), by seed."""
    return fisher_frame({seed: pd.read_csv(path, sep="\t") for seed, path in paths.items()})


def masked_rows(masks: str, targets: np.ndarray) -> tuple[np.ndarray, int]:
    """The held-out row (M,) of each masked position (headline.position_rows) and the number of
    rows, from the condition's masks.npz (rows, predict); targets (M,), a member's, must be the
    masked tokens of those rows in that order."""
    data = np.load(masks)
    rows, predict = data["rows"], data["predict"]  # (R, T) each
    if predict.shape != rows.shape or not np.array_equal(rows[predict], targets):
        raise ValueError(f"{masks}: its masked positions ({int(predict.sum())}) are not those of the predictions "
                         f"({len(targets)} targets); rerun extract")
    return headline.position_rows(predict), len(rows)


def condition_stats(*, predictions: dict[int, str], embeddings: dict[int, str], fishers: dict[int, str],
                    fishers_per_example: dict[int, str], fisher_rows: dict[int, str], masks: str, train_tokens: str,
                    out: dict[str, str], replicates_out: str, cfg: StatsConfig,
                    condition: str, fishers_true: dict[int, str] | None = None,
                    fisher_true_rows: dict[int, str] | None = None,
                    layers: dict[int, str] | None = None, tokenizer: str | None = None,
                    gradient_geometry: dict[int, str] | None = None) -> dict[str, pd.DataFrame]:
    """Compute and write every per-condition table named in TABLES, and the bootstrap
    replicates behind ci.tsv (.npz, statistic -> (B,)); return the tables. All path arguments
    but masks (the held-out rows and masked positions every member was evaluated on),
    train_tokens and the outputs are by seed; without the true Fisher or the layer states
    (beyond_tables) their tables are written empty. tokenizer: the condition's tokenizer JSON, whose
    special ids (special_tokens.read) the unigram model and the frequency bands leave out; without
    it, this pipeline's own ids 0..4. gradient_geometry: the members' gradient_geometry.npz
    (gradient_geometry_tables); without them its two tables are written empty."""
    if len(predictions) < 2:
        raise ValueError(f"pairwise statistics need at least two members, got seeds {sorted(predictions)}")
    seeds = sorted(predictions)
    loaded = {seed: dict(np.load(predictions[seed])) for seed in seeds}  # each file read once
    mats = {seed: np.load(embeddings[seed]) for seed in seeds}
    tokens = np.load(train_tokens)
    vocab_size = loaded[seeds[0]]["probs"].shape[1]
    if cfg.summary_k >= vocab_size - 1:  # usable_k leaves it out: no top-k statistic, so no finding of it
        log.warning("stats.summary_k (%d) needs a vocabulary of more than k + 1 tokens; this one has %d (single "
                    "nucleotides?): the top-k overlap of static embeddings at k = %d is left out of this condition's "
                    "summary, intervals and findings", cfg.summary_k, vocab_size, cfg.summary_k)
    special = PIPELINE_SPECIAL_IDS if tokenizer is None else special_tokens.read(tokenizer).special
    unigram = training_unigram(tokens, vocab_size, special)
    tables, positions, pairs = output_tables(loaded, unigram, top_ps=cfg.top_p, summary_top_p=cfg.summary_top_p)
    tables["sorted_probs"] = sorted_probs_table(loaded)
    emb_pairs, tables["topk"], nn = embedding_tables(mats, cfg.top_k)
    tables["pairs"] = tables["pairs"].merge(emb_pairs, on=["seed_a", "seed_b"])
    tables["fisher"] = fisher_table(fishers)
    tables["fisher_per_example"] = fisher_table(fishers_per_example)
    tables["cka"] = pd.concat([cka_table(mats, loaded, cfg.cka_sigma, cfg.cka_bandwidth),
                               debiased_cka_rows(mats, loaded)], ignore_index=True)
    tables |= beyond_tables(fishers_true, layers)
    tables["bands"] = bands_table(loaded=loaded, positions=positions, pairs=pairs, nn=nn, train_tokens=tokens,
                                  cfg=cfg, special=special)
    repeat = repeat_flags(masks)
    tables["repeats"] = repeats_table(positions, pairs, repeat)
    rows = headline.fisher_rows([fisher_rows[s] for s in seeds])
    if fisher_true_rows is not None:
        rows |= headline.fisher_true_rows([fisher_true_rows[s] for s in seeds])
    row_of, n_rows = masked_rows(masks, loaded[seeds[0]]["targets"])
    evidence = headline.Evidence.gather(positions, pairs, rows, row_of=row_of, n_rows=n_rows)
    draws = evidence.draws("members+rows", cfg.bootstrap, confidence.condition_seed(condition))
    tables["repeats_ci"] = repeats_ci_table(positions, pairs, repeat, row_of=row_of, n_rows=n_rows, draws=draws,
                                            level=cfg.confidence, means=tables["repeats"])
    tables |= gradient_geometry_tables(gradient_geometry, tokens, special, cfg=cfg, condition=condition)
    reps = confidence.condition_replicates(tables, evidence, k=cfg.summary_k, top_p=cfg.summary_top_p,
                                           n_boot=cfg.bootstrap, condition=condition)
    tables["ci"] = confidence.ci_table(reps, cfg.confidence)
    for name in TABLES:
        _write(tables[name], out[name])
    with atomic_path(replicates_out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **{name: r for name, (_, _, r) in reps.items()})
    log.info("wrote %s", ", ".join(out[name] for name in TABLES))
    return tables


def context_summary(tables: dict[str, pd.DataFrame], at: headline.Settings, *, min_context_bits: float,
                    baselines: pd.DataFrame | None = None) -> dict:
    """The leading columns of a summary row: do the models use context? The statistics of
    headline.CONTEXT: the gain over the unigram model (mean and std over members, with its
    interval from ci.tsv), both cross-entropies in bits per masked token; with baselines the
    model's excess over the best baseline per token (model CE - best bits per character x
    characters per token, its interval the gain's reflected) and per character; and uses_context
    (headline.uses_context on the ci.tsv estimate and interval)."""
    ci = tables["ci"].set_index("statistic")
    if CONTEXT_GAIN not in ci.index:
        raise ValueError(f"ci.tsv has no {CONTEXT_GAIN} row; rerun the stats rule")
    gain = ci.loc[CONTEXT_GAIN]
    context = [headline.BY_KEY[key] for key in headline.CONTEXT]
    row = {"uses_context": headline.uses_context(float(gain["estimate"]), float(gain["ci_low"]), min_context_bits),
           **headline.summary_columns(context[0], tables, at),
           f"{CONTEXT_GAIN}_ci_low": float(gain["ci_low"]), f"{CONTEXT_GAIN}_ci_high": float(gain["ci_high"])}
    for stat in context[1:]:
        row |= headline.summary_columns(stat, tables, at)
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


def condition_summary(condition: str, tables: dict[str, pd.DataFrame], *, k: int, top_p: float,
                      min_context_bits: float, baselines: pd.DataFrame | None = None) -> dict:
    """One summary row: first whether the models use context (context_summary), then mean and
    std over members or pairs of every other statistic of headline.STATISTICS present in the
    condition (headline.summary_columns), then where the model sits between no context and the
    best baseline (context_position, with baselines)."""
    at = headline.Settings(k, top_p)
    row: dict = {"condition": condition, "members": len(tables["outputs"]),
                 **context_summary(tables, at, min_context_bits=min_context_bits, baselines=baselines)}
    for stat in headline.STATISTICS:
        if stat.key not in headline.CONTEXT:
            row |= headline.summary_columns(stat, tables, at)
    row |= repeat_summary(tables.get("repeats_ci"))
    row |= gradient_summary(tables.get("gradient_geometry"))
    if baselines is not None:
        row |= context_position(baselines, row["cross_entropy_bits_mean"])  # best_baseline stays in front
    return row


def gradient_summary(table: pd.DataFrame | None) -> dict:
    """summary.tsv's gradient-geometry columns (gradient_geometry.summary_columns): the word
    embedding's uses against the encoder layers, and their gradient mass on frequent tokens."""
    from gfm_limits.gradient_geometry import summary_columns

    return summary_columns(table)


REPEAT_SUMMARY = ("context_gain_bits", "kl_uniform_bits", "disagreement")  # of repeats_ci.tsv, into summary.tsv


def repeat_summary(repeats_ci: pd.DataFrame | None) -> dict:
    """summary.tsv's repeat split: the share of masked positions at repeats (`repeat_share`) and,
    for each statistic of REPEAT_SUMMARY, its estimate and interval at repeat and non-repeat
    positions and their paired difference (`<statistic>_<region>`, `_ci_low`, `_ci_high`; region
    repeat, non_repeat, repeat_minus_non_repeat), from repeats_ci.tsv; {} without it."""
    if repeats_ci is None or repeats_ci.empty:
        return {}
    df = repeats_ci.set_index(["region", "statistic"])
    counts = repeats_ci.groupby("region")["positions"].first()
    n_repeat = int(counts.get("repeat", 0))
    row = {"repeat_share": n_repeat / (n_repeat + int(counts.get("non-repeat", 0)))}
    for region in ("repeat", "non-repeat", REPEAT_DIFFERENCE):
        suffix = region.replace(" - ", "_minus_").replace("-", "_")
        for name in REPEAT_SUMMARY:
            if (region, name) in df.index:
                r = df.loc[(region, name)]
                row |= {f"{name}_{suffix}": float(r["estimate"]), f"{name}_{suffix}_ci_low": float(r["ci_low"]),
                        f"{name}_{suffix}_ci_high": float(r["ci_high"])}
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
    rows, replicates, estimates, members = [], {}, {}, {}
    for condition, paths in stats_tables.items():
        tables = {name: pd.read_csv(path, sep="\t") for name, path in paths.items()}
        table = pd.read_csv(baselines[condition], sep="\t") if baselines else None
        rows.append(condition_summary(condition, tables, k=k, top_p=top_p, min_context_bits=min_context_bits,
                                      baselines=table))
        replicates[condition] = dict(np.load(replicate_paths[condition]))
        estimates[condition] = dict(zip(tables["ci"]["statistic"], tables["ci"]["estimate"]))
        members[condition] = confidence.member_values(tables, k=k, top_p=top_p)
    summary = pd.DataFrame(rows)
    _write(summary, out)
    if findings_out is not None:
        found = confidence.findings(replicates, estimates, members, comparisons=list(comparisons), k=k, top_p=top_p,
                                    level=level, min_context_bits=min_context_bits)
        _write(found, findings_out)
    return summary


def gather_dynamics(paths: dict[str, str], out) -> pd.DataFrame:
    """results/stats/dynamics.tsv: every condition's dynamics.tsv (dynamics.py) with its name in
    front; only the header when no condition trains here."""
    frames = [pd.read_csv(path, sep="\t", dtype={"seed_b": "Int64"}).assign(condition=condition)
              for condition, path in paths.items()]
    columns = ["condition", *DYNAMICS_COLUMNS]
    table = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    _write(table, out)
    return table

"""Synthetic conditions for the statistics tests: members with random predictions, hidden states,
static embeddings and Fisher tables, written as the extract rule writes them, then the stats
rule's condition_stats run on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gfm_limits.layout import TABLES
from gfm_limits.stats import StatsConfig, condition_stats

V, M, ROWS, T = 12, 80, 20, 10  # vocabulary (ids 0..4 special), masked positions, held-out rows, tokens per row
GROUPS = ["embeddings", "encoder.0", "head"]
SPLIT = ["word_input", "word_decoder"]


def unigram_by_hand(tokens: np.ndarray) -> np.ndarray:
    counts = np.array([np.sum(tokens == v) + 0.5 if v >= 5 else 0.0 for v in range(V)])
    return counts / counts.sum()


def baselines_table() -> pd.DataFrame:
    """Token Markov models and xz: xz best at 0.5 bits per character, 4 characters per token."""
    return pd.DataFrame({"unit": ["token", "token", "char"], "baseline": ["markov0", "markov1", "xz"],
                         "chars_per_symbol": [4.0, 4.0, 1.0], "order": [0, 1, np.nan],
                         "bits_per_char": [0.7, 0.6, 0.5]})


def masks(targets: np.ndarray) -> dict[str, np.ndarray]:
    """masks.npz as eval_masks writes it: ROWS rows of T tokens whose masked positions (predict,
    row-major) hold the targets (M,), 1 to T of them per row, uneven; a fixed draw."""
    rng = np.random.default_rng(99)
    predict = np.zeros((ROWS, T), dtype=bool)
    predict[:, 0] = True  # at least one per row
    rest = np.flatnonzero(~predict)
    predict.flat[rng.choice(rest, size=M - ROWS, replace=False)] = True
    rows = rng.integers(5, V, size=(ROWS, T)).astype(np.uint16)
    rows[predict] = targets
    repeat = np.random.default_rng(7).random((ROWS, T)) < 0.3  # its own draw: the others' stay as they were
    return {"rows": rows, "predict": predict, "fisher": ~predict, "repeat": repeat}


def write_condition(directory: Path, name: str, sharp: float, rng, cfg: StatsConfig,
                    seeds=(1, 2, 3), hidden_rows: int = M) -> dict:
    """A condition's files and stats tables from synthetic members: sharp = 0 predicts the unigram
    model of the training tokens (no context), sharp > 0 puts extra logit on the target (context
    used). The per-example Fisher table holds the column means of the rows file, as extract writes
    them; the masks (`masks`) are the condition's. Returns what was written (by seed), the masks
    and condition_stats' tables."""
    directory.mkdir(parents=True)
    tokens = rng.choice(np.arange(5, V), size=600, p=np.linspace(3, 1, V - 5) / np.linspace(3, 1, V - 5).sum())
    np.save(directory / "train.npy", tokens)
    targets = rng.choice(np.arange(5, V), size=M)
    unigram = unigram_by_hand(tokens)
    mask = masks(targets)
    np.savez(directory / "masks.npz", **mask)
    files = {k: {} for k in ("predictions", "embeddings", "fisher", "fisher_per_example", "fisher_rows")}
    data = {k: {} for k in ("probs", "hidden", "pooled", "embeddings", "fisher", "fisher_per_example", "rows")}
    for seed in seeds:
        logits = np.log(np.maximum(unigram, 1e-30)) + rng.normal(0, 0.05, (M, V))
        logits[np.arange(M), targets] += sharp * rng.uniform(0.5, 1.5, M)
        logits[:, :5] = -np.inf
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        data["probs"][seed] = probs.astype(np.float32)
        data["hidden"][seed] = rng.normal(size=(hidden_rows, 4)).astype(np.float32)
        # one mean-pooled vector per held-out row, from a generator of its own (the others' draws unchanged)
        data["pooled"][seed] = np.random.default_rng([seed, 7]).normal(size=(ROWS, 4)).astype(np.float32)
        data["embeddings"][seed] = rng.normal(size=(V, 4))
        data["fisher"][seed] = pd.DataFrame({"group": GROUPS, "fisher": rng.uniform(1, 2, 3)})
        data["rows"][seed] = rng.uniform(1, 2, (ROWS, len(GROUPS) + 2))  # (R, G)
        data["fisher_per_example"][seed] = pd.DataFrame({"group": GROUPS + SPLIT,
                                                         "fisher": data["rows"][seed].mean(axis=0)})
        member = {k: directory / f"{k}{seed}" for k in files}
        np.savez(member["predictions"].with_suffix(".npz"), probs=data["probs"][seed], targets=targets,
                 hidden=data["hidden"][seed], pooled=data["pooled"][seed])
        np.save(member["embeddings"].with_suffix(".npy"), data["embeddings"][seed])
        data["fisher"][seed].to_csv(member["fisher"].with_suffix(".tsv"), sep="\t", index=False)
        data["fisher_per_example"][seed].to_csv(member["fisher_per_example"].with_suffix(".tsv"), sep="\t",
                                                index=False)
        np.savez(member["fisher_rows"].with_suffix(".npz"), groups=np.array(GROUPS + SPLIT), values=data["rows"][seed])
        for k, ext in zip(files, (".npz", ".npy", ".tsv", ".tsv", ".npz")):
            files[k][seed] = str(member[k].with_suffix(ext))
    true = write_beyond(directory, seeds, rng, data, hidden_rows)
    tables = condition_stats(predictions=files["predictions"], embeddings=files["embeddings"], fishers=files["fisher"],
                             fishers_per_example=files["fisher_per_example"], fisher_rows=files["fisher_rows"],
                             masks=str(directory / "masks.npz"), train_tokens=str(directory / "train.npy"),
                             out={t: str(directory / f"{t}.tsv") for t in TABLES},
                             replicates_out=str(directory / "replicates.npz"), cfg=cfg, condition=name, **true)
    baselines_table().to_csv(directory / "baselines.tsv", sep="\t", index=False)
    return {"tokens": tokens, "targets": targets, "masks": mask, "tables": tables, **data}


def write_beyond(directory: Path, seeds, rng, data: dict, hidden_rows: int) -> dict:
    """The extract rule's outputs beyond the paper: the true Fisher (table and rows, as the
    per-example one) and the layer states (3 layers of hidden_rows states); condition_stats'
    arguments for them. Adds true_rows (R, G) and layers (L + 1, n, d) by seed to data."""
    files = {"fishers_true": {}, "fisher_true_rows": {}, "layers": {}}
    data["true_rows"], data["layers"] = {}, {}
    for seed in seeds:
        data["true_rows"][seed] = rng.uniform(0.5, 3, (ROWS, len(GROUPS) + 2))  # (R, G)
        data["layers"][seed] = rng.normal(size=(3, hidden_rows, 4)).astype(np.float32)
        paths = {k: directory / f"{k}{seed}{ext}" for k, ext in
                 (("fishers_true", ".tsv"), ("fisher_true_rows", ".npz"), ("layers", ".npy"))}
        pd.DataFrame({"group": GROUPS + SPLIT, "fisher": data["true_rows"][seed].mean(axis=0)}).to_csv(
            paths["fishers_true"], sep="\t", index=False)
        np.savez(paths["fisher_true_rows"], groups=np.array(GROUPS + SPLIT), values=data["true_rows"][seed])
        np.save(paths["layers"], data["layers"][seed])
        for k in files:
            files[k][seed] = str(paths[k])
    return files

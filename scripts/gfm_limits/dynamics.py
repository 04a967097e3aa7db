"""Learning dynamics: the paper's statistics at every training snapshot of a condition.

Every member of a condition trained here saves its model at the same log-spaced
steps (train.snapshot_steps) besides the final one. At each of those steps and
at the end, every member is read on the condition's shared held-out masked
positions, the first `n_sequences` rows of masks.npz with their prediction and
Fisher masks, by the functions the extract and stats rules use:
- per member: the masked cross-entropy (bits per token), the unigram
  cross-entropy of the same targets (the no-context plateau every masked LM
  passes through first; the smoothed unigram model of the training tokens),
  context_gain_bits = unigram - model (as summary.tsv), H(p), KL(p || U) and
  accuracy (metrics.py), and the paper's Fisher shares of the embeddings, the
  transformer layers and the head (fisher.fisher_paper, stats.fisher_shares);
- per pair of members: the JS distance at stats.summary_top_p and the argmax
  disagreement (metrics.py), the top-k Jaccard overlap at stats.summary_k and
  the Spearman correlation of the static embeddings' cosine similarities
  (embeddings.py).
With n_sequences at or above extract.n_sequences, the final step repeats the
stats rule's numbers. The table is long (layout.DYNAMICS_COLUMNS): step,
tokens, final, statistic, seed_a, seed_b (empty for a member's own), value.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gfm_limits import embeddings as emb
from gfm_limits import metrics
from gfm_limits.files import InputError, atomic_path
from gfm_limits.fisher import fisher_paper
from gfm_limits.layout import DYNAMICS_COLUMNS
from gfm_limits.model import device as default_device
from gfm_limits.model import load_model
from gfm_limits.predictions import predict_distributions
from gfm_limits.stats import fisher_share, fisher_shares, training_unigram
from gfm_limits.tokenizer import load, special_ids

log = logging.getLogger(__name__)


def shared_schedule(models: dict[int, str]) -> tuple[list[int], int, int]:
    """(snapshot steps, final step, tokens per step) from every member's training.json; the
    same for all members, or an InputError naming them."""
    plans = {}
    for seed, folder in models.items():
        record = json.loads((Path(folder) / "training.json").read_text())
        if "snapshot_steps" not in record:
            raise InputError(f"{folder}: trained before snapshots were recorded; rerun its training")
        plans[seed] = (tuple(record["snapshot_steps"]), record["steps"], record["tokens"] // record["steps"])
    if len(set(plans.values())) != 1:
        raise InputError(f"members differ in (snapshot steps, steps, tokens per step): {plans}")
    steps, final, step_tokens = next(iter(plans.values()))
    return list(steps), final, step_tokens


def read_member(folder, rows: np.ndarray, predict: np.ndarray, fisher_mask: np.ndarray, mask_id: int,
                batch_size: int, device, precision: str) -> dict:
    """One model as the extract rule reads it: probs (M, V), targets (M,), the static embeddings
    (V, H) and the paper's Fisher records."""
    model = load_model(folder).to(device)
    probs, targets, _ = predict_distributions(model, rows, predict, mask_id, batch_size, device, precision)
    embeddings = model.word.weight.detach().float().cpu().numpy()  # (V, H)
    fisher = fisher_paper(model, rows, fisher_mask, mask_id, batch_size, device, precision)
    return {"probs": probs, "targets": targets, "embeddings": embeddings, "fisher": fisher}


def member_statistics(data: dict, unigram: np.ndarray) -> dict[str, float]:
    """A member's output statistics beside the unigram baseline, and its Fisher shares."""
    out = metrics.output_summary(data["probs"], data["targets"])
    unigram_bits = metrics.unigram_cross_entropy_bits(unigram, data["targets"])
    fisher = pd.DataFrame(data["fisher"]).assign(seed=0)
    shares = fisher_shares(fisher.assign(share=fisher_share(fisher))).iloc[0]
    return {"cross_entropy_bits": out["cross_entropy_bits"], "unigram_cross_entropy_bits": unigram_bits,
            "context_gain_bits": unigram_bits - out["cross_entropy_bits"], "entropy_bits": out["entropy_bits"],
            "kl_uniform_bits": out["kl_uniform_bits"], "accuracy": out["accuracy"],
            **{f"fisher_share_{part}": float(value) for part, value in shares.items()}}


def pair_statistics(a: dict, b: dict, k: int, top_p: float) -> dict[str, float]:
    """Agreement of two members: a and b hold probs (M, V), nn (V, k) and ranks (V, V - 1)."""
    js = metrics.js_distance_top_p(a["probs"], b["probs"], [top_p])[top_p]  # (M,)
    return {f"js_p{top_p:g}": float(js.mean()), "disagreement": metrics.disagreement(a["probs"], b["probs"]),
            f"jaccard_k{k}": emb.jaccard(a["nn"], b["nn"]), "spearman": emb.spearman_from_ranks(a["ranks"], b["ranks"])}


def step_rows(step: int, tokens: int, final: bool, members: dict[int, dict], unigram: np.ndarray, k: int,
              top_p: float) -> list[dict]:
    """The table's rows of one step: every member's statistics, then every pair's."""
    base = {"step": step, "tokens": tokens, "final": final}
    rows = [{**base, "statistic": name, "seed_a": seed, "seed_b": None, "value": value}
            for seed, data in members.items() for name, value in member_statistics(data, unigram).items()]
    for data in members.values():
        data["cos"] = emb.cosine_similarity(data["embeddings"])  # (V, V)
        data["nn"] = emb.nearest_neighbours(data["cos"], k)  # (V, k)
        data["ranks"] = emb.similarity_ranks(data["cos"])  # (V, V - 1)
    for a, b in itertools.combinations(sorted(members), 2):
        rows += [{**base, "statistic": name, "seed_a": a, "seed_b": b, "value": value}
                 for name, value in pair_statistics(members[a], members[b], k, top_p).items()]
    return rows


def condition_dynamics(*, models: dict[int, str], snapshots: dict[int, str], masks, train_tokens, out,
                       n_sequences: int, k: int, top_p: float, batch_size: int, precision: str = "bf16",
                       threads: int = 1) -> pd.DataFrame:
    """Write dynamics.tsv of one condition: models and snapshots are each member's final model
    folder and snapshot folder (step{N}/ per snapshot step), by seed."""
    import torch

    torch.set_num_threads(threads)
    device = default_device()
    steps, final, step_tokens = shared_schedule(models)
    shared = np.load(masks)
    rows, predict, fisher_mask = (shared[key][:n_sequences] for key in ("rows", "predict", "fisher"))
    tok = load(Path(next(iter(models.values()))) / "tokenizer.json")
    unigram = training_unigram(np.load(train_tokens), tok.get_vocab_size())
    table = []
    for step in [*steps, final]:
        start = time.perf_counter()
        folders = {seed: models[seed] if step == final else Path(snapshots[seed]) / f"step{step}"
                   for seed in sorted(models)}
        members = {seed: read_member(folder, rows, predict, fisher_mask, special_ids(tok)["[MASK]"], batch_size,
                                     device, precision) for seed, folder in folders.items()}
        table += step_rows(step, step * step_tokens, step == final, members, unigram, k, top_p)
        log.info("step %d: %d members, %d positions (%.1f s)", step, len(members), predict.sum(),
                 time.perf_counter() - start)
    df = pd.DataFrame(table, columns=list(DYNAMICS_COLUMNS)).astype({"seed_b": "Int64"})
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.8g")
    return df

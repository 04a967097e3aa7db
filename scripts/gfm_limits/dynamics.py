"""Learning dynamics: the paper's statistics at every training snapshot of a condition.

Every member of a condition trained here saves its model at the same log-spaced
steps (train.snapshot_steps) besides the final one. At each of those steps and
at the end, every member is read on the condition's shared held-out masked
positions, the `n_sequences` rows of masks.npz drawn first (a uniform sample of the
evaluation rows, predictions.first_drawn, in file order) with their prediction and
Fisher masks, and the step's tables are built by the stats rule's own functions
(stats.output_tables, stats.embedding_tables, stats.fisher_frame, at the
summary's k and top-p); every statistic of headline.appearing_in("dynamics") is
read from them as summary.tsv reads it:
- per member: the masked cross-entropy (bits per token), the unigram
  cross-entropy of the same targets (the no-context plateau every masked LM
  passes through first; the smoothed unigram model of the training tokens),
  context_gain_bits = unigram - model (as summary.tsv), H(p), KL(p || U) and
  accuracy (headline.member_positions), and the paper's Fisher shares of the
  embeddings, the transformer layers and the head (fisher.fisher_paper, on
  mini-batches of extract.fisher_batch_size rows as the extract rule; headline.fisher_shares);
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

from gfm_limits.extract import ExtractConfig
from gfm_limits.files import InputError, atomic_path
from gfm_limits.fisher import fisher_paper
from gfm_limits.headline import Settings, appearing_in
from gfm_limits.layout import DYNAMICS_COLUMNS
from gfm_limits.model import device as default_device
from gfm_limits.model import load_model
from gfm_limits.predictions import first_drawn, load_masks, predict_distributions
from gfm_limits.special_tokens import read as read_special_tokens
from gfm_limits.stats import embedding_tables, fisher_frame, output_tables, training_unigram

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


def read_member(folder, *, rows: np.ndarray, predict: np.ndarray, fisher_mask: np.ndarray, mask_id: int,
                batch_size: int, fisher_batch_size: int, device, precision: str) -> dict:
    """One model as the extract rule reads it: probs (M, V), targets (M,), the static embeddings
    (V, H) and the paper's Fisher records (mini-batches of fisher_batch_size rows)."""
    model = load_model(folder).to(device)
    probs, targets, _ = predict_distributions(model, rows, predict, mask_id, batch_size, device, precision)
    embeddings = model.word.weight.detach().float().cpu().numpy()  # (V, H)
    fisher = fisher_paper(model, rows, fisher_mask, mask_id, fisher_batch_size, device, precision)
    return {"probs": probs, "targets": targets, "embeddings": embeddings, "fisher": fisher}


def step_tables(members: dict[int, dict], unigram: np.ndarray, *, k: int, top_p: float) -> dict[str, pd.DataFrame]:
    """The tables of one step that the statistics of headline.appearing_in("dynamics") read, built
    by the stats rule's own functions at the summary's k and top_p: outputs, js, pairs, topk, fisher."""
    tables, _, _ = output_tables(members, unigram, top_ps=[top_p], summary_top_p=top_p)
    emb_pairs, tables["topk"], _ = embedding_tables({seed: data["embeddings"] for seed, data in members.items()}, [k])
    tables["pairs"] = tables["pairs"].merge(emb_pairs, on=["seed_a", "seed_b"])
    tables["fisher"] = fisher_frame({seed: pd.DataFrame(data["fisher"]) for seed, data in members.items()})
    return tables


def step_rows(*, step: int, tokens: int, final: bool, members: dict[int, dict], unigram: np.ndarray, k: int,
              top_p: float) -> list[dict]:
    """The table's rows of one step: every member's statistics, then every pair's."""
    at = Settings(k, top_p)
    tables = step_tables(members, unigram, k=k, top_p=top_p)
    values = {stat: v for stat in appearing_in("dynamics")
              if not (v := stat.values(tables, at)).empty}  # none of top-k for single nucleotides
    base = {"step": step, "tokens": tokens, "final": final}
    rows = [{**base, "statistic": stat.name(at), "seed_a": seed, "seed_b": None, "value": float(v[seed])}
            for seed in sorted(members) for stat, v in values.items() if stat.over == "members"]
    rows += [{**base, "statistic": stat.name(at), "seed_a": a, "seed_b": b, "value": float(v[(a, b)])}
             for a, b in itertools.combinations(sorted(members), 2) for stat, v in values.items()
             if stat.over == "pairs"]
    return rows


def condition_dynamics(*, models: dict[int, str], snapshots: dict[int, str], masks, train_tokens, out,
                       n_sequences: int, k: int, top_p: float, batch_size: int,
                       fisher_batch_size: int = ExtractConfig.fisher_batch_size, precision: str = "bf16",
                       threads: int = 1) -> pd.DataFrame:
    """Write dynamics.tsv of one condition: models and snapshots are each member's final model
    folder and snapshot folder (step{N}/ per snapshot step), by seed."""
    import torch

    torch.set_num_threads(threads)
    device = default_device()
    steps, final, step_tokens = shared_schedule(models)
    shared = load_masks(masks)
    chosen = first_drawn(shared["draw_rank"], n_sequences)  # (N,) bool
    rows, predict, fisher_mask = (shared[key][chosen] for key in ("rows", "predict", "fisher"))
    specials = read_special_tokens(Path(next(iter(models.values()))) / "tokenizer.json")
    unigram = training_unigram(np.load(train_tokens), specials.vocab_size, specials.special)
    table = []
    for step in [*steps, final]:
        start = time.perf_counter()
        folders = {seed: models[seed] if step == final else Path(snapshots[seed]) / f"step{step}"
                   for seed in sorted(models)}
        members = {seed: read_member(folder, rows=rows, predict=predict, fisher_mask=fisher_mask,
                                     mask_id=specials.mask, batch_size=batch_size,
                                     fisher_batch_size=fisher_batch_size, device=device, precision=precision)
                   for seed, folder in folders.items()}
        table += step_rows(step=step, tokens=step * step_tokens, final=step == final, members=members,
                           unigram=unigram, k=k, top_p=top_p)
        log.info("step %d: %d members, %d positions (%.1f s)", step, len(members), predict.sum(),
                 time.perf_counter() - start)
    df = pd.DataFrame(table, columns=list(DYNAMICS_COLUMNS)).astype({"seed_b": "Int64"})
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.8g")
    return df

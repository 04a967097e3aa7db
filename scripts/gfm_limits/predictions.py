"""Predictive distributions at one shared set of held-out masked positions.

As the paper's analysis code (docs/paper-notes.md, Metrics): a fraction (10%) of
the tokens of each evaluation row is masked, every one replaced by [MASK]
(no 80/10/10), and p = softmax over the whole vocabulary at each masked
position. Unlike it, exactly round(fraction x n) of a row's n non-special tokens
are drawn (at least one; the paper draws each non-padding token with
probability 0.1, [CLS] and [SEP] included), from a fixed seed, once per condition
(`make_eval_masks`), and every member reads the same file, so members are
compared on identical inputs in every run. A second, independent draw (15%) is kept for
the empirical Fisher.
"""

from __future__ import annotations

import logging

import numpy as np

from gfm_limits.files import atomic_path
from gfm_limits.tokenizer import load, special_ids

log = logging.getLogger(__name__)


def draw_mask(rows: np.ndarray, eligible: np.ndarray, fraction: float, rng) -> np.ndarray:
    """Select round(fraction * eligible) positions per row (at least one): (N, T) bool."""
    mask = np.zeros(rows.shape, dtype=bool)
    for i in range(len(rows)):
        candidates = np.flatnonzero(eligible[i])
        k = max(1, int(round(fraction * len(candidates))))
        mask[i, rng.choice(candidates, size=k, replace=False)] = True
    return mask


def make_eval_masks(tokens_path, tokenizer_path, out, *, n_sequences: int, mask_fraction: float,
                    fisher_mask_fraction: float, mask_seed: int) -> None:
    """Write the shared evaluation rows and their prediction and Fisher masks (.npz)."""
    rows = np.load(tokens_path)[:n_sequences]  # (N, T) uint16
    special = np.array(sorted(special_ids(load(tokenizer_path)).values()))
    eligible = ~np.isin(rows, special)
    rng = np.random.default_rng(mask_seed)
    predict = draw_mask(rows, eligible, mask_fraction, rng)
    fisher = draw_mask(rows, eligible, fisher_mask_fraction, rng)
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, rows=rows, predict=predict, fisher=fisher)
    log.info("%d rows: %d prediction and %d Fisher positions", len(rows), predict.sum(), fisher.sum())


def masked_batches(rows: np.ndarray, mask: np.ndarray, mask_id: int, batch_size: int, device):
    """Yield (ids, selected, inputs), each (B, T): the rows, the mask, and the rows with
    every selected position replaced by [MASK] (no 80/10/10, as the paper's analysis)."""
    import torch

    for start in range(0, len(rows), batch_size):
        ids = torch.from_numpy(rows[start : start + batch_size].astype(np.int64)).to(device)
        selected = torch.from_numpy(mask[start : start + batch_size]).to(device)
        yield ids, selected, torch.where(selected, torch.full_like(ids, mask_id), ids)


def predict_distributions(model, rows: np.ndarray, predict: np.ndarray, mask_id: int, batch_size: int,
                          device, precision: str = "fp32",
                          n_hidden: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Softmax distributions at the masked positions: probs (M, V) float32, targets (M,),
    and the final hidden states (the contextual embeddings) of the first `n_hidden`
    masked positions, (min(n_hidden, M), H) float32."""
    import torch

    from gfm_limits.model import masked_hidden

    model.eval()
    out, hidden = [], []
    kept = 0
    with torch.no_grad():
        for _, selected, inputs in masked_batches(rows, predict, mask_id, batch_size, device):
            states = masked_hidden(model, inputs, selected, precision)  # (M_batch, H)
            out.append(torch.softmax(model.head(states), dim=-1).cpu().numpy())  # (M_batch, V)
            if kept < n_hidden:
                hidden.append(states[: n_hidden - kept].cpu().numpy())
                kept += len(hidden[-1])
    hidden = np.concatenate(hidden) if hidden else np.zeros((0, model.cfg.hidden_size), dtype=np.float32)
    return np.concatenate(out), rows[predict].astype(np.int64), hidden


def layer_states(model, rows: np.ndarray, predict: np.ndarray, mask_id: int, batch_size: int, device,
                 n_positions: int, precision: str = "fp32") -> np.ndarray:
    """The hidden states of the first n_positions masked positions (row order, every masked
    position [MASK] at once, as predictions.predict_distributions) after the embedding LayerNorm
    and after each encoder layer: (L + 1, min(n_positions, M), H) float32. The last layer's are
    the contextual embeddings of predict_distributions. For geometry.py (kept free of torch, for the
    stats environment). Forward hooks read model.encode's layers."""
    import torch

    from gfm_limits.model import autocast, flat_index

    model.eval()
    modules = [model.embed_norm, *model.layers]
    caught: list = [None] * len(modules)
    hooks = [m.register_forward_hook(lambda mod, args, out, i=i: caught.__setitem__(i, out))
             for i, m in enumerate(modules)]
    kept, out = 0, []
    try:
        with torch.no_grad():
            for _, selected, inputs in masked_batches(rows, predict, mask_id, batch_size, device):
                if kept >= n_positions:
                    break
                with autocast(device, precision):
                    model.encode(inputs)
                index = flat_index(selected)[: n_positions - kept]
                out.append(torch.stack([h.float().flatten(0, 1)[index] for h in caught]).cpu().numpy())
                kept += len(index)
    finally:
        for hook in hooks:
            hook.remove()
    if not out:
        return np.zeros((len(modules), 0, model.cfg.hidden_size), dtype=np.float32)
    return np.concatenate(out, axis=1).astype(np.float32)

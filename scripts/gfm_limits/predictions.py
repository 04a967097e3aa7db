"""Predictive distributions at one shared set of held-out masked positions.

As the paper's analysis code (docs/paper-notes.md, Metrics): a fraction (10%) of
the tokens of each evaluation row is masked, every one replaced by [MASK]
(no 80/10/10), and p = softmax over the whole vocabulary at each masked
position. Unlike it, exactly round(fraction x n) of a row's n non-special tokens
are drawn (at least one; the paper draws each non-padding token with
probability 0.1, [CLS] and [SEP] included), from a fixed seed, once per condition
(`make_eval_masks`), and every member reads the same file, so members are
compared on identical inputs in every run. A second, independent draw (15%) is kept for
the empirical Fisher and the mean-pooled contextual embeddings (the paper masks 15% for both).

The evaluation rows are a uniform random sample of the held-out rows, drawn without
replacement from the same seed (`draw_rows`) and kept in file order; the paper reads the
last n rows of its dataset, and the first n rows of a topic-sorted text would evaluate one
end of it. Each row's rank in the draw is kept (`draw_rank`), so that a smaller sample
(the learning dynamics, the contextual positions kept for CKA) is again a uniform one:
the rows drawn first.
"""

from __future__ import annotations

import logging

import numpy as np

from gfm_limits.files import InputError, atomic_path
from gfm_limits.special_tokens import read as read_special_tokens

log = logging.getLogger(__name__)


def draw_mask(rows: np.ndarray, eligible: np.ndarray, fraction: float, rng) -> np.ndarray:
    """Select round(fraction * eligible) positions per row (at least one): (N, T) bool."""
    mask = np.zeros(rows.shape, dtype=bool)
    for i in range(len(rows)):
        candidates = np.flatnonzero(eligible[i])
        k = max(1, int(round(fraction * len(candidates))))
        mask[i, rng.choice(candidates, size=k, replace=False)] = True
    return mask


def draw_rows(n_available: int, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """min(n, n_available) of the held-out rows, uniformly at random without replacement:
    their indices in increasing (file) order, (N,) int64, and each one's rank in the draw
    (0 = drawn first), (N,) int64. The rows of rank < m are a uniform sample of m rows."""
    drawn = rng.choice(n_available, size=min(n, n_available), replace=False)  # (N,) in draw order
    order = np.argsort(drawn, kind="stable")
    return drawn[order].astype(np.int64), order.astype(np.int64)


def first_drawn(draw_rank: np.ndarray, n: int) -> np.ndarray:
    """Which of the evaluation rows are among the first n drawn: (N,) bool, a uniform sample."""
    return draw_rank < n


def hidden_positions(predict: np.ndarray, draw_rank: np.ndarray, n: int) -> np.ndarray:
    """The first n masked positions when rows are taken in the order they were drawn (within a
    row, left to right): (N, T) bool, a subset of predict, so that the contextual embeddings kept
    come from a uniform sample of rows, not from the start of the file."""
    row, col = np.nonzero(predict)  # row-major: position order within a row
    chosen = np.lexsort((col, draw_rank[row]))[:n]
    keep = np.zeros_like(predict)
    keep[row[chosen], col[chosen]] = True
    return keep


def make_eval_masks(tokens_path, tokenizer_path, out, *, n_sequences: int, mask_fraction: float,
                    fisher_mask_fraction: float, mask_seed: int, repeats_path=None) -> None:
    """Write the shared evaluation rows and their prediction and Fisher masks (.npz): rows (N, T),
    row_ids (N,) their indices among the held-out rows, draw_rank (N,), predict and fisher (N, T);
    and repeat (N, T) bool, the drawn rows' repeat flags (tokenizer.encode_repeats, repeats_path,
    parallel to the held-out rows; all False without it)."""
    held_out = np.load(tokens_path, mmap_mode="r")  # (R, T) uint16
    flags = np.zeros(held_out.shape, dtype=np.uint8) if repeats_path is None else np.load(repeats_path)
    if flags.shape != held_out.shape:
        raise InputError(f"{repeats_path}: repeat flags of shape {flags.shape}, not the held-out rows' "
                         f"{held_out.shape} ({tokens_path}); rerun encode_repeats")
    rng = np.random.default_rng(mask_seed)
    row_ids, draw_rank = draw_rows(len(held_out), n_sequences, rng)
    rows = np.asarray(held_out[row_ids])  # (N, T)
    special = np.array(read_special_tokens(tokenizer_path).special)  # every special id, by role or flag
    eligible = ~np.isin(rows, special)
    predict = draw_mask(rows, eligible, mask_fraction, rng)
    fisher = draw_mask(rows, eligible, fisher_mask_fraction, rng)
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, rows=rows, row_ids=row_ids, draw_rank=draw_rank, predict=predict, fisher=fisher,
                 repeat=flags[row_ids].astype(bool))
    log.info("%d of %d held-out rows: %d prediction and %d Fisher positions", len(rows), len(held_out),
             predict.sum(), fisher.sum())


def load_masks(path) -> dict[str, np.ndarray]:
    """masks.npz as make_eval_masks writes it, or an InputError naming a file written before the
    rows were drawn at random (rerun the eval_masks rule)."""
    masks = dict(np.load(path))
    if "draw_rank" not in masks:
        raise InputError(f"{path}: written before the evaluation rows were drawn at random; rerun eval_masks")
    return masks


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
                          hidden_at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Softmax distributions at the masked positions: probs (M, V) float32, targets (M,),
    and the final hidden states (the contextual embeddings) at the masked positions that
    hidden_at (N, T) bool, a subset of predict, marks (hidden_positions), in row order,
    (K, H) float32; none without it."""
    import torch

    from gfm_limits.model import masked_hidden

    model.eval()
    out, hidden = [], []
    with torch.no_grad():
        for start, (_, selected, inputs) in zip(range(0, len(rows), batch_size),
                                                masked_batches(rows, predict, mask_id, batch_size, device)):
            states = masked_hidden(model, inputs, selected, precision)  # (M_batch, H)
            out.append(torch.softmax(model.head(states), dim=-1).cpu().numpy())  # (M_batch, V)
            if hidden_at is not None:
                end = start + batch_size
                kept = hidden_at[start:end][predict[start:end]]  # (M_batch,) bool
                hidden.append(states[torch.from_numpy(kept).to(states.device)].cpu().numpy())
    hidden = np.concatenate(hidden) if hidden else np.zeros((0, model.cfg.hidden_size), dtype=np.float32)
    return np.concatenate(out), rows[predict].astype(np.int64), hidden


def pooled_hidden(model, rows: np.ndarray, mask: np.ndarray, mask_id: int, pad_id: int, batch_size: int,
                  device, precision: str = "fp32") -> np.ndarray:
    """One contextual embedding per row, as the paper's v2 code (embeddings.py, mean_pool): the
    last hidden layer averaged over the row's non-padding tokens ([CLS], [SEP] and the masked
    positions included), the positions of `mask` replaced by [MASK]. (N, T) -> (N, H) float32."""
    import torch

    from gfm_limits.model import autocast

    model.eval()
    out = []
    with torch.no_grad():
        for ids, _, inputs in masked_batches(rows, mask, mask_id, batch_size, device):
            with autocast(inputs.device, precision):
                states = model.encode(inputs).float()  # (B, T, H)
            real = (ids != pad_id).unsqueeze(-1).float()  # (B, T, 1)
            out.append(((states * real).sum(1) / real.sum(1).clamp(min=1e-9)).cpu().numpy())  # (B, H)
    return np.concatenate(out) if out else np.zeros((0, model.cfg.hidden_size), dtype=np.float32)


def layer_states(model, rows: np.ndarray, predict: np.ndarray, mask_id: int, batch_size: int, device,
                 hidden_at: np.ndarray, precision: str = "fp32") -> np.ndarray:
    """The hidden states at the masked positions that hidden_at (N, T) bool, a subset of predict,
    marks (hidden_positions; row order), every masked position [MASK] at once, as
    predict_distributions, after the embedding LayerNorm and after each encoder layer:
    (L + 1, hidden_at.sum(), H) float32. The last layer's are predict_distributions' contextual
    embeddings. For geometry.py (kept free of torch, for the stats environment). Forward hooks
    read model.encode's layers."""
    import torch

    from gfm_limits.model import autocast

    model.eval()
    modules = [model.embed_norm, *model.layers]
    caught: list = [None] * len(modules)
    hooks = [m.register_forward_hook(lambda mod, args, out, i=i: caught.__setitem__(i, out))
             for i, m in enumerate(modules)]
    out = []
    try:
        with torch.no_grad():
            for start, (_, _, inputs) in zip(range(0, len(rows), batch_size),
                                             masked_batches(rows, predict, mask_id, batch_size, device)):
                index = np.flatnonzero(hidden_at[start : start + batch_size])  # (n_batch,) row-major
                if not len(index):
                    continue
                with autocast(device, precision):
                    model.encode(inputs)
                at = torch.from_numpy(index).to(device)
                out.append(torch.stack([h.float().flatten(0, 1)[at] for h in caught]).cpu().numpy())
    finally:
        for hook in hooks:
            hook.remove()
    if not out:
        return np.zeros((len(modules), 0, model.cfg.hidden_size), dtype=np.float32)
    return np.concatenate(out, axis=1).astype(np.float32)

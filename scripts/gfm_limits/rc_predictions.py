"""One k-mer member's predictions on held-out rows and on their reverse complements (rule
rc_consistency): the distributions at the shared masked positions of the exact rows
(reverse_complement.exact_rows) and at the mirrored positions of their RC rows, mapped back,
compared by rc_symmetry.consistency. Runs in the dynamics environment (torch and scipy).
"""

from __future__ import annotations

import logging

import numpy as np

from gfm_limits.files import atomic_path
from gfm_limits.rc_symmetry import consistency
from gfm_limits.reverse_complement import (
    derangement,
    exact_rows,
    mirror_mask,
    mirrored_order,
    rc_rows,
    read_permutation,
)

log = logging.getLogger(__name__)


def rc_member(model_dir, masks_path, tokenizer_path, out, *, k: int, batch_size: int, precision: str = "fp32",
              shuffle_seed: int = 0, threads: int = 1) -> dict:
    """Prediction consistency of one member on the exact rows of the shared held-out masks:
    writes .npz with, per masked position, js_distance, agreement and their _shuffled, row_of
    (the position's row among masks.npz's rows) and rows_total; returns the means."""
    import torch

    from gfm_limits.model import device as default_device
    from gfm_limits.model import load_model
    from gfm_limits.predictions import load_masks, predict_distributions
    from gfm_limits.special_tokens import read as read_special_tokens

    torch.set_num_threads(threads)
    device = default_device()
    model = load_model(model_dir).to(device)
    mask_id = read_special_tokens(tokenizer_path).mask
    perm, kmer = read_permutation(tokenizer_path, k)
    masks = load_masks(masks_path)
    keep = exact_rows(masks["rows"], kmer)  # (R,)
    rows, predict = masks["rows"][keep], masks["predict"][keep]
    p, _, _ = predict_distributions(model, rows, predict, mask_id, batch_size, device, precision)  # (M, V)
    q_rc, _, _ = predict_distributions(model, rc_rows(rows, perm), mirror_mask(predict), mask_id, batch_size,
                                       device, precision)
    q = q_rc[mirrored_order(predict)][:, perm]  # (M, V): back at the original positions and tokens
    values = consistency(p, q, derangement(len(p), np.random.default_rng(shuffle_seed)))
    row_of = np.flatnonzero(keep)[np.nonzero(predict)[0]]
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, row_of=row_of, rows_total=len(keep), **values)
    means = {name: float(v.mean()) for name, v in values.items()}
    log.info("%s: %d of %d rows exact, %d positions: %s", model_dir, keep.sum(), len(keep), len(p), means)
    return means

"""Everything the statistics need from one trained member, in one pass.

Writes the predictive distributions at the shared masked positions
(predictions.py) with two kinds of contextual embeddings: the final hidden states at
masked positions (`hidden`, ours) and one mean-pooled last-layer vector per held-out row
(`pooled`, the paper's v2); the static input-embedding matrix (word_embeddings.weight,
tied to the decoder), the paper's layer-wise empirical Fisher (squared gradients of
mini-batches of `fisher_batch_size` rows, 8 as the paper) and the per-example empirical
Fisher with the tied embedding split (fisher.py); beyond the paper, the per-example true Fisher
(labels drawn from the model, fisher.fisher_true_per_example), every layer's hidden states at
the contextual positions (predictions.layer_states) and the gradient geometry of every parameter
group (gradient_grams.gradient_grams).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gfm_limits.files import atomic_path
from gfm_limits.fisher import fisher_paper, fisher_per_example
from gfm_limits.model import device as default_device
from gfm_limits.model import load_model
from gfm_limits.predictions import hidden_positions, load_masks, pooled_hidden, predict_distributions
from gfm_limits.special_tokens import read as read_special_tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractConfig:
    """The `extract` keys of the config: the shared held-out rows and masks (eval_masks rule,
    predictions.make_eval_masks) and how every member is read on them (extract rule)."""

    n_sequences: int = 1024  # held-out rows, drawn at random (mask_seed), kept in file order
    mask_fraction: float = 0.1  # of each row's tokens, masked for the predictive distributions
    fisher_mask_fraction: float = 0.15  # masked for the empirical Fisher and the pooled embeddings
    batch_size: int = 16  # rows per forward pass (and per chunk of the per-example Fisher)
    fisher_batch_size: int = 8  # rows per mini-batch of the paper's Fisher (its value depends on it)
    mask_seed: int = 0
    precision: str = "bf16"  # bf16 | fp32, on a GPU
    contextual_positions: int = 2048  # masked positions whose final hidden states are kept (CKA)
    fisher_true_samples: int = 1  # labels drawn from the model per masked position, true Fisher
    fisher_true_seed: int = 0  # seed of those draws
    geometry_rows: int = 128  # rows drawn first whose per-example gradients give the gradient geometry


def extract_member(model_dir, masks_path, *, batch_size: int, predictions_out, embeddings_out, fisher_out,
                   fisher_batch_size: int = ExtractConfig.fisher_batch_size, threads: int = 1,
                   precision: str = "bf16", fisher_per_example_out=None, fisher_rows_out=None,
                   n_hidden: int = 0, fisher_true_out=None, fisher_true_rows_out=None, layers_out=None,
                   fisher_true_samples: int = 1, fisher_true_seed: int = 0, gradient_geometry_out=None,
                   geometry_rows: int = ExtractConfig.geometry_rows) -> None:
    """precision: bf16 runs the encoder under bf16 autocast on a GPU (logits, softmax
    and gradients stay fp32); fp32 runs everything in fp32. A CPU always runs fp32.
    The predictions file also holds the contextual embeddings: `hidden`, the final hidden
    states of `n_hidden` masked positions, from the rows in the order they were drawn
    (predictions.hidden_positions), and `pooled`, each row's last layer mean-pooled with the
    Fisher mask's 15% as [MASK] (predictions.pooled_hidden). batch_size: rows per forward
    pass; fisher_batch_size: rows per mini-batch of the paper's Fisher. fisher_rows_out, each
    held-out row's per-example Fisher by group (.npz: groups, values (R, G)). gradient_geometry_out:
    the Gram matrices of the per-example gradients of the `geometry_rows` rows drawn first, by
    group, and the word embedding's gradient mass per row (gradient_grams.gradient_grams, .npz)."""
    import pandas as pd
    import torch

    torch.set_num_threads(threads)
    device = default_device()
    model = load_model(model_dir).to(device)
    specials = read_special_tokens(Path(model_dir) / "tokenizer.json")  # by role, not by id
    mask_id = specials.mask
    masks = load_masks(masks_path)
    rows, predict, fisher_mask = masks["rows"], masks["predict"], masks["fisher"]

    hidden_at = hidden_positions(predict, masks["draw_rank"], n_hidden)
    probs, targets, hidden = predict_distributions(model, rows, predict, mask_id, batch_size, device, precision,
                                                   hidden_at)
    pooled = pooled_hidden(model, rows, fisher_mask, mask_id, specials.pad, batch_size, device, precision)
    with atomic_path(predictions_out) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, probs=probs, targets=targets, hidden=hidden, pooled=pooled)
    embeddings = model.word.weight.detach().float().cpu().numpy()  # (V, H)
    with atomic_path(embeddings_out) as tmp, open(tmp, "wb") as handle:
        np.save(handle, embeddings)
    records = fisher_paper(model, rows, fisher_mask, mask_id, fisher_batch_size, device, precision)
    with atomic_path(fisher_out) as tmp:
        pd.DataFrame(records).to_csv(tmp, sep="\t", index=False)
    if fisher_per_example_out is not None:  # fp32: per-row gradients, one batched backward pass a chunk
        per_example, groups, by_row = fisher_per_example(model, rows, fisher_mask, mask_id, batch_size, device)
        with atomic_path(fisher_per_example_out) as tmp:
            pd.DataFrame(per_example).to_csv(tmp, sep="\t", index=False)
        if fisher_rows_out is not None:
            with atomic_path(fisher_rows_out) as tmp, open(tmp, "wb") as handle:
                np.savez(handle, groups=np.array(groups), values=by_row)
    _beyond(model, rows, predict, fisher_mask, mask_id, batch_size, device, precision=precision,
            hidden_at=hidden_at, fisher_true_out=fisher_true_out, fisher_true_rows_out=fisher_true_rows_out,
            layers_out=layers_out, samples=fisher_true_samples, seed=fisher_true_seed)
    if gradient_geometry_out is not None:
        from gfm_limits.gradient_grams import gradient_grams
        from gfm_limits.predictions import first_drawn

        kept = first_drawn(masks["draw_rank"], geometry_rows)  # (R,) a uniform sample of the rows
        grams = gradient_grams(model, rows[kept], fisher_mask[kept], mask_id, batch_size, device)
        with atomic_path(gradient_geometry_out) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **grams)
    log.info("%s: %d positions, embeddings %s, %d Fisher groups", model_dir, len(probs),
             embeddings.shape, len(records))


def _beyond(model, rows, predict, fisher_mask, mask_id: int, batch_size: int, device, *, precision: str,
            hidden_at: np.ndarray, fisher_true_out, fisher_true_rows_out, layers_out, samples: int,
            seed: int) -> None:
    """The outputs beyond the paper, each where its path is given: the true Fisher (table and
    rows, as the per-example one) and the layer states (.npy, (L + 1, n, H))."""
    import pandas as pd

    from gfm_limits.fisher import fisher_true_per_example
    from gfm_limits.predictions import layer_states

    if fisher_true_out is not None:
        records, groups, by_row = fisher_true_per_example(model, rows, fisher_mask, mask_id, batch_size, device,
                                                          seed=seed, samples=samples)
        with atomic_path(fisher_true_out) as tmp:
            pd.DataFrame(records).to_csv(tmp, sep="\t", index=False)
        if fisher_true_rows_out is not None:
            with atomic_path(fisher_true_rows_out) as tmp, open(tmp, "wb") as handle:
                np.savez(handle, groups=np.array(groups), values=by_row)
    if layers_out is not None:
        states = layer_states(model, rows, predict, mask_id, batch_size, device, hidden_at, precision)
        with atomic_path(layers_out) as tmp, open(tmp, "wb") as handle:
            np.save(handle, states)

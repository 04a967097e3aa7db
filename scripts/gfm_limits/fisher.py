"""Layer-wise empirical Fisher information, as the paper's code computes it.

notes/paper.md, Metrics: 15% of the non-special tokens of each evaluation row
are replaced by [MASK]; per mini-batch, L = mean cross-entropy over the masked
tokens; the squared gradient (dL/dtheta)^2 is accumulated elementwise over
mini-batches and divided by the total number of masked tokens. Note that this
is a squared mini-batch gradient, not the per-example empirical Fisher
(mean over examples of the squared per-example gradient).

Groups: `embeddings` (word, position and token-type embeddings and their
LayerNorm; the word embedding is tied to the decoder, so its gradient holds
both uses), `encoder.0` .. `encoder.{L-1}`, and `head` (the MLM transform and
the output bias). Each group is a plain sum over its parameters; the
per-parameter mean is reported beside it.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from gfm_limits.model import masked_logits
from gfm_limits.predictions import masked_batches

_LAYER = re.compile(r"^(?:bert\.encoder\.layer|layers)\.(\d+)\.")
_EMBEDDINGS = ("bert.embeddings.", "word.", "position.", "token_type.", "embed_norm.")
_HEAD = ("cls.", "head_")


def group_of(name: str) -> str:
    """Fisher group of a parameter name of model.Bert or of HF BertForMaskedLM."""
    if name.startswith(_EMBEDDINGS):
        return "embeddings"
    if match := _LAYER.match(name):
        return f"encoder.{match.group(1)}"
    if name.startswith(_HEAD):
        return "head"
    raise ValueError(f"parameter {name!r} belongs to no Fisher group")


def fisher_paper(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int,
                 batch_size: int, device, precision: str = "fp32") -> list[dict]:
    """Summed squared mini-batch gradients per group over total masked tokens.

    rows: (N, T) token ids; fisher_mask: (N, T) bool. Returns one record per
    group: {"group", "n_params", "fisher", "fisher_per_param"}.
    """
    import torch
    import torch.nn.functional as F

    model.eval()  # no dropout: the Fisher of the trained function itself
    params = dict(model.named_parameters())  # shared (tied) tensors appear once
    squares = {name: torch.zeros_like(p) for name, p in params.items()}
    n_masked = 0
    for ids, sel, inputs in masked_batches(rows, fisher_mask, mask_id, batch_size, device):
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(masked_logits(model, inputs, sel, precision), ids[sel])
        loss.backward()
        for name, p in params.items():
            if p.grad is not None:
                squares[name] += p.grad.detach() ** 2
        n_masked += int(sel.sum())
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name, sq in squares.items():
        totals[group_of(name)] += float(sq.sum()) / n_masked
        counts[group_of(name)] += sq.numel()
    return [{"group": g, "n_params": counts[g], "fisher": totals[g], "fisher_per_param": totals[g] / counts[g]}
            for g in sorted(totals, key=_order)]

def _order(group: str) -> tuple[int, int]:
    if group == "embeddings":
        return (0, 0)
    if group == "head":
        return (2, 0)
    return (1, int(group.split(".")[1]))

"""Layer-wise empirical Fisher information, as the paper's code computes it.

docs/paper-notes.md, Empirical Fisher: 15% of the tokens of each evaluation row
(here the non-special ones; the paper's draw can pick [CLS] and [SEP]) are
replaced by [MASK]; per mini-batch, L = mean cross-entropy over the masked
tokens; the squared gradient (dL/dtheta)^2 is accumulated elementwise over
mini-batches and divided by the total number of masked tokens. Note that this
is a squared mini-batch gradient, not the per-example empirical Fisher
(mean over examples of the squared per-example gradient): its value depends on
the mini-batch, so the mini-batch is a setting of its own (extract.fisher_batch_size,
8 rows as the paper's), apart from the rows per forward pass (extract.batch_size).

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

    rows: (N, T) token ids; fisher_mask: (N, T) bool; batch_size: rows per mini-batch
    (extract.fisher_batch_size; the paper's 8). Returns one record per
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

def fisher_per_example(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int, chunk: int,
                       device, attention: str = "fused") -> tuple[list[dict], list[str], np.ndarray]:
    """The empirical Fisher per example, diagonal, by group: F = (1/R) sum_r g_r^2, where an
    example is a held-out row r and g_r the gradient of its summed masked-token loss
    (sum over its masked positions of -log p(y | the row with those positions [MASK])).
    Unlike fisher_paper (the square of mini-batch mean gradients), cross-example terms
    do not enter, so it is the textbook empirical Fisher at the row level.

    Computed with torch.func: vmap of grad over `chunk` rows at a time, each row's masked
    positions padded to a common count (padding targets are ignored); `attention` as in
    row_gradients. Besides the groups
    of group_of, two rows split the tied word embedding: `word_input` (its use as the input
    lookup) and `word_decoder` (its use as the output projection); the tied gradient is
    their sum, so their Fishers do not add up to the word embedding's. In an untied model
    (model.tie_embeddings false) they are the word embedding and the decoder matrix, which
    group_of counts in `head`.

    Returns the records (as fisher_paper's), and the groups with each row's own
    contribution, (R, G) float64: the records' `fisher` is its column mean over R, so the
    statistics can resample rows (bootstrap.py).
    """
    import torch

    params = {name: p.detach() for name, p in model.named_parameters()}
    squares = {name: torch.zeros_like(p) for name, p in params.items()}
    input_part = torch.zeros_like(params["word.weight"])
    decoder_part = torch.zeros_like(params["word.weight"])
    groups = list(dict.fromkeys(sorted({group_of(n) for n in params}, key=_order))) + ["word_input", "word_decoder"]
    column = {name: groups.index(group_of(name)) for name in params}
    tied = model.head_decoder is None
    per_row = []  # (B, G) per chunk
    for grads, dec_grads in row_gradients(model, rows, fisher_mask, mask_id, chunk, device,
                                             attention):
        n = len(dec_grads)
        contribution = torch.zeros(n, len(groups), dtype=torch.float64, device=dec_grads.device)  # (B, G)
        for name, g in grads.items():  # g: (B, *shape)
            square = g.square()
            if name == "word.weight":
                input_part += square.sum(0)
                contribution[:, -2] += square.flatten(1).sum(1)
                if tied:
                    square = (g + dec_grads).square()  # the tied matrix's gradient: both uses
            squares[name] += square.sum(0)
            contribution[:, column[name]] += square.flatten(1).sum(1)
            del square
        square = dec_grads.square()
        decoder_part += square.sum(0)
        contribution[:, -1] += square.flatten(1).sum(1)
        per_row.append(contribution.cpu().numpy())
    return _records(squares, input_part, decoder_part, len(rows)), groups, np.concatenate(per_row)


ATTENTION = ("fused", "batched")


def row_gradients(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int, chunk: int, device,
                  attention: str = "fused"):
    """Yield, per chunk of `chunk` rows, each row's gradient of its summed masked-token loss (all
    [MASK], fp32, eval mode): (grads, decoder), grads name -> (B, *shape) for every parameter of
    the model and decoder (B, V, H), the gradient of the output projection's weight. In a tied
    model the forward pass reads the decoder from an untied functional copy of the word embedding
    (Bert.forward's `decoder`), so grads["word.weight"] is its input use alone and `decoder` its
    output use: the tied gradient is their sum. In an untied model grads["word.weight"] is the
    input embedding's and `decoder` is grads["head_decoder"]. torch.func: vmap of grad over the
    rows, each row's masked positions padded to a common count (padding targets ignored).

    attention: "fused" (the default) lets torch pick its fused kernel (flash or memory-efficient),
    which has no vmap batching rule, so torch.func loops over the rows around that one operation;
    "batched" runs it by the math backend, plain matrix products that vmap batches. Measured
    (bench/gpu_levers.py, bench/results/h200/BENCH.md), the loop is not where the time goes: on
    an H200 "batched" is 1.09x for the 90M model at 8 rows a chunk, and on a CPU it is 0.4-0.75x
    at the configs' chunks (it materialises every row's T x T attention). The gradients are the
    same to rounding either way (tests/test_gradient_geometry.py, against an explicit loop)."""
    import contextlib

    import torch
    from torch.func import functional_call, grad, vmap
    from torch.nn.attention import SDPBackend, sdpa_kernel

    if attention not in ATTENTION:
        raise ValueError(f"attention {attention!r}: one of {', '.join(ATTENTION)}")

    def backend():  # a context manager each time: sdpa_kernel's is used once
        return sdpa_kernel(SDPBackend.MATH) if attention == "batched" else contextlib.nullcontext()

    model.eval()
    params = {name: p.detach() for name, p in model.named_parameters()}
    tied = model.head_decoder is None
    decoder = params["word.weight"].clone() if tied else None  # an untied model has its own decoder

    def row_loss(p, dec, inputs, index, targets):  # (T,), (K,), (K,) -> summed CE of one row
        return functional_call(model, p, (inputs[None], index, targets), {"normaliser": 1.0, "decoder": dec})

    row_grads = vmap(grad(row_loss, argnums=(0, 1) if tied else 0), in_dims=(None, None, 0, 0, 0))
    for ids, sel, inputs in masked_batches(rows, fisher_mask, mask_id, chunk, device):
        k = int(sel.sum(dim=1).max())
        index = torch.argsort(sel.to(torch.uint8), dim=1, descending=True, stable=True)[:, :k]  # (B, k)
        targets = torch.where(torch.gather(sel, 1, index), torch.gather(ids, 1, index), -100)
        with backend():
            grads = row_grads(params, decoder, inputs, index, targets)
        grads, dec_grads = grads if tied else (grads, grads["head_decoder"])
        yield grads, dec_grads


def _records(squares: dict, input_part, decoder_part, n_rows: int) -> list[dict]:
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name, sq in squares.items():
        totals[group_of(name)] += float(sq.sum()) / n_rows
        counts[group_of(name)] += sq.numel()
    records = [{"group": g, "n_params": counts[g], "fisher": totals[g], "fisher_per_param": totals[g] / counts[g]}
               for g in sorted(totals, key=_order)]
    for name, sq in (("word_input", input_part), ("word_decoder", decoder_part)):
        value = float(sq.sum()) / n_rows
        records.append({"group": name, "n_params": sq.numel(), "fisher": value, "fisher_per_param": value / sq.numel()})
    return records


def _order(group: str) -> tuple[int, int]:
    if group == "embeddings":
        return (0, 0)
    if group == "head":
        return (2, 0)
    return (1, int(group.split(".")[1]))


def sample_labels(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int, chunk: int, device, *,
                  seed: int, samples: int = 1) -> np.ndarray:
    """Labels drawn from the model's own predictive distribution at every masked position (all
    [MASK], fp32): (samples, N, T), the rows with each masked position replaced by a draw. One
    CPU torch.Generator seeded `seed`; per chunk of rows, torch.multinomial of the (K, V)
    softmax at its masked positions (row-major order), `samples` draws with replacement each."""
    import torch

    model.eval()
    generator = torch.Generator().manual_seed(seed)
    out = np.repeat(rows[None].astype(np.int64), samples, axis=0)  # (S, N, T)
    start = 0
    with torch.no_grad():
        for _, sel, inputs in masked_batches(rows, fisher_mask, mask_id, chunk, device):
            probs = torch.softmax(masked_logits(model, inputs, sel, "fp32").double().cpu(), dim=-1)  # (K, V)
            draws = torch.multinomial(probs, samples, replacement=True, generator=generator).numpy()  # (K, S)
            block = out[:, start : start + len(sel)]  # (S, B, T), a view
            block[:, fisher_mask[start : start + len(sel)]] = draws.T
            start += len(sel)
    return out


def fisher_true_per_example(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int, chunk: int, device,
                            *, seed: int, samples: int = 1) -> tuple[list[dict], list[str], np.ndarray]:
    """The true Fisher per example, diagonal, by group: F = (1/R) sum_r E_{y ~ p_theta} g_r(y)^2,
    with g_r(y) the gradient of row r's summed masked-token loss at labels y drawn from the model
    itself (sample_labels) instead of the observed tokens, the expectation estimated by `samples`
    draws per position (Kunstner et al. 2019: the empirical Fisher, fisher_per_example, need not
    track it, least of all for near-uniform outputs). The same groups, records and per-row
    contributions (R, G) as fisher_per_example, averaged over the draws."""
    labels = sample_labels(model, rows, fisher_mask, mask_id, chunk, device, seed=seed, samples=samples)
    runs = [fisher_per_example(model, drawn, fisher_mask, mask_id, chunk, device) for drawn in labels]
    groups, by_row = runs[0][1], np.mean([run[2] for run in runs], axis=0)  # (R, G)
    records = []
    for i, record in enumerate(runs[0][0]):
        value = float(np.mean([run[0][i]["fisher"] for run in runs]))
        records.append({**record, "fisher": value, "fisher_per_param": value / record["n_params"]})
    return records, groups, by_row

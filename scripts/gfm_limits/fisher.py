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
                       device, method: str = "hooks") -> tuple[list[dict], list[str], np.ndarray]:
    """The empirical Fisher per example, diagonal, by group: F = (1/R) sum_r g_r^2, where an
    example is a held-out row r and g_r the gradient of its summed masked-token loss
    (sum over its masked positions of -log p(y | the row with those positions [MASK])).
    Unlike fisher_paper (the square of mini-batch mean gradients), cross-example terms
    do not enter, so it is the textbook empirical Fisher at the row level.

    The per-row gradients come from row_gradients, `chunk` rows at a time, by `method`
    (hooks: one batched backward pass; vmap, vmap_math: torch.func). Besides the groups
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

    params = dict(model.named_parameters())
    groups = list(dict.fromkeys(sorted({group_of(n) for n in params}, key=_order))) + ["word_input", "word_decoder"]
    column = {name: groups.index(group_of(name)) for name in params}
    tied = model.head_decoder is None

    per_row = []  # (B, G) per chunk
    for grads, dec_grads in row_gradients(model, rows, fisher_mask, mask_id, chunk, device, method):
        parts, columns = [], []  # each (B, *shape) gradient and the group column its squares go to
        for name, g in grads.items():
            if name == "word.weight":
                parts.append(g)
                columns.append(len(groups) - 2)
                if tied:
                    g = g + dec_grads  # the tied matrix's gradient: both uses
            parts.append(g)
            columns.append(column[name])
        parts.append(dec_grads)
        columns.append(len(groups) - 1)
        # each row's squared norm of each part, one pass over each, then summed into its group's column
        norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in parts])  # (P, B)
        contribution = torch.zeros(len(groups), len(dec_grads), dtype=torch.float64, device=norms.device)
        contribution.index_add_(0, torch.tensor(columns, device=norms.device), norms.double().square())
        per_row.append(contribution.T.cpu().numpy())
    by_row = np.concatenate(per_row)  # (R, G)
    sizes: dict[str, int] = defaultdict(int)
    for name, p in params.items():
        sizes[group_of(name)] += p.numel()
    sizes["word_input"] = sizes["word_decoder"] = params["word.weight"].numel()
    fisher = by_row.sum(0) / len(rows)
    records = [{"group": g, "n_params": sizes[g], "fisher": float(f), "fisher_per_param": float(f) / sizes[g]}
               for g, f in zip(groups, fisher)]
    return records, groups, by_row


METHODS = ("hooks", "vmap", "vmap_math")


def row_gradients(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int, chunk: int, device,
                  method: str = "hooks"):
    """Yield, per chunk of `chunk` rows, each row's gradient of its summed masked-token loss (all
    [MASK], fp32, eval mode): (grads, decoder), grads name -> (B, *shape) for every parameter of
    the model and decoder (B, V, H), the gradient of the output projection's weight. In a tied
    model grads["word.weight"] is the word embedding's input use alone and `decoder` its output
    use: the tied gradient is their sum. In an untied model grads["word.weight"] is the input
    embedding's and `decoder` is grads["head_decoder"].

    method:
      hooks      (the default) one forward and one backward pass over the chunk, as training
                 runs them (torch's fused attention kernel included): forward hooks keep each
                 Linear's and LayerNorm's input, autograd gives the gradient of the chunk's
                 summed loss with respect to each one's output, and each row's parameter
                 gradient is formed from its own rows of the two (a Linear's weight: the
                 product of output gradient and input over the row's positions; a LayerNorm's:
                 the output gradient times the normalised input, summed; the embeddings: the
                 gradient at the embedding sum, scattered to the row's tokens and positions;
                 the output projection and bias: the logits' gradient at the row's masked
                 positions). Rows do not interact in the encoder, so this is each row's gradient
                 (the per-example gradient trick of Goodfellow 2015 and Opacus).
      vmap       torch.func: vmap of grad over the rows, each row's masked positions padded to a
                 common count. Torch's fused attention kernel has no vmap batching rule, so
                 torch.func loops over the rows around it; on an H200 its GPU kernels then fill a
                 quarter of the wall time under the profiler, hooks' a third, and hooks is 1.2x
                 as fast (bench/gpu_levers.py, bench/results/h200/BENCH.md).
      vmap_math  the same with attention by the math backend (plain matrix products that vmap
                 batches; it materialises each row's T x T attention).
    All three give the same gradients to rounding (tests/test_gradient_geometry.py, against an
    explicit loop over rows)."""
    if method not in METHODS:
        raise ValueError(f"method {method!r}: one of {', '.join(METHODS)}")
    model.eval()
    if method == "hooks":
        yield from _hook_gradients(model, rows, fisher_mask, mask_id, chunk, device)
    else:
        yield from _vmap_gradients(model, rows, fisher_mask, mask_id, chunk, device, method == "vmap_math")


def _vmap_gradients(model, rows, fisher_mask, mask_id, chunk, device, math_attention: bool):
    import contextlib

    import torch
    from torch.func import functional_call, grad, vmap
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def backend():  # a context manager each time: sdpa_kernel's is used once
        return sdpa_kernel(SDPBackend.MATH) if math_attention else contextlib.nullcontext()

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


def _hook_gradients(model, rows, fisher_mask, mask_id, chunk, device):
    import torch
    import torch.nn.functional as F
    from torch import nn

    from gfm_limits.model import flat_index

    modules = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear | nn.LayerNorm)}
    seen: dict[str, tuple] = {}  # module name -> (input, output) of this chunk's forward pass

    def keep(name):
        return lambda module, args, output: seen.__setitem__(name, (args[0], output))

    handles = [m.register_forward_hook(keep(name)) for name, m in modules.items()]
    # the graph starts at the embedding sum (the embedding LayerNorm's input), so gradients flow
    # whether or not the parameters require them, and none is formed for a parameter
    handles.append(model.embed_norm.register_forward_pre_hook(lambda m, args: (args[0].detach().requires_grad_(),)))
    try:
        for ids, sel, inputs in masked_batches(rows, fisher_mask, mask_id, chunk, device):
            b, t = ids.shape
            index = flat_index(sel)  # (K,) row-major
            counts = sel.sum(1)  # (B,)
            row = index // t  # each masked position's row, and its rank among the row's positions
            rank = torch.arange(len(index), device=index.device) - (torch.cumsum(counts, 0) - counts)[row]
            where, shape = (row, rank), (b, int(counts.max()))  # for _by_row: each row's positions, padded
            seen.clear()
            with torch.enable_grad():
                logits = model.logits_at(model.encode(inputs), index)  # (K, V)
                loss = F.cross_entropy(logits, ids.flatten()[index], reduction="sum")
                names = list(seen)
                wanted = [seen[n][1] for n in names] + [seen["embed_norm"][0], logits]
                got = torch.autograd.grad(loss, wanted)
            out_grads, emb_grad, logit_grad = dict(zip(names, got[:-2])), got[-2], got[-1]
            grads = {}
            for name in names:
                module, (x, _) = modules[name], seen[name]
                x, gy = x.detach(), out_grads[name]
                if isinstance(module, nn.LayerNorm):
                    x = F.layer_norm(x, module.normalized_shape, eps=module.eps)  # the normalised input
                if x.dim() == 2:  # (K, *): the head, at the masked positions; by row, zero-padded
                    x, gy = _by_row(x, where, shape), _by_row(gy, where, shape)
                weight = torch.bmm(gy.transpose(1, 2), x) if isinstance(module, nn.Linear) else (gy * x).sum(1)
                grads[f"{name}.weight"], grads[f"{name}.bias"] = weight, gy.sum(1)  # summed over each row
            h = emb_grad.shape[-1]
            word = torch.zeros(b * model.vocab_size, h, device=emb_grad.device, dtype=emb_grad.dtype)
            rows_of = torch.arange(b, device=inputs.device)[:, None] * model.vocab_size
            word.index_add_(0, (rows_of + inputs).flatten(), emb_grad.reshape(-1, h))
            grads["word.weight"] = word.view(b, model.vocab_size, h)
            position = torch.zeros((b, *model.position.weight.shape), device=emb_grad.device, dtype=emb_grad.dtype)
            position[:, :t] = emb_grad
            grads["position.weight"] = position
            token_type = torch.zeros((b, *model.token_type.weight.shape), device=emb_grad.device,
                                     dtype=emb_grad.dtype)
            token_type[:, 0] = emb_grad.sum(1)
            grads["token_type.weight"] = token_type
            head_in = _by_row(seen["head_norm"][1].detach(), where, shape)  # the output projection's input
            logit_grad = _by_row(logit_grad, where, shape)  # and output gradient, (B, k_max, *)
            decoder = torch.bmm(logit_grad.transpose(1, 2), head_in)
            grads["head_bias"] = logit_grad.sum(1)
            if model.head_decoder is not None:
                grads["head_decoder"] = decoder
            seen.clear()
            yield {name: grads[name] for name, _ in model.named_parameters()}, decoder
    finally:
        for handle in handles:
            handle.remove()


def _by_row(values, where, shape):
    """(K, D) values at the masked positions -> (B, k_max, D), each row's own first, zero-padded."""
    out = values.new_zeros(*shape, values.shape[1])
    out[where] = values
    return out


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

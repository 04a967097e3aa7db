"""The extract side of the gradient geometry (gradient_geometry.py): per parameter group, the Gram
matrix of a member's per-row gradients and the word embedding's gradient mass per vocabulary row,
written by extract as gradient_geometry.npz. Kept apart from gradient_geometry.py, whose
statistics run in the stats env, which has no torch."""

from __future__ import annotations

import numpy as np
import torch

from gfm_limits.fisher import row_gradients
from gfm_limits.gradient_geometry import WORD_USES, geometry_group, group_order


def gradient_grams(model, rows: np.ndarray, fisher_mask: np.ndarray, mask_id: int, chunk: int, device) -> dict:
    """Per geometry group, the Gram matrix (n, n) float64 of the per-row gradients of the rows'
    summed masked-token loss (fisher.row_gradients), and the gradient mass per embedding row of
    the word embedding's two uses, (V,) each summed over the rows. Memory: the gradients of all
    n rows are held on the CPU in fp32 (4 x n x n_params bytes). Returns {groups (G,), n_params
    (G,), gram (G, n, n), row_mass_input (V,), row_mass_decoder (V,)}."""
    kept: dict[str, list] = {}
    mass = {use: torch.zeros(model.vocab_size, dtype=torch.float64) for use in WORD_USES}
    for grads, dec_grads in row_gradients(model, rows, fisher_mask, mask_id, chunk, device):
        by_group: dict[str, list] = {}
        named = [(n, g) for n, g in grads.items() if n != "head_decoder"] + [("head_decoder", dec_grads)]
        for name, g in named:  # g: (B, *shape)
            if (group := geometry_group(name)) is not None:
                by_group.setdefault(group, []).append(g.flatten(1).float().cpu())
        for group, parts in by_group.items():
            kept.setdefault(group, []).append(torch.cat(parts, dim=1))  # (B, p)
        mass["word_input"] += (grads["word.weight"].double() ** 2).sum((0, 2)).cpu()  # (V,)
        mass["word_decoder"] += (dec_grads.double() ** 2).sum((0, 2)).cpu()
    groups = sorted(kept, key=group_order)
    grams, n_params = [], []
    for group in groups:
        g = torch.cat(kept.pop(group))  # (n, p)
        gram = torch.zeros(len(g), len(g), dtype=torch.float64)
        for start in range(0, g.shape[1], 1 << 16):  # float64 products, a block of columns at a time
            block = g[:, start : start + (1 << 16)].double()
            gram += block @ block.T
        grams.append(gram.numpy())
        n_params.append(g.shape[1])
    return {"groups": np.array(groups), "n_params": np.array(n_params), "gram": np.stack(grams),
            "row_mass_input": mass["word_input"].numpy(), "row_mass_decoder": mass["word_decoder"].numpy()}

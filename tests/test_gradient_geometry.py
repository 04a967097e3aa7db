"""Gradient geometry (gradient_geometry.py) against independent computations: numpy's SVD of the
same matrix, hand-made matrices of known rank, an explicit loop of torch.autograd.grad per row, and
the tied gradient as the sum of the word embedding's two uses."""

import math

import numpy as np
import pandas as pd
import pytest

from gfm_limits import gradient_geometry as gg
from gfm_limits.gradient_grams import gradient_grams


def _svd_stats(g):
    s = np.linalg.svd(g, compute_uv=False)
    s = s[s > s.max() * 1e-10]
    p = s / s.sum()
    return math.exp(-(p * np.log(p)).sum()), (s**2).sum() / s.max() ** 2


def test_ranks_from_gram_match_numpy_svd_of_the_matrix():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(12, 300)) * np.geomspace(1, 1e-2, 12)[:, None]
    s = gg.singular_values(g @ g.T)
    np.testing.assert_allclose(s, np.linalg.svd(g, compute_uv=False), rtol=1e-8)
    eff, stable = _svd_stats(g)
    assert gg.effective_rank(s) == pytest.approx(eff, rel=1e-9)
    assert gg.stable_rank(s) == pytest.approx(stable, rel=1e-9)


def test_rank_one_and_orthogonal_rows():
    u, v = np.arange(1.0, 7.0), np.linspace(-1, 2, 50)
    s = gg.singular_values(np.outer(u, v) @ np.outer(u, v).T)
    assert gg.effective_rank(s) == pytest.approx(1.0, abs=1e-9)
    assert gg.stable_rank(s) == pytest.approx(1.0, abs=1e-9)
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(40, 8)))  # (40, 8) orthonormal columns
    g = 3.0 * q.T  # 8 orthogonal rows of norm 3
    s = gg.singular_values(g @ g.T)
    assert gg.effective_rank(s) == pytest.approx(8.0, rel=1e-9)
    assert gg.stable_rank(s) == pytest.approx(8.0, rel=1e-9)
    assert math.isnan(gg.effective_rank(gg.singular_values(np.zeros((3, 3)))))


def test_frequent_share_by_hand():
    # vocabulary 5 specials + 10 ordinary ids 5..14; counts make 14 the most frequent, then 5
    tokens = np.array([14] * 9 + [5] * 5 + [6, 7, 8, 9, 10, 11, 12, 13] + [0, 0, 0, 4])
    top, train_share = gg.frequent_tokens(tokens, 15)
    assert top.tolist() == [14]  # ceil(0.1 x 10) = 1 token type
    assert train_share == pytest.approx(9 / 22)
    mass = np.zeros(15)
    mass[14], mass[5], mass[4] = 3.0, 1.0, 4.0  # [MASK]'s row: special, out of the ordinary total
    assert gg.share(mass, top, of=np.arange(5, 15)) == pytest.approx(3.0 / 4.0)
    assert gg.share(mass, np.arange(5)) == pytest.approx(4.0 / 8.0)
    rows = gg.member_rows(7, {"groups": np.array(["word_input"]), "n_params": np.array([15]),
                              "gram": np.eye(3)[None], "row_mass_input": mass, "row_mass_decoder": 2 * mass},
                          top, train_share)
    got = {(r["group"], r["statistic"]): r["value"] for r in rows}
    assert got[("word_input", "effective_rank")] == pytest.approx(3.0)
    assert got[("word_decoder", "frequent_share")] == pytest.approx(0.75)
    assert got[("word_input", "special_share")] == pytest.approx(0.5)
    assert got[("word_decoder", "frequent_train_share")] == pytest.approx(9 / 22)


def test_ci_table_contrasts_and_members_interval():
    rows = []
    for seed, (word, l0, l1) in enumerate([(2.0, 10.0, 12.0), (3.0, 9.0, 13.0), (4.0, 11.0, 11.0)]):
        for group, value in (("word_input", word), ("encoder.0", l0), ("encoder.1", l1)):
            rows.append({"seed": seed, "group": group, "statistic": "effective_rank", "value": value, "rows": 4,
                         "n_params": 10})
    table = gg.ci_table(pd.DataFrame(rows), n_boot=200, level=0.9, seed=0).set_index(["group", "statistic"])
    c = table.loc[("word_input - encoder", "effective_rank")]
    assert c["estimate"] == pytest.approx(np.mean([2 - 11, 3 - 11, 4 - 11]))
    assert -9 <= c["ci_low"] <= c["estimate"] <= c["ci_high"] <= -7  # resampled member values lie in [-9, -7]
    cols = gg.summary_columns(table.reset_index())
    assert cols["grad_effective_rank_word_input_minus_encoder"] == pytest.approx(-8.0)


def _tiny(tied=True):
    import torch

    from gfm_limits.model import Bert, ModelConfig

    torch.manual_seed(0)
    cfg = ModelConfig(hidden_size=8, num_layers=2, num_heads=2, intermediate_size=16, dropout=0.0,
                      max_position=16, tie_embeddings=tied)
    model = Bert(cfg, vocab_size=20)
    if not tied:
        torch.nn.init.normal_(model.head_decoder, std=0.02)
    rng = np.random.default_rng(0)
    rows = rng.integers(5, 20, size=(6, 10))
    mask = rng.random((6, 10)) < 0.3
    mask[:, 1] = True  # every row has a masked position
    return model, rows, mask


def _loop_gradients(model, rows, mask, mask_id=4):
    """Each row's gradient by an explicit torch.autograd.grad of its summed masked-token loss."""
    import torch

    params = dict(model.named_parameters())
    out = []
    for r, m in zip(rows, mask):
        ids = torch.tensor(r[None])
        sel = torch.tensor(m[None])
        inputs = torch.where(sel, torch.full_like(ids, mask_id), ids)
        index = sel.flatten().nonzero().squeeze(1)
        loss = model(inputs, index, ids.flatten()[index], normaliser=1.0)
        out.append(dict(zip(params, torch.autograd.grad(loss, list(params.values())))))
    return out


@pytest.mark.parametrize("method", ["hooks", "vmap", "vmap_math"])
@pytest.mark.parametrize("tied", [True, False])
def test_row_gradients_match_an_explicit_loop_and_the_split_sums_to_the_tied_gradient(tied, method):
    import torch

    from gfm_limits.fisher import row_gradients

    model, rows, mask = _tiny(tied)
    loop = _loop_gradients(model, rows, mask)
    got = list(row_gradients(model, rows, mask, 4, 4, torch.device("cpu"), method))
    assert list(got[0][0]) == [name for name, _ in model.named_parameters()]
    grads = {name: torch.cat([g[name] for g, _ in got]) for name in got[0][0]}
    decoder = torch.cat([d for _, d in got])
    for i, expected in enumerate(loop):
        for name, g in expected.items():
            if name == "word.weight" and tied:
                torch.testing.assert_close(grads[name][i] + decoder[i], g, rtol=1e-4, atol=1e-5)  # both uses
            else:
                torch.testing.assert_close(grads[name][i], g, rtol=1e-4, atol=1e-5)
        if not tied:
            torch.testing.assert_close(decoder[i], expected["head_decoder"], rtol=1e-4, atol=1e-5)
    if tied:  # the decoder use alone: the gradient through the output projection only
        word = model.word.weight
        for i, (r, m) in enumerate(zip(rows, mask)):
            ids = torch.tensor(r[None])
            sel = torch.tensor(m[None])
            inputs = torch.where(sel, torch.full_like(ids, 4), ids)
            index = sel.flatten().nonzero().squeeze(1)
            dec = word.detach().clone().requires_grad_(True)
            loss = model(inputs, index, ids.flatten()[index], normaliser=1.0, decoder=dec)
            torch.testing.assert_close(decoder[i], torch.autograd.grad(loss, dec)[0], rtol=1e-4, atol=1e-5)


def test_gradient_grams_against_numpy_svd_of_the_loop_gradients():
    import torch

    model, rows, mask = _tiny(tied=True)
    loop = _loop_gradients(model, rows, mask)
    out = gradient_grams(model, rows, mask, 4, 4, torch.device("cpu"))
    groups = list(out["groups"])
    assert groups[0] == "word_input" and groups[-1] == "word_decoder"
    assert {"position", "token_type", "encoder.0", "encoder.1", "head_transform"} <= set(groups)
    layer1 = np.stack([np.concatenate([g[n].flatten().numpy() for n in g if n.startswith("layers.1.")])
                       for g in loop])  # (R, p) by the loop
    gram = out["gram"][groups.index("encoder.1")]
    np.testing.assert_allclose(gram, layer1.astype(np.float64) @ layer1.T.astype(np.float64), rtol=1e-4,
                               atol=1e-9)
    eff, stable = _svd_stats(layer1.astype(np.float64))
    s = gg.singular_values(gram)
    assert gg.effective_rank(s) == pytest.approx(eff, rel=1e-4)
    assert gg.stable_rank(s) == pytest.approx(stable, rel=1e-4)
    # input + decoder masses: the row masses of the two uses, over the rows of the loop's split
    word_total = sum((g["word.weight"].numpy().astype(np.float64) ** 2).sum(1) for g in loop)  # (V,) tied
    assert out["row_mass_input"].shape == (20,)
    assert np.all(out["row_mass_input"][[0, 1, 2, 3]] == 0)  # no row holds [PAD], [UNK], [CLS], [SEP]
    assert out["row_mass_input"][4] > 0  # [MASK] is an input of every row
    assert word_total.sum() > 0


@pytest.mark.parametrize("tied", [True, False])
def test_the_groups_cover_every_parameter_but_the_embedding_norm_and_the_output_bias(tied):
    import torch

    model, rows, mask = _tiny(tied)
    out = gradient_grams(model, rows, mask, 4, 4, torch.device("cpu"))
    total = sum(p.numel() for p in model.parameters())
    v, h = model.word.weight.shape
    second_use = v * h if tied else 0  # the tied matrix counted once per use
    assert int(out["n_params"].sum()) == total + second_use - 2 * h - v
    assert out["gram"].shape == (len(out["groups"]), len(rows), len(rows))


def test_hooks_and_vmap_math_row_gradients_run_without_torch_funcs_fallback_loop():
    """vmap_math gives vmap plain matrix products and hooks uses no vmap: no 'performance drop'
    warning of the batching fallback, which vmap around the fused kernel raises (its loop over
    the rows)."""
    import warnings

    import torch

    from gfm_limits.fisher import row_gradients

    model, rows, mask = _tiny(True)

    def fallback_warnings(method):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            list(row_gradients(model, rows, mask, 4, 4, torch.device("cpu"), method))
        return [w for w in caught if "batching rule" in str(w.message)]

    assert fallback_warnings("vmap")
    assert not fallback_warnings("vmap_math")
    assert not fallback_warnings("hooks")
    with pytest.raises(ValueError, match="method 'flash'"):
        list(row_gradients(model, rows, mask, 4, 4, torch.device("cpu"), "flash"))


def test_hook_gradients_of_a_row_without_masked_positions_are_zero_and_leave_the_others_alone():
    """A row that has no masked position has no loss: every gradient of it is 0, and the rows
    beside it in the chunk get the gradients vmap gives them."""
    import torch

    from gfm_limits.fisher import row_gradients

    model, rows, mask = _tiny(True)
    mask[2] = False
    for p in model.parameters():  # the hooks need no parameter gradients
        p.requires_grad_(False)
    (hooks, hooks_dec), = row_gradients(model, rows, mask, 4, 6, torch.device("cpu"), "hooks")
    (vmap, vmap_dec), = row_gradients(model, rows, mask, 4, 6, torch.device("cpu"), "vmap_math")
    for name, g in hooks.items():
        assert not g[2].any(), name
        torch.testing.assert_close(g, vmap[name], rtol=1e-4, atol=1e-6)
    assert not hooks_dec[2].any()
    torch.testing.assert_close(hooks_dec, vmap_dec, rtol=1e-4, atol=1e-6)

"""One member's extraction: every file it writes against a direct computation with HF BertForMaskedLM."""

import runpy
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from transformers import BertForMaskedLM

from gfm_limits import tokenizer as tk
from gfm_limits.extract import extract_member
from gfm_limits.fisher import group_of
from gfm_limits.model import ModelConfig, build_model, save_pretrained
from gfm_limits.predictions import make_eval_masks

from conftest import ROOT

TINY = ModelConfig(hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32, max_position=16)
UNTIED = ModelConfig(**{**TINY.__dict__, "tie_embeddings": False})
MASK, VOCAB, BATCH, N_HIDDEN = 4, 26, 4, 5  # 2-mer tokenizer: 5 specials, 16 2-mers, 5 bases
FISHER_BATCH = 3  # rows per mini-batch of the paper's Fisher, apart from the forward passes' BATCH


@pytest.fixture(params=[TINY, UNTIED], ids=["tied", "untied"])
def extracted(request, tmp_path):
    """A randomly initialised member saved as a folder, its masks, and the files extract writes."""
    member = tmp_path / "member"
    save_pretrained(build_model(request.param, VOCAB, 0, seed=7), 0, member)
    tk.build_kmer(member / "tokenizer.json", k=2)
    rows = np.random.default_rng(2).integers(5, VOCAB, size=(7, 12)).astype(np.uint16)  # (N, T)
    rows[:, 0], rows[:, -1] = 2, 3
    rows[2, 8:] = [3, 0, 0, 0]  # a short document, padded
    np.save(tmp_path / "tokens.npy", rows)
    make_eval_masks(tmp_path / "tokens.npy", member / "tokenizer.json", tmp_path / "masks.npz", n_sequences=7,
                    mask_fraction=0.25, fisher_mask_fraction=0.3, mask_seed=1)
    out = {name: tmp_path / name for name in ("p.npz", "e.npy", "f.tsv", "fpe.tsv", "rows.npz")}
    extract_member(member, tmp_path / "masks.npz", batch_size=BATCH, fisher_batch_size=FISHER_BATCH,
                   predictions_out=out["p.npz"], embeddings_out=out["e.npy"], fisher_out=out["f.tsv"],
                   fisher_per_example_out=out["fpe.tsv"], fisher_rows_out=out["rows.npz"], n_hidden=N_HIDDEN)
    return BertForMaskedLM.from_pretrained(member).eval(), dict(np.load(tmp_path / "masks.npz")), out


def masked(rows: np.ndarray, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ids, sel = torch.from_numpy(rows.astype(np.int64)), torch.from_numpy(mask)
    return ids, sel, torch.where(sel, MASK, ids)


def test_predictions_and_embeddings(extracted):
    hf, masks, out = extracted
    ids, sel, inputs = masked(masks["rows"], masks["predict"])
    with torch.no_grad():
        found = hf(input_ids=inputs, output_hidden_states=True)
    predictions = np.load(out["p.npz"])
    np.testing.assert_allclose(predictions["probs"], torch.softmax(found.logits[sel], -1).numpy(), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_array_equal(predictions["targets"], ids[sel].numpy())
    # the hidden states kept: rows taken in the order they were drawn, left to right, until N_HIDDEN
    kept = np.zeros_like(masks["predict"])
    for r in np.argsort(masks["draw_rank"]):
        for t in np.flatnonzero(masks["predict"][r]):
            kept[r, t] = kept.sum() < N_HIDDEN
    np.testing.assert_allclose(predictions["hidden"], found.hidden_states[-1][torch.from_numpy(kept)].numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.load(out["e.npy"]), hf.bert.embeddings.word_embeddings.weight.detach().numpy())


def test_pooled_embeddings_average_the_last_layer_over_each_rows_real_tokens(extracted):
    """One vector per held-out row, the rows as the Fisher mask leaves them (15% [MASK] in the
    paper's contextual embeddings): the mean over the row's non-padding tokens, by a loop."""
    hf, masks, out = extracted
    _, _, inputs = masked(masks["rows"], masks["fisher"])
    with torch.no_grad():
        last = hf(input_ids=inputs, output_hidden_states=True).hidden_states[-1].numpy()  # (N, T, H)
    expected = [np.mean([last[r, t] for t in range(last.shape[1]) if masks["rows"][r, t] != 0], axis=0)
                for r in range(len(last))]
    np.testing.assert_allclose(np.load(out["p.npz"])["pooled"], np.stack(expected), rtol=1e-5, atol=1e-6)


def paper_fisher_by_hand(hf, rows: np.ndarray, mask: np.ndarray, batch: int) -> tuple[dict, dict]:
    """Per group: the squared gradient of each mini-batch of `batch` rows' mean masked loss, summed
    elementwise over mini-batches and divided by all masked tokens; and the group's size."""
    params = list(hf.named_parameters())  # a tied decoder appears once, as the word embedding
    squares = {}  # only parameters the forward uses (not an untied transformers 5 model's cls.predictions.bias)
    n_masked = 0
    for start in range(0, len(rows), batch):
        ids, sel, inputs = masked(rows[start : start + batch], mask[start : start + batch])
        loss = F.cross_entropy(hf(input_ids=inputs).logits[sel], ids[sel])
        for (name, _), g in zip(params, torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)):
            if g is not None:
                squares[name] = squares.get(name, 0) + g**2
        n_masked += int(sel.sum())
    expected, sizes = {}, {}
    for name, sq in squares.items():
        expected[group_of(name)] = expected.get(group_of(name), 0.0) + float(sq.sum()) / n_masked
        sizes[group_of(name)] = sizes.get(group_of(name), 0) + sq.numel()
    return expected, sizes


def test_paper_fisher_is_the_squared_mini_batch_gradient_per_masked_token(extracted):
    """The paper's Fisher on the Fisher mask (not the prediction mask), mini-batches of
    FISHER_BATCH rows (extract.fisher_batch_size), not the forward passes' BATCH."""
    hf, masks, out = extracted
    expected, sizes = paper_fisher_by_hand(hf, masks["rows"], masks["fisher"], FISHER_BATCH)
    table = pd.read_csv(out["f.tsv"], sep="\t").set_index("group")
    assert list(table.index) == ["embeddings", "encoder.0", "encoder.1", "head"]
    for group, value in expected.items():
        assert table.loc[group, "fisher"] == pytest.approx(value, rel=1e-4), group
        assert table.loc[group, "n_params"] == sizes[group], group
        assert table.loc[group, "fisher_per_param"] == pytest.approx(value / sizes[group], rel=1e-4), group
    other, _ = paper_fisher_by_hand(hf, masks["rows"], masks["fisher"], BATCH)  # the value depends on the batch
    assert table.loc["embeddings", "fisher"] != pytest.approx(other["embeddings"], rel=1e-3)


@pytest.mark.parametrize("fisher_batch_size", [None, 5])
def test_the_fisher_batch_key_reaches_the_papers_fisher_through_the_rule_script(fisher_batch_size, tmp_path,
                                                                                 monkeypatch):
    """scripts/extract_member.py with the validated config's extract section: the schema's default
    mini-batch is the paper's 8 rows, a hand computation over mini-batches of 8 of 20 rows (8, 8, 4)
    matches fisher.tsv, and a configured size is used instead; extract.batch_size stays 16."""
    from gfm_limits.config import check_config

    monkeypatch.setattr(sys, "stderr", sys.stderr)  # the script redirects it to its log
    config = {"extract": {} if fisher_batch_size is None else {"fisher_batch_size": fisher_batch_size}}
    check_config(config, ROOT / "config" / "schema.yaml")
    expected_batch = 8 if fisher_batch_size is None else fisher_batch_size
    assert config["extract"]["fisher_batch_size"] == expected_batch and config["extract"]["batch_size"] == 16
    member = tmp_path / "member"
    save_pretrained(build_model(TINY, VOCAB, 0, seed=3), 0, member)
    tk.build_kmer(member / "tokenizer.json", k=2)
    rows = np.random.default_rng(5).integers(5, VOCAB, size=(20, 12)).astype(np.uint16)
    rows[:, 0], rows[:, -1] = 2, 3
    np.save(tmp_path / "tokens.npy", rows)
    make_eval_masks(tmp_path / "tokens.npy", member / "tokenizer.json", tmp_path / "masks.npz", n_sequences=20,
                    mask_fraction=0.25, fisher_mask_fraction=0.3, mask_seed=2)
    names = ("predictions", "embeddings", "fisher", "fisher_per_example", "fisher_rows", "fisher_true",
             "fisher_true_rows", "layers", "gradient_geometry")
    out = SimpleNamespace(**{name: str(tmp_path / f"{name}.out") for name in names})
    fake = SimpleNamespace(log=[str(tmp_path / "log")], threads=1, output=out,
                           input=SimpleNamespace(model=str(member), masks=str(tmp_path / "masks.npz")),
                           params=SimpleNamespace(extract={**config["extract"], "precision": "fp32"}))
    runpy.run_path(str(ROOT / "scripts" / "extract_member.py"), init_globals={"snakemake": fake})
    masks = np.load(tmp_path / "masks.npz")
    expected, _ = paper_fisher_by_hand(BertForMaskedLM.from_pretrained(member).eval(), masks["rows"],
                                       masks["fisher"], expected_batch)
    table = pd.read_csv(out.fisher, sep="\t").set_index("group")["fisher"]
    for group, value in expected.items():
        assert table[group] == pytest.approx(value, rel=1e-4), group


def test_per_example_fisher_and_its_rows(extracted):
    """Each held-out row's squared gradient of its summed masked loss, by group, with the word
    embedding's two uses told apart by giving the decoder a matrix of its own."""
    hf, masks, out = extracted
    tied = hf.config.tie_word_embeddings
    if tied:  # the same values in a second matrix: its gradient is the decoder's part
        hf.cls.predictions.decoder.weight = torch.nn.Parameter(hf.bert.embeddings.word_embeddings.weight.clone())
    params = list(hf.named_parameters())
    groups = ["embeddings", "encoder.0", "encoder.1", "head", "word_input", "word_decoder"]
    expected = np.zeros((len(masks["rows"]), len(groups)))  # (R, G)
    for r in range(len(masks["rows"])):
        ids, sel, inputs = masked(masks["rows"][r : r + 1], masks["fisher"][r : r + 1])
        loss = F.cross_entropy(hf(input_ids=inputs).logits[sel], ids[sel], reduction="sum")
        grads = {name: g for (name, _), g in zip(params, torch.autograd.grad(loss, [p for _, p in params],
                                                                            allow_unused=True)) if g is not None}
        word_in, word_out = grads["bert.embeddings.word_embeddings.weight"], grads["cls.predictions.decoder.weight"]
        for name, g in grads.items():
            if name == "bert.embeddings.word_embeddings.weight" and tied:
                g = word_in + word_out  # the tied matrix's gradient holds both uses
            elif name == "cls.predictions.decoder.weight" and tied:
                continue
            expected[r, groups.index(group_of(name))] += float((g**2).sum())
        expected[r, 4:] += [float((word_in**2).sum()), float((word_out**2).sum())]
    by_row = np.load(out["rows.npz"])
    assert by_row["groups"].tolist() == groups
    np.testing.assert_allclose(by_row["values"], expected, rtol=1e-4)
    table = pd.read_csv(out["fpe.tsv"], sep="\t").set_index("group")
    assert list(table.index) == groups
    np.testing.assert_allclose(table.loc[groups, "fisher"], expected.mean(axis=0), rtol=1e-4)

"""Beyond the paper, from a model: the true Fisher (labels drawn from the model itself) against one
backward per row through HF BertForMaskedLM, and every layer's hidden states at the masked
positions against HF's output_hidden_states."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gfm_limits import tokenizer as tk
from gfm_limits.fisher import fisher_per_example, fisher_true_per_example, group_of
from gfm_limits.model import ModelConfig, build_hf_model, from_hf
from gfm_limits.predictions import hidden_positions, layer_states

TINY = ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, max_position=32)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def rows(tmp_path_factory, dna_slice):
    """Real DNA as packed 6-mer rows of 32 tokens, and masks of about 20% of the inner positions."""
    root = tmp_path_factory.mktemp("beyond")
    tk.build_kmer(root / "kmer.json")
    corpus = root / "train.txt"
    corpus.write_text("\n".join(dna_slice[i : i + 1000].upper() for i in range(0, 20_000, 1000)) + "\n")
    tk.encode_corpus(corpus, root / "kmer.json", root / "train.npy", seq_len=32)
    rows = np.load(root / "train.npy")[:7]
    mask = np.random.default_rng(1).random(rows.shape) < 0.2
    mask[:, [0, -1]] = False
    return rows, mask


def test_true_fisher_matches_a_plain_loop_over_rows_with_labels_drawn_by_the_same_generator(rows):
    rows, fmask = rows
    hf = build_hf_model(TINY, 4106, 0, seed=3).eval()
    chunk, samples, seed = 3, 2, 11
    found, groups, by_row = fisher_true_per_example(from_hf(hf), rows, fmask, 4, chunk, CPU, seed=seed,
                                                    samples=samples)
    named = list(hf.named_parameters())  # the tied word embedding once: its gradient holds both uses
    generator = torch.Generator().manual_seed(seed)
    expected = np.zeros((len(rows), len(groups)))
    for start in range(0, len(rows), chunk):
        ids = torch.from_numpy(rows[start : start + chunk].astype(np.int64))
        sel = torch.from_numpy(fmask[start : start + chunk])
        with torch.no_grad():
            probs = torch.softmax(hf(input_ids=torch.where(sel, 4, ids)).logits[sel].double(), dim=-1)  # (K, V)
        drawn = torch.multinomial(probs, samples, replacement=True, generator=generator)  # (K, S)
        per_row = sel.sum(dim=1).tolist()
        for r, labels in zip(range(start, start + len(ids)), torch.split(drawn, per_row)):
            row_sel = torch.from_numpy(fmask[r : r + 1])
            inputs = torch.where(row_sel, 4, torch.from_numpy(rows[r : r + 1].astype(np.int64)))
            for s in range(samples):
                loss = F.cross_entropy(hf(input_ids=inputs).logits[row_sel], labels[:, s], reduction="sum")
                for (name, _), g in zip(named, torch.autograd.grad(loss, [p for _, p in named])):
                    expected[r, groups.index(group_of(name))] += float((g**2).sum()) / samples
    model_groups = [i for i, g in enumerate(groups) if g not in ("word_input", "word_decoder")]
    np.testing.assert_allclose(by_row[:, model_groups], expected[:, model_groups], rtol=1e-4)
    records = {r["group"]: r["fisher"] for r in found}
    np.testing.assert_allclose([records[groups[i]] for i in model_groups], expected[:, model_groups].mean(0),
                               rtol=1e-4)
    # another seed draws other labels; the empirical Fisher (observed tokens) is another number
    _, _, other = fisher_true_per_example(from_hf(hf), rows, fmask, 4, chunk, CPU, seed=seed + 1, samples=samples)
    _, _, empirical = fisher_per_example(from_hf(hf), rows, fmask, 4, chunk, CPU)
    assert not np.allclose(other, by_row) and not np.allclose(empirical, by_row)


@pytest.mark.parametrize("n", [5, 1000])
def test_layer_states_equal_hf_hidden_states_at_the_masked_positions(rows, n):
    rows, mask = rows
    hf = build_hf_model(TINY, 4106, 0, seed=2).eval()
    hidden_at = hidden_positions(mask, np.arange(len(rows)), n)  # rows drawn in file order: the first n
    states = layer_states(from_hf(hf), rows, mask, 4, 3, CPU, hidden_at)
    ids, sel = torch.from_numpy(rows.astype(np.int64)), torch.from_numpy(mask)
    with torch.no_grad():
        hidden = hf(input_ids=torch.where(sel, 4, ids), output_hidden_states=True).hidden_states  # L + 1
    expected = np.stack([h[sel][:n].numpy() for h in hidden])  # (L + 1, n, H), row-major positions
    assert states.shape == (TINY.num_layers + 1, min(n, int(mask.sum())), TINY.hidden_size)
    np.testing.assert_allclose(states, expected, atol=1e-5)


def test_extract_writes_the_true_fisher_and_layer_states_beside_the_paper_outputs(tmp_path):
    import pandas as pd

    from gfm_limits.extract import extract_member
    from gfm_limits.model import build_model, load_model, save_pretrained
    from gfm_limits.predictions import make_eval_masks

    member, vocab = tmp_path / "member", 26
    cfg = ModelConfig(hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32, max_position=16)
    save_pretrained(build_model(cfg, vocab, 0, seed=7), 0, member)
    tk.build_kmer(member / "tokenizer.json", k=2)
    tokens = np.random.default_rng(2).integers(5, vocab, size=(6, 12)).astype(np.uint16)
    tokens[:, 0], tokens[:, -1] = 2, 3
    np.save(tmp_path / "tokens.npy", tokens)
    make_eval_masks(tmp_path / "tokens.npy", member / "tokenizer.json", tmp_path / "masks.npz", n_sequences=6,
                    mask_fraction=0.25, fisher_mask_fraction=0.3, mask_seed=1)
    out = {name: tmp_path / name for name in ("p.npz", "e.npy", "f.tsv", "fpe.tsv", "rows.npz", "ft.tsv",
                                              "ftrows.npz", "layers.npy")}
    extract_member(member, tmp_path / "masks.npz", batch_size=4, predictions_out=out["p.npz"],
                   embeddings_out=out["e.npy"], fisher_out=out["f.tsv"], fisher_per_example_out=out["fpe.tsv"],
                   fisher_rows_out=out["rows.npz"], n_hidden=5, fisher_true_out=out["ft.tsv"],
                   fisher_true_rows_out=out["ftrows.npz"], layers_out=out["layers.npy"], fisher_true_samples=3,
                   fisher_true_seed=4)
    masks = np.load(tmp_path / "masks.npz")
    layers = np.load(out["layers.npy"])
    assert layers.shape == (3, 5, 16)
    np.testing.assert_allclose(layers[-1], np.load(out["p.npz"])["hidden"], atol=1e-6)  # the last: the contextual
    true, rows = pd.read_csv(out["ft.tsv"], sep="\t"), np.load(out["ftrows.npz"])
    assert list(true["group"]) == list(pd.read_csv(out["fpe.tsv"], sep="\t")["group"]) == list(rows["groups"])
    np.testing.assert_allclose(rows["values"].mean(axis=0), true["fisher"], rtol=1e-6)
    _, _, direct = fisher_true_per_example(load_model(member), masks["rows"], masks["fisher"], 4, 4, CPU, seed=4,
                                           samples=3)
    np.testing.assert_allclose(rows["values"], direct, rtol=1e-6)

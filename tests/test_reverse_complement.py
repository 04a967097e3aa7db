"""Reverse-complement symmetry against independent computations: hand-written k-mers, a model
symmetric by construction, a loop over scipy's JS distance, hand-made embeddings."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from gfm_limits import rc_predictions
from gfm_limits import rc_symmetry as sym
from gfm_limits import reverse_complement as rc
from gfm_limits import tokenizer as tk
from gfm_limits.train import rc_augment


@pytest.fixture(scope="module")
def kmer3(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "kmer3.json"
    tk.build_kmer(path, k=3)
    vocab = json.loads(path.read_text())["model"]["vocab"]
    return path, vocab, *rc.token_permutation(vocab, 3)


def test_reverse_complement_of_hand_written_kmers():
    assert rc.reverse_complement("AACGTT") == "AACGTT"  # a palindrome
    assert rc.reverse_complement("AAAAAC") == "GTTTTT"
    assert rc.reverse_complement("ACG") == "CGT"


def test_token_map_is_an_involution_over_the_vocabulary(kmer3):
    _, vocab, perm, kmer = kmer3
    name = {i: t for t, i in vocab.items()}
    assert np.array_equal(perm[perm], np.arange(len(perm)))
    assert name[perm[vocab["AAC"]]] == "GTT" and name[perm[vocab["ACG"]]] == "CGT"
    assert name[perm[vocab["A"]]] == "T" and name[perm[vocab["G"]]] == "C"  # single bases: complements
    for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "N"):  # no RC: fixed, not a k-mer
        assert perm[vocab[special]] == vocab[special] and not kmer[vocab[special]]
    assert kmer.sum() == 4 ** 3 and not kmer[vocab["A"]]


def test_rc_rows_equal_the_tokenizer_on_the_reverse_complement_sequence(kmer3):
    path, vocab, perm, kmer = kmer3
    tok = tk.load(path)
    seq = "ACGTTGCAAGGCTTAACCG"[:18]  # 6 whole 3-mers
    ids = tok.encode(seq, add_special_tokens=False).ids
    row = np.array([[vocab["[CLS]"], *ids, vocab["[SEP]"]]])
    want = tok.encode(rc.reverse_complement(seq), add_special_tokens=False).ids
    assert rc.rc_rows(row, perm)[0, 1:-1].tolist() == want
    assert rc.exact_rows(row, kmer).tolist() == [True]
    fallback = tok.encode(seq[:17], add_special_tokens=False).ids  # a trailing 2 bases: single-base tokens
    assert not rc.exact_rows(np.array([[2, *fallback, 3]]), kmer)[0]


def test_mirrored_positions_and_order():
    mask = np.zeros((2, 6), dtype=bool)
    mask[0, [1, 2]] = mask[1, 3] = True
    mirrored = rc.mirror_mask(mask)
    assert np.flatnonzero(mirrored[0]).tolist() == [3, 4] and np.flatnonzero(mirrored[1]).tolist() == [2]
    # the mirrored positions in row-major order are (0,3), (0,4), (1,2): position (0,1) -> (0,4) -> index 1
    assert rc.mirrored_order(mask).tolist() == [1, 0, 2]


def test_js_distance_against_a_loop_over_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(7), size=5), rng.dirichlet(np.ones(7), size=5)
    sigma = rc.derangement(5, rng)
    assert not np.any(sigma == np.arange(5)) and sorted(sigma) == list(range(5))
    found = sym.consistency(p, q, sigma)
    for i in range(5):
        assert found["js_distance"][i] == pytest.approx(jensenshannon(p[i], q[i], base=2))
        assert found["js_distance_shuffled"][i] == pytest.approx(jensenshannon(p[i], q[sigma[i]], base=2))
        assert found["agreement"][i] == float(p[i].argmax() == q[i].argmax())
    assert np.allclose(sym.consistency(p, p, sigma)["js_distance"], 0)


def symmetric_predictor(perm: np.ndarray, seed: int = 0):
    """A hand-built predictor, RC-symmetric by construction: the logits at position i of x are
    f(x, i) + f(RC x, T - 1 - i)[perm], f a random function of the two neighbours' tokens
    (masked ones included), so p(x)_i = p(RC x)_{T-1-i}[perm]."""
    v = len(perm)
    w = np.random.default_rng(seed).normal(size=(2, v, v))

    def f(ids):  # (B, T) -> (B, T, V)
        out = np.zeros((*ids.shape, v))
        out[:, 1:-1] = w[0][ids[:, :-2]] + w[1][ids[:, 2:]]
        return out

    def probs(ids):
        rc_ids = rc.rc_rows(ids, perm)
        mirrored = f(rc_ids)
        mirrored[:, 1:-1] = mirrored[:, 1:-1][:, ::-1]
        logits = f(ids) + mirrored[..., perm]
        e = np.exp(logits - logits.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)  # (B, T, V)

    return probs


def test_a_symmetric_predictor_gives_js_zero_and_agreement_one(kmer3):
    _, vocab, perm, kmer = kmer3
    predictor = symmetric_predictor(perm)
    rng = np.random.default_rng(3)
    rows = rng.choice(np.flatnonzero(kmer), size=(6, 10)).astype(np.int64)
    rows[:, 0], rows[:, -1] = vocab["[CLS]"], vocab["[SEP]"]
    mask = np.zeros(rows.shape, dtype=bool)
    mask[np.arange(6), rng.integers(1, 9, size=6)] = True
    mask[:, 2] = True

    def probs(r, m):
        return predictor(np.where(m, vocab["[MASK]"], r))[m]  # (M, V), row-major

    p = probs(rows, mask)
    q = probs(rc.rc_rows(rows, perm), rc.mirror_mask(mask))[rc.mirrored_order(mask)][:, perm]
    found = sym.consistency(p, q, rc.derangement(len(p), rng))
    assert np.allclose(found["js_distance"], 0, atol=1e-6) and found["agreement"].mean() == 1.0
    assert found["js_distance_shuffled"].mean() > 0.1  # chance is not symmetric
    # without the symmetrisation (f alone) the same pipeline sees asymmetry
    w = np.random.default_rng(0).normal(size=(len(perm), len(perm)))
    plain = lambda ids: np.exp(w[ids]) / np.exp(w[ids]).sum(-1, keepdims=True)  # noqa: E731
    p0 = plain(np.where(mask, vocab["[MASK]"], rows))[mask]
    q0 = plain(np.where(rc.mirror_mask(mask), vocab["[MASK]"], rc.rc_rows(rows, perm)))[rc.mirror_mask(mask)]
    q0 = q0[rc.mirrored_order(mask)][:, perm]
    assert sym.consistency(p0, q0, rc.derangement(len(p0), rng))["js_distance"].mean() > 0.1


def test_nearest_neighbour_is_the_rc_in_hand_made_embeddings(kmer3):
    _, vocab, perm, kmer = kmer3
    rng = np.random.default_rng(5)
    emb = rng.normal(size=(len(perm), 64))
    emb = emb + emb[perm]  # each k-mer and its RC the same vector ...
    emb = emb + 0.05 * rng.normal(size=emb.shape)  # ... nearly the same vector
    found = sym.embedding_rc(emb, perm, kmer)
    n = 4 ** 3
    assert found["nn_is_rc"] == 1.0 and found["nn_is_rc_chance"] == pytest.approx(1 / (n - 1))
    assert found["kmers"] == n  # an odd k has no palindromes
    assert found["cosine_rc"] > 0.99 > found["cosine_random"]
    unit = emb[kmer] / np.linalg.norm(emb[kmer], axis=1, keepdims=True)
    cos = unit @ unit.T
    assert found["cosine_random"] == pytest.approx(cos[~np.eye(n, dtype=bool)].mean())


def test_palindromes_are_left_out_as_queries():
    vocab = {t: i for i, t in enumerate(["[PAD]", "AT", "TA", "AA", "TT", "CG", "GC", "AC", "GT", "CA", "TG",
                                         "AG", "CT", "GA", "TC", "CC", "GG"])}
    perm, kmer = rc.token_permutation(vocab, 2)
    emb = np.random.default_rng(0).normal(size=(len(perm), 8))
    assert sym.embedding_rc(emb, perm, kmer)["kmers"] == 16 - 4  # AT, TA, CG, GC are their own RC


def test_rc_table_intervals_cover_members(kmer3, tmp_path):
    path, _, perm, kmer = kmer3
    rng = np.random.default_rng(1)
    cons, embs = {}, {}
    for seed in (1, 2, 3):
        m = 40
        values = {"js_distance": rng.uniform(0, 0.2, m), "js_distance_shuffled": rng.uniform(0.3, 0.5, m),
                  "agreement": (rng.random(m) < 0.8).astype(float), "agreement_shuffled": (rng.random(m) < 0.1)
                  .astype(float)}
        np.savez(tmp_path / f"c{seed}.npz", row_of=np.repeat(np.arange(20), 2), rows_total=25, **values)
        np.save(tmp_path / f"e{seed}.npy", rng.normal(size=(len(perm), 16)))
        cons[seed], embs[seed] = tmp_path / f"c{seed}.npz", tmp_path / f"e{seed}.npy"
    df = sym.rc_table(cons, embs, path, k=3, n_boot=200, level=0.95, seed=0)
    mean = df[df["seed"] == "mean"].set_index("statistic")
    assert set(mean.index) >= {"js_distance", "js_distance_shuffled", "js_distance_gap", "nn_is_rc"}
    assert (mean["ci_low"] <= mean["estimate"]).all() and (mean["estimate"] <= mean["ci_high"]).all()
    assert mean.loc["js_distance_gap", "ci_low"] > 0 and (mean["rows_used"] == 20).all()
    per = df[(df["seed"] != "mean") & (df["statistic"] == "js_distance")]["estimate"]
    assert mean.loc["js_distance", "estimate"] == pytest.approx(per.mean())
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(sym.RC_COLUMNS)


def test_augmentation_flips_about_half_the_rows_the_same_way_every_time(kmer3):
    _, vocab, perm, kmer = kmer3
    rows = np.random.default_rng(0).choice(np.flatnonzero(kmer), size=(200, 8))
    rows[:, 0], rows[:, -1] = vocab["[CLS]"], vocab["[SEP]"]
    out = rc_augment(rows, perm, data_seed=42, step=3)
    flipped = (out != rows).any(axis=1)
    assert 70 < flipped.sum() < 130
    assert np.array_equal(out[flipped], rc.rc_rows(rows[flipped], perm))
    assert np.array_equal(out, rc_augment(rows, perm, data_seed=42, step=3))


def test_rc_member_against_a_direct_computation_with_hf(kmer3, tmp_path):
    """rc_member on a saved member: its JS distances equal those of BertForMaskedLM's own
    softmax on the rows and on their RC, computed here without the package's helpers."""
    import torch
    from transformers import BertForMaskedLM

    from gfm_limits.model import ModelConfig, build_model, save_pretrained
    from gfm_limits.predictions import make_eval_masks

    path, vocab, perm, kmer = kmer3
    member = tmp_path / "member"
    cfg = ModelConfig(hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_position=16)
    save_pretrained(build_model(cfg, len(perm), 0, seed=3), 0, member)
    tk.build_kmer(member / "tokenizer.json", k=3)
    rng = np.random.default_rng(4)
    rows = rng.choice(np.flatnonzero(kmer), size=(9, 12)).astype(np.uint16)
    rows[:, 0], rows[:, -1] = vocab["[CLS]"], vocab["[SEP]"]
    rows[4, 5] = vocab["A"]  # a single-base fallback: not exact
    np.save(tmp_path / "tokens.npy", rows)
    make_eval_masks(tmp_path / "tokens.npy", path, tmp_path / "masks.npz", n_sequences=9, mask_fraction=0.2,
                    fisher_mask_fraction=0.2, mask_seed=1)
    rc_predictions.rc_member(member, tmp_path / "masks.npz", path, tmp_path / "rc.npz", k=3, batch_size=4)
    found = np.load(tmp_path / "rc.npz")
    masks = np.load(tmp_path / "masks.npz")
    hf = BertForMaskedLM.from_pretrained(member).eval()
    js, row_of = [], []
    for r, (ids, m) in enumerate(zip(masks["rows"].astype(np.int64), masks["predict"])):
        if not all(len(t) == 3 for t in [next(k for k, i in vocab.items() if i == x) for x in ids[1:-1]]):
            continue
        rc_ids = np.concatenate([[ids[0]], [perm[x] for x in ids[1:-1][::-1]], [ids[-1]]])
        with torch.no_grad():
            a = torch.softmax(hf(input_ids=torch.tensor(np.where(m, vocab["[MASK]"], ids)[None])).logits[0], -1)
            mirrored = np.concatenate([[False], m[1:-1][::-1], [False]])
            rc_input = torch.tensor(np.where(mirrored, vocab["[MASK]"], rc_ids)[None])
            b = torch.softmax(hf(input_ids=rc_input).logits[0], -1)
        for i in np.flatnonzero(m):
            q = b[len(ids) - 1 - i].numpy()[perm]
            js.append(jensenshannon(a[i].numpy(), q, base=2))
            row_of.append(r)
    assert 4 not in row_of and int(found["rows_total"]) == 9
    np.testing.assert_array_equal(found["row_of"], row_of)
    np.testing.assert_allclose(found["js_distance"], js, atol=1e-5)

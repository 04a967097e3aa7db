"""Soft-masked repeats, from the FASTA to repeats.tsv: the corpus's soft mask against a hand-made
FASTA's lowercase runs, the token flags by hand (k-mer and BPE offsets), the masks' rows, and
repeats.tsv against a direct numpy computation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

import gfm_limits.tokenizer as tk
from gfm_limits.corpus import CorpusConfig, build_corpus
from gfm_limits.fasta import WindowConfig, soft_mask, split_windows, split_windows_masked
from gfm_limits.predictions import make_eval_masks
from gfm_limits.stats import StatsConfig
from synthetic import unigram_by_hand, write_condition

# 30 bases: ACGTacgtAC GTNNacgtac gtACGTAAAA; lowercase at 4-7 and 14-21, N at 12-13
FASTA = ">r1\nACGTacgtAC\nGTNNacgtac\ngtACGTAAAA\n"
CFG = WindowConfig(window=4, min_window=2, eval_fraction=0.5)


def test_soft_mask_marks_lowercase_only():
    assert soft_mask("ACgtNnRy") == "00110101"


def test_eval_windows_carry_the_fasta_lowercase_runs(tmp_path):
    path = tmp_path / "r.fa"
    path.write_text(FASTA)
    # boundary at 15; held out: bases 15..29 of the second ACGT run (14..29) = cgtacgt ACGT AAAA
    train, held_out, masks = split_windows_masked(path, CFG)
    assert held_out == ["CGTA", "CGTA", "CGTA", "AAA"]
    assert masks == ["1111", "1110", "0000", "000"]
    assert (train, held_out) == split_windows(path, CFG)  # the windows themselves are unchanged
    assert train == ["ACGT", "ACGT", "ACGT"]  # uppercase as before


def test_corpus_writes_the_soft_mask_beside_the_eval_corpus(tmp_path):
    path = tmp_path / "r.fa"
    path.write_text(FASTA)
    out = {k: tmp_path / f"{k}.txt" for k in ("train", "eval", "eval_repeats", "stats")}
    build_corpus(path, "fasta", train_out=out["train"], eval_out=out["eval"], stats_out=out["stats"],
                 eval_repeats_out=out["eval_repeats"],
                 cfg=CorpusConfig(eval_fraction=0.5, dna_window=4, dna_min_window=2))
    assert out["eval"].read_text() == "CGTA\nCGTA\nCGTA\nAAA\n"
    assert out["eval_repeats"].read_text() == "1111\n1110\n0000\n000\n"


def test_kmer_token_flags_by_hand(tmp_path):
    kmer = tk.build_kmer(tmp_path / "kmer.json", k=6)
    # ACGTAC | GTAAAA | C: 3 of 6 marked (not mostly), 4 of 6, 0 of 1
    assert tk.token_repeat_flags(kmer.encode("ACGTACGTAAAAC").offsets, "1110001111000").tolist() == [0, 1, 0]
    corpus, repeats = tmp_path / "eval.txt", tmp_path / "eval.repeats.txt"
    corpus.write_text("ACGTACGTAAAAC\nAAAAAACCCCCC\n")
    repeats.write_text("1110001111000\n111111000000\n")
    # stream: 0 1 0 [SEP] 1 0 [SEP]; rows of 5 = [CLS] 3 tokens [SEP]
    flags = tk.encode_repeats(corpus, repeats, tmp_path / "kmer.json", tmp_path / "r.npy", seq_len=5)
    rows = tk.encode_corpus(corpus, tmp_path / "kmer.json", tmp_path / "t.npy", seq_len=5)
    assert flags.dtype == np.uint8 and flags.shape == rows.shape
    assert flags.tolist() == [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0]]
    assert np.array_equal(np.load(tmp_path / "r.npy"), flags)


def test_bpe_token_flags_follow_the_offsets(tmp_path):
    corpus = tmp_path / "train.txt"
    corpus.write_text("AACCGGTTAACCGGTT\n" * 50 + "ACGTACGTTTGGCCAA\n" * 50)
    bpe = tk.train_bpe(corpus, tmp_path / "bpe.json", vocab_size=30)
    line, mask = "AACCGGTTACGTACGT", "1111111100000011"
    offsets = bpe.encode(line).offsets
    assert any(end - start > 1 for start, end in offsets)  # merged tokens: offsets matter
    by_hand = [int(mask[start:end].count("1") > (end - start) / 2) for start, end in offsets]
    assert tk.token_repeat_flags(offsets, mask).tolist() == by_hand
    assert tk.token_repeat_flags(offsets, "1" * len(line)).tolist() == [1] * len(offsets)
    assert tk.token_repeat_flags(offsets, "").tolist() == [0] * len(offsets)  # text


def test_masks_carry_the_drawn_rows_flags(tmp_path):
    tk.build_kmer(tmp_path / "kmer.json", k=2)
    rng = np.random.default_rng(0)
    held_out = rng.integers(5, 20, size=(12, 8)).astype(np.uint16)  # distinct rows
    flags = np.array([[(r >> b) & 1 for b in range(8)] for r in range(12)], dtype=np.uint8)  # row r's bits
    np.save(tmp_path / "eval.npy", held_out)
    np.save(tmp_path / "eval.repeats.npy", flags)
    make_eval_masks(tmp_path / "eval.npy", tmp_path / "kmer.json", tmp_path / "masks.npz", n_sequences=5,
                    mask_fraction=0.2, fisher_mask_fraction=0.2, mask_seed=3,
                    repeats_path=tmp_path / "eval.repeats.npy")
    masks = np.load(tmp_path / "masks.npz")
    assert masks["repeat"].dtype == bool and masks["repeat"].shape == masks["rows"].shape
    for row, repeat in zip(masks["rows"], masks["repeat"]):
        r = int(np.flatnonzero((held_out == row).all(axis=1))[0])  # which held-out row, found by its tokens
        assert repeat.tolist() == [bool((r >> b) & 1) for b in range(8)]


def top_p(x: np.ndarray, p: float) -> np.ndarray:
    """The paper's top-p truncation, one row by hand: the most likely tokens while their cumulative
    mass stays at or below p (the top one always), renormalised."""
    kept = np.zeros_like(x)
    total = 0.0
    for rank, v in enumerate(np.argsort(-x, kind="stable")):
        total += x[v]
        if rank and total > p:
            break
        kept[v] = x[v]
    return kept / kept.sum()


def test_repeats_table_against_numpy(tmp_path):
    cfg = StatsConfig(top_k=[1, 3], summary_k=3, summary_top_p=0.5, bootstrap=20)
    data = write_condition(tmp_path / "dna", "dna", 2.0, np.random.default_rng(5), cfg)
    table = pd.read_csv(tmp_path / "dna" / "repeats.tsv", sep="\t")
    repeat = data["masks"]["repeat"][data["masks"]["predict"]]  # (M,), row-major as the targets
    assert 0 < repeat.sum() < len(repeat)
    targets, unigram = data["targets"], unigram_by_hand(data["tokens"])
    idx = np.arange(len(targets))

    def value(region, statistic, a, b=None):
        rows = table[(table.region == region) & (table.statistic == statistic) & (table.seed_a == a)]
        rows = rows[rows.seed_b.isna()] if b is None else rows[rows.seed_b == b]
        assert len(rows) == 1
        return rows.iloc[0]

    for region, at in (("repeat", repeat), ("non-repeat", ~repeat)):
        for seed, p in data["probs"].items():
            p = p.astype(np.float64)
            ce = -np.log2(p[idx, targets])
            uni = -np.log2(unigram[targets])
            with np.errstate(divide="ignore", invalid="ignore"):
                h = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)
            expected = {"cross_entropy_bits": ce, "unigram_cross_entropy_bits": uni, "context_gain_bits": uni - ce,
                        "entropy_bits": h, "kl_uniform_bits": np.log2(p.shape[1]) - h}
            for name, values in expected.items():
                row = value(region, name, seed)
                assert row.positions == at.sum()
                assert np.isclose(row.value, values[at].mean(), rtol=1e-6), (region, name, seed)
        for a, b in itertools.combinations(sorted(data["probs"]), 2):
            p, q = data["probs"][a].astype(np.float64), data["probs"][b].astype(np.float64)
            js = np.array([jensenshannon(top_p(x, 0.5), top_p(y, 0.5), base=2) for x, y in zip(p, q)])
            assert np.isclose(value(region, "js_distance", a, b).value, js[at].mean(), rtol=1e-5)
            assert np.isclose(value(region, "disagreement", a, b).value,
                              (p.argmax(1) != q.argmax(1))[at].mean())


def test_text_has_only_non_repeat_rows(tmp_path):
    cfg = StatsConfig(top_k=[1, 3], summary_k=3, bootstrap=20)
    directory = tmp_path / "text"
    data = write_condition(directory, "text", 0.0, np.random.default_rng(6), cfg)
    masks = dict(data["masks"], repeat=np.zeros_like(data["masks"]["predict"]))
    np.savez(directory / "masks.npz", **masks)
    from gfm_limits.stats import repeat_flags, repeats_table

    table = repeats_table({1: {"entropy_bits": np.ones(3), "cross_entropy_bits": np.ones(3),
                               "unigram_cross_entropy_bits": np.ones(3), "context_gain_bits": np.zeros(3),
                               "kl_uniform_bits": np.zeros(3)}}, {}, repeat_flags(directory / "masks.npz")[:3])
    assert set(table.region) == {"non-repeat"} and (table.positions == 3).all()
    assert list(repeats_table({}, {}, np.zeros(0, bool)).columns) == ["region", "statistic", "seed_a", "seed_b",
                                                                        "value", "positions"]


def _loop_replicates(values, repeat_at, row_of, d):
    """Replicates by an explicit loop: per replicate, per drawn member, the mean of its values at
    the region's positions of the drawn rows (each drawn row's positions once per draw)."""
    out = []
    for b in range(d.n_boot):
        means = []
        for m in d.seeds[b]:
            picked = np.concatenate([values[m][(row_of == r) & repeat_at] for r in d.examples[b]])
            means.append(picked.mean() if picked.size else np.nan)
        out.append(np.mean(means))
    return np.array(out)


def test_repeats_ci_against_a_loop():
    from gfm_limits import bootstrap as bs
    from gfm_limits.stats import repeats_ci_table

    rng = np.random.default_rng(7)
    n_rows, per_row, seeds = 6, 5, (1, 2, 3)
    row_of = np.repeat(np.arange(n_rows), per_row)
    repeat = rng.random(len(row_of)) < 0.4
    names = ("cross_entropy_bits", "unigram_cross_entropy_bits", "context_gain_bits", "entropy_bits",
             "kl_uniform_bits")
    positions = {s: {n: rng.normal(size=len(row_of)) for n in names} for s in seeds}
    pairs = {(a, b): {"js": rng.random(len(row_of)), "disagreement": (rng.random(len(row_of)) < 0.5) * 1.0}
             for a, b in itertools.combinations(seeds, 2)}
    d = bs.draws(len(seeds), n_rows, 50, 11)
    table = repeats_ci_table(positions, pairs, repeat, row_of=row_of, n_rows=n_rows, draws=d, level=0.9)
    for region, at in (("repeat", repeat), ("non-repeat", ~repeat)):
        for name in ("context_gain_bits", "entropy_bits"):
            row = table[(table.region == region) & (table.statistic == name)].iloc[0]
            values = [positions[s][name] for s in seeds]
            assert np.isclose(row.estimate, np.mean([v[at].mean() for v in values]))
            loop = _loop_replicates(values, at, row_of, d)
            valid = loop[np.isfinite(loop)]
            assert row.n_boot == valid.size
            assert np.isclose(row.ci_low, np.quantile(valid, 0.05))
            assert np.isclose(row.ci_high, np.quantile(valid, 0.95))
            assert row.positions == at.sum()
    assert set(table.region) == {"repeat", "non-repeat", "repeat - non-repeat"}
    assert set(table.statistic) == {*names, "js_distance", "disagreement"}


def test_repeats_ci_difference_is_paired():
    """Each repeat position exactly 1 above a non-repeat position of its row: whatever the draws,
    every replicate of the difference is 1, though each region's interval is wide."""
    from gfm_limits import bootstrap as bs
    from gfm_limits.stats import repeats_ci_table

    rng = np.random.default_rng(8)
    base = rng.normal(scale=5.0, size=(3, 8))  # (members, rows)
    row_of = np.repeat(np.arange(8), 2)
    repeat = np.tile([True, False], 8)
    positions = {s + 1: {n: np.repeat(base[s], 2) + repeat for n in ("cross_entropy_bits", "unigram_cross_entropy_bits",
                                                                     "context_gain_bits", "entropy_bits",
                                                                     "kl_uniform_bits")} for s in range(3)}
    table = repeats_ci_table(positions, {}, repeat, row_of=row_of, n_rows=8, draws=bs.draws(3, 8, 200, 3),
                             level=0.95)
    diff = table[(table.region == "repeat - non-repeat") & (table.statistic == "context_gain_bits")].iloc[0]
    assert np.isclose(diff.estimate, 1.0) and np.isclose(diff.ci_low, 1.0) and np.isclose(diff.ci_high, 1.0)
    alone = table[(table.region == "repeat") & (table.statistic == "context_gain_bits")].iloc[0]
    assert alone.ci_high - alone.ci_low > 1.0


def test_text_has_no_repeat_intervals():
    from gfm_limits import bootstrap as bs
    from gfm_limits.stats import repeats_ci_table

    positions = {s: {n: np.arange(4.0) for n in ("cross_entropy_bits", "unigram_cross_entropy_bits",
                                                 "context_gain_bits", "entropy_bits", "kl_uniform_bits")}
                 for s in (1, 2)}
    table = repeats_ci_table(positions, {}, np.zeros(4, bool), row_of=np.array([0, 0, 1, 1]), n_rows=2,
                             draws=bs.draws(2, 2, 10, 0), level=0.95)
    assert set(table.region) == {"non-repeat"}


def test_summary_carries_the_repeat_split(tmp_path):
    from gfm_limits.stats import repeat_summary

    cfg = StatsConfig(top_k=[1, 3], summary_k=3, summary_top_p=0.5, bootstrap=30)
    write_condition(tmp_path / "dna", "dna", 2.0, np.random.default_rng(9), cfg)
    ci = pd.read_csv(tmp_path / "dna" / "repeats_ci.tsv", sep="\t")
    row = repeat_summary(ci)
    n = ci.groupby("region")["positions"].first()
    assert np.isclose(row["repeat_share"], n["repeat"] / (n["repeat"] + n["non-repeat"]))
    for region, suffix in (("repeat", "repeat"), ("non-repeat", "non_repeat"),
                           ("repeat - non-repeat", "repeat_minus_non_repeat")):
        got = ci[(ci.region == region) & (ci.statistic == "context_gain_bits")].iloc[0]
        assert row[f"context_gain_bits_{suffix}"] == pytest.approx(got.estimate)
        assert row[f"context_gain_bits_{suffix}_ci_low"] == pytest.approx(got.ci_low)
    assert np.isclose(row["context_gain_bits_repeat_minus_non_repeat"],
                      row["context_gain_bits_repeat"] - row["context_gain_bits_non_repeat"])
    assert repeat_summary(None) == {} and repeat_summary(ci.iloc[:0]) == {}

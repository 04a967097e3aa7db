"""Held-out masked positions: which are drawn, what the model sees there, what it predicts."""

import numpy as np
import pytest
import torch

from gfm_limits import tokenizer as tk
from gfm_limits.model import ModelConfig, build_hf_model, from_hf
from gfm_limits.predictions import (
    draw_mask,
    draw_rows,
    first_drawn,
    hidden_positions,
    make_eval_masks,
    masked_batches,
    pooled_hidden,
    predict_distributions,
)

MASK = 4  # tk.SPECIAL_TOKENS: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4
ROWS = np.array([[2, 7, 8, 9, 10, 3],
                 [2, 11, 12, 3, 0, 0],
                 [2, 13, 14, 15, 16, 3]], dtype=np.uint16)
PREDICT = np.zeros(ROWS.shape, dtype=bool)
PREDICT[0, [2, 4]] = PREDICT[1, 1] = PREDICT[2, 3] = True
# what the model reads: every predicted position of a row is [MASK] at once, nothing else changes
SEEN = np.array([[2, 7, MASK, 9, MASK, 3],
                 [2, MASK, 12, 3, 0, 0],
                 [2, 13, 14, MASK, 16, 3]])
TARGETS = [8, 10, 11, 15]  # row by row, left to right
TINY = ModelConfig(hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32, max_position=8)


def test_masked_batches_replace_the_selected_positions_by_mask_only():
    batches = list(masked_batches(ROWS, PREDICT, MASK, batch_size=2, device=torch.device("cpu")))
    assert [len(ids) for ids, _, _ in batches] == [2, 1]
    ids, selected, inputs = (torch.cat(parts).numpy() for parts in zip(*batches))
    np.testing.assert_array_equal(ids, ROWS)
    np.testing.assert_array_equal(selected, PREDICT)
    np.testing.assert_array_equal(inputs, SEEN)


@pytest.mark.parametrize("fraction, counts", [(0.5, [2, 1, 2]), (0.01, [1, 1, 1]), (0.3, [1, 1, 1]),
                                              (0.4, [2, 1, 2]), (1.0, [4, 2, 4])])
def test_draw_mask_takes_round_fraction_of_the_ordinary_tokens_of_each_row(fraction, counts):
    # ordinary (non-special) tokens per row: 4, 2, 4; round(0.3 * 4) = 1, round(0.4 * 2) = 1, at least 1
    eligible = ROWS >= 5
    mask = draw_mask(ROWS, eligible, fraction, np.random.default_rng(0))
    assert mask.sum(axis=1).tolist() == counts
    assert not (mask & ~eligible).any()
    if fraction == 1.0:
        np.testing.assert_array_equal(mask, eligible)


def test_eval_masks_skip_special_tokens_and_are_two_independent_draws(tmp_path):
    tokenizer = tmp_path / "kmer.json"
    tk.build_kmer(tokenizer, k=2)
    rng = np.random.default_rng(1)
    rows = rng.integers(5, 26, size=(30, 40)).astype(np.uint16)  # (N, T) over the k-mer and base ids
    rows[:, 0], rows[:, -1] = 2, 3
    rows[:5, 30:] = 0  # padded tails
    np.save(tmp_path / "tokens.npy", rows)
    make_eval_masks(tmp_path / "tokens.npy", tokenizer, tmp_path / "masks.npz", n_sequences=20, mask_fraction=0.1,
                    fisher_mask_fraction=0.15, mask_seed=3)
    masks = np.load(tmp_path / "masks.npz")
    np.testing.assert_array_equal(masks["rows"], rows[masks["row_ids"]])
    ordinary = masks["rows"] >= 5
    for name, fraction in (("predict", 0.1), ("fisher", 0.15)):
        assert not (masks[name] & ~ordinary).any(), name
        expected = [max(1, round(fraction * n)) for n in ordinary.sum(axis=1)]
        assert masks[name].sum(axis=1).tolist() == expected, name
    make_eval_masks(tmp_path / "tokens.npy", tokenizer, tmp_path / "again.npz", n_sequences=20, mask_fraction=0.1,
                    fisher_mask_fraction=0.15, mask_seed=3)
    again = np.load(tmp_path / "again.npz")
    assert all(np.array_equal(masks[k], again[k]) for k in ("rows", "row_ids", "draw_rank", "predict", "fisher"))


def test_eval_rows_are_a_seeded_random_sample_from_across_the_file_in_file_order(tmp_path):
    """A held-out array whose row i holds i (plus 5): the rows drawn are 64 distinct ids in increasing
    order, from both halves of the file, the same for a seed, others for another seed, and not
    the first 64; all rows when fewer than asked."""
    tokenizer = tmp_path / "kmer.json"
    tk.build_kmer(tokenizer, k=2)
    n_rows = 512
    rows = np.full((n_rows, 6), 7, dtype=np.uint16)
    rows[:, 0], rows[:, -1] = 2, 3
    rows[:, 1] = 5 + np.arange(n_rows)  # row i holds 5 + i (above the special ids)
    np.save(tmp_path / "tokens.npy", rows)

    def drawn(seed: int, n: int = 64) -> np.ndarray:
        out = tmp_path / f"masks{seed}_{n}.npz"
        make_eval_masks(tmp_path / "tokens.npy", tokenizer, out, n_sequences=n, mask_fraction=0.25,
                        fisher_mask_fraction=0.25, mask_seed=seed)
        masks = np.load(out)
        ids = masks["rows"][:, 1].astype(int) - 5
        np.testing.assert_array_equal(ids, masks["row_ids"])  # the rows are the ones named
        return ids

    ids = drawn(0)
    assert len(ids) == 64 and (np.diff(ids) > 0).all()  # without replacement, in file order
    assert not np.array_equal(ids, np.arange(64))
    assert ids.min() < n_rows // 4 and ids.max() >= 3 * n_rows // 4  # from across the file
    np.testing.assert_array_equal(drawn(0), ids)
    assert not np.array_equal(drawn(1), ids)
    np.testing.assert_array_equal(drawn(0, n=10_000), np.arange(n_rows))


def test_draw_rows_is_uniform_and_its_first_drawn_are_a_uniform_sample_too():
    """Over 4,000 seeds every one of 20 rows is drawn 8 times in 20 (binomial, within 5 sd), and
    the 3 drawn first 3 times in 20: a smaller sample is again a uniform one, not the file's start."""
    n_available, n, first, trials = 20, 8, 3, 4000
    chosen, first_chosen = np.zeros(n_available), np.zeros(n_available)
    for seed in range(trials):
        ids, rank = draw_rows(n_available, n, np.random.default_rng(seed))
        assert sorted(rank.tolist()) == list(range(n)) and (np.diff(ids) > 0).all()
        chosen[ids] += 1
        first_chosen[ids[first_drawn(rank, first)]] += 1
    for counts, share in ((chosen, n / n_available), (first_chosen, first / n_available)):
        sd = np.sqrt(trials * share * (1 - share))
        assert np.abs(counts - trials * share).max() < 5 * sd


def test_hidden_positions_follow_the_draw_order_of_rows():
    # rows drawn in the order 2, 0, 1: row 2's one position, then row 0's two, then row 1's first
    predict = np.array([[0, 1, 1, 0], [1, 0, 0, 1], [0, 0, 1, 0]], dtype=bool)
    keep = hidden_positions(predict, np.array([1, 2, 0]), 4)
    expected = np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(keep, expected)
    np.testing.assert_array_equal(hidden_positions(predict, np.array([1, 2, 0]), 100), predict)
    assert not hidden_positions(predict, np.array([1, 2, 0]), 0).any()


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_predictions_are_hf_softmax_at_the_masked_positions_of_the_masked_rows(batch_size):
    """probs, targets and hidden states against HF BertForMaskedLM run on the hand-masked rows
    (SEEN), whatever the batching; the model sees only its inputs, so recording them shows
    what it was given."""
    hf = build_hf_model(TINY, 20, 0, seed=5).eval()
    model = from_hf(hf)
    seen = []
    encode = model.encode
    model.encode = lambda ids: seen.append(ids.clone()) or encode(ids)
    hidden_at = PREDICT.copy()
    hidden_at[0, 4] = False  # three of the four positions
    probs, targets, hidden = predict_distributions(model, ROWS, PREDICT, MASK, batch_size, torch.device("cpu"),
                                                   hidden_at=hidden_at)
    np.testing.assert_array_equal(torch.cat(seen).numpy(), SEEN)
    assert targets.tolist() == TARGETS
    with torch.no_grad():
        out = hf(input_ids=torch.from_numpy(SEEN), output_hidden_states=True)
    where = torch.from_numpy(PREDICT)
    np.testing.assert_allclose(probs, torch.softmax(out.logits[where], dim=-1).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hidden, out.hidden_states[-1][torch.from_numpy(hidden_at)].numpy(), rtol=1e-5,
                               atol=1e-6)
    assert probs.dtype == np.float32 and probs.shape == (4, 20)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_pooled_hidden_is_the_mean_of_the_last_layer_over_the_non_padding_tokens(batch_size):
    """By hand from HF's last hidden layer on the hand-masked rows: row 0 averages its 6 tokens,
    row 1 its first 4 ([CLS], [MASK], 12, [SEP]; the two [PAD] are left out), as the paper's
    mean_pool over the attention mask."""
    hf = build_hf_model(TINY, 20, 0, seed=5).eval()
    pooled = pooled_hidden(from_hf(hf), ROWS, PREDICT, MASK, 0, batch_size, torch.device("cpu"))
    with torch.no_grad():
        last = hf(input_ids=torch.from_numpy(SEEN), output_hidden_states=True).hidden_states[-1].numpy()  # (N, T, H)
    expected = np.stack([last[0].sum(0) / 6, last[1, :4].sum(0) / 4, last[2].sum(0) / 6])
    np.testing.assert_allclose(pooled, expected, rtol=1e-5, atol=1e-6)
    assert pooled.shape == (3, 16) and pooled.dtype == np.float32

"""Held-out masked positions: which are drawn, what the model sees there, what it predicts."""

import numpy as np
import pytest
import torch

from gfm_limits import tokenizer as tk
from gfm_limits.model import ModelConfig, build_hf_model, from_hf
from gfm_limits.predictions import draw_mask, make_eval_masks, masked_batches, predict_distributions

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
    np.testing.assert_array_equal(masks["rows"], rows[:20])
    ordinary = rows[:20] >= 5
    for name, fraction in (("predict", 0.1), ("fisher", 0.15)):
        assert not (masks[name] & ~ordinary).any(), name
        expected = [max(1, round(fraction * n)) for n in ordinary.sum(axis=1)]
        assert masks[name].sum(axis=1).tolist() == expected, name
    make_eval_masks(tmp_path / "tokens.npy", tokenizer, tmp_path / "again.npz", n_sequences=20, mask_fraction=0.1,
                    fisher_mask_fraction=0.15, mask_seed=3)
    again = np.load(tmp_path / "again.npz")
    assert all(np.array_equal(masks[k], again[k]) for k in ("rows", "predict", "fisher"))


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
    probs, targets, hidden = predict_distributions(model, ROWS, PREDICT, MASK, batch_size, torch.device("cpu"),
                                                   n_hidden=3)
    np.testing.assert_array_equal(torch.cat(seen).numpy(), SEEN)
    assert targets.tolist() == TARGETS
    with torch.no_grad():
        out = hf(input_ids=torch.from_numpy(SEEN), output_hidden_states=True)
    where = torch.from_numpy(PREDICT)
    np.testing.assert_allclose(probs, torch.softmax(out.logits[where], dim=-1).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hidden, out.hidden_states[-1][where][:3].numpy(), rtol=1e-5, atol=1e-6)
    assert probs.dtype == np.float32 and probs.shape == (4, 20)

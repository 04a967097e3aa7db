"""Learning dynamics: every statistic at every snapshot against an independent computation
through HF BertForMaskedLM, scipy and plain loops, on two tiny members trained on real DNA."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy, spearmanr
from transformers import BertForMaskedLM

from gfm_limits import tokenizer as tk
from gfm_limits.dynamics import condition_dynamics, shared_schedule
from gfm_limits.files import InputError
from gfm_limits.fisher import group_of
from gfm_limits.model import ModelConfig
from gfm_limits.predictions import make_eval_masks
from gfm_limits.train import TrainConfig, train_mlm

TINY = ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, max_position=32)
SEEDS, K, N_SEQUENCES, BATCH, FISHER_BATCH = (1, 2), 5, 6, 4, 3
# top-p 1 drops a tail token wherever float32 probabilities sum above 1 in float64 (metrics.js_distance, as
# the paper), which depends on float32 rounding; 0.9 truncates where an independent computation agrees
TOP_P = 0.9


@pytest.fixture(scope="module")
def condition(tmp_path_factory, dna_slice):
    """Two members (3-mers, rows of 32) with snapshots, the shared masks of 10 held-out rows, and
    the dynamics table of the 6 of them drawn first, the paper's Fisher in mini-batches of
    FISHER_BATCH rows."""
    root = tmp_path_factory.mktemp("dyn")
    tk.build_kmer(root / "kmer.json", k=3)
    for split, part in (("train", dna_slice[:40_000]), ("eval", dna_slice[150_000:160_000])):
        (root / f"{split}.txt").write_text("\n".join(part[i : i + 1000].upper() for i in range(0, len(part), 1000)))
        tk.encode_corpus(root / f"{split}.txt", root / "kmer.json", root / f"{split}.npy", seq_len=32)
    make_eval_masks(root / "eval.npy", root / "kmer.json", root / "masks.npz", n_sequences=10, mask_fraction=0.15,
                    fisher_mask_fraction=0.15, mask_seed=0)
    for seed in SEEDS:
        cfg = TrainConfig(seed=seed, batch_size=8, tokens=8 * 32 * 12, lr=3e-3, log_every=4, snapshots=2)
        train_mlm(root / "train.npy", root / "kmer.json", out_dir=root / f"seed{seed}",
                  curve_path=root / f"seed{seed}.tsv", model_cfg=TINY, cfg=cfg,
                  snapshots_out=root / f"seed{seed}.snapshots")
    table = condition_dynamics(models={s: root / f"seed{s}" for s in SEEDS},
                               snapshots={s: root / f"seed{s}.snapshots" for s in SEEDS}, masks=root / "masks.npz",
                               train_tokens=root / "train.npy", out=root / "dynamics.tsv", n_sequences=N_SEQUENCES,
                               k=K, top_p=TOP_P, batch_size=BATCH, fisher_batch_size=FISHER_BATCH,
                               precision="fp32")
    return root, table


def independent(folder, root) -> dict:
    """One model's distributions, static embeddings and Fisher shares by a full HF forward and
    one backward per mini-batch of FISHER_BATCH rows, on the N_SEQUENCES rows drawn first (in file order)."""
    masks = np.load(root / "masks.npz")
    chosen = [i for i in range(len(masks["rows"])) if masks["draw_rank"][i] < N_SEQUENCES]
    rows = torch.from_numpy(masks["rows"][chosen].astype(np.int64))
    predict, fisher = (torch.from_numpy(masks[key][chosen]) for key in ("predict", "fisher"))
    hf = BertForMaskedLM.from_pretrained(folder).eval()
    with torch.no_grad():
        probs = torch.softmax(hf(input_ids=torch.where(predict, 4, rows)).logits[predict].double(), -1).numpy()
    named = list(hf.named_parameters())
    squares: dict[str, float] = {}
    for start in range(0, N_SEQUENCES, FISHER_BATCH):
        ids, sel = rows[start : start + FISHER_BATCH], fisher[start : start + FISHER_BATCH]
        loss = F.cross_entropy(hf(input_ids=torch.where(sel, 4, ids)).logits[sel], ids[sel])
        for (name, _), g in zip(named, torch.autograd.grad(loss, [p for _, p in named])):
            part = group_of(name) if group_of(name) in ("embeddings", "head") else "transformer"
            squares[part] = squares.get(part, 0.0) + float((g**2).sum())
    total = sum(squares.values())
    return {"probs": probs, "targets": rows[predict].numpy(), "shares": {p: v / total for p, v in squares.items()},
            "embeddings": hf.bert.embeddings.word_embeddings.weight.detach().double().numpy()}


def truncated(probs: np.ndarray) -> np.ndarray:
    """Each row's most likely tokens while their cumulative mass is <= TOP_P (the top one always), renormalised."""
    out = np.zeros_like(probs)
    for row, p in zip(out, probs):
        order = np.argsort(-p, kind="stable")
        keep = order[: max(1, int((np.cumsum(p[order]) <= TOP_P).sum()))]
        row[keep] = p[keep] / p[keep].sum()
    return out


def neighbours(emb: np.ndarray) -> tuple[np.ndarray, list[set]]:
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    cos = unit @ unit.T
    return cos, [set(np.argsort(-np.where(np.arange(len(cos)) == i, -np.inf, row))[:K]) for i, row in enumerate(cos)]


def test_every_statistic_at_every_step_matches_an_independent_computation(condition):
    root, table = condition
    train = np.load(root / "train.npy")
    counts = np.bincount(train.ravel(), minlength=74) + 0.5
    counts[:5] = 0
    unigram = counts / counts.sum()
    assert sorted(table["step"].unique()) == [3, 6, 12]  # snapshot_steps(12, 2) and the final step
    for step in (3, 6, 12):
        folders = {s: root / (f"seed{s}" if step == 12 else f"seed{s}.snapshots/step{step}") for s in SEEDS}
        found = {s: independent(f, root) for s, f in folders.items()}
        at = table[table["step"] == step]
        assert (at["tokens"] == step * 8 * 32).all() and (at["final"] == (step == 12)).all()
        value = lambda name, a, b=pd.NA, at=at: at.loc[(at["statistic"] == name) & (at["seed_a"] == a)  # noqa: E731
                                                      & (at["seed_b"].isna() if b is pd.NA else at["seed_b"] == b),
                                                      "value"].item()
        for seed, d in found.items():
            p_target = d["probs"][np.arange(len(d["targets"])), d["targets"]]
            ce, uni = -np.log2(p_target).mean(), -np.log2(unigram[d["targets"]]).mean()
            h = entropy(d["probs"], base=2, axis=1).mean()
            expected = {"cross_entropy_bits": ce, "unigram_cross_entropy_bits": uni, "context_gain_bits": uni - ce,
                        "entropy_bits": h, "kl_uniform_bits": np.log2(74) - h,
                        "kl_from_uniform_bits": entropy(np.full(74, 1 / 74), np.maximum(d["probs"], 1e-10), base=2,
                                                        axis=1).mean(),
                        "accuracy": (d["probs"].argmax(1) == d["targets"]).mean(),
                        **{f"fisher_share_{p}": v for p, v in d["shares"].items()}}
            for name, number in expected.items():
                assert value(name, seed) == pytest.approx(number, rel=1e-4, abs=1e-7), (step, seed, name)
        a, b = found[1], found[2]
        (cos_a, nn_a), (cos_b, nn_b) = neighbours(a["embeddings"]), neighbours(b["embeddings"])
        off = ~np.eye(74, dtype=bool)
        expected = {"js_p0.9": jensenshannon(truncated(a["probs"]), truncated(b["probs"]), base=2, axis=1).mean(),
                    "disagreement": (a["probs"].argmax(1) != b["probs"].argmax(1)).mean(),
                    "jaccard_k5": np.mean([len(x & y) / len(x | y) for x, y in zip(nn_a, nn_b)]),
                    "spearman": np.mean([spearmanr(cos_a[i, off[i]], cos_b[i, off[i]]).statistic for i in range(74)])}
        for name, number in expected.items():
            assert value(name, 1, 2) == pytest.approx(number, rel=1e-4, abs=1e-7), (step, name)
    assert set(table.loc[table["seed_b"].notna(), "statistic"]) == {"js_p0.9", "disagreement", "jaccard_k5", "spearman"}


def test_the_table_is_written_long_with_empty_seed_b_for_members(condition):
    root, table = condition
    written = pd.read_csv(root / "dynamics.tsv", sep="\t", dtype={"seed_b": "Int64"})
    assert list(written.columns) == ["step", "tokens", "final", "statistic", "seed_a", "seed_b", "value"]
    pd.testing.assert_frame_equal(written, table, rtol=1e-6, check_dtype=False)
    members = written[written["seed_b"].isna()]
    assert len(members) == 3 * 2 * 10  # steps x members x (7 output and 3 Fisher statistics)
    shares = members[members["statistic"].str.startswith("fisher_share_")].groupby(["step", "seed_a"])["value"]
    np.testing.assert_allclose(shares.sum(), 1.0, rtol=1e-6)


def test_members_on_different_schedules_are_refused(condition, tmp_path):
    root, _ = condition
    shutil.copytree(root / "seed2", tmp_path / "seed2")
    record = json.loads((tmp_path / "seed2" / "training.json").read_text())
    (tmp_path / "seed2" / "training.json").write_text(json.dumps({**record, "snapshot_steps": [2, 5]}))
    assert shared_schedule({1: root / "seed1", 2: root / "seed2"}) == ([3, 6], 12, 8 * 32)
    with pytest.raises(InputError, match="members differ"):
        shared_schedule({1: root / "seed1", 2: tmp_path / "seed2"})

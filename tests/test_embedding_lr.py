"""train.embedding_lr_scale: the token interface (embeddings, MLM head) in an AdamW group of its
own at lr x scale; a scale of 1 trains exactly as the single group always did."""

import numpy as np
import pytest
import torch

from gfm_limits import special_tokens
from gfm_limits import tokenizer as tk
from gfm_limits.model import ModelConfig, build_model
from gfm_limits.train import Stepper, TrainConfig, batch_order, device_batches, param_groups

TINY = ModelConfig(hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32, max_position=32, dropout=0.0)
INTERFACE = {"word.weight", "position.weight", "token_type.weight", "head_dense.weight", "head_dense.bias",
             "head_norm.weight", "head_norm.bias", "head_bias"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("lr")
    tk.build_kmer(root / "kmer.json", k=2)
    specials = special_tokens.read(root / "kmer.json")
    vocab = tk.load(root / "kmer.json").get_vocab_size()
    rows = np.random.default_rng(0).integers(len(specials.special), vocab, size=(40, 16)).astype(np.uint16)
    return specials, vocab, rows


def _stepper(setup, scale, tied=True, steps=6):
    specials, vocab, rows = setup
    cfg = TrainConfig(seed=3, batch_size=8, lr=1e-3, embedding_lr_scale=scale, compile="never")
    model = build_model(ModelConfig(**{**TINY.__dict__, "tie_embeddings": tied}), vocab, specials.pad, seed=3)
    return Stepper(model, cfg, steps=steps, vocab_size=vocab, specials=specials, device=torch.device("cpu"),
                   seq_len=rows.shape[1])


def _run(stepper, setup, steps=6):
    rows = setup[2]
    for batch in device_batches(rows, batch_order(len(rows), 8, steps, 42), torch.device("cpu")):
        stepper(batch)
    return stepper.model.state_dict()


@pytest.mark.parametrize("tied", [True, False])
def test_scaled_groups_hold_every_parameter_once_at_their_lrs(setup, tied):
    stepper = _stepper(setup, 0.1, tied)
    groups = stepper.optimizer.param_groups
    assert [g["name"] for g in groups] == ["body", "token_interface"]
    assert [g["initial_lr"] for g in groups] == pytest.approx([1e-3, 1e-4])
    names = {id(p): n for n, p in stepper.model.named_parameters()}
    held = [id(p) for g in groups for p in g["params"]]
    assert len(held) == len(set(held)) == len(names)  # every parameter exactly once
    interface = {names[id(p)] for p in groups[1]["params"]}
    assert interface == (INTERFACE if tied else INTERFACE | {"head_decoder"})
    assert "embed_norm.weight" in {names[id(p)] for p in groups[0]["params"]}
    _run(stepper, setup, 3)
    body_lr, interface_lr = stepper.scheduler.get_last_lr()
    assert interface_lr == pytest.approx(0.1 * body_lr) and body_lr > 0


def test_scale_one_trains_bitwise_as_the_single_group_did(setup):
    from transformers import get_cosine_schedule_with_warmup

    assert len(param_groups(_stepper(setup, 1.0).model, 1e-3)) == 1
    new = _run(_stepper(setup, 1.0), setup)
    old_stepper = _stepper(setup, 1.0)
    cfg = old_stepper.cfg  # the optimiser as it was built before param_groups
    old_stepper.optimizer = torch.optim.AdamW(old_stepper.model.parameters(), lr=cfg.lr,
                                              betas=(cfg.adam_beta1, cfg.adam_beta2), eps=cfg.adam_eps,
                                              weight_decay=cfg.weight_decay, fused=None)
    old_stepper.scheduler = get_cosine_schedule_with_warmup(old_stepper.optimizer, round(cfg.warmup_fraction * 6), 6)
    old = _run(old_stepper, setup)
    assert all(torch.equal(new[name], old[name]) for name in old)
    scaled = _run(_stepper(setup, 0.1), setup)  # and a smaller scale does change training
    assert not torch.equal(scaled["word.weight"], old["word.weight"])

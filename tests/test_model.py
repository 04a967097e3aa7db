"""Model, masking, data order, training and the paper's Fisher on a tiny BERT and real DNA."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import BertForMaskedLM

from gfm_limits import tokenizer as tk
from gfm_limits.fisher import fisher_paper, group_of
from gfm_limits.model import (
    ModelConfig,
    build_hf_model,
    build_model,
    from_hf,
    load_model,
    masked_logits,
    save_pretrained,
    to_hf_state_dict,
)
from gfm_limits.train import TrainConfig, batch_order, capacity, mlm_mask, select_masked, snapshot_steps, train_mlm

TINY = ModelConfig(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, max_position=32)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory, dna_slice):
    """Real DNA as packed 6-mer rows of 32 tokens, and its tokenizer path."""
    root = tmp_path_factory.mktemp("enc")
    tk.build_kmer(root / "kmer.json")
    corpus = root / "train.txt"
    corpus.write_text("\n".join(dna_slice[i : i + 1000].upper() for i in range(0, 60_000, 1000)) + "\n")
    tk.encode_corpus(corpus, root / "kmer.json", root / "train.npy", seq_len=32)
    return root


UNTIED = ModelConfig(**{**TINY.__dict__, "tie_embeddings": False})
NO_LAYERS = ModelConfig(**{**TINY.__dict__, "num_layers": 0})


@pytest.mark.parametrize("cfg", [TINY, UNTIED, NO_LAYERS], ids=["tied", "untied", "no_layers"])
def test_masked_logits_equal_hf_full_forward(encoded, cfg):
    """Our fused-QKV, SDPA, masked-only model gives HF BertForMaskedLM's logits, with tied or
    untied embeddings and with no transformer layers (the paper's v2 control)."""
    rows = torch.from_numpy(np.load(encoded / "train.npy")[:4].astype(np.int64))
    hf = build_hf_model(cfg, 4106, 0, seed=1).eval()
    if not cfg.tie_embeddings:
        assert hf.cls.predictions.decoder.weight.data_ptr() != hf.bert.embeddings.word_embeddings.weight.data_ptr()
        with torch.no_grad():  # a model trained elsewhere: its decoder bias is no longer 0
            hf.cls.predictions.decoder.bias.normal_(generator=torch.Generator().manual_seed(0))
    model = from_hf(hf).eval()
    selected = torch.zeros_like(rows, dtype=torch.bool)
    selected[:, [3, 7, 20]] = True
    with torch.no_grad():
        full = hf(input_ids=rows).logits[selected]
        ours = masked_logits(model, rows, selected)
    torch.testing.assert_close(ours, full, rtol=1e-5, atol=1e-5)


def test_mlm_loss_equals_hf_loss_in_fp32(encoded):
    """The same weights and masked batch give HF's masked-LM loss (labels -100 elsewhere)."""
    rows = torch.from_numpy(np.load(encoded / "train.npy")[:8].astype(np.int64))
    hf = build_hf_model(TINY, 4106, 0, seed=4).eval()
    model = from_hf(hf).eval()
    inputs, labels = mlm_mask(rows, torch.Generator().manual_seed(0), special=torch.arange(5), mask_id=4,
                              n_random=4101, first_random=5, prob=0.15)
    index, targets, dropped = select_masked(labels, capacity(rows.numel(), 0.15))
    with torch.no_grad():
        expected = hf(input_ids=inputs, labels=labels).loss
        ours = model(inputs, index, targets)
    assert int(dropped) == 0
    assert abs(float(ours) - float(expected)) < 1e-5


def test_bf16_residual_stream_rounds_only_the_layer_norm_outputs(encoded):
    """Bert.stream_dtype bf16 under bf16 autocast (a CPU's, here): the hidden states between
    layers are bf16, and equal an explicit loop over the layers that rounds each LayerNorm's
    output to bf16; the loss stays within bf16 rounding of the fp32-stream model's."""
    rows = torch.from_numpy(np.load(encoded / "train.npy")[:4].astype(np.int64))
    model = build_model(TINY, 4106, 0, seed=5).eval()
    index = torch.arange(0, rows.numel(), 7)
    targets = rows.flatten()[index]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        fp32_stream = model(rows, index, targets)
        assert model.encode(rows).dtype == torch.float32  # autocast's LayerNorm output
        model.stream_dtype = torch.bfloat16
        hidden, loss = model.encode(rows), model(rows, index, targets)
        x = model.word(rows) + model.position.weight[: rows.shape[1]] + model.token_type.weight[0]
        x = model.embed_norm(x).to(torch.bfloat16)
        for layer in model.layers:
            b, t, h = x.shape
            q, k, v = layer.qkv(x).view(b, t, 3, layer.n_heads, h // layer.n_heads).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, h)
            x = layer.attn_norm(x + layer.attn_out(a)).to(torch.bfloat16)
            x = layer.ffn_norm(x + layer.ffn_out(F.gelu(layer.ffn_in(x)))).to(torch.bfloat16)
    assert hidden.dtype == torch.bfloat16
    torch.testing.assert_close(hidden, x, rtol=0, atol=0)
    with torch.no_grad():  # without autocast (extraction, the Fisher) the setting does nothing
        fp32 = model(rows, index, targets)
        model.stream_dtype = None
        torch.testing.assert_close(fp32, model(rows, index, targets), rtol=0, atol=0)
    assert abs(float(loss) - float(fp32_stream)) < 0.02 * float(fp32_stream)
    assert TrainConfig(seed=1, residual_stream="bf16").residual_stream == "bf16"
    with pytest.raises(ValueError, match="residual_stream"):
        TrainConfig(seed=1, residual_stream="fp16")


@pytest.mark.parametrize("cfg", [TINY, UNTIED], ids=["tied", "untied"])
def test_weights_round_trip_through_hf_names(cfg):
    """Our weights under HF names fill every HF tensor of its shape, and read back unchanged."""
    model = build_model(cfg, 50, 0, seed=2)
    hf = build_hf_model(cfg, 50, 0, seed=9)  # other weights, all of them overwritten below
    expected = hf.state_dict()
    ours = to_hf_state_dict(model)
    assert set(ours) == {name for name in expected if not name.endswith(("position_ids", "token_type_ids"))}
    assert all(ours[name].shape == expected[name].shape for name in ours)
    assert not hf.load_state_dict(ours, strict=False).unexpected_keys
    back = from_hf(hf)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, back.state_dict()[name]), name


def test_select_masked_keeps_order_pads_with_ignored_targets_and_counts_overflow():
    labels = torch.full((2, 6), -100)
    labels[0, 4], labels[1, 1], labels[1, 5] = 7, 8, 9
    index, targets, dropped = select_masked(labels, 5)
    assert index[:3].tolist() == [4, 7, 11] and targets.tolist()[:3] == [7, 8, 9]
    assert (targets[3:] == -100).all() and int(dropped) == 0
    index, targets, dropped = select_masked(labels, 2)
    assert targets.tolist() == [7, 8] and int(dropped) == 1
    # 8 standard deviations above the Binomial mean, never more than the tokens
    assert capacity(32768, 0.15) == int(np.ceil(32768 * 0.15 + 8 * np.sqrt(32768 * 0.15 * 0.85))) + 16
    assert capacity(10, 0.5) == 10


def test_mlm_mask_80_10_10_and_never_special():
    ids = torch.randint(5, 1000, (256, 128))
    ids[:, 0], ids[:, -1] = 2, 3
    gen = torch.Generator().manual_seed(0)
    inputs, labels = mlm_mask(ids, gen, special=torch.tensor([0, 1, 2, 3, 4]), mask_id=4, n_random=995,
                              first_random=5, prob=0.15)
    selected = labels != -100
    assert not selected[:, [0, -1]].any()
    assert selected[:, 1:-1].float().mean().item() == pytest.approx(0.15, abs=0.005)
    assert torch.equal(labels[selected], ids[selected])
    assert torch.equal(inputs[~selected], ids[~selected])
    masked = (inputs[selected] == 4).float().mean().item()
    unchanged = (inputs[selected] == ids[selected]).float().mean().item()
    assert masked == pytest.approx(0.8, abs=0.01)
    assert unchanged == pytest.approx(0.1 + 0.1 / 995, abs=0.01)
    assert ((inputs[selected] >= 5) | (inputs[selected] == 4)).all()


def test_batch_order_depends_on_data_seed_only_and_covers_each_epoch():
    order = batch_order(10, 4, 5, data_seed=42)
    assert order.shape == (5, 4)
    flat = order.ravel()
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))
    assert np.array_equal(order, batch_order(10, 4, 5, data_seed=42))
    assert not np.array_equal(order, batch_order(10, 4, 5, data_seed=7))


def train_tiny(encoded, out, seed, grad_accum=1, model_cfg=TINY):
    cfg = TrainConfig(seed=seed, batch_size=8, tokens=8 * 32 * 12, lr=1e-3, log_every=4, grad_accum=grad_accum)
    return train_mlm(encoded / "train.npy", encoded / "kmer.json", out_dir=out / f"m{seed}",
                     curve_path=out / f"c{seed}.tsv", model_cfg=model_cfg, cfg=cfg)


def test_gradient_accumulation_gives_the_same_training(encoded, tmp_path):
    """Four micro-batches of 2 rows train as one batch of 8 (dropout off: its draws differ)."""
    no_dropout = ModelConfig(**{**TINY.__dict__, "dropout": 0.0})
    train_tiny(encoded, tmp_path / "one", seed=1, model_cfg=no_dropout)
    train_tiny(encoded, tmp_path / "four", seed=1, grad_accum=4, model_cfg=no_dropout)
    one, four = load_model(tmp_path / "one" / "m1"), load_model(tmp_path / "four" / "m1")
    for (name, a), b in zip(one.state_dict().items(), four.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    with pytest.raises(ValueError, match="grad_accum"):
        TrainConfig(seed=1, batch_size=8, grad_accum=3)


def test_training_writes_a_loadable_self_describing_model_folder(encoded, tmp_path):
    summary = train_tiny(encoded, tmp_path, seed=1)
    model = BertForMaskedLM.from_pretrained(tmp_path / "m1")
    assert model.config.hidden_size == 32 and model.config.vocab_size == 4106
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    meta = json.loads((tmp_path / "m1" / "training.json").read_text())
    assert meta["seed"] == 1 and meta["steps"] == 12 and meta["tokens"] == 12 * 8 * 32
    assert meta["tokenizer_sha256"] == summary["tokenizer_sha256"]
    curve = (tmp_path / "c1.tsv").read_text().splitlines()
    assert curve[0].split("\t") == ["step", "tokens", "loss", "lr", "tokens_per_s"]
    assert [int(line.split("\t")[0]) for line in curve[1:]] == [4, 8, 12]


def test_snapshot_steps_are_log_spaced_before_the_final_step_without_duplicates():
    assert snapshot_steps(2500, 5) == [78, 156, 312, 625, 1250]  # 2500 / 32 = 78.125, ...
    assert snapshot_steps(980, 4) == [61, 122, 245, 490]  # 122.5 rounds to even
    assert snapshot_steps(10**5, 4) == [6250, 12500, 25000, 50000]  # the final step continues the doubling
    assert snapshot_steps(10, 4) == [1, 2, 5]  # 10 / 8 and 10 / 16 both round to 1
    assert snapshot_steps(2, 4) == [1] and snapshot_steps(1, 4) == [] and snapshot_steps(980, 0) == []
    for steps, k in [(3, 8), (50, 20), (12, 4), (7, 1)]:
        found = snapshot_steps(steps, k)
        assert found == sorted(set(found)) and all(1 <= s < steps for s in found) and 1 <= len(found) <= k
    assert snapshot_steps(7, 1) == [4]  # round(3.5) to even


def test_snapshots_leave_training_unchanged_and_load_as_models(encoded, tmp_path):
    """Saving snapshots builds HF models, which draws on the CPU RNG that also draws dropout:
    a run with snapshots must still end with bitwise the weights of a run without."""
    cfg = dict(batch_size=8, tokens=8 * 32 * 12, lr=1e-3, log_every=4)
    runs = {}
    for n in (0, 4):
        runs[n] = train_mlm(encoded / "train.npy", encoded / "kmer.json", out_dir=tmp_path / f"m{n}",
                            curve_path=tmp_path / f"c{n}.tsv", model_cfg=TINY,
                            cfg=TrainConfig(seed=1, snapshots=n, **cfg),
                            snapshots_out=tmp_path / f"s{n}", snapshots_staging=tmp_path / f"staging{n}")
        assert not (tmp_path / f"staging{n}").exists()  # moved into the output, then removed
    assert runs[0]["snapshot_steps"] == [] and not any((tmp_path / "s0").iterdir())
    assert runs[4]["snapshot_steps"] == snapshot_steps(12, 4) == [1, 2, 3, 6]
    assert json.loads((tmp_path / "m4" / "training.json").read_text())["snapshot_steps"] == [1, 2, 3, 6]
    assert sorted(p.name for p in (tmp_path / "s4").iterdir()) == ["step1", "step2", "step3", "step6"]
    without, final = load_model(tmp_path / "m0").state_dict(), load_model(tmp_path / "m4").state_dict()
    assert all(torch.equal(without[name], final[name]) for name in without)
    word = [load_model(tmp_path / "s4" / f"step{s}").word.weight for s in (1, 2, 3, 6)] + [final["word.weight"]]
    assert all(not torch.equal(a, b) for a, b in zip(word, word[1:]))  # training moved on between them
    meta = json.loads((tmp_path / "s4" / "step3" / "snapshot.json").read_text())
    assert meta["step"] == 3 and meta["tokens"] == 3 * 8 * 32 and meta["seed"] == 1 and meta["steps"] == 12
    assert (tmp_path / "s4" / "step3" / "tokenizer.json").read_bytes() == (encoded / "kmer.json").read_bytes()


def test_same_seed_is_bitwise_reproducible_and_seeds_differ(encoded, tmp_path):
    train_tiny(encoded, tmp_path / "a", seed=1)
    train_tiny(encoded, tmp_path / "b", seed=1)
    train_tiny(encoded, tmp_path / "b", seed=2)
    w = {k: BertForMaskedLM.from_pretrained(p).state_dict() for k, p in
         [("a1", tmp_path / "a" / "m1"), ("b1", tmp_path / "b" / "m1"), ("b2", tmp_path / "b" / "m2")]}
    assert all(torch.equal(w["a1"][name], w["b1"][name]) for name in w["a1"])
    assert not torch.equal(w["a1"]["bert.embeddings.word_embeddings.weight"],
                           w["b2"]["bert.embeddings.word_embeddings.weight"])


def test_group_of_names():
    assert group_of("bert.embeddings.word_embeddings.weight") == "embeddings"
    assert group_of("bert.encoder.layer.11.output.dense.bias") == "encoder.11"
    assert group_of("cls.predictions.transform.dense.weight") == "head"
    with pytest.raises(ValueError):
        group_of("bert.pooler.dense.weight")


def test_fisher_paper_matches_an_independent_loop(encoded):
    rows = np.load(encoded / "train.npy")[:12]
    rng = np.random.default_rng(0)
    fmask = rng.random(rows.shape) < 0.15
    fmask[:, [0, -1]] = False
    hf = build_hf_model(TINY, 4106, 0, seed=3).eval()
    model = from_hf(hf)
    records = {r["group"]: r for r in fisher_paper(model, rows, fmask, 4, batch_size=5, device=torch.device("cpu"))}

    expected, total_masked = {}, 0
    model = hf
    named = list(model.named_parameters())
    for start in range(0, 12, 5):
        ids = torch.from_numpy(rows[start : start + 5].astype(np.int64))
        sel = torch.from_numpy(fmask[start : start + 5])
        logits = model(input_ids=torch.where(sel, 4, ids)).logits  # full HF forward
        loss = F.cross_entropy(logits[sel], ids[sel])
        grads = torch.autograd.grad(loss, [p for _, p in named])
        for (name, _), g in zip(named, grads):
            expected[group_of(name)] = expected.get(group_of(name), 0.0) + float((g**2).sum())
        total_masked += int(sel.sum())
    assert list(records) == ["embeddings", "encoder.0", "encoder.1", "head"]
    for group, value in expected.items():
        assert records[group]["fisher"] == pytest.approx(value / total_masked, rel=1e-4)
    assert sum(r["n_params"] for r in records.values()) == sum(p.numel() for p in model.parameters())


RESUME_CFG = dict(batch_size=8, tokens=8 * 32 * 400, lr=1e-3, log_every=4, state_steps=20, snapshots=8)
DRIVER = """
import sys
sys.path.insert(0, {scripts!r})
from gfm_limits.model import ModelConfig
from gfm_limits.train import TrainConfig, train_mlm
train_mlm({rows!r}, {tok!r}, out_dir={out!r}, curve_path={curve!r}, model_cfg=ModelConfig(**{model!r}),
          cfg=TrainConfig(seed=5, **{cfg!r}), state={state!r}, snapshots_out={snaps!r}, snapshots_staging={staging!r})
"""
# [2, 3, 6, 12, 25, 50, 100, 200]: the first four precede the first saved state (step 20)
RESUME_SNAPSHOTS = snapshot_steps(400, 8)


def _start_training(encoded, root):
    import subprocess
    import sys

    from conftest import ROOT

    code = DRIVER.format(scripts=str(ROOT / "scripts"), rows=str(encoded / "train.npy"), tok=str(encoded / "kmer.json"),
                         out=str(root / "m"), curve=str(root / "c.tsv"), model=TINY.__dict__, cfg=RESUME_CFG,
                         state=str(root / "state.pt"), snaps=str(root / "snaps"), staging=str(root / "state.snapshots"))
    return subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)


def _wait_for(path, process, timeout=120):
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "no training state appeared"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def uninterrupted(encoded, tmp_path_factory):
    root = tmp_path_factory.mktemp("whole")
    train_mlm(encoded / "train.npy", encoded / "kmer.json", out_dir=root / "m", curve_path=root / "c.tsv",
              model_cfg=TINY, cfg=TrainConfig(seed=5, **RESUME_CFG), state=root / "state.pt",
              snapshots_out=root / "snaps", snapshots_staging=root / "state.snapshots")
    assert not (root / "state.pt").exists()  # removed once the model is saved
    snaps = {s: load_model(root / "snaps" / f"step{s}").state_dict() for s in RESUME_SNAPSHOTS}
    return load_model(root / "m").state_dict(), (root / "c.tsv").read_text(), snaps


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT"])
def test_killed_training_resumes_to_bitwise_identical_weights(encoded, tmp_path, uninterrupted, how):
    """Kill a training run after it first saved its state (at a random later moment), or stop it as
    SLURM (SIGTERM) or Ctrl-C (SIGINT) does, rerun it, and get exactly the weights, curve and
    snapshots of a run that was never interrupted (CPU); the snapshots before the saved state are
    the killed run's, kept beside the state. A signal is answered by a save at once, not only by
    the last timed one."""
    import random
    import signal
    import time

    process = _start_training(encoded, tmp_path)
    _wait_for(tmp_path / "state.pt", process)
    time.sleep(random.uniform(0, 0.3))
    process.send_signal(getattr(signal, how))
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode != 0 and not (tmp_path / "m").exists()
    saved = torch.load(tmp_path / "state.pt", weights_only=False)
    assert 0 < saved["step"] < 400
    before = [s for s in RESUME_SNAPSHOTS if s <= saved["step"]]
    assert before[:4] == [2, 3, 6, 12] and not (tmp_path / "snaps").exists()
    assert all((tmp_path / "state.snapshots" / f"step{s}" / "model.safetensors").is_file() for s in before)
    if how != "SIGKILL":
        assert f"stopped by {how} at step {saved['step']}" in stderr and "KeyboardInterrupt" not in stderr
    summary = train_mlm(encoded / "train.npy", encoded / "kmer.json", out_dir=tmp_path / "m",
                        curve_path=tmp_path / "c.tsv", model_cfg=TINY, cfg=TrainConfig(seed=5, **RESUME_CFG),
                        state=tmp_path / "state.pt", snapshots_out=tmp_path / "snaps",
                        snapshots_staging=tmp_path / "state.snapshots")
    assert summary["resumed_from_step"] == saved["step"]
    weights, curve, snaps = uninterrupted
    resumed = load_model(tmp_path / "m").state_dict()
    assert all(torch.equal(weights[name], resumed[name]) for name in weights)
    assert {p.name for p in (tmp_path / "snaps").iterdir()} == {f"step{s}" for s in RESUME_SNAPSHOTS}
    for step, expected in snaps.items():
        found = load_model(tmp_path / "snaps" / f"step{step}").state_dict()
        assert all(torch.equal(expected[name], found[name]) for name in expected), step
    assert not (tmp_path / "state.snapshots").exists()
    strip = lambda text: [line.split("\t")[:4] for line in text.splitlines()]  # noqa: E731 (not tokens/s)
    assert strip((tmp_path / "c.tsv").read_text()) == strip(curve)


def test_ctrl_c_asks_for_a_save_a_second_one_stops_at_once_and_handlers_come_back(tmp_path):
    """SIGINT inside TrainingState is a request to save and stop, as SIGTERM is; a second SIGINT
    raises KeyboardInterrupt at once; leaving restores Python's handlers; a process that started
    with SIGINT ignored (a shell's background job) keeps ignoring it."""
    import os
    import signal
    import subprocess
    import sys

    from gfm_limits.training_state import TrainingState

    from conftest import ROOT

    state = TrainingState(tmp_path / "state.pt", {})
    with state:
        os.kill(os.getpid(), signal.SIGINT)
        assert state.signalled == signal.SIGINT and state.due(1)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ignored = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT / "scripts")!r})
from gfm_limits.training_state import TrainingState
state = TrainingState("unused.pt", {{}})
with state:
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGTERM)
print(state.signalled == signal.SIGTERM, signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
"""
    result = subprocess.run([sys.executable, "-c", ignored], capture_output=True, text=True, timeout=60,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_a_training_state_of_another_configuration_is_not_resumed(encoded, tmp_path):
    cfg = TrainConfig(seed=5, **{**RESUME_CFG, "tokens": 8 * 32 * 40})
    process = _start_training(encoded, tmp_path)
    _wait_for(tmp_path / "state.pt", process)
    process.kill()
    process.communicate()
    summary = train_mlm(encoded / "train.npy", encoded / "kmer.json", out_dir=tmp_path / "m",
                        curve_path=tmp_path / "c.tsv", model_cfg=TINY, cfg=cfg, state=tmp_path / "state.pt")
    assert summary["resumed_from_step"] == 0 and summary["steps"] == 40


def test_per_example_fisher_matches_a_plain_loop_over_rows_with_an_untied_hf_model(encoded):
    """torch.func per-example Fisher against one backward per row through HF BertForMaskedLM whose
    decoder is an untied copy of the word embedding (its gradient is then the decoder part)."""
    from gfm_limits.fisher import fisher_per_example

    rows = np.load(encoded / "train.npy")[:7]
    rng = np.random.default_rng(1)
    fmask = rng.random(rows.shape) < 0.2
    fmask[:, [0, -1]] = False
    hf = build_hf_model(TINY, 4106, 0, seed=3).eval()
    found, groups, by_row = fisher_per_example(from_hf(hf), rows, fmask, 4, chunk=3, device=torch.device("cpu"))
    records = {r["group"]: r["fisher"] for r in found}
    assert by_row.shape == (len(rows), len(groups))  # each row's own part: they sum to the records
    np.testing.assert_allclose(by_row.mean(axis=0), [records[g] for g in groups], rtol=1e-6)
    hf.cls.predictions.decoder.weight = torch.nn.Parameter(hf.bert.embeddings.word_embeddings.weight.detach().clone())
    named = list(hf.named_parameters())
    expected: dict[str, float] = {}
    for r in range(len(rows)):
        ids = torch.from_numpy(rows[r : r + 1].astype(np.int64))
        sel = torch.from_numpy(fmask[r : r + 1])
        logits = hf(input_ids=torch.where(sel, 4, ids)).logits
        loss = F.cross_entropy(logits[sel], ids[sel], reduction="sum")
        grads = dict(zip([n for n, _ in named], torch.autograd.grad(loss, [p for _, p in named])))
        word_in, word_out = grads["bert.embeddings.word_embeddings.weight"], grads["cls.predictions.decoder.weight"]
        for name, g in grads.items():
            if name == "cls.predictions.decoder.weight":
                continue
            if name == "bert.embeddings.word_embeddings.weight":
                g = word_in + word_out
            expected[group_of(name)] = expected.get(group_of(name), 0.0) + float((g**2).sum()) / len(rows)
        expected["word_input"] = expected.get("word_input", 0.0) + float((word_in**2).sum()) / len(rows)
        expected["word_decoder"] = expected.get("word_decoder", 0.0) + float((word_out**2).sum()) / len(rows)
    assert set(records) == set(expected)
    for group, value in expected.items():
        assert records[group] == pytest.approx(value, rel=1e-4), group


def test_per_example_fisher_of_an_untied_model_matches_a_plain_loop(encoded):
    """model.tie_embeddings false: word_input and word_decoder are the embedding and the decoder
    matrix, the decoder counted in `head`; checked against one backward per row through HF."""
    from gfm_limits.fisher import fisher_per_example

    rows = np.load(encoded / "train.npy")[:5]
    fmask = np.random.default_rng(2).random(rows.shape) < 0.2
    fmask[:, [0, -1]] = False
    hf = build_hf_model(UNTIED, 4106, 0, seed=3).eval()
    found, _, _ = fisher_per_example(from_hf(hf), rows, fmask, 4, chunk=2, device=torch.device("cpu"))
    records = {r["group"]: r["fisher"] for r in found}
    named = list(hf.named_parameters())
    expected: dict[str, float] = {}
    for r in range(len(rows)):
        ids = torch.from_numpy(rows[r : r + 1].astype(np.int64))
        sel = torch.from_numpy(fmask[r : r + 1])
        loss = F.cross_entropy(hf(input_ids=torch.where(sel, 4, ids)).logits[sel], ids[sel], reduction="sum")
        for (name, _), g in zip(named, torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)):
            if g is None:  # a parameter HF keeps but never uses
                continue
            value = float((g**2).sum()) / len(rows)
            key = "head" if name == "cls.predictions.decoder.weight" else group_of(name)
            expected[key] = expected.get(key, 0.0) + value
            if name == "bert.embeddings.word_embeddings.weight":
                expected["word_input"] = expected.get("word_input", 0.0) + value
            if name == "cls.predictions.decoder.weight":
                expected["word_decoder"] = expected.get("word_decoder", 0.0) + value
    assert set(records) == set(expected)
    for group, value in expected.items():
        assert records[group] == pytest.approx(value, rel=1e-4), group


def test_initializer_range_sets_the_std_of_the_initial_weights_and_survives_a_save(tmp_path):
    """model.initializer_range is HF's initializer_range: every weight matrix and embedding is drawn
    from N(0, range^2) by HF's own init (padding row and LayerNorms aside), and the saved config keeps it."""
    wide = ModelConfig(**{**TINY.__dict__, "hidden_size": 64, "intermediate_size": 128, "initializer_range": 0.1})
    model = build_model(wide, 512, 0, seed=3)
    for weight in (model.word.weight[1:], model.position.weight, model.layers[0].qkv.weight, model.head_dense.weight):
        assert weight.detach().std().item() == pytest.approx(0.1, rel=0.05)
    assert model.layers[0].attn_norm.weight.detach().eq(1).all()
    save_pretrained(model, 0, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["initializer_range"] == 0.1
    assert load_model(tmp_path).cfg == wide
    narrow = build_model(TINY, 512, 0, seed=3)
    assert narrow.word.weight[1:].detach().std().item() == pytest.approx(0.02, rel=0.05)

"""Training speed and numerics on one GPU: three ways to train the paper's 90M BERT.

On the same GPU, the same model shape and the same packed rows of real text:

  (a) paper    HF BertForMaskedLM + HF Trainer in fp32, DataCollatorForLanguageModeling
               (lbcb-sci/GFMs: BertConfig() defaults, AdamW, cosine, clip 0.5, no bf16)
  (b) hf_bf16  the best plain HF setup: the same with SDPA attention, bf16 autocast
               (TrainingArguments(bf16=True)), fused AdamW, TF32, pinned 4-worker loading
  (c) ours     gfm_limits.train.Stepper fed by gfm_limits.train.device_batches: the code
               the train rule runs (torch.compile, bf16 autocast, masked-only head, fused
               AdamW, no host synchronisation)

Tokens/s are timed over `--steps` optimiser steps after `--warmup` (compilation and
allocator warm-up excluded), between CUDA synchronisations. MFU = model FLOPs per
token (gfm_limits.model.flops_per_token, the same count for all three) x tokens/s /
the GPU's dense bf16 peak (989 TFLOP/s for an H100 or H200 SXM). GPU busy is the mean
of NVML's utilisation counter (share of time a kernel ran), sampled every 50 ms.

Numerics: (1) the masked-LM loss of (c)'s model equals HF BertForMaskedLM's for the
same weights and masked batch in fp32; (2) from the same initial weights, batches and
masks, (c) and an HF BertForMaskedLM loop in bf16 give loss curves that follow each
other over `--curve-steps` steps.

    python bench/train_speed.py --tokens results/tokens/text_bpe/train.npy \
        --tokenizer results/tokenizers/text_bpe.json --out bench/results
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from gfm_limits.gpu import BusySampler  # noqa: E402
from gfm_limits.model import ModelConfig, build_hf_model, flops_per_token, from_hf, save_pretrained  # noqa: E402
from gfm_limits.special_tokens import read as read_special_tokens  # noqa: E402
from gfm_limits.tokenizer import load  # noqa: E402
from gfm_limits.train import Stepper, TrainConfig, batch_order, capacity, device_batches, mlm_mask, select_masked  # noqa: E402

PAPER_90M = ModelConfig()  # BertConfig() defaults: 12 x 768, 12 heads, FFN 3072, 512 positions
PEAK_BF16 = 989e12  # H100 / H200 SXM dense bf16 tensor-core peak, FLOP/s
TINY = ModelConfig(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128)  # --tiny: a CPU smoke run
DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync():
    if DEV.type == "cuda":
        torch.cuda.synchronize()


def peak_memory():
    return torch.cuda.max_memory_allocated() if DEV.type == "cuda" else 0


def reset_peak():
    if DEV.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def record(name, tokens_per_s, peak_bytes, busy, cfg, vocab, seq_len, extra=None):
    flops = flops_per_token(cfg, vocab, seq_len, 0.15)
    return {"setup": name, "tokens_per_s": tokens_per_s, "tflops": flops * tokens_per_s / 1e12,
            "mfu": flops * tokens_per_s / PEAK_BF16, "peak_mem_gib": peak_bytes / 2**30,
            "gpu_busy_percent": busy, "flops_per_token": flops, **(extra or {})}


def hf_trainer(name, rows, tokenizer_path, cfg, args, bf16: bool):
    """(a) or (b): the HF Trainer on the same rows; returns the timing record."""
    from transformers import (
        DataCollatorForLanguageModeling,
        PreTrainedTokenizerFast,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    tok = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_path), pad_token="[PAD]", unk_token="[UNK]",
                                  cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    vocab = len(tok)
    model = build_hf_model(cfg, vocab, tok.pad_token_id, seed=1)
    if bf16:
        model.config._attn_implementation = "sdpa"  # noqa: SLF001  (the attention HF picks, stated)
    total = args.warmup + args.steps
    busy = BusySampler(DEV)

    class Timer(TrainerCallback):
        def on_step_end(self, targs, state, control, **kwargs):
            if state.global_step == args.warmup:
                sync()
                reset_peak()
                self.start = time.perf_counter()
                busy.__enter__()
            elif state.global_step == total:
                sync()
                self.seconds = time.perf_counter() - self.start
                busy.__exit__()

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return len(rows)

        def __getitem__(self, i):
            return {"input_ids": torch.from_numpy(rows[i].astype(np.int64))}

    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=args.batch_size, max_steps=total, learning_rate=1e-4,
            warmup_steps=max(1, total // 10), lr_scheduler_type="cosine", max_grad_norm=0.5, weight_decay=0.0,
            seed=1, data_seed=42, report_to="none", save_strategy="no", logging_strategy="no",
            disable_tqdm=True, dataloader_num_workers=4, dataloader_pin_memory=True,
            bf16=bf16 and DEV.type == "cuda", tf32=bf16 and DEV.type == "cuda", use_cpu=DEV.type == "cpu",
            optim="adamw_torch_fused" if bf16 else "adamw_torch")
        timer = Timer()
        trainer = Trainer(model=model, args=targs, train_dataset=Rows(),
                          data_collator=DataCollatorForLanguageModeling(tok, mlm_probability=0.15),
                          callbacks=[timer])
        trainer.train()
    peak = peak_memory()
    tokens_per_s = args.steps * args.batch_size * rows.shape[1] / timer.seconds
    attn = model.config._attn_implementation  # noqa: SLF001
    del trainer, model
    reset_peak()
    return record(name, tokens_per_s, peak, busy.percent, cfg, vocab, rows.shape[1],
                  {"attention": attn, "precision": "bf16 autocast" if bf16 else "fp32"})


def ours(rows, tokenizer_path, cfg, args):
    """(c): the train rule's Stepper and device_batches; returns the timing record."""
    tok = load(tokenizer_path)
    ids, vocab, dev = read_special_tokens(tokenizer_path), tok.get_vocab_size(), DEV
    total = args.warmup + args.steps
    tcfg = TrainConfig(seed=1, batch_size=args.batch_size, tokens=total * args.batch_size * rows.shape[1],
                       residual_stream=args.residual_stream)
    from gfm_limits.model import build_model

    model = build_model(cfg, vocab, ids.pad, seed=1).to(dev)
    stepper = Stepper(model, tcfg, steps=total, vocab_size=vocab, specials=ids, device=dev, seq_len=rows.shape[1])
    order = batch_order(len(rows), args.batch_size, total, tcfg.data_seed)
    busy = BusySampler(DEV)
    compile_start = time.perf_counter()
    for step, batch in enumerate(device_batches(rows, order, dev)):
        loss = stepper(batch)
        if step + 1 == args.warmup:
            loss.item()
            sync()
            warmup_s = time.perf_counter() - compile_start
            reset_peak()
            start = time.perf_counter()
            busy.__enter__()
    sync()
    seconds = time.perf_counter() - start
    busy.__exit__()
    peak = peak_memory()
    del stepper, model
    reset_peak()
    return record("ours", args.steps * args.batch_size * rows.shape[1] / seconds, peak, busy.percent, cfg, vocab,
                  rows.shape[1], {"attention": "sdpa (flash)", "precision": "bf16 autocast",
                                  "warmup_seconds_incl_compile": warmup_s})


def loss_equality(rows, tokenizer_path, cfg):
    """fp32 masked-LM loss of the same weights and batch: HF BertForMaskedLM vs ours (eager and compiled)."""
    tok = load(tokenizer_path)
    ids, vocab, dev = read_special_tokens(tokenizer_path), tok.get_vocab_size(), DEV
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    hf = build_hf_model(cfg, vocab, ids.pad, seed=1).to(dev).eval()
    model = from_hf(hf.cpu()).to(dev).eval()
    hf.to(dev)
    batch = torch.from_numpy(rows[:16].astype(np.int64)).to(dev)
    special = torch.tensor(ids.special, device=dev)
    inputs, labels = mlm_mask(batch, torch.Generator(dev).manual_seed(0), special=special, mask_id=ids.mask,
                              n_random=vocab - len(ids.special), first_random=len(ids.special), prob=0.15)
    index, targets, _ = select_masked(labels, capacity(batch.numel(), 0.15))
    with torch.no_grad():
        hf_loss = float(hf(input_ids=inputs, labels=labels).loss)
        eager = float(model(inputs, index, targets))
        compiled = float(torch.compile(model)(inputs, index, targets))
    return {"hf_fp32": hf_loss, "ours_fp32": eager, "ours_fp32_compiled": compiled,
            "abs_diff": abs(eager - hf_loss), "abs_diff_compiled": abs(compiled - hf_loss),
            "within_1e-3": max(abs(eager - hf_loss), abs(compiled - hf_loss)) < 1e-3}


def loss_curves(rows, tokenizer_path, cfg, args):
    """bf16 loss per step from the same init, batches and masks: an HF BertForMaskedLM loop vs ours."""
    from transformers import get_cosine_schedule_with_warmup

    tok = load(tokenizer_path)
    ids, vocab, dev = read_special_tokens(tokenizer_path), tok.get_vocab_size(), DEV
    steps = args.curve_steps
    tcfg = TrainConfig(seed=1, batch_size=args.batch_size, tokens=steps * args.batch_size * rows.shape[1],
                       lr=args.curve_lr, residual_stream=args.residual_stream)
    order = batch_order(len(rows), args.batch_size, steps, tcfg.data_seed)
    hf = build_hf_model(cfg, vocab, ids.pad, seed=1)
    model = from_hf(hf).to(dev)
    hf.config._attn_implementation = "sdpa"  # noqa: SLF001
    hf.to(dev).train()

    stepper = Stepper(model, tcfg, steps=steps, vocab_size=vocab, specials=ids, device=dev, seq_len=rows.shape[1])
    ours_losses = [stepper(batch) for batch in device_batches(rows, order, dev)]

    opt = torch.optim.AdamW(hf.parameters(), lr=tcfg.lr, fused=DEV.type == "cuda" or None)
    sched = get_cosine_schedule_with_warmup(opt, round(tcfg.warmup_fraction * steps), steps)
    gen = torch.Generator(dev).manual_seed(tcfg.seed)  # the same mask draws as the Stepper's
    special = torch.tensor(ids.special, device=dev)
    hf_losses = []
    for batch in device_batches(rows, order, dev):
        inputs, labels = mlm_mask(batch, gen, special=special, mask_id=ids.mask,
                                  n_random=vocab - len(ids.special), first_random=len(ids.special),
                                  prob=tcfg.mask_prob)
        with torch.autocast(DEV.type, dtype=torch.bfloat16, enabled=DEV.type == "cuda"):
            loss = hf(input_ids=inputs, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(hf.parameters(), tcfg.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        hf_losses.append(loss.detach())
    a = torch.stack(ours_losses).float().cpu().numpy()
    b = torch.stack(hf_losses).float().cpu().numpy()
    window = 20
    smooth = lambda x: np.convolve(x, np.ones(window) / window, mode="valid")  # noqa: E731
    gap = np.abs(smooth(a) - smooth(b))
    return {"steps": steps, "lr": tcfg.lr, "ours": a.tolist(), "hf_bf16": b.tolist(),
            "first_loss": [float(a[0]), float(b[0])], "last50_mean": [float(a[-50:].mean()), float(b[-50:].mean())],
            "max_gap_20step_mean": float(gap.max()), "mean_gap_20step_mean": float(gap.mean()),
            "follows": bool(gap.max() < 0.1)}, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", required=True, help="packed rows (R, 512) uint16 from the encode rule")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--paper-steps", type=int, default=20, help="timed steps of the slow fp32 setup")
    parser.add_argument("--curve-steps", type=int, default=300)
    parser.add_argument("--curve-lr", type=float, default=5e-4)
    parser.add_argument("--residual-stream", default=TrainConfig.residual_stream, choices=("fp32", "bf16"),
                        help="(c)'s train.residual_stream, in the timing and the loss curves")
    parser.add_argument("--setups", default="paper,hf_bf16,ours,equality,curves")
    parser.add_argument("--save-model", help="save the model (c) trained for the loss curves here (HF format)")
    parser.add_argument("--tiny", action="store_true", help="a tiny model, for a smoke run on a CPU")
    args = parser.parse_args()
    cfg = TINY if args.tiny else PAPER_90M
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = np.load(args.tokens)
    todo = args.setups.split(",")
    result = {"gpu": torch.cuda.get_device_name() if DEV.type == "cuda" else "cpu", "torch": torch.__version__,
              "peak_bf16_flops": PEAK_BF16,
              "model": cfg.__dict__, "batch_size": args.batch_size, "seq_len": int(rows.shape[1]),
              "warmup_steps": args.warmup, "timed_steps": args.steps,
              "residual_stream": args.residual_stream, "setups": []}
    import transformers

    result["transformers"] = transformers.__version__

    def save():
        (out / "train_speed.json").write_text(json.dumps(result, indent=1) + "\n")

    if "paper" in todo:
        paper_args = argparse.Namespace(**{**vars(args), "steps": args.paper_steps})
        result["setups"].append(hf_trainer("paper", rows, args.tokenizer, cfg, paper_args, bf16=False))
        save()
    if "hf_bf16" in todo:
        result["setups"].append(hf_trainer("hf_bf16", rows, args.tokenizer, cfg, args, bf16=True))
        save()
    if "ours" in todo:
        result["setups"].append(ours(rows, args.tokenizer, cfg, args))
        save()
    for entry in result["setups"]:
        print(json.dumps({k: v for k, v in entry.items()}), flush=True)
    if "equality" in todo:
        result["loss_equality"] = loss_equality(rows, args.tokenizer, cfg)
        print(result["loss_equality"], flush=True)
        save()
    if "curves" in todo:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        curves, model = loss_curves(rows, args.tokenizer, cfg, args)
        if args.save_model:
            save_pretrained(model, read_special_tokens(args.tokenizer).pad, args.save_model)
            shutil.copyfile(args.tokenizer, Path(args.save_model) / "tokenizer.json")
        result["loss_curves"] = curves
        print({k: v for k, v in curves.items() if k not in ("ours", "hf_bf16")}, flush=True)
    save()


if __name__ == "__main__":
    main()

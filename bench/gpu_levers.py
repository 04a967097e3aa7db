"""Where the training step's time goes on one GPU, what each lever gains, and the per-example
Fisher batched against torch.func's fallback loop: one run, one JSON record.

In the order run (the record is rewritten after each part, so a run cut short keeps what
it measured):

  matmul     the device's measured dense bf16 matrix rate: an 8192^3 product, and the
             shapes of the 90M model's own products at batch 64 x 512 (QKV, FFN in and
             out), each the best of 20 timed after 5 untimed
  ours       the train rule's Stepper as it runs (bench/train_speed.py's (c)): tokens/s,
             MFU against the datasheet peak and against the measured rates
  profile    torch.profiler over 3 steps of the same Stepper: GPU kernel time by kind
             (matrix products, attention, Triton kernels inductor fused, optimizer,
             other) and the 25 kernels that took longest
  fisher     gfm_limits.fisher.fisher_per_example on the same model by each method of
             fisher.row_gradients: hooks (one batched backward pass), vmap (torch.func's
             fallback loop over rows around the fused attention kernel), vmap_math (the
             math backend, batched by vmap), the same rows and chunk; speed-ups over
             vmap, the largest relative differences from it, and the kernel time
             against the wall time per chunk of hooks and vmap
  levers     one change at a time against `ours`, each recompiled: grad_accum 2 at batch
             128 (the optimizer step once per 2 micro-batches of 64), batch 128 in one
             pass, CUDA graphs (inductor's triton.cudagraphs), inductor's coordinate
             descent tuning of its Triton kernels, the flash and memory-efficient attention
             backends in place of cuDNN's (the one torch picks on an H100/H200), inductor's
             max_autotune; and the residual stream in fp32 as autocast leaves it
             (train.residual_stream fp32; the default, bf16, is `ours`)

    python bench/gpu_levers.py --tokens results/tokens/text_bpe/train.npy \
        --tokenizer results/tokenizers/text_bpe.json --out bench/results/h200

`--tiny` runs it all with a tiny model on a CPU: a check that the script works, not a
measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from gfm_limits.model import ModelConfig, build_model, flops_per_token  # noqa: E402
from gfm_limits.special_tokens import read as read_special_tokens  # noqa: E402
from gfm_limits.tokenizer import load  # noqa: E402
from gfm_limits.train import Stepper, TrainConfig, batch_order, device_batches  # noqa: E402

PAPER_90M = ModelConfig()
TINY = ModelConfig(hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128)
PEAK_BF16 = 989e12  # H100 / H200 SXM dense bf16 datasheet peak, FLOP/s
DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
KINDS = (("attention", ("flash", "fmha", "attention", "sdpa")),
         ("matrix products", ("gemm", "cutlass", "nvjet", "cublas", "sm90_xmma", "sm80_xmma", "ampere", "hopper")),
         ("optimizer", ("multi_tensor", "adam", "foreach")),
         ("triton (inductor-fused)", ("triton",)))


def sync():
    if DEV.type == "cuda":
        torch.cuda.synchronize()


def matmul_rates(cfg: ModelConfig, batch_tokens: int, repeats: int = 20) -> dict:
    """Measured bf16 FLOP/s: an 8192^3 product and the model's own products, best of `repeats`."""
    dtype = torch.bfloat16 if DEV.type == "cuda" else torch.float32
    h, f = cfg.hidden_size, cfg.intermediate_size
    shapes = {"8192^3": (8192, 8192, 8192) if DEV.type == "cuda" else (512, 512, 512),
              "qkv": (batch_tokens, h, 3 * h), "ffn_in": (batch_tokens, h, f), "ffn_out": (batch_tokens, f, h)}
    rates = {}
    for name, (m, k, n) in shapes.items():
        a, b = torch.randn(m, k, device=DEV, dtype=dtype), torch.randn(k, n, device=DEV, dtype=dtype)
        for _ in range(5):
            a @ b
        best = float("inf")
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            a @ b
            sync()
            best = min(best, time.perf_counter() - start)
        rates[name] = 2 * m * k * n / best
    return rates


def make_stepper(rows, tokenizer_path, cfg, batch_size, grad_accum, steps, train=None):
    ids, vocab = read_special_tokens(tokenizer_path), load(tokenizer_path).get_vocab_size()
    tcfg = TrainConfig(seed=1, batch_size=batch_size, grad_accum=grad_accum, tokens=steps * batch_size * rows.shape[1],
                       **(train or {}))
    model = build_model(cfg, vocab, ids.pad, seed=1).to(DEV)
    stepper = Stepper(model, tcfg, steps=steps, vocab_size=vocab, specials=ids, device=DEV, seq_len=rows.shape[1])
    return stepper, tcfg, vocab


def timed_training(rows, tokenizer_path, cfg, args, *, batch_size=None, grad_accum=1, train=None, keep=False):
    """tokens/s of the Stepper over args.steps after args.warmup (compilation included there)."""
    batch_size = batch_size or args.batch_size
    total = args.warmup + args.steps
    torch._dynamo.reset()  # noqa: SLF001  (every lever compiles afresh)
    if DEV.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    stepper, tcfg, vocab = make_stepper(rows, tokenizer_path, cfg, batch_size, grad_accum, total, train)
    order = batch_order(len(rows), batch_size, total, tcfg.data_seed)
    began = time.perf_counter()
    for step, batch in enumerate(device_batches(rows, order, DEV)):
        loss = stepper(batch)
        if step + 1 == args.warmup:
            loss.item()
            sync()
            warmup_s, start = time.perf_counter() - began, time.perf_counter()
    sync()
    seconds = time.perf_counter() - start
    tokens_per_s = args.steps * batch_size * rows.shape[1] / seconds
    flops = flops_per_token(cfg, vocab, rows.shape[1], tcfg.mask_prob) * tokens_per_s
    record = {"batch_size": batch_size, "grad_accum": grad_accum, "tokens_per_s": tokens_per_s, "tflops": flops / 1e12,
              "mfu": flops / PEAK_BF16, "step_ms": 1e3 * seconds / args.steps, "warmup_seconds": warmup_s,
              "last_loss": float(loss), "flops": flops,
              "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if DEV.type == "cuda" else 0.0}
    return (record, stepper) if keep else (record, None)


def profile(stepper, rows, steps: int = 3) -> dict:
    """GPU kernel time by kind over `steps` Stepper steps, and the longest kernels."""
    order = batch_order(len(rows), stepper.cfg.batch_size, steps, 7)
    batches = list(device_batches(rows, order, DEV))

    def run():
        for batch in batches:
            stepper(batch)

    return {"steps": steps, **kernel_times(run, steps)}


def kernel_times(run, per: int) -> dict:
    """torch.profiler over run(): GPU kernel time by kind and the 25 longest kernels, per `per`."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if DEV.type == "cuda" else [])
    sync()
    began = time.perf_counter()
    with torch_profile(activities=activities) as prof:
        run()
        sync()
    wall = time.perf_counter() - began
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA] if DEV.type == "cuda" \
        else [e for e in prof.events() if not e.cpu_children]
    time_of = (lambda e: e.device_time) if DEV.type == "cuda" else (lambda e: e.cpu_time)
    total = sum(time_of(e) for e in kernels) or 1.0
    by_kind, by_name = {}, {}
    for e in kernels:
        name = e.name.lower()
        kind = next((k for k, keys in KINDS if any(key in name for key in keys)), "other")
        by_kind[kind] = by_kind.get(kind, 0.0) + time_of(e)
        by_name[e.name] = by_name.get(e.name, 0.0) + time_of(e)
    top = sorted(by_name.items(), key=lambda kv: -kv[1])[:25]
    return {"kernel_ms_per_step": total / 1e3 / per, "wall_ms_per_step": 1e3 * wall / per,
            "share_by_kind": {k: v / total for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])},
            "top_kernels": [{"name": n[:160], "share": t / total, "ms_per_step": t / 1e3 / per} for n, t in top]}


def fisher_speed(model, eval_rows, tokenizer_path, n_rows: int, chunk: int) -> dict:
    """fisher_per_example by each row-gradient method on the same rows and chunk: hooks (one
    batched backward pass), vmap (torch.func's fallback loop around the fused attention kernel)
    and vmap_math; the speed-ups over vmap, the largest relative differences from vmap, and
    where each method's time goes per chunk."""
    from gfm_limits.fisher import METHODS, fisher_per_example

    mask_id = read_special_tokens(tokenizer_path).mask
    rng = np.random.default_rng(0)
    rows = eval_rows[:n_rows].astype(np.int64)
    specials = set(read_special_tokens(tokenizer_path).special)
    mask = (rng.random(rows.shape) < 0.15) & ~np.isin(rows, list(specials))
    out = {"rows": n_rows, "chunk": chunk, "seq_len": int(rows.shape[1]), "masked": int(mask.sum())}
    results = {}
    for method in METHODS:
        fisher_per_example(model, rows[:chunk], mask[:chunk], mask_id, chunk, DEV, method)  # warm-up
        sync()
        start = time.perf_counter()
        results[method] = fisher_per_example(model, rows, mask, mask_id, chunk, DEV, method)
        sync()
        out[f"{method}_seconds"] = time.perf_counter() - start
    for method in METHODS:
        out[f"{method}_speedup_over_vmap"] = out["vmap_seconds"] / out[f"{method}_seconds"]
        a, b = results[method][2], results["vmap"][2]  # (R, G) per-row group contributions
        out[f"{method}_max_rel_diff_per_row_groups"] = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-30)))
        out[f"{method}_max_rel_diff_group_fisher"] = max(abs(x["fisher"] - y["fisher"]) / abs(y["fisher"])
                                                         for x, y in zip(results[method][0], results["vmap"][0]))
    for method in ("hooks", "vmap"):  # per chunk of rows: kernel time against wall time, by kind
        out[f"profile_{method}"] = kernel_times(
            lambda m=method: fisher_per_example(model, rows, mask, mask_id, chunk, DEV, m), len(rows) // chunk)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", required=True, help="packed rows (R, 512) uint16 from the encode rule")
    parser.add_argument("--eval-tokens", help="held-out rows for the Fisher (default: the last rows of --tokens)")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--fisher-rows", type=int, default=32)
    parser.add_argument("--fisher-chunk", type=int, default=8)
    parser.add_argument("--parts", default="matmul,ours,profile,fisher,grad_accum,batch128,cudagraphs,coordinate,"
                        "flash_attention,efficient_attention,max_autotune,fp32_stream")
    parser.add_argument("--tiny", action="store_true", help="a tiny model, for a smoke run on a CPU")
    args = parser.parse_args()
    cfg = TINY if args.tiny else PAPER_90M
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = np.load(args.tokens)
    eval_rows = np.load(args.eval_tokens) if args.eval_tokens else rows[-args.fisher_rows:]
    parts = args.parts.split(",")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    result = {"gpu": torch.cuda.get_device_name() if DEV.type == "cuda" else "cpu", "torch": torch.__version__,
              "peak_bf16_flops": PEAK_BF16, "model": cfg.__dict__, "batch_size": args.batch_size,
              "seq_len": int(rows.shape[1]), "warmup_steps": args.warmup, "timed_steps": args.steps, "levers": {}}

    def save(what):
        (out / "gpu_levers.json").write_text(json.dumps(result, indent=1) + "\n")
        print(what, json.dumps(result.get(what, result["levers"].get(what)))[:1500], flush=True)

    if "matmul" in parts:
        result["matmul"] = matmul_rates(cfg, args.batch_size * rows.shape[1])
        save("matmul")
    stepper = None
    if "ours" in parts:
        result["ours"], stepper = timed_training(rows, args.tokenizer, cfg, args, keep=True)
        if "matmul" in result:
            result["ours"]["vs_measured"] = {k: result["ours"]["flops"] / v for k, v in result["matmul"].items()}
        save("ours")
    if "profile" in parts and stepper is not None:
        result["profile"] = profile(stepper, rows)
        save("profile")
    if "fisher" in parts and stepper is not None:
        result["fisher"] = fisher_speed(stepper.model, eval_rows, args.tokenizer, args.fisher_rows, args.fisher_chunk)
        save("fisher")
    del stepper
    import torch._inductor.config as inductor
    from torch.nn.attention import SDPBackend, sdpa_kernel

    levers = {"grad_accum": {"batch_size": 2 * args.batch_size, "grad_accum": 2},
              "batch128": {"batch_size": 2 * args.batch_size},
              "cudagraphs": {"inductor": {"triton.cudagraphs": True}},
              "coordinate": {"inductor": {"coordinate_descent_tuning": True}},
              "flash_attention": {"sdpa": "FLASH_ATTENTION"}, "efficient_attention": {"sdpa": "EFFICIENT_ATTENTION"},
              "max_autotune": {"inductor": {"max_autotune": True}},
              "fp32_stream": {"train": {"residual_stream": "fp32"}}}
    for name, lever in levers.items():
        if name not in parts:
            continue
        settings = lever.get("inductor", {})
        backend = (sdpa_kernel(getattr(SDPBackend, lever["sdpa"])) if "sdpa" in lever  # instead of cuDNN's
                   else contextlib.nullcontext())
        try:
            with inductor.patch(settings), backend:
                record, _ = timed_training(rows, args.tokenizer, cfg, args, batch_size=lever.get("batch_size"),
                                           grad_accum=lever.get("grad_accum", 1), train=lever.get("train"))
        except Exception as error:  # a lever that fails is recorded, not fatal
            record = {"error": f"{type(error).__name__}: {error}"[:500]}
        if "ours" in result and "tokens_per_s" in record:
            record["vs_ours"] = record["tokens_per_s"] / result["ours"]["tokens_per_s"]
        result["levers"][name] = {**lever, **record}
        save(name)


if __name__ == "__main__":
    main()

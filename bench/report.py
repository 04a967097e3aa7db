"""Turn the benchmark JSON (train_speed.py, extract_speed.py, and gpu_levers.py where it ran) into
BENCH.md and loss_curves.png.

    python bench/report.py bench/results
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAMES = {"paper": "(a) paper: HF Trainer, fp32", "hf_bf16": "(b) HF Trainer, SDPA + bf16 autocast + fused AdamW",
         "ours": "(c) this pipeline (train rule's Stepper)"}


def train_table(result: dict) -> str:
    by = {s["setup"]: s for s in result["setups"]}
    lines = ["| setup | tokens/s | vs (a) | vs (b) | MFU | TFLOP/s | peak memory | GPU busy |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in by.items():
        busy = f"{s['gpu_busy_percent']:.0f}%" if s["gpu_busy_percent"] is not None else "n/a"
        lines.append(f"| {NAMES[name]} | {s['tokens_per_s']:,.0f} "
                     f"| {s['tokens_per_s'] / by['paper']['tokens_per_s']:.2f}x "
                     f"| {s['tokens_per_s'] / by['hf_bf16']['tokens_per_s']:.2f}x | {100 * s['mfu']:.1f}% "
                     f"| {s['tflops']:.0f} | {s['peak_mem_gib']:.1f} GiB | {busy} |")
    return "\n".join(lines)


def numerics(result: dict) -> str:
    eq, cu = result["loss_equality"], result["loss_curves"]
    return (f"- fp32 masked-LM loss, same weights and masked batch: HF {eq['hf_fp32']:.6f}, ours "
            f"{eq['ours_fp32']:.6f} (eager), {eq['ours_fp32_compiled']:.6f} (compiled); largest difference "
            f"{max(eq['abs_diff'], eq['abs_diff_compiled']):.2e} (target < 1e-3).\n"
            f"- bf16 loss curves over {cu['steps']} steps (lr {cu['lr']:g}) from the same initial weights, batches "
            f"and masks, ours vs an HF BertForMaskedLM loop: mean of the last 50 steps {cu['last50_mean'][0]:.4f} vs "
            f"{cu['last50_mean'][1]:.4f} nats; largest gap between 20-step means {cu['max_gap_20step_mean']:.4f} "
            f"nats (mean gap {cu['mean_gap_20step_mean']:.4f}).")


def extract_table(result: dict) -> str:
    paper, ours = sum(result["paper_seconds"]), sum(result["ours_seconds"])
    b, f = result["numerics_bf16"], result["numerics_fp32"]
    return "\n".join([
        "| way | seconds for all members | per member | speed-up |", "|---|---:|---:|---:|",
        f"| paper (HF fp32, full logits) | {paper:.1f} | {paper / result['members']:.1f} | 1.00x |",
        f"| ours (extract rule, bf16 encoder) | {ours:.1f} | {ours / result['members']:.1f} | {paper / ours:.2f}x |",
        "",
        f"Against the paper's fp32 on the same member: entropy of the predictive distributions differs by at most "
        f"{b['max_abs_entropy_diff_bits']:.1e} bits with `precision: bf16` "
        f"(mean {b['mean_abs_entropy_diff_bits']:.1e}) "
        f"and {f['max_abs_entropy_diff_bits']:.1e} with `precision: fp32`; a Fisher group's share of the total by at "
        f"most {b['max_abs_fisher_share_diff']:.1e} (bf16) and {f['max_abs_fisher_share_diff']:.1e} (fp32)."])


LEVERS = {"grad_accum": "grad_accum 2 at batch 128 (one optimizer step per 2 micro-batches of 64)",
          "batch128": "batch 128 in one pass", "cudagraphs": "CUDA graphs (inductor triton.cudagraphs)",
          "coordinate": "inductor coordinate descent tuning",
          "flash_attention": "flash attention backend (not cuDNN's)",
          "efficient_attention": "memory-efficient attention backend", "max_autotune": "inductor max_autotune",
          "fp32_stream": "the residual stream in fp32, as autocast leaves it (train.residual_stream fp32; (c) is bf16)"}


def levers_section(levers: dict, train: dict) -> str:
    """Measured matrix rates, the profile, each lever and the per-example Fisher (gpu_levers.json)."""
    ours, peak = levers["ours"], levers["peak_bf16_flops"]
    hf = next((s for s in train["setups"] if s["setup"] == "hf_bf16"), None)
    rates = levers.get("matmul", {})
    lines = ["## Where the training step's time goes, and the levers (bench/gpu_levers.py, one run)", "",
             f"Batch {levers['batch_size']} x {levers['seq_len']}, {levers['timed_steps']} timed steps after "
             f"{levers['warmup_steps']}; each lever recompiled and timed against (c) of this run.", ""]
    if rates:
        lines += ["| bf16 matrix product | measured TFLOP/s | of the datasheet peak | (c)'s model FLOP/s, as a share |",
                  "|---|---:|---:|---:|"]
        for name, rate in rates.items():
            lines.append(f"| {name} | {rate / 1e12:.0f} | {rate / peak:.0%} | {ours['flops'] / rate:.1%} |")
        lines.append("")
    vs_b = (f"; {ours['tokens_per_s'] / hf['tokens_per_s']:.2f}x (b) of the run above" if hf else "")
    lines += [f"(c) in this run: {ours['tokens_per_s']:,.0f} tokens/s, {ours['tflops']:.0f} TFLOP/s, "
              f"{ours['mfu']:.1%} MFU against the datasheet's {peak / 1e12:.0f} TFLOP/s{vs_b}.", ""]
    if "profile" in levers:
        prof = levers["profile"]
        lines += [f"GPU kernel time, torch.profiler over {prof['steps']} steps of (c): "
                  f"{prof['kernel_ms_per_step']:.1f} ms per step.", "",
                  "| kind | share | ms per step |", "|---|---:|---:|"]
        for kind, share in prof["share_by_kind"].items():
            lines.append(f"| {kind} | {share:.1%} | {share * prof['kernel_ms_per_step']:.1f} |")
        lines += ["", "| longest kernels | share | ms per step |", "|---|---:|---:|"]
        for k in prof["top_kernels"][:10]:
            lines.append(f"| `{k['name'][:90]}` | {k['share']:.1%} | {k['ms_per_step']:.2f} |")
        lines.append("")
    lines += ["| lever | tokens/s | vs (c) | MFU | peak memory |", "|---|---:|---:|---:|---:|"]
    for name, label in LEVERS.items():
        lever = levers["levers"].get(name)
        if lever is None:
            lines.append(f"| {label} | not measured | | | |")
        elif "error" in lever:
            lines.append(f"| {label} | failed: {lever['error'][:80]} | | | |")
        else:
            lines.append(f"| {label} | {lever['tokens_per_s']:,.0f} | {lever['vs_ours']:.3f}x | {lever['mfu']:.1%} "
                         f"| {lever['peak_mem_gib']:.1f} GiB |")
    if any(name not in levers["levers"] for name in LEVERS):
        lines += ["", "Not measured: levers left out of this record's run (its --parts) or that it did not reach "
                  "(bench/gpu_levers.py saves after each "
                  "part, so a run cut short keeps the parts it finished)."]
    if "fisher" in levers:
        f = levers["fisher"]
        lines += ["", f"Per-example Fisher (fisher.fisher_per_example, fp32, TF32 matrix products) of the same model, "
                  f"{f['rows']} held-out rows of {f['seq_len']} tokens, {f['chunk']} rows per chunk, by each method "
                  "of fisher.row_gradients:", "",
                  "| method | seconds | vs vmap | largest relative difference from vmap (per-row group parts) |",
                  "|---|---:|---:|---:|"]
        labels = {"hooks": "hooks: one batched backward pass (the default)",
                  "vmap": "vmap: torch.func, its loop over rows around the fused attention",
                  "vmap_math": "vmap_math: torch.func, attention by the math backend"}
        for method, label in labels.items():
            lines.append(f"| {label} | {f[f'{method}_seconds']:.3f} | {f[f'{method}_speedup_over_vmap']:.2f}x "
                         f"| {f[f'{method}_max_rel_diff_per_row_groups']:.1e} |")
        for method in ("hooks", "vmap"):
            prof = f[f"profile_{method}"]
            lines += ["", f"{method}, under torch.profiler: {prof['kernel_ms_per_step']:.1f} ms of GPU kernels per "
                      f"chunk in {prof['wall_ms_per_step']:.1f} ms of wall time; "
                      + ", ".join(f"{k} {v:.0%}" for k, v in prof["share_by_kind"].items()) + "."]
    return "\n".join(lines) + "\n"


def curves_png(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cu = result["loss_curves"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(cu["hf_bf16"], label="HF BertForMaskedLM, bf16", lw=1.5)
    ax.plot(cu["ours"], label="this pipeline, bf16", lw=1, ls="--")
    ax.set(xlabel="step", ylabel="masked-LM loss (nats)", title=f"Same init, batches and masks ({result['gpu']})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main(folder: str) -> None:
    folder = Path(folder)
    train = json.loads((folder / "train_speed.json").read_text())
    extract = json.loads((folder / "extract_speed.json").read_text())
    m = train["model"]
    text = [f"# Benchmarks on {train['gpu']}", "",
            f"torch {train['torch']}, transformers {train['transformers']}. Model: the paper's BERT "
            f"({m['num_layers']} layers, hidden {m['hidden_size']}, {m['num_heads']} heads, FFN "
            f"{m['intermediate_size']}, dropout {m['dropout']}, vocabulary 4096), batch {train['batch_size']} x "
            f"{train['seq_len']} tokens of real English Wikipedia (the gpu.yaml text_bpe rows). "
            f"Timed over {train['timed_steps']} steps ((a): fewer, it is slow) "
            f"after {train['warmup_steps']} warm-up steps.",
            "", "## Training", "", train_table(train), "",
            f"MFU = {train['setups'][0]['flops_per_token'] / 1e6:.0f} MFLOP per token (6 x encoder matmul weights + "
            f"12 x layers x T x H for attention + 6 x 0.15 x MLM head weights, the same count for every setup) x "
            f"tokens/s / {train['peak_bf16_flops'] / 1e12:.0f} TFLOP/s (H100 and H200 SXM dense bf16). "
            f"GPU busy: mean NVML utilisation over the timed steps.", "", "## Numerics", "", numerics(train), "",
            "![loss curves](loss_curves.png)", "",
            f"## Extraction: {extract['members']} members x {extract['n_sequences']} held-out rows of "
            f"{extract['seq_len']} tokens", "",
            f"{extract['positions']['predict']:,} masked positions for the predictive distributions "
            "(written to disk), "
            f"{extract['positions']['fisher']:,} for the Fisher, batch {extract['batch_size']}; "
            "each member read from its model folder.", "", extract_table(extract), ""]
    if (folder / "gpu_levers.json").exists():
        text.append(levers_section(json.loads((folder / "gpu_levers.json").read_text()), train))
    (folder / "BENCH.md").write_text("\n".join(text))
    curves_png(train, folder / "loss_curves.png")


if __name__ == "__main__":
    main(sys.argv[1])

"""Print the README's result tables (markdown) from a run's summary.tsv and findings.tsv.

    python docs/tables.py results/stats   # context use, the findings, the recipe probes
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def context_table(summary: pd.DataFrame) -> str:
    rows = ["| condition | members | held-out CE | unigram CE | gain over unigram [95% CI] | best baseline "
            "| CE - best baseline [95% CI] | uses context |",
            "|---|---:|---:|---:|---:|---|---:|---|"]
    for _, r in summary.iterrows():
        rows.append(
            f"| {r.condition} | {r.members} | {r.cross_entropy_bits_mean:.2f} "
            f"| {r.unigram_cross_entropy_bits_mean:.2f} "
            f"| **{r.context_gain_bits_mean:+.2f}** "
            f"[{r.context_gain_bits_ci_low:+.2f}, {r.context_gain_bits_ci_high:+.2f}] "
            f"| {r.best_baseline} | {r.ce_minus_best_baseline_bits:+.2f}{_interval(r, 'ce_minus_best_baseline_bits')} "
            f"| {'yes' if r.uses_context else 'no'} |")
    return "\n".join(rows)


def _interval(row: pd.Series, name: str) -> str:
    """ ' [low, high]' where the run's summary has the interval (runs before it had none)."""
    if f"{name}_ci_low" not in row:
        return ""
    return f" [{row[f'{name}_ci_low']:+.2f}, {row[f'{name}_ci_high']:+.2f}]"


def members_line(outputs: dict[str, pd.DataFrame]) -> str:
    parts = []
    for condition, df in outputs.items():
        gains = (df["unigram_cross_entropy_bits"] - df["cross_entropy_bits"]).round(2)
        parts.append(f"{condition} {', '.join(f'{g:+.2f}' for g in gains)}")
    return "; ".join(parts)


def findings_table(findings: pd.DataFrame) -> str:
    """One row per (finding, statistic, definition), one column per DNA condition: DNA - text with
    its interval and the verdict (a text condition per table: the first one compared)."""
    dna = list(dict.fromkeys(findings["dna"]))
    findings = findings[findings["text"] == findings["text"].iloc[0]]
    rows = ["| finding | statistic (definition) | " + " | ".join(f"{d} - {findings['text'].iloc[0]} [95% CI]"
                                                               for d in dna) + " |",
            "|---|---|" + "---:|" * len(dna)]
    keys = ["finding", "statistic", "definition"] if "definition" in findings else ["finding", "statistic"]
    for key, group in findings.groupby(keys, sort=False):
        by = {r.dna: f"{r.difference:+.3g} [{r.ci_low:+.3g}, {r.ci_high:+.3g}] {r.verdict}"
              for r in group.itertuples()}
        name = f"{key[1]} ({key[2]})" if len(key) == 3 else key[1]
        rows.append(f"| {key[0]} | {name} | " + " | ".join(by.get(d, "") for d in dna) + " |")
    return "\n".join(rows)


PROBES = {  # label -> variant of bench/grids/cpu_on_gpu*.yaml (text, hidden 128, 2 layers, rows of 64 x 32)
    "lr 4e-3": "h128_b64_lr4e-3", "lr 2e-3": "h128_b64_lr2e-3", "lr 1e-3": "h128_b64_lr1e-3",
    "lr 5e-4": "b64_lr5e-4", "lr 3e-4": "b64_lr3e-4", "lr 1e-3, warm-up 2%": "b64_lr1e-3_warmup0.02",
    "lr 1e-3, FFN 256": "b64_lr1e-3_ffn256", "lr 1e-3, init 0.1": "b64_lr1e-3_init0.1",
    "lr 2e-3, init 0.1": "h128_b64_lr2e-3_init0.1", "lr 7e-4, init 0.05": "b64_lr7e-4_init0.05",
    "hidden 96, lr 1e-3": "h96_b64_lr1e-3", "hidden 64, lr 4e-3": "h64_b64_lr4e-3",
    "1 layer, lr 3e-3": "h128_L1_b64_lr3e-3", "rows of 32 x 32, lr 2e-3": "h128_b32_lr2e-3",
    "rows of 32 x 64, lr 2e-3": "h128_T64_b32_lr2e-3", "BPE 256, rows of 32 x 32, lr 2e-3": "h128_v256_b32_lr2e-3",
    "lr 1e-3, 6,000-step schedule": "b64_lr1e-3_6000steps",
}


def probe_table(paths: list[str], steps=(1500, 2500, 4000)) -> str:
    """The probe's text gain (unigram - held-out CE, bits per token) at chosen steps, per variant."""
    gains = pd.concat([pd.read_csv(p, sep="\t") for p in paths]).pivot_table(
        index="variant", columns="step", values="gain_bits")
    rows = ["| variant (4,000-step schedule) | " + " | ".join(f"step {s:,}" for s in steps) + " |",
            "|---|" + "---:|" * len(steps)]
    for label, variant in PROBES.items():
        rows.append(f"| {label} | " + " | ".join(f"{gains.loc[variant, s]:+.2f}" for s in steps) + " |")
    return "\n".join(rows)


def main(stats_dir: str) -> None:
    stats = Path(stats_dir)
    summary = pd.read_csv(stats / "summary.tsv", sep="\t")
    print(context_table(summary), end="\n\n")
    outputs = {c: pd.read_csv(stats / c / "outputs.tsv", sep="\t") for c in summary["condition"]}
    print("Gain per member:", members_line(outputs), end="\n\n")
    print(findings_table(pd.read_csv(stats / "findings.tsv", sep="\t")), end="\n\n")
    probes = sorted(str(p) for p in Path(__file__).parent.glob("results/gpu/probe_cpu_on_gpu*.tsv"))
    print(probe_table(probes))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/stats")

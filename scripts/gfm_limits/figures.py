"""The paper's figures, drawn with seaborn from the tidy stats tables.

- output_distribution: the sorted output distribution averaged over masked
  positions and members (paper: Figure "averaged sorted probabilities"), with
  the uniform distribution for reference;
- js_top_p: Jensen-Shannon distance between members against the top-p mass;
- fisher_shares: the Fisher share of embeddings, transformer layers and head,
  and per layer;
- embedding_consistency: top-k nearest-neighbour Jaccard overlap against k;
- training_curves: masked-LM loss against training tokens, every member.
Bands and error bars are the standard deviation over pairs or members.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gfm_limits.layout import FIGURES  # noqa: F401 (re-exported)


def _load(stat_dirs: dict[str, str], table: str) -> pd.DataFrame:
    frames = [pd.read_csv(Path(d) / f"{table}.tsv", sep="\t").assign(condition=c) for c, d in stat_dirs.items()]
    return pd.concat(frames, ignore_index=True)


def _save(fig, out_dir: Path, name: str) -> None:
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"{name}.{ext}", dpi=150, bbox_inches="tight")


def plot_output_distribution(stat_dirs, ax) -> None:
    import seaborn as sns

    df = _load(stat_dirs, "sorted_probs")
    sns.lineplot(data=df, x="rank", y="probability", hue="condition", hue_order=list(stat_dirs), ax=ax)
    for vocab_size in df.groupby("condition").size().unique():
        ax.axhline(1.0 / vocab_size, ls=":", lw=1, color="grey")
    ax.set(xscale="log", yscale="log", xlabel="rank of token (sorted by probability)",
           ylabel="mean probability", title="Averaged sorted output distribution (dotted: uniform)")


def plot_js(stat_dirs, ax) -> None:
    import seaborn as sns

    df = _load(stat_dirs, "js")
    sns.lineplot(data=df, x="top_p", y="js_distance", hue="condition", hue_order=list(stat_dirs), marker="o",
                 errorbar="sd", ax=ax)
    ax.set(xlabel="top-p mass kept", ylabel="Jensen-Shannon distance (bits)", ylim=(0, 1),
           title="Disagreement between members")


def plot_fisher(stat_dirs, axes) -> None:
    import seaborn as sns

    from gfm_limits.stats import fisher_shares

    df = _load(stat_dirs, "fisher")
    parts = pd.concat([fisher_shares(sub).reset_index().assign(condition=c) for c, sub in df.groupby("condition")])
    long = parts.melt(id_vars=["condition", "seed"], value_vars=["embeddings", "transformer", "head"],
                      var_name="part", value_name="share")
    sns.barplot(data=long, x="part", y="share", hue="condition", hue_order=list(stat_dirs), errorbar="sd", ax=axes[0])
    axes[0].set(ylabel="share of total Fisher", ylim=(0, 1), title="Fisher information by part")
    order = list(dict.fromkeys(df["group"]))
    sns.pointplot(data=df, x="group", y="share", hue="condition", hue_order=list(stat_dirs), order=order,
                  errorbar="sd", ax=axes[1])
    axes[1].set(xlabel="", ylabel="share of total Fisher", yscale="log", title="Per group")
    axes[1].tick_params(axis="x", rotation=45)


def plot_embeddings(stat_dirs, ax) -> None:
    import seaborn as sns

    df = _load(stat_dirs, "topk")
    sns.lineplot(data=df, x="k", y="jaccard", hue="condition", hue_order=list(stat_dirs), marker="o", errorbar="sd",
                 ax=ax)
    ax.set(xscale="log", xlabel="k nearest neighbours", ylabel="Jaccard overlap between members", ylim=(0, 1),
           title="Static embedding consistency")


def plot_curves(curves: dict[tuple[str, int], str], ax) -> None:
    import seaborn as sns

    df = pd.concat([pd.read_csv(p, sep="\t").assign(condition=c, seed=s) for (c, s), p in curves.items()])
    sns.lineplot(data=df, x="tokens", y="loss", hue="condition", hue_order=list(dict.fromkeys(c for c, _ in curves)),
                 units="seed", estimator=None, lw=0.8, ax=ax)
    ax.set(xlabel="training tokens", ylabel="masked-LM loss (nats)", title="Training curves (every member)")


def plot_all(stat_dirs: dict[str, str], curves: dict[tuple[str, int], str], out_dir) -> None:
    """Write every figure in FIGURES as PNG and PDF into out_dir."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    single = {"output_distribution": plot_output_distribution, "js_top_p": plot_js,
              "embedding_consistency": plot_embeddings}
    for name, plot in single.items():
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        plot(stat_dirs, ax)
        _save(fig, out_dir, name)
        plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    plot_fisher(stat_dirs, axes)
    _save(fig, out_dir, "fisher_shares")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    plot_curves(curves, ax)
    _save(fig, out_dir, "training_curves")
    plt.close(fig)

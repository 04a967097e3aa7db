"""The paper's figures, drawn with seaborn from the tidy stats tables.

- output_distribution: the sorted output distribution averaged over masked
  positions and members (paper: Figure "averaged sorted probabilities"), with
  the uniform distribution for reference;
- js_top_p: Jensen-Shannon distance between members against the top-p mass;
- fisher_shares: the Fisher share of embeddings, transformer layers and head,
  and per layer;
- embedding_consistency: top-k nearest-neighbour Jaccard overlap against k;
- training_curves: masked-LM loss against training tokens, every member;
- confidence: every headline statistic per condition with its Multi-Bootstrap
  interval (ci.tsv);
- findings: each finding's DNA - text difference with its interval, marked by
  whether it holds (findings.tsv);
- frequency_bands: cross-entropy, JS distance and top-k overlap by the training
  frequency band of the token (bands.tsv);
- cka: linear and RBF CKA between members, static and contextual (ci.tsv);
- baselines: each model's cross-entropy per character beside the Markov and
  xz baselines of its corpus (baselines.py).
Bands and error bars of the paper's figures are the standard deviation over
pairs or members; the new figures show the bootstrap intervals.
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

    if not curves:
        ax.text(0.5, 0.5, "every condition analyses checkpoints trained elsewhere", ha="center", va="center")
        ax.set_axis_off()
        return
    df = pd.concat([pd.read_csv(p, sep="\t").assign(condition=c, seed=s) for (c, s), p in curves.items()])
    sns.lineplot(data=df, x="tokens", y="loss", hue="condition", hue_order=list(dict.fromkeys(c for c, _ in curves)),
                 units="seed", estimator=None, lw=0.8, ax=ax)
    ax.set(xlabel="training tokens", ylabel="masked-LM loss (nats)", title="Training curves (every member)")


HEADLINE = ("kl_uniform_bits", "cross_entropy_bits", "accuracy", "js", "disagreement", "jaccard", "spearman",
            "procrustes", "fisher_share_embeddings", "fisher_pe_share_embeddings", "fisher_pe_word_decoder_part",
            "cka_static_linear", "cka_contextual_linear")


def _errorbars(ax, df: pd.DataFrame, order: list[str]) -> None:
    """Horizontal estimate and interval per row of df (estimate, ci_low, ci_high), one y per label."""
    y = range(len(order))
    df = df.set_index("label").reindex(order)
    # the interval as a line (a percentile interval need not contain the estimate), the estimate as a dot
    ax.hlines(list(y), df["ci_low"], df["ci_high"], lw=2)
    ax.plot(df["estimate"], list(y), "o", color="C0")
    ax.set_yticks(list(y), order)
    ax.invert_yaxis()


def _panels(fig, n: int, cols: int = 4) -> list:
    """n axes in rows of `cols`; the grid's spare axes hidden."""
    axes = fig.subplots((n + cols - 1) // cols, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def plot_confidence(stat_dirs, fig) -> None:
    ci = _load(stat_dirs, "ci").rename(columns={"condition": "label"})
    present = list(dict.fromkeys(ci["statistic"]))
    names = [n for stem in HEADLINE for n in present if n == stem or n.startswith((f"{stem}_p", f"{stem}_k"))]
    for ax, name in zip(_panels(fig, len(names)), names):
        _errorbars(ax, ci[ci["statistic"] == name], list(stat_dirs))
        ax.set_title(name, fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
    level = float(ci["level"].iloc[0])
    fig.suptitle(f"Headline statistics with {level:.0%} Multi-Bootstrap intervals (members and examples resampled)")


def plot_findings(findings_path, fig) -> None:
    """One panel per statistic: each DNA - text difference with its interval, green where the
    finding holds at the table's level, red where it does not."""
    df = pd.read_csv(findings_path, sep="\t")
    if df.empty:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no DNA and text conditions of the same model to compare", ha="center", va="center")
        ax.set_axis_off()
        return
    df["label"] = df["dna"] + " - " + df["text"]
    stats = list(dict.fromkeys(df["statistic"]))
    for ax, stat in zip(_panels(fig, len(stats)), stats):
        sub = df[df["statistic"] == stat].reset_index(drop=True)
        colour = sub["holds"].map({True: "C2", False: "C3"})
        ax.hlines(sub.index, sub["ci_low"], sub["ci_high"], color=colour, lw=2)
        ax.scatter(sub["difference"], sub.index, color=colour, zorder=3)
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(sub.index, sub["label"], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{stat} ({sub['claim'].iloc[0]})\n{sub['finding'].iloc[0]}", fontsize=8)
    fig.suptitle(f"The paper's findings, DNA - text with {float(df['level'].iloc[0]):.0%} intervals: "
                 "green holds, red does not")


def plot_bands(stat_dirs, axes) -> None:
    import seaborn as sns

    df = _load(stat_dirs, "bands")
    panels = ["cross_entropy_bits", next(s for s in df["statistic"].unique() if s.startswith("js_p")),
              next(s for s in df["statistic"].unique() if s.startswith("jaccard_k"))]
    for ax, name in zip(axes, panels):
        sns.pointplot(data=df[df["statistic"] == name], x="band", y="value", hue="condition",
                      hue_order=list(stat_dirs), errorbar="sd", dodge=0.3, ax=ax)
        ax.set(xlabel="training-frequency band (0 = most frequent types)", ylabel=name, title=name)
    for ax in axes[1:]:
        ax.get_legend().remove()


def plot_cka(stat_dirs, ax) -> None:
    ci = _load(stat_dirs, "ci")
    ci = ci[ci["statistic"].str.startswith("cka_")]
    order = sorted(ci["statistic"].unique())
    width = 0.8 / len(stat_dirs)
    for i, condition in enumerate(stat_dirs):
        sub = ci[ci["condition"] == condition].set_index("statistic").reindex(order)
        x = [j + (i - (len(stat_dirs) - 1) / 2) * width for j in range(len(order))]
        ax.bar(x, sub["estimate"], width, label=condition, color=f"C{i}")
        ax.vlines(x, sub["ci_low"], sub["ci_high"], color="black", lw=1.5)
    ax.set_xticks(range(len(order)), [o.removeprefix("cka_").replace("_", "\n") for o in order])
    ax.set(ylim=(0, 1), ylabel="CKA between members", title="Representational similarity between members (CKA)")
    ax.legend(fontsize=7)


def plot_baselines(stat_dirs, baselines: dict[str, str], ax) -> None:
    """Per condition, on one bits-per-character axis: the Markov models over tokens and over
    characters (orders as labels), xz, and the model's own cross-entropy with its interval."""
    ci = _load(stat_dirs, "ci")
    ce = ci[ci["statistic"] == "cross_entropy_bits"].set_index("condition")
    for y, condition in enumerate(stat_dirs):
        df = pd.read_csv(baselines[condition], sep="\t")
        df = df[df["baseline"] != "unigram_entropy"]
        per_char = float(df.loc[df["unit"] == "token", "chars_per_symbol"].iloc[0])
        none = float(df.loc[(df["unit"] == "token") & (df["baseline"] == "markov0"), "bits_per_char"].iloc[0])
        ax.hlines(y, df["bits_per_char"].min(), none, color="lightgrey", lw=8, zorder=0)
        for unit, marker, colour, dy in (("token", "o", "C0", -0.15), ("char", "s", "C1", 0.15)):
            sub = df[(df["unit"] == unit) & df["baseline"].str.startswith("markov")]
            ax.plot(sub["bits_per_char"], [y + dy] * len(sub), marker, color=colour, ms=5,
                    label=f"Markov over {unit}s (order)" if y == 0 else None)
            for value, order in zip(sub["bits_per_char"], sub["order"]):
                ax.annotate(f"{int(order)}", (value, y + dy), textcoords="offset points", xytext=(0, 4 if dy > 0 else -9),
                            ha="center", fontsize=6, color=colour)
        xz = df.loc[df["baseline"] == "xz", "bits_per_char"]
        ax.plot(xz, [y] * len(xz), "^", color="C2", ms=7, label="xz given the training text" if y == 0 else None)
        row = ce.loc[condition]
        ax.hlines(y, row["ci_low"] / per_char, row["ci_high"] / per_char, color="C3", lw=2)
        ax.plot(row["estimate"] / per_char, y, "D", color="C3", ms=7, label="model (masked-token CE)" if y == 0 else None)
    ax.set_yticks(range(len(stat_dirs)), list(stat_dirs))
    ax.invert_yaxis()
    ax.set(xlabel="bits per character (base) of the held-out corpus",
           title="Each model between no context (token unigram, grey bar's right end) and the best baseline")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))


def plot_all(stat_dirs: dict[str, str], curves: dict[tuple[str, int], str], out_dir,
             findings_path=None, baselines: dict[str, str] | None = None) -> None:
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
    fig = plt.figure(figsize=(16, 10), layout="constrained")
    plot_confidence(stat_dirs, fig)
    _save(fig, out_dir, "confidence")
    plt.close(fig)
    if findings_path is not None:
        fig = plt.figure(figsize=(18, 7), layout="constrained")
        plot_findings(findings_path, fig)
        _save(fig, out_dir, "findings")
        plt.close(fig)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), layout="constrained")
    plot_bands(stat_dirs, axes)
    _save(fig, out_dir, "frequency_bands")
    plt.close(fig)
    if baselines:
        fig, ax = plt.subplots(figsize=(10, 1.5 + 0.8 * len(stat_dirs)), layout="constrained")
        plot_baselines(stat_dirs, baselines, ax)
        _save(fig, out_dir, "baselines")
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    plot_cka(stat_dirs, ax)
    _save(fig, out_dir, "cka")
    plt.close(fig)

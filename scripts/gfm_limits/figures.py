"""The paper's figures, drawn with seaborn from the tidy stats tables.

- context (read it first): per condition, every member's held-out masked-token
  cross-entropy beside the unigram model of the training tokens (no context)
  and the best context baseline, and the gain over the unigram model with its
  Multi-Bootstrap interval against stats.min_context_bits: whether the models
  use context at all, without which no other figure says much;
- output_distribution: the sorted output distribution averaged over masked
  positions and members (paper: Figure "averaged sorted probabilities"), with
  the uniform distribution for reference;
- js_top_p: Jensen-Shannon distance between members against the top-p mass;
- fisher_shares: the Fisher share of embeddings, transformer layers and head,
  and per layer;
- embedding_consistency: top-k nearest-neighbour Jaccard overlap against k;
- training_curves: masked-LM loss against training tokens, every member;
- confidence: the headline statistics marked for it (headline.appearing_in)
  per condition with their Multi-Bootstrap intervals (ci.tsv), titled by name,
  label and unit from the registry;
- findings: each finding's DNA - text difference with its interval, marked by
  whether it holds, grey and hatched where it is not interpretable because the
  text models do not use context (findings.tsv);
- frequency_bands: cross-entropy, JS distance and top-k overlap by the training
  frequency band of the token (bands.tsv);
- cka: linear and RBF CKA between members, static, contextual and pooled (ci.tsv);
- geometry (beyond the paper): effective rank, anisotropy, uniformity and participation ratio of
  the hidden states at the masked positions against the layer (geometry.tsv): each member and
  the mean over members, per condition;
- repeats (beyond the paper): the context gain, KL from uniform, JS distance and argmax
  disagreement at repeat (soft-masked) and non-repeat target positions with their intervals
  and the paired difference (repeats_ci.tsv);
- baselines: each model's cross-entropy per character beside the Markov and
  xz baselines of its corpus (baselines.py);
- dynamics: the statistics against training tokens, at every snapshot and the
  final model of each member trained here (dynamics.tsv): where each model
  leaves the unigram plateau and when each finding appears.
Bands and error bars of the paper's figures are the standard deviation over
pairs or members; the new figures show the bootstrap intervals. A figure finds
a headline statistic's name in a table by headline.Statistic.finds, never by
building it.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from gfm_limits.headline import (
    BY_KEY,
    CONTEXT_GAIN,
    FISHER_PARTS,
    STATISTICS,
    appearing_in,
    fisher_shares,
    uses_context,
)
from gfm_limits.layout import (
    FIGURES,  # noqa: F401 (re-exported)
    REPEAT_DIFFERENCE,
)
from gfm_limits.stats import StatsConfig, context_position


def _load(stats_tables: dict[str, dict[str, str]], table: str) -> pd.DataFrame:
    """One table of every condition (stats_tables: condition -> table name -> path), with its condition."""
    frames = [pd.read_csv(paths[table], sep="\t").assign(condition=c) for c, paths in stats_tables.items()]
    return pd.concat(frames, ignore_index=True)


def _save(fig, outputs: dict[str, str], name: str) -> None:
    for ext in ("png", "pdf"):
        fig.savefig(outputs[f"{name}_{ext}"], dpi=150, bbox_inches="tight")


def plot_context(tables, baselines: dict[str, str] | None, min_context_bits: float, axes) -> None:
    """Left, bits per masked token: each member's held-out cross-entropy (dots), the unigram
    model of the training tokens (no context, bar) and the best baseline per token (triangle).
    Right: the gain over the unigram model with its interval (ci.tsv), green where the models
    use context, beside the best baseline's gain (grey bar: the headroom context offers)."""
    outputs = _load(tables, "outputs")
    ci = _load(tables, "ci")
    gain = ci[ci["statistic"] == CONTEXT_GAIN].set_index("condition")
    for y, condition in enumerate(tables):
        members = outputs[outputs["condition"] == condition]
        unigram = float(members["unigram_cross_entropy_bits"].mean())
        best = None
        if baselines:
            position = context_position(pd.read_csv(baselines[condition], sep="\t"),
                                        float(members["cross_entropy_bits"].mean()))
            best = position["bits_per_char_best_baseline"] * position["chars_per_token"]
            axes[0].hlines(y, best, unigram, color="lightgrey", lw=8, zorder=0)
            axes[0].plot(best, y, "^", color="C2", ms=8, label="best baseline per token" if y == 0 else None)
            axes[1].hlines(y, 0, unigram - best, color="lightgrey", lw=8, zorder=0,
                           label="best baseline's gain" if y == 0 else None)
        axes[0].plot(unigram, y, "|", color="black", ms=18, mew=2, label="unigram (no context)" if y == 0 else None)
        axes[0].plot(members["cross_entropy_bits"], [y] * len(members), "o", color="C0", alpha=0.7,
                     label="model, each member" if y == 0 else None)
        row = gain.loc[condition]
        used = uses_context(float(row["estimate"]), float(row["ci_low"]), min_context_bits)
        colour = "C2" if used else "C3"
        axes[1].hlines(y, row["ci_low"], row["ci_high"], color=colour, lw=2)
        axes[1].plot(row["estimate"], y, "D", color=colour, ms=7)
        axes[1].annotate("uses context" if used else "no context use", (row["estimate"], y), xytext=(0, 8),
                         textcoords="offset points", ha="center", fontsize=8, color=colour)
    axes[1].axvline(0, color="grey", lw=1)
    axes[1].axvline(min_context_bits, color="C2", ls="--", lw=1, label=f"min_context_bits = {min_context_bits:g}")
    for ax in axes:
        ax.set_yticks(range(len(tables)), list(tables))
        ax.invert_yaxis()
        ax.legend(fontsize=7, loc="best")
    level = float(ci["level"].iloc[0])
    axes[0].set(xlabel="held-out cross-entropy (bits per masked token)", title="Model against no context")
    axes[1].set(xlabel="unigram CE - model CE (bits per masked token)",
                title=f"Gain over unigram, {level:.0%} Multi-Bootstrap interval")


def plot_output_distribution(tables, ax) -> None:
    import seaborn as sns

    df = _load(tables, "sorted_probs")
    sns.lineplot(data=df, x="rank", y="probability", hue="condition", hue_order=list(tables), ax=ax)
    for vocab_size in df.groupby("condition").size().unique():
        ax.axhline(1.0 / vocab_size, ls=":", lw=1, color="grey")
    ax.set(xscale="log", yscale="log", xlabel="rank of token (sorted by probability)",
           ylabel="mean probability", title="Averaged sorted output distribution (dotted: uniform)")


def plot_js(tables, ax) -> None:
    import seaborn as sns

    df = _load(tables, "js")
    sns.lineplot(data=df, x="top_p", y="js_distance", hue="condition", hue_order=list(tables), marker="o",
                 errorbar="sd", ax=ax)
    ax.set(xlabel="top-p mass kept", ylabel="Jensen-Shannon distance (bits)", ylim=(0, 1),
           title="Disagreement between members")


def plot_fisher(tables, axes) -> None:
    import seaborn as sns

    df = _load(tables, "fisher")
    parts = pd.concat([fisher_shares(sub).reset_index().assign(condition=c) for c, sub in df.groupby("condition")])
    long = parts.melt(id_vars=["condition", "seed"], value_vars=list(FISHER_PARTS),
                      var_name="part", value_name="share")
    sns.barplot(data=long, x="part", y="share", hue="condition", hue_order=list(tables), errorbar="sd", ax=axes[0])
    axes[0].set(ylabel="share of total Fisher", ylim=(0, 1), title="Fisher information by part")
    order = list(dict.fromkeys(df["group"]))
    sns.pointplot(data=df, x="group", y="share", hue="condition", hue_order=list(tables), order=order,
                  errorbar="sd", ax=axes[1])
    axes[1].set(xlabel="", ylabel="share of total Fisher", yscale="log", title="Per group")
    axes[1].tick_params(axis="x", rotation=45)


def plot_embeddings(tables, ax) -> None:
    import seaborn as sns

    df = _load(tables, "topk")
    sns.lineplot(data=df, x="k", y="jaccard", hue="condition", hue_order=list(tables), marker="o", errorbar="sd",
                 ax=ax)
    ax.set(xscale="log", xlabel="k nearest neighbours", ylabel="Jaccard overlap between members", ylim=(0, 1),
           title="Static embedding consistency")


def plot_curves(curves: dict[tuple[str, int], str], ax) -> None:
    import seaborn as sns

    if not curves:
        ax.text(0.5, 0.5, "every condition analyses imported models, trained elsewhere", ha="center", va="center")
        ax.set_axis_off()
        return
    df = pd.concat([pd.read_csv(p, sep="\t").assign(condition=c, seed=s) for (c, s), p in curves.items()])
    sns.lineplot(data=df, x="tokens", y="loss", hue="condition", hue_order=list(dict.fromkeys(c for c, _ in curves)),
                 units="seed", estimator=None, lw=0.8, ax=ax)
    ax.set(xlabel="training tokens", ylabel="masked-LM loss (nats)", title="Training curves (every member)")


def _present(statistics, names) -> list[tuple]:
    """(statistic, its name) for each of statistics whose name is among names (a table's column)."""
    names = list(dict.fromkeys(names))
    return [(stat, name) for stat in statistics if (name := stat.finds(names)) is not None]


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


def plot_confidence(tables, fig) -> None:
    """One panel per statistic of headline.appearing_in("confidence") in ci.tsv: each condition's
    estimate (dot) and interval (line)."""
    ci = _load(tables, "ci").rename(columns={"condition": "label"})
    panels = _present(appearing_in("confidence"), ci["statistic"])
    for ax, (stat, name) in zip(_panels(fig, len(panels)), panels):
        _errorbars(ax, ci[ci["statistic"] == name], list(tables))
        ax.set_title(f"{name}\n{stat.label}", fontsize=9)
        ax.set_xlabel(stat.unit, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    level = float(ci["level"].iloc[0])
    fig.suptitle(f"Headline statistics with {level:.0%} Multi-Bootstrap intervals (members and held-out rows "
                 "resampled)")


def plot_findings(findings_path, fig) -> None:
    """One panel per statistic: each DNA - text difference with its interval, green where the
    finding holds at the table's level, red where it does not, grey and hatched where the row is
    not interpretable (its text models do not use context)."""
    df = pd.read_csv(findings_path, sep="\t")
    if df.empty:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no DNA and text conditions of the same model to compare", ha="center", va="center")
        ax.set_axis_off()
        return
    pair = df["dna"] + " - " + df["text"]
    df["label"] = pair.where(df["interpretable"], pair + "\n(not interpretable)")
    stats = list(dict.fromkeys(df["statistic"]))
    for ax, stat in zip(_panels(fig, len(stats)), stats):
        sub = df[df["statistic"] == stat].reset_index(drop=True)
        colour = sub["holds"].map({True: "C2", False: "C3"}).where(sub["interpretable"], "grey")
        for y in sub.index[~sub["interpretable"]]:
            ax.axhspan(y - 0.4, y + 0.4, facecolor="none", edgecolor="lightgrey", hatch="//", lw=0, zorder=0)
        ax.hlines(sub.index, sub["ci_low"], sub["ci_high"], color=colour, lw=2)
        ax.scatter(sub["difference"], sub.index, color=colour, zorder=3)
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(sub.index, sub["label"], fontsize=7)
        ax.set_ylim(len(sub) - 0.5, -0.5)  # first row on top; room for the hatching
        definition = f"; {sub['definition'].iloc[0]}" if "definition" in sub else ""
        ax.set_title(f"{stat} ({sub['claim'].iloc[0]}{definition})\n{sub['finding'].iloc[0]}", fontsize=8)
    fig.suptitle(f"The paper's findings, DNA - text with {float(df['level'].iloc[0]):.0%} intervals: "
                 "green holds, red does not\ngrey hatched: not interpretable, the text models do not use "
                 f"context (gain over unigram < {float(df['min_context_bits'].iloc[0]):g} bits per token, or "
                 "its interval reaches 0)")


BAND_PANELS = ("cross_entropy_bits", "js", "jaccard")  # keys of headline.BY_KEY


def plot_bands(tables, axes) -> None:
    """Per panel (BAND_PANELS), the statistic by training-frequency band: mean and std over members
    or pairs, one colour per condition."""
    import seaborn as sns

    df = _load(tables, "bands")
    for ax, (stat, name) in zip(axes, _present([BY_KEY[key] for key in BAND_PANELS], df["statistic"])):
        sns.pointplot(data=df[df["statistic"] == name], x="band", y="value", hue="condition",
                      hue_order=list(tables), errorbar="sd", dodge=0.3, ax=ax)
        ax.set(xlabel="training-frequency band (0 = most frequent types)", ylabel=f"{stat.label} ({stat.unit})",
               title=name)
    for ax in axes[1:]:
        ax.get_legend().remove()


def plot_cka(tables, ax) -> None:
    """Each CKA statistic of headline.STATISTICS in ci.tsv: one bar per condition (estimate) with
    its interval."""
    ci = _load(tables, "ci")
    present = _present([stat for stat in STATISTICS if stat.table == "cka"], ci["statistic"])
    order = [name for _, name in present]
    width = 0.8 / len(tables)
    for i, condition in enumerate(tables):
        sub = ci[ci["condition"] == condition].set_index("statistic").reindex(order)
        x = [j + (i - (len(tables) - 1) / 2) * width for j in range(len(order))]
        ax.bar(x, sub["estimate"], width, label=condition, color=f"C{i}")
        ax.vlines(x, sub["ci_low"], sub["ci_high"], color="black", lw=1.5)
    ax.set_xticks(range(len(order)), [textwrap.fill(stat.label, 16) for stat, _ in present])
    ax.set(ylim=(0, 1), ylabel="CKA between members", title="Representational similarity between members (CKA)")
    ax.legend(fontsize=7)


def plot_geometry(tables, axes) -> None:
    """One panel per statistic of geometry.STATISTICS: per condition, the mean over members against
    the layer (0: after the embeddings), each member a thin line beside it."""
    from gfm_limits.geometry import STATISTICS as GEOMETRY

    df = _load(tables, "geometry")
    for ax, statistic in zip(axes, GEOMETRY):
        for i, condition in enumerate(tables):
            sub = df[(df["condition"] == condition) & (df["statistic"] == statistic)]
            for _, member in sub.groupby("seed"):
                ax.plot(member["layer"], member["value"], color=f"C{i}", lw=0.6, alpha=0.4)
            mean = sub.groupby("layer")["value"].mean()
            ax.plot(mean.index, mean.to_numpy(), "o-", color=f"C{i}", lw=2, label=condition)
        ax.set(xlabel="layer (0: embeddings)", title=statistic.replace("_", " "))
    axes[0].legend(fontsize=7)


REPEAT_PANELS = {"context_gain_bits": ("gain over the unigram model (read first)", "bits per masked token"),
                 "kl_uniform_bits": ("KL divergence from uniform", "bits"),
                 "js_distance": ("JS distance between members", "bits"),
                 "disagreement": ("argmax disagreement between members", "share of positions")}


def plot_repeats(tables, axes) -> None:
    """One panel per statistic of REPEAT_PANELS (repeats_ci.tsv): per condition, the estimate and
    interval at repeat (soft-masked) and non-repeat target positions, one marker shape per region;
    the paired difference in the tick label. Text conditions have non-repeat positions only."""
    df = _load(tables, "repeats_ci")
    markers = {"repeat": ("s", "C1"), "non-repeat": ("o", "C0")}
    for ax, (statistic, (label, unit)) in zip(axes, REPEAT_PANELS.items()):
        sub = df[df["statistic"] == statistic].set_index(["condition", "region"])
        ticks, y = [], 0
        for condition in tables:
            for region, (marker, colour) in markers.items():
                if (condition, region) not in sub.index:
                    continue
                r = sub.loc[(condition, region)]
                ax.hlines(y, r["ci_low"], r["ci_high"], color=colour, lw=2)
                ax.plot(r["estimate"], y, marker, color=colour, mfc="white" if region == "repeat" else colour)
                tick = f"{condition} · {region}"
                if region == "repeat" and (condition, REPEAT_DIFFERENCE) in sub.index:
                    d = sub.loc[(condition, REPEAT_DIFFERENCE)]
                    tick += f"\nrepeat - non-repeat {d['estimate']:+.3g} [{d['ci_low']:+.3g}, {d['ci_high']:+.3g}]"
                ticks.append(tick)
                y += 1
        ax.set_yticks(range(len(ticks)), ticks, fontsize=7)
        ax.set_ylim(len(ticks) - 0.5, -0.5)
        if statistic == CONTEXT_GAIN:
            ax.axvline(0, color="grey", lw=1)
        ax.set(xlabel=unit, title=f"{statistic}\n{label}")
        ax.title.set_fontsize(9)


def plot_baselines(tables, baselines: dict[str, str], ax) -> None:
    """Per condition, on one bits-per-character axis: the Markov models over tokens and over
    characters (orders as labels), xz, and the model's own cross-entropy with its interval."""
    ci = _load(tables, "ci")
    ce = ci[ci["statistic"] == BY_KEY["cross_entropy_bits"].finds(ci["statistic"])].set_index("condition")
    for y, condition in enumerate(tables):
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
                ax.annotate(f"{int(order)}", (value, y + dy), textcoords="offset points",
                            xytext=(0, 4 if dy > 0 else -9), ha="center", fontsize=6, color=colour)
        xz = df.loc[df["baseline"] == "xz", "bits_per_char"]
        ax.plot(xz, [y] * len(xz), "^", color="C2", ms=7, label="xz given the training text" if y == 0 else None)
        row = ce.loc[condition]
        ax.hlines(y, row["ci_low"] / per_char, row["ci_high"] / per_char, color="C3", lw=2)
        ax.plot(row["estimate"] / per_char, y, "D", color="C3", ms=7,
                label="model (masked-token CE)" if y == 0 else None)
    ax.set_yticks(range(len(tables)), list(tables))
    ax.invert_yaxis()
    ax.set(xlabel="bits per character (base) of the held-out corpus",
           title="Each model between no context (token unigram, grey bar's right end) and the best baseline")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))


def plot_dynamics(dynamics_path, conditions: list[str], fig) -> None:
    """One panel per statistic of headline.appearing_in("dynamics") against training tokens (log
    axis), one colour per condition (as in the other figures): every member or pair thin, their
    mean thick; dashed, each condition's unigram level in the cross-entropy panel (the unigram
    cross-entropy has no panel of its own) and 0 in the gain panel."""
    import matplotlib.ticker
    import seaborn as sns

    df = pd.read_csv(dynamics_path, sep="\t", dtype={"seed_b": "Int64"})
    if df.empty:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no condition trained here (imported models have no snapshots)",
                ha="center", va="center")
        ax.set_axis_off()
        return
    unigram_name, ce_name = (BY_KEY[key].finds(df["statistic"]) for key in ("unigram_cross_entropy_bits",
                                                                              "cross_entropy_bits"))
    panels = [(stat, name) for stat, name in _present(appearing_in("dynamics"), df["statistic"])
              if name != unigram_name]
    colour = dict(zip(conditions, sns.color_palette(n_colors=len(conditions))))
    shown = [c for c in conditions if c in set(df["condition"])]
    for i, (ax, (stat, name)) in enumerate(zip(_panels(fig, len(panels)), panels)):
        for condition in shown:
            sub = df[(df["condition"] == condition) & (df["statistic"] == name)]
            for _, line in sub.groupby(["seed_a", "seed_b"], dropna=False):
                ax.plot(line["tokens"], line["value"], color=colour[condition], lw=0.7, alpha=0.45)
            mean = sub.groupby("tokens")["value"].mean()
            ax.plot(mean.index, mean.to_numpy(), color=colour[condition], lw=2.2, marker="o", ms=3, label=condition)
            if name == ce_name:
                unigram = df[(df["condition"] == condition) & (df["statistic"] == unigram_name)]
                ax.axhline(unigram["value"].mean(), color=colour[condition], ls="--", lw=1)
        if stat.key == CONTEXT_GAIN:
            ax.axhline(0, color="grey", ls="--", lw=1)
        note = {CONTEXT_GAIN: " (dashed: 0)", "cross_entropy_bits": " (dashed: unigram)"}.get(stat.key, "")
        ax.set(xscale="log", xlabel="training tokens", ylabel=stat.unit, title=name + note)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # under two decades minor ticks get labels
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle("Learning dynamics: each statistic at every snapshot and the final model "
                 "(thin: members or pairs; thick: their mean)")


def plot_all(tables: dict[str, dict[str, str]], curves: dict[tuple[str, int], str], outputs: dict[str, str],
             findings_path=None, baselines: dict[str, str] | None = None,
             min_context_bits: float = StatsConfig.min_context_bits, dynamics=None) -> None:
    """Write every figure in FIGURES as PNG and PDF to outputs[f"{name}_{ext}"] (the figures
    rule's outputs); tables: condition -> table name -> path of its statistics tables."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    fig, axes = plt.subplots(1, 2, figsize=(14, 2 + 0.7 * len(tables)), layout="constrained")
    plot_context(tables, baselines, min_context_bits, axes)
    fig.suptitle("Read this first: do the models use context? Held-out cross-entropy against the unigram "
                 "model of the training tokens")
    _save(fig, outputs, "context")
    plt.close(fig)
    single = {"output_distribution": plot_output_distribution, "js_top_p": plot_js,
              "embedding_consistency": plot_embeddings}
    for name, plot in single.items():
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        plot(tables, ax)
        _save(fig, outputs, name)
        plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    plot_fisher(tables, axes)
    _save(fig, outputs, "fisher_shares")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    plot_curves(curves, ax)
    _save(fig, outputs, "training_curves")
    plt.close(fig)
    fig = plt.figure(figsize=(16, 10), layout="constrained")
    plot_confidence(tables, fig)
    _save(fig, outputs, "confidence")
    plt.close(fig)
    if findings_path is not None:
        fig = plt.figure(figsize=(18, 10), layout="constrained")
        plot_findings(findings_path, fig)
        _save(fig, outputs, "findings")
        plt.close(fig)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), layout="constrained")
    plot_bands(tables, axes)
    _save(fig, outputs, "frequency_bands")
    plt.close(fig)
    if baselines:
        fig, ax = plt.subplots(figsize=(10, 1.5 + 0.8 * len(tables)), layout="constrained")
        plot_baselines(tables, baselines, ax)
        _save(fig, outputs, "baselines")
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    plot_cka(tables, ax)
    _save(fig, outputs, "cka")
    plt.close(fig)
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), layout="constrained")
    plot_geometry(tables, axes)
    _save(fig, outputs, "geometry")
    plt.close(fig)
    fig, axes = plt.subplots(1, len(REPEAT_PANELS), figsize=(18, 1.5 + 0.6 * 2 * len(tables)), layout="constrained")
    plot_repeats(tables, axes)
    level = float(_load(tables, "ci")["level"].iloc[0])
    fig.suptitle(f"Repeats (soft-masked in the FASTA, open squares) against the rest (dots), {level:.0%} "
                 "Multi-Bootstrap intervals: is a DNA statistic a property of repeats or of all sequence?")
    _save(fig, outputs, "repeats")
    plt.close(fig)
    if dynamics is not None:
        fig = plt.figure(figsize=(16, 10), layout="constrained")
        plot_dynamics(dynamics, list(tables), fig)
        _save(fig, outputs, "dynamics")
        plt.close(fig)

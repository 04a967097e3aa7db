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
- gradient_geometry (beyond the paper): effective rank and stable rank of the per-example
  gradients of each parameter group, the word embedding's input and decoder uses apart
  (gradient_geometry_members.tsv, members as points; the mean with its members-only interval
  from gradient_geometry.tsv), per condition: is the Fisher finding a property of the token
  interface's gradients in every model?
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

One visual grammar across figures (condition_styles): a colour of the Okabe-Ito
palette (Okabe & Ito 2008, distinguishable with every common colour-vision
deficiency) per data and tokenizer (the condition whose tokens a condition uses),
a line style per model variant, members or pairs as small points beside their
mean, and verdicts told by marker shape and fill (VERDICT_MARKERS), never by red
against green alone. Titles name statistics by their readable label; legends sit
outside the axes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

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

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#F0E442", "#000000")
# the colours of the data and tokenizers of config/*.yaml; any other takes the next free colour
DATA_COLOURS = {"text_bpe": "#0072B2", "dna_bpe": "#D55E00", "dna_kmer": "#009E73", "cdna_kmer": "#CC79A7",
                "ncrna_kmer": "#56B4E9"}
# the line styles of the model variants of config/*.yaml ("" the top-level model); others take the next free one
VARIANT_LINES = {"": "-", "tie_embeddings=False": "--", "num_layers=0": ":", "imported": "-."}
SPARE_LINES = ((0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)))
# verdict -> (marker, filled): a shape and a fill that read without colour
VERDICT_MARKERS = {"holds": ("o", True), "does not hold": ("o", False), "not interpretable": ("X", True)}
NOT_INTERPRETABLE_COLOUR = "0.55"


@dataclass(frozen=True)
class Style:
    colour: str
    line: object  # a matplotlib linestyle
    label: str  # the legend's name of the condition


def condition_styles(conditions, looks: dict[str, list[str]] | None = None) -> dict[str, Style]:
    """condition -> Style. looks: condition -> [data (the condition whose tokens it uses), model
    variant] (Plan.looks); without it, every condition is its own data and the top-level model."""
    looks = looks or {c: [c, ""] for c in conditions}
    free_colours = [c for c in OKABE_ITO if c not in DATA_COLOURS.values()]
    free_lines = list(SPARE_LINES)
    colours, lines, styles = dict(DATA_COLOURS), dict(VARIANT_LINES), {}
    for condition in conditions:
        data, variant = looks[condition]
        if data not in colours:
            colours[data] = free_colours.pop(0) if free_colours else "#000000"
        if variant not in lines:
            lines[variant] = free_lines.pop(0) if free_lines else "-."
        styles[condition] = Style(colours[data], lines[variant], condition)
    return styles


def _styles(tables, styles):
    return styles or condition_styles(list(tables))


def _legend_outside(ax, **kwargs) -> None:
    """The axes' legend to the right of it, outside the data (bbox_inches="tight" keeps it in the file)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False, **kwargs)


def _title(stat_or_name) -> str:
    """A readable title: a headline statistic's label, else the name with spaces."""
    label = getattr(stat_or_name, "label", None)
    return label[0].upper() + label[1:] if label else str(stat_or_name).replace("_", " ")


def _load(stats_tables: dict[str, dict[str, str]], table: str) -> pd.DataFrame:
    """One table of every condition (stats_tables: condition -> table name -> path), with its condition."""
    frames = [pd.read_csv(paths[table], sep="\t").assign(condition=c) for c, paths in stats_tables.items()]
    return pd.concat(frames, ignore_index=True)


def _save(fig, outputs: dict[str, str], name: str) -> None:
    for ext in ("png", "pdf"):
        fig.savefig(outputs[f"{name}_{ext}"], dpi=150, bbox_inches="tight")


def _verdict_point(ax, x, y, verdict: str, colour: str, size: float = 7, marker: str | None = None) -> None:
    """One estimate marked by its verdict (VERDICT_MARKERS): filled, open, or a grey cross."""
    shape, filled = VERDICT_MARKERS[verdict]
    colour = NOT_INTERPRETABLE_COLOUR if verdict == "not interpretable" else colour
    ax.plot(x, y, marker or shape, color=colour, mfc=colour if filled else "white", mew=1.5, ms=size, zorder=3)


def plot_context(tables, baselines: dict[str, str] | None, min_context_bits: float, axes, styles=None) -> None:
    """Left, bits per masked token: each member's held-out cross-entropy (dots, the condition's
    colour), the unigram model of the training tokens (no context, bar) and the best baseline per
    token (triangle). Right: the gain over the unigram model with its interval (ci.tsv), a filled
    diamond where the models use context and an open one where they do not, beside the best
    baseline's gain (grey bar: the headroom context offers)."""
    styles = _styles(tables, styles)
    outputs = _load(tables, "outputs")
    ci = _load(tables, "ci")
    gain = ci[ci["statistic"] == CONTEXT_GAIN].set_index("condition")
    for y, condition in enumerate(tables):
        colour = styles[condition].colour
        members = outputs[outputs["condition"] == condition]
        unigram = float(members["unigram_cross_entropy_bits"].mean())
        if baselines:
            position = context_position(pd.read_csv(baselines[condition], sep="\t"),
                                        float(members["cross_entropy_bits"].mean()))
            best = position["bits_per_char_best_baseline"] * position["chars_per_token"]
            axes[0].hlines(y, best, unigram, color="lightgrey", lw=8, zorder=0)
            axes[0].plot(best, y, "^", color="0.3", ms=8, label="best baseline per token" if y == 0 else None)
            axes[1].hlines(y, 0, unigram - best, color="lightgrey", lw=8, zorder=0,
                           label="best baseline's gain" if y == 0 else None)
        axes[0].plot(unigram, y, "|", color="black", ms=18, mew=2, label="unigram (no context)" if y == 0 else None)
        axes[0].plot(members["cross_entropy_bits"], [y] * len(members), "o", color=colour, alpha=0.8,
                     label="model, each member" if y == 0 else None)
        row = gain.loc[condition]
        used = uses_context(float(row["estimate"]), float(row["ci_low"]), min_context_bits)
        axes[1].hlines(y, row["ci_low"], row["ci_high"], color=colour, lw=2, linestyles=styles[condition].line)
        axes[1].plot(row["estimate"], y, "D", color=colour, mfc=colour if used else "white", mew=1.5, ms=7,
                     label=None)
        axes[1].annotate("uses context" if used else "no context use", (row["estimate"], y), xytext=(0, 8),
                         textcoords="offset points", ha="center", fontsize=8)
    axes[1].plot([], [], "D", color="0.3", label="uses context (filled)")
    axes[1].plot([], [], "D", color="0.3", mfc="white", mew=1.5, label="no context use (open)")
    axes[1].axvline(0, color="grey", lw=1)
    axes[1].axvline(min_context_bits, color="black", ls="--", lw=1, label=f"min_context_bits = {min_context_bits:g}")
    for ax in axes:
        ax.set_yticks(range(len(tables)), list(tables))
        for tick, condition in zip(ax.get_yticklabels(), tables):
            tick.set_color(styles[condition].colour)
        ax.invert_yaxis()
        _legend_outside(ax)
    level = float(ci["level"].iloc[0])
    axes[0].set(xlabel="held-out cross-entropy (bits per masked token)", title="Model against no context")
    axes[1].set(xlabel="unigram CE - model CE (bits per masked token)",
                title=f"Gain over unigram, {level:.0%} Multi-Bootstrap interval")


def _lines_with_points(ax, df: pd.DataFrame, x: str, y: str, styles, *, unit_columns=("seed_a", "seed_b")) -> None:
    """Per condition of df: the mean of y against x (a line in the condition's colour and line
    style) and every member or pair (unit_columns) as small points at the same x."""
    for condition, style in styles.items():
        sub = df[df["condition"] == condition]
        if sub.empty:
            continue
        mean = sub.groupby(x)[y].mean()
        ax.plot(mean.index, mean.to_numpy(), color=style.colour, ls=style.line, lw=1.8, label=style.label)
        ax.scatter(sub[x], sub[y], s=10, color=style.colour, alpha=0.55, linewidths=0, zorder=3)


def plot_output_distribution(tables, ax, styles=None) -> None:
    styles = _styles(tables, styles)
    df = _load(tables, "sorted_probs")
    for condition, style in styles.items():
        sub = df[df["condition"] == condition]
        ax.plot(sub["rank"], sub["probability"], color=style.colour, ls=style.line, lw=1.8, label=style.label)
    for vocab_size in df.groupby("condition").size().unique():
        ax.axhline(1.0 / vocab_size, ls=":", lw=1, color="grey")
    ax.set(xscale="log", yscale="log", xlabel="rank of token (sorted by probability)",
           ylabel="mean probability (over members and positions)",
           title="Averaged sorted output distribution (dotted: uniform)")
    _legend_outside(ax)


def plot_js(tables, ax, styles=None) -> None:
    styles = _styles(tables, styles)
    _lines_with_points(ax, _load(tables, "js"), "top_p", "js_distance", styles)
    ax.set(xlabel="top-p mass kept", ylabel="Jensen-Shannon distance (bits)", ylim=(0, 1),
           title="Disagreement between members (line: mean; points: pairs)")
    _legend_outside(ax)


def plot_fisher(tables, axes, styles=None) -> None:
    """Left: the share of the paper's Fisher in embeddings, transformer layers and head, a bar per
    condition (mean over members) with every member as a point on it; right: the share of every
    group, the mean a line per condition and every member a point."""
    styles = _styles(tables, styles)
    df = _load(tables, "fisher")
    parts = pd.concat([fisher_shares(sub).reset_index().assign(condition=c) for c, sub in df.groupby("condition")])
    width = 0.8 / len(styles)
    for i, (condition, style) in enumerate(styles.items()):
        sub = parts[parts["condition"] == condition]
        x = [j + (i - (len(styles) - 1) / 2) * width for j in range(len(FISHER_PARTS))]
        axes[0].bar(x, [sub[part].mean() for part in FISHER_PARTS], width, color=style.colour, alpha=0.35,
                    edgecolor=style.colour, linestyle=style.line, lw=1.5, label=style.label)
        for xj, part in zip(x, FISHER_PARTS):
            axes[0].scatter([xj] * len(sub), sub[part], s=12, color=style.colour, zorder=3, linewidths=0)
    axes[0].set_xticks(range(len(FISHER_PARTS)), list(FISHER_PARTS))
    axes[0].set(ylabel="share of total Fisher", ylim=(0, 1), title="Fisher information by part")
    order = list(dict.fromkeys(df["group"]))
    position = {group: j for j, group in enumerate(order)}
    for condition, style in styles.items():
        sub = df[df["condition"] == condition]
        mean = sub.groupby("group", sort=False)["share"].mean()
        axes[1].plot([position[g] for g in mean.index], mean.to_numpy(), color=style.colour, ls=style.line,
                     marker="o", ms=4, lw=1.5, label=style.label)
        axes[1].scatter(sub["group"].map(position), sub["share"], s=10, color=style.colour, alpha=0.55, zorder=3,
                        linewidths=0)
    axes[1].set_xticks(range(len(order)), order, rotation=45, ha="right")
    axes[1].set(xlabel="", ylabel="share of total Fisher", yscale="log", title="Per group (points: members)")
    _legend_outside(axes[1])


def plot_embeddings(tables, ax, styles=None) -> None:
    styles = _styles(tables, styles)
    _lines_with_points(ax, _load(tables, "topk"), "k", "jaccard", styles)
    ax.set(xscale="log", xlabel="k nearest neighbours", ylabel="Jaccard overlap between members", ylim=(0, 1),
           title="Static embedding consistency (line: mean; points: pairs)")
    _legend_outside(ax)


def plot_curves(curves: dict[tuple[str, int], str], ax, styles=None) -> None:
    if not curves:
        ax.text(0.5, 0.5, "every condition analyses imported models, trained elsewhere", ha="center", va="center")
        ax.set_axis_off()
        return
    styles = styles or condition_styles(list(dict.fromkeys(c for c, _ in curves)))
    for (condition, seed), path in curves.items():
        df = pd.read_csv(path, sep="\t")
        style = styles[condition]
        first = seed == min(s for c, s in curves if c == condition)
        ax.plot(df["tokens"], df["loss"], color=style.colour, ls=style.line, lw=0.9,
                label=style.label if first else None)
    ax.set(xlabel="training tokens", ylabel="masked-LM loss (nats)", title="Training curves (every member)")
    _legend_outside(ax)


def _present(statistics, names) -> list[tuple]:
    """(statistic, its name) for each of statistics whose name is among names (a table's column)."""
    names = list(dict.fromkeys(names))
    return [(stat, name) for stat in statistics if (name := stat.finds(names)) is not None]


def _errorbars(ax, df: pd.DataFrame, order: list[str], styles=None) -> None:
    """Horizontal estimate and interval per row of df (estimate, ci_low, ci_high), one y per label,
    in the label's colour where styles has it."""
    y = list(range(len(order)))
    df = df.set_index("label").reindex(order)
    colours = [styles[label].colour if styles and label in styles else "C0" for label in order]
    lines = [styles[label].line if styles and label in styles else "-" for label in order]
    # the interval as a line (a percentile interval need not contain the estimate), the estimate as a dot
    ax.hlines(y, df["ci_low"], df["ci_high"], lw=2, colors=colours, linestyles=lines)
    ax.scatter(df["estimate"], y, color=colours, zorder=3)
    ax.set_yticks(y, order)
    ax.invert_yaxis()


def _panels(fig, n: int, cols: int = 4) -> list:
    """n axes in rows of `cols`; the grid's spare axes hidden."""
    axes = fig.subplots((n + cols - 1) // cols, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def plot_confidence(tables, fig, styles=None) -> None:
    """One panel per statistic of headline.appearing_in("confidence") in ci.tsv, titled by its
    label: each condition's estimate (dot) and interval (line), in the condition's colour."""
    from matplotlib.ticker import MaxNLocator

    styles = _styles(tables, styles)
    ci = _load(tables, "ci").rename(columns={"condition": "label"})
    panels = _present(appearing_in("confidence"), ci["statistic"])
    for ax, (stat, name) in zip(_panels(fig, len(panels)), panels):
        _errorbars(ax, ci[ci["statistic"] == name], list(tables), styles)
        ax.set_title(textwrap.fill(_title(stat), 40), fontsize=9)
        ax.set_xlabel(f"{stat.unit}  ({name})", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(axis="y", labelsize=8)
    level = float(ci["level"].iloc[0])
    fig.suptitle(f"Headline statistics with {level:.0%} Multi-Bootstrap intervals (members and held-out rows "
                 "resampled)")


def _finding_verdict(row) -> str:
    if not row["interpretable"]:
        return "not interpretable"
    return "holds" if row["holds"] else "does not hold"


def plot_findings(findings_path, fig, styles=None) -> None:
    """One panel per statistic, titled by its label: each DNA - text difference with its interval,
    marked by its verdict (VERDICT_MARKERS: filled circle holds, open circle does not, grey cross
    on a hatched band not interpretable, its text models do not use context)."""
    from matplotlib.ticker import MaxNLocator

    df = pd.read_csv(findings_path, sep="\t")
    if df.empty:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no DNA and text conditions of the same model to compare", ha="center", va="center")
        ax.set_axis_off()
        return
    styles = styles or condition_styles(list(dict.fromkeys(df["dna"])))
    pair = df["dna"] + " - " + df["text"]
    df["label"] = pair.where(df["interpretable"], pair + "\n(not interpretable)")
    names = list(dict.fromkeys(df["statistic"]))
    axes = _panels(fig, len(names))
    for ax, name in zip(axes, names):
        sub = df[df["statistic"] == name].reset_index(drop=True)
        for y, row in sub.iterrows():
            verdict = _finding_verdict(row)
            colour = styles[row["dna"]].colour if row["dna"] in styles else "black"
            if verdict == "not interpretable":
                ax.axhspan(y - 0.4, y + 0.4, facecolor="none", edgecolor="lightgrey", hatch="//", lw=0, zorder=0)
                colour = NOT_INTERPRETABLE_COLOUR
            ax.hlines(y, row["ci_low"], row["ci_high"], color=colour, lw=2)
            _verdict_point(ax, row["difference"], y, verdict, colour)
        ax.axvline(0, color="grey", lw=1)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_yticks(sub.index, sub["label"], fontsize=7)
        ax.set_ylim(len(sub) - 0.5, -0.5)  # first row on top; room for the hatching
        stat = next((s for s in STATISTICS if s.finds([name]) == name), None)
        definition = f"; {sub['definition'].iloc[0]}" if "definition" in sub else ""
        ax.set_title(f"{textwrap.fill(_title(stat or name), 45)}\n({sub['claim'].iloc[0]}{definition}; {name})",
                     fontsize=8)
    handles = [axes[0].plot([], [], VERDICT_MARKERS[v][0], color="0.2" if v != "not interpretable"
                            else NOT_INTERPRETABLE_COLOUR, mfc="white" if not VERDICT_MARKERS[v][1] else None,
                            mew=1.5, ls="", label=v)[0] for v in VERDICT_MARKERS]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle(f"The paper's findings, DNA - text with {float(df['level'].iloc[0]):.0%} intervals\n"
                 "not interpretable (grey, hatched): the text models do not use context (gain over unigram < "
                 f"{float(df['min_context_bits'].iloc[0]):g} bits per token, or its interval reaches 0)")


BAND_PANELS = ("cross_entropy_bits", "js", "jaccard")  # keys of headline.BY_KEY


def plot_bands(tables, axes, styles=None) -> None:
    """Per panel (BAND_PANELS), the statistic by training-frequency band: per condition the mean
    over members or pairs (a line in its colour and style) and each of them as a point."""
    styles = _styles(tables, styles)
    df = _load(tables, "bands")
    for ax, (stat, name) in zip(axes, _present([BY_KEY[key] for key in BAND_PANELS], df["statistic"])):
        sub = df[df["statistic"] == name]
        for i, (condition, style) in enumerate(styles.items()):
            rows = sub[sub["condition"] == condition]
            dx = (i - (len(styles) - 1) / 2) * 0.08  # dodged, so that the members of conditions do not overlap
            mean = rows.groupby("band")["value"].mean()
            ax.plot(mean.index + dx, mean.to_numpy(), color=style.colour, ls=style.line, marker="o", ms=4, lw=1.5,
                    label=style.label)
            ax.scatter(rows["band"] + dx, rows["value"], s=9, color=style.colour, alpha=0.5, linewidths=0)
        ax.set(xlabel="training-frequency band (0 = most frequent types)", ylabel=stat.unit,
               title=textwrap.fill(_title(stat), 40))
        ax.set_xticks(sorted(sub["band"].unique()))
    _legend_outside(axes[-1])


def plot_cka(tables, ax, styles=None) -> None:
    """Each CKA statistic of headline.STATISTICS in ci.tsv: one bar per condition (estimate) with
    its interval."""
    styles = _styles(tables, styles)
    ci = _load(tables, "ci")
    present = _present([stat for stat in STATISTICS if stat.table == "cka"], ci["statistic"])
    order = [name for _, name in present]
    width = 0.8 / len(tables)
    for i, condition in enumerate(tables):
        sub = ci[ci["condition"] == condition].set_index("statistic").reindex(order)
        x = [j + (i - (len(tables) - 1) / 2) * width for j in range(len(order))]
        style = styles[condition]
        ax.bar(x, sub["estimate"], width, label=style.label, color=style.colour, edgecolor="black",
               linestyle=style.line, lw=0.8)
        ax.vlines(x, sub["ci_low"], sub["ci_high"], color="black", lw=1.5)
    ax.set_xticks(range(len(order)), [textwrap.fill(stat.label, 14) for stat, _ in present], fontsize=8)
    ax.set(ylim=(0, 1), ylabel="CKA between members", title="Representational similarity between members (CKA)")
    _legend_outside(ax)


GEOMETRY_TITLES = {"effective_rank": "Effective rank", "anisotropy": "Anisotropy (mean cosine)",
                   "uniformity": "Uniformity (Wang & Isola)", "participation_ratio": "Participation ratio"}


def plot_geometry(tables, axes, styles=None) -> None:
    """One panel per statistic of geometry.STATISTICS: per condition, the mean over members against
    the layer (0: after the embeddings), each member a thin line beside it."""
    from matplotlib.ticker import MaxNLocator

    from gfm_limits.geometry import STATISTICS as GEOMETRY

    styles = _styles(tables, styles)
    df = _load(tables, "geometry")
    for ax, statistic in zip(axes, GEOMETRY):
        for condition, style in styles.items():
            sub = df[(df["condition"] == condition) & (df["statistic"] == statistic)]
            for _, member in sub.groupby("seed"):
                ax.plot(member["layer"], member["value"], color=style.colour, ls=style.line, lw=0.6, alpha=0.4)
            mean = sub.groupby("layer")["value"].mean()
            ax.plot(mean.index, mean.to_numpy(), marker="o", color=style.colour, ls=style.line, lw=2, label=style.label)
        ax.set(xlabel="layer (0: embeddings)", title=GEOMETRY_TITLES.get(statistic, _title(statistic)))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _legend_outside(axes[-1])


GRADIENT_TITLES = {"effective_rank": "Effective rank of the per-example gradients",
                   "stable_rank": "Stable rank of the per-example gradients"}


def plot_gradient_geometry(tables, axes, styles=None) -> None:
    """One panel per statistic of gradient_geometry.STATISTICS: per parameter group (x, in model
    order) and condition (its colour, dodged), every member a small point and the mean over
    members with its interval (gradient_geometry.tsv)."""
    from gfm_limits.gradient_geometry import STATISTICS, group_order

    styles = _styles(tables, styles)
    members, ci = _load(tables, "gradient_geometry_members"), _load(tables, "gradient_geometry")
    groups = sorted(set(members["group"]), key=group_order)
    x_of = {g: i for i, g in enumerate(groups)}
    width = 0.7 / max(len(styles), 1)
    for ax, statistic in zip(axes, STATISTICS):
        for k, (condition, style) in enumerate(styles.items()):
            offset = (k - (len(styles) - 1) / 2) * width
            sub = members[(members["condition"] == condition) & (members["statistic"] == statistic)]
            ax.plot(sub["group"].map(x_of) + offset, sub["value"], "o", ms=3, color=style.colour, alpha=0.5)
            mean = ci[(ci["condition"] == condition) & (ci["statistic"] == statistic) & ci["group"].isin(x_of)]
            xs = mean["group"].map(x_of).to_numpy() + offset
            order = xs.argsort()
            ax.errorbar(xs[order], mean["estimate"].to_numpy()[order],
                        yerr=[(mean["estimate"] - mean["ci_low"]).to_numpy()[order],
                              (mean["ci_high"] - mean["estimate"]).to_numpy()[order]],
                        marker="D", ms=5, color=style.colour, ls=style.line, lw=1, capsize=2, label=style.label)
        ax.set_xticks(range(len(groups)), groups, rotation=45, ha="right")
        ax.set(ylabel=f"{statistic.replace('_', ' ')} (1 to the rows)", title=GRADIENT_TITLES[statistic])
        if not groups:
            ax.text(0.5, 0.5, "no gradient geometry", transform=ax.transAxes, ha="center")
    _legend_outside(axes[-1])


REPEAT_PANELS = {"context_gain_bits": ("gain over the unigram model (read first)", "bits per masked token"),
                 "kl_uniform_bits": ("KL divergence from uniform", "bits"),
                 "js_distance": ("JS distance between members", "bits"),
                 "disagreement": ("argmax disagreement between members", "share of positions")}
REGION_MARKERS = {"repeat": ("s", False), "non-repeat": ("o", True)}  # marker, filled


def plot_repeats(tables, axes, styles=None) -> None:
    """One panel per statistic of REPEAT_PANELS (repeats_ci.tsv): per condition (its colour), the
    estimate and interval at repeat (open squares) and non-repeat (dots) target positions; the
    paired difference in the tick label. Text conditions have non-repeat positions only."""
    styles = _styles(tables, styles)
    df = _load(tables, "repeats_ci")
    for ax, (statistic, (label, unit)) in zip(axes, REPEAT_PANELS.items()):
        sub = df[df["statistic"] == statistic].set_index(["condition", "region"])
        ticks, y = [], 0
        for condition in tables:
            colour = styles[condition].colour
            for region, (marker, filled) in REGION_MARKERS.items():
                if (condition, region) not in sub.index:
                    continue
                r = sub.loc[(condition, region)]
                ax.hlines(y, r["ci_low"], r["ci_high"], color=colour, lw=2)
                ax.plot(r["estimate"], y, marker, color=colour, mfc=colour if filled else "white", mew=1.5)
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
        ax.set(xlabel=f"{unit}  ({statistic})", title=label[0].upper() + label[1:])
        ax.title.set_fontsize(9)


def plot_baselines(tables, baselines: dict[str, str], ax, styles=None) -> None:
    """Per condition (its name in its colour), on one bits-per-character axis: the Markov models
    over tokens and over characters (orders as labels), xz, and the model's own cross-entropy
    with its interval."""
    styles = _styles(tables, styles)
    ci = _load(tables, "ci")
    ce = ci[ci["statistic"] == BY_KEY["cross_entropy_bits"].finds(ci["statistic"])].set_index("condition")
    for y, condition in enumerate(tables):
        df = pd.read_csv(baselines[condition], sep="\t")
        df = df[df["baseline"] != "unigram_entropy"]
        per_char = float(df.loc[df["unit"] == "token", "chars_per_symbol"].iloc[0])
        none = float(df.loc[(df["unit"] == "token") & (df["baseline"] == "markov0"), "bits_per_char"].iloc[0])
        ax.hlines(y, df["bits_per_char"].min(), none, color="lightgrey", lw=8, zorder=0)
        for unit, marker, colour, dy in (("token", "o", "0.25", -0.15), ("char", "s", "0.6", 0.15)):
            sub = df[(df["unit"] == unit) & df["baseline"].str.startswith("markov")]
            ax.plot(sub["bits_per_char"], [y + dy] * len(sub), marker, color=colour, ms=5,
                    label=f"Markov over {unit}s (order)" if y == 0 else None)
            for value, order in zip(sub["bits_per_char"], sub["order"]):
                ax.annotate(f"{int(order)}", (value, y + dy), textcoords="offset points",
                            xytext=(0, 4 if dy > 0 else -9), ha="center", fontsize=6, color=colour)
        xz = df.loc[df["baseline"] == "xz", "bits_per_char"]
        ax.plot(xz, [y] * len(xz), "^", color="black", mfc="white", mew=1.5, ms=7,
                label="xz given the training text" if y == 0 else None)
        row = ce.loc[condition]
        colour = styles[condition].colour
        ax.hlines(y, row["ci_low"] / per_char, row["ci_high"] / per_char, color=colour, lw=2)
        ax.plot(row["estimate"] / per_char, y, "D", color=colour, ms=7,
                label="model (masked-token CE, its colour)" if y == 0 else None)
    ax.set_yticks(range(len(tables)), list(tables))
    for tick, condition in zip(ax.get_yticklabels(), tables):
        tick.set_color(styles[condition].colour)
    ax.invert_yaxis()
    ax.set(xlabel="bits per character (base) of the held-out corpus",
           title="Each model between no context (token unigram, grey bar's right end) and the best baseline")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))


def plot_dynamics(dynamics_path, conditions: list[str], fig, styles=None) -> None:
    """One panel per statistic of headline.appearing_in("dynamics") against training tokens (log
    axis), one colour per condition (as in the other figures): every member or pair thin, their
    mean thick; dashed, each condition's unigram level in the cross-entropy panel (the unigram
    cross-entropy has no panel of its own) and 0 in the gain panel."""
    import matplotlib.ticker

    styles = styles or condition_styles(conditions)
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
    colour = {c: styles[c].colour for c in conditions}
    shown = [c for c in conditions if c in set(df["condition"])]
    for i, (ax, (stat, name)) in enumerate(zip(_panels(fig, len(panels)), panels)):
        for condition in shown:
            sub = df[(df["condition"] == condition) & (df["statistic"] == name)]
            for _, line in sub.groupby(["seed_a", "seed_b"], dropna=False):
                ax.plot(line["tokens"], line["value"], color=colour[condition], lw=0.7, alpha=0.45)
            mean = sub.groupby("tokens")["value"].mean()
            ax.plot(mean.index, mean.to_numpy(), color=colour[condition], ls=styles[condition].line, lw=2.2,
                    marker="o", ms=3, label=condition)
            if name == ce_name:
                unigram = df[(df["condition"] == condition) & (df["statistic"] == unigram_name)]
                ax.axhline(unigram["value"].mean(), color=colour[condition], ls="--", lw=1)
        if stat.key == CONTEXT_GAIN:
            ax.axhline(0, color="grey", ls="--", lw=1)
        note = {CONTEXT_GAIN: " (dashed: 0)", "cross_entropy_bits": " (dashed: unigram)"}.get(stat.key, "")
        ax.set(xscale="log", xlabel="training tokens")
        ax.set_ylabel(stat.unit, fontsize=9)
        ax.set_title(f"{textwrap.fill(_title(stat) + note, 42)}\n{name}", fontsize=9)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # under two decades minor ticks get labels
        if i == 0:
            handles, labels = ax.get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle("Learning dynamics: each statistic at every snapshot and the final model "
                 "(thin: members or pairs; thick: their mean)")

# rc_symmetry.tsv's statistics in the figure rc_symmetry: panel -> (the model's, chance's, axis label)
RC_PANELS = {"JS distance to the RC prediction": ("js_distance", "js_distance_shuffled", "JS distance (base 2)"),
             "Argmax agrees with the RC prediction": ("agreement", "agreement_shuffled", "share of positions"),
             "Nearest static neighbour is the RC k-mer": ("nn_is_rc", "nn_is_rc_chance", "share of k-mers"),
             "Cosine to the RC k-mer": ("cosine_rc", "cosine_random", "mean cosine")}


def plot_rc_symmetry(rc_tables: dict[str, str], conditions: list[str], axes, styles=None) -> None:
    """One panel per RC_PANELS entry: per condition the model (dots: members; bar: the mean's
    interval) and its chance level (grey crosses: shuffled pairings, 1 / (n - 1), random pairs);
    conditions without a reverse complement (text, BPE) are marked, not drawn."""
    styles = styles or condition_styles(conditions)
    frames = {c: pd.read_csv(path, sep="\t", dtype={"seed": str}) for c, path in rc_tables.items()}
    for ax, (title, (model, chance, unit)) in zip(axes, RC_PANELS.items()):
        for y, condition in enumerate(conditions):
            if condition not in frames:
                ax.text(0.02, y, "no reverse complement (text or BPE)", transform=ax.get_yaxis_transform(),
                        va="center", fontsize=7, color="0.45")
                continue
            df, colour, line = frames[condition], styles[condition].colour, styles[condition].line
            for name, marker, col in ((model, "o", colour), (chance, "x", "0.45")):
                rows = df[df["statistic"] == name]
                members, mean = rows[rows["seed"] != "mean"], rows[rows["seed"] == "mean"].iloc[0]
                offset = 0.12 if name == chance else -0.12
                ax.scatter(members["estimate"], [y + offset] * len(members), marker=marker, color=col, s=18)
                ax.hlines(y + offset, mean["ci_low"], mean["ci_high"], color=col, lw=2,
                          linestyles=line if name == model else "-")
        ax.set_yticks(range(len(conditions)), conditions, fontsize=7)
        ax.set_ylim(len(conditions) - 0.5, -0.5)
        ax.set(xlabel=unit, title=title)
        ax.title.set_fontsize(9)


def plot_all(tables: dict[str, dict[str, str]], curves: dict[tuple[str, int], str], outputs: dict[str, str],
             findings_path=None, baselines: dict[str, str] | None = None,
             min_context_bits: float = StatsConfig.min_context_bits, dynamics=None,
             looks: dict[str, list[str]] | None = None, rc_tables: dict[str, str] | None = None) -> None:
    """Write every figure in FIGURES as PNG and PDF to outputs[f"{name}_{ext}"] (the figures
    rule's outputs); tables: condition -> table name -> path of its statistics tables; looks:
    condition -> [data, model variant] (Plan.looks), one Style per condition for every figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    styles = condition_styles(list(tables), looks)

    def figure(name: str, draw, **kwargs) -> None:
        fig = plt.figure(layout="constrained", **kwargs)
        draw(fig)
        _save(fig, outputs, name)
        plt.close(fig)

    def context(fig):
        plot_context(tables, baselines, min_context_bits, fig.subplots(1, 2), styles)
        fig.suptitle("Read this first: do the models use context? Held-out cross-entropy against the unigram "
                     "model of the training tokens")

    figure("context", context, figsize=(15, 2 + 0.7 * len(tables)))
    for name, plot in {"output_distribution": plot_output_distribution, "js_top_p": plot_js,
                       "embedding_consistency": plot_embeddings}.items():
        figure(name, lambda fig, plot=plot: plot(tables, fig.subplots(), styles), figsize=(8, 4.5))
    figure("fisher_shares", lambda fig: plot_fisher(tables, fig.subplots(1, 2), styles), figsize=(14, 4.8))
    figure("training_curves", lambda fig: plot_curves(curves, fig.subplots(), styles), figsize=(8, 4.5))
    figure("confidence", lambda fig: plot_confidence(tables, fig, styles), figsize=(16, 10))
    if findings_path is not None:
        figure("findings", lambda fig: plot_findings(findings_path, fig, styles), figsize=(18, 10))
    figure("frequency_bands", lambda fig: plot_bands(tables, fig.subplots(1, 3), styles), figsize=(17, 4.5))
    if baselines:
        figure("baselines", lambda fig: plot_baselines(tables, baselines, fig.subplots(), styles),
               figsize=(10, 1.5 + 0.8 * len(tables)))
    figure("cka", lambda fig: plot_cka(tables, fig.subplots(), styles), figsize=(12, 4.8))
    figure("geometry", lambda fig: plot_geometry(tables, fig.subplots(1, 4), styles), figsize=(17, 4))

    def gradient_geometry(fig):
        plot_gradient_geometry(tables, fig.subplots(1, 2), styles)
        fig.suptitle("Gradient geometry by parameter group (points: members; diamonds: their mean with a "
                     "members-only interval); read it beside context use")

    figure("gradient_geometry", gradient_geometry, figsize=(16, 5))

    def repeats(fig):
        plot_repeats(tables, fig.subplots(1, len(REPEAT_PANELS)), styles)
        level = float(_load(tables, "ci")["level"].iloc[0])
        fig.suptitle(f"Repeats (soft-masked in the FASTA, open squares) against the rest (dots), {level:.0%} "
                     "Multi-Bootstrap intervals: is a DNA statistic a property of repeats or of all sequence?")

    figure("repeats", repeats, figsize=(18, 1.5 + 0.6 * 2 * len(tables)))
    def rc_symmetry(fig):
        plot_rc_symmetry(rc_tables or {}, list(tables), fig.subplots(1, len(RC_PANELS)), styles)
        fig.suptitle("Reverse-complement symmetry of the k-mer models (dots: members, bars: intervals) against "
                     "chance (grey crosses); read it beside context use")

    figure("rc_symmetry", rc_symmetry, figsize=(17, 1.5 + 0.6 * len(tables)))
    if dynamics is not None:
        figure("dynamics", lambda fig: plot_dynamics(dynamics, list(tables), fig, styles), figsize=(17, 10))

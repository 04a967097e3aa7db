"""Figures draw the tables' numbers: each figure drawn into a matplotlib Figure from small
hand-made tables, its plotted data read back from the Axes (line data, collection segments,
scatter offsets, bar heights) and compared with the tables."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from gfm_limits import figures
from gfm_limits.headline import BY_KEY, STATISTICS
from gfm_limits.layout import TABLES

CONDITIONS = ("text", "dna")


def _write(directory, name: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    directory.mkdir(parents=True, exist_ok=True)
    df.to_csv(directory / f"{name}.tsv", sep="\t", index=False)
    return df


def _ci(tmp_path, estimates: dict[str, dict[str, float]]) -> dict[str, dict[str, str]]:
    """ci.tsv per condition: estimate, interval estimate -/+ (0.1 + 0.01 x row), level 0.9."""
    for condition, by_name in estimates.items():
        _write(tmp_path / condition, "ci", [
            {"statistic": name, "estimate": value, "ci_low": value - 0.1 - 0.01 * i, "ci_high": value + 0.1 + 0.01 * i,
             "n_boot": 100, "resampled": "members", "level": 0.9} for i, (name, value) in enumerate(by_name.items())])
    return _paths(tmp_path, estimates)


def _paths(tmp_path, conditions) -> dict[str, dict[str, str]]:
    """condition -> table -> path, as the figures rule passes them."""
    return {c: {t: str(tmp_path / c / f"{t}.tsv") for t in TABLES} for c in conditions}


def _visible(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def _segments(ax) -> np.ndarray:
    """(y or x, low, high) of each segment of the axes' LineCollections (hlines: y; vlines: x), (n, 3)."""
    out = []
    for collection in ax.collections:
        if isinstance(collection, LineCollection):
            for (x0, y0), (x1, y1) in collection.get_segments():
                out.append((y0, x0, x1) if y0 == y1 else (x0, y0, y1))
    return np.array(out).reshape(-1, 3)


def test_confidence_draws_each_conditions_estimate_and_interval(tmp_path):
    estimates = {"text": {"context_gain_bits": 2.0, "entropy_bits": 3.0, "js_p0.5": 0.3, "jaccard_k3": 0.6,
                          "cka_static_linear": 0.8},
                 "dna": {"context_gain_bits": 0.1, "entropy_bits": 5.0, "js_p0.5": 0.7, "jaccard_k3": 0.2,
                         "cka_static_linear": 0.4}}
    dirs = _ci(tmp_path, estimates)
    fig = Figure()
    figures.plot_confidence(dirs, fig)
    axes = _visible(fig)
    # the statistics the confidence figure shows (entropy is not one), in the registry's order, titled by label
    names = ["context_gain_bits", "js_p0.5", "jaccard_k3", "cka_static_linear"]
    assert [ax.get_xlabel().split("(")[-1].rstrip(")") for ax in axes] == names
    for ax, name in zip(axes, names):
        (stat,) = [s for s in STATISTICS if s.finds([name]) == name]
        assert ax.get_title().replace("\n", " ") == stat.label[0].upper() + stat.label[1:]
        rows = [pd.read_csv(tmp_path / c / "ci.tsv", sep="\t").set_index("statistic").loc[name] for c in CONDITIONS]
        (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        np.testing.assert_allclose(dots.get_offsets(), [(r["estimate"], y) for y, r in enumerate(rows)])
        np.testing.assert_allclose(_segments(ax), [(y, r["ci_low"], r["ci_high"]) for y, r in enumerate(rows)])
        assert [t.get_text() for t in ax.get_yticklabels()] == list(CONDITIONS)
        # each condition in its colour
        styles = figures.condition_styles(list(CONDITIONS))
        np.testing.assert_allclose(dots.get_facecolors(), [to_rgba(styles[c].colour) for c in CONDITIONS])


def test_findings_draw_each_difference_with_its_verdict(tmp_path):
    base = {"finding": "DNA outputs are nearer uniform", "statistic": "kl_uniform_bits", "claim": "DNA < text",
            "text": "text", "level": 0.95, "min_context_bits": 0.5}
    rows = [{**base, "dna": "dna_a", "difference": -1.0, "ci_low": -1.2, "ci_high": -0.8, "holds": True,
             "interpretable": True},
            {**base, "dna": "dna_b", "difference": 0.1, "ci_low": -0.1, "ci_high": 0.3, "holds": False,
             "interpretable": True},
            {**base, "dna": "dna_c", "difference": -0.5, "ci_low": -0.7, "ci_high": -0.3, "holds": True,
             "interpretable": False},
            {**base, "statistic": "js_p1", "claim": "DNA > text", "finding": "DNA members disagree more",
             "dna": "dna_a", "difference": 0.2, "ci_low": 0.1, "ci_high": 0.3, "holds": True, "interpretable": True}]
    df = _write(tmp_path, "findings", rows)
    fig = Figure()
    figures.plot_findings(tmp_path / "findings.tsv", fig)
    kl, js = _visible(fig)
    assert kl.get_title().startswith("KL divergence from uniform") and "(DNA < text" in kl.get_title()
    assert js.get_title().startswith("JS distance between members") and "(DNA > text" in js.get_title()
    sub = df[df["statistic"] == "kl_uniform_bits"].reset_index(drop=True)
    np.testing.assert_allclose(_segments(kl), [(y, r["ci_low"], r["ci_high"]) for y, r in sub.iterrows()])
    points = [line for line in kl.lines if line.get_marker() not in ("None", "", None) and len(line.get_xdata())]
    np.testing.assert_allclose([(p.get_xdata()[0], p.get_ydata()[0]) for p in points], np.c_[sub["difference"],
                                                                                          sub.index])
    # the verdict by shape and fill, not by colour: filled circle holds, open circle does not, cross not interpretable
    assert [p.get_marker() for p in points] == ["o", "o", "X"]
    filled = [to_rgba(p.get_markerfacecolor()) == to_rgba(p.get_color()) for p in points]
    assert filled == [True, False, True]
    assert to_rgba(points[1].get_markerfacecolor()) == to_rgba("white")
    (hatched,) = kl.patches
    assert hatched.get_hatch() == "//" and hatched.get_y() == pytest.approx(2 - 0.4)
    assert [t.get_text() for t in kl.get_yticklabels()] == ["dna_a - text", "dna_b - text",
                                                             "dna_c - text\n(not interpretable)"]
    # the legend explains the three markers, below the panels
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["holds", "does not hold", "not interpretable"]


def test_context_draws_members_unigram_best_baseline_and_the_gain(tmp_path):
    outputs = {"text": [1.0, 1.2, 1.4], "dna": [3.9, 4.0, 4.1]}
    unigram = {"text": 4.5, "dna": 4.05}
    gains = {"text": (3.3, 3.1, 3.5), "dna": (0.05, -0.02, 0.12)}  # estimate, interval
    for condition in CONDITIONS:
        _write(tmp_path / condition, "outputs", [{"seed": s, "cross_entropy_bits": ce,
                                                   "unigram_cross_entropy_bits": unigram[condition]}
                                                  for s, ce in enumerate(outputs[condition])])
        estimate, low, high = gains[condition]
        _write(tmp_path / condition, "ci", [{"statistic": "context_gain_bits", "estimate": estimate, "ci_low": low,
                                             "ci_high": high, "level": 0.95}])
        _write(tmp_path / condition, "baselines", [  # best: xz, 0.5 bits per character of 4 per token
            {"unit": "token", "baseline": "markov0", "chars_per_symbol": 4.0, "bits_per_char": 1.1},
            {"unit": "char", "baseline": "xz", "chars_per_symbol": 1.0, "bits_per_char": 0.5}])
    dirs = _paths(tmp_path, CONDITIONS)
    axes = Figure().subplots(1, 2)
    figures.plot_context(dirs, {c: str(tmp_path / c / "baselines.tsv") for c in CONDITIONS}, 0.5, axes)
    left = {line.get_marker(): [] for line in axes[0].lines}
    for line in axes[0].lines:
        left[line.get_marker()].append((list(line.get_xdata()), list(line.get_ydata())))
    assert left["o"] == [(outputs[c], [y] * 3) for y, c in enumerate(CONDITIONS)]  # every member
    assert left["|"] == [([unigram[c]], [y]) for y, c in enumerate(CONDITIONS)]
    assert left["^"] == [([2.0], [y]) for y in range(2)]
    diamonds = [line for line in axes[1].lines if line.get_marker() == "D" and len(line.get_xdata())]
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in diamonds] == [(3.3, 0), (0.05, 1)]
    # text uses context (filled), DNA does not (its interval reaches 0: open), each in its condition's colour
    styles = figures.condition_styles(list(CONDITIONS))
    assert [to_rgba(line.get_color()) for line in diamonds] == [to_rgba(styles[c].colour) for c in CONDITIONS]
    assert [to_rgba(line.get_markerfacecolor()) for line in diamonds] == [to_rgba(styles["text"].colour),
                                                                         to_rgba("white")]
    members = [line for line in axes[0].lines if line.get_marker() == "o"]
    assert [to_rgba(line.get_color())[:3] for line in members] == [to_rgba(styles[c].colour)[:3] for c in CONDITIONS]
    segments = _segments(axes[1])
    from_zero = segments[:, 1] == 0  # the grey bars: the best baseline's gain, unigram CE - 2 bits
    np.testing.assert_allclose(segments[~from_zero], [(0, 3.1, 3.5), (1, -0.02, 0.12)])
    np.testing.assert_allclose(segments[from_zero], [(0, 0, 2.5), (1, 0, 2.05)])


def test_dynamics_draws_every_member_their_mean_and_the_unigram_level(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for condition in CONDITIONS:
        for tokens in (100, 1000, 10000):
            for seed in (1, 2, 3):  # three, so that their mean is not their median
                for name in ("context_gain_bits", "cross_entropy_bits", "unigram_cross_entropy_bits"):
                    rows.append({"condition": condition, "step": tokens // 100, "tokens": tokens, "final": False,
                                 "statistic": name, "seed_a": seed, "seed_b": None, "value": rng.normal()})
            rows.append({"condition": condition, "step": tokens // 100, "tokens": tokens, "final": False,
                         "statistic": "js_p1", "seed_a": 1, "seed_b": 2, "value": rng.uniform()})
    df = _write(tmp_path, "dynamics", rows)
    fig = Figure()
    figures.plot_dynamics(tmp_path / "dynamics.tsv", list(CONDITIONS), fig)
    axes = {ax.get_title().split("\n")[-1]: ax for ax in _visible(fig)}
    assert list(axes) == ["context_gain_bits", "cross_entropy_bits", "js_p1"]
    assert axes["js_p1"].get_title().startswith("JS distance between members")  # the unigram is a reference line
    for name, ax in axes.items():
        lines = [line for line in ax.lines if len(line.get_xdata()) == 3]  # the horizontal references have 2 points
        for condition in CONDITIONS:
            sub = df[(df["condition"] == condition) & (df["statistic"] == name)]
            members = [list(g["value"]) for _, g in sub.groupby("seed_a")]
            mean = list(sub.groupby("tokens")["value"].mean())
            drawn = [list(line.get_ydata()) for line in lines if line.get_label() == condition]
            thin = [list(line.get_ydata()) for line in lines if line.get_lw() < 1]
            assert drawn == [pytest.approx(mean)]
            assert all(any(m == pytest.approx(t) for t in thin) for m in members)
        references = [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"]
        if name == "cross_entropy_bits":
            expected = [df[(df["condition"] == c) & (df["statistic"] == "unigram_cross_entropy_bits")]["value"].mean()
                        for c in CONDITIONS]
            assert references == pytest.approx(expected)
        else:
            assert references == ([0] if name == "context_gain_bits" else [])


def test_bands_draw_each_bands_mean_over_members_or_pairs(tmp_path):
    rng = np.random.default_rng(1)
    for condition in CONDITIONS:
        _write(tmp_path / condition, "bands", [
            {"band": b, "statistic": name, "seed_a": s, "seed_b": np.nan, "value": rng.normal()}
            for name in ("cross_entropy_bits", "entropy_bits", "js_p0.9", "jaccard_k10") for b in range(3)
            for s in (1, 2, 3)])
    dirs = _paths(tmp_path, CONDITIONS)
    axes = Figure().subplots(1, 3)
    figures.plot_bands(dirs, axes)
    names = ["cross_entropy_bits", "js_p0.9", "jaccard_k10"]
    for ax, name, key in zip(axes, names, ("cross_entropy_bits", "js", "jaccard"), strict=True):
        label = BY_KEY[key].label
        assert ax.get_title().replace("\n", " ") == label[0].upper() + label[1:]
        # one line of markers per condition (the legend's handles hold no data), every member a point beside it
        means = [line.get_ydata() for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata())]
        points = [c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)]
        for drawn, members, condition in zip(means, points, CONDITIONS, strict=True):
            df = pd.read_csv(tmp_path / condition / "bands.tsv", sep="\t")
            np.testing.assert_allclose(drawn, df[df["statistic"] == name].groupby("band")["value"].mean())
            np.testing.assert_allclose(members, df[df["statistic"] == name]["value"])


def test_cka_draws_each_estimate_as_a_bar_with_its_interval(tmp_path):
    estimates = {"text": {"cka_static_linear": 0.8, "cka_static_rbf": 0.9, "kl_uniform_bits": 2.0},
                 "dna": {"cka_static_linear": 0.3, "cka_static_rbf": 0.5, "kl_uniform_bits": 1.0}}
    dirs = _ci(tmp_path, estimates)
    ax = Figure().subplots()
    figures.plot_cka(dirs, ax)
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([0.8, 0.9, 0.3, 0.5])  # per condition, per statistic
    np.testing.assert_allclose(_segments(ax)[:, 1:], [(0.7, 0.9), (0.79, 1.01), (0.2, 0.4), (0.39, 0.61)])
    assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == [
        "linear CKA of the static embeddings", "rbf CKA of the static embeddings"]


def test_geometry_draws_each_member_and_the_mean_over_members_per_layer(tmp_path):
    from gfm_limits.geometry import STATISTICS as GEOMETRY

    rows = [{"layer": layer, "seed": seed, "statistic": stat, "value": 10 * c + seed + layer / 10 + j, "items": 9}
            for c, _ in enumerate(CONDITIONS) for seed in (1, 2) for layer in range(3)
            for j, stat in enumerate(GEOMETRY)]
    for c, condition in enumerate(CONDITIONS):
        _write(tmp_path / condition, "geometry", [r for r in rows if r["value"] // 10 == c])
    axes = Figure().subplots(1, 4)
    figures.plot_geometry(_paths(tmp_path, CONDITIONS), axes)
    for j, ax in enumerate(axes):
        lines = [line.get_ydata() for line in ax.get_lines()]  # per condition: member 1, member 2, mean
        assert len(lines) == 6
        for c in range(len(CONDITIONS)):
            one, two, mean = lines[3 * c : 3 * c + 3]
            np.testing.assert_allclose(one, [10 * c + 1 + layer / 10 + j for layer in range(3)])
            np.testing.assert_allclose(mean, (np.asarray(one) + np.asarray(two)) / 2)
        assert ax.get_title() == figures.GEOMETRY_TITLES[GEOMETRY[j]]


def test_repeats_draw_each_regions_estimate_and_interval_and_the_difference(tmp_path):
    from gfm_limits.layout import REPEAT_DIFFERENCE

    rows = {"text": [], "dna": []}
    for c, condition in enumerate(CONDITIONS):
        regions = ("non-repeat",) if condition == "text" else ("repeat", "non-repeat", REPEAT_DIFFERENCE)
        for r, region in enumerate(regions):
            for s, statistic in enumerate(figures.REPEAT_PANELS):
                value = 10 * c + r + 0.1 * s
                rows[condition].append({"region": region, "statistic": statistic, "estimate": value,
                                        "ci_low": value - 0.2, "ci_high": value + 0.3, "n_boot": 100,
                                        "positions": 7, "level": 0.9})
    for condition in CONDITIONS:
        _write(tmp_path / condition, "repeats_ci", rows[condition])
    fig = Figure()
    axes = fig.subplots(1, len(figures.REPEAT_PANELS))
    figures.plot_repeats(_paths(tmp_path, CONDITIONS), axes)
    for s, ax in enumerate(axes):
        # text non-repeat, dna repeat, dna non-repeat: the difference is a label, not a point
        expected = [0 + 0.1 * s, 10 + 0.1 * s, 11 + 0.1 * s]
        dots = [line.get_xdata()[0] for line in ax.lines if len(line.get_xdata()) == 1]
        assert np.allclose(dots, expected)
        assert np.allclose(_segments(ax)[:, 1:], [[e - 0.2, e + 0.3] for e in expected])
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels[0] == "text · non-repeat" and labels[2] == "dna · non-repeat"
        assert labels[1].startswith("dna · repeat\nrepeat - non-repeat") and f"{12 + 0.1 * s:+.3g}" in labels[1]


def test_styles_give_one_okabe_ito_colour_per_data_and_one_line_style_per_variant():
    looks = {"text_bpe": ["text_bpe", ""], "dna_bpe": ["dna_bpe", ""], "dna_kmer": ["dna_kmer", ""],
             "dna_bpe_untied": ["dna_bpe", "tie_embeddings=False"], "dna_bpe_nolayers": ["dna_bpe", "num_layers=0"],
             "paper_dna_bpe": ["paper_dna_bpe", "imported"], "other": ["other", "hidden_size=64"]}
    styles = figures.condition_styles(list(looks), looks)
    assert {styles[c].colour for c in ("dna_bpe", "dna_bpe_untied", "dna_bpe_nolayers")} == {"#D55E00"}
    colours = [styles[c].colour for c in ("text_bpe", "dna_bpe", "dna_kmer", "paper_dna_bpe", "other")]
    assert len(set(colours)) == 5 and set(colours) <= set(figures.OKABE_ITO)
    lines = [styles[c].line for c in ("dna_bpe", "dna_bpe_untied", "dna_bpe_nolayers", "paper_dna_bpe", "other")]
    assert lines[:4] == ["-", "--", ":", "-."] and lines[4] not in lines[:4]
    # without looks every condition is its own data: distinct colours, solid lines
    plain = figures.condition_styles(["a", "b", "c"])
    assert len({s.colour for s in plain.values()}) == 3 and {s.line for s in plain.values()} == {"-"}


def _pairs(tmp_path, name: str, x: str, y: str, values: dict[str, list[list[float]]]):
    """A pair table per condition: values[condition][pair][i] at x = 1, 2, ..."""
    for condition, pairs in values.items():
        _write(tmp_path / condition, name, [{"seed_a": 1, "seed_b": 2 + p, x: i + 1, y: v}
                                            for p, row in enumerate(pairs) for i, v in enumerate(row)])


def test_js_and_embeddings_draw_the_mean_and_every_pair_in_one_colour_per_condition(tmp_path):
    js = {"text": [[0.1, 0.2], [0.3, 0.4]], "dna": [[0.5, 0.6], [0.7, 0.9]]}
    _pairs(tmp_path, "js", "top_p", "js_distance", js)
    _pairs(tmp_path, "topk", "k", "jaccard", {c: [[1 - v for v in row] for row in rows] for c, rows in js.items()})
    dirs = _paths(tmp_path, CONDITIONS)
    looks = {"text": ["text_bpe", ""], "dna": ["dna_bpe", "tie_embeddings=False"]}
    styles = figures.condition_styles(list(CONDITIONS), looks)
    colours = {}
    for plot, transform in ((figures.plot_js, lambda v: v), (figures.plot_embeddings, lambda v: 1 - v)):
        fig = Figure()
        ax = fig.subplots()
        plot(dirs, ax, styles)
        means = [line for line in ax.lines if len(line.get_xdata())]
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        for line, dots, condition in zip(means, points, CONDITIONS, strict=True):
            expected = transform(np.mean(js[condition], axis=0))
            np.testing.assert_allclose(line.get_ydata(), expected)
            np.testing.assert_allclose(sorted(dots.get_offsets()[:, 1]), sorted(transform(np.ravel(js[condition]))))
            colours.setdefault(condition, set()).update({to_rgba(line.get_color())[:3],
                                                         tuple(float(v) for v in dots.get_facecolors()[0][:3])})
            assert line.get_label() == condition
        assert [line.get_linestyle() for line in means] == ["-", "--"]
        # the legend sits outside the axes, right of the data
        legend = ax.get_legend()
        assert legend is not None and legend.get_bbox_to_anchor().x0 >= ax.bbox.x1 - 1
    # one colour per condition across both figures and all their marks: the Okabe-Ito colour of its data
    assert colours == {"text": {to_rgba("#0072B2")[:3]}, "dna": {to_rgba("#D55E00")[:3]}}


def test_fisher_draws_each_members_share_beside_the_mean_with_the_legend_outside(tmp_path):
    shares = {"text": [(0.6, 0.1, 0.3), (0.5, 0.2, 0.3)], "dna": [(0.8, 0.05, 0.15), (0.7, 0.1, 0.2)]}
    for condition, members in shares.items():
        _write(tmp_path / condition, "fisher", [
            {"seed": seed, "group": group, "n_params": 10, "fisher": share, "fisher_per_param": share / 10,
             "share": share}
            for seed, parts in enumerate(members, 1)
            for group, share in zip(("embeddings", "encoder.0", "head"), parts)])
    fig = Figure()
    axes = fig.subplots(1, 2)
    figures.plot_fisher(_paths(tmp_path, CONDITIONS), axes)
    heights = [bar.get_height() for bar in axes[0].patches]
    expected = [np.mean(shares[c], axis=0) for c in CONDITIONS]
    np.testing.assert_allclose(heights, np.ravel(expected))
    points = [c.get_offsets()[:, 1] for c in axes[0].collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(np.concatenate(points), np.ravel([np.array(shares[c]).T for c in CONDITIONS]))
    legend = axes[1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(CONDITIONS)
    assert legend.get_bbox_to_anchor().x0 >= axes[1].bbox.x1 - 1

"""Context use first: the gain over the unigram model, its interval, and the findings it gates."""

import runpy
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gfm_limits import bootstrap as bs
from gfm_limits import metrics
from gfm_limits.confidence import NOT_INTERPRETABLE, findings, uses_context
from gfm_limits.layout import TABLES
from gfm_limits.stats import StatsConfig, summarize, training_unigram
from synthetic import ROWS, M, unigram_by_hand, write_condition

from conftest import ROOT

SEEDS, N_BOOT = (1, 2, 3), 300
CFG = StatsConfig(top_k=[1, 3], summary_k=3, bootstrap=N_BOOT)


def test_context_gain_by_hand():
    # training tokens a a a a b (ids 5, 6): add-0.5 unigram q(a) = 4.5/6 = 3/4, q(b) = 1.5/6 = 1/4
    unigram = training_unigram(np.array([5, 5, 5, 5, 6]), 7)
    assert unigram[5:] == pytest.approx([0.75, 0.25]) and unigram[:5].sum() == 0
    probs = np.zeros((2, 7))
    probs[0, 5:] = [0.75, 0.25]  # target a at the unigram probability: no gain
    probs[1, 5:] = [0.5, 0.5]  # target b at 1/2 instead of 1/4: one bit saved
    gain = metrics.context_gain_bits(probs, np.array([5, 6]), unigram)
    assert gain == pytest.approx([0.0, 1.0])
    assert uses_context(0.5, 0.01, 0.5) and not uses_context(0.49, 0.1, 0.5) and not uses_context(2.0, 0.0, 0.5)


@pytest.fixture(scope="module")
def conditions(tmp_path_factory):
    root = tmp_path_factory.mktemp("stats")
    rng = np.random.default_rng(0)
    made = {name: write_condition(root / name, name, sharp, rng, CFG)
            for name, sharp in (("text", 3.0), ("dna", 0.0))}
    return root, made


def _summarize(root: Path, out: Path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables = {c: {t: str(root / c / f"{t}.tsv") for t in TABLES} for c in ("text", "dna")}
    replicates = {c: str(root / c / "replicates.npz") for c in ("text", "dna")}
    summary = summarize(tables, replicates, str(out / "summary.tsv"), k=3, top_p=1.0,
                        findings_out=str(out / "findings.tsv"), comparisons=[("dna", "text")], level=0.95,
                        baselines={c: str(root / c / "baselines.tsv") for c in ("text", "dna")}, **kwargs)
    return summary.set_index("condition"), pd.read_csv(out / "findings.tsv", sep="\t")


def test_context_gain_interval_matches_a_loop_over_the_draws(conditions):
    root, made = conditions
    for name, data in made.items():
        unigram = unigram_by_hand(data["tokens"])
        # (S, M) by hand: log2 p(target) - log2 q(target)
        gain = np.stack([np.log2(data["probs"][s][np.arange(M), data["targets"]].astype(np.float64))
                         - np.log2(unigram[data["targets"]]) for s in SEEDS])
        d = bs.draws(len(SEEDS), ROWS, N_BOOT, zlib.crc32(name.encode()))  # the condition's row draws
        row_of = np.nonzero(data["masks"]["predict"])[0]  # (M,) the row of each masked position
        # each replicate: the mean over every masked position of the drawn rows, a row drawn twice counted twice
        loop = np.array([np.mean([gain[s, np.concatenate([np.flatnonzero(row_of == r) for r in d.examples[b]])].mean()
                                  for s in d.seeds[b]]) for b in range(N_BOOT)])
        np.testing.assert_allclose(np.load(root / name / "replicates.npz")["context_gain_bits"], loop, rtol=1e-9)
        ci = pd.read_csv(root / name / "ci.tsv", sep="\t").set_index("statistic").loc["context_gain_bits"]
        assert ci["estimate"] == pytest.approx(gain.mean(), rel=1e-6)
        assert [ci["ci_low"], ci["ci_high"]] == pytest.approx(np.percentile(loop, [2.5, 97.5]), rel=1e-6)
        assert ci["resampled"] == "members+rows"


def test_summary_reads_the_tables_at_the_paths_it_is_given(conditions, tmp_path):
    """The summary reads its rule's declared paths, not files it finds beside them: every table
    moved to a flat folder under another name gives the same summary and findings."""
    import shutil

    root, _ = conditions
    moved = tmp_path / "moved"
    moved.mkdir()
    tables, replicates = {}, {}
    for c in ("text", "dna"):
        tables[c] = {t: str(shutil.copy(root / c / f"{t}.tsv", moved / f"{c}-{t}.table")) for t in TABLES}
        replicates[c] = str(shutil.copy(root / c / "replicates.npz", moved / f"{c}.replicates"))
    found = summarize(tables, replicates, str(tmp_path / "summary.tsv"), k=3, top_p=1.0,
                      findings_out=str(tmp_path / "findings.tsv"), comparisons=[("dna", "text")], level=0.95,
                      baselines={c: str(root / c / "baselines.tsv") for c in ("text", "dna")})
    (tmp_path / "at_home").mkdir()
    expected, findings = _summarize(root, tmp_path / "at_home")
    pd.testing.assert_frame_equal(found.set_index("condition"), expected)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "findings.tsv", sep="\t"), findings)


def test_summary_begins_with_whether_the_models_use_context(conditions, tmp_path):
    root, made = conditions
    summary, _ = _summarize(root, tmp_path)
    assert list(summary.reset_index().columns[:16]) == [
        "condition", "members", "uses_context", "context_gain_bits_mean", "context_gain_bits_std",
        "context_gain_bits_ci_low", "context_gain_bits_ci_high", "cross_entropy_bits_mean", "cross_entropy_bits_std",
        "unigram_cross_entropy_bits_mean", "unigram_cross_entropy_bits_std", "ce_minus_best_baseline_bits",
        "ce_minus_best_baseline_bits_ci_low", "ce_minus_best_baseline_bits_ci_high",
        "ce_minus_best_baseline_bits_per_char", "best_baseline"]
    text, dna = summary.loc["text"], summary.loc["dna"]
    assert text["uses_context"] and not dna["uses_context"]
    assert text["context_gain_bits_mean"] > 1 and abs(dna["context_gain_bits_mean"]) < 0.1
    for row in (text, dna):
        assert row["context_gain_bits_mean"] == pytest.approx(
            row["unigram_cross_entropy_bits_mean"] - row["cross_entropy_bits_mean"], rel=1e-6)
        # best baseline: xz at 0.5 bits per character, 4 characters per token
        assert row["best_baseline"] == "char xz"
        assert row["ce_minus_best_baseline_bits"] == pytest.approx(row["cross_entropy_bits_mean"] - 0.5 * 4.0)
        assert row["ce_minus_best_baseline_bits_per_char"] == pytest.approx(row["cross_entropy_bits_mean"] / 4 - 0.5)
        # the interval of CE - 2 bits, from the gain's: CE = unigram - gain, unigram fixed
        reflected = [row["unigram_cross_entropy_bits_mean"] - row[f"context_gain_bits_ci_{end}"] - 2.0
                     for end in ("high", "low")]
        assert [row["ce_minus_best_baseline_bits_ci_low"], row["ce_minus_best_baseline_bits_ci_high"]] == pytest.approx(
            reflected)
        assert row["ce_minus_best_baseline_bits_ci_low"] <= row["ce_minus_best_baseline_bits"] <= row[
            "ce_minus_best_baseline_bits_ci_high"]
    per_member = pd.read_csv(root / "text" / "outputs.tsv", sep="\t")
    gain = per_member["unigram_cross_entropy_bits"] - per_member["cross_entropy_bits"]
    assert text["context_gain_bits_std"] == pytest.approx(np.std(gain), rel=1e-6)


def test_min_context_bits_gates_the_findings(conditions, tmp_path):
    root, _ = conditions
    summary, found = _summarize(root, tmp_path)  # the default, 0.5 bits
    assert found["interpretable"].all() and (found["verdict"] == found["holds"].map(
        {True: "holds", False: "does not hold"})).all()
    gain = summary.loc["text", "context_gain_bits_mean"]
    summary, gated = _summarize(root, tmp_path, min_context_bits=gain + 1.0)
    assert not summary["uses_context"].any()
    assert not gated["interpretable"].any() and (gated["verdict"] == NOT_INTERPRETABLE).all()
    assert gated["holds"].tolist() == found["holds"].tolist()  # the statistic's own test is still reported


def test_min_context_bits_from_the_config_reaches_findings(conditions, tmp_path, monkeypatch):
    from gfm_limits.config import check_config

    root, _ = conditions
    monkeypatch.setattr(sys, "stderr", sys.stderr)  # the script redirects it to its log
    verdicts = {}
    for threshold in (None, 1e3):
        config = {"stats": {} if threshold is None else {"min_context_bits": threshold}}
        check_config(config, ROOT / "config" / "schema.yaml")
        out = tmp_path / str(threshold)
        out.mkdir()
        fake = SimpleNamespace(
            log=[str(out / "log")],
            input=SimpleNamespace(**{t: [str(root / c / f"{t}.tsv") for c in ("text", "dna")] for t in TABLES},
                                  replicates=[str(root / c / "replicates.npz") for c in ("text", "dna")],
                                  baselines=[str(root / c / "baselines.tsv") for c in ("text", "dna")]),
            output=SimpleNamespace(summary=str(out / "summary.tsv"), findings=str(out / "findings.tsv")),
            params=SimpleNamespace(stats={**config["stats"], "summary_k": 3}, conditions=["text", "dna"],
                                   comparisons=[["dna", "text"]]))
        runpy.run_path(str(ROOT / "scripts" / "summarize.py"), init_globals={"snakemake": fake})
        found = pd.read_csv(out / "findings.tsv", sep="\t")
        assert (found["min_context_bits"] == config["stats"]["min_context_bits"]).all()
        verdicts[threshold] = set(found["verdict"])
    assert config["stats"]["min_context_bits"] == 1e3 and StatsConfig(**config["stats"]).min_context_bits == 1e3
    assert NOT_INTERPRETABLE not in verdicts[None] and verdicts[1e3] == {NOT_INTERPRETABLE}


def _replicates(gain: float, noise: float, rng) -> dict[str, np.ndarray]:
    return {"context_gain_bits": gain + rng.normal(0, noise, 1000), "kl_uniform_bits": 2.0 + rng.normal(0, 0.01, 1000)}


@pytest.mark.parametrize("text_gain, noise, interpretable", [
    (2.0, 0.01, True),  # well above the threshold, interval above 0
    (0.3, 0.01, False),  # interval above 0 but below the threshold
    (1.0, 1.0, False),  # above the threshold but the interval reaches 0
])
def test_interpretable_needs_the_text_models_to_use_context(text_gain, noise, interpretable):
    rng = np.random.default_rng(1)
    replicates = {"dna": _replicates(0.0, 0.01, rng), "text": _replicates(text_gain, noise, rng)}
    replicates["dna"]["kl_uniform_bits"] -= 1.0  # DNA nearer uniform: the claim holds
    estimates = {c: {k: float(np.mean(v)) for k, v in r.items()} for c, r in replicates.items()}
    members = {c: {"kl_uniform_bits": rng.normal(size=3)} for c in replicates}
    table = findings(replicates, estimates, members, comparisons=[("dna", "text")], k=10, top_p=1.0, level=0.95,
                     min_context_bits=0.5)
    row = table.iloc[0]
    assert len(table) == 1 and row["holds"] and row["interpretable"] == interpretable
    assert row["verdict"] == ("holds" if interpretable else NOT_INTERPRETABLE)
    low = np.percentile(replicates["text"]["context_gain_bits"], 2.5)
    assert row["text_context_gain_bits"] == pytest.approx(estimates["text"]["context_gain_bits"])
    assert row["text_context_ci_low"] == pytest.approx(low)
    assert row["dna_context_ci_low"] == pytest.approx(np.percentile(replicates["dna"]["context_gain_bits"], 2.5))
    columns = list(table.columns)
    assert columns[:6] == ["finding", "statistic", "definition", "claim", "dna", "text"]
    assert columns.index("interpretable") < columns.index("dna_estimate") and "verdict" in columns
    assert max(columns.index(c) for c in ("text_context_gain_bits", "text_context_ci_low", "dna_context_gain_bits",
                                          "dna_context_ci_low")) < columns.index("dna_estimate")


def test_a_condition_without_context_gain_is_named():
    replicates = {c: {"kl_uniform_bits": np.zeros(10)} for c in ("dna", "text")}
    estimates = {c: {"kl_uniform_bits": 0.0} for c in ("dna", "text")}
    with pytest.raises(ValueError, match="'dna' has no context_gain_bits"):
        findings(replicates, estimates, {c: {} for c in replicates}, comparisons=[("dna", "text")], k=10, top_p=1.0,
                 level=0.95, min_context_bits=0.5)


def test_masks_of_other_positions_are_named(conditions, tmp_path):
    from gfm_limits.stats import masked_rows

    _, made = conditions
    mask = dict(made["text"]["masks"])
    row_of, n_rows = masked_rows(_saved(mask, tmp_path / "same.npz"), made["text"]["targets"])
    assert n_rows == ROWS and np.array_equal(row_of, np.nonzero(mask["predict"])[0]) and len(row_of) == M
    mask["predict"] = np.roll(mask["predict"], 1, axis=1)  # as many positions, other ones
    with pytest.raises(ValueError, match="other.npz: its masked positions .* rerun extract"):
        masked_rows(_saved(mask, tmp_path / "other.npz"), made["text"]["targets"])


def _saved(arrays: dict, path: Path) -> str:
    np.savez(path, **arrays)
    return str(path)

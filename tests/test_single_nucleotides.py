"""Single nucleotides (a k-mer condition with kmer_k: 1): the condition's k reaches its tokenizer,
the shipped configs that have one validate, and the statistics work with a vocabulary too small
for the summary's top-k overlap."""

import copy

import numpy as np
import pandas as pd
import yaml

from gfm_limits import tokenizer as tk
from gfm_limits.config import check_config
from gfm_limits.layout import TABLES
from gfm_limits.plan import Plan
from gfm_limits.stats import StatsConfig, summarize
from synthetic import V, write_condition

from conftest import ROOT

SCHEMA = ROOT / "config" / "schema.yaml"
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def merged(name: str) -> dict:
    """config.yaml extended by config/<name> as --configfile does it: conditions added, each other
    section's keys replaced one by one."""
    other = yaml.safe_load((ROOT / "config" / name).read_text())
    config = copy.deepcopy(DEFAULT)
    for key, value in other.items():
        if isinstance(value, dict) and key != "sources":
            config[key] = {**config.get(key, {}), **value}
        else:
            config[key] = value
    check_config(config, SCHEMA)
    return config


def test_gpu_and_paper_configs_have_a_single_nucleotide_condition_with_its_own_tokens():
    for name in ("gpu.yaml", "paper.yaml"):
        config = merged(name)
        plan = Plan.from_config(config)
        one = plan.conditions["dna_1mer"]
        assert one.kmer_k == 1 and one.tokens == "dna_1mer" and plan.conditions["dna_kmer"].kmer_k == 6
        assert "dna_1mer" in plan.tokenized and ("dna_1mer", "text_bpe") in plan.comparisons
        assert plan.tokenizer_settings("dna_1mer", config["tokenizer"])["kmer_k"] == 1
        assert plan.tokenizer_settings("dna_kmer", config["tokenizer"]) == config["tokenizer"]


def test_the_conditions_k_reaches_its_tokenizer(tmp_path):
    """What the tokenizer rule does with its params: build_tokenizer(kind, corpus, out, TokenizerConfig)."""
    config = merged("gpu.yaml")
    plan = Plan.from_config(config)
    sizes = {}
    for condition in ("dna_kmer", "dna_1mer"):
        cfg = tk.TokenizerConfig(**plan.tokenizer_settings(condition, config["tokenizer"]))
        sizes[condition] = tk.build_tokenizer("kmer", None, tmp_path / f"{condition}.json", cfg).get_vocab_size()
    assert sizes == {"dna_kmer": 5 + 4 ** 6 + 5, "dna_1mer": 5 + 5}
    one = tk.load(tmp_path / "dna_1mer.json")
    assert one.encode("ACGTNA", add_special_tokens=False).tokens == list("ACGTNA")


def test_a_vocabulary_too_small_for_summary_k_leaves_the_top_k_statistic_out(tmp_path):
    """summary_k at the vocabulary size minus 1 (V = 12 here; a 1-mer vocabulary has 10 tokens and
    the default summary_k is 10): the other statistics are computed, the top-k overlap at
    summary_k is in no table, interval, band or finding."""
    k = V - 1
    cfg = StatsConfig(top_k=[1, 3, k], summary_k=k, bootstrap=100)
    rng = np.random.default_rng(0)
    for name, sharp in (("text", 2.0), ("dna", 0.5)):
        found = write_condition(tmp_path / name, name, sharp, rng, cfg)["tables"]
        assert sorted(found["topk"]["k"].unique()) == [1, 3]
        assert f"jaccard_k{k}" not in set(found["ci"]["statistic"]) and "context_gain_bits" in set(
            found["ci"]["statistic"])
        assert not found["bands"]["statistic"].str.startswith("jaccard").any()
    paths = {c: {t: str(tmp_path / c / f"{t}.tsv") for t in TABLES} for c in ("text", "dna")}
    summary = summarize(paths, {c: str(tmp_path / c / "replicates.npz") for c in ("text", "dna")},
                        str(tmp_path / "summary.tsv"), k=k, top_p=1.0, findings_out=str(tmp_path / "findings.tsv"),
                        comparisons=[("dna", "text")], level=0.95)
    assert f"jaccard_k{k}_mean" not in summary.columns and "cross_entropy_bits_mean" in summary.columns
    findings = pd.read_csv(tmp_path / "findings.tsv", sep="\t")
    assert len(findings) > 0 and f"jaccard_k{k}" not in set(findings["statistic"])

"""Integration: snakemake runs the real workflow on tiny slices of the bundled data.

One module-scoped run of the whole pipeline (3 conditions x 2 members, tiny
models), then checks of its files, of what reruns after edits, of the report,
of bad input end to end, and of lint and formatting.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import CONDITIONS, ROOT, SNAKEMAKE, job_counts, snakemake, tiny_config

pytestmark = pytest.mark.integration


def test_every_output_is_written(run):
    root, _ = run
    summary = pd.read_csv(root / "results/stats/summary.tsv", sep="\t")
    assert list(summary["condition"]) == CONDITIONS
    assert (summary["members"] == 2).all()
    assert summary.filter(like="_mean").notna().all().all()
    for name in ("output_distribution", "js_top_p", "fisher_shares", "embedding_consistency", "training_curves"):
        for ext in ("png", "pdf"):
            assert (root / f"results/figures/{name}.{ext}").stat().st_size > 1000
    fisher = pd.read_csv(root / "results/stats/dna_kmer/fisher.tsv", sep="\t")
    assert list(fisher["group"].unique()) == ["embeddings", "encoder.0", "head"]
    np.testing.assert_allclose(fisher.groupby("seed")["share"].sum(), 1.0, rtol=1e-5)
    per_example = pd.read_csv(root / "results/stats/dna_kmer/fisher_per_example.tsv", sep="\t")
    assert list(per_example["group"].unique()) == ["embeddings", "encoder.0", "head", "word_input", "word_decoder"]
    model_groups = per_example[~per_example["group"].str.startswith("word_")]
    np.testing.assert_allclose(model_groups.groupby("seed")["share"].sum(), 1.0, rtol=1e-5)
    assert summary["fisher_pe_word_decoder_part_mean"].between(0, 1).all()
    js = pd.read_csv(root / "results/stats/text_bpe/js.tsv", sep="\t")
    assert len(js) == 1 * 11 and js["js_distance"].between(0, 1).all()


def test_members_share_positions_and_differ_in_weights(run):
    root, _ = run
    a = np.load(root / "results/extract/dna_bpe/seed1/predictions.npz")
    b = np.load(root / "results/extract/dna_bpe/seed2/predictions.npz")
    masks = np.load(root / "results/extract/dna_bpe/masks.npz")
    assert np.array_equal(a["targets"], b["targets"])
    assert len(a["targets"]) == masks["predict"].sum()
    np.testing.assert_allclose(a["probs"].sum(axis=1), 1.0, rtol=1e-5)
    ea = np.load(root / "results/extract/dna_bpe/seed1/embeddings.npy")
    eb = np.load(root / "results/extract/dna_bpe/seed2/embeddings.npy")
    assert ea.shape == eb.shape == (300, 32) and not np.allclose(ea, eb)
    tokens = [json.loads((root / f"results/models/{c}/seed1/training.json").read_text())["tokens"] for c in CONDITIONS]
    assert len(set(tokens)) == 1  # every condition trains on the same number of tokens


def test_corpus_held_out_regions_are_disjoint(run):
    root, _ = run
    train = set((root / "results/corpus/dna/train.txt").read_text().split())
    held_out = set((root / "results/corpus/dna/eval.txt").read_text().split())
    assert train and held_out and not train & held_out
    assert all(set(w) <= set("ACGT") for w in train | held_out)


def test_nothing_to_do_after_a_complete_run(run):
    root, config = run
    result = snakemake(root, "--configfile", str(config), "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changing_a_stats_option_reruns_only_stats_figures_and_provenance(run, tmp_path):
    root, config = run
    edited = yaml.safe_load(config.read_text())
    edited["stats"]["top_p"] = [0.1, 0.5, 1.0]
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    result = snakemake(root, "--configfile", str(path), "-n")
    assert job_counts(result.stdout) == {"stats": 3, "summary": 1, "figures": 1, "provenance": 1, "all": 1}


def test_adding_a_seed_adds_one_training_job_per_condition(run, tmp_path):
    root, config = run
    edited = yaml.safe_load(config.read_text())
    edited["seeds"] = [1, 2, 3]
    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    counts = job_counts(snakemake(root, "--configfile", str(path), "-n").stdout)
    assert counts["train"] == 3 and counts["extract"] == 3
    assert "tokenizer" not in counts and "encode" not in counts


def test_report_gathers_the_figures(run):
    root, config = run
    result = snakemake(root, "--configfile", str(config), "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (root / "results/report.html").stat().st_size > 10_000


def test_non_utf8_text_stops_with_the_file_named_and_no_output(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "fine"}\n{"text": "caf\xe9 au lait"}\n')
    config = tiny_config(tmp_path)
    config["sources"]["text"] = {"url": str(bad), "format": "jsonl"}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    # the target goes first: --configfile takes every argument after it
    result = snakemake(tmp_path, "results/corpus/text/train.txt", "--configfile", str(tmp_path / "c.yaml"))
    assert result.returncode != 0
    assert f"{bad} (fetched to results/fetch/text): line 2 is not valid UTF-8" in result.stdout + result.stderr
    assert not (tmp_path / "results/corpus/text").exists() or not any((tmp_path / "results/corpus/text").iterdir())


def test_unknown_config_key_is_named(tmp_path):
    shutil.copy(ROOT / "config/config.yaml", tmp_path / "c.yaml")
    result = snakemake(tmp_path, "--configfile", str(tmp_path / "c.yaml"), "-n", "--config", "trian={}")
    assert result.returncode != 0
    assert "unknown key 'trian'; did you mean 'train'?" in result.stdout + result.stderr


def test_lint_and_format_are_clean():
    lint = subprocess.run([*SNAKEMAKE, "--lint", "-d", str(ROOT)], capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([str(Path(sys.executable).parent / "snakefmt"), "--check", "Snakefile", "rules"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.parametrize("name, sources, conditions", [("paper.yaml", 2, 3), ("paper_v2.yaml", 4, 5)])
def test_paper_config_dry_runs_to_the_full_job_graph_offline(tmp_path, name, sources, conditions):
    """config/paper.yaml (and v2): every condition x 5 members and the analysis, planned without
    any network access (the sources are https URLs; a dry run fetches nothing)."""
    result = snakemake(tmp_path, "-n", "--configfile", str(ROOT / "config" / name), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert job_counts(out) == {"fetch": sources, "corpus": sources, "tokenizer": conditions, "encode": 2 * conditions,
                               "train": 5 * conditions, "eval_masks": conditions, "extract": 5 * conditions,
                               "stats": conditions, "summary": 1, "figures": 1, "provenance": 1, "all": 1}
    train = out.split("rule train:")[1].split("\n\n")[0]
    assert "gpu=1" in train and "runtime=" in train and "mem_mb=" in train
    assert not (tmp_path / "results").exists()


def test_provenance_records_code_config_software_and_data(run):
    import hashlib

    root, config = run
    table = pd.read_csv(root / "results/provenance.tsv", sep="\t")
    facts = {(w, n): v for w, n, v in table.itertuples(index=False)}
    commit = facts[("code", "git commit")]
    assert len(commit) == 40 or commit == "unknown"
    assert facts[("training", "torch")] and facts[("this job", "python")]
    data = yaml.safe_load(config.read_text())["sources"]["dna"]["url"]
    digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()
    assert facts[("data", data)].endswith(f"sha256 {digest}")
    resolved = json.loads((root / "results/provenance.config.json").read_text())
    assert resolved["train"]["grad_accum"] == 1  # defaults filled in


def test_a_second_run_from_scratch_is_bitwise_identical(run, tmp_path):
    """The same config and seeds on a CPU: identical token arrays, weights and statistics."""
    first, config = run
    second = tmp_path / "again"
    second.mkdir()
    result = snakemake(second, "results/stats/summary.tsv", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    same = ["results/tokens/text_bpe/train.npy", "results/fetch/text/manifest.tsv", "results/corpus/dna/train.txt", "results/tokens/dna_kmer/eval.npy",
            "results/models/dna_bpe/seed2/model.safetensors", "results/extract/text_bpe/seed1/predictions.npz",
            *[f"results/stats/{c}/{t}.tsv" for c in CONDITIONS for t in ("outputs", "js", "pairs", "topk", "fisher")],
            "results/stats/summary.tsv"]
    for name in same:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

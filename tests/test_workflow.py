"""Integration: snakemake runs the real workflow on tiny slices of the bundled data.

One module-scoped run of the whole pipeline (3 conditions x 2 members, tiny
models), then checks of its files, of what reruns after edits, of the report,
of bad input end to end, and of lint and formatting.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from gfm_limits.layout import FIGURES
from gfm_limits.resources import STOP_MIN

from conftest import CONDITIONS, ROOT, SNAKEMAKE, job_counts, snakemake, tiny_config, tiny_workflow

pytestmark = pytest.mark.integration


def test_every_output_is_written(run):
    root, _ = run
    summary = pd.read_csv(root / "results/stats/summary.tsv", sep="\t")
    assert list(summary["condition"]) == CONDITIONS
    assert (summary["members"] == 2).all()
    assert summary.filter(like="_mean").notna().all().all()
    for name in FIGURES:
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
    geometry = pd.read_csv(root / "results/stats/dna_kmer/gradient_geometry_members.tsv", sep="\t")
    assert list(geometry["group"].unique()) == ["word_input", "position", "token_type", "encoder.0", "head_transform",
                                                "word_decoder"]
    ranks = geometry[geometry["statistic"].isin(["effective_rank", "stable_rank"])]
    assert ranks["value"].between(1, 12).all() and (ranks["rows"] == 12).all()  # at most the 12 rows
    intervals = pd.read_csv(root / "results/stats/dna_kmer/gradient_geometry.tsv", sep="\t")
    assert {"word_input - encoder", "word_decoder - encoder"} <= set(intervals["group"])
    assert (intervals["ci_low"] <= intervals["ci_high"]).all()
    assert summary["grad_effective_rank_word_input_minus_encoder"].iloc[:3].notna().all()


def test_controls_untied_and_no_layer_models_change_only_the_model(run):
    root, _ = run
    untied = pd.read_csv(root / "results/stats/dna_bpe_untied/fisher_per_example.tsv", sep="\t")
    for _, member in untied.groupby("seed"):  # the decoder is its own matrix, counted in the head
        value = dict(zip(member["group"], member["fisher"]))
        assert value["head"] >= value["word_decoder"] > 0 and value["embeddings"] >= value["word_input"] > 0
    config = json.loads((root / "results/models/dna_bpe_untied/seed1/config.json").read_text())
    assert config["tie_word_embeddings"] is False
    no_layers = pd.read_csv(root / "results/stats/dna_bpe_nolayers/fisher.tsv", sep="\t")
    assert set(no_layers["group"]) == {"embeddings", "head"}
    summary = pd.read_csv(root / "results/stats/summary.tsv", sep="\t").set_index("condition")
    assert summary.loc["dna_bpe_nolayers", "fisher_share_transformer_mean"] == 0.0
    # the controls train on dna_bpe's very tokens, encoded once
    assert not (root / "results/tokens/dna_bpe_untied").exists()
    assert not (root / "results/tokenizers/dna_bpe_nolayers.json").exists()
    records = [json.loads((root / f"results/models/{c}/seed1/training.json").read_text())
               for c in ("dna_bpe", "dna_bpe_untied")]
    assert records[0]["tokens_sha256"] == records[1]["tokens_sha256"]
    # every GPU job's log names its card and when it ran (a CPU here); training.json the card
    from gfm_limits.gpu_jobs import read_jobs, shared_cards

    jobs = read_jobs(sorted((root / "results/logs").glob("*/*/seed*.log")))
    assert {Path(j["log"]).parts[-3] for j in jobs} >= {"train", "extract"}
    assert all(j["card"] == {"device": "cpu"} and j["start"] <= j["end"] for j in jobs)
    assert not shared_cards(jobs) and records[0]["card"] == {"device": "cpu"}


def test_intervals_findings_bands_cka_and_baselines(run):
    root, _ = run
    summary = pd.read_csv(root / "results/stats/summary.tsv", sep="\t").set_index("condition")
    for condition in CONDITIONS:
        ci = pd.read_csv(root / f"results/stats/{condition}/ci.tsv", sep="\t").set_index("statistic")
        for stat in ("kl_uniform_bits", "kl_from_uniform_bits", "cross_entropy_bits", "js_p1", "spearman",
                     "procrustes_cosine", "fisher_share_embeddings", "fisher_pe_share_embeddings",
                     "cka_static_linear", "cka_pooled_linear"):  # the point estimate is the summary's mean
            assert ci.loc[stat, "estimate"] == pytest.approx(summary.loc[condition, f"{stat}_mean"], rel=1e-6)
        # every one of the 200 replicates counts, but for a pair statistic those that drew one of
        # the 2 members twice (about half) have no pair
        assert ci.loc["kl_uniform_bits", "n_boot"] == 200 and 0 < ci.loc["js_p1", "n_boot"] < 200
        # positions are resampled by their held-out row, the per-example Fisher by its rows
        assert set(ci.loc[["kl_uniform_bits", "js_p1", "fisher_pe_share_embeddings"], "resampled"]) == {"members+rows"}
        # bands: the position-weighted mean of a member's per-band cross-entropy is its overall one
        bands = pd.read_csv(root / f"results/stats/{condition}/bands.tsv", sep="\t")
        ce = bands[bands["statistic"] == "cross_entropy_bits"]
        outputs = pd.read_csv(root / f"results/stats/{condition}/outputs.tsv", sep="\t").set_index("seed")
        for seed, member in ce.groupby("seed_a"):
            overall = np.average(member["value"], weights=member["items"])
            assert overall == pytest.approx(outputs.loc[seed, "cross_entropy_bits"], rel=1e-6)
        cka = pd.read_csv(root / f"results/stats/{condition}/cka.tsv", sep="\t")
        assert set(cka["space"]) == {"static", "contextual", "pooled"} and cka["cka"].between(0, 1).all()
        assert (cka.loc[cka["space"] == "pooled", "items"] == 12).all()  # one per held-out row (extract.n_sequences)
        shared = "dna_bpe" if condition.startswith("dna_bpe") else condition  # controls use dna_bpe's tokens
        baselines = pd.read_csv(root / f"results/baselines/tokens/{shared}.tsv", sep="\t")
        for unit in ("token", "char"):
            names = set(baselines.loc[baselines["unit"] == unit, "baseline"])
            assert {f"markov{k}" for k in range(6)} <= names
        assert "xz" in set(baselines["baseline"])
    assert summary["context_used"].notna().all()
    findings = pd.read_csv(root / "results/stats/findings.tsv", sep="\t")
    assert set(zip(findings["dna"], findings["text"])) == {("dna_bpe", "text_bpe"), ("dna_kmer", "text_bpe")}
    # a finding holds when the interval of DNA - text lies wholly on its claimed side of 0
    less = findings["claim"] == "DNA < text"
    assert (findings["holds"] == np.where(less, findings["ci_high"] < 0, findings["ci_low"] > 0)).all()
    # beside it the bootstrap's sign probability, and Cohen's d for the statistics over members only
    assert findings["p_value"].between(1 / 200, 1).all()
    from gfm_limits.headline import STATISTICS

    over_pairs = findings["statistic"].map(lambda name: any(s.over == "pairs" and s.finds([name]) for s in STATISTICS))
    assert over_pairs.any() and not over_pairs.all()
    assert findings.loc[over_pairs, "effect_size_d"].isna().all()
    assert findings.loc[~over_pairs, "effect_size_d"].notna().all()


def test_dynamics_follow_every_member_and_end_at_the_stats_rules_numbers(run):
    """Every trained condition's statistics at the snapshot steps of training.json and the final
    step; with dynamics.n_sequences (64) above extract.n_sequences (12) the final step reads the
    very positions of the stats rule, so it gives the stats rule's numbers."""
    from gfm_limits.headline import fisher_shares

    root, _ = run
    combined = pd.read_csv(root / "results/stats/dynamics.tsv", sep="\t", dtype={"seed_b": "Int64"})
    assert list(combined["condition"].unique()) == CONDITIONS
    assert not list((root / "results/state").glob("*/*.snapshots"))  # moved into the outputs
    for condition in CONDITIONS:
        record = json.loads((root / f"results/models/{condition}/seed1/training.json").read_text())
        assert record["snapshot_steps"] == [1, 2, 5]  # snapshot_steps(10, 5)
        assert {p.name for p in (root / f"results/models/{condition}/seed2.snapshots").iterdir()} >= {
            "step1", "step2", "step5"}
        table = combined[combined["condition"] == condition]
        assert sorted(table["step"].unique()) == [1, 2, 5, 10]
        final = table[table["final"]].set_index(["statistic", "seed_a", "seed_b"])["value"]
        assert (table.loc[table["final"], "step"] == 10).all()
        outputs = pd.read_csv(root / f"results/stats/{condition}/outputs.tsv", sep="\t").set_index("seed")
        shares = fisher_shares(pd.read_csv(root / f"results/stats/{condition}/fisher.tsv", sep="\t"))
        for seed in (1, 2):
            for stat in ("cross_entropy_bits", "unigram_cross_entropy_bits", "entropy_bits", "kl_uniform_bits",
                         "kl_from_uniform_bits"):
                assert final[(stat, seed, pd.NA)] == pytest.approx(outputs.loc[seed, stat], rel=1e-6), stat
            gain = outputs.loc[seed, "unigram_cross_entropy_bits"] - outputs.loc[seed, "cross_entropy_bits"]
            assert final[("context_gain_bits", seed, pd.NA)] == pytest.approx(gain, rel=1e-5, abs=1e-6)
            for part in ("embeddings", "transformer", "head"):
                assert final[(f"fisher_share_{part}", seed, pd.NA)] == pytest.approx(shares.loc[seed, part],
                                                                                    rel=1e-5, abs=1e-9)
        pairs = pd.read_csv(root / f"results/stats/{condition}/pairs.tsv", sep="\t").iloc[0]
        js = pd.read_csv(root / f"results/stats/{condition}/js.tsv", sep="\t").set_index("top_p")
        topk = pd.read_csv(root / f"results/stats/{condition}/topk.tsv", sep="\t").set_index("k")
        expected = {"js_p1": js.loc[1.0, "js_distance"], "disagreement": pairs["disagreement"],
                    "spearman": pairs["spearman"], "jaccard_k10": topk.loc[10, "jaccard"]}
        for stat, value in expected.items():
            assert final[(stat, 1, 2)] == pytest.approx(value, rel=1e-6), stat


def test_imported_models_are_analysed_alike(run, tmp_path):
    """HF folders given as `imported` models (here the tiny run's own members) go through the same
    extract and stats: the same outputs as when the pipeline trained them."""
    root, config_path = run
    config = yaml.safe_load(config_path.read_text())
    config["conditions"] = {
        "dna_elsewhere": {"source": "dna", "imported": [str(root / f"results/models/dna_bpe/seed{s}")
                                                            for s in (1, 2)]},
        "text_elsewhere": {"source": "text", "imported": [str(root / f"results/models/text_bpe/seed{s}")
                                                              for s in (1, 2)]}}
    path = tmp_path / "elsewhere.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--configfile", str(path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rule train:" not in result.stdout + result.stderr
    assert "rule dynamics:" not in result.stdout + result.stderr  # no snapshots: the table has its header only
    assert pd.read_csv(tmp_path / "results/stats/dynamics.tsv", sep="\t").empty
    for ours, theirs in (("dna_bpe", "dna_elsewhere"), ("text_bpe", "text_elsewhere")):
        expected = pd.read_csv(root / f"results/stats/{ours}/outputs.tsv", sep="\t")
        found = pd.read_csv(tmp_path / f"results/stats/{theirs}/outputs.tsv", sep="\t")
        pd.testing.assert_frame_equal(found, expected, rtol=1e-6)
    findings = pd.read_csv(tmp_path / "results/stats/findings.tsv", sep="\t")
    assert set(findings["dna"]) == {"dna_elsewhere"}


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


def test_changing_a_stats_option_reruns_only_stats_scorecard_figures_and_provenance(run, tmp_path):
    root, config = run
    edited = yaml.safe_load(config.read_text())
    edited["stats"]["top_p"] = [0.1, 0.5, 1.0]
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    result = snakemake(root, "--configfile", str(path), "-n")
    n = len(CONDITIONS)
    assert job_counts(result.stdout) == {"stats": n, "summary": 1, "scorecard": 1, "figures": 1, "provenance": 1,
                                         "all": 1}


def test_adding_a_seed_adds_one_training_job_per_condition(run, tmp_path):
    root, config = run
    edited = yaml.safe_load(config.read_text())
    edited["seeds"] = [1, 2, 3]
    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))
    counts = job_counts(snakemake(root, "--configfile", str(path), "-n").stdout)
    assert counts["train"] == len(CONDITIONS) and counts["extract"] == len(CONDITIONS)
    assert counts["dynamics"] == len(CONDITIONS) and counts["dynamics_table"] == 1
    assert "tokenizer" not in counts and "encode" not in counts and "baselines" not in counts


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


@pytest.mark.parametrize("names, sources, conditions, tokenized, released, kmer", [
    (["paper.yaml"], 2, 8, 4, 0, 2), (["paper_v2.yaml"], 4, 9, 5, 0, 3),
    (["paper.yaml", "released.yaml"], 2, 8, 4, 3, 2)])
def test_paper_config_dry_runs_to_the_full_job_graph_offline(tmp_path, names, sources, conditions, tokenized,
                                                              released, kmer):
    """config/paper.yaml (and v2, and the paper's released models beside paper.yaml): every
    condition x 5 members (paper.yaml's single-nucleotide dna_1mer with a tokenizer and token
    arrays of its own) and the analysis, planned without any network access (the sources are
    https URLs; a dry run fetches nothing)."""
    if released:  # released.yaml reads downloaded folders
        for condition in yaml.safe_load((ROOT / "config/released.yaml").read_text())["conditions"].values():
            for folder in condition["imported"]:
                (tmp_path / folder).mkdir(parents=True)
    result = snakemake(tmp_path, "-n", "--configfile", *[str(ROOT / "config" / n) for n in names], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    every = conditions + released
    expected = {"fetch": sources, "corpus": sources, "char_baselines": sources, "tokenizer": tokenized,
                "encode": 2 * (tokenized + released), "encode_repeats": tokenized + released,
                "train": 5 * conditions, "eval_masks": every,
                "extract": 5 * every, "baselines": tokenized + released, "stats": every, "summary": 1,
                "scorecard": 1, "figures": 1, "provenance": 1, "all": 1,
                "dynamics": conditions, "dynamics_table": 1,  # imported (released) models have no snapshots
                "rc_consistency": 5 * kmer, "rc_symmetry": kmer}  # the k-mer conditions trained here (dna_1mer too)
    if released:
        expected |= {"import_tokenizer": released, "import_model": 5 * released}
    assert job_counts(out) == expected
    train = out.split("rule train:")[1].split("\n\n")[0]
    assert "gpu=1" in train and "runtime=" in train and "mem_mb=" in train
    assert not (tmp_path / "results").exists()


class JobResources(dict):
    """A job's resources as the SLURM executor plugin reads them: .get(name) and .name."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def dry_run_resources(output: str) -> dict[str, dict]:
    """Rule -> the resources of its first job, as a dry run lists them (`resources: k=v, ...`)."""
    found = {}
    for rule, block in re.findall(r"^rule (\w+):\n(.*?)(?:\n\n|\Z)", output, re.M | re.S):
        line = re.search(r"^\s+resources: (.*)$", block, re.M)
        if line and rule not in found:
            pairs = (pair.split("=", 1) for pair in re.split(r", (?=\w+=)", line.group(1)))
            found[rule] = JobResources({k: int(v) if v.isdigit() else v for k, v in pairs})
    return found


def sbatch_flags(resources: JobResources) -> list[str]:
    """The sbatch call the SLURM executor plugin builds from a job's resources, by its own code
    (partition and account aside, which it adds from slurm_partition and slurm_account)."""
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string
    from snakemake_executor_plugin_slurm.validation import validate_slurm_extra

    job = SimpleNamespace(resources=resources, threads=1)
    validate_slurm_extra(job)  # what the plugin refuses in slurm_extra (-C, --gpus, ...) raises here
    params = {"run_uuid": "run", "slurm_logfile": "log", "comment_str": "rule", "account": "", "partition": "",
              "workdir": None}
    return shlex.split(get_submit_command(job, params) + set_gres_string(job))


GPU_RULES = {"train", "extract", "dynamics", "rc_consistency"}


@pytest.mark.parametrize("edited", [False, True], ids=["as_shipped", "edited"])
def test_the_slurm_profile_puts_cpu_and_gpu_jobs_apart_and_keeps_a_users_flags(tmp_path, edited):
    """profiles/slurm as shipped, and with its EDIT HERE block edited as its comments say (a GPU
    constraint, and an sbatch flag for every job): the CPU jobs go to the CPU partition without
    a GPU, the GPU jobs to the GPU partition with one GPU, the constraint and their CPUs per GPU;
    train keeps the user's flag and adds its stop signal before it."""
    text = (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    if edited:
        for line in ('constraint: "a100|h100"', "slurm_extra: \"'--mail-type=FAIL'\""):
            assert f"# {line}" in text
            text = text.replace(f"# {line}", line)
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "config.yaml").write_text(text)
    config = tiny_workflow(tmp_path / "wf")
    result = subprocess.run([*SNAKEMAKE, "-d", str(tmp_path / "wf"), "--profile", str(tmp_path / "profile"), "-n",
                             "--configfile", str(config)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = dry_run_resources(result.stdout + result.stderr)
    user = ["--mail-type=FAIL"] if edited else []
    assert GPU_RULES < set(jobs) and {"corpus", "tokenizer", "encode", "baselines", "stats"} < set(jobs)
    for rule, resources in jobs.items():
        flags = sbatch_flags(resources)
        if rule in GPU_RULES:
            assert resources["slurm_partition"] == "gpu", rule
            assert "--gpus=1" in flags and any(f.startswith("--cpus-per-gpu=") for f in flags), (rule, flags)
            assert ("a100|h100" in flags) == edited and flags.count("-C") == edited, (rule, flags)
        else:
            assert resources["slurm_partition"] == "cpu", rule
            assert not [f for f in flags if f.startswith(("--gpus", "--gres", "--signal")) or f == "-C"], (rule, flags)
        signal = [f"--signal=TERM@{STOP_MIN * 60}"] if rule == "train" else []
        assert [f for f in flags if f.startswith(("--signal", "--mail-type"))] == signal + user, (rule, flags)


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
    same = ["results/tokens/text_bpe/train.npy", "results/fetch/text/manifest.tsv", "results/corpus/dna/train.txt",
            "results/tokens/dna_kmer/eval.npy",
            "results/models/dna_bpe/seed2/model.safetensors", "results/extract/text_bpe/seed1/predictions.npz",
            *[f"results/stats/{c}/{t}.tsv" for c in CONDITIONS for t in ("outputs", "js", "pairs", "topk", "fisher")],
            "results/stats/summary.tsv"]
    for name in same:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_table_renamed_in_one_rule_breaks_the_dag_not_a_job(tmp_path):
    """The gathering rules read the paths the plan declares and the package reads only the paths
    it is given: a stats table renamed in the stats rule alone leaves the summary and figures
    rules without a producer for the old name, and the dry run says so before any job runs."""
    code = tmp_path / "workflow"
    code.mkdir()
    for part in ("Snakefile", "rules", "scripts", "config", "envs", "report", "profiles"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, code / part)
    stats = code / "rules" / "stats.smk"
    declared = "        **PLAN.table_outputs(),\n"
    assert declared in stats.read_text()
    stats.write_text(stats.read_text().replace(
        declared, '        **{**PLAN.table_outputs(), "js": "results/stats/{condition}/js_distance.tsv"},\n'))
    config = tiny_workflow(tmp_path / "wf")
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(code / "Snakefile"), "-d",
                             str(tmp_path / "wf"), "-n", "--configfile", str(config)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "MissingInputException" in out and "results/stats/text_bpe/js.tsv" in out

"""The workflow's plan from small configs, without Snakemake: the default, the controls beside
it, and a condition of imported models. Expected values are written out by hand."""

import copy
import re
from types import SimpleNamespace

import pytest
import yaml

from gfm_limits.config import check_config
from gfm_limits.layout import FIGURES, TABLES
from gfm_limits.plan import Plan, alternatives, by_condition

from conftest import ROOT

SCHEMA = ROOT / "config" / "schema.yaml"
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
CONTROLS = yaml.safe_load((ROOT / "config" / "controls.yaml").read_text())["conditions"]
PAPER = ["text_bpe", "dna_bpe", "dna_kmer"]


def checked(config: dict) -> dict:
    config = copy.deepcopy(config)
    check_config(config, SCHEMA)
    return config


@pytest.fixture(scope="module")
def default():
    return Plan.from_config(checked(DEFAULT))


@pytest.fixture(scope="module")
def controls():
    # what `--configfile config/controls.yaml` gives: its conditions added to the default's
    return Plan.from_config(checked({**DEFAULT, "conditions": {**DEFAULT["conditions"], **CONTROLS}}))


@pytest.fixture(scope="module")
def imported():
    config = copy.deepcopy(DEFAULT)
    config["conditions"] |= {"dna_paper": {"source": "dna", "imported": ["hf/dna-1", "hf/dna-2"]},
                             "text_paper": {"source": "text", "imported": ["hf/text-1", "hf/text-2", "hf/text-3",
                                                                           "hf/text-4"]}}
    return Plan.from_config(checked(config))


def test_the_default_trains_three_conditions_of_three_members_each(default):
    assert list(default.conditions) == PAPER
    assert default.trained == tuple(PAPER) and default.imported == ()
    assert default.members == tuple((c, s) for c in PAPER for s in (1, 2, 3))
    assert default.trained_members == default.members
    assert default.tokenized == default.tokenizers_trained == tuple(PAPER)
    assert default.used_sources == ("dna", "text")
    assert [default.conditions[c].kind for c in PAPER] == ["text", "dna", "dna"]
    assert default.comparisons == (("dna_bpe", "text_bpe"), ("dna_kmer", "text_bpe"))
    assert default.model("dna_kmer") == DEFAULT["model"] | {"tie_embeddings": True}  # the schema fills the rest


def test_the_default_gathers_every_table_curve_and_figure_in_plan_order(default):
    assert default.stats_tables["ci"] == ["results/stats/text_bpe/ci.tsv", "results/stats/dna_bpe/ci.tsv",
                                          "results/stats/dna_kmer/ci.tsv"]
    assert set(default.stats_tables) == set(TABLES)
    assert default.table_outputs()["js"] == "results/stats/{condition}/js.tsv"
    assert default.replicates[1] == "results/stats/dna_bpe/replicates.npz"
    assert default.baselines == [f"results/baselines/tokens/{c}.tsv" for c in PAPER]
    assert default.curves[:2] == ["results/models/text_bpe/seed1.curve.tsv", "results/models/text_bpe/seed2.curve.tsv"]
    assert len(default.curves) == 9 and len(set(default.curves)) == 9
    assert default.models[-1] == "results/models/dna_kmer/seed3"
    assert default.fetched == ["results/fetch/dna", "results/fetch/text"]
    assert default.dynamics_tables == [f"results/stats/{c}/dynamics.tsv" for c in PAPER]
    assert list(default.figures) == list(FIGURES)
    assert default.figures["context"] == {"png": "results/figures/context.png", "pdf": "results/figures/context.pdf"}


def test_inputs_of_one_job(default):
    assert default.member_paths("results/models/{condition}/seed{seed}", "dna_bpe") == [
        "results/models/dna_bpe/seed1", "results/models/dna_bpe/seed2", "results/models/dna_bpe/seed3"]
    assert default.source_path("results/corpus/{source}/eval.txt", "dna_kmer") == "results/corpus/dna/eval.txt"
    assert default.tokenizer_corpus("text_bpe") == ["results/corpus/text/train.txt"]
    assert default.tokenizer_corpus("dna_kmer") == []  # k-mers need no corpus
    assert default.tokenizer_kind("dna_kmer") == "kmer" and default.seeds("dna_bpe") == [1, 2, 3]


def test_the_source_settings_of_fetch_and_corpus(default):
    url = "resources/dna/tair10_chr1_3Mbp.fa.gz"
    assert default.local_files("dna") == [url]
    assert default.fetch_params("dna") == {"urls": [url], "sha256": [DEFAULT["sources"]["dna"]["sha256"]],
                                           "join": False, "max_bytes": 200_000_000_000}
    assert default.corpus_params("text") == {"origin": "resources/text/wiki_summaries.jsonl.gz", "format": "jsonl",
                                             "kind": "text", "field": "text", "max_documents": None}
    config = checked({**DEFAULT, "sources": {**DEFAULT["sources"], "shards": {
        "urls": ["https://example.org/a.txt", "local/b.txt"], "format": "lines", "kind": "dna"}}})
    plan = Plan.from_config(config)
    assert plan.local_files("shards") == ["local/b.txt"]  # a download is no input file
    assert plan.fetch_params("shards")["sha256"] == [None, None]
    assert plan.corpus_params("shards")["origin"] == "https://example.org/a.txt local/b.txt"
    assert plan.used_sources == ("dna", "text")  # a source no condition reads is fetched only when asked for


def test_controls_share_the_tokens_of_their_paper_condition(controls):
    assert len(controls.conditions) == 10 and controls.trained == tuple(controls.conditions)
    assert controls.conditions["dna_kmer_rcaug"].tokens == "dna_kmer"  # RC augmentation: the same tokens
    assert controls.conditions["dna_bpe_untied"].tokens == "dna_bpe"
    assert controls.conditions["text_bpe_nolayers"].tokens == "text_bpe"
    assert controls.tokenized == tuple(PAPER)  # the controls are encoded once, as their paper condition
    assert controls.tokens_path("results/tokens/{condition}/train.npy", "dna_bpe_nolayers") == \
        "results/tokens/dna_bpe/train.npy"
    baselines = dict(zip(controls.conditions, controls.baselines))
    assert baselines["text_bpe_untied"] == "results/baselines/tokens/text_bpe.tsv"
    assert controls.model("dna_bpe_nolayers")["num_layers"] == 0 and controls.model("dna_bpe")["num_layers"] == 2
    assert controls.model("text_bpe_untied")["tie_embeddings"] is False
    assert controls.comparisons == (("dna_bpe", "text_bpe"), ("dna_kmer", "text_bpe"),
                                    ("dna_bpe_untied", "text_bpe_untied"), ("dna_bpe_nolayers", "text_bpe_nolayers"),
                                    ("dna_bpe_embedlr", "text_bpe_embedlr"))  # a train change is a model of its own
    assert len(controls.members) == 30 and len(controls.curves) == 30  # the RC control is in no finding
    assert controls.train("dna_bpe_embedlr")["embedding_lr_scale"] == 0.1
    assert controls.train("dna_bpe")["embedding_lr_scale"] == 1.0
    assert controls.train("dna_bpe_embedlr")["lr"] == controls.train("dna_bpe")["lr"]  # only the scale changes
    assert controls.conditions["dna_bpe_embedlr"].tokens == "dna_bpe"


def test_imported_models_are_members_numbered_from_one_with_their_own_tokenizer(imported):
    assert imported.imported == ("dna_paper", "text_paper") and imported.trained == tuple(PAPER)
    assert imported.seeds("dna_paper") == [1, 2] and imported.seeds("text_paper") == [1, 2, 3, 4]
    assert imported.imported_folder("text_paper", 1) == "hf/text-1"
    assert imported.imported_folder("text_paper", 4) == "hf/text-4"
    assert imported.imported_folders("dna_paper") == ["hf/dna-1", "hf/dna-2"]
    assert imported.conditions["dna_paper"].tokens == "dna_paper" and imported.tokenizer_kind("dna_paper") is None
    assert imported.tokenized == (*PAPER, "dna_paper", "text_paper")
    assert imported.tokenizers_trained == tuple(PAPER)  # the imported ones come with their models
    assert ("dna_paper", 2) in imported.members and ("dna_paper", 2) not in imported.trained_members
    assert len(imported.curves) == 9 and "results/models/text_paper/seed4" in imported.models
    assert len(imported.dynamics_tables) == 3  # imported models have no snapshots
    # imported models compare with each other, never with a model trained here
    assert imported.comparisons == (("dna_bpe", "text_bpe"), ("dna_kmer", "text_bpe"), ("dna_paper", "text_paper"))


def test_a_wildcard_constraint_matches_whole_names_longest_first():
    names = ["text_bpe", "text_bpe_untied", "dna_bpe"]
    constraint = alternatives(names)
    assert re.match(constraint, "text_bpe_untied").group() == "text_bpe_untied"  # not its prefix text_bpe
    assert all(re.fullmatch(constraint, name) for name in names)
    assert not re.fullmatch(constraint, "dna_kmer")
    assert not re.fullmatch(alternatives([]), "anything")


def test_gathered_inputs_regroup_by_condition(default):
    inputs = SimpleNamespace(**default.stats_tables, replicates=default.replicates)
    grouped = by_condition(list(default.conditions), inputs, [*TABLES, "replicates"])
    assert grouped["dna_kmer"]["outputs"] == "results/stats/dna_kmer/outputs.tsv"
    assert grouped["text_bpe"]["replicates"] == "results/stats/text_bpe/replicates.npz"
    assert all(path.split("/")[2] == condition for condition, paths in grouped.items() for path in paths.values())


def test_looks_give_each_condition_its_data_and_its_model_variant(controls, imported):
    looks = controls.looks
    assert looks["dna_bpe"] == ["dna_bpe", ""] and looks["dna_kmer"] == ["dna_kmer", ""]
    assert looks["dna_bpe_untied"] == ["dna_bpe", "tie_embeddings=False"]
    assert looks["text_bpe_nolayers"] == ["text_bpe", "num_layers=0"]
    assert looks["dna_bpe_embedlr"] == ["dna_bpe", "embedding_lr_scale=0.1"]
    assert imported.looks["dna_paper"] == ["dna_paper", "imported"] and imported.looks["dna_bpe"] == ["dna_bpe", ""]


def test_rc_augmentation_and_the_k_of_kmers_per_condition(default, controls):
    assert default.rc_conditions == ("dna_kmer",)
    assert default.rc_tables == ["results/stats/dna_kmer/rc_symmetry.tsv"]
    assert default.train("dna_kmer")["reverse_complement_augmentation"] is False
    assert controls.rc_conditions == ("dna_kmer", "dna_kmer_rcaug")
    settings = controls.train("dna_kmer_rcaug")
    assert settings["reverse_complement_augmentation"] is True and settings["kmer_k"] == 6
    assert controls.looks["dna_kmer_rcaug"] == ["dna_kmer", "reverse_complement_augmentation=True"]
    # the default's tokenizer settings are unchanged: the k-mer condition keeps tokenizer.kmer_k
    tokenizer = checked(DEFAULT)["tokenizer"]
    assert default.tokenizer_settings("dna_kmer", tokenizer) == tokenizer
    assert default.tokenizer_settings("text_bpe", tokenizer) == tokenizer
    # a global switch reaches the k-mer conditions only
    config = copy.deepcopy(DEFAULT)
    config["train"] = {**config["train"], "reverse_complement_augmentation": True}
    plan = Plan.from_config(checked(config))
    assert plan.conditions["dna_kmer"].rc_augmented and not plan.conditions["dna_bpe"].rc_augmented


def test_a_single_nucleotide_condition_has_its_own_tokenizer_and_k():
    config = copy.deepcopy(DEFAULT)
    config["conditions"] = {**config["conditions"], "dna_1mer": {"source": "dna", "tokenizer": "kmer", "kmer_k": 1}}
    plan = Plan.from_config(checked(config))
    assert plan.conditions["dna_1mer"].tokens == "dna_1mer" and plan.conditions["dna_1mer"].kmer_k == 1
    assert plan.conditions["dna_kmer"].kmer_k == 6 and plan.tokenized == (*PAPER, "dna_1mer")
    assert plan.tokenizer_settings("dna_1mer", checked(config)["tokenizer"])["kmer_k"] == 1
    assert ("dna_1mer", "text_bpe") in plan.comparisons and "dna_1mer" in plan.rc_conditions


@pytest.mark.parametrize("condition, message", [
    ({"source": "dna", "tokenizer": "bpe", "kmer_k": 2}, "only a condition with tokenizer kmer has a k"),
    ({"source": "dna", "tokenizer": "bpe", "train": {"reverse_complement_augmentation": True}}, "needs the kmer"),
])
def test_kmer_keys_on_other_conditions_are_named(condition, message):
    from gfm_limits.files import InputError

    config = copy.deepcopy(DEFAULT)
    config["conditions"] = {**config["conditions"], "odd": condition}
    with pytest.raises(InputError, match=message):
        checked(config)

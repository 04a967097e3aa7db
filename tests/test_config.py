"""Config checks: unknown keys named with a suggestion, cross-key checks, schema defaults and the
dataclasses they fill."""

import copy

import pytest
import yaml
from snakemake.utils import validate

from gfm_limits.config import check_consistency, check_keys
from gfm_limits.files import InputError, sha256sum

from conftest import ROOT

SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_default_config_is_valid_and_defaults_fill_in():
    config = copy.deepcopy(CONFIG)
    check_keys(config, SCHEMA)
    validate(config, str(ROOT / "config" / "schema.yaml"))
    check_consistency(config)
    assert config["train"]["grad_clip"] == 0.5
    assert config["extract"]["fisher_mask_fraction"] == 0.15


def test_every_schema_property_has_description_and_default():
    def walk(node, path):
        for key, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{path}{key} has no description"
            assert "default" in sub, f"{path}{key} has no default"
            walk(sub, f"{path}{key}.")

    walk(SCHEMA, "")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["train"].update(lrr=0.1), r"unknown key 'train.lrr'; did you mean 'train.lr'\?"),
        (lambda c: c.update(trian={}), r"unknown key 'trian'; did you mean 'train'\?"),
        (lambda c: c["sources"]["dna"].update(sha=""),
         r"unknown key 'sources.dna.sha'; did you mean 'sources.dna.sha256'"),
        (lambda c: c["conditions"]["dna_kmer"].update(tokeniser="kmer"), r"'conditions.dna_kmer.tokeniser'"),
    ],
)
def test_unknown_key_is_named(edit, message):
    config = copy.deepcopy(CONFIG)
    edit(config)
    with pytest.raises(InputError, match=message):
        check_keys(config, SCHEMA)


def test_condition_with_missing_source_is_named():
    config = copy.deepcopy(CONFIG)
    validate(config, str(ROOT / "config" / "schema.yaml"))
    config["conditions"]["dna_kmer"]["source"] = "genome"
    with pytest.raises(InputError, match="conditions.dna_kmer.source: no source named 'genome'"):
        check_consistency(config)


def test_check_config_fills_top_level_defaults():
    from gfm_limits.config import check_config

    config = {"seeds": [4, 5]}
    check_config(config, ROOT / "config" / "schema.yaml")
    assert list(config["conditions"]) == ["text_bpe", "dna_bpe", "dna_kmer"]
    assert config["model"]["hidden_size"] == 768 and config["encode"]["seq_len"] == 512


@pytest.mark.parametrize("condition, message", [
    ({"source": "dna"}, "give exactly one of tokenizer .train here. and imported"),
    ({"source": "dna", "tokenizer": "bpe", "imported": ["a", "b"]}, "give exactly one of tokenizer"),
    ({"source": "dna", "imported": ["a", "b"], "model": {"num_layers": 0}}, "imported models bring their own model"),
    ({"source": "dna", "imported": ["a", "b"], "train": {"embedding_lr_scale": 0.1}},
     "conditions.c: train changes apply to training"),
    ({"source": "dna", "tokenizer": "bpe", "model": {"num_heads": 5}}, "conditions.c.model.num_heads must divide"),
])
def test_contradictory_conditions_are_named(condition, message):
    config = copy.deepcopy(CONFIG)
    config["conditions"] = {"c": condition}
    validate(config, str(ROOT / "config" / "schema.yaml"))
    with pytest.raises(InputError, match=message):
        check_consistency(config)


@pytest.mark.parametrize("stats, message", [
    ({"top_k": [1, 5], "summary_k": 10}, "stats.summary_k .10. must be one of"),
    ({"top_p": [0.5], "summary_top_p": 1.0}, "stats.summary_top_p .1.0. must be")])
def test_summary_statistics_must_be_among_the_computed_ones(stats, message):
    config = copy.deepcopy(CONFIG)
    config["stats"] = stats
    validate(config, str(ROOT / "config" / "schema.yaml"))
    with pytest.raises(InputError, match=message):
        check_consistency(config)


@pytest.mark.parametrize("name", ["gpu.yaml", "paper.yaml", "paper_v2.yaml"])
def test_configs_that_train_another_model_name_every_model_key(name):
    """A --configfile overrides only the keys it names, so a config of another model that left one
    out would silently inherit the CPU default's (its initialisation std 0.05 kept config/gpu.yaml's
    first run on the unigram plateau): each such config names every model key and its row length."""
    from dataclasses import fields

    from gfm_limits.model import ModelConfig

    extra = yaml.safe_load((ROOT / "config" / name).read_text())
    named = set(extra["model"])
    assert named >= {f.name for f in fields(ModelConfig)} - {"tie_embeddings"}, sorted(named)
    assert extra["encode"]["seq_len"] <= extra["model"]["max_position"]


# config section -> the dataclass its keys fill, field for field (a script builds Config(**section))
STAGES = {"fetch": ("gfm_limits.sources", "FetchConfig"), "corpus": ("gfm_limits.corpus", "CorpusConfig"),
          "tokenizer": ("gfm_limits.tokenizer", "TokenizerConfig"), "encode": ("gfm_limits.tokenizer", "EncodeConfig"),
          "model": ("gfm_limits.model", "ModelConfig"), "train": ("gfm_limits.train", "TrainConfig"),
          "extract": ("gfm_limits.extract", "ExtractConfig"), "stats": ("gfm_limits.stats", "StatsConfig"),
          "baselines": ("gfm_limits.baselines", "BaselinesConfig")}
PER_MEMBER = {"train": {"seed", "kmer_k"}}  # fields the rule fills from a wildcard (or the condition), not the config


def test_every_schema_default_is_the_default_of_the_dataclass_it_fills():
    """Each stage's config keys are the fields of its dataclass, with the same defaults, so that
    Config(**config[stage]) needs no table that renames keys, and a call without the config (a
    test, a benchmark) computes what the pipeline computes by default."""
    import importlib
    from dataclasses import MISSING, fields

    # sections that fill no dataclass: the plan's (plan.py) and dynamics, whose one key goes
    # to dynamics.condition_dynamics as an argument
    assert set(SCHEMA["properties"]) == set(STAGES) | {"sources", "conditions", "seeds", "dynamics"}
    for section, (module, name) in STAGES.items():
        cls = getattr(importlib.import_module(module), name)
        found = {f.name: f.default if f.default_factory is MISSING else f.default_factory() for f in fields(cls)
                 if f.name not in PER_MEMBER.get(section, set())}
        schema = {key: node["default"] for key, node in SCHEMA["properties"][section]["properties"].items()}
        assert set(found) == set(schema), f"{section}: keys {sorted(set(schema) ^ set(found))} differ from {name}"
        for key, default in schema.items():
            assert found[key] == default and type(found[key]) in (type(default), float), (
                f"{section}.{key}: schema default {default!r}, {name}.{key} = {found[key]!r}")


def _layered(*layers: dict) -> tuple[dict, list[str]]:
    """config/config.yaml with `layers` merged over it as Snakemake merges --configfile files,
    then replace_inherited_sources: (config, warnings)."""
    from snakemake.utils import update_config

    from gfm_limits.config import replace_inherited_sources

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for layer in layers:
        update_config(config, copy.deepcopy(layer))
    return config, replace_inherited_sources(config, list(layers))


def test_a_new_url_drops_the_inherited_files_and_checksum():
    config, warnings = _layered({"sources": {"dna": {"url": "data/my_genome.fa.gz"}}})
    assert config["sources"]["dna"] == {"url": "data/my_genome.fa.gz", "format": "fasta"}
    assert len(warnings) == 1 and warnings[0].startswith("sources.dna: url given by a later config without sha256")
    assert "sha256" in config["sources"]["text"]  # a source the layer leaves alone keeps its own
    validate(config, str(ROOT / "config" / "schema.yaml"))  # fills defaults
    check_consistency(config)


def test_a_checksum_given_with_the_new_url_or_later_is_kept():
    digest = "ab" * 32
    config, warnings = _layered({"sources": {"dna": {"urls": ["a.fa", "b.fa"], "sha256": [digest, digest]}}})
    assert config["sources"]["dna"]["sha256"] == [digest, digest] and not warnings
    config, warnings = _layered({"sources": {"dna": {"url": "a.fa"}}}, {"sources": {"dna": {"sha256": digest}}})
    assert config["sources"]["dna"] == {"url": "a.fa", "format": "fasta", "sha256": digest} and not warnings
    # a second config file that moves the url again drops the first one's checksum too
    config, warnings = _layered({"sources": {"dna": {"url": "a.fa", "sha256": digest}}},
                                {"sources": {"dna": {"url": "b.fa"}}})
    assert "sha256" not in config["sources"]["dna"] and len(warnings) == 1


def test_sha256_null_means_no_checksum(tmp_path):
    from gfm_limits.config import check_config
    from gfm_limits.plan import source_sha256

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["sources"]["dna"]["sha256"] = None
    check_config(config, ROOT / "config" / "schema.yaml")
    assert source_sha256(config["sources"]["dna"]) == [None]


def test_own_data_from_a_configfile_is_fetched_without_the_defaults_checksum(tmp_path):
    """The README's own-data recipe for real: a working directory with config/config.yaml (as a
    clone has) and a --configfile naming local files; fetch reads them, no checksum mismatch."""
    import subprocess

    from conftest import SNAKEMAKE, read_dna

    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_bytes((ROOT / "config/config.yaml").read_bytes())
    (tmp_path / "data").mkdir()
    (tmp_path / "data/my_genome.fa").write_text(">chr1\n" + read_dna(5000) + "\n")
    (tmp_path / "data/my_corpus.txt").write_text("one document a line\nanother document\n")
    own = {"dna": {"url": "data/my_genome.fa"},  # relative to the working directory
           "text": {"url": str(tmp_path / "data/my_corpus.txt"), "format": "lines"}}  # or absolute
    (tmp_path / "own.yaml").write_text(yaml.safe_dump({"sources": own}))
    result = subprocess.run([*SNAKEMAKE, "--cores", "1", "results/fetch/dna", "results/fetch/text",
                             "--configfile", "own.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("dna", "text"):
        assert f"config: sources.{name}: url given by a later config without sha256" in result.stderr
    manifest = (tmp_path / "results/fetch/dna/manifest.tsv").read_text().splitlines()[1].split("\t")
    assert manifest[1] == "data/my_genome.fa" and manifest[3] == sha256sum(tmp_path / "data/my_genome.fa")
    assert (tmp_path / "results/fetch/text/manifest.tsv").is_file()

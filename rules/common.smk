# Helpers shared by the rules: wildcard constraints and the named input,
# params and resources functions. The logic lives in scripts/gfm_limits
# (the Snakefile has put scripts/ on sys.path and checked the config).
from gfm_limits.config import (
    comparisons,
    condition_model,
    condition_seeds,
    imported,
    source_kind,
    source_sha256,
    source_urls,
    token_condition,
)
from gfm_limits.layout import FIGURES, TABLES
from gfm_limits.resources import (
    baselines_resources,
    dynamics_resources,
    extract_resources,
    input_scaled_mem_mb,
    stats_resources,
    train_resources,
)


def _names(mapping):
    return "|".join(sorted(mapping, key=len, reverse=True)) or "^$"


wildcard_constraints:
    source=_names(config["sources"]),
    condition=_names(config["conditions"]),
    seed=r"\d+",
    split="train|eval",


CONDITIONS = list(config["conditions"])
# conditions whose members train here, and those that analyse checkpoints trained elsewhere
TRAINED = [c for c in CONDITIONS if not imported(config, c)]
IMPORTED = [c for c in CONDITIONS if imported(config, c)]
# (condition, seed) of every member; imported members are numbered 1..n
MEMBERS = [(c, s) for c in CONDITIONS for s in condition_seeds(config, c)]
MEMBER_DIRS = [f"{c}/seed{s}" for c, s in MEMBERS]
TRAINED_MEMBERS = [(c, s) for c, s in MEMBERS if c in TRAINED]
# conditions with their own tokenizer and token arrays; the others (controls) use these
TOKENIZED = list(dict.fromkeys(token_condition(config, c) for c in CONDITIONS))
TOKENIZERS_TRAINED = [c for c in TOKENIZED if c in TRAINED]  # the others are imported
CURVES = [f"results/models/{c}/seed{s}.curve.tsv" for c, s in TRAINED_MEMBERS]
# each condition's token baselines: those of the condition whose tokens it uses
BASELINES = [
    f"results/baselines/tokens/{token_condition(config, c)}.tsv" for c in CONDITIONS
]
USED_SOURCES = sorted({c["source"] for c in config["conditions"].values()})


def source_of(wildcards):
    return config["conditions"][wildcards.condition]["source"]


def local_source(wildcards):
    """The source's local files as inputs, so edits to them rerun the chain."""
    urls = source_urls(config["sources"][wildcards.source])
    return [url for url in urls if "://" not in url]


def fetch_params(wildcards):
    entry = config["sources"][wildcards.source]
    return {
        "urls": source_urls(entry),
        "sha256": source_sha256(entry),
        "join": entry["join"],
        "fetch": {**config["fetch"], "max_bytes": entry["max_bytes"]},
    }


def corpus_params(wildcards):
    c = config["corpus"]
    entry = config["sources"][wildcards.source]
    return {
        "origin": " ".join(source_urls(entry)),
        "format": entry["format"],
        "kind": source_kind(entry),
        "field": entry["field"],
        "max_documents": entry.get("max_documents"),
        "dna": {
            "window": c["dna_window"],
            "min_window": c["dna_min_window"],
            "eval_fraction": c["eval_fraction"],
        },
        "text": {"eval_fraction": c["eval_fraction"], "min_chars": c["text_min_chars"]},
    }


def tokenizer_params(wildcards):
    kind = config["conditions"][wildcards.condition].get("tokenizer")
    t = config["tokenizer"]
    return {"kind": kind, "vocab_size": t["bpe_vocab_size"], "k": t["kmer_k"]}


def model_params(wildcards):
    return condition_model(config, wildcards.condition)


def tokenizer_corpus(wildcards):
    """BPE learns from the training corpus of the condition's source; k-mers need none."""
    if config["conditions"][wildcards.condition].get("tokenizer") == "kmer":
        return []
    return f"results/corpus/{source_of(wildcards)}/train.txt"


def split_corpus(wildcards):
    return f"results/corpus/{source_of(wildcards)}/{wildcards.split}.txt"


def split_corpus_of(split):
    """An input function: the `split` corpus of the condition's source."""
    return source_file(f"results/corpus/{{source}}/{split}.txt")


def source_file(pattern):
    """An input function: `pattern` with {source} the source of the wildcard's condition."""

    def inputs(wildcards):
        return pattern.format(source=source_of(wildcards))

    return inputs


def member_files(pattern):
    """An input function: `pattern` for every member of the wildcard's condition, in seed order."""

    def inputs(wildcards):
        return [
            pattern.format(condition=wildcards.condition, seed=s)
            for s in seeds_of(wildcards)
        ]

    return inputs


def tokens_file(pattern):
    """An input function: `pattern` for the condition whose tokens this condition uses."""

    def inputs(wildcards):
        return pattern.format(condition=token_condition(config, wildcards.condition))

    return inputs


def seeds_of(wildcards):
    return condition_seeds(config, wildcards.condition)


def checkpoint_folder(wildcards):
    """The imported member's Hugging Face folder."""
    return config["conditions"][wildcards.condition]["checkpoints"][
        int(wildcards.seed) - 1
    ]


def checkpoint_folders(wildcards):
    return config["conditions"][wildcards.condition]["checkpoints"]


def stats_tables(pattern="results/stats/{condition}/{table}.tsv"):
    return {t: pattern.format(condition="{condition}", table=t) for t in TABLES}


def figure_paths():
    return expand("results/figures/{name}.{ext}", name=FIGURES, ext=["png", "pdf"])


# Cluster resources (see gfm_limits/resources.py); a profile adds what is site-specific.


def per_condition(estimate, key):
    """A resource callable: `key` of estimate(config, condition) for the job's condition."""

    def resource(wildcards):
        return estimate(config, wildcards.condition)[key]

    return resource


def baselines_mem_mb(wildcards):
    return baselines_resources(config)["mem_mb"]


def input_mem_mb(factor):
    """A resource callable: memory for a job holding `factor` times its input."""

    def resource(wildcards, input):
        return input_scaled_mem_mb(input.size_mb, factor)

    return resource

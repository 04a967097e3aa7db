"""The workflow's plan: what a config asks Snakemake to build, worked out once.

`Plan.from_config(config)` takes a config checked by config.check_config
(defaults filled in) and holds, as data: the conditions in config order, each
with its source, tokenizer, members and model keys; which of them train here
and which analyse imported models (`imported:`, Hugging Face folders trained
elsewhere, members numbered 1..n in the order given); which condition's
tokenizer and token arrays each one uses (a control that changes only the
model uses those of the first condition with its source and tokenizer, so it
sees the very same tokens); the (DNA, text) comparisons behind the paper's
findings; and the paths of what the gathering rules read: statistics tables,
bootstrap replicates, token baselines, training curves, models, fetched
sources, figures. rules/common.smk builds it once and the rules read it;
nothing here knows Snakemake, so tests build it from plain dicts. The
functions before it read single entries of a config (a source's files and
kind, a condition's members and model); config.py checks with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from gfm_limits.layout import FIGURES, TABLES

FIGURE_FORMATS = ("png", "pdf")
STATS_TABLE = "results/stats/{condition}/{table}.tsv"
REPLICATES = "results/stats/{condition}/replicates.npz"
DYNAMICS_TABLE = "results/stats/{condition}/dynamics.tsv"
TOKEN_BASELINES = "results/baselines/tokens/{condition}.tsv"
MODEL = "results/models/{condition}/seed{seed}"
CURVE = "results/models/{condition}/seed{seed}.curve.tsv"
FETCHED = "results/fetch/{source}"
FIGURE = "results/figures/{name}.{ext}"


def source_kind(entry: dict) -> str:
    """dna or text: the source's `kind`, else dna for fasta and text for the other formats."""
    return entry.get("kind") or ("dna" if entry["format"] == "fasta" else "text")


def source_urls(entry: dict) -> list[str]:
    """The source's files: [url] or urls."""
    return [entry["url"]] if "url" in entry else list(entry["urls"])


def source_sha256(entry: dict) -> list[str | None]:
    """The expected sha256 of each of source_urls(entry) (None where not given)."""
    given = entry.get("sha256")
    if given is None:
        return [None] * len(source_urls(entry))
    return [given] if isinstance(given, str) else list(given)


def condition_model(config: dict, condition: str) -> dict:
    """The model keys of one condition: the top-level `model` with the condition's own changes
    (for imported models, an estimate for cluster resources only)."""
    return {**config["model"], **config["conditions"][condition].get("model", {})}


def condition_train(config: dict, condition: str) -> dict:
    """The train keys of one condition: the top-level `train` with the condition's own changes."""
    return {**config["train"], **config["conditions"][condition].get("train", {})}


def imported(config: dict, condition: str) -> bool:
    """Whether the condition analyses imported models (trained elsewhere) instead of training."""
    return "imported" in config["conditions"][condition]


def condition_seeds(config: dict, condition: str) -> list[int]:
    """The member numbers of a condition: `seeds`, or 1..n for n imported models."""
    if imported(config, condition):
        return list(range(1, len(config["conditions"][condition]["imported"]) + 1))
    return list(config["seeds"])


def kmer_k(config: dict, condition: str) -> int | None:
    """The k of a k-mer condition: its own `kmer_k`, else `tokenizer.kmer_k`; None for the others."""
    own = config["conditions"][condition]
    if own.get("tokenizer") != "kmer":
        return None
    return own.get("kmer_k", config["tokenizer"]["kmer_k"])


def rc_augmented(config: dict, condition: str) -> bool:
    """Whether the condition's members train on reverse-complement augmented rows: its
    reverse_complement_augmentation (condition_train), for k-mer conditions only."""
    return kmer_k(config, condition) is not None and bool(
        condition_train(config, condition).get("reverse_complement_augmentation", False))


def token_condition(config: dict, condition: str) -> str:
    """The condition whose tokenizer and token arrays this one uses: the first condition with
    the same source, tokenizer and k (controls that change only the model or the training share
    them, so they see the very same tokens and are not re-encoded); itself for imported models."""
    if imported(config, condition):
        return condition

    def key(name):
        c = config["conditions"][name]
        return c["source"], c["tokenizer"], kmer_k(config, name)

    return next(name for name in config["conditions"] if not imported(config, name) and key(name) == key(condition))


def model_variant(config: dict, condition: str) -> str:
    """The condition's model variant, for figures: "imported", or its changes to the top-level
    `model` and `train` as "key=value" joined by ", " ("" when it has none)."""
    if imported(config, condition):
        return "imported"
    entry = config["conditions"][condition]
    changes = [(key, value) for section in ("model", "train") for key, value in sorted(entry.get(section, {}).items())
               if config[section].get(key) != value]
    return ", ".join(f"{key}={value}" for key, value in changes)


def comparisons(config: dict) -> list[tuple[str, str]]:
    """(DNA condition, text condition) pairs whose models are the same (equal `model` and `train` keys):
    the comparisons behind the paper's findings."""
    kinds = {name: source_kind(config["sources"][c["source"]]) for name, c in config["conditions"].items()}
    model = {name: ("imported",) if imported(config, name) else (condition_model(config, name),
                                                                    condition_train(config, name),
                                                                    rc_augmented(config, name))
             for name in config["conditions"]}  # imported models compare with each other
    return [(d, t) for d in config["conditions"] for t in config["conditions"]
            if kinds[d] == "dna" and kinds[t] == "text" and model[d] == model[t]]


def alternatives(names) -> str:
    """A wildcard constraint that matches exactly one of `names` (longest first, so text_bpe
    does not match the start of text_bpe_untied); one that matches nothing when there are none."""
    return "|".join(sorted(names, key=len, reverse=True)) or "^$"


@dataclass(frozen=True)
class Condition:
    name: str
    source: str
    kind: str  # dna | text: what the source's documents are
    tokenizer: str | None  # bpe | kmer; None for imported models, which bring their own
    imported: tuple[str, ...]  # the Hugging Face folders of imported models, one per member; () when trained here
    seeds: tuple[int, ...]  # the members: `seeds`, or 1..n for n imported models
    tokens: str  # the condition whose tokenizer and token arrays this one uses (itself, or its paper condition)
    model: dict  # the model keys: the top-level `model` with this condition's changes
    train: dict  # the train keys: the top-level `train` with this condition's changes
    variant: str = ""  # the model variant: its changes to the top-level `model` ("tie_embeddings=False"), "" none
    kmer_k: int | None = None  # the k of a k-mer condition; None for the others
    rc_augmented: bool = False  # trained on reverse-complement augmented rows (k-mer conditions only)

    @property
    def trained(self) -> bool:
        return not self.imported


@dataclass(frozen=True)
class Plan:
    conditions: dict[str, Condition]  # in config order
    sources: dict[str, dict]  # every configured source entry, used or not
    comparisons: tuple[tuple[str, str], ...]  # (DNA, text) conditions of the same model

    @classmethod
    def from_config(cls, config: dict) -> Plan:
        conditions = {}
        for name, entry in config["conditions"].items():
            conditions[name] = Condition(
                name=name, source=entry["source"], kind=source_kind(config["sources"][entry["source"]]),
                tokenizer=entry.get("tokenizer"), imported=tuple(entry.get("imported", ())),
                seeds=tuple(condition_seeds(config, name)), tokens=token_condition(config, name),
                model=condition_model(config, name), train=condition_train(config, name),
                variant=model_variant(config, name), kmer_k=kmer_k(config, name),
                rc_augmented=rc_augmented(config, name))
        return cls(conditions=conditions, sources=dict(config["sources"]),
                   comparisons=tuple(comparisons(config)))

    # --- which conditions and members

    @property
    def trained(self) -> tuple[str, ...]:
        """Conditions whose members train here."""
        return tuple(name for name, c in self.conditions.items() if c.trained)

    @property
    def imported(self) -> tuple[str, ...]:
        """Conditions that analyse imported models."""
        return tuple(name for name, c in self.conditions.items() if not c.trained)

    @property
    def tokenized(self) -> tuple[str, ...]:
        """Conditions with a tokenizer and token arrays of their own; the others (controls) use these."""
        return tuple(dict.fromkeys(c.tokens for c in self.conditions.values()))

    @property
    def tokenizers_trained(self) -> tuple[str, ...]:
        """Conditions whose tokenizer is trained or built here (the others come with imported models)."""
        return tuple(name for name in self.tokenized if self.conditions[name].trained)

    @property
    def members(self) -> tuple[tuple[str, int], ...]:
        """(condition, seed) of every member, in condition then seed order."""
        return tuple((name, seed) for name, c in self.conditions.items() for seed in c.seeds)

    @property
    def trained_members(self) -> tuple[tuple[str, int], ...]:
        return tuple((name, seed) for name, seed in self.members if self.conditions[name].trained)

    @property
    def used_sources(self) -> tuple[str, ...]:
        """The sources some condition reads, sorted."""
        return tuple(sorted({c.source for c in self.conditions.values()}))

    @property
    def looks(self) -> dict[str, list[str]]:
        """condition -> [the condition whose tokens it uses (its data and tokenizer), its model
        variant]: what figures.condition_styles gives a colour and a line style."""
        return {name: [c.tokens, c.variant] for name, c in self.conditions.items()}

    # --- one job's inputs and settings

    def source_of(self, condition: str) -> str:
        return self.conditions[condition].source

    def seeds(self, condition: str) -> list[int]:
        return list(self.conditions[condition].seeds)

    def model(self, condition: str) -> dict:
        """The model keys of a condition, as model.ModelConfig takes them."""
        return dict(self.conditions[condition].model)

    def train(self, condition: str) -> dict:
        """The train keys of a condition, as train.TrainConfig takes them (but the seed), with
        reverse_complement_augmentation as rc_augmented (k-mer conditions only) and the k of its
        k-mers (6 for the others, unused)."""
        c = self.conditions[condition]
        return {**c.train, "reverse_complement_augmentation": c.rc_augmented, "kmer_k": c.kmer_k or 6}

    def tokenizer_kind(self, condition: str) -> str | None:
        return self.conditions[condition].tokenizer

    def tokenizer_settings(self, condition: str, tokenizer: dict) -> dict:
        """The `tokenizer` keys for a condition's tokenizer job: kmer_k its own (kmer_k())."""
        k = self.conditions[condition].kmer_k
        return {**tokenizer, **({} if k is None else {"kmer_k": k})}

    @property
    def rc_conditions(self) -> tuple[str, ...]:
        """The k-mer conditions trained here: those with reverse-complement statistics."""
        return tuple(name for name, c in self.conditions.items() if c.trained and c.kmer_k is not None)

    @property
    def rc_tables(self) -> list[str]:
        return [STATS_TABLE.format(condition=c, table="rc_symmetry") for c in self.rc_conditions]

    def imported_folders(self, condition: str) -> list[str]:
        return list(self.conditions[condition].imported)

    def imported_folder(self, condition: str, seed: int) -> str:
        """The Hugging Face folder of imported member `seed` (numbered from 1)."""
        return self.conditions[condition].imported[seed - 1]

    def tokenizer_corpus(self, condition: str) -> list[str]:
        """What the condition's tokenizer learns from: the training corpus of its source (BPE);
        nothing for k-mers, built from k alone."""
        if self.conditions[condition].tokenizer == "kmer":
            return []
        return [self.source_path("results/corpus/{source}/train.txt", condition)]

    def local_files(self, source: str) -> list[str]:
        """The source's local files, inputs of its fetch, so that an edit to one reruns the chain."""
        return [url for url in source_urls(self.sources[source]) if "://" not in url]

    def fetch_params(self, source: str) -> dict:
        """What the fetch rule needs of a source (sources.fetch_source's arguments): its files,
        their checksums, whether to join them, the size limit. Changes to how the fetched files
        are read (format, field, max_documents) are not here, so they do not download again."""
        entry = self.sources[source]
        return {"urls": source_urls(entry), "sha256": source_sha256(entry), "join": entry["join"],
                "max_bytes": entry["max_bytes"]}

    def corpus_params(self, source: str) -> dict:
        """How the corpus rule reads a fetched source (corpus.build_corpus's arguments)."""
        entry = self.sources[source]
        return {"origin": " ".join(source_urls(entry)), "format": entry["format"], "kind": source_kind(entry),
                "field": entry["field"], "max_documents": entry.get("max_documents")}

    # --- paths of one job's inputs, from a pattern

    def member_paths(self, pattern: str, condition: str) -> list[str]:
        """`pattern` ({condition}, {seed}) for every member of the condition, in seed order."""
        return [pattern.format(condition=condition, seed=seed) for seed in self.conditions[condition].seeds]

    def tokens_path(self, pattern: str, condition: str) -> str:
        """`pattern` ({condition}) for the condition whose tokens this condition uses."""
        return pattern.format(condition=self.conditions[condition].tokens)

    def source_path(self, pattern: str, condition: str) -> str:
        """`pattern` ({source}) for the source of the condition."""
        return pattern.format(source=self.conditions[condition].source)

    # --- paths the gathering rules read, one per condition, member or source, in plan order

    def table_outputs(self) -> dict[str, str]:
        """The stats rule's tables by name, as patterns with the {condition} wildcard."""
        return {table: STATS_TABLE.format(condition="{condition}", table=table) for table in TABLES}

    @property
    def stats_tables(self) -> dict[str, list[str]]:
        """Every condition's statistics tables: table name -> one path per condition."""
        return {table: [STATS_TABLE.format(condition=c, table=table) for c in self.conditions] for table in TABLES}

    @property
    def replicates(self) -> list[str]:
        return [REPLICATES.format(condition=c) for c in self.conditions]

    @property
    def baselines(self) -> list[str]:
        """Each condition's token baselines: those of the condition whose tokens it uses."""
        return [TOKEN_BASELINES.format(condition=c.tokens) for c in self.conditions.values()]

    @property
    def dynamics_tables(self) -> list[str]:
        return [DYNAMICS_TABLE.format(condition=c) for c in self.trained]

    @property
    def curves(self) -> list[str]:
        """The training curve of every member trained here (imported models have none)."""
        return [CURVE.format(condition=c, seed=s) for c, s in self.trained_members]

    @property
    def models(self) -> list[str]:
        """Every member's model folder, trained or imported."""
        return [MODEL.format(condition=c, seed=s) for c, s in self.members]

    @property
    def fetched(self) -> list[str]:
        """The fetched folder of every used source."""
        return [FETCHED.format(source=s) for s in self.used_sources]

    @property
    def figures(self) -> dict[str, dict[str, str]]:
        """Every figure's files: name -> format -> path."""
        return {name: {ext: FIGURE.format(name=name, ext=ext) for ext in FIGURE_FORMATS} for name in FIGURES}


def by_condition(conditions, inputs, names) -> dict[str, dict[str, str]]:
    """A gathering rule's inputs regrouped by condition: `inputs` holds, for each of `names`, one
    path per condition in the order of `conditions` (as Plan.stats_tables gives them);
    returns condition -> name -> path."""
    return {c: {name: getattr(inputs, name)[i] for name in names} for i, c in enumerate(conditions)}

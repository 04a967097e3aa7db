# The plan (gfm_limits/plan.py: conditions, members, the paths the gathering rules read),
# the wildcard constraints, and the named input, params and resources functions.
from functools import partial

from gfm_limits.layout import report_item
from gfm_limits.plan import Plan, alternatives
from gfm_limits.resources import (
    baselines_resources,
    dynamics_resources,
    extract_resources,
    input_scaled_mem_mb,
    run_facts,
    stats_resources,
    stop_signal,
    train_resources,
)

PLAN = Plan.from_config(config)
# what the report's captions state about the run: members, tokens, parameters, positions, intervals
FACTS = run_facts(config)


# Jobs that run where Snakemake runs (the login node) under a cluster executor: fetch needs
# the internet, which compute nodes often lack; the others gather small tables and write files.
localrules:
    fetch,
    dynamics_table,
    summary,
    scorecard,
    figures,
    provenance,


wildcard_constraints:
    source=alternatives(PLAN.sources),
    condition=alternatives(PLAN.conditions),
    seed=r"\d+",
    split="train|eval",


def of_wildcard(name, method, *args):
    """An input or params function: method(*args, the job's wildcard `name`)."""

    def function(wildcards):
        return method(*args, getattr(wildcards, name))

    return function


of_source = partial(of_wildcard, "source")
of_condition = partial(of_wildcard, "condition")
# pattern -> input function: for every member, for the condition whose tokens it uses, its source
member_files = partial(of_condition, PLAN.member_paths)
tokens_file = partial(of_condition, PLAN.tokens_path)
source_file = partial(of_condition, PLAN.source_path)


def settings(section, *keys):
    """A params function: a config section (or `keys` of it), named as the fields of the
    stage's dataclass, so that a script builds it with Config(**params.section)."""

    def function(wildcards):
        return {key: config[section][key] for key in keys or config[section]}

    return function


def tokenizer_settings(wildcards):
    """The `tokenizer` keys, with the condition's own k (plan.kmer_k)."""
    return PLAN.tokenizer_settings(wildcards.condition, config["tokenizer"])


def kmer_k(wildcards):
    return PLAN.conditions[wildcards.condition].kmer_k


def split_corpus(wildcards):
    corpus = f"results/corpus/{{source}}/{wildcards.split}.txt"
    return PLAN.source_path(corpus, wildcards.condition)


def imported_folder(wildcards):
    return PLAN.imported_folder(wildcards.condition, int(wildcards.seed))


def resolved_config(wildcards):
    return config


# Cluster resources (gfm_limits/resources.py); a profile adds what is site-specific.


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


def with_profile_slurm_extra(flags):
    """A resource callable: flags(the profile's default slurm_extra) for a rule that needs an
    sbatch flag of its own, since a rule's own slurm_extra replaces the profile's for its jobs.
    The profile's value is evaluated as Snakemake evaluates every default resource."""
    # --default-resources (the profile's), as Snakemake parsed them
    defaults = workflow.resource_settings.default_resources
    profile = None if defaults is None else defaults.get("slurm_extra")

    def resource(wildcards, input, attempt, threads, rulename, async_run):
        if profile is None or isinstance(profile, str):
            return flags(profile)
        context = dict(input=input, attempt=attempt, threads=threads, rulename=rulename)
        return flags(profile.evaluate(wildcards, **context, async_run=async_run).value)

    return resource

# The plan (gfm_limits/plan.py: conditions, members, the paths the gathering rules read),
# the wildcard constraints, and the named input, params and resources functions.
from functools import partial

from gfm_limits.plan import Plan, alternatives
from gfm_limits.resources import (
    baselines_resources,
    dynamics_resources,
    extract_resources,
    input_scaled_mem_mb,
    stats_resources,
    train_resources,
)

PLAN = Plan.from_config(config)


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

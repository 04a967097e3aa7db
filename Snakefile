# gfm-limits: do DNA language models learn the way text models do?
# Reproduces and extends Vrcek, Rochkoulets, Sikic (2026); see README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


check_config(config, workflow.source_path("config/schema.yaml"))


include: "rules/fetch.smk"
include: "rules/corpus.smk"
include: "rules/tokenize.smk"
include: "rules/train.smk"
include: "rules/extract.smk"
include: "rules/stats.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        "results/stats/summary.tsv",
        figure_paths(),

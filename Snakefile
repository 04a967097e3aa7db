# gfm-limits: do DNA language models learn the way text models do?
# Reproduces and extends Vrcek, Rochkoulets, Sikic (2026); see README.md.
import sys

from snakemake.utils import min_version

min_version("9.27.1")  # the tested version; pyproject.toml pins it as the lowest

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from gfm_limits.checkout import own_package_first
from gfm_limits.config import check_config

# every job imports this checkout's gfm_limits, not another clone's install (docs/pipeline.md)
own_package_first(Path(workflow.basedir) / "scripts")


configfile: "config/config.yaml"


report: "report/workflow.rst"


check_config(
    config,
    workflow.source_path("config/schema.yaml"),
    overrides=[*workflow.overwrite_configfiles, workflow.config_settings.config],
)


include: "rules/common.smk"
include: "rules/fetch.smk"
include: "rules/corpus.smk"
include: "rules/tokenize.smk"
include: "rules/train.smk"
include: "rules/imported.smk"
include: "rules/extract.smk"
include: "rules/stats.smk"
include: "rules/dynamics.smk"
include: "rules/baselines.smk"
include: "rules/figures.smk"
include: "rules/provenance.smk"


rule all:
    default_target: True
    input:
        rules.scorecard.output.table,
        rules.summary.output.summary,
        rules.figures.output,
        rules.provenance.output.table,

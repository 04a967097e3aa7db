"""Rule figures: the paper's figures as PNG and PDF."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.figures import plot_all
from gfm_limits.layout import TABLES
from gfm_limits.plan import by_condition
from gfm_limits.stats import StatsConfig

i, p = snakemake.input, snakemake.params
plot_all(by_condition(p.conditions, i, TABLES), dict(zip(p.members, i.curves)), dict(snakemake.output.items()),
         findings_path=i.findings, baselines=dict(zip(p.conditions, i.baselines)),
         min_context_bits=StatsConfig(**p.stats).min_context_bits, dynamics=i.dynamics, looks=p.looks,
         rc_tables=dict(zip(p.rc_conditions, i.rc)))

"""Rule summary: one row per condition, and whether each of the paper's findings holds."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.layout import TABLES
from gfm_limits.plan import by_condition
from gfm_limits.stats import StatsConfig, summarize

i, p = snakemake.input, snakemake.params
cfg = StatsConfig(**p.stats)
summarize(by_condition(p.conditions, i, TABLES), dict(zip(p.conditions, i.replicates)), snakemake.output.summary,
          k=cfg.summary_k, top_p=cfg.summary_top_p, findings_out=snakemake.output.findings,
          comparisons=[tuple(c) for c in p.comparisons], level=cfg.confidence,
          baselines=dict(zip(p.conditions, i.baselines)), min_context_bits=cfg.min_context_bits)

"""Rule summary: one row per condition, and whether each of the paper's findings holds."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.stats import summarize

p = snakemake.params.stats
summarize(dict(zip(snakemake.params.conditions, snakemake.params.dirs)), snakemake.output.summary,
          k=p["summary_k"], top_p=p["summary_top_p"], findings_out=snakemake.output.findings,
          comparisons=[tuple(c) for c in snakemake.params.comparisons], level=p["confidence"],
          baselines=dict(zip(snakemake.params.conditions, snakemake.input.baselines)),
          min_context_bits=p["min_context_bits"])

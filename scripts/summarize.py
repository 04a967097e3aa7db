"""Rule summary: one row per condition."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.stats import summarize

summarize(dict(zip(snakemake.params.conditions, snakemake.params.dirs)), snakemake.output[0],
          k=snakemake.params.k, top_p=snakemake.params.top_p)

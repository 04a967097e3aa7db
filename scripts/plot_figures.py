"""Rule figures: the paper's figures as PNG and PDF."""
import logging
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.figures import plot_all

curves = dict(zip(snakemake.params.members, snakemake.input.curves))
plot_all(dict(zip(snakemake.params.conditions, snakemake.params.dirs)), curves,
         Path(snakemake.output[0]).parent, findings_path=snakemake.input.findings,
         baselines=dict(zip(snakemake.params.conditions, snakemake.input.baselines)),
         min_context_bits=snakemake.params.min_context_bits, dynamics=snakemake.input.dynamics)

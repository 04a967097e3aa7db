"""Rule char_baselines: Markov models over characters (bases) and the xz estimate of one source."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.baselines import BaselinesConfig, char_baselines

char_baselines(snakemake.input.train, snakemake.input.eval, snakemake.output[0],
               BaselinesConfig(**snakemake.params.baselines))

"""Rule char_baselines: Markov models over characters (bases) and the xz estimate of one source."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.baselines import char_baselines

p = snakemake.params.baselines
char_baselines(snakemake.input.train, snakemake.input.eval, snakemake.output[0], p["orders"], p["max_train_symbols"],
               p["max_eval_symbols"], p["compression_context_bytes"])

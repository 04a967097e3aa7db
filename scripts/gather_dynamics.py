"""Rule dynamics_table: the dynamics of every condition trained here in one table."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.stats import gather_dynamics

gather_dynamics(dict(zip(snakemake.params.conditions, snakemake.input.tables)), snakemake.output[0])

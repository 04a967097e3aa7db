"""Rule train: one ensemble member; the seed is the wildcard."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.model import ModelConfig
from gfm_limits.train import TrainConfig, train_mlm

train_mlm(snakemake.input.tokens, snakemake.input.tokenizer, snakemake.output.model, snakemake.output.curve,
          ModelConfig(**snakemake.params.model),
          TrainConfig(**snakemake.params.train, seed=int(snakemake.wildcards.seed)),
          threads=snakemake.threads, token_stats=snakemake.input.token_stats,
          checkpoint=snakemake.params.checkpoint, snapshots_out=snakemake.output.snapshots,
          snapshots_staging=snakemake.params.snapshots)

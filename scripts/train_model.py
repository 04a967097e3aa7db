"""Rule train: one ensemble member; the seed is the wildcard."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.devices import gpu_slot
from gfm_limits.gpu_jobs import job_card
from gfm_limits.model import ModelConfig
from gfm_limits.train import TrainConfig, train_mlm

with gpu_slot(), job_card():  # this job's own card of the machine, logged (devices.py, gpu_jobs.py)
    train_mlm(snakemake.input.tokens, snakemake.input.tokenizer, out_dir=snakemake.output.model,
              curve_path=snakemake.output.curve, model_cfg=ModelConfig(**snakemake.params.model),
              cfg=TrainConfig(**snakemake.params.train, seed=int(snakemake.wildcards.seed)),
              threads=snakemake.threads, token_stats=snakemake.input.token_stats, state=snakemake.params.state,
              snapshots_out=snakemake.output.snapshots, snapshots_staging=snakemake.params.snapshots)

"""Rule dynamics: the paper's statistics at every snapshot and the final model of a condition's members."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.devices import gpu_slot
from gfm_limits.dynamics import condition_dynamics
from gfm_limits.gpu_jobs import job_card

p = snakemake.params
with gpu_slot(), job_card():  # this job's own card of the machine, logged (devices.py, gpu_jobs.py)
    condition_dynamics(models=dict(zip(p.seeds, snakemake.input.models)),
                       snapshots=dict(zip(p.seeds, snakemake.input.snapshots)), masks=snakemake.input.masks,
                       train_tokens=snakemake.input.tokens, out=snakemake.output[0],
                       n_sequences=p.dynamics["n_sequences"], k=p.stats["summary_k"], top_p=p.stats["summary_top_p"],
                       batch_size=p.extract["batch_size"], fisher_batch_size=p.extract["fisher_batch_size"],
                       precision=p.extract["precision"], threads=snakemake.threads)

"""Rule rc_consistency: one k-mer member's predictions on held-out rows against their reverse complements."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.devices import gpu_slot
from gfm_limits.gpu_jobs import job_card
from gfm_limits.rc_predictions import rc_member

p = snakemake.params
with gpu_slot(), job_card():  # this job's own card of the machine, logged (devices.py, gpu_jobs.py)
    rc_member(snakemake.input.model, snakemake.input.masks, snakemake.input.tokenizer, snakemake.output[0], k=p.k,
              batch_size=p.extract["batch_size"], precision=p.extract["precision"],
              shuffle_seed=p.extract["mask_seed"], threads=snakemake.threads)

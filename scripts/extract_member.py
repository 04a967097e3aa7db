"""Rule extract: predictive distributions, static embeddings and the paper's Fisher of one member."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.devices import gpu_slot
from gfm_limits.extract import ExtractConfig, extract_member
from gfm_limits.gpu_jobs import job_card

cfg, out = ExtractConfig(**snakemake.params.extract), snakemake.output
with gpu_slot(), job_card():  # this job's own card of the machine, logged (devices.py, gpu_jobs.py)
    extract_member(snakemake.input.model, snakemake.input.masks, batch_size=cfg.batch_size,
                   fisher_batch_size=cfg.fisher_batch_size, predictions_out=out.predictions,
                   embeddings_out=out.embeddings, fisher_out=out.fisher,
                   threads=snakemake.threads, fisher_per_example_out=out.fisher_per_example,
                   fisher_rows_out=out.fisher_rows, precision=cfg.precision, n_hidden=cfg.contextual_positions,
                   fisher_true_out=out.fisher_true, fisher_true_rows_out=out.fisher_true_rows, layers_out=out.layers,
                   fisher_true_samples=cfg.fisher_true_samples, fisher_true_seed=cfg.fisher_true_seed,
                   gradient_geometry_out=out.gradient_geometry, geometry_rows=cfg.geometry_rows)

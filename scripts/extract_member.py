"""Rule extract: predictive distributions, static embeddings and the paper's Fisher of one member."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.extract import extract_member

out = snakemake.output
extract_member(snakemake.input.model, snakemake.input.masks, snakemake.params.batch_size,
               out.predictions, out.embeddings, out.fisher, threads=snakemake.threads,
               fisher_per_example_out=out.fisher_per_example, fisher_rows_out=out.fisher_rows,
               precision=snakemake.params.precision, n_hidden=snakemake.params.contextual_positions)

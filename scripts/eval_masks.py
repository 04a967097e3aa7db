"""Rule eval_masks: the held-out rows and masked positions shared by all members of a condition."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.predictions import make_eval_masks

# params.masks: the extract keys n_sequences, mask_fraction, fisher_mask_fraction, mask_seed
make_eval_masks(snakemake.input.tokens, snakemake.input.tokenizer, snakemake.output[0],
                repeats_path=snakemake.input.repeats, **snakemake.params.masks)

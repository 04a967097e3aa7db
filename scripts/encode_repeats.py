"""Rule encode_repeats: the repeat (soft-mask) flags of the held-out token rows."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.tokenizer import EncodeConfig, encode_repeats

encode_repeats(snakemake.input.corpus, snakemake.input.repeats, snakemake.input.tokenizer, snakemake.output[0],
               EncodeConfig(**snakemake.params.encode).seq_len)

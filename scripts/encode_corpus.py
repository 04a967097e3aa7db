"""Rule encode: a corpus split as packed rows of token ids."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.tokenizer import EncodeConfig, encode_corpus

encode_corpus(snakemake.input.corpus, snakemake.input.tokenizer, snakemake.output.rows,
              EncodeConfig(**snakemake.params.encode).seq_len, snakemake.output.stats)

"""Rule import_tokenizer: the shared tokenizer of a condition's imported models."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.imported import import_tokenizer

import_tokenizer(list(snakemake.input), snakemake.output[0])

"""Rule import_model: one imported Hugging Face BertForMaskedLM folder as an ensemble member."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.imported import import_member
from gfm_limits.tokenizer import EncodeConfig

import_member(snakemake.input[0], snakemake.output[0], EncodeConfig(**snakemake.params.encode).seq_len)

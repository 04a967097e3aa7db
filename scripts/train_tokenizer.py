"""Rule tokenizer: train BPE on the condition's corpus, or build the k-mer tokenizer."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.tokenizer import TokenizerConfig, build_tokenizer

build_tokenizer(snakemake.params.kind, next(iter(snakemake.input), None), snakemake.output[0],
                TokenizerConfig(**snakemake.params.tokenizer))

"""Rule tokenizer: train BPE on the condition's corpus, or build the k-mer tokenizer."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.tokenizer import build_kmer, train_bpe

p = snakemake.params.tokenizer
if p["kind"] == "kmer":
    build_kmer(snakemake.output[0], p["k"])
else:
    train_bpe(snakemake.input[0], snakemake.output[0], p["vocab_size"])

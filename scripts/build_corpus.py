"""Rule corpus: split a fetched source into training and evaluation corpora."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.corpus import TextConfig, build_corpus
from gfm_limits.fasta import WindowConfig

p = snakemake.params.corpus
build_corpus(snakemake.input[0], p["format"], snakemake.output.train, snakemake.output.eval,
             snakemake.output.stats, WindowConfig(**p["dna"]), TextConfig(**p["text"]), origin=p["origin"],
             kind=p["kind"], field=p["field"], max_documents=p["max_documents"])

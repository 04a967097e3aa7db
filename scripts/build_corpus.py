"""Rule corpus: split a fetched source into training and evaluation corpora."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.corpus import CorpusConfig, build_corpus

s, out = snakemake.params.source, snakemake.output
build_corpus(snakemake.input[0], s["format"], train_out=out.train, eval_out=out.eval, stats_out=out.stats,
             eval_repeats_out=out.eval_repeats,
             cfg=CorpusConfig(**snakemake.params.corpus), origin=s["origin"], kind=s["kind"], field=s["field"],
             max_documents=s["max_documents"])

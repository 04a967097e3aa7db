"""Rule rc_symmetry: reverse-complement symmetry of a k-mer condition's members, with intervals."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.confidence import condition_seed
from gfm_limits.rc_symmetry import write_rc_table

i, p = snakemake.input, snakemake.params
write_rc_table(dict(zip(p.seeds, i.consistency)), dict(zip(p.seeds, i.embeddings)), i.tokenizer, snakemake.output[0],
               k=p.k, n_boot=p.stats["bootstrap"], level=p.stats["confidence"],
               seed=condition_seed(snakemake.wildcards.condition) + 1)  # not the draws of ci.tsv

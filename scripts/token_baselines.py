"""Rule baselines: Markov models over one condition's tokens, beside its source's character baselines."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.baselines import token_baselines
from gfm_limits.layout import SPECIAL_TOKENS

i, p = snakemake.input, snakemake.params.baselines
token_baselines(i.train, i.eval, i.eval_text, i.eval_stats, i.tokenizer, i.chars, snakemake.output[0], p["orders"],
                p["max_train_symbols"], p["max_eval_symbols"], len(SPECIAL_TOKENS))

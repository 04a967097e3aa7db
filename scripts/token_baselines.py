"""Rule baselines: Markov models over one condition's tokens, beside its source's character baselines."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.baselines import BaselinesConfig, token_baselines

i = snakemake.input
token_baselines(train_npy=i.train, eval_npy=i.eval, eval_txt=i.eval_text, eval_stats=i.eval_stats,
                tokenizer_json=i.tokenizer, chars_table=i.chars, out=snakemake.output[0],
                cfg=BaselinesConfig(**snakemake.params.baselines))

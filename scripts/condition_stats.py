"""Rule stats: the tidy statistics tables of one condition, with bootstrap intervals."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.stats import TABLES, StatsConfig, condition_stats

by_seed = {name: dict(zip(snakemake.params.seeds, getattr(snakemake.input, name)))
           for name in ("predictions", "embeddings", "fisher", "fisher_per_example", "fisher_rows", "fisher_true",
                     "fisher_true_rows", "layers", "gradient_geometry")}
condition_stats(predictions=by_seed["predictions"], embeddings=by_seed["embeddings"], fishers=by_seed["fisher"],
                fishers_per_example=by_seed["fisher_per_example"], fisher_rows=by_seed["fisher_rows"],
                masks=snakemake.input.masks, train_tokens=snakemake.input.tokens,
                out={t: getattr(snakemake.output, t) for t in TABLES}, replicates_out=snakemake.output.replicates,
                cfg=StatsConfig(**snakemake.params.stats), condition=snakemake.wildcards.condition,
                fishers_true=by_seed["fisher_true"], fisher_true_rows=by_seed["fisher_true_rows"],
                layers=by_seed["layers"], tokenizer=snakemake.input.tokenizer,
                gradient_geometry=by_seed["gradient_geometry"])

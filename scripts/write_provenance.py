"""Rule provenance: record the code, configuration, software and data behind results/."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.provenance import write_provenance

write_provenance(config=snakemake.params.config, sources=snakemake.input.sources, models=snakemake.input.models,
                 root=snakemake.params.root, tsv_out=snakemake.output.table, config_out=snakemake.output.config)

"""Rule provenance: record the code, configuration, software and data behind results/."""
import logging
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.provenance import write_provenance

write_provenance(snakemake.params.config, [Path(d) / "manifest.tsv" for d in snakemake.input.sources],
                 [Path(d) / "training.json" for d in snakemake.input.models], snakemake.params.root,
                 snakemake.output.table, snakemake.output.config)

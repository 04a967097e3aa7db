"""Rule fetch: copy or download one corpus source, verified."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.fetch import fetch

fetch(snakemake.params.source["url"], snakemake.output[0], snakemake.params.source["sha256"])

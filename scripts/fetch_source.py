"""Rule fetch: copy or download every file of one corpus source, verified, into one folder."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.sources import FetchConfig, fetch_source

p = snakemake.params.source
fetch_source(p["urls"], p["sha256"], snakemake.output[0], FetchConfig(**p["fetch"]), join=p["join"])

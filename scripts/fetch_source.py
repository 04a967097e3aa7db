"""Rule fetch: copy or download every file of one corpus source, verified, into one folder."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.sources import FetchConfig, fetch_source

s = snakemake.params.source
fetch_source(s["urls"], s["sha256"], snakemake.output[0], FetchConfig(**snakemake.params.fetch), join=s["join"],
             max_bytes=s["max_bytes"])

"""Rule scorecard: the paper's claims under its definitions, as a table and a standalone page."""
import logging
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

from gfm_limits.scorecard import write_scorecard

write_scorecard(findings=snakemake.input.findings, summary=snakemake.input.summary,
                tsv_out=snakemake.output.table, html_out=snakemake.output.html, facts=snakemake.params.facts["text"])

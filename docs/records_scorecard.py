"""Write the scorecard (scorecard.tsv, scorecard.html) of a results archive that has findings.tsv and
summary.tsv but predates the scorecard rule, with the run's facts from its config files.

    python docs/records_scorecard.py docs/results/gpu/run-6627c49 config/config.yaml config/gpu.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from snakemake.utils import update_config, validate

from gfm_limits.resources import run_facts
from gfm_limits.scorecard import write_scorecard

ROOT = Path(__file__).resolve().parent.parent


def main(records: str, *configfiles: str) -> None:
    config: dict = {}
    for path in configfiles:  # merged as snakemake merges --configfile, then the schema's defaults
        update_config(config, yaml.safe_load(Path(path).read_text()))
    validate(config, str(ROOT / "config" / "schema.yaml"))
    folder = Path(records)
    card = write_scorecard(findings=folder / "findings.tsv", summary=folder / "summary.tsv",
                           tsv_out=folder / "scorecard.tsv", html_out=folder / "scorecard.html",
                           facts=run_facts(config)["text"])
    print(card[["claim", "dna", "statistic", "difference", "ci_low", "ci_high", "verdict"]].to_string(index=False))


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Coverage of the Multi-Bootstrap's 95% interval on simulated ensembles with a known truth.

The simulation of gfm_limits.coverage (a member effect, a row effect shared by a row's masked
positions and by all members, intra-row correlation 0.5, the truth the population mean over new
members and new rows) at 3, 5 and 20 members, for a member statistic (an output statistic such
as the cross-entropy) and a pair statistic (JS distance, disagreement); the pipeline's bootstrap
(members+rows) beside the position-independent one (members+positions); with a small member
effect (member_sd 0.25 of the row sd: the rows dominate, as for the output statistics of the runs
here, whose members differ by hundredths of a bit) and a large one (member_sd 1: the members
dominate, where few members hurt most). On a CPU, about seven minutes:

    python bench/coverage.py --out docs/results/coverage.tsv

Columns: members, statistic, method, simulations, coverage (share of simulated ensembles whose
interval holds the truth), mean_width (of the interval, in units of the row and noise sd), and the
design: rows, positions per row, member_sd, row_sd, noise_sd, n_boot.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from gfm_limits.coverage import STATISTICS, Design, coverage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/results/coverage.tsv")
    parser.add_argument("--members", type=int, nargs="+", default=[3, 5, 20])
    parser.add_argument("--member-sd", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--simulations", type=int, default=2000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # a replicate that draws one member has no pair: at 3 members about 1 in 9, dropped and logged each time
    logging.getLogger("gfm_limits.bootstrap").setLevel(logging.ERROR)
    frames = []
    for member_sd, members, statistic in itertools.product(args.member_sd, args.members, STATISTICS):
        design = Design(members=members, member_sd=member_sd)
        start = time.time()
        table = coverage(design, statistic=statistic, simulations=args.simulations, n_boot=args.n_boot, seed=args.seed)
        extra = {k: v for k, v in asdict(design).items() if k not in ("members", "mean")}
        frames.append(table.assign(**extra, n_boot=args.n_boot))
        print(table.assign(member_sd=member_sd).to_string(index=False, header=False),
              f"({time.time() - start:.0f} s)", flush=True)
    out = pd.concat(frames, ignore_index=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, sep="\t", index=False, float_format="%.4g")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

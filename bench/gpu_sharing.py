"""Did any two GPU jobs of a run share a card at the same time? Reads the card and times each
GPU job's log holds (gfm_limits.gpu_jobs: train, extract, dynamics, rc_consistency), prints one
line per job and every pair that overlapped on one card; exits 1 if there is one.

    python bench/gpu_sharing.py results/logs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from gfm_limits.gpu_jobs import read_jobs, shared_cards  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("logs", help="a run's results/logs folder")
    args = parser.parse_args()
    root = Path(args.logs)
    jobs = sorted(read_jobs(sorted(root.glob("**/*.log"))), key=lambda job: job["start"])
    if not jobs:
        print(f"no GPU job logs under {root}")
        return 0
    first = jobs[0]["start"]
    for job in jobs:
        card = job["card"].get("uuid") or job["card"]["device"]
        end = "running" if job["end"] is None else f"{job['end'] - first:8.1f}"
        print(f"{Path(job['log']).relative_to(root)}\t{card}\t{job['start'] - first:8.1f}\t{end}")
    cards = {job["card"].get("uuid") or job["card"]["device"] for job in jobs}
    print(f"{len(jobs)} GPU jobs on {len(cards)} cards")
    pairs = shared_cards(jobs)
    for a, b in pairs:
        print(f"{Path(a['log']).relative_to(root)} and {Path(b['log']).relative_to(root)} shared "
              f"{a['card']['uuid']} at the same time")
    if not pairs:
        print("no two jobs shared a card at the same time")
    return 1 if pairs else 0


if __name__ == "__main__":
    sys.exit(main())

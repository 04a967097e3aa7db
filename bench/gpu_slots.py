"""Not a speed benchmark: on a machine of several GPUs, do concurrent GPU jobs get cards of their own?

Starts --jobs processes at once; each takes a slot as the train, extract and dynamics scripts do
(gfm_limits.devices.gpu_slot), allocates --mb MiB on its `cuda` device, reports that card's UUID
(torch's and NVML's, looked up as the busy-time sampler does) and holds it until all have
reported. Checks that no card holds two jobs more than another (so with --jobs at most the
number of cards, each job its own card), that NVML names the card torch uses, and that counting
the cards left CUDA uninitialised (a CUDA_VISIBLE_DEVICES set after counting still hides them).

    python bench/gpu_slots.py --jobs 8 --out bench/results/gpu_slots.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
JOB = """
import sys, time
sys.path.insert(0, {scripts!r})
import torch
from gfm_limits.devices import gpu_slot, nvml_device
with gpu_slot({folder!r}) as card:
    x = torch.empty({mb} << 20, dtype=torch.uint8, device="cuda")
    import pynvml
    pynvml.nvmlInit()
    ref = nvml_device(0)
    handle = pynvml.nvmlDeviceGetHandleByIndex(ref) if isinstance(ref, int) else pynvml.nvmlDeviceGetHandleByUUID(ref)
    print(card, torch.cuda.get_device_properties(0).uuid, pynvml.nvmlDeviceGetUUID(handle), flush=True)
    sys.stdin.readline()
"""
HIDE = ("import sys; sys.path.insert(0, {scripts!r}); import os, torch; "
        "from gfm_limits.devices import cuda_device_count; "
        "n = cuda_device_count(); os.environ['CUDA_VISIBLE_DEVICES'] = ''; print(n, torch.cuda.is_available())")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--folder", default="/tmp/gfm-limits-gpu-slots-bench")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    count, available = subprocess.run([sys.executable, "-c", HIDE.format(scripts=str(SCRIPTS))], capture_output=True,
                                      text=True, check=True).stdout.split()
    if int(count) == 0:
        sys.exit("no GPU: nothing to check")
    code = JOB.format(scripts=str(SCRIPTS), folder=args.folder, mb=args.mb)
    jobs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(args.jobs)]
    rows = [dict(zip(("card", "torch_uuid", "nvml_uuid"), job.stdout.readline().split())) for job in jobs]
    for job in jobs:
        job.communicate("\n", timeout=120)
    loads = Counter(row["torch_uuid"] for row in rows)
    record = {"cards": int(count), "jobs": args.jobs, "per_card": sorted(loads.values()), "rows": rows,
              "cuda_untouched_by_counting": available == "False",
              "nvml_names_the_card": all(r["nvml_uuid"].endswith(r["torch_uuid"]) for r in rows),
              "even": max(loads.values()) - min(loads.values()) <= 1 and len(loads) == min(int(count), args.jobs)}
    print(json.dumps(record, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")
    sys.exit(0 if record["even"] and record["nvml_names_the_card"] and record["cuda_untouched_by_counting"] else 1)


if __name__ == "__main__":
    main()

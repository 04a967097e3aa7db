"""Which card each GPU job computed on, and when: so a run on a machine of several GPUs can be
checked for two jobs that shared a card at the same time.

Each GPU rule's script wraps its work in `job_card()` (inside `devices.gpu_slot`, once the job's
card is set): the job's log gets one line when it starts, naming the card as torch and NVML see
it (`card_identity`: name, UUID, CUDA_VISIBLE_DEVICES, the SLURM job), and one when it ends, each
a JSON object after a fixed marker with the wall-clock time. `read_jobs` reads those lines back
from the logs of a run, and `shared_cards` lists every pair of jobs that were on one card at
once (bench/gpu_sharing.py prints both for results/logs/).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

STARTED, ENDED = "GPU job started: ", "GPU job ended: "


def card_identity(device=None) -> dict:
    """The card of torch.device `device` (default: cuda when there is one): {"device": name,
    "uuid": NVML's "GPU-..." UUID, "index": its index among the cards this job sees,
    "cuda_visible_devices": that variable or None, "slurm_job_id": or None}; {"device": "cpu"}
    on a CPU. Initialises CUDA: call it once the job's card is set (devices.gpu_slot)."""
    import torch

    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type != "cuda":
        return {"device": "cpu"}
    index = device.index if device.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    uuid = getattr(props, "uuid", None)
    return {"device": props.name, "uuid": f"GPU-{uuid}" if uuid is not None else None, "index": index,
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


@contextlib.contextmanager
def job_card(device=None, *, clock=time.time) -> Iterator[dict]:
    """Log this job's card and start time, run the code inside, log the end time (however the
    code leaves). Yields the record {"card", "start", "end"} ("end" set on leaving)."""
    record = {"card": card_identity(device), "start": clock()}
    log.info("%s%s", STARTED, json.dumps(record))
    try:
        yield record
    finally:
        record["end"] = clock()
        log.info("%s%s", ENDED, json.dumps({"end": record["end"]}))


def read_jobs(logs: Iterable[Path]) -> list[dict]:
    """The GPU jobs of these log files: {"log", "card", "start", "end"} each, "end" None for a
    job that has not ended (or was killed); a log with no start line is not a GPU job's. A
    retried job's log holds its last attempt (Snakemake rewrites a log on each attempt)."""
    jobs = []
    for path in logs:
        job = None
        for line in Path(path).read_text(errors="replace").splitlines():
            if STARTED in line:
                job = {"log": str(path), **json.loads(line.split(STARTED, 1)[1]), "end": None}
            elif ENDED in line and job is not None:
                job["end"] = json.loads(line.split(ENDED, 1)[1])["end"]
        if job is not None:
            jobs.append(job)
    return jobs


def shared_cards(jobs: list[dict], now: float | None = None) -> list[tuple[dict, dict]]:
    """Every pair of jobs that ran on one card (the same UUID) at the same time: their intervals
    [start, end) overlap; a job without an end runs until `now` (default: the latest time seen).
    CPU jobs and cards without a UUID take part in no pair."""
    times = [t for job in jobs for t in (job["start"], job["end"]) if t is not None]
    now = max(times, default=0.0) if now is None else now
    on_card = [job for job in jobs if job["card"].get("uuid")]
    pairs = []
    for i, a in enumerate(on_card):
        for b in on_card[i + 1 :]:
            if a["card"]["uuid"] != b["card"]["uuid"]:
                continue
            end_a, end_b = (now if a["end"] is None else a["end"]), (now if b["end"] is None else b["end"])
            if max(a["start"], b["start"]) < min(end_a, end_b):
                pairs.append((a, b))
    return pairs

"""gpu_jobs: each GPU job's card and times in its log, read back, and pairs of jobs that shared a
card at once, against hand-worked cases."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gfm_limits.gpu_jobs import ENDED, STARTED, job_card, read_jobs, shared_cards

ROOT = Path(__file__).resolve().parents[1]


def card(uuid):
    return {"device": "NVIDIA H200", "uuid": uuid, "index": 0, "cuda_visible_devices": uuid, "slurm_job_id": None}


def write_log(path: Path, record: dict, end: float | None):
    """A log as the scripts write it: logging's format, other lines around the two of gpu_jobs."""
    lines = ["2026-12-03 06:00:00,000 INFO gfm_limits.devices: GPU slot: card 1 of 0,1",
             f"2026-12-03 06:00:00,001 INFO gfm_limits.gpu_jobs: {STARTED}{json.dumps(record)}",
             "2026-12-03 06:00:01,000 INFO gfm_limits.train: step 10/100 loss 8.1"]
    if end is not None:
        lines.append(f"2026-12-03 06:00:02,000 INFO gfm_limits.gpu_jobs: {ENDED}{json.dumps({'end': end})}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_job_card_logs_the_card_and_both_times_and_read_jobs_reads_them_back(tmp_path):
    log = tmp_path / "train" / "text_bpe" / "seed1.log"
    log.parent.mkdir(parents=True)
    handler = logging.FileHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("gfm_limits.gpu_jobs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    ticks = iter([100.0, 160.5])
    try:
        with pytest.raises(RuntimeError), job_card(clock=lambda: next(ticks)) as record:
            raise RuntimeError("the job fails: its end is logged all the same")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert record == {"card": {"device": "cpu"}, "start": 100.0, "end": 160.5}
    other = tmp_path / "fetch.log"  # a log without the start line is not a GPU job's
    other.write_text("2026-12-03 06:00:00,000 INFO gfm_limits.fetch: fetched\n")
    (job,) = read_jobs([log, other])
    assert job == {"log": str(log), "card": {"device": "cpu"}, "start": 100.0, "end": 160.5}


def test_shared_cards_finds_exactly_the_jobs_on_one_card_at_once():
    jobs = [{"log": "a", "card": card("GPU-0"), "start": 0.0, "end": 10.0},
            {"log": "b", "card": card("GPU-0"), "start": 9.0, "end": 20.0},    # overlaps a on GPU-0
            {"log": "c", "card": card("GPU-0"), "start": 20.0, "end": 30.0},   # starts as b ends: not at once
            {"log": "d", "card": card("GPU-1"), "start": 0.0, "end": 30.0},    # another card
            {"log": "e", "card": card("GPU-1"), "start": 25.0, "end": None},   # never ended: runs to 30 (latest)
            {"log": "f", "card": {"device": "cpu"}, "start": 0.0, "end": 30.0},
            {"log": "g", "card": {"device": "cpu"}, "start": 0.0, "end": 30.0}]
    assert [(a["log"], b["log"]) for a, b in shared_cards(jobs)] == [("a", "b"), ("d", "e")]
    assert [(a["log"], b["log"]) for a, b in shared_cards(jobs, now=25.0)] == [("a", "b")]  # e: [25, 25)
    # an independent check: pairs whose sampled instants on one card coincide (0.5 s grid)
    grid = [t / 2 for t in range(61)]

    def on(job, t):
        return job["start"] <= t < (30.0 if job["end"] is None else job["end"])

    brute = [(a["log"], b["log"]) for i, a in enumerate(jobs) for b in jobs[i + 1:]
             if a["card"].get("uuid") and a["card"].get("uuid") == b["card"].get("uuid")
             and any(on(a, t) and on(b, t) for t in grid)]
    assert brute == [("a", "b"), ("d", "e")]


def test_gpu_sharing_prints_each_job_and_exits_nonzero_on_a_shared_card(tmp_path):
    logs = tmp_path / "results" / "logs"
    write_log(logs / "train/text_bpe/seed1.log", {"card": card("GPU-0"), "start": 0.0}, 10.0)
    write_log(logs / "train/text_bpe/seed2.log", {"card": card("GPU-1"), "start": 0.0}, 10.0)
    write_log(logs / "extract/text_bpe/seed1.log", {"card": card("GPU-0"), "start": 10.0}, 12.0)
    script = [sys.executable, str(ROOT / "bench" / "gpu_sharing.py"), str(logs)]
    ok = subprocess.run(script, capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "3 GPU jobs on 2 cards" in ok.stdout and "no two jobs shared a card at the same time" in ok.stdout
    write_log(logs / "train/text_bpe/seed3.log", {"card": card("GPU-1"), "start": 5.0}, None)
    shared = subprocess.run(script, capture_output=True, text=True, cwd=tmp_path)
    assert shared.returncode == 1
    assert "train/text_bpe/seed2.log and train/text_bpe/seed3.log shared GPU-1" in shared.stdout

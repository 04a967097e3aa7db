"""GPU slots (gfm_limits/devices.py): concurrent jobs of one machine get distinct cards while they
hold them, share them evenly when they outnumber them, and give them back however they end.

The jobs are real processes holding real fcntl locks; the cards are a fake CUDA_VISIBLE_DEVICES
list with an injected count, so this runs on a CPU."""

import os
import re
import signal
import subprocess
import sys
from collections import Counter

import pytest

from gfm_limits.devices import gpu_slot, nvml_device, visible_gpus

from conftest import ROOT

JOB = """
import os, sys
sys.path.insert(0, {scripts!r})
from gfm_limits.devices import gpu_slot
try:
    with gpu_slot({folder!r}, count={count}) as card:
        print(card, os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
        if {fail}:
            raise RuntimeError("the job failed")
        sys.stdin.readline()  # hold the card until released
finally:
    print("after", os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
"""


class Machine:
    """GPU jobs, each a process of its own, on a fake machine whose CUDA_VISIBLE_DEVICES is `visible`
    and whose CUDA sees `count` cards. A job reports the card it holds and what
    CUDA_VISIBLE_DEVICES then says, holds it until released (or fails inside it), and reports
    the variable it left behind."""

    def __init__(self, folder, visible="3,5,7", count=3):
        self.folder, self.visible, self.count = str(folder), visible, count
        self.jobs = {}  # process -> card

    def start(self, fail=False, jobs=1):
        """Start `jobs` jobs at once; the last one's process and card."""
        env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_ID"} | {"CUDA_VISIBLE_DEVICES": self.visible}
        code = JOB.format(scripts=str(ROOT / "scripts"), folder=self.folder, count=self.count, fail=fail)
        started = [subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(jobs)]
        for process in started:
            card, seen = process.stdout.readline().split()
            assert seen == card
            self.jobs[process] = card
        return process, card

    def finish(self, process):
        """Release the job's card; its exit status."""
        del self.jobs[process]
        try:
            process.stdin.write("\n")
            process.stdin.close()
        except BrokenPipeError:  # a job that failed has gone already
            pass
        assert process.stdout.read().split() == ["after", self.visible]  # the variable is as before
        return process.wait(60)

    def held(self):
        return Counter(self.jobs.values())

    def close(self):
        for process in self.jobs:
            process.kill()
            process.communicate()


@pytest.fixture
def machine(tmp_path):
    m = Machine(tmp_path / "slots")
    yield m
    m.close()


def test_concurrent_jobs_hold_distinct_cards_then_share_them_evenly(machine):
    first = [machine.start()[1] for _ in range(3)]
    assert first == ["3", "5", "7"]  # one card each, in CUDA_VISIBLE_DEVICES order
    more = [machine.start()[1] for _ in range(4)]
    assert more == ["3", "5", "7", "3"]  # the least-loaded card each time: a second job on each, then a third
    assert machine.held() == {"3": 3, "5": 2, "7": 2}


def test_jobs_that_start_together_spread_over_the_cards(machine):
    machine.start(jobs=8)
    assert machine.held() == {"3": 3, "5": 3, "7": 2}


def test_a_released_card_is_taken_again_before_a_busy_one(machine):
    jobs = dict(machine.start() for _ in range(3))
    five = next(process for process, card in jobs.items() if card == "5")
    assert machine.finish(five) == 0
    assert machine.start()[1] == "5"
    assert machine.held() == {"3": 1, "5": 1, "7": 1}


def test_a_job_that_fails_or_is_killed_gives_its_card_back(machine):
    machine.start()  # holds 3
    process, card = machine.start(fail=True)
    assert card == "5"
    assert machine.finish(process) == 1  # the RuntimeError left the slot
    assert machine.start()[1] == "5"
    process, card = machine.start()
    assert card == "7"
    del machine.jobs[process]
    process.send_signal(signal.SIGKILL)  # no finally runs: the kernel drops the lock
    process.wait(60)
    assert machine.start()[1] == "7"
    assert machine.held() == {"3": 1, "5": 1, "7": 1}


def test_slurm_and_machines_of_one_card_are_left_alone(tmp_path):
    for environ, count in [({"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "2,3"}, 2),
                           ({"CUDA_VISIBLE_DEVICES": "4"}, 1), ({}, 1), ({}, 0)]:
        before = dict(environ)
        with gpu_slot(tmp_path / "slots", environ=environ, count=count) as card:
            assert card is None and environ == before
    assert not (tmp_path / "slots").exists()
    import torch

    if torch.cuda.device_count() < 2:  # the count torch gives (NVML): no card, or one
        with gpu_slot(tmp_path / "slots", environ={}) as card:
            assert card is None


def test_without_cuda_visible_devices_the_cards_are_counted_and_the_variable_removed_after(tmp_path):
    environ = {}
    with gpu_slot(tmp_path / "slots", environ=environ, count=4) as card:
        assert card == "0" and environ == {"CUDA_VISIBLE_DEVICES": "0"}
        with gpu_slot(tmp_path / "slots", environ=environ, count=1) as inner:
            assert inner is None  # a job inside a job keeps its card
        with gpu_slot(tmp_path / "slots", environ={}, count=4) as other:
            assert other == "1"
    assert environ == {}


def test_the_cards_as_cuda_reads_the_variable():
    assert visible_gpus({}, 3) == ["0", "1", "2"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "3, 5,7"}, 3) == ["3", "5", "7"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "3,5,7"}, 2) == ["3", "5"]  # CUDA sees two of them
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2,-1,4"}, 3) == ["2"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}, 0) == []
    uuid = "GPU-6f4b2c1e-0d7a-4e55-9c3b-2a1f0e9d8c7b"
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": f"{uuid},1"}, 2) == [uuid, "1"]
    # NVML ignores the variable: the sampler looks a job's cuda:0 up by the card listed
    assert nvml_device(0, {"CUDA_VISIBLE_DEVICES": "5"}) == 5
    assert nvml_device(1, {"CUDA_VISIBLE_DEVICES": f"3,{uuid}"}) == uuid
    assert nvml_device(0, {}) == 0


def test_every_rule_that_asks_for_a_gpu_takes_a_slot_in_its_script():
    """A rule with resources gpu=... runs a script that enters gpu_slot() around its work."""
    gpu_rules = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for name, body in re.findall(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", smk.read_text(), re.M | re.S):
            if re.search(r"^\s+gpu=", body, re.M):
                gpu_rules[name] = re.search(r'script:\s*"([^"]+)"', body).group(1)
    assert {"train", "extract", "dynamics"} <= set(gpu_rules)
    for name, script in gpu_rules.items():
        text = (ROOT / "rules" / script).resolve().read_text()
        assert "\nwith gpu_slot(), job_card():" in text, f"rule {name}: {script} does not take a GPU slot " \
            "and log its card"


def test_the_cards_are_counted_through_nvml_else_in_a_child_and_never_after_cuda_started(monkeypatch):
    import torch

    from gfm_limits import devices

    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(devices.subprocess, "run", lambda *a, **k: calls.append(a[0]) or real_run(*a, **k))
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "_device_count_nvml", lambda: 4, raising=False)
    assert devices.cuda_device_count() == 4 and not calls
    monkeypatch.setattr(torch.cuda, "_device_count_nvml", lambda: -1, raising=False)  # NVML failed
    assert devices.cuda_device_count() == torch.cuda.device_count() and calls[0][0] == sys.executable
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.raises(RuntimeError, match="CUDA was initialised before the job took its GPU slot"):
        devices.cuda_device_count()

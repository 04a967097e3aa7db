"""The resumable training state of one member: saved, on a schedule and on signals, and resumed.

The state is everything the next optimiser step depends on (train.Stepper.state_dict:
weights, AdamW moments, schedule, the mask generator and torch's RNG on the CPU and the
GPU), with the step reached and the training curve so far, in one torch.save file under
results/state/. A job that SLURM signals before its time limit or a preemption (SIGTERM,
SIGUSR1), or that a user stops with Ctrl-C (SIGINT, which the terminal sends to snakemake and
its jobs alike), saves it at the next log_every boundary and stops with a nonzero exit status,
so Snakemake counts the job as failed; a rerun continues from there and ends bitwise where an
uninterrupted run ends (tests/test_model.py). A second Ctrl-C before the save stops at once
(KeyboardInterrupt), losing what the saved state lacks, as Ctrl-C did before.
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

from gfm_limits.files import atomic_path

log = logging.getLogger(__name__)


class Interrupted(SystemExit):
    """Training stopped after a signal, its state saved; a rerun resumes."""


class TrainingState:
    """The training state of one member in one file, saved every `every_steps` steps (0: never
    by count), every `every_minutes` minutes, and at once on SIGTERM or SIGUSR1 (what SLURM sends
    before a time limit or preemption) or SIGINT (Ctrl-C; not where the process started with
    SIGINT ignored, as a shell's background jobs do), after which training stops (Interrupted).
    A rerun resumes from the file when its fingerprint (model and training config, steps, the
    tokens' and the tokenizer's sha256) matches; otherwise it starts afresh. Writes are atomic,
    so a kill at any moment leaves the previous state or the new one, never half of one."""

    SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)

    def __init__(self, path, fingerprint: dict, every_steps: int = 0, every_minutes: float = 30.0):
        self.path, self.fingerprint = Path(path), fingerprint
        self.every_steps, self.every_seconds = every_steps, every_minutes * 60
        self.last, self.last_step = time.monotonic(), 0
        self.signalled: int | None = None

    def __enter__(self):
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in self.SIGNALS
                          if sig != signal.SIGINT or signal.getsignal(sig) is not signal.SIG_IGN}
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum, frame):
        if signum == signal.SIGINT and self.signalled == signal.SIGINT:
            raise KeyboardInterrupt  # Ctrl-C twice: stop now, without waiting for the save
        self.signalled = signum
        log.warning("received %s: saving the training state at the next log_every step", signal.Signals(signum).name)

    def due(self, step: int) -> bool:
        by_count = self.every_steps > 0 and step - self.last_step >= self.every_steps
        return self.signalled is not None or by_count or time.monotonic() - self.last >= self.every_seconds

    def save(self, stepper, step: int, curve: list[dict]) -> None:
        import torch

        with atomic_path(self.path) as tmp:
            torch.save({"fingerprint": self.fingerprint, "step": step, "curve": curve,
                        "state": stepper.state_dict()}, tmp)
        self.last, self.last_step = time.monotonic(), step
        log.info("saved the training state at step %d to %s", step, self.path)
        if self.signalled is not None:
            raise Interrupted(f"stopped by {signal.Signals(self.signalled).name} at step {step}; "
                              f"the state is in {self.path}, and a rerun resumes from it")

    def resume(self, stepper) -> tuple[int, list[dict]]:
        """Load the saved state into `stepper`: (first step to run, curve so far); (0, []) if none."""
        import torch

        if not self.path.is_file():
            return 0, []
        # on the CPU: the RNG states must stay CPU ByteTensors (a CUDA generator's too); the weights,
        # the AdamW moments and the counters are moved to the model's device as they are loaded
        saved = torch.load(self.path, map_location="cpu", weights_only=False)
        if saved["fingerprint"] != self.fingerprint:
            log.warning("%s belongs to another configuration or data; starting afresh", self.path)
            return 0, []
        stepper.load_state_dict(saved["state"])
        self.last_step = saved["step"]
        log.info("resuming from step %d (%s)", saved["step"], self.path)
        return saved["step"], saved["curve"]

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

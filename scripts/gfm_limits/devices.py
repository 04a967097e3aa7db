"""Which of this machine's GPUs a job runs on: its own card, where the machine has several.

Snakemake's `--resources gpu=N` only counts GPU jobs: without more, every job would open
cuda:0, and `--resources gpu=8` on an eight-card workstation would put eight members on one
card. So each GPU job (train, extract, dynamics) first takes a slot (`gpu_slot`): under an
exclusive lock on the slots folder it reads which cards the running jobs of this machine hold,
takes the least-loaded card (the first in CUDA_VISIBLE_DEVICES order among equals) and sets
CUDA_VISIBLE_DEVICES to that card alone before torch initialises CUDA, so the job's `cuda` is
that card and nothing of it lands on another. With more GPU jobs than cards, jobs share cards
evenly: `--resources gpu=8` on four cards runs two on each.

A held slot is an exclusive `fcntl.flock` on the file `<card>.<level>.lock` (level 0 for the
first job on a card, 1 for a second, ...). The kernel drops a lock when its holder exits, by
an exception, a signal or SIGKILL alike, so a slot never outlives its job. The folder is the
machine's, not the checkout's (`default_folder`: $GFM_LIMITS_GPU_SLOTS, else
<tempdir>/gfm-limits-gpu-slots-<uid>), so two runs of the same user, from two clones too, share
the cards between them.

Nothing is chosen, and CUDA_VISIBLE_DEVICES is left as it is, under SLURM (SLURM_JOB_ID set:
SLURM gives each job its own cards) and where at most one card is visible.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path

log = logging.getLogger(__name__)

VISIBLE = "CUDA_VISIBLE_DEVICES"
FOLDER_VARIABLE = "GFM_LIMITS_GPU_SLOTS"


def visible_gpus(environ: MutableMapping[str, str], count: int) -> list[str]:
    """The cards a job may choose from, as CUDA_VISIBLE_DEVICES entries: that variable's entries
    (indices or GPU-/MIG- UUIDs; as CUDA reads it, the list ends at an empty or negative entry),
    at most `count` of them (the cards CUDA sees, so an entry beyond them is never chosen);
    "0" to "count - 1" when it is unset."""
    if VISIBLE not in environ:
        return [str(i) for i in range(count)]
    entries = []
    for entry in (e.strip() for e in environ[VISIBLE].split(",")):
        if not entry or entry.startswith("-"):
            break
        entries.append(entry)
    return entries[:count]


def default_folder(environ: MutableMapping[str, str]) -> Path:
    """Where the slots of this machine's GPU jobs are held: $GFM_LIMITS_GPU_SLOTS, else a folder
    of this user's in the temporary directory."""
    if environ.get(FOLDER_VARIABLE):
        return Path(environ[FOLDER_VARIABLE])
    return Path(tempfile.gettempdir()) / f"gfm-limits-gpu-slots-{os.getuid()}"


def cuda_device_count() -> int:
    """The cards torch sees, counted so that CUDA stays uninitialised here (once it is, a change
    of CUDA_VISIBLE_DEVICES has no effect): through NVML, as torch.cuda.device_count tries first,
    else (no NVML, as in a container given only the compute driver; MIG) by torch in a child
    process. 0 for a torch built without CUDA; an error if CUDA was initialised already."""
    import torch

    if not torch.backends.cuda.is_built():
        return 0
    if torch.cuda.is_initialized():
        raise RuntimeError("CUDA was initialised before the job took its GPU slot; take the slot (gpu_slot) "
                           "before anything touches the GPU")
    nvml = getattr(torch.cuda, "_device_count_nvml", None)  # private, hence looked up; -1 when NVML fails
    count = nvml() if nvml is not None else -1
    if count >= 0:
        return count
    child = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.device_count())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


@contextlib.contextmanager
def gpu_slot(folder=None, *, environ: MutableMapping[str, str] | None = None,
             count: int | None = None) -> Iterator[str | None]:
    """Hold a card of this machine for the code inside: yields the card (a CUDA_VISIBLE_DEVICES
    entry), which CUDA_VISIBLE_DEVICES then names alone, and gives both back on leaving however
    the code leaves; yields None, changing nothing, under SLURM or with fewer than two cards.
    environ: os.environ by default; count: the cards CUDA sees (cuda_device_count by default)."""
    environ = os.environ if environ is None else environ
    if "SLURM_JOB_ID" in environ:
        yield None
        return
    cards = visible_gpus(environ, cuda_device_count() if count is None else count)
    if len(cards) < 2:
        yield None
        return
    folder = Path(folder) if folder is not None else default_folder(environ)
    previous = environ[VISIBLE] if VISIBLE in environ else None
    with _held(folder, cards) as (card, others):
        environ[VISIBLE] = card
        log.info("GPU slot: card %s of %s, beside %d other job(s) of this machine on it (slots in %s)", card,
                 ",".join(cards), others, folder)
        try:
            yield card
        finally:
            if previous is None:
                del environ[VISIBLE]
            else:
                environ[VISIBLE] = previous


@contextlib.contextmanager
def _held(folder: Path, cards: list[str]) -> Iterator[tuple[str, int]]:
    """Take the lowest free level of the least-loaded card and hold it inside; yields the card
    and how many other jobs hold it. Choosing is serialised by a lock on `choose.lock`, so two
    jobs never take one slot."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(folder / "choose.lock", "a") as chooser:
        fcntl.flock(chooser, fcntl.LOCK_EX)
        try:
            held = {card: _held_levels(folder, card) for card in cards}
            card = min(cards, key=lambda c: len(held[c]))  # min keeps the first of equals
            level = next(i for i in range(len(held[card]) + 1) if i not in held[card])
            slot = open(_slot_path(folder, card, level), "a")  # held past this block, closed below
            fcntl.flock(slot, fcntl.LOCK_EX)  # free: every taker holds the chooser's lock
        finally:
            fcntl.flock(chooser, fcntl.LOCK_UN)
    try:
        yield card, len(held[card])
    finally:
        slot.close()  # closing the last descriptor of a flock releases it


def _slot_path(folder: Path, card: str, level: int) -> Path:
    return folder / f"{re.sub(r'[^A-Za-z0-9.-]', '_', card)}.{level}.lock"


def _held_levels(folder: Path, card: str) -> set[int]:
    """The levels of `card` whose lock file some process holds now."""
    pattern = re.compile(re.escape(_slot_path(folder, card, 0).name[: -len("0.lock")]) + r"(\d+)\.lock")
    held = set()
    for path in folder.iterdir():
        if (match := pattern.fullmatch(path.name)) is None:
            continue
        with open(path, "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.add(int(match.group(1)))
    return held


def nvml_device(index: int, environ: MutableMapping[str, str] | None = None) -> int | str:
    """How NVML, which ignores CUDA_VISIBLE_DEVICES, names torch's cuda:`index`: the UUID or
    the physical index that CUDA_VISIBLE_DEVICES lists at that place, or `index` itself when the
    variable is unset. (A physical index means NVML's PCI order, which is CUDA's where
    CUDA_DEVICE_ORDER=PCI_BUS_ID or the cards are alike.)"""
    environ = os.environ if environ is None else environ
    if VISIBLE not in environ:
        return index
    entries = visible_gpus(environ, index + 1)
    if index >= len(entries):
        return index
    return int(entries[index]) if entries[index].isdigit() else entries[index]

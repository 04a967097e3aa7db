"""Masked-language-model training of one ensemble member.

As the paper's code (docs/paper-notes.md, Setup): 15% of non-special tokens are
selected; of those 80% become [MASK], 10% a random token, 10% stay
(DataCollatorForLanguageModeling); AdamW with 10% linear warmup then cosine
decay to zero; gradient clipping at 0.5. The member's seed sets the
initialisation, the dropout and the masks; `data_seed` sets the order of the
rows, the same for every member. The number of steps follows from a token
budget, so every condition trains on the same number of tokens.

Snapshots: besides the final model, a member saves itself at `snapshots`
log-spaced steps before the last (`snapshot_steps`), the same steps for every
member of a condition, for the statistics over training (dynamics.py).

Resuming: the whole training state is saved on a schedule and when SLURM
signals a job (training_state.py); a rerun continues bitwise from it.

Speed (measured in bench/): on a GPU the forward pass runs under bf16
autocast with the residual stream stored in bf16 (train.residual_stream), the
model (model.Bert) is compiled with torch.compile, AdamW is the
fused kernel, rows reach the GPU through pinned memory, and no step waits for
the host: the masked positions are gathered into a fixed-size index, so no
shape depends on the data. On a CPU everything runs in fp32, uncompiled.

"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gfm_limits import special_tokens
from gfm_limits.files import InputError, atomic_path, sha256sum
from gfm_limits.gpu import BusySampler
from gfm_limits.gpu_jobs import card_identity
from gfm_limits.layout import MEMBER_RECORD
from gfm_limits.model import ModelConfig, autocast, build_model, save_pretrained
from gfm_limits.model import device as default_device
from gfm_limits.provenance import package_versions
from gfm_limits.tokenizer import load
from gfm_limits.training_state import TrainingState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    seed: int
    batch_size: int = 64
    tokens: int = 1_000_000  # training tokens (batch_size * seq_len per step)
    lr: float = 1e-4
    warmup_fraction: float = 0.1
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    grad_clip: float = 0.5
    mask_prob: float = 0.15
    data_seed: int = 42
    log_every: int = 10
    budget: str = "matched"  # matched: `tokens` for every condition; as_paper: `sequences` documents
    sequences: int = 10_000_000  # as_paper: training documents (the paper: 2M rows x 5 epochs)
    grad_accum: int = 1  # micro-batches per optimiser step; batch_size must be a multiple
    compile: str = "auto"  # torch.compile: auto (on a GPU), always, never
    deterministic: bool = False  # deterministic GPU algorithms (slower; see README, Reliability)
    state_steps: int = 0  # save the training state every N steps (0: only by time and on signals)
    state_minutes: float = 30.0  # and every so many minutes
    snapshots: int = 5  # models saved at log-spaced steps before the final one (snapshot_steps); 0: none
    embedding_lr_scale: float = 1.0  # the token interface's lr (embeddings, MLM head) is lr x this (param_groups)
    reverse_complement_augmentation: bool = False  # k-mer DNA: each row replaced by its RC with probability 0.5
    kmer_k: int = 6  # the k of the k-mer tokenizer, for the RC map of reverse_complement_augmentation
    residual_stream: str = "bf16"  # on a GPU: the residual stream in bf16 (model.Bert.stream_dtype); fp32: autocast's

    def __post_init__(self):
        if self.batch_size % self.grad_accum:
            raise ValueError(f"train.batch_size {self.batch_size} is not a multiple of train.grad_accum "
                             f"{self.grad_accum}")
        if self.residual_stream not in ("fp32", "bf16"):
            raise ValueError(f"train.residual_stream is fp32 or bf16, not {self.residual_stream!r}")


def mlm_mask(ids, generator, *, special, mask_id: int, n_random: int, first_random: int, prob: float):
    """BERT 80/10/10 masking. ids: (B, T) long -> (inputs (B, T), labels (B, T), -100 unmasked).

    special: (S,) long ids never selected; random replacements are drawn from
    the contiguous non-special range [first_random, first_random + n_random).
    """
    import torch

    draw = torch.rand(ids.shape, generator=generator, device=ids.device)
    selected = (draw < prob) & ~torch.isin(ids, special)
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    how = torch.rand(ids.shape, generator=generator, device=ids.device)
    random_ids = torch.randint(first_random, first_random + n_random, ids.shape,
                               generator=generator, device=ids.device)
    inputs = torch.where(selected & (how < 0.8), torch.full_like(ids, mask_id), ids)
    inputs = torch.where(selected & (how >= 0.8) & (how < 0.9), random_ids, inputs)
    return inputs, labels


def batch_order(n_rows: int, batch_size: int, steps: int, data_seed: int) -> np.ndarray:
    """Row indices of every step: (steps, batch_size); a fresh permutation per epoch."""
    rng = np.random.default_rng(data_seed)
    need = steps * batch_size
    epochs = math.ceil(need / n_rows)
    order = np.concatenate([rng.permutation(n_rows) for _ in range(epochs)])
    return order[:need].reshape(steps, batch_size)


def token_budget(cfg: TrainConfig, token_stats: dict | None) -> int:
    """Training tokens of a member. matched: `tokens`, the same for every condition.
    as_paper: what the paper's rows of one document each hold, `sequences` x the mean
    tokens of a document row (truncated to seq_len, unpadded; tokenizer.document_stats),
    so conditions with shorter documents (DNA pieces) see fewer tokens, as in the paper."""
    if cfg.budget == "matched":
        return cfg.tokens
    if token_stats is None:
        raise ValueError("train.budget as_paper needs the encode rule's document statistics")
    return max(1, round(cfg.sequences * token_stats["mean_tokens_per_document_row"]))


def n_steps(cfg: TrainConfig, seq_len: int, tokens: int | None = None) -> int:
    tokens = cfg.tokens if tokens is None else tokens
    return max(1, math.ceil(tokens / (cfg.batch_size * seq_len)))


def snapshot_steps(steps: int, k: int) -> list[int]:
    """The optimiser steps after which a member saves a snapshot: round(steps / 2^i) for i = 1..k,
    each twice the one before and the final step (saved anyway) twice the last, so the k + 1
    models are evenly spaced on a log axis over the last k doublings of training, where a masked
    LM leaves the unigram plateau; duplicates and steps below 1 dropped (a run of few steps gets
    fewer). snapshot_steps(2500, 5) == [78, 156, 312, 625, 1250]."""
    return sorted({s for i in range(1, k + 1) if 1 <= (s := round(steps / 2**i)) < steps})


def capacity(n_tokens: int, prob: float) -> int:
    """Room for masked positions in one micro-batch: the Binomial mean + 8 standard
    deviations + 16 (exceeded with probability < 1e-15; any excess is counted)."""
    mean, sd = n_tokens * prob, math.sqrt(n_tokens * prob * (1 - prob))
    return min(n_tokens, math.ceil(mean + 8 * sd) + 16)


def select_masked(labels, k: int):
    """Flat indices (k,) of the masked positions, in order, then unmasked ones as padding;
    their targets (k,), -100 on the padding; and how many masked positions did not fit.

    A fixed k keeps every shape static, so a GPU never waits for the host to learn
    how many positions were masked (boolean indexing would synchronise every step).
    """
    import torch

    flat = labels.flatten()  # (B*T,)
    masked = flat != -100
    index = torch.argsort(masked.to(torch.uint8), descending=True, stable=True)[:k]  # (k,)
    return index, flat[index], (masked.sum() - k).clamp(min=0)


# The token interface: the word, position and token-type embeddings and the MLM head (transform,
# output bias, and an untied decoder); everything else (the embedding LayerNorm, the encoder) is the body.
TOKEN_INTERFACE = ("word.", "position.", "token_type.", "head_")


def param_groups(model, lr: float, embedding_lr_scale: float = 1.0) -> list[dict]:
    """AdamW's parameter groups: with a scale of 1, one group of model.parameters() in their own
    order (what training always did); otherwise the body at `lr` and the token interface
    (TOKEN_INTERFACE) at lr x embedding_lr_scale, a control for the interface's own gradient
    geometry (gradient_geometry.py). Every parameter once (the tied word embedding and decoder are
    one tensor); the scheduler multiplies each group's lr alike."""
    if embedding_lr_scale == 1.0:
        return [{"params": list(model.parameters()), "lr": lr}]
    named = list(model.named_parameters())
    interface = [p for name, p in named if name.startswith(TOKEN_INTERFACE)]
    body = [p for name, p in named if not name.startswith(TOKEN_INTERFACE)]
    return [{"params": body, "lr": lr, "name": "body"},
            {"params": interface, "lr": lr * embedding_lr_scale, "name": "token_interface"}]


def set_deterministic(on: bool) -> None:
    """Ask torch for deterministic algorithms (cuBLAS workspace, index backward by sorting);
    ops with no deterministic version warn rather than fail (their drift is measured in bench/)."""
    import torch

    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(on, warn_only=True)
    torch.backends.cudnn.benchmark = False


def use_compile(setting: str, device) -> bool:
    return setting == "always" or (setting == "auto" and device.type == "cuda")


class Stepper:
    """One optimiser step of masked-LM training: masking, forward and backward over
    `grad_accum` micro-batches, clipping, AdamW and the schedule. The train rule and
    bench/ run this same code.

    The loss of an optimiser step is the mean cross-entropy over all its masked
    tokens, however it is split into micro-batches, so `grad_accum` changes memory,
    not the result.
    """

    def __init__(self, model, cfg: TrainConfig, *, steps: int, vocab_size: int,
                 specials: special_tokens.SpecialTokens, device, seq_len: int):
        import torch
        from transformers import get_cosine_schedule_with_warmup

        cuda = device.type == "cuda"
        self.model, self.cfg, self.device = model, cfg, device
        if cuda and cfg.residual_stream == "bf16":  # under the bf16 autocast below; a CPU trains in fp32
            model.stream_dtype = torch.bfloat16
        self.forward = torch.compile(model) if use_compile(cfg.compile, device) else model
        self.optimizer = torch.optim.AdamW(param_groups(model, cfg.lr, cfg.embedding_lr_scale), lr=cfg.lr,
                                           betas=(cfg.adam_beta1, cfg.adam_beta2), eps=cfg.adam_eps,
                                           weight_decay=cfg.weight_decay, fused=cuda or None)
        self.scheduler = get_cosine_schedule_with_warmup(self.optimizer, round(cfg.warmup_fraction * steps), steps)
        self.generator = torch.Generator(device=device).manual_seed(cfg.seed)
        if not specials.leading():  # the 10% random replacements draw from one contiguous range
            raise InputError(f"training needs the special tokens at ids 0..{len(specials.special) - 1}, "
                             f"as this pipeline's tokenizers put them; got {specials.special}")
        self.special = torch.tensor(specials.special, device=device)
        self.mask_id, self.n_special, self.vocab_size = specials.mask, len(specials.special), vocab_size
        self.k = capacity(cfg.batch_size // cfg.grad_accum * seq_len, cfg.mask_prob)
        self.autocast = autocast(device)
        self.dropped = torch.zeros((), dtype=torch.long, device=device)

    def __call__(self, batch):
        """One optimiser step on batch (B, T) long; returns the loss as a 0-d device tensor."""
        import torch

        self.model.train()
        inputs, labels = mlm_mask(batch, self.generator, special=self.special, mask_id=self.mask_id,
                                  n_random=self.vocab_size - self.n_special, first_random=self.n_special,
                                  prob=self.cfg.mask_prob)
        n_masked = (labels != -100).sum().clamp(min=1)
        total = torch.zeros((), device=self.device)
        for micro_inputs, micro_labels in zip(inputs.chunk(self.cfg.grad_accum), labels.chunk(self.cfg.grad_accum)):
            index, targets, dropped = select_masked(micro_labels, self.k)
            with self.autocast:
                loss = self.forward(micro_inputs, index, targets, n_masked)
            loss.backward()
            total += loss.detach()
            self.dropped += dropped
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total

    def state_dict(self) -> dict:
        """Everything the next step depends on: weights, AdamW moments, schedule, the mask
        generator and torch's own RNG (dropout), on the CPU and the GPU."""
        import torch

        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "generator": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
                "dropped": self.dropped.cpu()}

    def load_state_dict(self, state: dict) -> None:
        import torch

        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"].cpu())  # RNG states are CPU ByteTensors, also for CUDA
        torch.set_rng_state(state["torch_rng"].cpu())
        if state["cuda_rng"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.device)
        self.dropped = state["dropped"].to(self.device)


def rc_augment(batch: np.ndarray, perm: np.ndarray, data_seed: int, step: int) -> np.ndarray:
    """The rows (B, T) of one step, each replaced by its reverse complement
    (reverse_complement.rc_rows) with probability 0.5, drawn from (data_seed, step): the same
    for every member and for a resumed run."""
    from gfm_limits.reverse_complement import rc_rows

    flip = np.random.default_rng([data_seed, step]).random(len(batch)) < 0.5  # (B,)
    batch = batch.copy()
    batch[flip] = rc_rows(batch[flip], perm)
    return batch


def device_batches(rows: np.ndarray, order: np.ndarray, device, *, rc_perm: np.ndarray | None = None,
                   data_seed: int = 0, start: int = 0):
    """Yield each step's rows (B, T) as a long tensor on `device` (order[i] is step start + i);
    with rc_perm (the token-level RC map), RC-augmented (rc_augment). On a GPU the rows go
    through pinned memory with an asynchronous copy, so the host prepares the next
    batch while the GPU still computes the last."""
    import torch

    for step, idx in enumerate(order, start=start):
        rows_now = rows[idx] if rc_perm is None else rc_augment(rows[idx], rc_perm, data_seed, step)
        batch = torch.from_numpy(rows_now.astype(np.int32))  # (B, T)
        if device.type == "cuda":
            batch = batch.pin_memory()
        yield batch.to(device, non_blocking=True).long()


def run_steps(stepper: Stepper, batches, *, steps: int, step_tokens: int, state: TrainingState | None = None,
              start: int = 0, curve: list[dict] | None = None, snapshots: Snapshots | None = None) -> list[dict]:
    """Run the optimiser steps from `start`; return the training curve, one row per `log_every`
    steps (the loss is read from the GPU only then: reading it every step would synchronise).
    With `state`, save the whole training state when it is due and stop after a signal; with
    `snapshots`, save the model after each of its steps (before any state saved at that step)."""
    import torch

    log_every = stepper.cfg.log_every
    curve, window_start = list(curve or []), time.perf_counter()
    window_loss = torch.zeros((), device=stepper.device)
    for step, batch in enumerate(batches, start=start):
        window_loss += stepper(batch)
        if snapshots is not None and step + 1 in snapshots.steps:
            snapshots.save(stepper.model, step + 1, (step + 1) * step_tokens)
        if (step + 1) % log_every == 0 or step + 1 == steps:
            n, now = (step % log_every) + 1, time.perf_counter()
            curve.append({"step": step + 1, "tokens": (step + 1) * step_tokens, "loss": window_loss.item() / n,
                          "lr": stepper.scheduler.get_last_lr()[0],
                          "tokens_per_s": n * step_tokens / (now - window_start)})
            window_start, window_loss = now, torch.zeros((), device=stepper.device)
            log.info("step %d/%d loss %.4f lr %.2e %.0f tokens/s", step + 1, steps, curve[-1]["loss"],
                     curve[-1]["lr"], curve[-1]["tokens_per_s"])
            if state is not None and step + 1 < steps and state.due(step + 1):
                state.save(stepper, step + 1, curve)
    return curve


class Snapshots:
    """A member's models after `steps` (snapshot_steps), each written the moment training passes
    it as an HF BertForMaskedLM folder `step{N}/` of `folder` (with tokenizer.json and
    snapshot.json: `describe`, step, tokens), atomically, so a kill leaves whole snapshots only.
    `folder` sits beside the training state and outlives an interrupted job, so a resumed run
    keeps the snapshots it wrote before; `publish` puts them into the rule's output at the end."""

    def __init__(self, folder, steps: list[int], pad_id: int, tokenizer_path, describe: dict):
        self.folder, self.steps = Path(folder), list(steps)
        self.pad_id, self.tokenizer_path, self.describe = pad_id, tokenizer_path, describe

    def start(self, first: int) -> None:
        """A run from step 0 drops snapshots another run left (another config, or no state to resume)."""
        if first == 0 and self.folder.exists():
            shutil.rmtree(self.folder)

    def save(self, model, step: int, tokens: int) -> None:
        import torch

        # save_pretrained builds, and so initialises, an HF model from the CPU RNG, which also
        # draws the dropout of CPU training: fork it, so a snapshot leaves training as it was
        with torch.random.fork_rng(devices=[]), atomic_path(self.folder / f"step{step}", directory=True) as tmp:
            save_pretrained(model, self.pad_id, tmp)
            shutil.copyfile(self.tokenizer_path, tmp / "tokenizer.json")
            (tmp / "snapshot.json").write_text(json.dumps({**self.describe, "step": step, "tokens": tokens},
                                                          indent=2) + "\n")
        log.info("saved the snapshot at step %d", step)

    def publish(self, out) -> None:
        """Every snapshot into `out` (step{N}/ each), atomically; files are hard-linked, or copied
        where `out` is on another file system. The working folder stays until `remove`."""
        missing = [s for s in self.steps if not (self.folder / f"step{s}").is_dir()]
        if missing:
            raise RuntimeError(f"snapshots of steps {missing} are missing from {self.folder}; remove the training "
                               f"state beside it to train this member afresh")
        with atomic_path(out, directory=True) as tmp:
            for s in self.steps:
                shutil.copytree(self.folder / f"step{s}", tmp / f"step{s}", copy_function=_link_or_copy)

    def remove(self) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder)


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError as err:
        if err.errno != errno.EXDEV:  # only another file system is a reason to copy
            raise
        shutil.copy2(src, dst)


def train_mlm(tokens_path, tokenizer_path, *, out_dir, curve_path, model_cfg: ModelConfig, cfg: TrainConfig,
              threads: int = 1, token_stats=None, state=None, snapshots_out=None, snapshots_staging=None) -> dict:
    """Train one member; write it as a model folder that from_pretrained loads, and its training curve.
    token_stats: the encode rule's JSON for the training rows (needed by budget as_paper).
    state: the file of the training state (training_state.TrainingState); a rerun resumes from it.
    snapshots_out: a folder for the cfg.snapshots snapshots (Snapshots), written while training
    into snapshots_staging (beside the training state, so they survive an interruption; default:
    a temporary folder beside snapshots_out)."""
    import torch

    torch.set_num_threads(threads)
    set_deterministic(cfg.deterministic)
    rows = np.load(tokens_path)  # (R, T) uint16
    tok = load(tokenizer_path)
    ids = special_tokens.read(tokenizer_path)
    device = default_device()
    stats = json.loads(Path(token_stats).read_text()) if token_stats is not None else None
    steps = n_steps(cfg, rows.shape[1], token_budget(cfg, stats))
    order = batch_order(len(rows), cfg.batch_size, steps, cfg.data_seed)
    rc_perm = None
    if cfg.reverse_complement_augmentation:
        from gfm_limits.reverse_complement import read_permutation

        rc_perm = read_permutation(tokenizer_path, cfg.kmer_k)[0]
        log.info("reverse-complement augmentation: each row replaced by its RC with probability 0.5")
    model = build_model(model_cfg, tok.get_vocab_size(), ids.pad, cfg.seed).to(device)
    stepper = Stepper(model, cfg, steps=steps, vocab_size=tok.get_vocab_size(), specials=ids, device=device,
                      seq_len=rows.shape[1])

    step_tokens = cfg.batch_size * rows.shape[1]
    digests = {"tokens_sha256": sha256sum(tokens_path), "tokenizer_sha256": sha256sum(tokenizer_path)}
    training_state = None
    first, curve = 0, []
    if state is not None:
        fingerprint = {"model": asdict(model_cfg), "train": asdict(cfg), "steps": steps, **digests}
        training_state = TrainingState(state, fingerprint, cfg.state_steps, cfg.state_minutes)
        first, curve = training_state.resume(stepper)
    snapshots = None
    if snapshots_out is not None:
        describe = {"seed": cfg.seed, "steps": steps, **digests, "model": asdict(model_cfg), "train": asdict(cfg)}
        snapshots = Snapshots(_staging(snapshots_out, snapshots_staging), snapshot_steps(steps, cfg.snapshots),
                              ids.pad, tokenizer_path, describe)
        snapshots.start(first)
    start = time.perf_counter()
    with BusySampler(device) as busy, (training_state or contextlib.nullcontext()):
        batches = device_batches(rows, order[first:], device, rc_perm=rc_perm, data_seed=cfg.data_seed, start=first)
        curve = run_steps(stepper, batches, steps=steps, step_tokens=step_tokens,
                          state=training_state, start=first, curve=curve, snapshots=snapshots)
    seconds = time.perf_counter() - start
    summary = {
        "seed": cfg.seed, "steps": steps, "tokens": steps * step_tokens,
        "final_loss": curve[-1]["loss"], "seconds": seconds, "tokens_per_s": steps * step_tokens / seconds,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "card": card_identity(device),
        "compiled": stepper.forward is not model, "gpu_busy_percent": busy.percent,
        "masked_dropped": int(stepper.dropped), "resumed_from_step": first,
        "snapshot_steps": snapshots.steps if snapshots is not None else [], **digests,
        "model": asdict(model_cfg), "train": asdict(cfg), "packages": package_versions(),
    }
    if summary["masked_dropped"]:
        log.warning("%d masked positions did not fit the fixed capacity and were left out of the loss",
                    summary["masked_dropped"])
    _save(model, pad_id=ids.pad, tokenizer_path=tokenizer_path, out_dir=out_dir, curve_path=curve_path,
          curve=curve, summary=summary)
    if snapshots is not None:
        snapshots.publish(snapshots_out)
    if training_state is not None:
        training_state.remove()
    if snapshots is not None:  # after the state: a kill in between resumes with every snapshot kept
        snapshots.remove()
    return summary


def _staging(out, staging) -> Path:
    """Where snapshots are written while training: `staging`, or a new temporary folder beside `out`."""
    if staging is not None:
        return Path(staging)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{Path(out).name}.", dir=Path(out).parent))


def _save(model, *, pad_id, tokenizer_path, out_dir, curve_path, curve, summary) -> None:
    import pandas as pd

    with atomic_path(out_dir, directory=True) as tmp:
        save_pretrained(model, pad_id, tmp)
        shutil.copyfile(tokenizer_path, Path(tmp) / "tokenizer.json")
        (Path(tmp) / MEMBER_RECORD).write_text(json.dumps(summary, indent=2) + "\n")
    with atomic_path(curve_path) as tmp:
        pd.DataFrame(curve).to_csv(tmp, sep="\t", index=False)
    log.info("saved %s after %d steps (%.1f s)", os.fspath(out_dir), summary["steps"], summary["seconds"])

"""Masked-language-model training of one ensemble member.

As the paper's code (notes/paper.md, Setup): 15% of non-special tokens are
selected; of those 80% become [MASK], 10% a random token, 10% stay
(DataCollatorForLanguageModeling); AdamW with 10% linear warmup then cosine
decay to zero; gradient clipping at 0.5. The member's seed sets the
initialisation, the dropout and the masks; `data_seed` sets the order of the
rows, the same for every member. The number of steps follows from a token
budget, so every condition trains on the same number of tokens. On a GPU the
forward pass runs under bf16 autocast; on a CPU in fp32.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gfm_limits.files import atomic_path, sha256sum
from gfm_limits.model import ModelConfig, build_model, masked_logits
from gfm_limits.model import device as default_device
from gfm_limits.tokenizer import SPECIAL_TOKENS, load, special_ids

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


def mlm_mask(ids, generator, special, mask_id: int, n_random: int, first_random: int, prob: float):
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


def n_steps(cfg: TrainConfig, seq_len: int) -> int:
    return max(1, math.ceil(cfg.tokens / (cfg.batch_size * seq_len)))


def train_mlm(tokens_path, tokenizer_path, out_dir, curve_path, model_cfg: ModelConfig,
              cfg: TrainConfig, threads: int = 1) -> dict:
    """Train one member; write a from_pretrained checkpoint and its training curve."""
    import torch
    import torch.nn.functional as F
    from transformers import get_cosine_schedule_with_warmup

    torch.set_num_threads(threads)
    rows = np.load(tokens_path)  # (R, T) uint16
    tok = load(tokenizer_path)
    ids = special_ids(tok)
    device = default_device()
    steps = n_steps(cfg, rows.shape[1])
    order = batch_order(len(rows), cfg.batch_size, steps, cfg.data_seed)

    model = build_model(model_cfg, tok.get_vocab_size(), ids["[PAD]"], cfg.seed).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(cfg.adam_beta1, cfg.adam_beta2),
                                  eps=cfg.adam_eps, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, round(cfg.warmup_fraction * steps), steps)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    special = torch.tensor(sorted(ids.values()), device=device)
    n_special = len(SPECIAL_TOKENS)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    curve, start = [], time.perf_counter()
    window_start, window_tokens, window_loss = start, 0, torch.zeros((), device=device)
    model.train()
    for step in range(steps):
        batch = torch.from_numpy(rows[order[step]].astype(np.int64)).to(device, non_blocking=True)
        inputs, labels = mlm_mask(batch, generator, special, ids["[MASK]"],
                                  tok.get_vocab_size() - n_special, n_special, cfg.mask_prob)
        selected = labels != -100
        with autocast:
            logits = masked_logits(model, inputs, selected)  # (M, V)
        loss = F.cross_entropy(logits.float(), labels[selected])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        scheduler.step()
        window_tokens += batch.numel()
        window_loss += loss.detach()  # no .item() here: it would synchronise a GPU every step
        if (step + 1) % cfg.log_every == 0 or step + 1 == steps:
            now = time.perf_counter()
            n = (step % cfg.log_every) + 1
            curve.append({"step": step + 1, "tokens": (step + 1) * batch.numel(), "loss": window_loss.item() / n,
                          "lr": scheduler.get_last_lr()[0], "tokens_per_s": window_tokens / (now - window_start)})
            window_start, window_tokens, window_loss = now, 0, torch.zeros((), device=device)
            log.info("step %d/%d loss %.4f lr %.2e %.0f tokens/s", step + 1, steps, curve[-1]["loss"],
                     curve[-1]["lr"], curve[-1]["tokens_per_s"])
    summary = {
        "seed": cfg.seed, "steps": steps, "tokens": steps * cfg.batch_size * rows.shape[1],
        "final_loss": curve[-1]["loss"], "seconds": time.perf_counter() - start, "device": str(device),
        "tokenizer_sha256": sha256sum(tokenizer_path), "tokens_sha256": sha256sum(tokens_path),
        "model": asdict(model_cfg), "train": asdict(cfg),
    }
    _save(model, tokenizer_path, out_dir, curve_path, curve, summary)
    return summary


def _save(model, tokenizer_path, out_dir, curve_path, curve, summary) -> None:
    import pandas as pd

    with atomic_path(out_dir, directory=True) as tmp:
        model.save_pretrained(str(tmp))
        shutil.copyfile(tokenizer_path, Path(tmp) / "tokenizer.json")
        (Path(tmp) / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    with atomic_path(curve_path) as tmp:
        pd.DataFrame(curve).to_csv(tmp, sep="\t", index=False)
    log.info("saved %s after %d steps (%.1f s)", os.fspath(out_dir), summary["steps"], summary["seconds"])

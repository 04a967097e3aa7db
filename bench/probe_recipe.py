"""Find a training recipe under which small BERT members leave the unigram plateau.

For each variant of a grid (model shape, rows, vocabulary, lr, warm-up, dropout,
steps, architecture) this trains one member with the train rule's own code
(gfm_limits.train.Stepper) and records, every `--eval-every` steps, the held-out
masked cross-entropy (every selected position [MASK], as the extract rule) beside
the unigram cross-entropy of the same targets, in bits per token:
`gain_bits = unigram - CE` is how much the model uses context.

    python bench/probe_recipe.py --corpus results/corpus --grid bench/grids/cpu.yaml \
        --out bench/records/probe_cpu.tsv --jobs 2

A grid is YAML: `base:` (keys below) and `variants:` (name -> overrides).
Keys: source (text | dna), tokenizer (bpe | kmer), vocab (BPE size), k (k-mer),
seq_len, batch_size, steps, schedule_steps (the cosine's length, default steps),
lr, warmup_fraction, dropout, hidden_size, num_layers, num_heads,
intermediate_size, initializer_range, compile (auto | always | never), seed.
The tokenizers and token rows are built once per (source, tokenizer, size,
seq_len) under `--work`, with the pipeline's own functions.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

DEFAULTS = {
    "source": "text", "tokenizer": "bpe", "vocab": 4096, "k": 6, "seq_len": 128, "batch_size": 16,
    "steps": 1000, "schedule_steps": None, "lr": 2e-3, "warmup_fraction": 0.1, "dropout": 0.1,
    "hidden_size": 128, "num_layers": 2, "num_heads": 4, "intermediate_size": 512, "initializer_range": 0.02,
    "compile": "auto", "seed": 1,
}


def tokens_for(v: dict, corpus: Path, work: Path) -> tuple[Path, Path, Path]:
    """Tokenizer and train/eval rows for a variant, built once (the pipeline's functions)."""
    from gfm_limits.tokenizer import build_kmer, encode_corpus, train_bpe

    size = v["vocab"] if v["tokenizer"] == "bpe" else v["k"]
    tag = f"{v['source']}_{v['tokenizer']}{size}_T{v['seq_len']}"
    tok = work / f"{v['source']}_{v['tokenizer']}{size}.json"
    if not tok.exists():
        if v["tokenizer"] == "bpe":
            train_bpe(corpus / v["source"] / "train.txt", tok, v["vocab"])
        else:
            build_kmer(tok, v["k"])
    paths = []
    for split in ("train", "eval"):
        out = work / f"{tag}_{split}.npy"
        if not out.exists():
            encode_corpus(corpus / v["source"] / f"{split}.txt", tok, out, v["seq_len"])
        paths.append(out)
    return tok, paths[0], paths[1]


def held_out(eval_rows: np.ndarray, n_rows: int, special: np.ndarray, seed: int = 0):
    """A fixed random sample of held-out rows and 15% of their tokens to predict."""
    from gfm_limits.predictions import draw_mask

    rng = np.random.default_rng(seed)
    rows = eval_rows[np.sort(rng.choice(len(eval_rows), size=min(n_rows, len(eval_rows)), replace=False))]
    return rows, draw_mask(rows, ~np.isin(rows, special), 0.15, rng)


def heldout_ce_bits(model, rows: np.ndarray, mask: np.ndarray, mask_id: int, device) -> float:
    import torch

    from gfm_limits.model import flat_index

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), 64):
            ids = torch.from_numpy(rows[start:start + 64].astype(np.int64)).to(device)
            sel = torch.from_numpy(mask[start:start + 64]).to(device)
            inputs = torch.where(sel, torch.full_like(ids, mask_id), ids)
            index = flat_index(sel)
            targets = ids.flatten()[index]
            total += float(model(inputs, index, targets, normaliser=torch.tensor(1.0)))
            count += len(index)
    model.train()
    return total / count / math.log(2)


def run_variant(args) -> list[dict]:
    name, v, corpus, work, eval_every, eval_rows_n = args
    import torch

    from gfm_limits.metrics import unigram_probs
    from gfm_limits.model import ModelConfig, build_model
    from gfm_limits.special_tokens import read as read_special_tokens
    from gfm_limits.tokenizer import load
    from gfm_limits.train import Stepper, TrainConfig, batch_order

    torch.set_num_threads(1)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tok_path, train_path, eval_path = tokens_for(v, Path(corpus), Path(work))
    tok = load(tok_path)
    ids, vocab = read_special_tokens(tok_path), tok.get_vocab_size()
    train_rows, eval_rows = np.load(train_path), np.load(eval_path)
    special = np.array(ids.special)
    rows, mask = held_out(eval_rows, eval_rows_n, special)
    unigram = unigram_probs(train_rows, vocab, ids.special)
    targets = rows[mask].astype(np.int64)
    unigram_bits = float(-np.log2(unigram[targets]).mean())
    mcfg = ModelConfig(hidden_size=v["hidden_size"], num_layers=v["num_layers"], num_heads=v["num_heads"],
                       intermediate_size=v["intermediate_size"], dropout=v["dropout"], max_position=v["seq_len"],
                       initializer_range=v["initializer_range"])
    steps = v["steps"]
    schedule = v["schedule_steps"] or steps
    tcfg = TrainConfig(seed=v["seed"], batch_size=v["batch_size"], tokens=schedule * v["batch_size"] * v["seq_len"],
                       lr=v["lr"], warmup_fraction=v["warmup_fraction"], compile=v["compile"])
    model = build_model(mcfg, vocab, ids.pad, v["seed"]).to(device)
    stepper = Stepper(model, tcfg, steps=schedule, vocab_size=vocab, specials=ids, device=device,
                      seq_len=v["seq_len"])
    order = batch_order(len(train_rows), v["batch_size"], steps, tcfg.data_seed)
    params = sum(p.numel() for p in model.parameters())
    records, start = [], time.perf_counter()
    for step, idx in enumerate(order, start=1):
        stepper(torch.from_numpy(train_rows[idx].astype(np.int64)).to(device))
        if step % eval_every == 0 or step == steps:
            ce = heldout_ce_bits(model, rows, mask, ids.mask, device)
            records.append({"variant": name, "step": step, "tokens": step * v["batch_size"] * v["seq_len"],
                            "seconds": round(time.perf_counter() - start, 1), "ce_bits": round(ce, 4),
                            "unigram_bits": round(unigram_bits, 4), "gain_bits": round(unigram_bits - ce, 4),
                            "parameters": params, "vocab": vocab,
                            "epochs": round(step * v["batch_size"] / len(train_rows), 2),
                            **{k: v[k] for k in DEFAULTS if k not in ("seed", "compile")}})
            print(json.dumps({k: records[-1][k] for k in ("variant", "step", "seconds", "ce_bits", "gain_bits")}),
                  flush=True)
    return records


def main(argv=None) -> None:
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="results/corpus", help="the corpus rule's folder (source/train.txt, eval.txt)")
    p.add_argument("--grid", required=True)
    p.add_argument("--only", nargs="*", help="run only these variants")
    p.add_argument("--out", required=True, help="TSV of held-out CE per variant and step (appended)")
    p.add_argument("--work", default="results/probe")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-rows", type=int, default=256)
    p.add_argument("--jobs", type=int, default=1, help="variants trained at once (one thread each)")
    a = p.parse_args(argv)
    grid = yaml.safe_load(Path(a.grid).read_text())
    base = {**DEFAULTS, **grid.get("base", {})}
    variants = {n: {**base, **(o or {})} for n, o in grid["variants"].items() if not a.only or n in a.only}
    Path(a.work).mkdir(parents=True, exist_ok=True)
    for v in variants.values():  # build the shared token arrays before the workers start
        tokens_for(v, Path(a.corpus), Path(a.work))
    jobs = [(n, v, a.corpus, a.work, a.eval_every, a.eval_rows) for n, v in variants.items()]
    with mp.get_context("spawn").Pool(a.jobs) as pool:
        for records in pool.imap_unordered(run_variant, jobs):
            out = Path(a.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(records).to_csv(out, sep="\t", index=False, mode="a", header=not out.exists())


if __name__ == "__main__":
    main()

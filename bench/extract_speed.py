"""Extraction speed and numerics on one GPU: the paper's way against the extract rule.

For `--members` copies of one 90M BERT and `--n-sequences` held-out rows of 512
tokens (the masks of the eval_masks rule: 10% of positions for the predictive
distributions, 15% for the Fisher), each member is read from its model folder
and its outputs are written to disk, both ways:

  paper  HF BertForMaskedLM in fp32: a full forward over all positions, softmax at the
         masked ones; then for the Fisher a full forward and one backward per batch,
         squared gradients summed (lbcb-sci/GFMs, src/analyze)
  ours   gfm_limits.extract.extract_member, the code the extract rule runs (bf16
         autocast encoder, fp32 head, softmax and gradients, MLM head on masked
         positions only)

Both use the same batch size, so the Fisher (a squared mini-batch gradient) is the
same quantity. Numerics: ours (bf16, and fp32) against the paper's fp32 on the same
member: the largest difference of the entropy of a predictive distribution (bits) and
of a Fisher group's share of the total.

    python bench/extract_speed.py --model DIR --eval-tokens results/tokens/text_bpe/eval.npy \
        --tokenizer results/tokenizers/text_bpe.json --out bench/results
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from gfm_limits.extract import extract_member  # noqa: E402
from gfm_limits.fisher import group_of  # noqa: E402
from gfm_limits.predictions import make_eval_masks, masked_batches  # noqa: E402
from gfm_limits.special_tokens import read as read_special_tokens  # noqa: E402

DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync():
    if DEV.type == "cuda":
        torch.cuda.synchronize()


def paper_extract(model_dir, masks, mask_id, batch_size, out: Path) -> pd.DataFrame:
    """The paper's way, fp32; writes probs.npy and returns the Fisher per group."""
    import torch.nn.functional as F
    from transformers import BertForMaskedLM

    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    model = BertForMaskedLM.from_pretrained(str(model_dir)).to(DEV).eval()
    rows, predict, fisher_mask = masks["rows"], masks["predict"], masks["fisher"]
    probs = []
    with torch.no_grad():
        for _, sel, inputs in masked_batches(rows, predict, mask_id, batch_size, DEV):
            logits = model(input_ids=inputs).logits  # (B, T, V), every position
            probs.append(torch.softmax(logits[sel], dim=-1).cpu().numpy())
    np.save(out / "probs.npy", np.concatenate(probs))
    params = dict(model.named_parameters())
    squares = {name: torch.zeros_like(p) for name, p in params.items()}
    n_masked = 0
    for ids, sel, inputs in masked_batches(rows, fisher_mask, mask_id, batch_size, DEV):
        model.zero_grad(set_to_none=True)
        logits = model(input_ids=inputs).logits  # (B, T, V)
        F.cross_entropy(logits[sel], ids[sel]).backward()
        for name, p in params.items():
            squares[name] += p.grad**2
        n_masked += int(sel.sum())
    totals = defaultdict(float)
    for name, sq in squares.items():
        totals[group_of(name)] += float(sq.sum()) / n_masked
    return pd.DataFrame({"group": list(totals), "fisher": list(totals.values())})


def entropy_bits(probs):
    return -(probs * np.log2(np.clip(probs, 1e-30, None))).sum(axis=1)


def shares(fisher: pd.DataFrame) -> pd.Series:
    f = fisher.set_index("group")["fisher"]
    return f / f.sum()


def timed(fn, *args, **kwargs):
    """Seconds and value of fn(*args, **kwargs), the GPU synchronised on both sides."""
    sync()
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    sync()
    return time.perf_counter() - start, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="an HF BertForMaskedLM model folder (train rule output)")
    parser.add_argument("--eval-tokens", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--n-sequences", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mask_id = read_special_tokens(args.tokenizer).mask
    result = {"gpu": torch.cuda.get_device_name() if DEV.type == "cuda" else "cpu", "members": args.members,
              "n_sequences": args.n_sequences, "batch_size": args.batch_size}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        masks_path = tmp / "masks.npz"
        make_eval_masks(args.eval_tokens, args.tokenizer, masks_path, n_sequences=args.n_sequences, mask_fraction=0.1,
                        fisher_mask_fraction=0.15, mask_seed=0)
        masks = dict(np.load(masks_path))
        result["seq_len"] = int(masks["rows"].shape[1])
        result["positions"] = {"predict": int(masks["predict"].sum()), "fisher": int(masks["fisher"].sum())}
        members = []
        for i in range(args.members):  # one folder per member, each read from disk as a job would
            members.append(tmp / f"member{i}")
            shutil.copytree(args.model, members[-1])

        def run(way, precision="bf16"):
            seconds = []
            for i, member in enumerate(members):
                dest = tmp / f"{way}{i}"
                dest.mkdir()
                if way == "paper":
                    s, _ = timed(paper_extract, member, masks, mask_id, args.batch_size, dest)
                else:
                    s, _ = timed(extract_member, member, masks_path, batch_size=args.batch_size,
                                 fisher_batch_size=args.batch_size,  # the same mini-batches as paper_extract
                                 predictions_out=dest / "p.npz", embeddings_out=dest / "e.npy",
                                 fisher_out=dest / "f.tsv", precision=precision)
                seconds.append(s)
                if i:  # keep the first member's outputs for the numerics
                    shutil.rmtree(dest)
            return seconds

        run("ours")  # warm-up: CUDA context, kernels, the allocator
        shutil.rmtree(tmp / "ours0")
        paper_s = run("paper")
        ours_s = run("ours")
        result["paper_seconds"], result["ours_seconds"] = paper_s, ours_s
        result["speedup"] = sum(paper_s) / sum(ours_s)
        print(json.dumps(result), flush=True)

        paper_p = np.load(tmp / "paper0" / "probs.npy")
        ref_fisher = paper_extract(members[0], masks, mask_id, args.batch_size, tmp / "paper0")
        ref_h = entropy_bits(paper_p)
        for precision in ("bf16", "fp32"):
            dest = tmp / f"num_{precision}"
            dest.mkdir()
            extract_member(members[0], masks_path, batch_size=args.batch_size, fisher_batch_size=args.batch_size,
                           predictions_out=dest / "p.npz", embeddings_out=dest / "e.npy", fisher_out=dest / "f.tsv",
                           precision=precision)
            h = entropy_bits(np.load(dest / "p.npz")["probs"])
            share_gap = (shares(pd.read_csv(dest / "f.tsv", sep="\t")) - shares(ref_fisher)).abs()
            result[f"numerics_{precision}"] = {
                "max_abs_entropy_diff_bits": float(np.abs(h - ref_h).max()),
                "mean_abs_entropy_diff_bits": float(np.abs(h - ref_h).mean()),
                "mean_entropy_bits": [float(h.mean()), float(ref_h.mean())],
                "max_abs_fisher_share_diff": float(share_gap.max())}
            print(precision, result[f"numerics_{precision}"], flush=True)
    (out / "extract_speed.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""How far two GPU training runs of the same member drift apart.

Runs the train rule's Stepper for `--steps` steps of config/gpu.yaml's 20M model on the same
rows, twice in separate processes, with `train.deterministic` off and on; reports the
largest absolute difference of the final weights and of the per-step losses between the
two runs of each mode. (On a CPU two runs are bitwise identical: tests/test_workflow.py.)

    python bench/gpu_drift.py --tokens ROWS.npy --tokenizer TOK.json --out bench/results
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

GPU_20M = dict(hidden_size=512, num_layers=8, num_heads=8, intermediate_size=1024, max_position=512)


def one_run(tokens: str, tokenizer: str, steps: int, deterministic: bool, out: str) -> None:
    import numpy as np
    import torch

    from gfm_limits.model import ModelConfig, build_model
    from gfm_limits.special_tokens import read as read_special_tokens
    from gfm_limits.tokenizer import load
    from gfm_limits.train import Stepper, TrainConfig, batch_order, device_batches, set_deterministic

    cfg = TrainConfig(seed=1, batch_size=64, tokens=steps * 64 * 512, lr=2e-4, deterministic=deterministic)
    set_deterministic(deterministic)
    rows, tok, dev = np.load(tokens), load(tokenizer), torch.device("cuda")
    ids = read_special_tokens(tokenizer)
    model = build_model(ModelConfig(**GPU_20M), tok.get_vocab_size(), ids.pad, 1).to(dev)
    stepper = Stepper(model, cfg, steps=steps, vocab_size=tok.get_vocab_size(), specials=ids, device=dev,
                      seq_len=rows.shape[1])
    losses = [stepper(b) for b in device_batches(rows, batch_order(len(rows), 64, steps, 42), dev)]
    torch.save({"losses": torch.stack(losses).cpu(), "weights": {k: v.cpu() for k, v in model.state_dict().items()}},
               out)


def compare(a: str, b: str) -> dict:
    import torch

    x, y = torch.load(a), torch.load(b)
    weight_gap = max(float((x["weights"][k] - y["weights"][k]).abs().max()) for k in x["weights"])
    identical = all(torch.equal(x["weights"][k], y["weights"][k]) for k in x["weights"])
    return {"bitwise_identical_weights": identical, "max_abs_weight_diff": weight_gap,
            "max_abs_loss_diff": float((x["losses"] - y["losses"]).abs().max()),
            "final_loss": [float(x["losses"][-1]), float(y["losses"][-1])]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--one", nargs=2, metavar=("DETERMINISTIC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.tokens, args.tokenizer, args.steps, args.one[0] == "1", args.one[1])
        return
    import torch

    result = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "steps": args.steps, "model": GPU_20M}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for mode in ("0", "1"):
        runs = [f"/tmp/drift_{mode}_{i}.pt" for i in range(2)]
        for run in runs:
            subprocess.run([sys.executable, __file__, "--tokens", args.tokens, "--tokenizer", args.tokenizer,
                            "--out", args.out, "--steps", str(args.steps), "--one", mode, run], check=True)
        result["deterministic" if mode == "1" else "default"] = compare(*runs)
        print(mode, result.get("deterministic" if mode == "1" else "default"), flush=True)
    (out / "gpu_drift.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

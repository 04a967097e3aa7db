"""Cluster resources of the heavy rules, derived from the config, not typed per cluster.

The numbers are upper bounds meant for a scheduler: host memory and wall time
for training and extraction follow from the model size (parameters, from the
BERT shapes), the token budget and the evaluation size. They assume a modern
data-centre GPU sustaining at least `GPU_FLOPS` on this workload (a tenth of
an H100's dense bf16 peak), plus a fixed start-up allowance; `runtime` is in
minutes, `mem_mb` in MB, as Snakemake and its SLURM executor expect. The GPU jobs ask for
their CPUs per GPU (`cpus_per_gpu`, sbatch --cpus-per-gpu; each job has one GPU).

A training job is told to stop before its time limit: SLURM sends it SIGTERM `STOP_MIN`
minutes before (`stop_signal`, sbatch --signal), the member saves its training state and
exits (training_state.py), and the retry resumes. SIGTERM, not SIGUSR1: the signal reaches
every process of the job step, the Snakemake that runs the rule inside the job included, and
Snakemake waits for its running job on SIGTERM but dies at once on SIGUSR1. Those minutes
are added to the training job's runtime, so a job is signalled only once it has run its
start-up allowance and twice its estimate.
"""

from __future__ import annotations

import math

from gfm_limits.plan import condition_model, condition_seeds

GPU_FLOPS = 1e14  # sustained FLOP/s assumed for the runtime bound
STARTUP_MIN = 10  # minutes for start-up, loading and saving
STOP_MIN = 5  # minutes between SLURM's SIGTERM to a training job and its time limit
BYTES_PER_PARAM = 16  # fp32 weights, gradients and two AdamW moments


def bert_parameters(model: dict, vocab_size: int) -> int:
    """Parameters of BertForMaskedLM (HF layout); an untied decoder adds a (V, H) matrix."""
    h, f, layers, p = model["hidden_size"], model["intermediate_size"], model["num_layers"], model["max_position"]
    embeddings = (vocab_size + p + 2) * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * f + f) + (f * h + h) + 2 * h
    head = h * h + h + 2 * h + vocab_size + (0 if model.get("tie_embeddings", True) else vocab_size * h)
    return embeddings + layers * layer + head


def vocab_size(config: dict, condition: str) -> int:
    """The vocabulary of a condition's tokenizer, known from the config alone."""
    if config["conditions"][condition].get("tokenizer") == "kmer":
        return 4 ** config["conditions"][condition].get("kmer_k", config["tokenizer"]["kmer_k"]) + 10
    return config["tokenizer"]["bpe_vocab_size"]


def budget_bound(config: dict) -> int:
    """Training tokens of a member, or an upper bound under budget as_paper (full rows)."""
    t = config["train"]
    if t.get("budget", "matched") == "as_paper":
        return t["sequences"] * config["encode"]["seq_len"]
    return t["tokens"]


def train_resources(config: dict, condition: str) -> dict[str, int]:
    """mem_mb, runtime (min), cpus_per_gpu and gpu for one training job; the runtime includes
    the STOP_MIN minutes between the stop signal and the time limit."""
    n = bert_parameters(condition_model(config, condition), vocab_size(config, condition))
    flops = 6 * n * budget_bound(config)
    runtime = STARTUP_MIN + math.ceil(2 * flops / GPU_FLOPS / 60) + STOP_MIN
    mem_mb = 4000 + math.ceil(2 * n * BYTES_PER_PARAM / 1e6)
    return {"mem_mb": mem_mb, "runtime": runtime, "cpus_per_gpu": 4, "gpu": 1}


def stop_signal(slurm_extra: str | None = None) -> str:
    """The training job's sbatch flags: SIGTERM STOP_MIN minutes before the time limit, then
    `slurm_extra` (the profile's flags for every job, which a rule's own slurm_extra would
    replace). sbatch takes the last of a repeated flag, so a --signal there wins."""
    return " ".join(part for part in (f"--signal=TERM@{STOP_MIN * 60}", slurm_extra) if part)


def extract_passes(config: dict) -> int:
    """Forward-pass equivalents of one extraction over the held-out rows (a backward counts
    twice): the predictions, the pooled embeddings and the layer states (1 each), the paper's
    mini-batch Fisher and the per-example Fisher (3 each), the true Fisher (3 per label drawn)."""
    samples = config["extract"].get("fisher_true_samples", 1)
    return 3 + 3 + 3 + 3 * samples


def layer_states_bytes(config: dict, condition: str) -> int:
    """Bytes of one member's layers.npy: (L + 1, contextual positions, H) float32, the positions
    at most the masked ones."""
    e, model = config["extract"], condition_model(config, condition)
    positions = min(e.get("contextual_positions", 2048),
                    e["n_sequences"] * config["encode"]["seq_len"] * e["mask_fraction"])
    return int((model["num_layers"] + 1) * positions * model["hidden_size"] * 4)


def gradient_geometry_bytes(config: dict, condition: str) -> int:
    """Bytes the gradient geometry holds at once (gradient_grams.gradient_grams): the fp32
    per-example gradients of the extract.geometry_rows rows drawn first, every parameter and the
    tied word embedding's second use."""
    e, model = config["extract"], condition_model(config, condition)
    rows = min(e.get("geometry_rows", 128), e["n_sequences"])
    n = bert_parameters(model, vocab_size(config, condition)) + vocab_size(config, condition) * model["hidden_size"]
    return int(4 * rows * n)


def extract_resources(config: dict, condition: str) -> dict[str, int]:
    """mem_mb, runtime (min), cpus_per_gpu and gpu for one extraction job."""
    e = config["extract"]
    vocab = vocab_size(config, condition)
    n = bert_parameters(condition_model(config, condition), vocab)
    positions = e["n_sequences"] * config["encode"]["seq_len"] * e["mask_fraction"]
    probs_mb = positions * vocab * 4 / 1e6
    flops = 2 * n * e["n_sequences"] * config["encode"]["seq_len"] * extract_passes(config)
    runtime = STARTUP_MIN + math.ceil(4 * flops / GPU_FLOPS / 60)
    layers_mb = layer_states_bytes(config, condition) / 1e6
    geometry_mb = gradient_geometry_bytes(config, condition) / 1e6
    mem_mb = 4000 + math.ceil(3 * probs_mb + 2 * n * BYTES_PER_PARAM / 1e6 + max(layers_mb, geometry_mb))
    return {"mem_mb": mem_mb, "runtime": runtime, "cpus_per_gpu": 2, "gpu": 1}


def stats_resources(config: dict, condition: str) -> dict[str, int]:
    """mem_mb for the statistics of one condition: all members' distributions, the (V, V)
    float64 similarity matrices of every member, the RBF CKA kernels, the bootstrap's
    row draws (replicates x held-out rows, for ci.tsv and both regions of repeats_ci.tsv) and
    every member's layer states (layers.npy, all loaded at once for geometry.py, and one member's
float64 copy)."""
    e = config["extract"]
    vocab = vocab_size(config, condition)
    members = len(condition_seeds(config, condition))
    positions = e["n_sequences"] * config["encode"]["seq_len"] * e["mask_fraction"]
    kernels = 6 * vocab * vocab * 8
    draws = config["stats"]["bootstrap"] * e["n_sequences"] * 8 * 3
    probs_and_similarities = members * positions * vocab * 4 * 3 + members * vocab * vocab * 8
    layers = (members + 2) * layer_states_bytes(config, condition)
    mem_mb = 2000 + math.ceil((probs_and_similarities + kernels + draws + layers) / 1e6)
    return {"mem_mb": mem_mb}


def dynamics_resources(config: dict, condition: str) -> dict[str, int]:
    """mem_mb, runtime (min), cpus_per_gpu and gpu for the dynamics of one condition: every
    member's snapshots and final model read as extract reads one, on dynamics.n_sequences rows,
    and at each step every member's distributions and (V, V) float64 similarities at once, with
    a Spearman per token and pair (about 3e-7 s per similarity on a CPU)."""
    e = config["extract"]
    vocab = vocab_size(config, condition)
    n = bert_parameters(condition_model(config, condition), vocab)
    members = len(condition_seeds(config, condition))
    steps = config["train"]["snapshots"] + 1
    tokens = min(config["dynamics"]["n_sequences"], e["n_sequences"]) * config["encode"]["seq_len"]
    probs_mb = tokens * e["mask_fraction"] * vocab * 4 / 1e6
    flops = steps * members * 3 * 2 * n * tokens  # forward + Fisher forward/backward
    spearman_s = steps * members * (members - 1) / 2 * vocab * vocab * 3e-7
    runtime = STARTUP_MIN + math.ceil((4 * flops / GPU_FLOPS + spearman_s) / 60)
    mem_mb = 4000 + math.ceil(members * (3 * probs_mb + 2 * vocab * vocab * 8 / 1e6) + 2 * n * BYTES_PER_PARAM / 1e6)
    return {"mem_mb": mem_mb, "runtime": runtime, "cpus_per_gpu": 2, "gpu": 1}


def baselines_resources(config: dict) -> dict[str, int]:
    """mem_mb for the Markov baselines: about 130 bytes per training symbol at order 5
    (measured on 20M tokens), plus the held-out symbols and the xz context."""
    b = config["baselines"]
    return {"mem_mb": 2000 + math.ceil((130 * b["max_train_symbols"] + 200 * b["max_eval_symbols"]
                                        + 12 * b["compression_context_bytes"]) / 1e6)}


def input_scaled_mem_mb(input_mb: float, factor: float, base: int = 2000) -> int:
    """Host memory for a job that holds `factor` times its input in memory."""
    return base + math.ceil(factor * input_mb)


def run_facts(config: dict) -> dict:
    """What the report's captions state about a run, from the config: per condition its members
    and parameters (from the BERT shapes; imported models: an estimate, see the provenance table),
    the training tokens per member, the held-out rows and masked positions, and the intervals."""
    encode, extract, stats = config["encode"], config["extract"], config["stats"]
    conditions = {name: {"members": len(condition_seeds(config, name)),
                         "parameters": bert_parameters(condition_model(config, name), vocab_size(config, name)),
                         "imported": "imported" in config["conditions"][name]}
                  for name in config["conditions"]}
    rows, mask_prob = extract["n_sequences"], extract["mask_fraction"]
    facts = {"conditions": conditions, "tokens": budget_bound(config), "rows": rows,
             "positions": round(rows * encode["seq_len"] * mask_prob), "level": stats["confidence"],
             "bootstrap": stats["bootstrap"]}
    members = sorted({c["members"] for c in conditions.values()})
    sizes = ", ".join(f"{name} {c['parameters']:,}{' (imported, estimated)' if c['imported'] else ''}"
                      for name, c in conditions.items())
    facts["text"] = (
        f"{' or '.join(map(str, members))} members per condition (identical but for the seed), "
        f"{facts['tokens']:,} training tokens per member; parameters per member: {sizes}. "
        f"Statistics over the masked positions of {rows:,} held-out rows (at most {encode['seq_len']} tokens, "
        f"{mask_prob:.0%} masked: at most about {facts['positions']:,} positions), the same for every member. "
        f"Intervals: {stats['confidence']:.0%} Multi-Bootstrap percentile intervals "
        f"({stats['bootstrap']:,} replicates, members and held-out rows resampled together).")
    return facts

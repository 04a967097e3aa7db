"""Shared fixtures: small slices of the bundled real corpora, made at test time."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
CONDITIONS = ["text_bpe", "dna_bpe", "dna_kmer", "dna_bpe_untied", "dna_bpe_nolayers"]
DNA = ROOT / "resources" / "dna" / "tair10_chr1_3Mbp.fa.gz"
TEXT = ROOT / "resources" / "text" / "wiki_summaries.jsonl.gz"


def read_dna(n_bp: int) -> str:
    """The first n_bp bases of the bundled A. thaliana slice, case preserved."""
    with gzip.open(DNA, "rt") as handle:
        seq = "".join(line.strip() for line in handle if not line.startswith(">"))
    return seq[:n_bp]


def read_articles(n: int) -> list[dict]:
    with gzip.open(TEXT, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(n), handle)]


@pytest.fixture(scope="session")
def dna_slice() -> str:
    return read_dna(200_000)


@pytest.fixture(scope="session")
def articles() -> list[dict]:
    return read_articles(600)


def write_fasta(path: Path, records: dict[str, str], width: int = 60) -> Path:
    with open(path, "w") as out:
        for name, seq in records.items():
            out.write(f">{name}\n")
            for i in range(0, len(seq), width):
                out.write(seq[i : i + width] + "\n")
    return path


def tiny_config(data: Path) -> dict:
    return {
        "sources": {
            "dna": {"url": str(data / "dna.fa"), "format": "fasta"},
            "text": {"url": str(data / "text.jsonl.gz"), "format": "jsonl"},
        },
        "conditions": {"text_bpe": {"source": "text", "tokenizer": "bpe"},
                       "dna_bpe": {"source": "dna", "tokenizer": "bpe"},
                       "dna_kmer": {"source": "dna", "tokenizer": "kmer"},
                       "dna_bpe_untied": {"source": "dna", "tokenizer": "bpe", "model": {"tie_embeddings": False}},
                       "dna_bpe_nolayers": {"source": "dna", "tokenizer": "bpe", "model": {"num_layers": 0}}},
        "seeds": [1, 2],
        "corpus": {"dna_window": 500, "dna_min_window": 100},
        "tokenizer": {"bpe_vocab_size": 300, "kmer_k": 4},
        "encode": {"seq_len": 32},
        "model": {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "max_position": 32},
        "train": {"batch_size": 8, "tokens": 8 * 32 * 10, "lr": 0.001, "log_every": 5},
        "extract": {"n_sequences": 12, "batch_size": 4},
        "stats": {"top_k": [1, 3, 10], "bootstrap": 200},
    }


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, "-d", str(workdir), "--cores", "2", *args],
                          capture_output=True, text=True, timeout=timeout)


def job_counts(output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    table = output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def tiny_workflow(root: Path) -> Path:
    """Inputs and config of the tiny workflow in `root`: real A. thaliana DNA (with an
    N run and an IUPAC code added) and Wikipedia summaries. Returns the config path."""
    data = root / "data"
    data.mkdir(parents=True)
    dna = read_dna(60_000)
    write_fasta(data / "dna.fa", {"chr1_slice": dna[:30_000] + "N" * 200 + dna[30_000:45_000] + "R" + dna[45_000:]})
    lines = "".join(json.dumps(a) + "\n" for a in read_articles(800))
    (data / "text.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_config(data), sort_keys=False))
    return config


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    """The tiny workflow, run once locally: (working directory, config path)."""
    root = tmp_path_factory.mktemp("wf")
    config = tiny_workflow(root)
    result = snakemake(root, "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-5000:]
    return root, config


# Property-based tests (tests/test_hostile.py) draw the same examples on every run, so a
# test result does not depend on luck; HYPOTHESIS_PROFILE=explore searches afresh each run.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # hypothesis is in the test extra; its tests skip without it
    pass
else:
    _hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
    _hypothesis_settings.register_profile("explore", derandomize=False)
    _hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

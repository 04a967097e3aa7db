"""Shared fixtures: small slices of the bundled real corpora, made at test time."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

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

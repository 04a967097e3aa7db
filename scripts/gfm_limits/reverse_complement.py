"""The token-level reverse complement (RC) of k-mer rows: a symmetry DNA has and text lacks.

For non-overlapping k-mers the RC of a k-mer-aligned row is token level: the body reversed,
each k-mer replaced by its RC k-mer ([CLS] first and [SEP] last stay where they are).
`token_permutation` builds that map from the vocabulary (an involution; specials, N and tokens
whose RC is not in the vocabulary are fixed points), and `exact_rows` keeps the rows where the
map is exact: every body token a full k-mer of A/C/G/T, so the tokenizer would cut the RC
sequence into exactly the mapped tokens (a single-base fallback, an N or a document boundary
inside the row breaks the alignment). Numpy only: training (train.reverse_complement_augmentation)
and the statistics (rc_symmetry.py, rc_predictions.py) use it.

BPE is left out: its merges are learned left to right on one strand, so the RC of a BPE
token is in general not a token, and the RC sequence is cut elsewhere (docs/pipeline.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

COMPLEMENT = str.maketrans("ACGT", "TGCA")


def reverse_complement(seq: str) -> str:
    """The reverse complement of a sequence of A/C/G/T."""
    return seq.translate(COMPLEMENT)[::-1]


def token_permutation(vocab: dict[str, int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The token-level RC map of a k-mer vocabulary (token -> id): perm (V,) int64 with
    perm[id] = the id of the token's RC (an involution; a token without RC in the vocabulary,
    a special, N, maps to itself), and kmer (V,) bool, the full k-mers of A/C/G/T whose RC is
    in the vocabulary (the tokens of an exact row)."""
    size = max(vocab.values()) + 1
    perm, kmer = np.arange(size, dtype=np.int64), np.zeros(size, dtype=bool)
    for token, i in vocab.items():
        if token and set(token) <= set("ACGT") and reverse_complement(token) in vocab:
            perm[i] = vocab[reverse_complement(token)]
            kmer[i] = len(token) == k
    return perm, kmer


def read_permutation(tokenizer_path, k: int) -> tuple[np.ndarray, np.ndarray]:
    """token_permutation of a tokenizer JSON's vocabulary (read as JSON: no tokenizers library)."""
    vocab = json.loads(Path(tokenizer_path).read_text())["model"]["vocab"]
    return token_permutation(vocab, k)


def rc_rows(rows: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """RC of packed rows (R, T): first and last token kept, the body reversed and mapped."""
    out = rows.copy()
    out[:, 1:-1] = perm[rows[:, 1:-1][:, ::-1]]
    return out


def mirror_mask(mask: np.ndarray) -> np.ndarray:
    """The mask (R, T) at mirrored body positions (i -> T - 1 - i); the ends are never masked."""
    out = np.zeros_like(mask)
    out[:, 1:-1] = mask[:, 1:-1][:, ::-1]
    return out


def exact_rows(rows: np.ndarray, kmer: np.ndarray) -> np.ndarray:
    """Rows (R, T) whose body is all full k-mers with an RC (token_permutation's kmer): (R,) bool."""
    return kmer[rows[:, 1:-1]].all(axis=1)


def mirrored_order(mask: np.ndarray) -> np.ndarray:
    """For each masked position of `mask` in row-major order, the index of its mirrored position
    among mirror_mask(mask)'s positions in row-major order: (M,) int64."""
    mirrored = mirror_mask(mask)
    index = np.full(mask.shape, -1, dtype=np.int64)
    index[mirrored] = np.arange(int(mirrored.sum()))
    r, c = np.nonzero(mask)
    return index[r, mask.shape[1] - 1 - c]


def derangement(n: int, rng) -> np.ndarray:
    """A random permutation (n,) with no fixed point (n >= 2): a random cycle through all positions."""
    order = rng.permutation(n)
    sigma = np.empty(n, dtype=np.int64)
    sigma[order] = np.roll(order, 1)
    return sigma

"""Context baselines against a plain-Python Kneser-Ney, scipy entropies and known limits."""

import math
import time
from collections import Counter

import numpy as np
import pytest
from scipy.stats import entropy

from gfm_limits.baselines import (
    baseline_table,
    char_sequences,
    compression_bits,
    token_sequences,
    unigram_entropy_bits,
)
from gfm_limits.kneser_ney import markov_cross_entropy_bits, markov_probs

BOS = "<s>"


class PlainKneserNey:
    """Interpolated Kneser-Ney, Chen & Goodman (1998) eqs. 14-15, transcribed with dicts and loops.

    Each sequence is preceded by `order` BOS symbols; raw counts at the top
    order, continuation counts N1+(. h w) below it, the uniform 1/V under order 0.
    """

    def __init__(self, train, order, vocab_size, discount=0.75):
        self.order, self.v, self.d = order, vocab_size, discount
        grams = [set() for _ in range(order + 1)]  # distinct (context, w) per context length
        self.counts = [Counter() for _ in range(order + 1)]
        for seq in train:
            padded = [BOS] * order + [int(x) for x in seq]
            for i in range(order, len(padded)):
                full = tuple(padded[i - order:i])
                self.counts[order][(full, padded[i])] += 1
                for j in range(order + 1):
                    grams[j].add((full[order - j:], padded[i]))
        for j in range(order):  # continuation count: distinct x with (x h w) seen
            for ctx, w in grams[j + 1]:
                self.counts[j][(ctx[1:], w)] += 1

    def prob(self, j, ctx, w):
        lower = 1.0 / self.v if j == 0 else self.prob(j - 1, ctx[1:], w)
        row = {u: c for (h, u), c in self.counts[j].items() if h == ctx}
        total = sum(row.values())
        if total == 0:
            return lower
        return max(row.get(w, 0) - self.d, 0) / total + self.d * len(row) / total * lower

    def cross_entropy_bits(self, test):
        bits = []
        for seq in test:
            padded = [BOS] * self.order + [int(x) for x in seq]
            for i in range(self.order, len(padded)):
                bits.append(-math.log2(self.prob(self.order, tuple(padded[i - self.order:i]), padded[i])))
        return sum(bits) / len(bits), len(bits)


def skewed_sequences(rng, n_seqs, vocab_size, max_len, used=None):
    """Short sequences of a skewed distribution (so n-grams repeat), over symbols `used` (default: all)."""
    used = np.arange(vocab_size) if used is None else np.asarray(used)
    p = rng.dirichlet(np.full(len(used), 0.5))
    return [used[rng.choice(len(used), size=rng.integers(0, max_len + 1), p=p)] for _ in range(n_seqs)]


@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("vocab_size", [2, 5, 11])
def test_markov_matches_plain_python_kneser_ney(order, vocab_size):
    rng = np.random.default_rng(100 * order + vocab_size)
    used = np.arange(max(vocab_size - 1, 1))  # the last symbol never occurs in training (if V > 1)
    train = skewed_sequences(rng, 30, vocab_size, 25, used)
    test = skewed_sequences(rng, 10, vocab_size, 25) + [np.array([vocab_size - 1]), np.array([], dtype=int)]
    expected = PlainKneserNey(train, order, vocab_size).cross_entropy_bits(test)
    bits, n = markov_cross_entropy_bits(train, test, order, vocab_size)
    assert n == expected[1]
    assert bits == pytest.approx(expected[0], abs=1e-9)


@pytest.mark.parametrize("order", [0, 1, 3])
def test_markov_probs_sum_to_one_and_match_plain_python(order):
    rng = np.random.default_rng(7)
    v = 6
    train = skewed_sequences(rng, 40, v, 30, used=range(5))
    seen = train[np.argmax([len(s) for s in train])][:4]
    contexts = {"seen": seen, "unseen symbol": np.array([5, 5, 5, 5]), "short": seen[:1], "empty": np.array([], int)}
    ref = PlainKneserNey(train, order, v)
    for name, ctx in contexts.items():
        probs = markov_probs(train, ctx, order, v)
        padded = tuple([BOS] * order + ctx.tolist())[len(ctx):] if order else ()
        expected = [ref.prob(order, padded, w) for w in range(v)]
        assert probs.sum() == pytest.approx(1.0, abs=1e-12), name
        assert (probs > 0).all(), name
        np.testing.assert_allclose(probs, expected, rtol=1e-12, err_msg=name)


def test_iid_cross_entropy_approaches_the_true_entropy():
    rng = np.random.default_rng(3)
    p = np.array([0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
    train = [rng.choice(6, size=1000, p=p) for _ in range(400)]
    test = [rng.choice(6, size=1000, p=p) for _ in range(200)]
    h = entropy(p, base=2)
    for order in (0, 2):
        bits, n = markov_cross_entropy_bits(train, test, order, 6)
        assert n == 200_000
        assert bits == pytest.approx(h, abs=0.02), order


def test_deterministic_order2_chain_is_predictable_from_two_symbols_only():
    rng = np.random.default_rng(4)
    v = 7

    def fibonacci_mod(a, b, n):  # x_t = (x_{t-1} + x_{t-2}) mod v, determined by the previous two
        out = [a, b]
        while len(out) < n:
            out.append((out[-1] + out[-2]) % v)
        return np.array(out)

    train = [fibonacci_mod(*rng.integers(0, v, 2), 500) for _ in range(300)]
    test = [fibonacci_mod(*rng.integers(0, v, 2), 500) for _ in range(50)]
    order1, _ = markov_cross_entropy_bits(train, test, 1, v)
    order2, _ = markov_cross_entropy_bits(train, test, 2, v)
    assert order2 < 0.05  # only the first two symbols of each sequence cost bits
    assert order1 > 1.5


def test_unigram_entropy_matches_scipy():
    rng = np.random.default_rng(5)
    seqs = skewed_sequences(rng, 20, 9, 50)
    counts = np.bincount(np.concatenate(seqs), minlength=12)
    assert unigram_entropy_bits(seqs, 12) == pytest.approx(entropy(counts, base=2), abs=1e-12)


def test_symbols_outside_the_vocabulary_are_rejected():
    with pytest.raises(ValueError, match="symbol ids"):
        markov_cross_entropy_bits([np.array([0, 1, 4])], [np.array([0])], 1, 4)


def test_baseline_table_matches_plain_python():
    rng = np.random.default_rng(6)
    train, test = skewed_sequences(rng, 30, 5, 20), skewed_sequences(rng, 10, 5, 20)
    rows = baseline_table(train, test, 5, orders=(1, 2), unit="char")
    assert [r["baseline"] for r in rows] == ["unigram_entropy", "markov0", "markov1", "markov2"]
    counts = np.bincount(np.concatenate(test), minlength=5)
    assert rows[0]["bits_per_symbol"] == pytest.approx(entropy(counts, base=2), abs=1e-12)
    for row in rows[1:]:
        expected, n = PlainKneserNey(train, row["order"], 5).cross_entropy_bits(test)
        assert row["bits_per_symbol"] == pytest.approx(expected, abs=1e-9)
        assert row["symbols"] == n and row["unit"] == "char"


def random_bases(rng, n):
    return bytes(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=n))


def test_compression_of_iid_bases_costs_about_two_bits_per_base():
    rng = np.random.default_rng(8)
    bits = compression_bits(random_bases(rng, 200_000), random_bases(rng, 200_000))
    assert 2.0 <= bits / 200_000 <= 2.3


def test_compression_of_repeated_training_text_is_nearly_free():
    rng = np.random.default_rng(9)
    train = random_bases(rng, 200_000)
    bits = compression_bits(train, train)
    assert 0 < bits / len(train) < 0.05
    assert compression_bits(train, train, max_context_bytes=0) / len(train) > 2.0  # without context: full cost


def test_token_sequences_split_a_packed_stream_at_special_tokens():
    # specials 0..4: 2 = [CLS], 3 = [SEP], 0 = [PAD]; documents a..e run across rows
    rows = np.array([[2, 10, 11, 3, 12, 3],
                     [2, 13, 3, 3, 14, 15],
                     [2, 16, 3, 0, 0, 0]], dtype=np.uint16)
    runs = token_sequences(rows, special=range(5))
    assert [r.tolist() for r in runs] == [[10, 11], [12], [13], [14, 15], [16]]


def test_char_sequences_map_unseen_characters_to_one_extra_id():
    train, alphabet = char_sequences(["ACGT\n", "aAC\n"])
    assert alphabet == {"A": 0, "C": 1, "G": 2, "T": 3, "a": 4}
    assert [s.tolist() for s in train] == [[0, 1, 2, 3], [4, 0, 1]]
    test, same = char_sequences(["GNA\n", "é"], alphabet)
    assert same is alphabet
    assert [s.tolist() for s in test] == [[2, 5, 0], [5]]


def test_markov_order5_runs_on_two_million_tokens():
    rng = np.random.default_rng(10)
    train = [rng.integers(0, 4096, size=20_000) for _ in range(100)]  # 2M symbols, vocab 4096
    test = [rng.integers(0, 4096, size=20_000) for _ in range(10)]
    start = time.perf_counter()
    bits, n = markov_cross_entropy_bits(train, test, 5, 4096)
    print(f"order 5, 2M train symbols, V=4096: {time.perf_counter() - start:.1f} s")
    assert n == 200_000
    # uniform i.i.d. symbols: no model beats their entropy, log2(4096) = 12 bits (Gibbs; 0.01 is
    # about 5 standard errors of 200k held-out symbols), and unseen order-5 contexts back off
    # towards the unigram, so the useless long contexts cost well under half a bit
    assert 12 - 0.01 <= bits < 12.5

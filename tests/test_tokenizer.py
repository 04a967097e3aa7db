"""Tokenizers: the k-mer rules of the Nucleotide Transformer, BPE vocabulary size, row packing."""

import numpy as np
import pytest

from gfm_limits import tokenizer as tk


@pytest.fixture(scope="module")
def kmer(tmp_path_factory):
    return tk.build_kmer(tmp_path_factory.mktemp("tok") / "kmer.json", k=6)


def tokens(tok, seq):
    return tok.encode(seq, add_special_tokens=False).tokens


def test_kmer_vocabulary_is_specials_kmers_and_bases(kmer):
    assert kmer.get_vocab_size() == 5 + 4**6 + 5
    assert tuple(kmer.id_to_token(i) for i in range(5)) == tk.SPECIAL_TOKENS


def test_kmer_non_overlapping_with_single_base_fallback(kmer):
    assert tokens(kmer, "ACGTACGTA") == ["ACGTAC", "G", "T", "A"]
    assert tokens(kmer, "AACCGGNTTTTTT") == ["AACCGG", "N", "TTTTTT"]
    assert tokens(kmer, "ACNGTACGTT") == ["A", "C", "N", "GTACGT", "T"]


def test_kmer_round_trip_on_real_dna(kmer, dna_slice):
    seq = dna_slice[:50_003].upper()
    enc = kmer.encode(seq, add_special_tokens=False)
    assert "[UNK]" not in enc.tokens
    assert kmer.decode(enc.ids) == seq
    assert sum(len(t) == 6 for t in enc.tokens) == 50_003 // 6


def test_single_nucleotides_round_trip_one_token_per_base(tmp_path, dna_slice):
    """k = 1: the specials, A, C, G, T and N, ids contiguous; one token per base, N included."""
    one = tk.build_kmer(tmp_path / "1mer.json", k=1)
    assert one.get_vocab_size() == 5 + 5
    assert [one.id_to_token(i) for i in range(10)] == [*tk.SPECIAL_TOKENS, "A", "C", "G", "T", "N"]
    seq = dna_slice[:5000].upper() + "NNACGT"
    enc = one.encode(seq, add_special_tokens=False)
    assert len(enc.ids) == len(seq) and one.decode(enc.ids) == seq
    assert [one.id_to_token(i) for i in enc.ids[-6:]] == ["N", "N", "A", "C", "G", "T"]


def test_bpe_vocabulary_size_and_round_trip(tmp_path, articles):
    corpus = tmp_path / "train.txt"
    corpus.write_text("\n".join(a["text"].replace("\n", " ") for a in articles) + "\n")
    tok = tk.train_bpe(corpus, tmp_path / "bpe.json", vocab_size=1000)
    assert tok.get_vocab_size() == 1000
    assert [tok.token_to_id(t) for t in tk.SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    reloaded = tk.load(tmp_path / "bpe.json")
    word = "encyclopedia"
    assert reloaded.decode(reloaded.encode(word, add_special_tokens=False).ids) == word


def test_pack_rows_hand_worked():
    rows = tk.pack_rows(np.arange(10, 21), seq_len=6, cls_id=2, sep_id=3)
    np.testing.assert_array_equal(rows, [[2, 10, 11, 12, 13, 3], [2, 14, 15, 16, 17, 3]])
    assert rows.dtype == np.uint16


def test_encode_corpus_packs_documents_with_separators(tmp_path, kmer):
    corpus = tmp_path / "c.txt"
    corpus.write_text("ACGTACGTACGT\nTTTTTT\n")
    kmer.save(str(tmp_path / "kmer.json"))
    rows = tk.encode_corpus(corpus, tmp_path / "kmer.json", tmp_path / "rows.npy", seq_len=5)
    ids = {t: kmer.token_to_id(t) for t in ["[CLS]", "[SEP]", "ACGTAC", "GTACGT", "TTTTTT"]}
    np.testing.assert_array_equal(rows[0], [ids["[CLS]"], ids["ACGTAC"], ids["GTACGT"], ids["[SEP]"], ids["[SEP]"]])
    np.testing.assert_array_equal(np.load(tmp_path / "rows.npy"), rows)

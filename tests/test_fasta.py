"""FASTA reading and windowing: N runs, IUPAC codes, soft-masking, region split, bad input."""

import gzip

import pytest

from gfm_limits.fasta import WindowConfig, clean_segments, cut_windows, split_windows
from gfm_limits.files import InputError

from conftest import write_fasta


def test_clean_segments_split_at_n_runs_and_iupac_and_uppercase():
    assert clean_segments("acgtNNNNACGrTTw") == [(0, "ACGT"), (8, "ACG"), (12, "TT")]


def test_cut_windows_keeps_long_enough_tail():
    cfg = WindowConfig(window=4, min_window=2, eval_fraction=0.1)
    assert cut_windows("ACGTACGTAC", cfg) == ["ACGT", "ACGT", "AC"]
    assert cut_windows("ACGTACGTA", cfg) == ["ACGT", "ACGT"]


def test_split_windows_disjoint_by_region_on_real_dna(tmp_path, dna_slice):
    seq = dna_slice[:20_000] + "N" * 500 + dna_slice[20_000:40_000]
    path = write_fasta(tmp_path / "chr.fa", {"chr1": seq})
    cfg = WindowConfig(window=1000, min_window=200, eval_fraction=0.25)
    train, held_out = split_windows(path, cfg)
    upper = seq.upper()
    boundary = round(len(seq) * 0.75)
    assert all(set(w) <= set("ACGT") for w in train + held_out)
    assert all(upper.find(w) + len(w) <= boundary for w in train)
    assert all(upper.find(w, boundary) >= boundary for w in held_out)
    assert sum(map(len, train + held_out)) > 0.95 * 40_000


def test_gzip_fasta_reads_the_same_as_plain(tmp_path, dna_slice):
    plain = write_fasta(tmp_path / "a.fa", {"x": dna_slice[:30_000]})
    gz = tmp_path / "a.fa.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    cfg = WindowConfig(window=500, min_window=100, eval_fraction=0.1)
    assert split_windows(gz, cfg) == split_windows(plain, cfg)


@pytest.mark.parametrize(
    "content, message",
    [
        (">only_n\nNNNNNNNNNNNNNNNNNNNN\n", "no usable sequence"),
        ("hello world\n", "not a FASTA file"),
        ("", "not a FASTA file"),
        (">a\nACGT\n>a\nACGT\n", "malformed FASTA"),
        (gzip.compress(b">a\n" + b"ACGT" * 5000)[:-40], "corrupt or truncated gzip"),
    ],
)
def test_bad_fasta_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.fa"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=message) as err:
        split_windows(path, WindowConfig(window=10, min_window=5))
    assert str(path) in str(err.value)

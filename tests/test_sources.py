"""Sources of several files: a local mirror directory, shards in order, split archives
joined, parquet and JSON-lines fields, DNA pieces, the document limit, config checks."""

import gzip
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gfm_limits.config import check_consistency
from gfm_limits.corpus import CorpusConfig, TextConfig, build_corpus, held_out_by_hash, read_documents, split_documents
from gfm_limits.files import InputError
from gfm_limits.plan import source_kind
from gfm_limits.sources import MANIFEST, FetchConfig, fetch_source, source_files
from gfm_limits.tokenizer import document_stats
from gfm_limits.train import TrainConfig, token_budget

OUTS = ("train_out", "eval_out", "stats_out")


def test_a_local_directory_is_a_mirror_of_its_files_in_name_order(tmp_path, articles):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for i in (2, 0, 1):
        (mirror / f"shard{i}.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles[i * 10 : i * 10 + 10]))
    out = fetch_source([str(mirror)], [None], tmp_path / "fetched", FetchConfig())
    files = source_files(out)
    assert [f.name for f in files] == ["00000-shard0.jsonl", "00001-shard1.jsonl", "00002-shard2.jsonl"]
    assert (out / MANIFEST).read_text().splitlines()[0] == "file\turl\tbytes\tsha256"
    docs = list(read_documents(files, "jsonl"))
    assert docs == [a["text"] for a in articles[:30]]
    assert list(read_documents(files, "jsonl", limit=12)) == docs[:12]


def test_split_archive_pieces_are_joined_and_checked(tmp_path, dna_slice):
    packed = gzip.compress(f">piece\n{dna_slice[:20_000]}\n".encode())
    pieces = [packed[:1000], packed[1000:5000], packed[5000:]]
    urls = []
    for suffix, piece in zip(("aa", "ab", "ac"), pieces):
        (tmp_path / f"w.fa.gz.{suffix}").write_bytes(piece)
        urls.append(str(tmp_path / f"w.fa.gz.{suffix}"))
    out = fetch_source(urls, [None] * 3, tmp_path / "joined", FetchConfig(), join=True)
    (only,) = source_files(out)
    assert only.name == "00000-w.fa.gz" and only.read_bytes() == packed
    (tmp_path / "w.fa.gz.ab").write_bytes(pieces[1][:-100])  # one piece short: the joined gzip is corrupt
    with pytest.raises(InputError, match="corrupt or truncated gzip"):
        fetch_source(urls, [None] * 3, tmp_path / "bad", FetchConfig(), join=True)
    assert not (tmp_path / "bad").exists()


def test_parquet_text_column_and_missing_column(tmp_path, articles):
    path = tmp_path / "wiki.parquet"
    pq.write_table(pa.table({"title": [a["title"] for a in articles[:50]], "text": [a["text"] for a in articles[:50]]}),
                   path, row_group_size=7)
    assert list(read_documents([path], "parquet")) == [a["text"] for a in articles[:50]]
    train, held_out = split_documents([path], "parquet", TextConfig(min_chars=1, eval_fraction=0.2))
    assert len(train) + len(held_out) == 50 and held_out
    with pytest.raises(InputError, match='no column "body"'):
        list(read_documents([path], "parquet", field="body"))


def test_dna_pieces_one_per_line_split_whole_by_hash(tmp_path, dna_slice):
    pieces = [dna_slice[i : i + 1500] for i in range(0, 60_000, 1500)]
    (tmp_path / "pieces.txt").write_text("\n".join(pieces) + "\n")
    outs = [tmp_path / n for n in ("train.txt", "eval.txt", "stats.json")]
    stats = build_corpus(tmp_path / "pieces.txt", "lines", **dict(zip(OUTS, outs)), kind="dna", max_documents=30,
                         cfg=CorpusConfig(dna_window=2000, dna_min_window=50, eval_fraction=0.25))
    held = [p.upper() for p in pieces[:30] if held_out_by_hash(p.upper(), 0.25)]
    assert stats["kind"] == "dna" and stats["eval_items"] >= len(held) > 0
    evaluation = outs[1].read_text()
    assert all(p in evaluation for p in held)
    assert set(outs[0].read_text().split()).isdisjoint(evaluation.split())
    assert pieces[35].upper() not in outs[0].read_text() + evaluation  # past max_documents


def test_source_config_checks():
    base = {"conditions": {"c": {"source": "s", "tokenizer": "kmer"}}}
    with pytest.raises(InputError, match="exactly one of url and urls"):
        check_consistency({**base, "sources": {"s": {"url": "a", "urls": ["b"], "format": "fasta"}}})
    with pytest.raises(InputError, match="2 checksums for 1 files"):
        check_consistency({**base, "sources": {"s": {"url": "a", "format": "fasta", "sha256": ["0" * 64] * 2}}})
    with pytest.raises(InputError, match="kmer tokenizer needs a dna source"):
        check_consistency({**base, "sources": {"s": {"url": "a", "format": "parquet"}}})
    assert source_kind({"format": "lines", "kind": "dna"}) == "dna" and source_kind({"format": "fasta"}) == "dna"


def test_token_budget_matched_and_as_the_paper():
    # documents of 3, 10 and 600 tokens in rows of 512: the paper's rows hold 5, 12 and 512 tokens
    stats = document_stats(np.array([3, 10, 600]), 512, n_rows=2)
    assert stats["mean_tokens_per_document_row"] == pytest.approx((5 + 12 + 512) / 3)
    assert token_budget(TrainConfig(seed=1, tokens=1000), stats) == 1000
    as_paper = TrainConfig(seed=1, budget="as_paper", sequences=300)
    assert token_budget(as_paper, stats) == round(300 * (5 + 12 + 512) / 3)


def test_bgzf_style_multi_member_gzip_fasta_reads_whole(tmp_path, dna_slice):
    """BGZF (bgzip) is gzip in many members: the FASTA reader must read past the first."""
    text = f">a\n{dna_slice[:30_000]}\n>b\n{dna_slice[30_000:60_000]}\n".encode()
    members = [gzip.compress(text[i : i + 10_000]) for i in range(0, len(text), 10_000)]
    (tmp_path / "x.fa.gz").write_bytes(b"".join(members))
    outs = [tmp_path / n for n in ("train.txt", "eval.txt", "stats.json")]
    stats = build_corpus(tmp_path / "x.fa.gz", "fasta", **dict(zip(OUTS, outs)),
                         cfg=CorpusConfig(dna_window=1000, dna_min_window=100))
    assert stats["train_chars"] + stats["eval_chars"] == 60_000


@pytest.mark.integration
def test_fetch_rule_downloads_shards_over_http_and_locks_their_checksums(tmp_path, articles):
    """snakemake --until fetch with a two-shard source served by a real HTTP server on 127.0.0.1."""
    import functools
    import http.server
    import threading

    import yaml

    from conftest import snakemake, tiny_workflow

    served = tmp_path / "served"
    served.mkdir()
    for i in range(2):
        lines = "".join(json.dumps(a) + "\n" for a in articles[i * 300 : (i + 1) * 300])
        (served / f"part{i}.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        config_path = tiny_workflow(tmp_path / "wf")
        config = yaml.safe_load(config_path.read_text())
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        config["sources"]["shards"] = {"urls": [f"{base}/part0.jsonl.gz", f"{base}/part1.jsonl.gz"], "format": "jsonl"}
        config["conditions"]["text_bpe"]["source"] = "shards"
        config_path.write_text(yaml.safe_dump(config))
        result = snakemake(tmp_path / "wf", "--until", "corpus", "--configfile", str(config_path), timeout=300)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = tmp_path / "wf" / "results" / "fetch" / "shards"
    assert [f.name for f in source_files(fetched)] == ["00000-part0.jsonl.gz", "00001-part1.jsonl.gz"]
    lock = (tmp_path / "wf" / "config" / "sources.lock.tsv").read_text().splitlines()
    assert lock[0] == "url\tsha256\tbytes" and len(lock) == 3 and lock[1].startswith(f"{base}/part0.jsonl.gz\t")
    stats = json.loads((tmp_path / "wf" / "results" / "corpus" / "shards" / "stats.json").read_text())
    assert stats["files"] == 2 and stats["train_items"] + stats["eval_items"] == 600

"""Text readers (plain, WikiExtractor, JSON lines), cleaning, the document split, bad input."""

import gzip
import json
import lzma

import pytest

from gfm_limits.corpus import CorpusConfig, TextConfig, build_corpus, clean_text, held_out_by_hash, split_documents
from gfm_limits.files import InputError


def test_three_formats_give_the_same_documents(tmp_path, articles):
    texts = [a["text"] for a in articles[:50]]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    (tmp_path / "a.txt").write_text("".join(t.replace("\n\n", "\n") + "\n\n" for t in texts))
    (tmp_path / "a.wiki").write_text("".join(
        f'<doc id="{i}" url="u" title="{a["title"]}">\n{a["title"]}\n{a["text"]}\n</doc>\n'
        for i, a in enumerate(articles[:50])))
    cfg = TextConfig(eval_fraction=0.2, min_chars=1)
    expected = split_documents(tmp_path / "a.jsonl", "jsonl", cfg)
    assert split_documents(tmp_path / "a.txt", "text", cfg) == expected
    assert split_documents(tmp_path / "a.wiki", "wikiextractor", cfg) == expected
    assert sorted(expected[0] + expected[1]) == sorted(clean_text(t) for t in texts)


def test_gzip_jsonl_and_split_is_disjoint(tmp_path, articles):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(a) + "\n" for a in articles).encode()))
    train, held_out = split_documents(path, "jsonl", TextConfig(eval_fraction=0.1))
    assert not set(train) & set(held_out)
    assert 0.05 < len(held_out) / (len(train) + len(held_out)) < 0.15
    assert all(held_out_by_hash(d, 0.1) for d in held_out)


def test_clean_text_collapses_whitespace():
    assert clean_text("  a\n\nb\t c  ") == "a b c"


@pytest.mark.parametrize(
    "fmt, raw, message",
    [
        ("jsonl", b'{"text": "ok"}\n{"text": "caf\xe9"}\n', "line 2 is not valid UTF-8"),
        ("text", b"fine\n\n\xff\xfe broken\n", "line 3 is not valid UTF-8"),
        ("jsonl", b'{"text": "ok"}\n{"title": "no text"}\n', 'line 2 has no string field "text"'),
        ("jsonl", b'{"text": "ok"}\n{not json\n', "line 2 is not valid JSON"),
        ("wikiextractor", b'<doc id="1">\nT\nbody\n', "never closed"),
        ("jsonl", gzip.compress(b'{"text": "a long enough document"}\n' * 50)[:-30], "corrupt or truncated gzip"),
        ("wikiextractor", lzma.compress(b'<doc id="1">\nT\nbody\n</doc>\n' * 50)[:-30], "corrupt or truncated xz"),
    ],
)
def test_bad_text_names_file_and_problem(tmp_path, fmt, raw, message):
    path = tmp_path / "bad.src"
    path.write_bytes(raw)
    with pytest.raises(InputError, match=message) as err:
        split_documents(path, fmt, TextConfig(min_chars=1))
    assert str(path) in str(err.value)


def test_failed_corpus_leaves_no_output(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "caf\xe9"}\n')
    outs = [tmp_path / n for n in ("train.txt", "eval.txt", "stats.json")]
    with pytest.raises(InputError):
        build_corpus(path, "jsonl", train_out=outs[0], eval_out=outs[1], stats_out=outs[2],
                     cfg=CorpusConfig(text_min_chars=1))
    assert list(tmp_path.iterdir()) == [path]


def test_clean_text_as_the_paper():
    # no-break space and newlines -> space; non-ASCII letters and symbols -> one space per run
    raw = "Caf\u00e9\u00a0au lait\n(1990) \u2013 50\u00b0C, \u00abok\u00bb"
    assert clean_text(raw) == "Caf  au lait (1990) \u2013 50 C,  ok"


def test_xz_wikiextractor_reads_the_same_as_plain(tmp_path):
    raw = "".join(f'<doc id="{i}" url="u" title="T{i}">\nT{i}\nArticle number {i} has a body.\n</doc>\n'
                  for i in range(40)).encode()
    (tmp_path / "plain.txt").write_bytes(raw)
    (tmp_path / "packed.txt.xz").write_bytes(lzma.compress(raw))
    cfg = TextConfig(min_chars=1)
    plain = split_documents(tmp_path / "plain.txt", "wikiextractor", cfg)
    assert split_documents(tmp_path / "packed.txt.xz", "wikiextractor", cfg) == plain
    assert sum(map(len, plain)) == 40

"""Property-based tests (hypothesis) of the input readers and config checks on random and hostile input.

The contract: any input ends in correct output or in gfm_limits.files.InputError (or, for a
config that fails the schema, Snakemake's WorkflowError) whose message names the file or key;
never another exception, never a hang. Examples tried per property (max_examples):

- FASTA, fasta.split_windows / read_records:
  valid records (A/C/G/T/N/IUPAC, lowercase, random line widths, \\n or \\r\\n, plain/gzip/xz) 150;
  random bytes 200 (+5 fixed: empty, header only, only N, trailing blank lines); per-line mixed
  \\n, \\r\\n, \\r endings 100 (+3 fixed lone-CR cases); truncated gzip/xz 50.
- Text, corpus.read_documents / split_documents:
  valid documents of text, wikiextractor, jsonl, lines and parquet 100; random bytes per format
  (invalid UTF-8 included) 200; random JSON values per line 150; random parquet tables (missing
  column, non-string, null, zero rows) 100; parquet with flipped bytes 100; DNA pieces from
  jsonl or lines 100; a single 50 MB line, 3 formats x 2 examples (plain, gzip).
- Config, config.check_config: unknown keys at any depth 150; new source and condition names 50;
  a wrong, huge, non-finite, empty, long or deeply nested value at any key 300; DNA window sizes
  within the schema 50.
The whole file runs in about 30 s on 2 cores.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import itertools
import json
import lzma
import math
import re
import string
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from snakemake_interface_common.exceptions import WorkflowError

from gfm_limits.config import check_config
from gfm_limits.corpus import TextConfig, read_documents, split_documents, split_source
from gfm_limits.fasta import WindowConfig, read_records, split_windows
from gfm_limits.files import InputError

from conftest import ROOT

SCHEMA_PATH = ROOT / "config" / "schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())

# tmp_path is shared by the examples of one test; each example overwrites its files
FIXTURE = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def compress(data: bytes, how: str | None) -> bytes:
    return {"gzip": gzip.compress, "xz": lzma.compress, None: bytes}[how](data)


def decompressed(data: bytes) -> bytes:
    """What the readers see of `data`, for the oracles (best effort on corrupt input)."""
    try:
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(data)
    except (EOFError, OSError, lzma.LZMAError):
        return b""
    return data


def assert_names(err: Exception, path: Path) -> None:
    assert isinstance(err, InputError), f"{type(err).__name__}: {err}"
    assert str(path) in str(err), str(err)


# ---------------------------------------------------------------- FASTA

BASES = "ACGTacgt"
AMBIGUOUS = "NnRYSWKMBDHVryswkmbdhv"


@st.composite
def sequences(draw) -> str:
    """Runs of A/C/G/T (either case) broken by runs of N and IUPAC codes; maybe empty."""
    runs = draw(st.lists(st.tuples(st.text(BASES, max_size=90), st.text(AMBIGUOUS, min_size=1, max_size=5)),
                         max_size=5))
    return "".join(a + b for a, b in runs) + draw(st.text(BASES, max_size=90))


names = st.text(string.ascii_letters + string.digits + "_.|:-", min_size=1, max_size=12)
records = st.lists(st.tuples(names, sequences(), st.text(string.ascii_letters + " ", max_size=10)),
                   min_size=1, max_size=4, unique_by=lambda r: r[0])
window_configs = st.integers(2, 40).flatmap(lambda window: st.builds(
    WindowConfig, st.just(window), st.integers(1, window), st.floats(0.05, 0.45)))


def fasta_lines(recs) -> list[str]:
    return [line for name, seq, desc, width in recs
            for line in [f">{name} {desc}".rstrip()] + [seq[i:i + width] for i in range(0, len(seq), width)]]


def covered(region: str, cfg: WindowConfig) -> int:
    """Bases of `region` inside kept windows: whole windows of every A/C/G/T run, plus its tail
    when that is at least min_window long."""
    total = 0
    for is_base, run in itertools.groupby(region, key=lambda c: c in "ACGT"):
        n = len(list(run)) if is_base else 0
        total += n - n % cfg.window + (n % cfg.window if n % cfg.window >= cfg.min_window else 0)
    return total


def assert_windows(windows: list[str], cfg: WindowConfig) -> None:
    assert all(re.fullmatch(r"[ACGT]+", w) for w in windows)
    assert all(cfg.min_window <= len(w) <= cfg.window for w in windows)


@settings(max_examples=150, **FIXTURE)
@given(recs=records, widths=st.lists(st.integers(1, 100), min_size=4, max_size=4),
       newline=st.sampled_from(["\n", "\r\n"]), final=st.booleans(),
       how=st.sampled_from([None, "gzip", "xz"]), cfg=window_configs)
def test_valid_fasta_gives_exact_windows_from_the_right_regions(tmp_path, recs, widths, newline, final, how, cfg):
    path = tmp_path / "seq.fa"
    text = newline.join(fasta_lines([r + (w,) for r, w in zip(recs, widths)])) + (newline if final else "")
    path.write_bytes(compress(text.encode(), how))
    assert list(read_records(path)) == [(name, seq) for name, seq, _ in recs]  # soft-masking kept
    # the last eval_fraction of every record is held out (fasta.py docstring)
    regions = [(seq.upper()[:b], seq.upper()[b:]) for _, seq, _ in recs
               for b in [int(round(len(seq) * (1 - cfg.eval_fraction)))]]
    want_train = sum(covered(r[0], cfg) for r in regions)
    want_eval = sum(covered(r[1], cfg) for r in regions)
    if not want_train or not want_eval:
        with pytest.raises(InputError, match="no usable sequence") as err:
            split_windows(path, cfg)
        assert_names(err.value, path)
        return
    train, held_out = split_windows(path, cfg)
    assert_windows(train + held_out, cfg)
    assert sum(map(len, train)) == want_train and sum(map(len, held_out)) == want_eval
    assert all(any(w in r[0] for r in regions) for w in train)
    assert all(any(w in r[1] for r in regions) for w in held_out)


def windows_or_error(path: Path, cfg: WindowConfig) -> list[str] | None:
    """split_windows' clean windows (train + held out), or None after an InputError naming the file."""
    try:
        train, held_out = split_windows(path, cfg)
    except InputError as err:
        assert_names(err, path)
        return None
    assert_windows(train + held_out, cfg)
    return train + held_out


def check_any_fasta(path: Path, data: bytes, cfg: WindowConfig) -> None:
    """split_windows gives clean windows, no more A/C/G/T than the input holds, or an InputError."""
    windows = windows_or_error(path, cfg)
    if windows is not None:
        assert sum(map(len, windows)) <= sum(decompressed(data).upper().count(b) for b in b"ACGT")


@settings(max_examples=200, **FIXTURE)
@given(data=st.one_of(st.binary(max_size=600), st.binary(max_size=600).map(lambda b: b">" + b),
                      st.lists(st.sampled_from([b">r1", b">r2 x", b"ACGTACGTAC", b"acgtnn", b"NNNN", b"", b" ",
                                                b"\xff\xfe", b"\x00", b";c", b"ACGTACG"]), max_size=12)
                      .map(b"\n".join)),
       how=st.sampled_from([None, "gzip", "xz"]), cfg=window_configs)
@example(data=b"", how=None, cfg=WindowConfig(4, 2))
@example(data=b">only_header\n", how=None, cfg=WindowConfig(4, 2))
@example(data=b">only_n\n" + b"N" * 500 + b"\n", how="gzip", cfg=WindowConfig(4, 2))
@example(data=b">a\n" + b"ACGT" * 25 + b"\n\n\n", how=None, cfg=WindowConfig(4, 2))
@example(data=b">a\nACGTACGTAC\n\nACGT\n\n", how=None, cfg=WindowConfig(4, 2))
def test_random_bytes_as_fasta(tmp_path, data, how, cfg):
    path = tmp_path / "random.fa"
    path.write_bytes(compress(data, how))
    check_any_fasta(path, compress(data, how), cfg)


@settings(max_examples=100, **FIXTURE)
@given(recs=records, width=st.integers(1, 30), data=st.data(), cfg=window_configs)
def test_mixed_line_endings(tmp_path, recs, width, data, cfg):
    lines = fasta_lines([r + (width,) for r in recs])
    ends = data.draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines), max_size=len(lines)))
    path = tmp_path / "mixed.fa"
    path.write_bytes("".join(a + b for a, b in zip(lines, ends)).encode())
    windows = windows_or_error(path, cfg)
    if windows is not None:
        assert all(any(w in seq.upper() for _, seq, _ in recs) for w in windows)


@pytest.mark.parametrize("data", [
    b">a\r" + b"ACGTACGTAC\r" * 20,  # old Mac: one header line, no sequence, for pyfaidx
    b">a\n" + b"ACGTACGTAC\n" * 10 + b"ACG\r>b AAAAAAAAAAAAAAAAAA\n" + b"ACGTACGTAC\n" * 10,  # b joins a
    b">a\n" + b"ACGTACGTAC\n" * 7000 + b"ACG\r>b AAAAAAAAAAAAAAAAAA\n",  # ... past 64 KiB
])
def test_a_line_ending_in_cr_alone_is_named(tmp_path, data):
    path = tmp_path / "cr.fa"
    path.write_bytes(data)
    with pytest.raises(InputError, match="CR alone") as err:
        split_windows(path, WindowConfig(window=10, min_window=5))
    assert_names(err.value, path)


@settings(max_examples=50, **FIXTURE)
@given(recs=records, how=st.sampled_from(["gzip", "xz"]), data=st.data())
def test_truncated_compressed_fasta(tmp_path, recs, how, data):
    whole = compress("\n".join(fasta_lines([r + (60,) for r in recs])).encode() + b"\n", how)
    cut = data.draw(st.integers(len(b"\x1f\x8b") if how == "gzip" else 6, len(whole) - 1))
    path = tmp_path / "cut.fa"
    path.write_bytes(whole[:cut])
    with pytest.raises(InputError, match=f"corrupt or truncated {how}") as err:
        split_windows(path, WindowConfig(window=10, min_window=5))
    assert_names(err.value, path)


# ---------------------------------------------------------------- text

TEXT_CFG = TextConfig(eval_fraction=0.3, min_chars=1)
FORMATS = ["text", "wikiextractor", "jsonl", "lines", "parquet"]
# no \n, \r or the whitespace str.strip() removes, and no lone surrogates
line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1,
                     max_size=40).filter(lambda s: s.strip() and not s.strip().startswith(("<doc", "</doc")))


def held_out(doc: str, fraction: float) -> bool:
    """corpus.py docstring: held out when sha256(doc), read as a fraction of 2^64, is below eval_fraction."""
    return int.from_bytes(hashlib.sha256(doc.encode()).digest()[:8], "big") / 2**64 < fraction


def check_split(path: Path, fmt: str, cfg: TextConfig, field: str = "text") -> None:
    """split_documents gives clean documents on the side their hash says, or an InputError."""
    try:
        train, evaluation = split_documents([path], fmt, cfg, field=field)
    except InputError as err:
        assert_names(err, path)
        return
    assert train and evaluation
    docs = train + evaluation
    assert all(len(d) >= cfg.min_chars and d == d.strip() and "\n" not in d for d in docs)
    assert not any(held_out(d, cfg.eval_fraction) for d in train)
    assert all(held_out(d, cfg.eval_fraction) for d in evaluation)


def write_documents(path: Path, fmt: str, docs: list[list[str]]) -> list[str]:
    """Write documents (lists of lines) in `fmt`; return what read_documents should yield."""
    if fmt == "parquet":
        pq.write_table(pa.table({"text": ["\n".join(d) for d in docs]}), path, row_group_size=3)
        return ["\n".join(d) for d in docs]
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"id": i, "text": "\n".join(d)}) + "\n" for i, d in enumerate(docs)))
        return ["\n".join(d) for d in docs]
    if fmt == "lines":
        path.write_bytes("".join(d[0] + "\n" for d in docs).encode())
        return [d[0] for d in docs]
    if fmt == "text":
        path.write_bytes("\n".join("".join(line + "\n" for line in d) for d in docs).encode())
        return ["".join(line + "\n" for line in d) for d in docs]
    body = "".join(f'<doc id="{i}" url="u" title="t">\n' + "".join(line + "\n" for line in d) + "</doc>\n"
                   for i, d in enumerate(docs))
    path.write_bytes(body.encode())
    return ["".join(line + "\n" for line in d[1:]) for d in docs]


@settings(max_examples=100, **FIXTURE)
@given(fmt=st.sampled_from(FORMATS), docs=st.lists(st.lists(line_text, min_size=1, max_size=4), max_size=12),
       limit=st.none() | st.integers(0, 12))
def test_valid_documents_read_back_exactly(tmp_path, fmt, docs, limit):
    path = tmp_path / f"docs.{fmt}"
    want = write_documents(path, fmt, docs)
    assert list(read_documents([path], fmt, limit=limit)) == want[:limit]
    check_split(path, fmt, TEXT_CFG)


@settings(max_examples=200, **FIXTURE)
@given(fmt=st.sampled_from(FORMATS), data=st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from([b"", b"\n", b"  \t", b"\r", b"<doc id=1>", b"</doc>", b'{"text": "a b c"}', b"{",
                              b"\xff", b"\xc3", b"\xef\xbb\xbf", b"caf\xc3\xa9 text", b"PAR1", b"\x00"]), max_size=15)
    .map(b"\n".join)), how=st.sampled_from([None, "gzip", "xz"]))
@example(fmt="text", data=b"", how=None)
@example(fmt="lines", data=b"\n \n\t\n\r\n", how="gzip")
@example(fmt="jsonl", data=b"\n\n\n", how=None)
@example(fmt="wikiextractor", data=b"<doc id=1>\n", how=None)
def test_random_bytes_as_documents(tmp_path, fmt, data, how):
    path = tmp_path / "random"
    path.write_bytes(data if fmt == "parquet" else compress(data, how))
    try:
        docs = list(read_documents([path], fmt))
    except InputError as err:
        assert_names(err, path)
    else:
        assert all(isinstance(d, str) for d in docs)
        assert all(d.strip() for d in docs) or fmt not in ("text", "lines")
    check_split(path, fmt, TEXT_CFG)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["text", "body", "id"]) | st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=150, **FIXTURE)
@given(values=st.lists(json_values | st.fixed_dictionaries({"text": st.text()}), max_size=8),
       extra=st.sampled_from([None, "[" * 100_000, '{"text": ' * 50_000, "1" * 5000,
                              '{"text": "x", "n": ' + "9" * 5000 + "}",
                              '{"text": "\\ud800 lone surrogate"}', "NaN", "{'text': 'single quotes'}"]))
def test_random_json_values_per_line(tmp_path, values, extra):
    lines = [json.dumps(v) for v in values] + ([extra] if extra else [])
    path = tmp_path / "values.jsonl"
    path.write_text("\n".join(lines) + "\n")
    try:
        docs = list(read_documents([path], "jsonl"))
    except InputError as err:
        assert_names(err, path)
        bad = next(n for n, line in enumerate(lines, 1)
                   if not isinstance(v := parsed(line), dict) or not isinstance(v.get("text"), str))
        assert f"line {bad} " in str(err)
    else:
        assert docs == [json.loads(line)["text"] for line in lines]
    check_split(path, "jsonl", TEXT_CFG)


def parsed(line: str):
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # too many digits for an int, too deep
        return None


ARROW_TYPES = {"string": pa.string(), "large_string": pa.large_string(), "int": pa.int64(), "float": pa.float64(),
               "binary": pa.binary(), "bool": pa.bool_(), "list": pa.list_(pa.string()), "null": pa.null()}


@st.composite
def arrow_tables(draw):
    rows = draw(st.integers(0, 8))
    columns = draw(st.dictionaries(st.sampled_from(["text", "body", "Text", ""]), st.sampled_from(list(ARROW_TYPES)),
                                   min_size=1, max_size=3))
    values = {
        "string": st.text(st.characters(blacklist_categories=("Cs",))), "large_string": st.text(max_size=5),
        "int": st.integers(-2**63, 2**63 - 1), "float": st.floats(), "binary": st.binary(max_size=5),
        "bool": st.booleans(), "list": st.lists(st.text(max_size=3), max_size=2), "null": st.none()}
    data = {name: draw(st.lists(st.none() | values[kind] if draw(st.booleans()) else values[kind],
                                min_size=rows, max_size=rows)) for name, kind in columns.items()}
    return pa.table({name: pa.array(data[name], type=ARROW_TYPES[kind]) for name, kind in columns.items()})


@settings(max_examples=100, **FIXTURE)
@given(table=arrow_tables(), group=st.integers(1, 4))
def test_random_parquet_tables(tmp_path, table, group):
    path = tmp_path / "table.parquet"
    pq.write_table(table, path, row_group_size=group)
    want = table.column("text").to_pylist() if "text" in table.column_names else None
    if want is None or not all(isinstance(v, str) for v in want):
        with pytest.raises(InputError, match='column "text"') as err:
            list(read_documents([path], "parquet"))
        assert_names(err.value, path)
    else:
        assert list(read_documents([path], "parquet")) == want
    check_split(path, "parquet", TEXT_CFG)


PARQUET = pa.table({"text": [f"document {i}: " + "words and more words " * (i % 5 + 1) for i in range(60)]})


@settings(max_examples=100, **FIXTURE)
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4),
       keep=st.none() | st.floats(0, 1))
def test_corrupt_parquet(tmp_path, flips, keep):
    path = tmp_path / "corrupt.parquet"
    pq.write_table(PARQUET, path, row_group_size=10)
    data = bytearray(path.read_bytes())
    for where, byte in flips:
        data[int(where * len(data))] = byte
    path.write_bytes(bytes(data[: int(len(data) * keep)] if keep is not None else data))
    try:
        assert all(isinstance(d, str) for d in read_documents([path], "parquet"))
    except InputError as err:
        assert_names(err, path)


@settings(max_examples=100, **FIXTURE)
@given(fmt=st.sampled_from(["jsonl", "lines"]),
       pieces=st.lists(sequences() | st.text(max_size=30) | st.just("\ud800ACGTACGTACGT"), min_size=1, max_size=10))
def test_dna_pieces(tmp_path, fmt, pieces):
    path = tmp_path / f"pieces.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({"text": p}) + "\n" for p in pieces))
    else:
        path.write_bytes("".join(p.replace("\n", " ").replace("\r", " ") + "\n"
                                 for p in pieces).encode("utf-8", "surrogatepass"))
    cfg = WindowConfig(window=8, min_window=4, eval_fraction=0.3)
    try:
        train, held = split_source([path], fmt, "dna", dna=cfg, text=TEXT_CFG)
    except InputError as err:
        assert_names(err, path)
        return
    assert_windows(train + held, cfg)
    assert all(any(w in p.upper() for p in pieces) for w in train + held)


# 50 MB, not the 1 GB: the readers stream line by line, so memory follows the longest
# line: reading one costs 3 times its size (the bytes, the decoded str, the stripped copy; measured),
# cleaning more, so a 1 GB line needs over 3 GB and ~20 s; 50 MB shows the same in about a second.
LONG = 50_000_000


@pytest.mark.parametrize("fmt", ["lines", "text", "jsonl"])
@settings(phases=[Phase.explicit], **FIXTURE)  # just the two examples: no deadline, no search
@given(how=st.sampled_from([None, "gzip"]))
@example(how=None)
@example(how="gzip")
def test_one_50mb_line_is_streamed(tmp_path, fmt, how):
    long = "a" * LONG
    short = [f"short document number {i} with a few words" for i in range(40)]
    docs = [long] + short
    body = "".join((json.dumps({"text": d}) if fmt == "jsonl" else d) + ("\n\n" if fmt == "text" else "\n")
                   for d in docs).encode()
    path = tmp_path / f"long.{fmt}"
    path.write_bytes(compress(body, how))
    del body
    tracemalloc.start()
    try:
        first = next(iter(read_documents([path], fmt)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.strip() == long
    assert peak < 4 * LONG  # 3 copies of the line (measured), not of the file
    train, evaluation = split_documents([path], fmt, TextConfig(eval_fraction=0.3, min_chars=10))
    assert (long in train) != (long in evaluation)
    assert len(train) + len(evaluation) == len(docs)


# ---------------------------------------------------------------- config


def full_config() -> dict:
    config = copy.deepcopy(CONFIG)
    check_config(config, SCHEMA_PATH)  # fills in every default
    return config


FULL = full_config()


def node_at(keys: tuple) -> dict:
    """The schema node of a config path (dict keys and list indices)."""
    node = SCHEMA
    for key in keys:
        node = resolve(node)
        if isinstance(key, int):
            node = node.get("items", {})
        else:
            extra = node.get("additionalProperties")
            node = node.get("properties", {}).get(key, extra if isinstance(extra, dict) else {})
    return resolve(node)


def resolve(node: dict) -> dict:
    return SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node


def paths(value, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a config, inner nodes included."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    return [p for k, v in items for p in [prefix + (k,)] + paths(v, prefix + (k,))]


def dotted(keys: tuple) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def put(config: dict, keys: tuple, value) -> None:
    target = config
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


def assert_names_key(err: Exception, keys: tuple) -> None:
    """An InputError names the dotted key (or a key under it, or the list that holds it: a list's
    content can contradict another key, stats.summary_k against stats.top_k); a WorkflowError gives
    the jsonschema instance path of the key, of a value under it, or of the list that holds it
    (uniqueItems)."""
    named = [keys, keys[:-1]] if isinstance(keys[-1], int) else [keys]
    if isinstance(err, InputError):
        assert any(re.search(rf"(?<![\w.]){re.escape(dotted(n))}(?![\w\[])", str(err)) for n in named), str(err)
        return
    assert isinstance(err, WorkflowError), f"{type(err).__name__}: {err}"
    assert any("On instance" + "".join(f"[{k!r}]" for k in n) in str(err) for n in named), str(err)


# dicts that take no keys beyond their schema's (sources and conditions take named entries)
CLOSED = [()] + [p for p in paths(FULL) if node_at(p).get("additionalProperties") is False]


def nest(depth: int):
    value: object = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


deep = st.integers(1, 200).map(nest)
keys = st.text(max_size=30) | st.integers() | st.just("k" * 100_000)


@settings(max_examples=150, deadline=None)
@given(where=st.sampled_from(CLOSED), key=keys, value=json_values | deep)
@example(where=(), key=1, value=2)
@example(where=("train",), key="lrr", value=0.1)
def test_unknown_key_at_any_depth(where, key, value):
    config = copy.deepcopy(FULL)
    target = config
    for k in where:
        target = target[k]
    if key in target or key in node_at(where).get("properties", {}):
        return
    target[key] = value
    with pytest.raises(InputError) as err:
        check_config(config, SCHEMA_PATH)
    assert f"unknown key '{'.'.join(map(str, where + (key,)))}'" in str(err.value)


@settings(max_examples=50, deadline=None)
@given(where=st.sampled_from(["sources", "conditions"]), name=keys)
def test_new_entry_names_are_strings_of_the_schema_pattern(where, name):
    config = copy.deepcopy(FULL)
    if name in config[where]:
        return
    config[where][name] = copy.deepcopy(next(iter(config[where].values())))
    if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        check_config(config, SCHEMA_PATH)
        return
    with pytest.raises((InputError, WorkflowError)) as err:
        check_config(config, SCHEMA_PATH)
    assert repr(name)[:50] in str(err.value) or str(name)[:50] in str(err.value)


HOSTILE = [None, "", "x" * 100_000, True, False, [], {}, 0, -1, -1.0, 0.5, 2.0, 10**30, -10**30, 1e308, -1e308,
           math.nan, math.inf, -math.inf, "nan", [1, "a", None], {"a": {"b": {"c": {}}}},
           json.loads("[" * 500 + "]" * 500), json.loads('{"a":' * 500 + "1" + "}" * 500)]


def type_ok(value, node: dict) -> bool | None:
    """Whether `value` has the schema's JSON type (an integer-valued float is not an integer here:
    the code downstream slices and formats it as a Python int); None where the schema gives no type."""
    kind = node.get("type")
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return {"integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "string": isinstance(value, str), "boolean": isinstance(value, bool),
            "array": isinstance(value, list), "object": isinstance(value, dict)}.get(kind)


@settings(max_examples=300, deadline=None)
@given(where=st.sampled_from(paths(FULL)), value=st.sampled_from(HOSTILE) | json_values)
@example(where=("train", "lr"), value=math.nan)
@example(where=("train", "batch_size"), value=16.0)
@example(where=("seeds", 0), value=7.0)
@example(where=("train", "tokens"), value=10**30)
@example(where=("sources", "dna", "max_bytes"), value=10**30)
@example(where=("fetch", "timeout"), value=1e308)
def test_hostile_value_at_any_key(where, value):
    config = copy.deepcopy(FULL)
    put(config, where, value)
    node = node_at(where)
    try:
        check_config(config, SCHEMA_PATH)
    except (InputError, WorkflowError) as err:
        assert_names_key(err, where)
    else:
        assert type_ok(value, node) is not False, f"{dotted(where)} = {value!r} passed the checks"


@settings(max_examples=50, deadline=None)
@given(window=st.integers(12, 3000), min_window=st.integers(6, 3000))
@example(window=100, min_window=200)  # dna_window lowered, dna_min_window left at its default
def test_dna_window_sizes_that_pass_give_windows(window, min_window):
    config = copy.deepcopy(FULL)
    config["corpus"].update(dna_window=window, dna_min_window=min_window)
    try:
        check_config(config, SCHEMA_PATH)
    except InputError as err:
        assert "corpus.dna_min_window" in str(err) and "corpus.dna_window" in str(err)
        assert min_window > window
        return
    from gfm_limits.fasta import cut_windows
    assert cut_windows("A" * window, WindowConfig(window=window, min_window=min_window))

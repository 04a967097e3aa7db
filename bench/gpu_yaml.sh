#!/usr/bin/env bash
# config/gpu.yaml end to end on the device machine (no internet, no Snakemake installed):
# Snakemake travels as wheels in .whl/ (the device README), the corpora in data/gpu/
# (resources/get_gpu_data.sh). Resumable: run it again on the same warm machine and
# Snakemake picks up where the last call stopped (training resumes from its saved state).
#   bash bench/gpu_yaml.sh SECONDS   # stop (SIGINT, state saved) after SECONDS
#   CONFIGS="config/gpu.yaml config/gpu_beyond.yaml" GPUS=7 bash bench/gpu_yaml.sh SECONDS
set -uo pipefail
limit=${1:-560}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl 2>/dev/null
export PYTHONPATH=/tmp/site:$PWD/scripts PYTHONUNBUFFERED=1
out=${OUT:-/tmp/out}
mkdir -p "$out"
start=$(date +%s)
read -r -a configs <<<"${CONFIGS:-config/gpu.yaml}"
timeout -s INT -k 30 "$limit" python3 -m snakemake --cores all --resources gpu="${GPUS:-5}" --scheduler greedy \
    --rerun-incomplete --configfile "${configs[@]}" >>"$out/snakemake.log" 2>&1
rc=$?
echo "snakemake rc=$rc after $(( $(date +%s) - start )) s"
grep -E "^\[|Finished job|steps of|Error|error" "$out/snakemake.log" | tail -15
python3 bench/gpu_sharing.py results/logs >"$out/gpu_sharing.txt"  # each GPU job's card; any shared at once
echo "gpu_sharing rc=$?"; tail -3 "$out/gpu_sharing.txt"
tar czf "$out/results.tgz" --exclude='*.safetensors' --exclude='*.npz' --exclude='*.npy' --exclude='*.pt' \
    --exclude='results/models/*/seed*.snapshots' --exclude='results/state' --exclude='results/tokens' \
    --exclude='results/corpus' --exclude='*.bin' --exclude='*.h5' --exclude='results/extract' --exclude='*.snapshots' results 2>/dev/null
ls -la "$out"

#!/usr/bin/env bash
# Create .venv with everything the pipeline and its tests need. Idempotent: it
# reinstalls only when pyproject.toml changed. Needs Python >= 3.11 and pip.
#   PYTHON=python3.12 bash bootstrap.sh      # another interpreter
#   TORCH="torch==2.13.0" bash bootstrap.sh  # another torch build (a GPU one, say)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
python=${PYTHON:-python3}
torch=${TORCH:-torch==2.13.0}
stamp=.venv/.installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $torch"
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
"$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: on a CPU machine 2.13.0 is the CPU wheel; an
# unpinned torch would pull a multi-GB CUDA build through transformers.
.venv/bin/python -m pip install --quiet "$torch"
.venv/bin/python -m pip install --quiet -e ".[test]"
echo "$want" > "$stamp"
echo "bootstrap: .venv ready ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"

#!/usr/bin/env bash
# Every test: Python (core, CLI, server, corpus end to end) and the frontend model (jest).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
python3 -m pytest -q -p no:cacheprovider
jlpm test

#!/usr/bin/env bash
# Every test: the frontend model (jest), the panel in a real browser (Galata in Chromium, when
# `bash scripts/setup.sh --browser` set it up; screenshots in ui-tests/test-results/), then Python (core, CLI,
# server; the corpus notebooks too when ../shared/corpus sits beside the clone, else those are reported skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
jlpm test
if [ -d ui-tests/node_modules/@jupyterlab/galata ]; then
  (cd ui-tests && CI=1 jlpm playwright test)
else
  echo "Galata browser tests not set up: run 'bash scripts/setup.sh --browser' to add them"
fi
# One worker per core (pytest-xdist): most tests wait on subprocesses that train or lint a generated project.
python3 -m pytest -q -p no:cacheprovider -rs -n auto --durations=15

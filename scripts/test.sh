#!/usr/bin/env bash
# Every test: the frontend model (jest), the panel in a real browser (Galata in Debian Chromium;
# screenshots in ui-tests/test-results/), then Python (core, CLI, server, corpus end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
jlpm test
(cd ui-tests && CI=1 jlpm playwright test)
python3 -m pytest -q -p no:cacheprovider

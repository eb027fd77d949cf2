#!/usr/bin/env bash
# Every test: Python (core, CLI, server, corpus end to end), the frontend model (jest),
# and the panel in a real browser (Galata in Debian Chromium; screenshots in ui-tests/test-results/).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
python3 -m pytest -q -p no:cacheprovider
jlpm test
(cd ui-tests && CI=1 jlpm playwright test)

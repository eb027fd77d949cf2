#!/usr/bin/env bash
# Set up jupyterlab-promote in the active Python environment (a virtual environment is best):
# PyTorch (CPU build), the package with its JupyterLab frontend, and the server extension.
#
#   bash scripts/setup.sh             # everything but the browser tests
#   bash scripts/setup.sh --browser   # also the Galata browser tests (Chromium, Playwright)
#
# It never touches your global git config (without an identity, only the demo repository ../demo_project gets one),
# and installs system packages only for --browser, and only where Chromium is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    -h | --help) sed -n 2,9p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done
TORCH="torch==2.13.0"

# torch first, so that nothing later makes pip resolve it: the CPU wheel index first (no multi-GB CUDA build);
# where that index cannot be reached, fail fast and take the pinned version from the default index.
if python3 -c 'import sys, torch; sys.exit(not torch.__version__.startswith("2.13.0"))' 2>/dev/null; then
  echo "setup: $TORCH already installed"
elif ! python3 -m pip install --quiet --timeout 5 --retries 0 --index-url https://download.pytorch.org/whl/cpu "$TORCH" 2>/dev/null; then
  echo "setup: the PyTorch CPU index is unreachable; installing $TORCH from the default index"
  python3 -m pip install --quiet "$TORCH"
fi

# A link left by an earlier `labextension develop` (another checkout) would break the install.
rm -rf "$(python3 -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/jupyterlab-promote"
# Builds the TypeScript frontend through hatch-jupyter-builder (jlpm install + build).
python3 -m pip install --quiet -e ".[test]"
# A link to the frontend this checkout builds (`jupyter labextension develop` is deprecated for this).
jupyter-builder develop --overwrite . >/dev/null
jupyter server extension enable --sys-prefix jupyterlab_promote >/dev/null

if [ "$browser" = 1 ]; then
  # Galata uses the system's Chromium: Playwright's own browser download is often blocked.
  if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "setup: the browser tests need Chromium, and this is not a Debian system I may install it on." >&2
      echo "       Install Chromium yourself and set CHROMIUM_PATH to it, then run: bash scripts/setup.sh --browser" >&2
      exit 1
    fi
  fi
  (cd ui-tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 jlpm install >/dev/null)
fi

if ! git config user.name >/dev/null || ! git config user.email >/dev/null; then
  # Promotion commits, and git has no identity here: give the README's demo repository (../demo_project) one of
  # its own, and leave the global config to its owner.
  if [ ! -e ../demo_project ]; then
    git init -q ../demo_project
    git -C ../demo_project config user.name "jupyterlab-promote demo"
    git -C ../demo_project config user.email "demo@example.com"
    echo "setup: git has no identity; ../demo_project got a local one for the demo."
  fi
  echo "setup: for your own notebooks, set a git identity once:"
  echo '         git config --global user.name "Your Name" && git config --global user.email you@example.com'
fi
echo "setup: done"

#!/usr/bin/env bash
# Set up a fresh machine: PyTorch (CPU build), the package with its frontend, and the server extension.
set -euo pipefail
cd "$(dirname "$0")/.."
# torch first and pinned, so that pip never resolves a multi-GB CUDA build for it.
python3 -m pip install --quiet "torch==2.13.0"
# A link left by an earlier `labextension develop` (another checkout) would break the install.
rm -rf "$(python3 -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/jupyterlab-promote"
# Builds the TypeScript frontend through hatch-jupyter-builder (jlpm install + build).
python3 -m pip install --quiet -e ".[test]"
jupyter labextension develop --overwrite . >/dev/null
jupyter server extension enable --sys-prefix jupyterlab_promote >/dev/null
# Browser tests (Galata): Debian's Chromium, since Playwright's own browser download is blocked.
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd ui-tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 jlpm install >/dev/null)
git config --global user.name >/dev/null || git config --global user.name "jupyterlab-promote demo"
git config --global user.email >/dev/null || git config --global user.email "demo@example.com"

"""Shared pytest setup: pytest-jupyter's server fixtures (jp_fetch, jp_root_dir, …) and a git identity."""

import os
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# Tests import the source tree, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Small-tensor training on 2 shared cores is far faster single-threaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def git_identity(monkeypatch):
    """A git identity for tests that commit, independent of the machine's global config."""
    for key, value in {
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def isolated_git(monkeypatch, tmp_path):
    """A known git identity and no user/system git config, for the server's git calls too."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")

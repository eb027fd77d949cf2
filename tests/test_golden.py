"""Generated output, file by file, against the golden record: a refactor of ours changes no byte of it.

After an intended change to the output, rewrite the record with `python -m tests.golden.generate` and let
the diff of tests/golden/generated.json show, in review, which generated files changed.
"""

from __future__ import annotations

import json

import pytest

from .golden.generate import (
    RECORD,
    formatter_versions,
    generated_hashes,
    golden_notebooks,
)
from .helpers import CORPUS_MISSING

RECORDED = json.loads(RECORD.read_text())
FORMATTERS = RECORDED.pop("<formatters>")


@pytest.mark.parametrize("key", sorted(RECORDED))
def test_generated_output_is_the_recorded_output(key):
    if formatter_versions() != FORMATTERS:
        pytest.skip(f"record made with {FORMATTERS}, here {formatter_versions()}: python -m tests.golden.generate")
    notebook = golden_notebooks().get(key)
    if notebook is None:
        pytest.skip(CORPUS_MISSING)
    actual = generated_hashes(notebook)
    changed = sorted(name for name in set(actual) | set(RECORDED[key]) if actual.get(name) != RECORDED[key].get(name))
    assert (
        not changed
    ), f"{key}: generated files differ from the record: {changed} (intended? python -m tests.golden.generate)"


def test_every_golden_notebook_is_recorded():
    assert set(golden_notebooks()) <= set(RECORDED), "python -m tests.golden.generate records the new ones"


def test_the_record_holds_in_an_environment_with_newer_packages(monkeypatch):
    # A fresh environment resolves newer distributions, and promotion writes their versions as floors.
    if formatter_versions() != FORMATTERS:
        pytest.skip(f"record made with {FORMATTERS}, here {formatter_versions()}")
    from jupyterlab_promote.codegen import dependencies

    installed = dependencies.distribution_version

    def newer(name: str) -> str:
        return installed(name) and "99.1.2"  # what is not installed here stays so

    monkeypatch.setattr(dependencies, "distribution_version", newer)
    assert generated_hashes(golden_notebooks()["examples/demo"]) == RECORDED["examples/demo"]

"""The messier real notebooks of ../shared/corpus/wild: each promotes, lint-clean; the ones that once broke in a
class of their own also pass their generated tests as generated.

Their metrics are compared by ``jupyter promote --verify`` in ``benchmarks/corpus_report.py`` (minutes each).
"""

from __future__ import annotations

import pytest

from jupyterlab_promote import api

from .helpers import (
    CORPUS,
    CORPUS_MISSING,
    comment_wrapped_statements,
    lint_problems,
    run_in_project,
)

WILD = sorted((CORPUS / "wild").glob("*.ipynb"))
if not WILD:
    pytest.skip(CORPUS_MISSING, allow_module_level=True)

# Each was red as generated until its class was fixed: a class defined inside a step (pickled by value), skops
# picked by MLflow for sklearn, Fabric's optimizer wrapper rebuilt with its model, a helper's default file path;
# wild01 is the notebook's own LightningModule built beside its Trainer: its forward test and schema come from it.
ONCE_RED = {
    "wild01_lightning_cifar10_baseline",
    "wild04_udacity_char_lstm",
    "wild09_sklearn_mooc_column_transformer",
    "wild11_pyexamples_vae",
    "wild12_early_stopping_mnist",
}


@pytest.mark.parametrize("notebook", WILD, ids=lambda p: p.stem)
def test_wild_notebook_promotes_lint_clean(notebook, tmp_path):
    result = api.promote(notebook, tmp_path / "project", commit=False)
    assert result.ok, result.message
    assert lint_problems(tmp_path / "project") == []
    assert comment_wrapped_statements(tmp_path / "project") == []


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [p for p in WILD if p.stem in ONCE_RED], ids=lambda p: p.stem)
def test_wild_notebook_passes_its_generated_tests(notebook, tmp_path):
    result = api.promote(notebook, tmp_path / "project", commit=False)
    assert result.ok, result.message
    tests = run_in_project(tmp_path / "project", "-m", "pytest", "-q", "-p", "no:cacheprovider", timeout=900)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]

"""Every corpus notebook: promote, run the generated project's own tests, run it fully, compare metrics.

The corpus lives in ../shared/corpus (real public notebooks, tagged as a user would). The spreads
come from the corpus README: the promoted run drops skipped cells, which changes the random
number stream for dev02 and dev03 ("skip cells dropped" column), so those compare loosely.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from jupyterlab_promote import api

from .helpers import (
    CORPUS,
    CORPUS_MISSING,
    corpus_notebooks,
    lint_problems,
    metrics_of,
    run_in_project,
)

if not (CORPUS / "expected.json").is_file():
    pytest.skip(CORPUS_MISSING, allow_module_level=True)

# Absolute tolerance per metric (README of the corpus: "safe targets for a faithful promoted run").
SPREAD = {
    "dev01_mwml_utilities.ipynb": {"test_loss": 0.07, "test_precision": 0.02, "test_recall": 0.02, "test_f1": 0.02},
    "dev02_nyu_spiral.ipynb": {"train_acc": 0.05},
    "dev03_udacity_mnist_mlp_validation.ipynb": {"test_loss": 0.1, "test_acc": 0.05},
    "dev04_pytorch_quickstart.ipynb": {"test_loss": 0.05, "test_acc": 0.05},
    "dev05_sklearn_nested_cv.ipynb": {"best_cv_score": 1e-9, "nested_cv_mean": 1e-9, "nested_cv_std": 1e-9},
}
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH="src")
    env.pop("PYTEST_ADDOPTS", None)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("notebook", corpus_notebooks(), ids=lambda p: p.stem)
def test_corpus_notebook_promotes_trains_and_reproduces(notebook, tmp_path, git_identity):
    output = tmp_path / "project"
    started = time.perf_counter()
    result = api.promote(notebook, output)
    promote_seconds = time.perf_counter() - started
    assert result.ok, result.message
    assert result.commit and result.merged

    assert lint_problems(output) == []

    started = time.perf_counter()
    tests = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider", timeout=900)
    test_seconds = time.perf_counter() - started
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]

    started = time.perf_counter()
    run = run_in_project(output, "-m", result.plan.package, "run", timeout=900)
    run_seconds = time.perf_counter() - started
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = metrics_of(output)
    if result.plan.step("preprocess"):  # fitted transforms are kept for batch inference
        assert (output / "artifacts" / "preprocess" / "skipped.txt").is_file()
    expected = EXPECTED[notebook.name]
    for name, value in expected.items():
        assert abs(metrics[name] - value) <= SPREAD[notebook.name][name], (name, metrics[name], value)
    print(
        f"\n{notebook.name}: promote {promote_seconds:.2f}s, generated tests {test_seconds:.1f}s, full run {run_seconds:.1f}s, "
        + ", ".join(f"{k} notebook {v:.4f} promoted {metrics[k]:.4f}" for k, v in expected.items())
    )
    model_module = output / "src" / result.plan.package / "model.py"
    lightning = model_module.exists() and "class LitModel(pl.LightningModule)" in model_module.read_text()
    assert lightning == (notebook.name == "dev03_udacity_mnist_mlp_validation.ipynb"), "only dev03 has a canonical loop"
    # A second promotion of the unchanged notebook makes no commit.
    again = api.promote(notebook, output)
    assert again.commit == result.commit and "up to date" in again.message

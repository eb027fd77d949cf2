"""`jupyter promote --verify`: real notebook runs (nbclient) against real package runs, compared metric by metric."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.fidelity.runs import VerifyError
from jupyterlab_promote.fidelity.verify import MetricComparison, compare

from .helpers import TINY_LIGHTNING, TINY_TORCH, write_notebook

ROOT = Path(__file__).resolve().parents[1]

# A notebook without torch: a few seconds per run, for the CLI's modes.
PLAIN = [
    "import random",
    ("n = 200\nseed = 3\nrandom.seed(seed)", ["parameters"]),
    ("values = [random.random() for _ in range(n)]", ["promote:data"]),
    ("mean = sum(values) / n\nlargest = max(values)", ["promote:evaluate"]),
]

# The data the training cell reads is rescaled by a skip-tagged cell: the notebook, run as its author runs it,
# trains on other data than the promoted package does.
RESCALED = [
    "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
    ("epochs = 2\nlr = 0.1\ntorch.manual_seed(0)", ["parameters"]),
    (
        "X = torch.randn(256, 3)\ny = (X[:, 0] > 0.5).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=32)",
        ["promote:data"],
    ),
    ("X.mul_(50).add_(3)  # rescaled in place while exploring, never tagged for promotion", ["promote:skip"]),
    ("model = nn.Linear(3, 2)", ["promote:model"]),
    (
        "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
        "for epoch in range(epochs):\n"
        "    for xb, yb in loader:\n"
        "        optimizer.zero_grad()\n"
        "        loss = nn.functional.cross_entropy(model(xb), yb)\n"
        "        loss.backward()\n"
        "        optimizer.step()",
        ["promote:train"],
    ),
    ("with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()", ["promote:evaluate"]),
]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": str(cwd),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        [sys.executable, "-m", "jupyterlab_promote.app", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_tiny_training_notebook_verifies_and_its_record_is_committed(tmp_path, git_identity):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    git(tmp_path, "init", "-q")
    output = tmp_path / "tiny_project"
    verification = api.verify(notebook, output, overrides=["epochs=2"])
    report = verification.report
    assert verification.ok, verification.to_json()
    assert [m.name for m in report.metrics] == ["acc"]
    assert report.metrics[0].notebook == report.metrics[0].package
    assert "acc" in report.table() and "ok" in report.table()
    record = json.loads((output / "fidelity.json").read_text())
    assert record["parameters"] == {"epochs": 2} and record["metrics"]["acc"]["notebook"] == report.metrics[0].notebook
    assert git(tmp_path, "status", "--porcelain") == "?? tiny.ipynb"  # promotion and record both committed
    assert "Record the fidelity of tiny.ipynb" in git(tmp_path, "log", "-1", "--format=%s")

    # The generated fidelity test is deselected by default and passes with -m slow.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    default = subprocess.run(run, cwd=output, env=env, capture_output=True, text=True, timeout=600)
    assert default.returncode == 0 and "1 deselected" in default.stdout, default.stdout
    slow = subprocess.run([*run, "-m", "slow"], cwd=output, env=env, capture_output=True, text=True, timeout=600)
    assert slow.returncode == 0 and "1 passed" in slow.stdout, slow.stdout


def test_skip_tagged_rescaling_makes_verify_fail_and_name_the_metric(tmp_path):
    write_notebook(tmp_path / "rescaled.ipynb", RESCALED)
    result = cli("rescaled.ipynb", "--verify", "--no-commit", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "differs from the notebook in acc" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("acc "))
    assert row.split()[-1] == "differs"
    assert json.loads((tmp_path / "rescaled_project" / "fidelity.json").read_text())["ok"] is False


def test_cli_json_with_seeds_widens_the_band_by_the_notebooks_spread(tmp_path):
    write_notebook(tmp_path / "plain.ipynb", PLAIN)
    result = cli("plain.ipynb", "--verify", "--no-commit", "--seeds", "2", "--set", "n=50", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] and data["seeds"] == 2 and data["parameters"] == {"n": 50}
    metrics = {m["name"]: m for m in data["metrics"]}
    assert set(metrics) == {"mean", "largest"}
    assert metrics["mean"]["spread"] > 0  # seeds 3 and 4 give different draws
    assert metrics["mean"]["tolerance"] == metrics["mean"]["spread"]
    assert metrics["mean"]["notebook"] == metrics["mean"]["package"]  # the package ran with the first seed


def test_cli_rtol_zero_still_passes_an_exact_reproduction_and_prints_the_table(tmp_path):
    write_notebook(tmp_path / "plain.ipynb", PLAIN)
    result = cli("plain.ipynb", "--verify", "--no-commit", "--rtol", "0", "--set", "seed=11", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].split() == ["metric", "notebook", "package", "rel.", "diff", "verdict"]
    assert "✓ the package reproduces the notebook: 2 metric(s)" in result.stdout


def test_unknown_parameter_is_a_clear_error_and_writes_nothing(tmp_path):
    write_notebook(tmp_path / "plain.ipynb", PLAIN)
    result = cli("plain.ipynb", "--verify", "--set", "epochs=3", cwd=tmp_path)
    assert result.returncode == 1
    assert "--set 'epochs=3'" in result.stderr and "parameters: n, seed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "plain_project").exists()


def test_a_failing_cell_is_named_by_index_and_id(tmp_path):
    cells = [*PLAIN, ("print(1 / 0)", ["promote:skip"])]
    notebook = write_notebook(tmp_path / "broken.ipynb", cells)
    with pytest.raises(VerifyError) as caught:
        api.verify(notebook, tmp_path / "out", commit=False)
    assert "cell 4 (id cell-4)" in caught.value.message and "ZeroDivisionError" in caught.value.message


def test_promotion_without_verify_writes_no_record(tmp_path):
    notebook = write_notebook(tmp_path / "plain.ipynb", PLAIN)
    first = api.promote(notebook, tmp_path / "a", commit=False)
    second = api.promote(notebook, tmp_path / "b", commit=False)
    assert first.files == second.files
    assert "tests/test_fidelity.py" in first.files and "fidelity.json" not in first.files
    for path in first.files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_band_is_the_spread_when_wider_than_rtol():
    rows = compare([{"m": 1.0}, {"m": 1.5}], {"m": 1.4, "extra": 2.0}, rtol=1e-6)
    by_name = {row.name: row for row in rows}
    assert by_name["m"].tolerance == 0.5 and by_name["m"].ok
    assert by_name["extra"].verdict == "only in package"
    assert MetricComparison("z", 0.0, 0.0, 1e-12).ok


def test_the_skipped_rescaling_is_a_warning_on_both_cells_before_anything_runs(tmp_path):
    plan = api.analyze(write_notebook(tmp_path / "rescaled.ipynb", RESCALED))
    found = {(d.cell_index, d.line) for d in plan.all_diagnostics if d.code == "PRM041"}
    assert found == {(3, 1), (6, 2)}  # the skipped cell's change; the evaluate cell's first read of X
    # The notebook's own inspection habits are not warned about: a mode switch or a plot in a skipped cell.
    quiet = [*RESCALED[:3], ("model_view = X[:5]\nX.to('cpu')", ["promote:skip"]), *RESCALED[4:]]
    plan = api.analyze(write_notebook(tmp_path / "quiet.ipynb", quiet))
    assert not [d for d in plan.all_diagnostics if d.code == "PRM041"]


def test_a_skipped_baseline_that_draws_after_the_seed_is_a_warning_on_both_cells(tmp_path):
    """dev02's class: a skipped baseline model draws initial weights, so the promoted model's differ."""
    cells = [
        "import numpy as np\nimport torch\nimport torch.nn as nn",
        ("torch.manual_seed(0)\nn = 8", ["parameters"]),
        ("X = torch.ones(n, 2)", ["promote:data"]),
        ("baseline = nn.Linear(2, 1)\nnoise = np.random.rand(3)", ["promote:skip"]),
        ("class Net(nn.Module):\n    pass\n\nmodel = Net()", ["promote:model"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "baseline.ipynb", cells))
    found = {(d.cell_index, d.line) for d in plan.all_diagnostics if d.code == "PRM043"}
    assert found == {(3, 1), (4, 4)}  # the baseline's first draw; the promoted cell's draw (constructing a Module)
    # Seeding again after the baseline aligns the two streams: nothing to say.
    reseeded = [*cells[:4], ("torch.manual_seed(1)\nmodel = nn.Linear(2, 1)", ["promote:model"])]
    plan = api.analyze(write_notebook(tmp_path / "reseeded.ipynb", reseeded))
    assert not [d for d in plan.all_diagnostics if d.code == "PRM043"]


def test_peeking_at_a_batch_in_a_skipped_cell_draws_too(tmp_path):
    """dev03's class: `next(iter(train_loader))` to plot a batch; each DataLoader iterator draws a base seed."""
    cells = [
        "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
        ("torch.manual_seed(0)", ["parameters"]),
        ("loader = DataLoader(TensorDataset(torch.ones(4, 2)), batch_size=2)", ["promote:data"]),
        ("images = next(iter(loader))\nprint(images)", ["promote:skip"]),
        ("model = nn.Linear(2, 1)", ["promote:model"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "peek.ipynb", cells))
    assert {(d.cell_index, d.line) for d in plan.all_diagnostics if d.code == "PRM043"} == {(3, 1), (4, 1)}


def test_metrics_are_read_where_the_evaluate_step_ends_not_after_later_skipped_cells(tmp_path):
    """wild10's class: a skipped second experiment further down rebinds `mean`; the package's `mean` is the first."""
    cells = [*PLAIN, ("mean = -1.0\nprint('another experiment', mean)", ["promote:skip"])]
    notebook = write_notebook(tmp_path / "later.ipynb", cells)
    verification = api.verify(notebook, tmp_path / "out", commit=False)
    assert verification.ok, verification.to_json()


def test_a_bare_trainer_test_statement_is_read_back_from_the_notebook_too(tmp_path):
    """wild01's class: `trainer.test(model, loader)` binds nothing in the notebook (its value is only displayed,
    or discarded when another statement follows); the package records it, so the notebook run must keep it too."""
    cells = [*TINY_LIGHTNING[:-1], ("trainer.test(model, loader)\nprint('tested')", ["promote:evaluate"])]
    notebook = write_notebook(tmp_path / "bare.ipynb", cells)
    verification = api.verify(notebook, tmp_path / "out", commit=False)
    assert verification.ok, verification.to_json()
    assert [m["name"] for m in verification.to_json()["metrics"]] == ["test_acc"]


def test_a_difference_from_skipped_random_draws_is_proven_by_undoing_them(tmp_path):
    """dev02/03, wild02/05/06/07: a skipped cell draws after the seed. The notebook is run once more with the random
    state put back after that cell: equal then, the difference is those draws; a real change still differs."""
    drawing = [*PLAIN[:2], ("print(random.random())", ["promote:skip"]), *PLAIN[2:]]
    verification = api.verify(write_notebook(tmp_path / "draws.ipynb", drawing), tmp_path / "out", commit=False)
    result = verification.to_json()
    assert not verification.ok and result["aligned"] == {"cells": [2], "differing": []}
    assert "the difference is those cells' random draws" in result["message"]
    changing = [*drawing[:3], ("values = [1.0] * n", ["promote:skip"])]  # after the data cell: a real change
    changing.insert(3, PLAIN[2])
    changing.append(PLAIN[3])
    verification = api.verify(write_notebook(tmp_path / "changes.ipynb", changing), tmp_path / "out2", commit=False)
    result = verification.to_json()
    assert not verification.ok and result["aligned"]["differing"] == ["mean", "largest"]

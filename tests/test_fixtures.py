"""Our own fixture notebooks, end to end: every feature the corpus exercises, on a fresh clone without ../shared.

tests/fixtures holds four small notebooks written for these tests (see make_fixtures.py): pulled-in untagged
definitions (PRM003), a canonical epoch loop (→ LitModel), Kale's tags, and IPython magics.
"""

from __future__ import annotations

import shutil
import tomllib

import pytest

from jupyterlab_promote import api

from .helpers import FIXTURES, lint_problems, metrics_of, run_in_project


def codes(plan, code: str):
    return [d for d in plan.all_diagnostics if d.code == code]


def promote_copy(name: str, tmp_path):
    """Promote a copy (promotion records the notebook's path relative to the project)."""
    notebook = shutil.copy(FIXTURES / name, tmp_path / name)
    result = api.promote(notebook, tmp_path / "project")
    assert result.ok and result.commit, result.message
    assert lint_problems(result.output) == []
    return result


def run_pipeline(result) -> dict:
    run = run_in_project(result.output, "-m", result.plan.package, "run", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return metrics_of(result.output)


def test_untagged_definitions_are_reported_on_both_cells_and_pulled_in(tmp_path, git_identity):
    plan = api.analyze(FIXTURES / "hints.ipynb")
    found = {d.message.split("'")[1]: d for d in codes(plan, "PRM003")}
    assert set(found) == {"device", "make_points"}
    # Reported on the cell that uses the name, naming the untagged cell that defines it (the panel's one-click fix).
    assert (found["device"].cell_index, found["make_points"].cell_index) == (4, 4)
    assert "untagged cell 2 (id cell-2)" in found["device"].message
    assert "untagged cell 3 (id cell-3)" in found["make_points"].message
    assert found["device"].suggestion and found["device"].related_cells, "the panel offers a one-click fix"
    assert not api.analyze(FIXTURES / "hints.ipynb", strict=True).ok, "--strict makes a pull-in an error"

    result = promote_copy("hints.ipynb", tmp_path)
    source = (result.output / "src" / "hints" / "pipeline.py").read_text() + (
        result.output / "src" / "hints" / "data.py"
    ).read_text()
    assert "def make_points(n):" in source and "device = torch.device(" in source
    assert 0.0 <= run_pipeline(result)["acc"] <= 1.0


def test_canonical_epoch_loop_becomes_a_lightning_module_and_trains(tmp_path, git_identity):
    result = promote_copy("epoch_loop.ipynb", tmp_path)
    assert [d.code for d in result.diagnostics if d.code in {"PRM014", "PRM022"}] == ["PRM022"]
    model = (result.output / "src" / "epoch_loop" / "model.py").read_text()
    assert "class LitModel(pl.LightningModule)" in model
    for part in ("def training_step", "def validation_step", "def configure_optimizers", "ReduceLROnPlateau"):
        assert part in model, part
    assert "gradient_clip_val" in (result.output / "src" / "epoch_loop" / "pipeline.py").read_text()

    tests = run_in_project(result.output, "-m", "pytest", "-q", "-p", "no:cacheprovider", timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    first = run_pipeline(result)
    assert 0.0 <= first["val_acc"] <= 1.0
    assert run_pipeline(result) == first, "the promoted pipeline is deterministic"
    again = api.promote(tmp_path / "epoch_loop.ipynb", result.output)
    assert again.commit == result.commit and "up to date" in again.message


def test_kale_tags_promote_without_retagging(tmp_path, git_identity):
    plan = api.analyze(FIXTURES / "kale_tags.ipynb")
    assert [step.name for step in plan.steps] == ["load", "fit", "evaluate"]
    assert (plan.step("load").params, plan.step("fit").params) == (["seed", "n_rows"], ["C"])
    result = promote_copy("kale_tags.ipynb", tmp_path)
    generated = "".join(p.read_text() for p in (result.output / "src").rglob("*.py"))
    assert "print(X[:3])" not in generated, "the skip cell is left out"
    assert "def split(X, y):" in generated
    assert run_pipeline(result)["accuracy"] > 0.9


def test_magics_become_dependencies_subprocess_calls_or_are_dropped(tmp_path, git_identity):
    plan = api.analyze(FIXTURES / "magics.ipynb")
    messages = {d.code: d.message for d in plan.all_diagnostics}
    assert "scikit-learn" in messages["PRM021"]
    assert "%%time" in " ".join(d.message for d in codes(plan, "PRM020"))
    assert "%matplotlib" in " ".join(d.message for d in codes(plan, "PRM020"))
    assert "echo preparing data" in messages["PRM009"]

    result = promote_copy("magics.ipynb", tmp_path)
    dependencies = tomllib.loads((result.output / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("scikit-learn") for d in dependencies), dependencies
    pipeline = (result.output / "src" / "magics" / "pipeline.py").read_text()
    assert "subprocess.run(" in pipeline
    assert not any(line.lstrip().startswith("%") for line in pipeline.splitlines()), "no magic left in the code"
    assert run_pipeline(result)["r2"] == pytest.approx(1.0)

"""MLOps level 1 in promoted projects (issue 8): search space, stages, dvc.yaml, and the stages run for real."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jupyterlab_promote import api
from jupyterlab_promote.codegen import generate
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import TINY_TORCH, lint_problems, run_in_project, write_notebook

DEMO = Path(__file__).parent.parent / "examples" / "demo.ipynb"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _tiny(tmp_path: Path, parameters: str) -> Path:
    cells = list(TINY_TORCH)
    cells[1] = (parameters, ["parameters"])
    return write_notebook(tmp_path / "tiny.ipynb", cells)


def test_search_space_comes_from_tune_comments_and_bad_ones_are_warnings(tmp_path):
    notebook = _tiny(
        tmp_path,
        "epochs = 2  # tune: int(1, 3)\nbatch_size = 16  # tune: choice(8, 16)\n"
        "lr = 0.1  # tune: loguniform(0, 1)\ntorch.manual_seed(0)",
    )
    preview = api.preview(notebook, tmp_path / "out")
    reply = preview.to_json()
    assert reply["search_space"] == {"epochs": "int(1, 3)", "batch_size": "choice(8, 16)"}
    warnings = [d for d in preview.plan.all_diagnostics if d.code == "PRM027"]
    assert len(warnings) == 1 and "lr is not tuned" in warnings[0].message and warnings[0].line == 3
    assert [s["name"] for s in reply["stages"]] == [
        "data",
        "model",
        "tune",
        "train",
        "evaluate",
        "final",
        "register",
        "export",
    ]


def test_dvc_yaml_gives_each_stage_its_own_code_inputs_and_config_keys():
    plan = build_plan(read_notebook(DEMO))
    project = generate(plan)
    stages = yaml.safe_load(project.files["dvc.yaml"])["stages"]
    params = {name: stage.get("params", [{}])[0].get("config.yaml", []) for name, stage in stages.items()}
    assert "lr" in params["train"] and "lr" not in params["tune"]  # tune searches lr: the notebook's value is not read
    assert params["register"] == ["direction", "primary_metric"]
    assert stages["tune"]["outs"] == [{"artifacts/tuning": {"persist": True}}]  # the Optuna study resumes
    evaluate = stages["evaluate"]["deps"]
    assert "artifacts/code/evaluate.sha256" in evaluate and "src/demo/pipeline.py" not in evaluate
    assert "artifacts/train" in evaluate and "artifacts/code/train.sha256" not in evaluate
    assert stages["code"]["always_changed"] is True
    assert all(stage["cmd"] == f"python -m demo {name}" for name, stage in stages.items() if name != "code")
    config = yaml.safe_load(project.files["config.yaml"])
    assert (config["primary_metric"], config["direction"]) == ("test_acc", "max")
    assert all(key in config for keys in params.values() for key in keys)  # DVC fails on a missing param


def test_cli_lists_the_stages_with_the_keys_each_reads(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "jupyterlab_promote.app", str(DEMO), "--output", str(tmp_path / "out"), "--dry-run"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "  train            reads epochs, lr, seed" in done.stdout
    assert "  tune lr: loguniform(0.001, 0.1)" in done.stdout


def test_each_stage_runs_alone_from_the_saved_outputs(tmp_path, git_identity):
    notebook = _tiny(
        tmp_path, "epochs = 2\nbatch_size = 16\nlr = 0.1  # tune: loguniform(0.01, 0.5)\ntorch.manual_seed(0)"
    )
    output = tmp_path / "out"
    assert api.promote(notebook, output).ok
    assert lint_problems(output) == []
    for stage in ("data", "model", "train", "evaluate"):
        done = run_in_project(output, "-m", "tiny", stage, "--accelerator", "cpu")
        assert done.returncode == 0, done.stderr[-2000:]
        assert "rebuilding" not in done.stdout  # every input came from the earlier stage's folder
    artifacts = output / "artifacts"
    assert {p.name for p in (artifacts / "train").iterdir()} >= {"model.pt", "unsaved.txt"}
    assert 0.0 <= json.loads((artifacts / "evaluate" / "metrics.json").read_text())["acc"] <= 1.0
    shutil.rmtree(artifacts / "model")  # a missing hand-off is rebuilt, not a traceback
    done = run_in_project(output, "-m", "tiny", "evaluate", "--accelerator", "cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    done = run_in_project(output, "-m", "tiny", "tune", "--trials", "2", "--accelerator", "cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    best = yaml.safe_load((artifacts / "tuning" / "best_params.yaml").read_text())
    assert best["trials"] == 2 and 0.01 <= best["params"]["lr"] <= 0.5
    generated = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stages.py")
    assert generated.returncode == 0, generated.stdout[-3000:]


def _ran_stages(log: str) -> list[str]:
    return [line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage '")]


@pytest.mark.slow
def test_dvc_reruns_only_what_changed_and_leaves_a_loadable_champion(tmp_path, git_identity):
    """The demo end to end through `python -m demo run` (dvc repro), at a small size."""
    output = tmp_path / "demo"
    assert api.promote(DEMO, output).ok
    config = output / "config.yaml"
    text = config.read_text().replace("epochs: 20", "epochs: 2").replace("n_samples: 2000", "n_samples: 400")
    config.write_text(text.replace("trials: 20", "trials: 2"))
    git(output, "commit", "-qam", "small")
    assert run_in_project(output, "-m", "dvc", "init", "-q", "--no-scm").returncode == 0  # the user's opt-in

    first = run_in_project(output, "-m", "demo", "run", timeout=1200)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert _ran_stages(first.stdout)[1:] == [
        "data",
        "model",
        "tune",
        "train",
        "evaluate",
        "notebook-export",
        "final",
        "register",
        "export",
    ]
    probe = (
        "import mlflow, mlflow.pytorch, sys; from pathlib import Path; sys.path.insert(0, 'src');"
        "from demo.stages import load_value; mlflow.set_tracking_uri('sqlite:///mlflow.db');"
        "model = mlflow.pytorch.load_model('models:/demo@champion');"
        "x, y = next(iter(load_value(Path('artifacts/data/train_loader.pt'))));"
        "print((model(x).argmax(1) == y).float().mean().item())"
    )
    loaded = run_in_project(output, "-c", probe)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert 0.5 < float(loaded.stdout.split()[-1]) <= 1.0  # a trained champion, not chance

    again = run_in_project(output, "-m", "demo", "run")
    assert _ran_stages(again.stdout) == ["code"]  # the fingerprints only: parsing, no stage

    pipeline = output / "src" / "demo" / "pipeline.py"
    pipeline.write_text(
        pipeline.read_text().replace("    test_acc = correct", '    print("evaluating")\n    test_acc = correct')
    )
    edited = run_in_project(output, "-m", "demo", "run")
    assert set(_ran_stages(edited.stdout)) - {"code", "register"} == {"evaluate"}

    config.write_text(config.read_text().replace("lr: 0.01", "lr: 0.02"))
    changed = run_in_project(output, "-m", "demo", "run")
    ran = _ran_stages(changed.stdout)
    assert ran[1] == "train" and not {"data", "model", "tune"} & set(ran)  # tune searches lr: it does not read it


def test_a_handoff_that_cannot_be_saved_is_named_at_promotion_and_rebuilt_when_a_stage_runs_alone(tmp_path):
    """A lambda is saved by value; an open file cannot be saved: named at promotion, rebuilt at run time."""
    cells = list(TINY_TORCH)
    source, tags = cells[2]
    lam = "batch_size=batch_size, collate_fn=lambda b: tuple(torch.utils.data.default_collate(b)))"
    cells[2] = (source.replace("batch_size=batch_size)", lam) + "\nlog = open('train.log', 'w')", tags)
    cells[4] = (cells[4][0] + "\nlog.write('trained')", cells[4][1])
    notebook = write_notebook(tmp_path / "tiny.ipynb", cells)
    output = tmp_path / "out"
    result = api.promote(notebook, output, commit=False)
    assert result.ok
    found = [d for d in result.diagnostics if d.code == "PRM042"]
    assert [(d.cell_index, d.line, d.severity.value) for d in found] == [(2, 4, "info")]
    assert "'log' is an open file" in found[0].message and "'train'" in found[0].message
    for stage in ("data", "model", "train"):
        done = run_in_project(output, "-m", "tiny", stage, "--accelerator", "cpu")
        assert done.returncode == 0, done.stderr[-2000:]
    assert (output / "artifacts" / "data" / "unsaved.txt").read_text().startswith("log:")
    assert "log not saved" in done.stdout and "loader not saved" not in done.stdout


FABRIC_MEASURING_TRAIN = [
    "import torch\nfrom torch import nn",
    ("epochs = 3\nlr = 0.1", ["parameters"]),
    (
        "torch.manual_seed(0)\nX = torch.randn(128, 4)\ny = (X.sum(1) > 0).long()\n"
        "loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16, shuffle=True)",
        ["promote:data"],
    ),
    (
        "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()",
        ["promote:model"],
    ),
    (
        "def fit(n):\n    for _ in range(n):\n        for xb, yb in loader:\n            optimizer.zero_grad()\n"
        "            loss = loss_fn(model(xb), yb)\n            loss.backward()\n            optimizer.step()\n"
        "    return loss.item()",
        ["promote:train"],
    ),
    (
        "def measure():\n    with torch.no_grad():\n        return (model(X).argmax(1) == y).float().mean().item()",
        ["promote:evaluate"],
    ),
    ("train_loss = fit(epochs)\nacc = measure()", ["promote:train"]),
]


@pytest.mark.slow
def test_a_stage_run_alone_trains_like_the_whole_run_and_the_final_fit_keeps_the_estimate(tmp_path):
    """Two classes found on wild11 (a Fabric loop in a function, the test loss measured inside the train cell):
    an optimizer rebuilt in memory must step the model built with it (not a model loaded from disk, which then
    never learned), and the final refit's own measurements must not replace the estimate register logs."""
    notebook = write_notebook(tmp_path / "measured.ipynb", FABRIC_MEASURING_TRAIN)
    output = tmp_path / "out"
    assert api.promote(notebook, output, commit=False).ok
    whole = run_in_project(output, "-m", "measured", "run", "--accelerator", "cpu")
    assert whole.returncode == 0, whole.stderr[-2000:]
    artifacts = output / "artifacts"
    estimate = json.loads((artifacts / "metrics.json").read_text())
    assert estimate == json.loads((artifacts / "train" / "metrics.json").read_text())
    assert set(json.loads((artifacts / "final" / "metrics.json").read_text())) == set(estimate)  # beside, not over
    shutil.rmtree(artifacts)
    for stage in ("data", "model", "train"):  # one process each, as `dvc repro` runs them
        done = run_in_project(output, "-m", "measured", stage, "--accelerator", "cpu")
        assert done.returncode == 0, done.stderr[-2000:]
    assert "optimizer not saved" in done.stdout
    assert json.loads((artifacts / "metrics.json").read_text()) == estimate


@pytest.mark.parametrize(
    ("made", "tuned"),
    [("train_dl = loader", True), ("train_dl = DataLoader(TensorDataset(X, y), batch_size=batch_size)", False)],
    ids=["an-alias-of-a-handed-loader", "a-loader-the-train-cell-makes"],
)
def test_tune_and_the_final_fit_hand_the_train_step_loaders_it_reads(tmp_path, made, tuned):
    """The mapped loop reading ``train_dl`` that its own cell makes: tune and the final refit looked for
    ``train_dl`` among the earlier steps' outputs (StopIteration: ``run`` died in the final stage after exit 0). An
    alias of a loader an earlier step hands over is that loader; a loader the cell makes is the cell's to make, so
    there is nothing to hold out of: tune says so and final refits on the training data."""
    cells = list(TINY_TORCH)
    cells[1] = (
        "epochs = 1\nbatch_size = 16\nlr = 0.1  # tune: loguniform(0.01, 0.5)\ntorch.manual_seed(0)",
        ["parameters"],
    )
    cells[4] = (made + "\n" + cells[4][0].replace("in loader:", "in train_dl:"), ["promote:train"])
    output = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "tiny.ipynb", cells), output, commit=False).ok
    tuning = (output / "src" / "tiny" / "tuning.py").read_text()
    assert ('TRAIN_LOADER = "loader"' in tuning) is tuned
    tune = run_in_project(output, "-m", "tiny", "tune", "--trials", "2")
    assert tune.returncode == 0, tune.stderr[-2000:]
    assert ("best validation loss" in tune.stdout) is tuned, tune.stdout
    final = run_in_project(output, "-m", "tiny", "final")
    assert final.returncode == 0, final.stderr[-2000:]


def test_a_loop_kept_on_fabric_is_tuned_on_held_out_training_data_never_the_test_data(tmp_path):
    # Most real notebooks keep their own loop (train(loader, model, ...) per epoch): tune used to be a no-op there.
    cells = [
        "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
        ("epochs = 2\nlr = 0.1  # tune: loguniform(0.01, 0.5)\ntorch.manual_seed(0)", ["parameters"]),
        (
            "X = torch.randn(96, 4)\ny = (X[:, 0] > 0).long()\n"
            "train_loader = DataLoader(TensorDataset(X[:64], y[:64]), batch_size=16, shuffle=True)\n"
            "test_loader = DataLoader(TensorDataset(X[64:], y[64:]), batch_size=16)",
            ["promote:data"],
        ),
        ("model = nn.Linear(4, 2)", ["promote:model"]),
        (
            "def fit_epoch(loader, model, optimizer):\n    for xb, yb in loader:\n        optimizer.zero_grad()\n"
            "        nn.functional.cross_entropy(model(xb), yb).backward()\n        optimizer.step()\n\n"
            "def accuracy(loader, model):\n    with torch.no_grad():\n"
            "        hits = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in loader)\n"
            "    return hits / len(loader.dataset)\n\n"
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nfor epoch in range(epochs):\n"
            "    fit_epoch(train_loader, model, optimizer)\n    print(epoch, accuracy(test_loader, model))",
            ["promote:train"],
        ),
        ("test_acc = accuracy(test_loader, model)", ["promote:evaluate"]),
    ]
    notebook = write_notebook(tmp_path / "kept.ipynb", cells)
    output = tmp_path / "out"
    result = api.promote(notebook, output, commit=False)
    assert result.ok and any(d.code == "PRM014" for d in result.diagnostics)  # the loop stays on Fabric
    assert lint_problems(output) == []
    tuning = (output / "src" / "kept" / "tuning.py").read_text()
    assert 'TRAIN_LOADER = "train_loader"' in tuning
    assert '"evaluate": ("test_loader",)' in tuning  # replaced by the held-out part in every trial
    for stage in ("data", "model", "train", "evaluate"):
        done = run_in_project(output, "-m", "kept", stage, "--accelerator", "cpu")
        assert done.returncode == 0, done.stderr[-2000:]
    estimate = json.loads((output / "artifacts" / "evaluate" / "metrics.json").read_text())
    done = run_in_project(output, "-m", "kept", "tune", "--trials", "3", "--accelerator", "cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "best held-out test_acc" in done.stdout
    best = yaml.safe_load((output / "artifacts" / "tuning" / "best_params.yaml").read_text())
    assert best["trials"] == 3 and 0.01 <= best["params"]["lr"] <= 0.5 and 0.0 <= best["value"] <= 1.0
    # trials measure into the tuning folder: the evaluate stage's estimate on the test data is untouched
    assert json.loads((output / "artifacts" / "evaluate" / "metrics.json").read_text()) == estimate
    launched = run_in_project(output, "-m", "kept", "tune", "--trials", "1", env={"WORLD_SIZE": "2"})
    assert launched.returncode == 1 and "run it in one process" in launched.stderr  # one study, not one per rank
    final = run_in_project(output, "-m", "kept", "final", "--accelerator", "cpu")
    assert final.returncode == 0 and str(best["params"]["lr"])[:6] in final.stdout, final.stdout[-2000:]
    generated = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stages.py")
    assert generated.returncode == 0, generated.stdout[-3000:]
    assert "assert best[" in (output / "tests" / "test_stages.py").read_text()  # the tune test runs 2 trials


def test_a_step_named_like_a_word_of_the_command_line_keeps_a_stage_of_its_own(tmp_path, git_identity):
    """`step:run` would be shadowed by `python -m PKG run` (DVC would run the pipeline from inside it), `step:serve`
    by the serve operation: each runs as `notebook-NAME`, alone."""
    from jupyterlab_promote.codegen.mlops import CLI_WORDS

    words = ("run", "serve", "predict", "drift", "tune")
    cells = [*TINY_TORCH, *((f"scored_{word} = acc + 1", [f"step:{word}"]) for word in words)]
    notebook = write_notebook(tmp_path / "tiny.ipynb", cells)
    output = tmp_path / "out"
    assert api.promote(notebook, output).ok
    stages = yaml.safe_load((output / "dvc.yaml").read_text())["stages"]
    assert all(stages[f"notebook-{word}"]["cmd"] == f"python -m tiny notebook-{word}" for word in words)
    assert not set(words[:4]) & set(stages)
    main = ast.parse((output / "src" / "tiny" / "__main__.py").read_text())
    [operations] = [n.value for n in main.body if isinstance(n, ast.Assign) and n.targets[0].id == "OPERATIONS"]
    assert set(ast.literal_eval(operations)) == {"predict", "serve", "drift"} < set(CLI_WORDS)
    done = run_in_project(output, "-m", "tiny", "notebook-run", "--accelerator", "cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Running stage" not in done.stdout and not (output / "artifacts" / "final").exists()  # the step alone

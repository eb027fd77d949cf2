"""Classes of defects where a promotion exited 0 but the package did not do what the notebook did.

Each test is a notebook of our own that reproduces one class, promoted, linted and run for real.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from jupyterlab_promote import api

from .helpers import (
    FIXTURES,
    TINY_LIGHTNING,
    TINY_TORCH,
    comment_wrapped_statements,
    lint_problems,
    metrics_of,
    run_in_project,
    write_notebook,
)

IMPORTS = "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset"
PARAMETERS = ("epochs = 2\nlr = 0.1\ntorch.manual_seed(0)", ["parameters"])


def _promote_and_run(tmp_path, cells, name="nb"):
    notebook = write_notebook(tmp_path / f"{name}.ipynb", cells)
    result = api.promote(notebook, tmp_path / "project", commit=False)
    assert result.ok, [d.format() for d in result.diagnostics]
    project = tmp_path / "project"
    assert lint_problems(project) == []
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout[-3000:]
    run = run_in_project(project, "-m", result.plan.package, "run")
    assert run.returncode == 0, run.stderr[-3000:]
    return result, project


def test_generated_names_give_way_to_the_notebooks_own(tmp_path):
    cells = [
        IMPORTS + "\nfrom dataclasses import dataclass",
        PARAMETERS,
        (
            "@dataclass\nclass Config:\n    batch_size: int = 16\n\n"
            "STEPS = 3\nmetrics = {}\n\ndef run(x):\n    return x",
            ["promote:data"],
        ),
        (
            "X = torch.randn(64, 3)\ny = (X.sum(1) > 0).long()\n"
            "loader = DataLoader(TensorDataset(X, y), batch_size=Config().batch_size)",
            ["promote:data"],
        ),
        ("model = nn.Linear(3, 2)", ["promote:model"]),
        (
            "def train_step(model, dataloader, optimizer, loss_fn):\n"
            "    for xb, yb in dataloader:\n        optimizer.zero_grad()\n"
            "        loss = loss_fn(model(xb), yb)\n        loss.backward()\n        optimizer.step()\n"
            "    return loss.item()\n\n"
            "def test_step(model, X, y):\n    with torch.no_grad():\n"
            "        return (model(X).argmax(1) == y).float().mean().item()",
            ["promote:train"],
        ),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()\n"
            "for epoch in range(run(epochs)):\n"
            "    last = train_step(model=model, dataloader=loader, optimizer=optimizer, loss_fn=loss_fn)",
            ["promote:train"],
        ),
        ("acc = test_step(model, X, y)\nmetrics['acc'] = acc", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    names = result.plan.names
    assert (names.config, names.run, names.steps, names.step_suffix, names.metrics) == (
        "PipelineConfig",
        "run_pipeline",
        "PIPELINE_STEPS",
        "_stage",
        "step_metrics",
    )
    pipeline = (project / "src" / "nb" / "pipeline.py").read_text()
    assert "def train_step(model, dataloader, optimizer, loss_fn):" in pipeline  # the notebook's, untouched
    assert "def train_stage(" in pipeline
    assert 0.0 <= metrics_of(project)["acc"] <= 1.0


def test_the_runtime_s_functions_give_way_to_the_notebooks_own(tmp_path):
    """A notebook's own ``save_metrics``, ``build_trainer`` or ``prepare_artifacts`` (helpers people write) met the
    runtime's functions of those names in the pipeline module: the step called the notebook's (TypeError, exit 0
    before), or a non-torch package imported a ``build_trainer`` its runtime has not (ImportError)."""
    cells = list(TINY_TORCH)
    cells.insert(
        2,
        (
            "def save_metrics(values):\n    return dict(values)\n\n\n"
            "def build_trainer(n):\n    return n\n\n\nprepare_artifacts = 'mine'",
            ["promote:functions"],
        ),
    )
    evaluate, tags = cells[-1]
    cells[-1] = (evaluate + "\nreport = save_metrics({'acc': acc})\nwidth = build_trainer(2)", tags)
    result, project = _promote_and_run(tmp_path, cells, name="own")
    assert result.plan.names.runtime == {
        "build_trainer": "runtime_build_trainer",
        "prepare_artifacts": "runtime_prepare_artifacts",
        "save_metrics": "runtime_save_metrics",
    }
    pipeline = (project / "src" / "own" / "pipeline.py").read_text()
    assert (
        "runtime_build_trainer(cfg, max_epochs=epochs)" in pipeline
        and "save_metrics as runtime_save_metrics" in pipeline
    )
    assert 0.0 <= metrics_of(project)["acc"] <= 1.0


def test_bare_trainer_test_results_become_metrics(tmp_path):
    cells = TINY_LIGHTNING
    _, project = _promote_and_run(tmp_path, cells)
    assert 0.0 <= metrics_of(project)["test_acc"] <= 1.0


def test_steps_follow_the_notebooks_data_flow_not_the_role_order(tmp_path):
    cells = [
        IMPORTS,
        PARAMETERS,
        ("vocabulary = {'a': 0, 'b': 1, 'c': 2}", ["promote:preprocess"]),
        (
            "X = torch.nn.functional.one_hot(torch.tensor([vocabulary[c] for c in 'abcabcab' * 8])).float()\n"
            "y = (X[:, 0] > 0).long()",
            ["promote:data"],
        ),
        ("X = X * 2.0", ["promote:preprocess"]),
        ("model = nn.Linear(3, 2)", ["promote:model"]),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "for epoch in range(epochs):\n    optimizer.zero_grad()\n"
            "    loss = nn.functional.cross_entropy(model(X), y)\n    loss.backward()\n    optimizer.step()",
            ["promote:train"],
        ),
        ("PATH = 'weights.pt'\ntorch.save(model.state_dict(), PATH)", ["promote:export"]),
        (
            "model.load_state_dict(torch.load(PATH))\n"
            "with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()",
            ["promote:evaluate"],
        ),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    order = [s.name for s in result.plan.steps]
    assert order == ["data_preprocess", "model", "train", "export", "evaluate"]
    assert any(d.code == "PRM026" for d in result.diagnostics)
    assert "acc" in metrics_of(project)


def test_main_guard_runs_its_body_and_loop_values_are_metrics(tmp_path):
    cells = [
        IMPORTS,
        PARAMETERS,
        ("X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()", ["promote:data"]),
        ("model = nn.Linear(3, 2)", ["promote:model"]),
        (
            "def fit(model):\n    optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "    for epoch in range(epochs):\n        optimizer.zero_grad()\n"
            "        loss = nn.functional.cross_entropy(model(X), y)\n        loss.backward()\n"
            "        optimizer.step()\n    return loss.item()\n\n"
            "if __name__ == '__main__':\n    for repeat in range(2):\n        last_loss = fit(model)",
            ["promote:train"],
        ),
        ("final_loss = last_loss\nunused = [1, 2]\nsquare = lambda v: v * v", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    assert any(d.code == "PRM025" for d in result.diagnostics)
    assert metrics_of(project)["final_loss"] > 0


def test_promotion_is_byte_identical_wherever_it_runs(tmp_path):
    cells = [IMPORTS, PARAMETERS, ("X = torch.randn(8, 3) * missing_scale", ["promote:data"])]
    write_notebook(tmp_path / "a" / "nb.ipynb", cells)
    spellings = [(tmp_path, "a/nb.ipynb"), (tmp_path / "a", str(tmp_path / "a" / ".." / "a" / "nb.ipynb"))]
    generated = []
    previous = os.getcwd()
    for cwd, spelled in spellings:
        os.chdir(cwd)
        try:
            plan = api.analyze(spelled)
            generated.append(api._generate(plan, tmp_path / "out").files)
        finally:
            os.chdir(previous)
    assert generated[0] == generated[1]
    assert (
        'missing_scale = Undefined("missing_scale", "nb.ipynb, cell 2, line 1")' in generated[0]["src/nb/pipeline.py"]
    )


def test_imports_sort_alike_beside_folders_named_like_the_libraries(tmp_path, monkeypatch):
    """Sorting looked for each imported name where the user stood: beside a folder ``torch`` (a campaign's output
    folder), ``import torch`` became first-party, a section of its own, and ruff's I001 failed the project. A ruff
    configuration there must change nothing either."""
    from jupyterlab_promote.codegen import render

    cells = [IMPORTS + "\nimport numpy as np", PARAMETERS, ("X = torch.randn(8, 3) * np.pi", ["promote:data"])]
    notebook = write_notebook(tmp_path / "nb.ipynb", cells)
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")  # no disk cache: each run formats anew
    generated = []
    for folder, names in (("plain", []), ("crowded", ["torch", "numpy", "lightning_fabric", "nb"])):
        for name in names:
            (tmp_path / folder / name).mkdir(parents=True)
        (tmp_path / folder).mkdir(exist_ok=True)
        if names:  # a configuration that would sort otherwise (isort's force-sort-within-sections, a shorter line)
            (tmp_path / folder / "ruff.toml").write_text(
                "line-length = 40\n[lint.isort]\nforce-sort-within-sections = true\n"
            )
        monkeypatch.chdir(tmp_path / folder)
        render.forget_formatted()
        generated.append(api._generate(api.analyze(notebook), tmp_path / "out").files)
    assert generated[0] == generated[1]
    assert "import numpy as np\nimport torch\nfrom lightning_fabric import" in generated[0]["src/nb/pipeline.py"]


def test_relative_writes_land_in_artifacts_and_reads_next_to_the_notebook(tmp_path):
    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    (notebook_dir / "inputs.csv").write_text("a,b\n" + "\n".join(f"{i},{i % 2}" for i in range(40)) + "\n")
    cells = [
        IMPORTS + "\nimport os\nimport numpy as np\nfrom pathlib import Path",
        PARAMETERS,
        (
            "table = np.loadtxt('inputs.csv', delimiter=',', skiprows=1)\n"
            "X = torch.tensor(table[:, :1], dtype=torch.float32)\ny = torch.tensor(table[:, 1]).long()\n"
            "os.makedirs('cache/tables', exist_ok=True)\nnp.save('cache/tables/x.npy', table)",
            ["promote:data"],
        ),
        ("model = nn.Linear(1, 2)", ["promote:model"]),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "for epoch in range(epochs):\n    optimizer.zero_grad()\n"
            "    loss = nn.functional.cross_entropy(model(X), y)\n    loss.backward()\n    optimizer.step()",
            ["promote:train"],
        ),
        (
            "out = Path('exported')\nout.mkdir(exist_ok=True)\ntorch.save(model.state_dict(), out / 'weights.pt')\n"
            "with open(f'exported/notes_{epochs}.txt', 'w') as handle:\n    handle.write('trained')",
            ["promote:export"],
        ),
        (
            "model.load_state_dict(torch.load(Path('exported', 'weights.pt')))\n"
            "reloaded = np.load('cache/tables/x.npy')\n"
            "with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()\n"
            "rows = float(len(reloaded))",
            ["promote:evaluate"],
        ),
    ]
    notebook = write_notebook(notebook_dir / "nb.ipynb", cells)
    project = tmp_path / "project"
    result = api.promote(notebook, project, commit=False)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert lint_problems(project) == []
    pipeline = (project / "src" / "nb" / "pipeline.py").read_text()
    assert 'np.loadtxt(f"{cfg.notebook_dir}/inputs.csv"' in pipeline
    assert 'Path(f"{cfg.artifacts_dir}/exported")' in pipeline
    assert 'f"{cfg.artifacts_dir}/exported/notes_{epochs}.txt"' in pipeline
    assert 'notebook_dir: str = "../notebooks"' in (project / "src" / "nb" / "config.py").read_text()
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout[-3000:]
    before = sorted(p.name for p in project.iterdir())
    run = run_in_project(project, "-m", "nb", "run")
    assert run.returncode == 0, run.stderr[-3000:]
    # Only artifacts/ (and the model registry, issue 8's documented default) appear beside the project's files.
    assert {p.name for p in project.iterdir()} - set(before) <= {"artifacts", "mlflow.db"}
    artifacts = project / "artifacts"
    assert (artifacts / "exported" / "weights.pt").is_file()
    assert (artifacts / "exported" / "notes_2.txt").is_file()
    assert (artifacts / "cache" / "tables" / "x.npy").is_file()
    assert sorted(p.name for p in notebook_dir.iterdir()) == ["inputs.csv", "nb.ipynb"]
    assert metrics_of(project)["rows"] == 40.0


def test_only_numeric_scalars_become_metrics_and_the_rest_is_named(tmp_path):
    cells = [
        "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import KFold, cross_val_score",
        ("seed = 0", ["parameters"]),
        (
            "rng = np.random.RandomState(seed)\nX = rng.randn(60, 3)\ny = (X[:, 0] > 0).astype(int)",
            ["promote:data"],
        ),
        ("model = LogisticRegression()", ["promote:model"]),
        ("model.fit(X, y)", ["promote:train"]),
        (
            "cv = KFold(n_splits=3)\nscores = cross_val_score(LogisticRegression(), X, y, cv=cv)\n"
            "mean_score = scores.mean()\npreds = model.predict(X)\nsummary = [mean_score, len(preds)]\n"
            "label = f'score {mean_score:.2f}'\naccuracy = float((preds == y).mean())",
            ["promote:evaluate"],
        ),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    assert set(metrics_of(project)) == {"mean_score", "accuracy"}
    (left_out,) = [d for d in result.diagnostics if d.code == "PRM040"]
    for name in ("cv", "scores", "preds", "summary", "label"):
        assert name in left_out.message
    assert left_out.cell_index == 5


def test_evaluation_after_fit_runs_where_the_trainer_trained(tmp_path):
    cells = [
        IMPORTS,
        PARAMETERS,
        (
            "X = torch.randn(64, 3)\ny = (X[:, 0] > 0).long()\n"
            "loader = DataLoader(TensorDataset(X, y), batch_size=16)",
            ["promote:data"],
        ),
        (
            "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\nmodel = nn.Linear(3, 2).to(device)",
            ["promote:model"],
        ),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()\n"
            "for epoch in range(epochs):\n    for xb, yb in loader:\n        xb, yb = xb.to(device), yb.to(device)\n"
            "        optimizer.zero_grad()\n        loss = loss_fn(model(xb), yb)\n        loss.backward()\n"
            "        optimizer.step()",
            ["promote:train"],
        ),
        (
            "correct = 0\nwith torch.no_grad():\n    for xb, yb in loader:\n        xb, yb = xb.to(device), yb.to(device)\n"
            "        correct += (model(xb).argmax(1) == yb).sum().item()\nacc = correct / len(X)",
            ["promote:evaluate"],
        ),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    pipeline = (project / "src" / "nb" / "pipeline.py").read_text()
    train = pipeline[pipeline.index("def train_step") : pipeline.index("def evaluate_step")]
    # The Trainer's device (cuda:N under DDP or on a GPU), not the CPU the model step had to say.
    assert "device = trainer.strategy.root_device\n    model.to(device)" in train
    assert '"device": device' in train
    assert set(metrics_of(project)) == {"correct", "acc"}


DDP_FIT = """
import pytorch_lightning as pl
from torch import nn

from tiny.config import Config
from tiny.data import DataModule
from tiny.model import LitModel
from tiny.pipeline import run

if __name__ == "__main__":  # DDP starts this script again in the second process
    cfg = Config(accelerator="cpu", devices=1)
    model = run(cfg, until="model")["model"]
    trainer = pl.Trainer(
        accelerator="cpu", devices=2, strategy="ddp", max_epochs=1, logger=False, enable_checkpointing=False
    )
    trainer.fit(LitModel(model, nn.CrossEntropyLoss(), lr=0.1), datamodule=DataModule(cfg))
    print(f"fitted on rank {trainer.global_rank} of {trainer.world_size}")
"""


def test_the_datamodule_fits_under_two_process_ddp_as_its_docstring_says(tmp_path):
    from .helpers import TINY_TORCH

    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    project = tmp_path / "project"
    assert api.promote(notebook, project, commit=False).ok
    assert "Trainer().fit(model, datamodule=DataModule(cfg))" in (project / "src" / "tiny" / "data.py").read_text()
    (project / "fit_ddp.py").write_text(DDP_FIT)
    done = run_in_project(project, "fit_ddp.py")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fitted on rank 0 of 2" in done.stdout


def test_a_main_function_returning_the_evaluate_functions_results_gives_the_metrics(tmp_path):
    cells = [
        IMPORTS,
        PARAMETERS,
        ("X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()", ["promote:data"]),
        (
            "def test(model):\n    with torch.no_grad():\n"
            "        return nn.functional.cross_entropy(model(X), y).item(), 0.5",
            ["promote:evaluate"],
        ),
        (
            "def main():\n    model = nn.Linear(3, 2)\n    optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "    for epoch in range(epochs):\n        optimizer.zero_grad()\n"
            "        nn.functional.cross_entropy(model(X), y).backward()\n        optimizer.step()\n"
            "        test_loss, test_acc = test(model)\n    return test_loss, test_acc\n\n"
            "if __name__ == '__main__':\n    final_loss, final_acc = main()",
            ["promote:train"],
        ),
    ]
    _, project = _promote_and_run(tmp_path, cells)
    assert set(metrics_of(project)) == {"final_loss", "final_acc"}


def test_only_lightnings_trainer_gets_a_default_root_dir(tmp_path):
    from jupyterlab_promote.stages.paths import _is_lightning_trainer

    cells = [
        "import pytorch_lightning as pl\nfrom pytorch_lightning import Trainer as LTrainer",
        ("epochs = 1", ["parameters"]),
        (
            "class Trainer:\n    def __init__(self, epochs):\n        self.epochs = epochs\n"
            "own = Trainer(epochs)\na = pl.Trainer(max_epochs=epochs)\nb = LTrainer()",
            ["promote:train"],
        ),
    ]
    plan = api.analyze(write_notebook(tmp_path / "nb.ipynb", cells))
    calls = sorted(ast.unparse(call.func) for call in plan.paths.trainers.values())
    assert calls == ["LTrainer", "pl.Trainer"]
    assert all(_is_lightning_trainer(plan, call) for call in plan.paths.trainers.values())


def test_the_authors_own_lint_is_kept_verbatim_and_marked(tmp_path):
    """Dead stores, lambdas bound to names, ambiguous names, a helper defined twice in place, placeholder-less
    f-strings, comparisons to None, bare excepts: ruff's own findings, each line marked with exactly its rule."""
    cells = [
        "import numpy as np",
        ("n = 4", ["parameters"]),
        (
            "def scale(a):\n    return a\ndef scale(a):\n    return a * 2\n"
            "unused = 1\nsquare = lambda v: v * v\nl = [scale(i) for i in range(n)]\nX = np.array(l)\n"
            "print(f'built');\nif X.max() == None:\n    X = None\ntry:\n    import scipy\nexcept:\n    pass\n"
            # black wraps this one and carried its mark to the statement's last line (gpytorch's PolyaGamma example)
            "cube = lambda value_of_a_long_name: np.power(value_of_a_long_name, 3) + np.zeros_like(value_of_a_long_name)",
            ["promote:data"],
        ),
        ("total = float(square(X).sum())\nprint(total)", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    pipeline = (project / "src" / result.plan.package / "pipeline.py").read_text()
    for rule in ("F811", "E731", "E741", "F541", "E711", "E722"):
        assert f"# noqa: {rule}" in pipeline, rule
    assert "cube = lambda value_of_a_long_name: np.power(  # noqa: E731" in pipeline
    assert metrics_of(project)["total"] == float(sum((2 * i) ** 2 for i in range(4)))


def test_a_file_a_module_level_helper_saves_by_default_is_read_back_where_it_was_written(tmp_path):
    """wild12's class: EarlyStopping(path='checkpoint.pt') saves; the train cell reloads 'checkpoint.pt'."""
    cells = [
        IMPORTS,
        PARAMETERS,
        ("X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()", ["promote:data"]),
        (
            "class Keeper:\n    def __init__(self, path='best.pt'):\n        self.path = path\n\n"
            "    def __call__(self, model):\n        torch.save(model.state_dict(), self.path)\n\n"
            "model = nn.Linear(3, 2)\nkeeper = Keeper()\nkeeper(model)\nmodel.load_state_dict(torch.load('best.pt'))",
            ["promote:train"],
        ),
        ("acc = (model(X).argmax(1) == y).float().mean().item()", ["promote:evaluate"]),
    ]
    _, project = _promote_and_run(tmp_path, cells)
    assert 0.0 <= metrics_of(project)["acc"] <= 1.0


def test_paths_written_through_the_notebooks_own_helper_land_in_artifacts(tmp_path):
    """wild11: ``save_image(grid, 'results/sample_' + str(epoch) + '.png')`` where ``save_image`` is a helper of the
    notebook's that ends in ``plt.imsave(fp, …)``; and the helper is called from a function another cell defines."""
    cells = [
        IMPORTS + "\nimport os\nimport numpy as np",
        PARAMETERS,
        (
            "def save_grid(values, fp):\n    os.makedirs(os.path.dirname(fp) or '.', exist_ok=True)\n"
            "    np.save(fp, values)\n\n"
            "X = torch.randn(32, 2)\ny = (X[:, 0] > 0).long()",
            ["promote:data"],
        ),
        ("model = nn.Linear(2, 2)", ["promote:model"]),
        (
            "def measure(epoch):\n    with torch.no_grad():\n        scores = model(X)\n"
            "    save_grid(scores.numpy(), 'results/scores_' + str(epoch) + '.npy')\n"
            "    return (scores.argmax(1) == y).float().mean().item()",
            ["promote:evaluate"],
        ),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "for epoch in range(epochs):\n    optimizer.zero_grad()\n"
            "    nn.functional.cross_entropy(model(X), y).backward()\n    optimizer.step()\n"
            "    acc = measure(epoch)\n    save_grid(X.numpy(), 'results/inputs.npy')",
            ["promote:train"],
        ),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    assert [s.name for s in result.plan.steps] == ["data", "model", "train", "evaluate"]  # a def writes when called
    assert sorted(p.name for p in (project / "artifacts" / "results").iterdir()) == [
        "inputs.npy",
        "scores_0.npy",
        "scores_1.npy",
    ]
    assert not (project / "results").exists()


def test_objects_built_on_the_model_hold_the_notebooks_own_module_not_fabrics_wrapper(tmp_path):
    # gpytorch's ExactMarginalLogLikelihood(likelihood, model) checks its model's type: built after
    # fabric.setup it got Fabric's wrapper and raised, so the promoted project failed its own tests.
    objective = (
        "class Objective:\n"
        "    def __init__(self, model):\n"
        "        if not isinstance(model, nn.Linear):\n"
        "            raise RuntimeError('the objective needs the model itself')\n"
        "        self.model = model\n\n"
        "    def __call__(self, output, target):\n"
        "        return ((output - target) ** 2).mean() + 1e-3 * self.model.weight.pow(2).sum()"
    )
    cells = [
        IMPORTS,
        PARAMETERS,
        ("X = torch.randn(32, 3)\ny = X.sum(1, keepdim=True)", ["promote:data"]),
        ("model = nn.Linear(3, 1)\n\n" + objective, ["promote:model"]),
        (
            "optimizer = torch.optim.Adam(model.parameters(), lr=lr)\nobjective = Objective(model)\n"
            "for i in range(epochs * 5):\n    optimizer.zero_grad()\n"
            "    loss = objective(model(X), y)\n    loss.backward()\n    optimizer.step()",
            ["promote:train"],
        ),
        ("with torch.no_grad():\n    mse = ((model(X) - y) ** 2).mean().item()", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    train = (project / "src" / result.plan.package / "pipeline.py").read_text()
    assert train.index("objective = Objective(model)") < train.index("fabric.setup(model, optimizer)")
    assert set(metrics_of(project)) == {"mse"}


def test_an_evaluate_step_that_binds_no_number_is_named_and_its_project_passes_its_tests(tmp_path):
    # gpytorch's example evaluates `observed_pred = likelihood(model(test_x))` and plots it: metrics.json stayed
    # empty, and the generated tests insisted on a metric (and on a champion decided by one).
    cells = [
        *TINY_TORCH[:-1],
        (
            "with torch.no_grad():\n    grid = torch.linspace(-1, 1, 6).reshape(2, 3)\n    curve = model(grid)\n"
            "lower, upper = curve.chunk(2)\nprint('Test MSE: {}'.format(curve.pow(2).mean()))",
            ["promote:evaluate"],
        ),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    (warning,) = [d for d in result.diagnostics if d.code == "PRM012"]
    assert warning.severity == "warning" and "grid, curve, lower, upper" in warning.message
    assert "prints 'Test MSE'" in warning.message and warning.line == 5
    assert metrics_of(project) == {}
    assert 'primary_metric: ""' in (project / "config.yaml").read_text()


def test_notebook_progress_bars_become_tqdms_automatic_front_end(tmp_path):
    # gpytorch's examples: `import tqdm` then `tqdm.notebook.tqdm(loader)`. Some other import had loaded
    # tqdm.notebook in Jupyter; in the package it raised AttributeError (and needs a Jupyter front end anyway).
    imports, parameters, data, model, train, evaluate = TINY_TORCH
    cells = [
        imports + "\nimport tqdm\nfrom tqdm.notebook import trange\nfrom tqdm import tqdm_notebook",
        parameters,
        data,
        model,
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()\n"
            "for epoch in tqdm.notebook.tqdm(range(epochs), leave=False):\n    optimizer.zero_grad()\n"
            "    loss = loss_fn(model(X), y)\n    loss.backward()\n    optimizer.step()\n"
            "for step in trange(2):\n    pass\nfor step in tqdm_notebook(range(2)):\n    pass",
            ["promote:train"],
        ),
        evaluate,
    ]
    result, project = _promote_and_run(tmp_path, cells)
    pipeline = (project / "src" / result.plan.package / "pipeline.py").read_text()
    assert "import tqdm.auto\n" in pipeline and "tqdm.auto.tqdm(range(epochs), leave=False)" in pipeline
    assert "from tqdm.auto import trange\n" in pipeline and "from tqdm.auto import tqdm as tqdm_notebook" in pipeline
    assert "notebook" not in pipeline.replace("tqdm_notebook", "").replace(result.plan.notebook.name, "")


def test_the_notebooks_own_pl_stays_and_requirements_name_distributions_not_modules(tmp_path):
    # imbalanced-learn's examples: `from imblearn import pipeline as pl`. The package imported
    # pytorch_lightning as pl instead (make_pipeline missing), and required "imblearn", a module name.
    cells = [
        "import numpy as np\nimport zmq\nfrom sklearn import pipeline as pl\n"
        "from sklearn.linear_model import LogisticRegression\nfrom sklearn.preprocessing import StandardScaler",
        ("seed = 0", ["parameters"]),
        ("rng = np.random.RandomState(seed)\nX = rng.randn(80, 3)\ny = (X[:, 0] > 0).astype(int)", ["promote:data"]),
        ("model = pl.make_pipeline(StandardScaler(), LogisticRegression())", ["promote:model"]),
        ("model.fit(X, y)\nzmq_version = zmq.zmq_version()", ["promote:train"]),
        ("accuracy = model.score(X, y)", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    pipeline = (project / "src" / result.plan.package / "pipeline.py").read_text()
    assert "from sklearn import pipeline as pl\n" in pipeline and "lightning" not in pipeline
    pyproject = (project / "pyproject.toml").read_text()
    assert '"pyzmq>=' in pyproject and '"zmq' not in pyproject
    assert metrics_of(project)["accuracy"] > 0.9


def test_a_model_that_returns_a_distribution_passes_its_generated_forward_and_export_tests(tmp_path):
    # gpytorch's SVGP example: model(x_batch) is a MultivariateNormal. The generated forward test asked
    # torch.isfinite of it, and the export test wanted a model.pt2 that torch.export cannot hold.
    cells = [
        IMPORTS,
        PARAMETERS,
        (
            "X = torch.randn(64, 3)\ny = X.sum(1)\nloader = DataLoader(TensorDataset(X, y), batch_size=16)",
            ["promote:data"],
        ),
        (
            "class Probabilistic(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.mean = nn.Linear(3, 1)\n\n    def forward(self, x):\n"
            "        return torch.distributions.Normal(self.mean(x).squeeze(-1), 1.0)\n\n"
            "model = Probabilistic()",
            ["promote:model"],
        ),
        (
            "optimizer = torch.optim.Adam(model.parameters(), lr=lr)\nfor epoch in range(epochs):\n"
            "    for xb, yb in loader:\n        optimizer.zero_grad()\n        output = model(xb)\n"
            "        loss = -output.log_prob(yb).mean()\n        loss.backward()\n        optimizer.step()",
            ["promote:train"],
        ),
        ("with torch.no_grad():\n    test_nll = -model(X).log_prob(y).mean().item()", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    assert (project / "tests" / "test_stages.py").exists()
    assert "test_forward_pass_on_a_training_batch" in (project / "tests" / "test_pipeline.py").read_text()
    export = run_in_project(project, "-m", result.plan.package, "export")
    assert "returns a Normal, not a tensor" in export.stdout, export.stdout[-2000:]


def test_an_import_a_step_rebinds_is_read_through_an_alias_before_the_rebinding(tmp_path):
    # gpytorch's deep GP example: `class DeepGP(DeepGP)` subclasses the imported DeepGP. In a step function the
    # class makes the name local, and reading the base raised UnboundLocalError.
    cells = [
        IMPORTS + "\nfrom torch.nn import Linear",
        PARAMETERS,
        ("X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()\nwidth = 2 if epochs > 1 else 4", ["promote:data"]),
        (
            "print(Linear)\nclass Linear(Linear):\n    def __init__(self):\n        super().__init__(3, width)\n\n"
            "model = Linear()",
            ["promote:model"],
        ),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nfor epoch in range(epochs):\n"
            "    optimizer.zero_grad()\n    nn.functional.cross_entropy(model(X), y).backward()\n    optimizer.step()",
            ["promote:train"],
        ),
        ("with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()", ["promote:evaluate"]),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    pipeline = (project / "src" / result.plan.package / "pipeline.py").read_text()
    assert "from torch.nn import Linear as imported_Linear\n" in pipeline
    assert "print(imported_Linear)" in pipeline and "class Linear(imported_Linear):" in pipeline
    assert "from torch.nn import Linear\n" not in pipeline


def test_process_wide_settings_hold_in_every_stage_that_runs_alone(tmp_path):
    # gpytorch's examples call torch.set_default_dtype(torch.float64) in an untagged cell: the package dropped it and
    # trained in float32, and `python -m PKG evaluate` alone (as dvc repro runs it) failed with a dtype mismatch.
    cells = [
        IMPORTS + "\nimport warnings\ntorch.set_default_dtype(torch.float64)",
        PARAMETERS,
        (
            "warnings.filterwarnings('ignore', category=UserWarning)\nX = torch.randn(64, 3)\ny = X.sum(1, keepdim=True)\n"
            "loader = DataLoader(TensorDataset(X, y), batch_size=16)",
            ["promote:data"],
        ),
        ("model = nn.Linear(3, 1)", ["promote:model"]),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nfor epoch in range(epochs):\n"
            "    for xb, yb in loader:\n        optimizer.zero_grad()\n"
            "        nn.functional.mse_loss(model(xb), yb).backward()\n        optimizer.step()",
            ["promote:train"],
        ),
        (
            "with torch.no_grad():\n    mse = nn.functional.mse_loss(model(X), y).item()\n"
            "    wide = float(model.weight.dtype == torch.float64)",
            ["promote:evaluate"],
        ),
    ]
    result, project = _promote_and_run(tmp_path, cells)
    assert metrics_of(project)["wide"] == 1.0  # trained in float64, as the notebook did
    assert any(d.code == "PRM044" and d.cell_index == 0 for d in result.diagnostics)
    for stage in ("data", "model", "train", "evaluate", "export"):
        alone = run_in_project(project, "-m", result.plan.package, stage)
        assert alone.returncode == 0, (stage, alone.stderr[-2000:])
    assert metrics_of(project)["wide"] == 1.0


def test_a_library_setting_in_an_untagged_cell_holds_for_a_plain_stage_run_alone(tmp_path):
    cells = [
        "import pandas as pd\nfrom sklearn import set_config\nfrom sklearn.preprocessing import StandardScaler\n"
        "set_config(transform_output='pandas')",
        ("scale = 2.0", ["parameters"]),
        ("frame = pd.DataFrame({'a': [1.0, 2.0, 3.0, 4.0], 'b': [0.0, 1.0, 0.0, 1.0]}) * scale", ["promote:data"]),
        ("scaler = StandardScaler().fit(frame)", ["promote:train"]),
        ("spread = float(scaler.transform(frame)['a'].std())", ["promote:evaluate"]),
    ]
    notebook = write_notebook(tmp_path / "plain.ipynb", cells)
    result = api.promote(notebook, tmp_path / "project", commit=False)
    assert result.ok, [d.format() for d in result.diagnostics]
    project = tmp_path / "project"
    assert lint_problems(project) == []
    for stage in ("data", "train", "evaluate"):
        alone = run_in_project(project, "-m", result.plan.package, stage)
        assert alone.returncode == 0, (stage, alone.stderr[-2000:])
    assert metrics_of(project)["spread"] > 0


def test_only_statements_that_change_a_module_and_read_no_variable_are_settings():
    from jupyterlab_promote.stages.process_settings import is_setting

    imports = {name: f"import {name}" for name in ("torch", "os", "warnings", "pd", "np", "random")}
    imports["set_config"] = "from sklearn import set_config"
    readable = set(imports) | {"threads", "UserWarning"}
    settings = [
        "torch.set_default_dtype(torch.float64)",
        "torch.backends.cudnn.deterministic = True",
        "os.environ['CUBLAS_WORKSPACE_CONFIG'] = ':4096:8'",
        "warnings.filterwarnings('ignore', category=UserWarning)",
        "pd.set_option('display.max_columns', 50)",
        "pd.options.display.max_rows = 10",
        "set_config(transform_output='pandas')",
        "torch.set_num_threads(threads)",
        "torch.use_deterministic_algorithms(True)",
    ]
    others = [
        "torch.manual_seed(0)",
        "np.random.seed(0)",
        "random.seed(0)",
        "frame.set_index('a')",
        "torch.set_default_device(device)",
        "x = torch.zeros(3)",
        "torch.save(model, 'm.pt')",
    ]
    assert [s for s in settings if not is_setting(ast.parse(s).body[0], imports, readable)] == []
    assert [s for s in others if is_setting(ast.parse(s).body[0], imports, readable)] == []


def test_a_skipped_setting_that_can_change_results_is_a_warning_and_a_cosmetic_one_is_not(tmp_path):
    cells = [
        "import warnings\nimport torch\nfrom torch import nn",
        ("torch.set_default_dtype(torch.float64)\nwarnings.filterwarnings('ignore')", ["skip"]),
        PARAMETERS,
        ("X = torch.randn(16, 3)\ny = X.sum(1, keepdim=True)", ["promote:data"]),
        ("model = nn.Linear(3, 1)", ["promote:model"]),
        ("mse = nn.functional.mse_loss(model(X), y).item()", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "skipped.ipynb", cells))
    found = [d for d in plan.all_diagnostics if d.code == "PRM041"]
    assert [(d.cell_index, d.line) for d in found] == [(1, 1)], [d.format() for d in found]
    assert "set_default_dtype" in found[0].message


def test_our_own_lines_keep_their_comments_above_not_wrapped_in_brackets(tmp_path):
    """black wraps a statement whose trailing comment passes the line length: ``if (`` / ``x`` / ``):  # why``."""
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"
    notebooks = [demo, FIXTURES / "epoch_loop.ipynb", write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)]
    notebooks.append(write_notebook(tmp_path / "lit.ipynb", TINY_LIGHTNING))
    for index, notebook in enumerate(notebooks):
        assert api.promote(notebook, tmp_path / f"out{index}", commit=False).ok
        assert comment_wrapped_statements(tmp_path / f"out{index}") == [], notebook.name

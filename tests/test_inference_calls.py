"""How a kept (Fabric) loop calls its model, read for predict and serve (issue 9): one small notebook per class of
call that a plain ``model(x)`` reading missed, and the calls that must still be refused rather than guessed.

The hidden-state and full-batch notebooks are also promoted, trained and asked to predict, end to end: their
predictions must equal the trained model called directly, as the notebook calls it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from jupyterlab_promote import api
from jupyterlab_promote.codegen.postprocessing import postprocessing
from jupyterlab_promote.codegen.project import _render_mode
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import lint_problems, run_in_project, write_notebook

IMPORTS = "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset"
PARAMETERS = ("epochs = 2\nbatch_size = 8\ntorch.manual_seed(0)", ["parameters"])
SEQUENCES = (
    "X = torch.randn(32, 5, 3)\ny = (X.sum((1, 2)) > 0).long()\n"
    "loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)",
    ["promote:data"],
)
RECURRENT = (
    "class Recurrent(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.rnn = nn.GRU(3, 4, batch_first=True)\n"
    "        self.head = nn.Linear(4, 2)\n\n"
    "    def forward(self, x, hidden):\n"
    "        out, hidden = self.rnn(x, hidden)\n"
    "        return self.head(out[:, -1]), hidden\n\n\n"
    "model = Recurrent()",
    ["promote:model"],
)


def _train(call: str, then: str = "") -> tuple[str, list[str]]:
    """A train cell whose loop, in a function the cell calls with the model and loader (kept on Fabric, as loops
    in functions are), calls the model with ``call``; ``then`` runs before each epoch's batches."""
    body = (
        f"for epoch in range(epochs):\n{then}    for xb, yb in data:\n        optimizer.zero_grad()\n"
        f"{call}        loss = loss_fn(logits, yb)\n        loss.backward()\n        optimizer.step()"
    ).replace("model(", "net(")
    return (
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\nloss_fn = nn.CrossEntropyLoss()\n\n\n"
        "def fit(net, data):\n" + "\n".join("    " + line for line in body.splitlines()) + "\n\n\nfit(model, loader)",
        ["promote:train"],
    )


HIDDEN_STATE = [
    IMPORTS,
    PARAMETERS,
    SEQUENCES,
    RECURRENT,
    _train("        logits, hidden = model(xb, hidden)\n        hidden = hidden.detach()\n", "    hidden = None\n"),
    (
        "with torch.no_grad():\n    logits, _ = model(X, None)\n    acc = (logits.argmax(1) == y).float().mean().item()",
        ["promote:evaluate"],
    ),
]

TUPLE_OUTPUT = [
    IMPORTS,
    PARAMETERS,
    (
        "X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=8)",
        ["promote:data"],
    ),
    (
        "class WithFeatures(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.body = nn.Linear(3, 4)\n"
        "        self.head = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n"
        "        features = torch.relu(self.body(x))\n"
        "        return self.head(features), features\n\n\n"
        "model = WithFeatures()",
        ["promote:model"],
    ),
    _train("        logits, features = model(xb)\n"),
    ("acc = (model(X)[0].argmax(1) == y).float().mean().item()", ["promote:evaluate"]),
]

FULL_BATCH = [
    IMPORTS,
    PARAMETERS,
    ("X = torch.randn(48, 3)\ny = (X[:, 0] > 0).long()", ["promote:data"]),
    ("model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))", ["promote:model"]),
    (
        "optimizer = torch.optim.Adam(model.parameters(), lr=0.01)\nloss_fn = nn.CrossEntropyLoss()\n"
        "for step in range(20):\n    logits = model(X)\n    loss = loss_fn(logits, y)\n"
        "    optimizer.zero_grad()\n    loss.backward()\n    optimizer.step()",
        ["promote:train"],
    ),
    ("acc = (model(X).argmax(1) == y).float().mean().item()", ["promote:evaluate"]),
]

# the train step also measures: no later step reads the model, and the train stage must still save it
MEASURED_IN_TRAIN = FULL_BATCH[:4] + [
    (FULL_BATCH[4][0] + "\nacc = (model(X).argmax(1) == y).float().mean().item()", ["promote:train"])
]

# the train step builds its loaders itself (after the model); the evaluate step reads the test loader it hands on
LOADERS_IN_TRAIN = [
    IMPORTS,
    PARAMETERS,
    (
        "def make_loaders(size):\n    X = torch.randn(40, 3)\n    y = (X.sum(1) > 0).long()\n"
        "    return DataLoader(TensorDataset(X[:32], y[:32]), batch_size=size), "
        "DataLoader(TensorDataset(X[32:], y[32:]), batch_size=size)",
        ["promote:data"],
    ),
    ("model = nn.Linear(3, 2)", ["promote:model"]),
    (
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\nloss_fn = nn.CrossEntropyLoss()\n"
        "train_loader, test_loader = make_loaders(batch_size)\n"
        "def fit(net):\n    for epoch in range(epochs):\n        for xb, yb in train_loader:\n"
        "            loss = loss_fn(net(xb), yb)\n            optimizer.zero_grad()\n"
        "            loss.backward()\n            optimizer.step()\n\n\nfit(model)",
        ["promote:train"],
    ),
    (
        "correct = 0\nfor xb, yb in test_loader:\n    out = model(xb)\n    _, pred = torch.max(out, 1)\n"
        "    correct += (pred == yb).sum().item()\nacc = correct / 8",
        ["promote:evaluate"],
    ),
]


def _example(tmp_path: Path, cells: list) -> dict | None:
    plan = build_plan(read_notebook(write_notebook(tmp_path / "nb.ipynb", cells)))
    return _render_mode(plan).example


def _postprocess(tmp_path: Path, cells: list) -> str:
    plan = build_plan(read_notebook(write_notebook(tmp_path / "nb.ipynb", cells)))
    return postprocessing(plan, "model")


def test_a_hidden_state_threaded_through_the_calls_starts_from_none(tmp_path):
    example = _example(tmp_path, HIDDEN_STATE)
    assert example is not None
    assert (example["arguments"], example["input"]) == ("xb, None", "xb")
    assert example["forward"] == "model(features, None)[0]"  # the logits, not the state
    assert _postprocess(tmp_path, HIDDEN_STATE) == "argmax"  # `logits, _ = model(X, None)` then argmax(1)


def test_a_tuple_of_outputs_predicts_with_the_first(tmp_path):
    example = _example(tmp_path, TUPLE_OUTPUT)
    assert example is not None and example["forward"] == "model(features)[0]"


def test_full_batch_training_takes_the_whole_tensor_as_the_batch(tmp_path):
    example = _example(tmp_path, FULL_BATCH)
    assert example == {
        "loader": "X",
        "batch_target": "X",
        "arguments": "X",
        "input": "X",
        "forward": "model(features)",
        "full_batch": True,
    }


def test_a_loader_the_train_step_builds_is_drawn_after_that_step(tmp_path):
    example = _example(tmp_path, LOADERS_IN_TRAIN)
    assert example is not None
    assert (example["loader"], example["until"], example["forward"]) == ("test_loader", "train", "model(features)")


@pytest.mark.parametrize(
    ("why", "train"),
    [
        # a state that starts from something other than None (init_hidden(batch_size)): refused, not guessed
        ("state from a method", _train("        logits, hidden = model(xb, hidden)\n", "    hidden = model.h0\n")),
        ("state never set", _train("        logits, hidden = model(xb, hidden)\n")),
        ("two tensors", _train("        logits, _ = model(xb, xb)\n")),
        ("keyword", _train("        logits, _ = model(xb, hidden=None)\n")),
    ],
)
def test_calls_that_are_not_one_tensor_and_a_known_state_are_refused(tmp_path, why, train):
    cells = [*HIDDEN_STATE[:4], train, ("acc = 0.5", ["promote:evaluate"])]
    example = _example(tmp_path, cells)
    assert example is None or "forward" not in example, why


def test_a_full_batch_tensor_the_loop_rebinds_is_refused(tmp_path):
    cells = list(FULL_BATCH)
    cells[4] = (cells[4][0].replace("    logits = model(X)", "    X = X + 0.01\n    logits = model(X)"), cells[4][1])
    assert _example(tmp_path, cells) is None


def test_a_project_without_predict_says_why_in_its_readme(tmp_path):
    cells = [*HIDDEN_STATE[:4], _train("        logits, _ = model(xb, xb)\n"), ("acc = 0.5", ["promote:evaluate"])]
    files = api.preview(write_notebook(tmp_path / "nb.ipynb", cells), tmp_path / "out").files
    assert not any(f.path.endswith(("predict.py", "serve.py")) for f in files)
    readme = next(f for f in files if f.path == "README.md").diff
    assert "Not generated: `model` is called on more than one tensor" in readme


def _promoted(root: Path, cells: list) -> Path:
    project = root / "out"
    assert api.promote(write_notebook(root / "nb.ipynb", cells), project, commit=False).ok
    assert lint_problems(project) == []
    done = run_in_project(project, "-m", "nb", "train", "--accelerator", "cpu")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return project


def _predicted(project: Path, rows: np.ndarray) -> np.ndarray:
    np.save(project / "rows.npy", rows)
    done = run_in_project(
        project, "-m", "nb", "predict", "--input", "rows.npy", "--output", "pred.npy", "--model",
        "artifacts/train/model.pt", "--batch-size", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return np.load(project / "pred.npy")


@pytest.mark.parametrize(
    ("cells", "shape", "call"),
    [
        (HIDDEN_STATE, [5, 3], lambda model, x: model(x, None)[0].argmax(1)),
        (FULL_BATCH, [3], lambda model, x: model(x).argmax(1)),
        # no evaluate step shows a post-processing: the model's own output
        (MEASURED_IN_TRAIN, [3], lambda model, x: model(x)),
    ],
    ids=["hidden_state", "full_batch", "measured_in_train"],
)
def test_predict_equals_the_trained_model_called_as_the_notebook_calls_it(tmp_path, monkeypatch, cells, shape, call):
    project = _promoted(tmp_path, cells)
    monkeypatch.syspath_prepend(str(project / "src"))  # the pickled model's class lives in the package
    assert json.loads((project / "artifacts" / "schema.json").read_text())["input"]["shape"] == shape
    rows = np.random.default_rng(3).standard_normal((17, *shape)).astype(np.float32)
    model = torch.load(project / "artifacts" / "train" / "model.pt", weights_only=False).eval()
    with torch.no_grad():
        expected = call(model, torch.from_numpy(rows)).numpy()
    assert np.allclose(_predicted(project, rows), expected, rtol=1e-5, atol=1e-6)

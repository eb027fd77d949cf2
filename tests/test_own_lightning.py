"""A notebook that already trains its own LightningModule, built in the train cell (``model = LitModel()`` beside
``trainer.fit``): the trained module is the model, and its ``training_step`` says how predict and serve call it
(issue 9: the Lightning tutorials' layout, wild01 in the corpus, had no predict or serve). The same holds for a
plain torch module built in the train cell above its loop."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jupyterlab_promote import api
from jupyterlab_promote.codegen.model_output import find_model
from jupyterlab_promote.codegen.own_lightning import own_module_forward
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import lint_problems, run_in_project, write_notebook

IMPORTS = "import torch\nimport torch.nn.functional as F\nimport pytorch_lightning as pl\nfrom torch import nn\n"
IMPORTS += "from torch.utils.data import DataLoader, TensorDataset"
DATA = "X = torch.randn(64, 3)\ny = (X.sum(1) > 0).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=16)"
TRAINING_STEP = (
    "    def training_step(self, batch, batch_idx):\n        x, y = batch\n        return F.cross_entropy(self(x), y)\n"
)
MODULE = (
    "class LitClassifier(pl.LightningModule):\n"
    "    def __init__(self, lr=0.1):\n        super().__init__()\n        self.lr = lr\n        self.net = nn.Linear(3, 2)\n\n"
    "    def forward(self, x):\n        return self.net(x)\n\n"
    "{training_step}\n"
    "    def test_step(self, batch, batch_idx):\n        x, y = batch\n        preds = torch.argmax(self(x), dim=1)\n"
    "        self.log('test_acc', (preds == y).float().mean())\n\n"
    "    def configure_optimizers(self):\n        return torch.optim.SGD(self.parameters(), lr=self.lr)\n"
)
TRAIN = (
    "model = LitClassifier(lr=lr)\n"
    "trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False)\n"
    "{fit}"
)


def _cells(training_step: str = TRAINING_STEP, fit: str = "trainer.fit(model, loader)", base: str = "") -> list:
    return [
        IMPORTS,
        ("epochs = 2\nlr = 0.1\ntorch.manual_seed(0)", ["parameters"]),
        (DATA, ["promote:data"]),
        (base + MODULE.format(training_step=training_step), ["promote:model"]),
        (TRAIN.format(fit=fit), ["promote:train"]),
        ("results = trainer.test(model, loader)", ["promote:evaluate"]),
    ]


def test_a_module_built_beside_its_trainer_predicts_and_serves_as_the_notebook_evaluates(tmp_path):
    project = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "lit.ipynb", _cells()), project)
    assert result.ok
    package = project / "src" / "lit"
    assert "## Predict and serve\n\nNot generated" not in (project / "README.md").read_text()
    assert 'POSTPROCESS = "argmax"' in (package / "schema.py").read_text()  # read from test_step's `self(x)`
    assert lint_problems(project) == []
    values = np.random.default_rng(3).standard_normal((30, 3)).astype(np.float32)
    np.save(project / "held.npy", values)
    code = (
        "import json, numpy, torch\nfrom lit.__main__ import main\n"
        "print('CODES', [main(['train', '--accelerator', 'cpu']), main(['predict', '--input', 'held.npy', "
        "'--output', 'pred.csv', '--model', 'artifacts/train/model.pt', '--batch-size', '8'])])\n"
        "model = torch.load('artifacts/train/model.pt', weights_only=False).eval()\n"  # the class lives in `lit`
        "with torch.no_grad():\n"
        "    print('DIRECT', json.dumps(model(torch.from_numpy(numpy.load('held.npy'))).argmax(1).tolist()))"
    )
    done = run_in_project(project, "-c", code)
    assert "CODES [0, 0]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    assert json.loads((project / "artifacts" / "schema.json").read_text())["input"]["shape"] == [3]
    expected = np.array(json.loads(done.stdout.split("DIRECT", 1)[1]))
    lines = (project / "pred.csv").read_text().splitlines()
    assert lines[0] == "prediction" and np.array_equal(np.array(lines[1:], dtype=np.int64), expected)
    code = (
        "import json, os\nfrom lit import serve\nfrom lit.config import load_config\n"
        "os.environ[serve.SCHEMA_ENV] = 'artifacts/schema.json'\n"
        "api = serve.ModelAPI(load_config('config.yaml', {}), 'artifacts/train/model.pt', 1, 0.0)\napi.setup('cpu')\n"
        f"request = serve.PredictRequest(inputs={values[:4].tolist()!r})\n"
        "print('SERVED', json.dumps(api.encode_response(api.predict(api.decode_request(request)))))"
    )
    done = run_in_project(project, "-c", code)
    assert json.loads(done.stdout.split("SERVED", 1)[1]) == {"predictions": expected[:4].tolist()}, done.stderr[-3000:]


BASE = "class Base(pl.LightningModule):\n" + TRAINING_STEP + "\n\n"
CALLS = {
    # the tutorials' form
    (TRAINING_STEP, "trainer.fit(model, loader)", ""): ("x, y", "x"),
    # the loader by keyword, the batch indexed, forward named
    (
        "    def training_step(self, batch, batch_idx):\n        return F.cross_entropy(self.forward(batch[0]), batch[1])\n",
        "trainer.fit(model, train_dataloaders=loader)",
        "",
    ): ("batch", "batch[0]"),
    # inherited from another class of the notebook
    ("", "trainer.fit(model, loader)", BASE): ("x, y", "x"),
    # a datamodule is not one loader whose batches the step sees
    (TRAINING_STEP, "trainer.fit(model, datamodule=loader)", ""): None,
    # a submodule called, not the module: its forward may differ
    (
        "    def training_step(self, batch, batch_idx):\n        x, y = batch\n        return F.cross_entropy(self.net(x), y)\n",
        "trainer.fit(model, loader)",
        "",
    ): None,
}


@pytest.mark.parametrize("training_step, fit, base", list(CALLS), ids=range(len(CALLS)))
def test_the_call_is_read_from_the_modules_training_step_and_the_loader_from_fit(tmp_path, training_step, fit, base):
    cells = _cells(training_step, fit, base)
    if base:
        cells[3] = (
            cells[3][0].replace("class LitClassifier(pl.LightningModule)", "class LitClassifier(Base)"),
            cells[3][1],
        )
    plan = build_plan(read_notebook(write_notebook(tmp_path / "lit.ipynb", cells)))
    assert find_model(plan) == ("train", "model")
    expected = CALLS[(training_step, fit, base)]
    wanted = expected and {"loader": "loader", "batch_target": expected[0], "arguments": expected[1]}
    assert own_module_forward(plan, "model", {"X", "y", "loader", "model", "trainer"}) == wanted


def test_a_plain_module_built_in_the_train_cell_is_the_model_predict_loads(tmp_path):
    """The same layout without Lightning: ``class Net`` in the model cell, ``model = Net()`` above the loop."""
    net = "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(3, 2)\n\n"
    net += "    def forward(self, x):\n        return self.fc(x)"
    loop = "for epoch in range(epochs):\n    for xb, yb in loader:\n        optimizer.zero_grad()\n"
    loop += "        loss = loss_fn(model(xb), yb)\n        loss.backward()\n        optimizer.step()"
    train = "model = Net()\nhelper = object()\noptimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
    train += "loss_fn = nn.CrossEntropyLoss()\n" + loop
    cells = [IMPORTS, *_cells()[1:3], (net, ["promote:model"]), (train, ["promote:train"])]
    cells.append(
        ("with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()", ["promote:evaluate"])
    )
    notebook = write_notebook(tmp_path / "plain.ipynb", cells)
    assert find_model(build_plan(read_notebook(notebook))) == ("train", "model")
    assert api.promote(notebook, tmp_path / "out", commit=False).ok
    assert 'POSTPROCESS = "argmax"' in (tmp_path / "out" / "src" / "plain" / "schema.py").read_text()

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


def _promote_train_predict_and_serve(tmp_path, cells: list, stem: str) -> tuple:
    """Promote ``cells``, train, then predict on held-out rows and serve them in process: (project, the predictions
    of the trained model called directly, what predict wrote, what serve answered)."""
    project = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / f"{stem}.ipynb", cells), project)
    assert result.ok
    assert "## Predict and serve\n\nNot generated" not in (project / "README.md").read_text()
    # read from test_step's `self(x)`
    assert 'POSTPROCESS = "argmax"' in (project / "src" / stem / "schema.py").read_text()
    assert lint_problems(project) == []
    values = np.random.default_rng(3).standard_normal((30, 3)).astype(np.float32)
    np.save(project / "held.npy", values)
    code = (
        f"import json, numpy, torch\nfrom {stem}.__main__ import main\n"
        "print('CODES', [main(['train', '--accelerator', 'cpu']), main(['predict', '--input', 'held.npy', "
        "'--output', 'pred.csv', '--model', 'artifacts/train/model.pt', '--batch-size', '8'])])\n"
        # the class lives in the package, so the pickle loads only there
        "model = torch.load('artifacts/train/model.pt', weights_only=False).eval()\n"
        "with torch.no_grad():\n"
        "    print('DIRECT', json.dumps(model(torch.from_numpy(numpy.load('held.npy'))).argmax(1).tolist()))"
    )
    done = run_in_project(project, "-c", code)
    assert "CODES [0, 0]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    assert json.loads((project / "artifacts" / "schema.json").read_text())["input"]["shape"] == [3]
    direct = json.loads(done.stdout.split("DIRECT", 1)[1])
    lines = (project / "pred.csv").read_text().splitlines()
    assert lines[0] == "prediction"
    code = (
        f"import json, os\nfrom {stem} import serve\nfrom {stem}.config import load_config\n"
        "os.environ[serve.SCHEMA_ENV] = 'artifacts/schema.json'\n"
        "api = serve.ModelAPI(load_config('config.yaml', {}), 'artifacts/train/model.pt', 1, 0.0)\napi.setup('cpu')\n"
        f"request = serve.PredictRequest(inputs={values[:4].tolist()!r})\n"
        "print('SERVED', json.dumps(api.encode_response(api.predict(api.decode_request(request)))))"
    )
    done = run_in_project(project, "-c", code)
    served = json.loads(done.stdout.split("SERVED", 1)[1])["predictions"] if "SERVED" in done.stdout else done.stderr
    return project, direct, [int(line) for line in lines[1:]], served


def test_a_module_built_beside_its_trainer_predicts_and_serves_as_the_notebook_evaluates(tmp_path):
    _, direct, predicted, served = _promote_train_predict_and_serve(tmp_path, _cells(), "lit")
    assert predicted == direct and served == direct[:4]


DATAMODULE = """class BlobsDataModule(pl.LightningDataModule):
    def __init__(self, n_rows, batch_size):
        super().__init__()
        self.n_rows = n_rows
        self.batch_size = batch_size

    def setup(self, stage=None):
        generator = torch.Generator().manual_seed(0)
        X = torch.randn(self.n_rows, 3, generator=generator)
        y = (X.sum(1) > 0).long()
        self.train_set, self.test_set = random_split(TensorDataset(X, y), [0.75, 0.25], generator=generator)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=64)


dm = BlobsDataModule(n_rows, batch_size)"""


def _datamodule_cells(fit: str, built_beside_fit: bool = False) -> list:
    """The Lightning tutorials' other layout: the data lives in a LightningDataModule handed to ``fit``; the
    DataModule is made in the data cell, or beside ``fit`` in the train cell."""
    made = "dm = BlobsDataModule(n_rows, batch_size)"
    return [
        IMPORTS + ", random_split",
        ("n_rows = 512\nbatch_size = 32\nepochs = 2\nlr = 0.1\ntorch.manual_seed(0)", ["parameters"]),
        (DATAMODULE if not built_beside_fit else DATAMODULE.replace(f"\n\n\n{made}", ""), ["promote:data"]),
        (MODULE.format(training_step=TRAINING_STEP), ["promote:model"]),
        ((made + "\n" if built_beside_fit else "") + TRAIN.format(fit=fit), ["promote:train"]),
        ("results = trainer.test(model, datamodule=dm)\ntest_acc = results[0]['test_acc']", ["promote:evaluate"]),
    ]


@pytest.mark.parametrize(
    "fit, built_beside_fit",
    [("trainer.fit(model, datamodule=dm)", False), ("trainer.fit(model, dm)", True)],
    ids=["from the data cell, by keyword", "beside fit, by position"],
)
def test_a_module_trained_on_a_datamodule_predicts_serves_and_checks_drift(tmp_path, fit, built_beside_fit):
    """``trainer.fit(model, datamodule=dm)``: the schema, the export's example, the forward test and the drift
    reference all read the batches of ``dm.train_dataloader()`` after ``setup("fit")``, as ``fit`` does."""
    cells = _datamodule_cells(fit, built_beside_fit)
    assert ("dm = " in cells[2][0]) is not built_beside_fit
    project, direct, predicted, served = _promote_train_predict_and_serve(tmp_path, cells, "blobs")
    assert predicted == direct and served == direct[:4]
    assert json.loads((project / "artifacts" / "reference" / "reference.json").read_text())["rows"] == 384
    rng = np.random.default_rng(5)
    np.save(project / "fresh.npy", rng.standard_normal((300, 3)).astype(np.float32))
    np.save(project / "shifted.npy", (rng.standard_normal((300, 3)) + 2.0).astype(np.float32))
    assert run_in_project(project, "-m", "blobs", "drift", "--input", "fresh.npy").returncode == 0
    assert run_in_project(project, "-m", "blobs", "drift", "--input", "shifted.npy").returncode == 1
    done = run_in_project(
        project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pipeline.py", "-k", "forward"
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_datamodule_given_by_position_is_known_by_its_class(tmp_path):
    notebook = write_notebook(tmp_path / "blobs.ipynb", _datamodule_cells("trainer.fit(model, dm)"))
    plan = build_plan(read_notebook(notebook))
    found = own_module_forward(plan, "model", {"dm", "model", "trainer"})
    assert found == {"loader": "dm", "datamodule": True, "batch_target": "x, y", "arguments": "x"}


BASE = "class Base(pl.LightningModule):\n" + TRAINING_STEP + "\n\n"
CALLS = {
    # the tutorials' form
    (TRAINING_STEP, "trainer.fit(model, loader)", ""): ("x, y", "x", False),
    # the loader by keyword, the batch indexed, forward named
    (
        "    def training_step(self, batch, batch_idx):\n        return F.cross_entropy(self.forward(batch[0]), batch[1])\n",
        "trainer.fit(model, train_dataloaders=loader)",
        "",
    ): ("batch", "batch[0]", False),
    # inherited from another class of the notebook
    ("", "trainer.fit(model, loader)", BASE): ("x, y", "x", False),
    # a DataModule by keyword: its training loader's batches reach the step
    (TRAINING_STEP, "trainer.fit(model, datamodule=loader)", ""): ("x, y", "x", True),
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
    wanted = expected and dict(zip(("batch_target", "arguments", "datamodule"), expected), loader="loader")
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


def test_a_trainer_told_its_accelerator_stays_a_trainer(tmp_path):
    """``pl.Trainer(..., accelerator='cpu')`` was read as device boilerplate (its text held "accelerator" and "cpu")
    and became ``trainer = torch.device("cpu")``: the train stage failed, ``'torch.device' object has no attribute
    'fit'`` (random Lightning notebooks)."""
    cells = _cells()
    source, tags = cells[4]
    cells[4] = (source.replace("pl.Trainer(", "pl.Trainer(accelerator='cpu', devices=1, "), tags)
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "told.ipynb", cells), project).ok
    assert "pl.Trainer(" in (project / "src" / "told" / "pipeline.py").read_text()
    done = run_in_project(project, "-m", "told", "train")
    assert done.returncode == 0, done.stderr[-3000:]

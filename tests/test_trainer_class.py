"""A notebook's own training-loop class (issue 9): ``trainer = Trainer(model=model, ...)``, ``trainer.train(loader)``.

Course notebooks (Made With ML's, for one) keep the loop in methods of their own ``Trainer`` class: the model is
``self.model``, stored by ``__init__``, and the loop lives in ``self.train_step(loader)``, reached from the method
the notebook calls. predict, serve and the export read the model's call there (codegen/call_scopes.py), including
``model(batch[:-1])``, where the model takes a list of its input tensors.
"""

from __future__ import annotations

import json

import numpy as np

from jupyterlab_promote import api
from jupyterlab_promote.codegen.batch_call import kept_loop_forward
from jupyterlab_promote.codegen.postprocessing import postprocessing
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import TINY_TORCH, lint_problems, run_in_project, write_notebook

_MODEL = (
    "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
    "class MLP(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fc = nn.Linear(3, 2)\n"
    "    def forward(self, inputs):\n"
    "        (x_in,) = inputs\n"
    "        return self.fc(x_in)\n"
    "model = MLP().to(device)"
)

_TRAINER = """class Trainer:
    def __init__(self, model, device, loss_fn=None, optimizer=None):
        self.model = model
        self.device = device
        self.loss_fn = loss_fn
        self.optimizer = optimizer

    def train_step(self, dataloader):
        self.model.train()
        for i, batch in enumerate(dataloader):
            batch = [item.to(self.device) for item in batch]
            inputs, targets = batch[:-1], batch[-1]
            self.optimizer.zero_grad()
            z = self.model(inputs)
            loss = self.loss_fn(z, targets)
            loss.backward()
            self.optimizer.step()

    def eval_step(self, dataloader):
        self.model.eval()
        predictions = []
        with torch.inference_mode():
            for batch in dataloader:
                inputs = batch[:-1]
                z = self.model(inputs)
                predictions.append(torch.argmax(z, dim=1))
        return torch.cat(predictions)

    def train(self, num_epochs, train_dataloader):
        for epoch in range(num_epochs):
            self.train_step(dataloader=train_dataloader)
"""

TRAINER_CLASS = [
    *TINY_TORCH[:3],
    (_MODEL, ["promote:model"]),
    (
        _TRAINER + "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
        "trainer = Trainer(model=model, device=device, loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer)\n"
        "trainer.train(epochs, loader)",
        ["promote:train"],
    ),
    ("acc = (trainer.eval_step(loader) == y).float().mean().item()", ["promote:evaluate"]),
]


def _plan(tmp_path, cells, name="trainer.ipynb"):
    return build_plan(read_notebook(write_notebook(tmp_path / name, cells)))


def test_the_call_is_read_from_the_method_the_trainer_class_runs(tmp_path):
    plan = _plan(tmp_path, TRAINER_CLASS)
    found = kept_loop_forward(plan, "model", {"X", "y", "loader", "device", "model", "MLP"})
    assert found == {
        "loader": "loader",
        "batch_target": "batch",
        "arguments": "batch[:-1]",  # the device moves of the comprehension dropped
        "input": "batch[:-1]",
        "listed": True,
        "forward": "model([features])",
    }
    # the evaluate method's argmax, reached through the instance the train step built
    assert postprocessing(plan, "model") == "argmax"


def test_a_trainer_whose_attributes_are_not_the_callers_names_gives_no_guess(tmp_path):
    unread = {
        # __init__ stores something built from the argument, not the argument itself
        "self.model = model": "self.model = nn.DataParallel(model)",
        # the loop's batch goes through a helper of the class before the call: not the batch's alone
        "z = self.model(inputs)": "z = self.model(self.prepare(inputs))",
    }
    for index, (old, new) in enumerate(unread.items()):
        cells = [*TRAINER_CLASS[:4], (TRAINER_CLASS[4][0].replace(old, new), ["promote:train"])]
        plan = _plan(tmp_path, cells, f"unread{index}.ipynb")
        assert kept_loop_forward(plan, "model", {"X", "y", "loader", "device", "model", "MLP"}) is None, new


def test_a_trainer_class_project_predicts_serves_and_exports(tmp_path):
    project = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "trainer.ipynb", TRAINER_CLASS), project)
    assert result.ok and result.plan.loop is None  # kept as written, on Fabric
    package = project / "src" / "trainer"
    assert "return model([features])" in (package / "schema.py").read_text()
    assert lint_problems(project) == []
    values = np.random.default_rng(3).standard_normal((30, 3)).astype(np.float32)
    np.save(project / "held.npy", values)
    code = (
        "import sys\nfrom trainer.__main__ import main\n"
        "codes = [main(['train', '--accelerator', 'cpu']), main(['register']), main(['export']),\n"
        "         main(['predict', '--input', 'held.npy', '--output', 'pred.npy', '--batch-size', '7'])]\n"
        "print('CODES', codes)\n"
        # the trained model called directly, as the notebook's loop calls it (the package is importable only here)
        "import json, numpy, torch\n"
        "model = torch.load('artifacts/train/model.pt', weights_only=False).eval()\n"
        "with torch.no_grad():\n"
        "    direct = model([torch.from_numpy(numpy.load('held.npy'))]).argmax(1)\n"
        "print('DIRECT', json.dumps(direct.tolist()))"
    )
    done = run_in_project(project, "-c", code)
    assert "CODES [0, 0, 0, 0]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    assert "model.pt2 (verified against the model on a real batch)" in done.stdout
    schema = json.loads((project / "artifacts" / "schema.json").read_text())
    assert schema["input"]["shape"] == [3] and schema["postprocess"] == "argmax"
    expected = np.array(json.loads(done.stdout.split("DIRECT", 1)[1]))
    assert np.array_equal(np.load(project / "pred.npy"), expected) and len(expected) == len(values)
    serve = (
        "import json, os\nfrom trainer import serve\nfrom trainer.config import load_config\n"
        "os.environ[serve.SCHEMA_ENV] = 'artifacts/schema.json'\n"
        "api = serve.ModelAPI(load_config('config.yaml', {}), 'artifacts/train/model.pt', 1, 0.0)\napi.setup('cpu')\n"
        f"request = serve.PredictRequest(inputs={values[:4].tolist()!r})\n"
        "print('SERVED', json.dumps(api.encode_response(api.predict(api.decode_request(request)))))"
    )
    done = run_in_project(project, "-c", serve)
    assert "SERVED" in done.stdout, done.stderr[-3000:]
    assert json.loads(done.stdout.split("SERVED", 1)[1]) == {"predictions": expected[:4].tolist()}, done.stderr[-3000:]
    # the generated forward test calls the model on a real batch as the loop does: model(batch[:-1]); the export
    # test checks one row of each tensor of that list (not the list's first tensor, which is the whole batch)
    assert "type(part)(tensor[:1] for tensor in part)" in (project / "tests" / "test_stages.py").read_text()
    selected = ("-k", "forward or exported")
    done = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selected, "tests")
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout[-3000:]

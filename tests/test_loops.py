"""Raw training loops: which map onto a LightningModule, and what the mapping keeps."""

from __future__ import annotations

import ast

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.analysis.loops import match_epoch_loop
from jupyterlab_promote.api import analyze
from jupyterlab_promote.codegen import generate

from .helpers import (
    TINY_TORCH,
    lint_problems,
    metrics_of,
    run_in_project,
    write_notebook,
)

CANONICAL = """
for epoch in range(n_epochs):
    model.train()
    for i, (x, y) in enumerate(train_loader):
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running += loss.item()
    model.eval()
    for x, y in val_loader:
        out = model(x)
        val_loss = criterion(out, y)
        total += val_loss.item()
    scheduler.step(total)
    if total <= best:
        best = total
        torch.save(model.state_dict(), "best.pt")
    print(epoch, running, total)
"""


def test_canonical_loop_maps_every_part():
    mapping = match_epoch_loop(ast.parse(CANONICAL).body[0])
    assert mapping is not None
    assert (mapping.model, mapping.optimizer, mapping.criterion) == ("model", "optimizer", "criterion")
    assert ast.unparse(mapping.epochs) == "n_epochs" and ast.unparse(mapping.train_loader) == "train_loader"
    assert [ast.unparse(s) for s in mapping.train.statements] == ["out = model(x)", "loss = criterion(out, y)"]
    assert mapping.train.batch_target == "x, y" and mapping.train.loss == "loss"
    assert mapping.validation.loss == "val_loss" and ast.unparse(mapping.val_loader) == "val_loader"
    assert ast.unparse(mapping.clip) == "1.0"
    assert (mapping.scheduler, mapping.scheduler_monitor) == ("scheduler", True)
    assert ast.unparse(mapping.checkpoint_path) == "'best.pt'"


def test_an_empty_tuple_in_the_batch_loop_is_code_not_a_move_to_device():
    loop = CANONICAL.replace("        out = model(x)\n", "        marks = ()\n        out = model(x)\n", 1)
    mapping = match_epoch_loop(ast.parse(loop).body[0])
    assert mapping is not None
    assert [ast.unparse(s) for s in mapping.train.statements][0] == "marks = ()"


def test_loops_with_unknown_statements_are_not_mapped():
    odd = CANONICAL.replace("    print(epoch, running, total)", "    if epoch == 3:\n        model.reset()")
    assert match_epoch_loop(ast.parse(odd).body[0]) is None
    full_batch = (
        "for t in range(100):\n    loss = crit(model(X), y)\n    opt.zero_grad()\n    loss.backward()\n    opt.step()"
    )
    assert match_epoch_loop(ast.parse(full_batch).body[0]) is None


def test_tiny_notebook_becomes_a_lightning_module(tmp_path):
    plan = analyze(write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH))
    assert plan.loop is not None and plan.loop.hparams == ["lr"]
    assert [d.code for d in plan.all_diagnostics if d.code in ("PRM014", "PRM022")] == ["PRM022"]
    files = generate(plan).files
    model = files["src/tiny/model.py"]
    assert "class LitModel(pl.LightningModule):" in model
    assert "self.criterion(self.model(xb), yb)" in model
    assert "torch.optim.SGD(self.model.parameters(), lr=self.hparams.lr)" in model
    pipeline = files["src/tiny/pipeline.py"]
    assert "trainer.fit(lit_model, train_dataloaders=loader)" in pipeline
    assert "fabric" not in pipeline and "backward" not in pipeline


def test_loop_inside_a_function_stays_on_fabric(tmp_path):
    cells = list(TINY_TORCH)
    source, tags = cells[4]
    cells[4] = ("def fit():\n" + "\n".join("    " + line for line in source.splitlines()) + "\nfit()", tags)
    plan = analyze(write_notebook(tmp_path / "tiny.ipynb", cells))
    assert plan.loop is None
    [kept] = [d for d in plan.all_diagnostics if d.code == "PRM014"]
    assert "inside a function" in kept.message
    pipeline = generate(plan).files["src/tiny/pipeline.py"]
    assert "fabric.backward(loss)" in pipeline and "fabric.setup(model, optimizer)" in pipeline


@pytest.mark.parametrize("where", ["in-the-train-cell", "untagged-below-the-parameters"])
def test_the_epoch_count_the_loop_reads_reaches_the_trainer(tmp_path, git_identity, where):
    """``n_epochs = 3`` above ``for epoch in range(n_epochs)`` was dropped with the loop it fed (exit 0, a package
    that stopped with NameError at ``max_epochs=n_epochs``); a parameter an untagged cell below the parameters cell
    sets again (``epochs = 3``) was read from the config instead (2 epochs where the notebook ran 3)."""
    cells = list(TINY_TORCH)
    source, tags = cells[4]
    if where == "in-the-train-cell":
        cells[4] = ("n_epochs = 3\n" + source.replace("range(epochs)", "range(n_epochs)"), tags)
    else:
        cells.insert(2, ("epochs = 3", None))
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "tiny.ipynb", cells), output)
    assert result.ok and not [d.format() for d in result.diagnostics if d.code == "PRM051"]
    pipeline = (output / "src" / "tiny" / "pipeline.py").read_text()
    assert "max_epochs=n_epochs" in pipeline if where == "in-the-train-cell" else "max_epochs=epochs" in pipeline
    pulled = [d.message for d in result.diagnostics if d.code == "PRM003"]
    if where == "in-the-train-cell":
        assert pulled == []
    else:
        assert len(pulled) == 1 and "--epochs does not reach this line" in pulled[0]
    assert lint_problems(output) == []
    done = run_in_project(output, "-m", "tiny", "train", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # three epochs of four batches, as the notebook ran them
    assert [p.name for p in (output / "artifacts" / "checkpoints").iterdir()] == ["epoch=2-step=12.ckpt"]


@pytest.mark.parametrize(
    ("before", "after", "mapped"),
    [
        ("wd = 1e-4", "optimizer = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd)", True),
        ("wd = lr / 1000", "optimizer = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd)", False),
        (
            "step = 1",
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step, gamma=0.5)",
            True,
        ),
    ],
    ids=["a-constant-the-optimizer-reads", "a-computed-value", "a-constant-the-scheduler-reads"],
)
def test_what_the_optimizer_reads_reaches_configure_optimizers(tmp_path, git_identity, before, after, mapped):
    """``wd = 1e-4`` then ``SGD(..., weight_decay=wd)`` in the train cell: configure_optimizers read ``wd``, a local of
    the train step, in the LightningModule (exit 0, NameError at fit). A constant is handed over as a hyperparameter
    now; another value keeps the loop on Fabric, as written."""
    cells = list(TINY_TORCH)
    source, tags = cells[4]
    source = source.replace("optimizer = torch.optim.SGD(model.parameters(), lr=lr)", before + "\n" + after)
    if "scheduler" in after:
        source += "\n    scheduler.step()"
    cells[4] = (source, tags)
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "tiny.ipynb", cells), output)
    assert result.ok and (result.plan.loop is not None) is mapped
    if not mapped:
        [kept] = [d.message for d in result.diagnostics if d.code == "PRM014"]
        assert "reads wd, which is no parameter or constant" in kept
    assert lint_problems(output) == []
    done = run_in_project(output, "-m", "tiny", "train", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


LIGHTNING_NATIVE = [
    "import torch\nimport pytorch_lightning as pl\nfrom torch.utils.data import DataLoader, TensorDataset",
    ("epochs = 1\ntorch.manual_seed(0)", ["parameters"]),
    (
        "X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=8)",
        ["promote:data"],
    ),
    (
        "class Lit(pl.LightningModule):\n"
        "    def __init__(self):\n        super().__init__()\n        self.net = torch.nn.Linear(3, 2)\n"
        "    def training_step(self, batch, batch_idx):\n        x, t = batch\n        return torch.nn.functional.cross_entropy(self.net(x), t)\n"
        "    def test_step(self, batch, batch_idx):\n        x, t = batch\n        self.log('test_acc', (self.net(x).argmax(1) == t).float().mean())\n"
        "    def configure_optimizers(self):\n        return torch.optim.SGD(self.parameters(), lr=0.1)\n"
        "model = Lit()",
        ["promote:model"],
    ),
    (
        "trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False)\ntrainer.fit(model, loader)",
        ["promote:train"],
    ),
    ("results = trainer.test(model, loader)", ["promote:evaluate"]),
]


def test_notebook_already_on_lightning_keeps_its_module_and_records_test_metrics(tmp_path, git_identity):
    from jupyterlab_promote import api

    notebook = write_notebook(tmp_path / "native.ipynb", LIGHTNING_NATIVE)
    plan = analyze(notebook)
    assert plan.lightning and plan.loop is None and plan.step("evaluate").metric_tables == ["results"]
    result = api.promote(notebook, tmp_path / "out")
    assert result.ok
    pipeline = (tmp_path / "out" / "src" / "native" / "pipeline.py").read_text()
    assert (
        "fabric" not in pipeline
        and "class Lit(pl.LightningModule)" in (tmp_path / "out" / "src" / "native" / "model.py").read_text()
    )
    done = run_in_project(tmp_path / "out", "-m", "native", "run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert 0.0 <= metrics_of(tmp_path / "out")["test_acc"] <= 1.0


def test_sklearn_only_notebook_says_there_is_no_pytorch(tmp_path):
    cells = [
        ("from sklearn.linear_model import LogisticRegression\nclf = LogisticRegression()", ["promote:model"]),
        ("clf.fit([[0], [1]], [0, 1])", ["promote:train"]),
    ]
    plan = analyze(write_notebook(tmp_path / "sk.ipynb", cells))
    [info] = [d for d in plan.all_diagnostics if d.code == "PRM013"]
    assert info.cell_index == 1 and not plan.torch


def test_progress_bars_and_no_grad_blocks_are_understood():
    source = (
        "for epoch in tqdm(range(epochs)):\n"
        "    model.train()\n"
        "    for xb, yb in tqdm(train_loader, desc='train'):\n"
        "        optimizer.zero_grad()\n"
        "        loss = criterion(model(xb), yb)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "    model.eval()\n"
        "    with torch.no_grad():\n"
        "        for xb, yb in val_loader:\n"
        "            val_loss = criterion(model(xb), yb)\n"
    )
    mapping = match_epoch_loop(ast.parse(source).body[0])
    assert mapping is not None
    assert ast.unparse(mapping.train_loader) == "train_loader" and ast.unparse(mapping.val_loader) == "val_loader"
    assert mapping.validation.loss == "val_loss"


CARRIED_STATE = [
    "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
    ("epochs = 2\ntorch.manual_seed(0)", ["parameters"]),
    (
        "X = torch.randn(32, 5, 3)\ny = (X.sum((1, 2)) > 0).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=8)",
        ["promote:data"],
    ),
    (
        "class Recurrent(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.rnn = nn.GRU(3, 4, batch_first=True)\n        self.head = nn.Linear(4, 2)\n\n"
        "    def forward(self, x, hidden):\n        out, hidden = self.rnn(x, hidden)\n"
        "        return self.head(out[:, -1]), hidden\n\n\nmodel = Recurrent()",
        ["promote:model"],
    ),
    (
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\nloss_fn = nn.CrossEntropyLoss()\n"
        "for epoch in range(epochs):\n    hidden = None\n    for xb, yb in loader:\n        optimizer.zero_grad()\n"
        "        logits, hidden = model(xb, hidden)\n        hidden = hidden.detach()\n"
        "        loss = loss_fn(logits, yb)\n        loss.backward()\n        optimizer.step()",
        ["promote:train"],
    ),
    (
        "with torch.no_grad():\n    logits, _ = model(X, None)\n    acc = (logits.argmax(1) == y).float().mean().item()",
        ["promote:evaluate"],
    ),
]


def test_a_loop_whose_batches_pass_state_on_is_kept_and_trains(tmp_path):
    # A training_step sees one batch: `hidden` from the batch before would be an undefined name there.
    plan = analyze(write_notebook(tmp_path / "carried.ipynb", CARRIED_STATE))
    assert plan.loop is None
    [kept] = [d for d in plan.all_diagnostics if d.code == "PRM014"]
    assert "reads hidden" in kept.message
    result = api.promote(plan.notebook.path, tmp_path / "out", commit=False)
    assert lint_problems(result.output) == []
    run = run_in_project(result.output, "-m", "carried", "run", "--smoke")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "acc" in metrics_of(result.output)

"""Raw training loops: which map onto a LightningModule, and what the mapping keeps."""

from __future__ import annotations

import ast

from jupyterlab_promote.api import analyze
from jupyterlab_promote.codegen import generate
from jupyterlab_promote.loops import match_epoch_loop

from .helpers import TINY_TORCH, write_notebook

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
    assert mapping.train.batch_target == "(x, y)" and mapping.train.loss == "loss"
    assert mapping.validation.loss == "val_loss" and ast.unparse(mapping.val_loader) == "val_loader"
    assert ast.unparse(mapping.clip) == "1.0"
    assert (mapping.scheduler, mapping.scheduler_monitor) == ("scheduler", True)
    assert ast.unparse(mapping.checkpoint_path) == "'best.pt'"


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

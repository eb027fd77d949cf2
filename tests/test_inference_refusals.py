"""Why a project gets no predict or serve, in the words of its README (issue 9): the cell, the line, the cause.

The notebook is the only place the model's call on one batch can be read from. When it cannot be, the refusal
names the call it looked at and what stood in the way, so the user knows what to change.
"""

from __future__ import annotations

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.codegen.call_site import unread_call
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import TINY_TORCH, write_notebook

_STEP = "    loss = nn.functional.cross_entropy(out, yb)\n    optimizer.zero_grad()\n    loss.backward()\n    optimizer.step()\n"

UNREAD = {
    # the loop makes its own data: no loader a stage saves feeds the model
    "for step in range(epochs):\n    xb = torch.randn(8, 3)\n    yb = (xb.sum(1) > 0).long()\n    out = model(xb)\n"
    + _STEP: "`model(xb)` (cell 4, id cell-4, line 5) runs on data its loop builds itself (`for step in range(epochs)`)",
    # a name from outside the batch goes into the call
    "noise = torch.randn(3)\nfor xb, yb in loader:\n    out = model(xb + noise)\n"
    + _STEP: "`model(xb + noise)` (cell 4, id cell-4, line 4) takes something besides the batch that "
    "`for (xb, yb) in loader` draws",
    # one step on the whole data, outside any loop
    "xb, yb = X, y\nout = model(xb)\n"
    + _STEP.replace("    ", ""): "`model(xb)` (cell 4, id cell-4, line 3) is not inside a loop over batches",
}


@pytest.mark.parametrize("loop", list(UNREAD), ids=["own data", "outside the batch", "no loop"])
def test_an_unread_call_is_named_with_what_stood_in_the_way(tmp_path, loop):
    train = "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n" + loop
    cells = [*TINY_TORCH[:4], (train, ["promote:train"])]
    plan = build_plan(read_notebook(write_notebook(tmp_path / "unread.ipynb", cells)))
    assert UNREAD[loop] in unread_call(plan, "model")


def test_a_model_local_to_a_function_is_named_where_it_is_built(tmp_path):
    """The PyTorch examples' layout: ``main()`` builds the model, trains it and returns only metrics."""
    main = (
        "def main():\n"
        "    model = nn.Linear(3, 2)\n"
        "    net = Net().to('cpu')\n"
        "    optimizer = torch.optim.SGD(net.parameters(), lr=lr)\n"
        "    for xb, yb in loader:\n"
        "        optimizer.zero_grad()\n"
        "        nn.functional.cross_entropy(net(xb), yb).backward()\n"
        "        optimizer.step()\n"
        "    return (net(X).argmax(1) == y).float().mean().item()\n"
        "acc = main()"
    )
    cells = [*TINY_TORCH[:3], ("class Net(nn.Module):\n    def forward(self, x):\n        return x", ["promote:model"])]
    notebook = write_notebook(tmp_path / "local.ipynb", [*cells, (main, ["promote:train"])])
    project = tmp_path / "out"
    assert api.promote(notebook, project, commit=False).ok
    readme = (project / "README.md").read_text()
    assert "`Net()` is built inside `main()` (cell 4, id cell-4, line 3) and never leaves it" in readme
    assert not (project / "src" / "local" / "predict.py").exists()

"""Realistic notebooks of any size for the scaling benchmarks and tests: the demo's pipeline plus N helper cells.

Each extra code cell is one of: a tagged helper (``promote:functions``), an untagged exploration cell, a
skip-tagged plot, a preprocessing step, or an untagged cell with IPython syntax (``%time``, ``!ls``), in a
fixed rotation, with a markdown cell every fifth cell, as a long working notebook accumulates them.
"""

from __future__ import annotations

import json
from pathlib import Path

_HEAD = [
    (None, "%matplotlib inline\nimport matplotlib.pyplot as plt\nimport torch\nfrom torch import nn\n"
     "from torch.utils.data import DataLoader, TensorDataset\nfrom sklearn.datasets import make_moons\n"
     "from sklearn.model_selection import train_test_split"),
    (["parameters"], "seed = 7\nn_samples = 2000\nnoise = 0.2\nbatch_size = 64\nhidden = 32\nlr = 0.01\n"
     "epochs = 20  # passes over the training set\ntorch.manual_seed(seed)"),
    (["promote:data"], "X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)\n"
     "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)\n\n"
     "def to_dataset(features, labels):\n"
     "    return TensorDataset(torch.tensor(features, dtype=torch.float32), torch.tensor(labels))\n\n"
     "train_loader = DataLoader(to_dataset(X_train, y_train), batch_size=batch_size, shuffle=True)\n"
     "test_loader = DataLoader(to_dataset(X_test, y_test), batch_size=256)"),
]
_TAIL = [
    (["promote:model"], "class MoonNet(nn.Module):\n    def __init__(self, hidden):\n        super().__init__()\n"
     "        self.layers = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))\n\n"
     "    def forward(self, x):\n        return self.layers(x)\n\nmodel = MoonNet(hidden)"),
    (["promote:train"], "optimizer = torch.optim.Adam(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()\n"
     "for epoch in range(epochs):\n    model.train()\n    for features, labels in train_loader:\n"
     "        optimizer.zero_grad()\n        loss = loss_fn(model(features), labels)\n        loss.backward()\n"
     "        optimizer.step()\n    print(f\"epoch {epoch + 1}: loss {loss.item():.4f}\")"),
    (["promote:evaluate"], "model.eval()\ncorrect = 0\nwith torch.no_grad():\n    for features, labels in test_loader:\n"
     "        correct += (model(features).argmax(1) == labels).sum().item()\n"
     "test_acc = correct / len(test_loader.dataset)\nprint(f\"test accuracy {test_acc:.3f}\")"),
]


def _extra_cell(i: int) -> tuple[list[str] | None, str]:
    kind = i % 5
    if kind == 0:
        return ["promote:functions"], (
            f"def feature_{i}(values, scale={i % 7 + 1}):\n"
            f'    """Scaled mean of ``values`` (helper {i})."""\n'
            "    total = 0.0\n    for value in values:\n        total += value * scale\n"
            "    return total / max(len(values), 1)"
        )
    if kind == 1:
        return None, f"summary_{i} = [round(float(v), 3) for v in X_train[:5, 0]]\nprint(len(summary_{i}), summary_{i})"
    if kind == 2:
        return ["promote:skip"], f"plt.figure()\nplt.scatter(X[:, 0], X[:, 1], c=y, s={i % 9 + 1})\nplt.title(\"view {i}\")"
    if kind == 3:
        return ["promote:preprocess"], f"X_train = X_train * 1.0  # keep dtype, step {i}\nX_test = X_test * 1.0"
    return None, f"%time total_{i} = sum(range({i}))\n!echo cell {i}"


def notebook(code_cells: int) -> dict:
    """A notebook with ``code_cells`` code cells (at least the six of the pipeline)."""
    extras = [_extra_cell(i) for i in range(max(0, code_cells - len(_HEAD) - len(_TAIL)))]
    cells = []
    for number, (tags, source) in enumerate(_HEAD + extras + _TAIL):
        if number % 5 == 4:
            cells.append({"cell_type": "markdown", "id": f"md-{number}", "metadata": {}, "source": f"## Part {number}"})
        metadata = {"tags": tags} if tags else {}
        cells.append(
            {
                "cell_type": "code",
                "id": f"cell-{number}",
                "metadata": metadata,
                "execution_count": None,
                "outputs": [],
                "source": source.splitlines(keepends=True),
            }
        )
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: Path, code_cells: int) -> Path:
    path.write_text(json.dumps(notebook(code_cells), indent=1), encoding="utf-8")
    return path

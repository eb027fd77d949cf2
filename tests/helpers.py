"""Shared test helpers: build small notebooks, find our fixture notebooks and the shared corpus."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

# Real public notebooks beside the repository (../shared); a fresh clone has none, so tests skip.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS_MISSING = f"shared corpus absent ({CORPUS}); tests/fixtures covers the same features"
requires_corpus = pytest.mark.skipif(not (CORPUS / "expected.json").is_file(), reason=CORPUS_MISSING)
# Small notebooks written for these tests (tests/fixtures/make_fixtures.py), always present.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def corpus_notebooks() -> list[Path]:
    return sorted(CORPUS.glob("*.ipynb"))


def write_notebook(path: Path, cells: list[tuple[str, list[str]] | str]) -> Path:
    """Cells as (source, tags) pairs, or a bare source for an untagged cell."""
    notebook = nbformat.v4.new_notebook()
    for index, cell in enumerate(cells):
        source, tags = (cell, []) if isinstance(cell, str) else cell
        node = nbformat.v4.new_code_cell(source, id=f"cell-{index}")
        if tags:
            node.metadata["tags"] = tags
        notebook.cells.append(node)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


TINY_TORCH = [
    "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
    ("epochs = 2\nbatch_size = 16\nlr = 0.1\ntorch.manual_seed(0)", ["parameters"]),
    (
        "X = torch.randn(64, 3)\ny = (X.sum(1) > 0).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=batch_size)",
        ["promote:data"],
    ),
    ("model = nn.Linear(3, 2)", ["promote:model"]),
    (
        "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
        "loss_fn = nn.CrossEntropyLoss()\n"
        "for epoch in range(epochs):\n"
        "    for xb, yb in loader:\n"
        "        optimizer.zero_grad()\n"
        "        loss = loss_fn(model(xb), yb)\n"
        "        loss.backward()\n"
        "        optimizer.step()",
        ["promote:train"],
    ),
    ("with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()", ["promote:evaluate"]),
]


def run_in_project(project: Path, *args: str, timeout: int = 300, env: dict[str, str] | None = None):
    """Run ``python ARGS`` inside a generated project, as its README says (src on the path, one thread)."""
    import subprocess
    import sys

    env = {"PYTHONPATH": "src", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": str(project), **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout
    )


def metrics_of(project: Path) -> dict:
    import json

    return json.loads((project / "artifacts" / "metrics.json").read_text())


def lint_problems(project: Path) -> list[str]:
    """What the generated project's own CI would reject: ruff (E4,E7,E9,F,I) and black, as generated."""
    import subprocess
    import sys

    found = []
    for command in (
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--output-format",
            "concise",
            "--select",
            "E4,E7,E9,F,I",
            ".",
        ],
        [sys.executable, "-m", "black", "--check", "--quiet", "."],
    ):
        done = subprocess.run(command, cwd=project, capture_output=True, text=True)
        if done.returncode:
            found.append(f"{command[2]}: {done.stdout}{done.stderr}")
    return found


# Generated modules that hold none of the notebook's own statements: every line in them is ours.
TEMPLATE_MODULES = {
    "__main__.py",
    "config.py",
    "runtime.py",
    "stages.py",
    "schema.py",
    "predict.py",
    "serve.py",
    "registry.py",
    "tuning.py",
    "drift.py",
    "deploy.py",
    "kubeflow.py",
    "test_pipeline.py",
    "test_stages.py",
}


def comment_wrapped_statements(project: Path) -> list[str]:
    """Lines of ours that black wrapped in brackets only to fit their trailing comment (``if (`` / ``x`` /
    ``):  # why``, or ``name: float = (`` / ``0.2  # why`` / ``)``, where the statement alone fits in 88 columns):
    no engineer writes that; the comment belongs above."""
    import re

    found = []
    for path in sorted(project.rglob("*.py")):
        if path.name not in TEMPLATE_MODULES:
            continue
        lines = path.read_text().splitlines()
        for index in range(len(lines) - 2):
            opened, inner, closed = lines[index : index + 3]
            if not opened.endswith("(") or inner.endswith(","):
                continue
            code, comment = closed.partition("  # ")[::2]
            inner_code, inner_comment = inner.partition("  # ")[::2]
            if comment and re.match(r"\s*\)", code):
                whole = opened + inner.strip() + code.strip()
            elif inner_comment and closed.strip() == ")":
                whole = opened + inner_code.strip() + ")"
            else:
                continue
            if len(whole) <= 88:
                found.append(f"{path.relative_to(project)}:{index + 1}: {opened.strip()} … {closed.strip()}")
    return found


# A LightningModule notebook whose evaluate cell is a bare `trainer.test(model, loader)`.
TINY_LIGHTNING = [
    "import pytorch_lightning as pl\nimport torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
    ("epochs = 1\ntorch.manual_seed(0)", ["parameters"]),
    (
        "X = torch.randn(64, 3)\ny = (X.sum(1) > 0).long()\nloader = DataLoader(TensorDataset(X, y), batch_size=16)",
        ["promote:data"],
    ),
    (
        "class Lit(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
        "        self.net = nn.Linear(3, 2)\n"
        "    def training_step(self, batch, batch_idx):\n        x, y = batch\n"
        "        return nn.functional.cross_entropy(self.net(x), y)\n"
        "    def test_step(self, batch, batch_idx):\n        x, y = batch\n"
        "        self.log('test_acc', (self.net(x).argmax(1) == y).float().mean())\n"
        "    def configure_optimizers(self):\n        return torch.optim.SGD(self.parameters(), lr=0.1)\n\n"
        "model = Lit()",
        ["promote:model"],
    ),
    (
        "trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False)\n"
        "trainer.fit(model, loader)",
        ["promote:train"],
    ),
    ("trainer.test(model, loader)", ["promote:evaluate"]),
]


@contextmanager
def serving(project: Path, port: int, *args: str) -> Iterator[int]:
    """`python -m PACKAGE serve --port PORT ARGS…` in ``project`` until /health answers 200; stopped on exit with
    its workers (a process group of its own)."""
    env = {"PYTHONPATH": "src", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": str(project)}
    process = subprocess.Popen(
        [sys.executable, "-m", *args[:1], "serve", "--port", str(port), *args[1:]],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.5)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its workers
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

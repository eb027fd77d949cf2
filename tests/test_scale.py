"""Inputs far beyond a normal notebook still analyse (issue 12): no timing asserts, only that they finish.

Times on a loaded 2-core machine, and the 5 MB cell, are in benchmarks/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from jupyterlab_promote import api

BASE = [
    (["parameters"], "lr = 0.1\nepochs = 2"),
    (["promote:data"], "xs = [1.0, 2.0, 3.0]"),
    (["promote:train"], "w = sum(xs) * lr * epochs"),
    (["promote:evaluate"], "score = float(w)"),
]


def write(path: Path, cells: list[tuple[list[str] | None, str]]) -> Path:
    document = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{i}",
                "metadata": {"tags": tags} if tags else {},
                "source": source,
                "execution_count": None,
                "outputs": [],
            }
            for i, (tags, source) in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_cell_of_20000_statements_analyses(tmp_path: Path) -> None:
    body = "".join(f"v{i} = xs[0] + {i}\n" for i in range(20_000))
    plan = api.analyze(write(tmp_path / "long.ipynb", [*BASE, (["promote:data"], body)]))
    assert plan.ok
    data = next(cell for cell in plan.cells if cell.cell.index == 4)
    assert len(data.names.statements) == 20_000 and "v19999" in data.names.binds


def test_a_megabyte_cell_analyses(tmp_path: Path) -> None:
    line = "total = total + 1.0  # padding to make the cell large\n"
    body = "total = 0.0\n" + line * (2**20 // len(line))
    plan = api.analyze(write(tmp_path / "big.ipynb", [*BASE, (["promote:data"], body)]))
    assert plan.ok


def test_ten_thousand_cells_analyse(tmp_path: Path) -> None:
    helpers = [(["promote:functions"] if i % 2 else None, f"def f{i}(a):\n    return a + {i}\n") for i in range(10_000)]
    plan = api.analyze(write(tmp_path / "many.ipynb", [*BASE, *helpers]))
    assert plan.ok and len(plan.cells) == 10_004


def test_a_line_of_100000_characters_analyses_and_promotes(tmp_path: Path) -> None:
    literal = "big = [" + ", ".join(str(i % 10) for i in range(33_333)) + "]\n"
    assert len(literal) >= 100_000
    notebook = write(tmp_path / "wide.ipynb", [*BASE, (["promote:skip"], literal), (None, "print(len(big))")])
    assert api.analyze(notebook).ok
    assert api.promote(notebook, tmp_path / "out", commit=False).ok

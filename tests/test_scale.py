"""Inputs far beyond a normal notebook still analyse (issue 12): no timing asserts, only that they finish,
and that the work done per AST node stays bounded, whatever the size.

Times on a loaded 2-core machine, and the 5 MB cell, are in benchmarks/README.md.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.analysis import syntax_index
from jupyterlab_promote.codegen.formatting_estimate import formatting_estimate

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


def test_a_megabyte_cell_analyses(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_FORMAT_WORKERS", "1")
    line = "total = total + 1.0 ** 2  # padding to make the cell large\n"
    body = "total = 0.0\n" + line * (2**20 // len(line))
    plan = api.analyze(write(tmp_path / "big.ipynb", [*BASE, (["promote:data"], body)]))
    assert plan.ok
    # promotion will wait on black: the progress line says how long (a small notebook says nothing)
    assert formatting_estimate(plan).startswith("black formats 1.0 MB of code: about 7 s")
    assert formatting_estimate(api.analyze(write(tmp_path / "small.ipynb", BASE))) is None
    # the same megabyte written as black writes it: plain statements (plain_lines) skip black, nothing to wait for
    plain = api.analyze(write(tmp_path / "plain.ipynb", [*BASE, (["promote:data"], body.replace(" ** 2", ""))]))
    assert formatting_estimate(plain) is None
    # in two worker processes, half the time
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_FORMAT_WORKERS", "2")
    assert formatting_estimate(plan) is None  # 3.5 s: not worth a word


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


# A block of ordinary training-notebook statements: calls, paths written and read, a def, a lambda, a loop.
BLOCK = """\
frame = pd.read_csv("data/train.csv")
frame = frame.dropna()
scale = lambda v: v / 255.0
def save_table(table, path):
    table.to_csv(path)
save_table(frame, "out/table.csv")
for epoch in range(epochs):
    loss = criterion(model(xs), ys)
    loss.backward()
torch.save(model.state_dict(), "model.pt")
"""


def _expansions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copies: int) -> tuple[int, int]:
    """(nodes expanded while analysing a cell of ``copies`` blocks, nodes of that cell).

    A node is expanded when ast.walk or a NodeVisitor lists its children (both go through ast.iter_fields),
    or when a statement's node index lists it.
    """
    counted = {"expanded": 0}
    iter_fields, index = ast.iter_fields, syntax_index.NodeIndex.__init__

    def counting_iter_fields(node):
        counted["expanded"] += 1
        return iter_fields(node)

    def counting_index(self, root):
        index(self, root)
        counted["expanded"] += len(self.nodes)

    monkeypatch.setattr(ast, "iter_fields", counting_iter_fields)
    monkeypatch.setattr(syntax_index.NodeIndex, "__init__", counting_index)
    header = "import pandas as pd\nimport torch\n"
    body = header + BLOCK * copies
    plan = api.analyze(write(tmp_path / f"blocks{copies}.ipynb", [*BASE, (["promote:train"], body)]))
    monkeypatch.undo()
    assert plan.ok
    return counted["expanded"], sum(1 for _ in ast.walk(ast.parse(body)))


def test_each_node_of_a_cell_is_looked_at_a_bounded_number_of_times(tmp_path, monkeypatch):
    """The stages share one index per statement instead of each walking every statement again (issue 12:
    a 1 MB cell took ~10 full walks). Twice the code costs twice the node visits, and only a few per node."""
    small, small_nodes = _expansions(tmp_path, monkeypatch, 200)
    large, large_nodes = _expansions(tmp_path, monkeypatch, 400)
    assert large_nodes > 1.9 * small_nodes
    assert large - small <= 1.05 * (large_nodes - small_nodes) * (small / small_nodes)  # linear in the code
    assert large / large_nodes < 4  # the index, the names visitor, and function bodies looked at for paths


def test_a_five_megabyte_literal_promotes_as_a_data_file(tmp_path: Path) -> None:
    """A cell of data: stored beside the code (stages/literals.py), so black formats a few lines, not 900,000."""
    values = [round(i % 1000 / 10, 1) for i in range(900_000)]
    body = f"data = {values!r}\n"
    assert len(body) > 5_000_000
    notebook = write(
        tmp_path / "literal.ipynb", [*BASE, (["promote:data"], body), (["promote:evaluate"], "n = len(data)")]
    )
    result = api.promote(notebook, tmp_path / "out", commit=False)
    assert result.ok and formatting_estimate(result.plan) is None  # the data is not code black formats
    package = result.output / "src" / "literal"
    assert (package / "pipeline.py").stat().st_size < 20_000
    (stored,) = (package / "literals").glob("data-*.json")
    assert json.loads(stored.read_text()) == values


def test_the_collector_pause_leaves_nothing_frozen_and_cycles_collectable() -> None:
    """What the analysis made while the collector was paused skips the young generations, and no more: nothing stays
    frozen, a cycle made meanwhile is still collected, and a freeze somebody else made is left as it was."""
    import gc
    import weakref

    from jupyterlab_promote.analysis.cells import cyclic_gc_paused

    class Node:
        pass

    with cyclic_gc_paused():
        first, second = Node(), Node()
        first.other, second.other = second, first  # a reference cycle: only the collector frees it
        alive = weakref.ref(first)
        del first, second
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None

    kept = [Node() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with cyclic_gc_paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    assert kept


def test_ten_thousand_cells_promote_and_an_edit_formats_one_definition_again(tmp_path: Path, monkeypatch) -> None:
    """The first promotion formats the 5,000 promoted definitions in worker processes; the module is black's
    output for the whole. After an edit of one cell, black formats again only the definition it touched."""
    import black

    from jupyterlab_promote.codegen import black_workers, render

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_FORMAT_WORKERS", "2")
    monkeypatch.setattr(black_workers, "PARALLEL_CHARACTERS", 50_000)
    render.forget_formatted()
    batches: list[int] = []
    run_worker = black_workers._run_worker
    monkeypatch.setattr(
        black_workers, "_run_worker", lambda texts, key: batches.append(len(texts)) or run_worker(texts, key)
    )
    helpers = [(["promote:functions"] if i % 2 else None, f"def f{i}(a):\n    return a+{i}\n") for i in range(10_000)]
    notebook = write(tmp_path / "many.ipynb", [*BASE, *helpers])
    assert api.promote(notebook, tmp_path / "first", commit=False).ok
    pipeline = (tmp_path / "first" / "src" / "many" / "pipeline.py").read_text()
    assert pipeline.count("\ndef f") == 5_000
    assert len(batches) == 2 and sum(batches) > 5_000  # two workers, every definition (and the other pieces)
    assert black.format_str(pipeline, mode=render.project_mode()) == pipeline

    document = json.loads(notebook.read_text())
    document["cells"][4 + 2_001]["source"] = "def f2001(a):\n    return a+20010\n"
    notebook.write_text(json.dumps(document))
    formatted: list[str] = []
    real = black.format_str
    monkeypatch.setattr(black, "format_str", lambda source, **kw: formatted.append(source) or real(source, **kw))
    assert api.promote(notebook, tmp_path / "second", commit=False).ok
    assert [piece for piece in formatted if "def f" in piece] == [
        "# cell 2005 (id c2005)\ndef f2001(a):\n    return a+20010\n"
    ]
    edited = (tmp_path / "second" / "src" / "many" / "pipeline.py").read_text()
    assert edited == pipeline.replace("return a + 2001\n", "return a + 20010\n")


@pytest.fixture
def unformatted(monkeypatch):
    """No formatting remembered, in this process or on disk: ruff runs."""
    from jupyterlab_promote.codegen import render

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    render.forget_formatted()
    yield
    render.forget_formatted()


def test_code_beyond_ruff_s_memory_is_a_diagnostic_at_its_cell(tmp_path: Path, monkeypatch, unformatted) -> None:
    """ruff's memory grows with the square of a chain of `x = x + 1` in one scope (40,000: 3.6 GB, 80,000: 14 GB).
    Past its limit (half the machine; 300 MB here, which 12,000 need) promotion stops at the cell, writes nothing."""
    from jupyterlab_promote.codegen import ruff_limits

    monkeypatch.setattr(ruff_limits, "_memory_limit", lambda: 300 * 2**20)
    chain = "total = 0.0\n" + "total += 1.0\n" * 6_000 + "total = total * 1.0\n" * 6_000
    notebook = write(tmp_path / "chain.ipynb", [*BASE, (["promote:evaluate"], f"score = float(w)\n{chain}")])
    result = api.promote(notebook, tmp_path / "out", commit=False)
    (problem,) = [d for d in result.diagnostics if d.code == "PRM045"]
    assert (problem.cell_index, problem.cell_id, problem.line) == (4, "c4", 3)
    assert "'total' is rebound from itself 12,000 times in one scope" in problem.message
    assert not (tmp_path / "out").exists()


def test_ruff_out_of_time_is_a_diagnostic(tmp_path: Path, monkeypatch, unformatted) -> None:
    from jupyterlab_promote.codegen import ruff_limits

    monkeypatch.setattr(ruff_limits, "_RUFF_SECONDS", 0.001)
    result = api.promote(write(tmp_path / "nb.ipynb", BASE), tmp_path / "out", commit=False)
    (problem,) = [d for d in result.diagnostics if d.code == "PRM045"]
    assert problem.message.startswith("ruff, the linter every generated project runs, cannot check this code within")
    assert not (tmp_path / "out").exists()


def test_ruff_s_memory_is_half_of_the_container_s_where_a_cgroup_limits_it(tmp_path: Path, monkeypatch) -> None:
    from jupyterlab_promote.codegen import ruff_limits

    limited, unlimited = tmp_path / "memory.max", tmp_path / "unlimited"
    limited.write_text("2147483648\n")
    unlimited.write_text("max\n")
    monkeypatch.setattr(ruff_limits, "_CGROUP_LIMITS", (str(unlimited), str(tmp_path / "absent")))
    machine = ruff_limits._memory_limit()
    assert machine is not None and machine > 2**30
    monkeypatch.setattr(ruff_limits, "_CGROUP_LIMITS", (str(unlimited), str(limited)))
    assert ruff_limits._memory_limit() == 2**30

"""Pathological sizes (issues 7 and 12): analysis of one huge cell, of many cells, of one very long line.

    python benchmarks/bench_sizes.py                          # every row, this checkout
    python benchmarks/bench_sizes.py --before ../old_checkout # each row for both trees, back to back
    python benchmarks/bench_sizes.py --rows 1mb literal       # some rows only
    python benchmarks/bench_sizes.py --rows promote5          # full promote of the 5 MB cell, black's share
    python benchmarks/bench_sizes.py --rows promote_literal   # full promote of the 5 MB literal (stored as data)
    python benchmarks/bench_sizes.py --rows promote_table50   # full promote of a 50 MB table of numbers

Each row runs in a fresh process per tree; timings are CPU seconds (getrusage), the load is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = {
    "1mb": "analyze one 1 MB cell of ordinary statements",
    "5mb": "analyze one 5 MB cell of ordinary statements",
    "literal": "analyze one 5 MB cell that is one list literal",
    "10k": "analyze 10,000 cells (synthetic.py)",
    "wide": "analyze one line of 100,000 characters",
    "promote5": "promote the 5 MB cell, one chain of 90,000 self-rebindings (commit=False, format cache empty)",
    "promote5names": "promote a 5 MB cell of 90,000 statements over 1,000 names (same)",
    "edit5names": "promote that cell again after an edit of one statement",
    "promote_literal": "promote the 5 MB literal (same, plus peak RSS)",
    "promote_table20": "promote a 20 MB table of numbers (4-number rows, one cell)",
    "promote_table50": "promote a 50 MB table of numbers (same)",
    "promote_array20": "promote a 20 MB table of numbers passed to np.array in one cell (same)",
    "promote_vocab5": "promote a 5 MB list of strings on one line, a vocabulary (same)",
    "promote_records20": "promote 20 MB of records in one cell, one dict a line, as black writes them (same)",
    "promote_printed20": "promote 20 MB of records as Python prints them: tuples, None, True, single quotes (same)",
    "promote_printed50": "promote 50 MB of such records (same)",
    "promote_frame20": "promote a 20 MB pd.DataFrame(rows, columns=[...]) of records with strings (same)",
    "promote_lookup20": "promote a 20 MB dict keyed by numbers, {17: 'label 17', ...} (same)",
    "promote10k": "promote 10,000 cells (same)",
    "edit10k": "promote 10,000 cells again after an edit of one helper cell",
}
PROMOTE_ROWS = (
    "promote5", "promote5names", "edit5names", "promote_literal", "promote_table20", "promote_table50", "promote_array20", "promote_vocab5",
    "promote_records20", "promote_printed20", "promote_printed50", "promote_frame20", "promote_lookup20", "promote10k",
    "edit10k",
)


def _cpu() -> float:
    """This process and the children it waited for (black's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _write(path: Path, cells: list[tuple[list[str], str]]) -> Path:
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": f"c{i}", "metadata": {"tags": t}, "source": s, "execution_count": None, "outputs": []}
        for i, (t, s) in enumerate(cells)]}
    path.write_text(json.dumps(document))
    return path


def _items(megabytes: float, item) -> list[str]:
    """``item(0)``, ``item(1)``, ... until they take ``megabytes`` written with a separator of two characters."""
    items, size = [], 0
    while size < megabytes * 2**20:
        items.append(item(len(items)))
        size += len(items[-1]) + 2
    return items


def _data_notebook(path: Path, data: str, train: str) -> Path:
    """A parameters cell, the data cell, and a train step that reads it."""
    return _write(path, [(["parameters"], "lr = 0.1"), (["promote:data"], data), (["promote:train"], train)])


def _literal_cell(folder: Path, megabytes: float) -> Path:
    items = _items(megabytes, lambda i: f"{(i % 1000) / 10:.1f}")
    return _data_notebook(folder / "literal.ipynb", "data = [" + ", ".join(items) + "]\n", "w = sum(data) * lr")


def _table_cell(folder: Path, megabytes: float, array: bool = False) -> Path:
    """A table pasted into a cell, one row of four numbers per line (``array``: as np.array's argument)."""
    rows = _items(megabytes, lambda i: f"    [{i % 97 / 7:.4f}, {i % 13}, {-(i % 31) / 3:.5f}, {i * 0.001:.3f}]")
    table = "[\n" + ",\n".join(rows) + "\n]"
    body = f"import numpy as np\ntable = np.array({table}, dtype=float)" if array else f"table = {table}"
    return _data_notebook(folder / "table.ipynb", body + "\nn = len(table)", "w = sum(r[0] for r in table) * lr / n")


def _vocabulary_cell(folder: Path, megabytes: float) -> Path:
    """A vocabulary pasted as a list of strings on one line, non-ASCII words among them."""
    words = _items(megabytes, lambda i: f'"{["token", "naïve", "Straße", "日本"][i % 4]}_{i}"')
    body = "vocab = [" + ", ".join(words) + "]\nindex = {w: i for i, w in enumerate(vocab)}"
    return _data_notebook(folder / "vocab.ipynb", body, "w = len(index) * lr")


def _records_cell(folder: Path, megabytes: float) -> Path:
    """Records pasted into a cell as a list of dicts, one a line with black's trailing comma."""
    rows = _items(megabytes, lambda i: f'    {{"id": {i}, "name": "user {i}", "score": {i % 89 / 7:.4f}, "tags": ["a{i % 7}", "b"]}}')
    body = "records = [\n" + ",\n".join(rows) + ",\n]"
    return _data_notebook(folder / "records.ipynb", body, "w = sum(r['score'] for r in records) * lr")


def _printed_cell(folder: Path, megabytes: float) -> Path:
    """Records pasted as Python printed them (``print(rows)``): tuples, None, True and False, single quotes."""
    rows = _items(megabytes, lambda i: f"({i}, 'user {i}', {None if i % 9 == 0 else i % 89 / 7}, {i % 3 == 0})")
    body = "rows = [" + ", ".join(rows) + "]"
    return _data_notebook(folder / "printed.ipynb", body, "w = sum(r[2] or 0 for r in rows) * lr")


def _frame_cell(folder: Path, megabytes: float) -> Path:
    """A table of records with strings handed to pandas in the cell that pastes it."""
    rows = _items(megabytes, lambda i: f'[{i}, "user {i}", {i % 89 / 7:.4f}]')
    body = f"import pandas as pd\nframe = pd.DataFrame([{', '.join(rows)}], columns=['id', 'name', 'score'])"
    return _data_notebook(folder / "frame.ipynb", body, "w = float(frame['score'].sum()) * lr")


def _lookup_cell(folder: Path, megabytes: float) -> Path:
    """A dict keyed by numbers, as Python prints one (JSON has no such key)."""
    pairs = _items(megabytes, lambda i: f"{i * 3}: 'label {i}'")
    return _data_notebook(folder / "lookup.ipynb", "names = {" + ", ".join(pairs) + "}", "w = len(names) * lr")


def _wide_line(folder: Path) -> Path:
    literal = "big = [" + ", ".join(str(i % 10) for i in range(33_333)) + "]\n"
    return _write(folder / "wide.ipynb", [(["parameters"], "lr = 0.1"), (["promote:data"], "xs = [1.0, 2.0]"),
                                          (["promote:train"], "w = sum(xs) * lr"), (["promote:skip"], literal),
                                          ([], "print(len(big))")])


def _notebook(row: str, folder: Path) -> Path:
    from bench_targets import big_cell_notebook
    from synthetic import write_notebook

    if row in ("1mb", "5mb", "promote5", "promote5names", "edit5names"):
        return big_cell_notebook(folder, 1 if row == "1mb" else 5, 1 if row in ("1mb", "5mb", "promote5") else 1000)
    if row in ("literal", "promote_literal"):
        return _literal_cell(folder, 5)
    if row in ("promote_table20", "promote_table50"):
        return _table_cell(folder, 20 if row == "promote_table20" else 50)
    if row == "promote_array20":
        return _table_cell(folder, 20, array=True)
    if row == "promote_vocab5":
        return _vocabulary_cell(folder, 5)
    if row == "promote_records20":
        return _records_cell(folder, 20)
    if row in ("promote_printed20", "promote_printed50"):
        return _printed_cell(folder, 20 if row == "promote_printed20" else 50)
    if row == "promote_frame20":
        return _frame_cell(folder, 20)
    if row == "promote_lookup20":
        return _lookup_cell(folder, 20)
    if row in ("10k", "promote10k", "edit10k"):
        return write_notebook(folder / "nb10k.ipynb", 10_000)
    return _wide_line(folder)


def _edit_one_helper(notebook: Path) -> None:
    document = json.loads(notebook.read_text())
    helpers = [c for c in document["cells"] if "promote:functions" in c["metadata"].get("tags", [])]
    cell = helpers[len(helpers) // 2]
    cell["source"] = "".join(cell["source"]).replace("total = 0.0", "total = 0.5")
    notebook.write_text(json.dumps(document))


def _edit_one_statement(notebook: Path) -> None:
    document = json.loads(notebook.read_text())
    cell = document["cells"][-1]
    cell["source"] = "".join(cell["source"]).replace("total_500 = total_501 + 1.0", "total_500 = total_501 + 2.0", 1)
    notebook.write_text(json.dumps(document))


def measure(row: str) -> str:
    """One row in this process (the tree under test is first on sys.path)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-sizes-"))
    os.environ["JUPYTERLAB_PROMOTE_CACHE_DIR"] = str(folder / "cache")
    notebook = _notebook(row, folder)
    from jupyterlab_promote import api

    if row not in PROMOTE_ROWS:
        started = _cpu()
        api.analyze(notebook)
        return f"{_cpu() - started:8.2f} s"
    import black

    format_str, spent = black.format_str, [0.0]

    def timed_format(*args, **kwargs):
        started = _cpu()
        try:
            return format_str(*args, **kwargs)
        finally:
            spent[0] += _cpu() - started

    if row in ("edit10k", "edit5names"):  # the first promotion fills the format cache; the edit is measured
        api.promote(notebook, folder / "first", commit=False)
        edit = _edit_one_helper if row == "edit10k" else _edit_one_statement
        edit(notebook)
    black.format_str = timed_format
    started, wall = _cpu(), time.perf_counter()
    result = api.promote(notebook, folder / "out", commit=False)
    refused = [d.code for d in result.diagnostics if d.severity.value == "error"]
    total, wall = _cpu() - started, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # black in worker processes (black_workers) is in the total, not in "black in this process"
    outcome = f"refused ({', '.join(refused)})" if refused else "promoted"
    return f"{total:8.2f} s (wall {wall:.2f} s), {outcome}, black in this process {spent[0]:.2f} s, peak {peak:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout, measured row by row with this one")
    parser.add_argument("--rows", nargs="*", default=[r for r in ROWS if r not in PROMOTE_ROWS], choices=list(ROWS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(measure(args.worker))
        return
    trees = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for row in args.rows:
        for label, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT / "benchmarks")])}
            command = [sys.executable, __file__, "--worker", row]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            result = done.stdout.strip() if done.returncode == 0 else f"failed: {done.stderr.strip()[-300:]}"
            print(f"  {ROWS[row] + f' [{label}]':<66}{result}", flush=True)


if __name__ == "__main__":
    main()

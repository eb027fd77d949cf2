"""PRM051: the last check on generated modules, for a name the notebook binds that no step hands where it is read."""

from __future__ import annotations

from jupyterlab_promote import api
from jupyterlab_promote.analysis import names
from jupyterlab_promote.analysis.cell_reading import clear_cache

from .helpers import write_notebook

CELLS = [
    ("n = 3.0", ["parameters"]),
    ("k = 2.0", ["promote:data"]),
    ("try:\n    def h(v):\n        return v * k\nexcept ImportError:\n    pass", ["promote:preprocess"]),
    ("score = float(h(n))", ["promote:evaluate"]),
]


def test_a_name_the_analysis_missed_is_said_at_the_cell_that_reads_it(tmp_path, monkeypatch):
    """Made to miss what a def inside a ``try`` block reads (as the analysis did before it looked into blocks), the
    promotion exited 0 with a package that died with NameError, the line marked ``# noqa: F821``. The generated
    modules are checked for such names: PRM051 at the cell whose code reads it."""
    everything = names._call_time_globals
    monkeypatch.setattr(
        names, "_call_time_globals", lambda node, lines, scopes=None: [] if scopes else everything(node, lines)
    )
    clear_cache()
    try:
        result = api.promote(write_notebook(tmp_path / "missed.ipynb", CELLS), tmp_path / "out", commit=False)
    finally:
        clear_cache()
    [missed] = [d for d in result.diagnostics if d.code == "PRM051"]
    assert (missed.cell_index, missed.severity.value) == (2, "warning")
    assert missed.message.startswith("'k' is read in the generated src/missed/pipeline.py, but no step hands it")


def test_a_name_the_notebook_defines_nowhere_is_left_to_prm002(tmp_path):
    cells = [("n = 3.0", ["parameters"]), ("score = float(n * undefined_here)", ["promote:evaluate"])]
    result = api.promote(write_notebook(tmp_path / "nowhere.ipynb", cells), tmp_path / "out", commit=False)
    codes = [d.code for d in result.diagnostics]
    assert "PRM002" in codes and "PRM051" not in codes


def test_a_promotion_whose_names_are_all_handed_says_nothing(tmp_path):
    result = api.promote(write_notebook(tmp_path / "handed.ipynb", CELLS), tmp_path / "out", commit=False)
    assert result.ok and not [d for d in result.diagnostics if d.code == "PRM051"]

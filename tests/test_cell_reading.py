"""Cell readings remembered across analyses (issue 12): the panel analyses while the user types.

What must hold: an analysis from the cache is the analysis made afresh, an edited cell alone is read again, two
cells of one analysis never share records (stages tell statements apart by identity), and what analysis marks on
a cell (a refused top-level await) does not leak into the next analysis.
"""

from __future__ import annotations

import json

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.analysis import cell_reading

from .helpers import TINY_TORCH, write_notebook


@pytest.fixture()
def reads(monkeypatch) -> list[str]:
    """The sources read afresh (not from the cache), in order."""
    cell_reading.clear_cache()
    seen: list[str] = []
    original = cell_reading.read_cell

    def counting(source: str, promoted: bool):
        seen.append(source)
        return original(source, promoted)

    monkeypatch.setattr(cell_reading, "read_cell", counting)
    yield seen
    cell_reading.clear_cache()


def _analysis(path) -> str:
    return json.dumps(api.analyze(path).to_json(), sort_keys=True, default=str)


def test_an_analysis_from_the_cache_equals_one_made_afresh(tmp_path, reads):
    cells = [
        *TINY_TORCH,
        ("%matplotlib inline\nimport os\nif __name__ == '__main__':\n    print(os.sep)", ["promote:data"]),
    ]
    notebook = write_notebook(tmp_path / "nb.ipynb", cells)
    first = _analysis(notebook)
    assert len(reads) == len(cells)
    second = _analysis(notebook)
    assert second == first and len(reads) == len(cells)  # nothing read again
    cell_reading.clear_cache()
    assert _analysis(notebook) == first  # and afresh, the same again


def test_an_edited_cell_alone_is_read_again(tmp_path, reads):
    notebook = write_notebook(tmp_path / "nb.ipynb", TINY_TORCH)
    _analysis(notebook)
    reads.clear()
    edited = [*TINY_TORCH[:3], ("model = nn.Linear(3, 2)  # wider later", ["promote:model"]), *TINY_TORCH[4:]]
    write_notebook(notebook, edited)
    _analysis(notebook)
    assert reads == ["model = nn.Linear(3, 2)  # wider later"]


def test_a_cell_promoted_or_not_is_read_for_what_it_is(tmp_path, reads):
    guarded = "if __name__ == '__main__':\n    xs = [1.0, 2.0]"
    for tags in (["promote:skip"], ["promote:data"], ["promote:skip"]):
        notebook = write_notebook(tmp_path / "nb.ipynb", [*TINY_TORCH[:2], (guarded, tags), *TINY_TORCH[2:]])
        found = api.analyze(notebook).to_json()
        notes = [d for d in found["diagnostics"] if d["code"] == "PRM025"]
        assert len(notes) == (tags == ["promote:data"]), (tags, notes)  # the main guard dropped in a promoted cell


def test_two_cells_with_the_same_source_get_their_own_records(tmp_path, reads):
    from jupyterlab_promote.read.notebook import read_notebook
    from jupyterlab_promote.stages import build_plan

    same = ("print(len(X))", ["promote:data"])
    notebook = write_notebook(tmp_path / "nb.ipynb", [*TINY_TORCH[:3], same, same, *TINY_TORCH[3:]])
    for _ in range(2):  # afresh, then from the cache
        plan = build_plan(read_notebook(notebook))
        twins = [c for c in plan.cells if c.cell.source == "print(len(X))"]
        assert len(twins) == 2
        first, second = (c.names.statements[0] for c in twins)
        assert first is not second and first.node is not second.node


def test_a_refusal_marked_on_a_cell_does_not_leak_into_the_next_analysis(tmp_path, reads):
    awaiting = ("import asyncio\nawait asyncio.sleep(0)", ["promote:data"])
    notebook = write_notebook(tmp_path / "nb.ipynb", [*TINY_TORCH[:2], awaiting, *TINY_TORCH[2:]])
    runs = [_analysis(notebook) for _ in range(3)]
    assert runs[1] == runs[0] and runs[2] == runs[0]
    errors = [d["code"] for d in json.loads(runs[0])["diagnostics"] if d["severity"] == "error"]
    assert errors == ["PRM001"]
    # the cell untagged: the same source, not promoted, is no longer refused
    write_notebook(notebook, [*TINY_TORCH[:2], (awaiting[0], []), *TINY_TORCH[2:]])
    assert not [d for d in api.analyze(notebook).to_json()["diagnostics"] if d["severity"] == "error"]

"""Real notebooks, mutated as people edit them (hypothesis): cells dropped, duplicated, moved, split, cut short,
retagged, turned to markdown, or given an odd line. Analysis raises nothing but PromoteError, every generated file
parses, generation is deterministic, and the Python passes ruff (E4,E7,E9,F,I) and black as generated.

The notebooks: the demo and tests/fixtures always; the shared corpus (17 real notebooks) when ../shared is there.
CI runs 60 cases (about 20 s on 2 cores); more on demand: ``JUPYTERLAB_PROMOTE_FUZZ_EXAMPLES=5000`` (a fifth of it
here, 1,000 cases: about 6 minutes), the variable test_fuzz.py reads too.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import CORPUS
from .test_fuzz import LINES, checked_generation

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    [ROOT / "examples" / "demo.ipynb", *(ROOT / "tests" / "fixtures").glob("*.ipynb")]
    + [*CORPUS.glob("*.ipynb"), *(CORPUS / "wild").glob("*.ipynb")]
)
EXAMPLES = max(int(os.environ.get("JUPYTERLAB_PROMOTE_FUZZ_EXAMPLES", "300")) // 5, 20)
ROLES = ["promote:data", "promote:model", "promote:train", "promote:evaluate", "promote:skip", "parameters"]
ROLES += ["promote:functions", "promote:export", "promote:preprocess", "step:extra"]
EDITS = st.lists(
    st.tuples(
        st.sampled_from(["drop", "duplicate", "move", "split", "cut", "retag", "untag", "markdown", "odd_line"]),
        st.integers(0, 10_000),  # which cell, modulo the count
        st.integers(0, 10_000),  # where: a line, another cell
        st.one_of(st.sampled_from(ROLES), LINES),
    ),
    min_size=1,
    max_size=4,
)


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def edited(document: dict, edits: list) -> dict:
    """``document`` after ``edits``, each (what, cell, where, tag or line)."""
    document = copy.deepcopy(document)
    cells = document["cells"]
    for number, (what, at, where, text) in enumerate(edits):
        if not cells:
            break
        index = at % len(cells)
        cell, lines = cells[index], _source(cells[index]).split("\n")
        if what == "drop":
            del cells[index]
        elif what == "duplicate":
            cells.insert(index, {**copy.deepcopy(cell), "id": f"copy-{number}"})
        elif what == "move":
            cells.insert(where % len(cells), cells.pop(index))
        elif what in ("split", "cut", "odd_line"):
            cut = where % (len(lines) + 1)
            kept = [*lines[:cut], text, *lines[cut:]] if what == "odd_line" else lines[:cut]
            cell["source"] = "\n".join(kept)
            if what == "split":
                cells.insert(
                    index + 1, {**copy.deepcopy(cell), "id": f"part-{number}", "source": "\n".join(lines[cut:])}
                )
        elif what in ("retag", "untag"):
            cell.setdefault("metadata", {})["tags"] = [text] if what == "retag" and text in ROLES else []
        elif what == "markdown" and cell["cell_type"] == "code":
            cells[index] = {"cell_type": "markdown", "id": cell.get("id", f"md-{number}"), "metadata": {}}
            cells[index]["source"] = cell["source"]
    return document


DOCUMENTS = {path: json.loads(path.read_text(encoding="utf-8")) for path in NOTEBOOKS}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(notebook=st.sampled_from(NOTEBOOKS), edits=EDITS, lint=st.booleans())
def test_edited_real_notebooks_promote_to_valid_files_or_say_why(tmp_path_factory, notebook, edits, lint) -> None:
    folder = tmp_path_factory.mktemp("edited")
    path = folder / notebook.name
    path.write_text(json.dumps(edited(DOCUMENTS[notebook], edits)), encoding="utf-8")
    files = checked_generation(path)
    if files is not None and lint:  # a real project: ruff and black as the generated CI runs them
        project = folder / "project"
        for name, text in files.items():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_text(text, encoding="utf-8")
        for command in (["ruff", "check", "--select", "E4,E7,E9,F,I", "."], ["black", "--check", "-q", "."]):
            done = subprocess.run([sys.executable, "-m", *command], cwd=project, capture_output=True, text=True)
            assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])

"""Property-based fuzzing (hypothesis): generated notebooks through analyze + preview.

Properties: analysis raises nothing but PromoteError; a plan without errors generates files that all
parse (Python compiles, TOML, YAML); generation is deterministic (same input, byte-identical files).

CI runs a bounded campaign (300 examples, about 15 s on 2 cores); a longer one on demand:
``JUPYTERLAB_PROMOTE_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyterlab_promote import api
from jupyterlab_promote.codegen.validate import _parse
from jupyterlab_promote.errors import PromoteError

FUZZ_EXAMPLES = int(os.environ.get("JUPYTERLAB_PROMOTE_FUZZ_EXAMPLES", "300"))

TAGS = st.sampled_from(
    [
        [],
        ["parameters"],
        ["promote:data"],
        ["promote:model"],
        ["promote:train"],
        ["promote:evaluate"],
        ["promote:skip"],
        ["promote:functions"],
        ["step:prep"],
        ["step:Prep"],
        ["step:données"],
        ["step:1x"],
        ["promote:bogus"],
        ["skip"],
        ["block:b"],
    ]
)
NAMES = st.sampled_from(["x", "y", "lr", "LR", "model", "cfg", "data", "π", "_z", "epochs", "class_"])
ODD_TEXT = st.text(alphabet=string.printable + "\u2028\x85\x0cé\"'\\", max_size=12)
LITERALS = st.one_of(
    st.integers(-(10**6), 10**6).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ODD_TEXT.map(repr),
    st.lists(st.integers(0, 9), max_size=3).map(repr),
    st.sampled_from(["None", "True", "{1, 2}", "b'x'", "1j", "...", "(1, 2)", "{'a': 1}", "{1: 2}"]),
)
LINES = st.one_of(
    st.builds(lambda n, v: f"{n} = {v}", NAMES, LITERALS),
    st.builds(lambda a, b: f"{a} = {b} + 1", NAMES, NAMES),
    st.builds(lambda n: f"print({n})", NAMES),
    st.sampled_from(
        [
            "%matplotlib inline",
            "!pip install numpy # it's",
            "%time q = 1",
            "import os",
            "from math import pi",
            "def f(a):\n    return a",
            "await g()",
            "for i in range(2):\n    x = i",
            "x =",
            "%%bash\necho hi",
            "a = 1\n\x0cb = 2",
            "s = '\u2028'",
            "lambda: 1",
            "del x",
            "global y",
            "!echo 'unbalanced",
        ]
    ),
)
SOURCES = st.lists(LINES, min_size=0, max_size=4).map("\n".join)
CELLS = st.lists(st.tuples(TAGS, SOURCES), min_size=1, max_size=6)


def document(cells: list) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "P"}},
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{i}",
                "metadata": {"tags": tags},
                "source": source,
                "execution_count": None,
                "outputs": [],
            }
            for i, (tags, source) in enumerate(cells)
        ],
    }


def preview_files(path: Path, output: Path) -> dict[str, str] | None:
    try:
        result = api.preview(path, output)
    except PromoteError:
        return None
    if not result.ok:
        return None
    return {change.path: change.diff for change in result.files}


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cells=CELLS, stem=st.sampled_from(["nb", "my nb ü", 'q"uote', "class", "torch", "2024"]))
def test_generated_notebooks_never_crash_and_generate_only_valid_files(tmp_path_factory, cells, stem) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / f"{stem}.ipynb"
    path.write_text(json.dumps(document(cells)), encoding="utf-8")
    try:
        plan = api.analyze(path)
    except PromoteError:
        return
    if not plan.ok:
        return
    from jupyterlab_promote.codegen import generate

    first = generate(plan, path.name).files
    for name, text in first.items():
        assert _parse(name, text) is None, (name, text)
    assert generate(api.analyze(path), path.name).files == first  # deterministic

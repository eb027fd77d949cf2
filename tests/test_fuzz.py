"""Property-based fuzzing (hypothesis): generated notebooks through analyze + preview.

Properties: analysis raises nothing but PromoteError; a plan without errors generates files that all
parse (Python compiles, TOML, YAML); generation is deterministic (same input, byte-identical files);
generated code passes ruff (E4,E7,E9,F,I) and black as generated; the generated CLI's ``--help`` starts;
a second promotion of the same notebook commits nothing.

CI runs a bounded campaign (300 examples of the parse/determinism property, 60 of the lint one, 10
promoted twice with git and started; a few minutes on 2 cores); a longer one on demand:
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
    # ML-shaped code: a model, a loop calling it, and evaluation across function and method boundaries
    st.sampled_from(
        [
            "import torch\nfrom torch import nn\nmodel = nn.Linear(2, 2)",
            "X = torch.zeros(4, 2)\ny = torch.zeros(4, dtype=torch.long)\nloader = [(X, y)]",
            "for xb, yb in loader:\n    out = model(xb)\n    loss = nn.functional.cross_entropy(out, yb)",
            "def evaluate(m):\n    return m(X).sigmoid(), 0.0",
            "probs, _ = evaluate(model)\npred = probs.argmax(1)",
            "class Runner:\n    def __init__(self, model):\n        self.model = model\n"
            "    def step(self, x):\n        return self.model(x)",
            "runner = Runner(model)\nz = runner.step(X)\nacc = float((z.argmax(1) == y).float().mean())",
        ]
    ),
    # the notebook trying its model on an example text (codegen/example_chain.py reads it for predict and serve)
    st.sampled_from(
        [
            "def encode(s):\n    return torch.zeros(len(s) or 1, 2)",
            "out = model(encode('Anna'))\nprint(out.argmax(1))",
            "def sample(m, prime='a', k=1):\n    return m(encode(prime * k))",
            "print(sample(model, prime='Bob', k=2))",
            "text = 'x'\nprint(model(encode(text + 'y')).sum())",
            "names = ['a']\nprint(names[int(model(encode('Zoe')).argmax())])",
            "print(model(encode('')), model(encode('é')))",
        ]
    ),
    # code whose meaning differs between a notebook's module scope and a step function's scope
    st.sampled_from(
        [
            "if x:\n    from math import *",
            "for i in range(2):\n    global x\n    x = i",
            'if __name__ == "__main__":\n    y = x',
            "try:\n    z = x\nexcept NameError:\n    z = 0",
            "x += 1",
            "del y",
            "with open(__file__) as fh:\n    text = fh.read()",
            "class K:\n    attr = x\n    def get(self):\n        return self.attr",
            "@staticmethod\ndef g(a=x):\n    return a",
            "squares = [x * i for i in range(3)]\nprint(i)",
            "x: int",
            "async def h():\n    return 1",
            "import sys\nsys.exit(0)",
            "def f(a):\n    global x\n    x = a",
            "(lambda q: q)(x)",
        ]
    ),
    # newer or rarer syntax, and definitions that capture
    st.sampled_from(
        [
            "match x:\n    case 1:\n        y = 2\n    case _:\n        y = 3",
            "if (n := len([x])) > 0:\n    y = n",
            "from dataclasses import dataclass\n@dataclass\nclass P:\n    a: int = 1\np = P()",
            "def outer(a):\n    def inner():\n        return a + x\n    return inner\nfn = outer(1)",
            "%%time\nfor i in range(2):\n    x = i",
            "try:\n    import scipy\nexcept ImportError:\n    scipy = None",
            "try:\n    y = 1\nfinally:\n    x = 2",
            "with open(__file__) as a, open(__file__) as b:\n    z = a.read() + b.read()",
            # black writes these for the project's target versions (parentheses, a comma after **kw)
            "with open(__file__) as first_handle, open(__file__) as second_handle, open(__file__) as c:\n    z = 1",
            "args = [1]\nkw = {}\nz = dict(first_argument_name=1, second_argument_name=2, third_argument=3, *args, **kw)",
            "args = [1]\nkw = {}\nprint(*args, **kw)",
            "__all__ = ['x']",
            "x = f'{x!r:>{10}}'",
            "x = [i for i in range(3) if i]\ny = {k: v for k, v in zip('ab', 'cd')}",
            "for i in range(3):\n    if i:\n        continue\n    break\nelse:\n    y = 0",
            "while False:\n    pass\nelse:\n    x = 1",
            "assert x, 'x must be set'",
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
    checked_generation(path)


def checked_generation(path: Path) -> dict[str, str] | None:
    """The files promoting ``path`` generates, each parsed, generated twice alike; None when promotion refuses it (a
    PromoteError or an error diagnostic), the only way it may fail."""
    from jupyterlab_promote.codegen import generate

    try:
        plan = api.analyze(path)
    except PromoteError:
        return None
    if not plan.ok:
        return None
    files = generate(plan, path.name).files
    for name, text in files.items():
        assert _parse(name, text) is None, (name, _parse(name, text))
    assert generate(api.analyze(path), path.name).files == files  # deterministic
    return files


LINT_EXAMPLES = max(FUZZ_EXAMPLES // 5, 10)  # each example runs ruff on the generated tree
PROJECT_EXAMPLES = max(FUZZ_EXAMPLES // 30, 5)  # each promotes twice with git and starts the generated CLI


def _written(tmp_path_factory, cells: list) -> Path:
    path = tmp_path_factory.mktemp("nb") / "nb.ipynb"
    path.write_text(json.dumps(document(cells)), encoding="utf-8")
    return path


def _plan_or_none(path: Path):
    try:
        plan = api.analyze(path)
    except PromoteError:
        return None
    return plan if plan.ok else None


@settings(max_examples=LINT_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cells=CELLS)
def test_generated_code_passes_ruff_and_black_as_generated(tmp_path_factory, cells) -> None:
    import subprocess
    import sys

    import black

    from jupyterlab_promote.codegen import generate
    from jupyterlab_promote.codegen.render import black_mode

    path = _written(tmp_path_factory, cells)
    plan = _plan_or_none(path)
    if plan is None:
        return
    project = path.parent / "project"
    files = generate(plan, path.name).files
    mode = black_mode(files["pyproject.toml"])  # black as the project's own command line reads its pyproject
    for name, text in files.items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if name.endswith(".py"):
            assert black.format_str(text, mode=mode) == text, name
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "E4,E7,E9,F,I", "--no-cache", "-q", "."],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout


@settings(max_examples=PROJECT_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(cells=CELLS)
def test_generated_cli_starts_and_a_second_promotion_commits_nothing(tmp_path_factory, cells) -> None:
    import subprocess
    import sys

    path = _written(tmp_path_factory, cells)
    directory = path.parent
    if _plan_or_none(path) is None:
        return
    subprocess.run(["git", "init", "-q", str(directory)], check=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "F", "GIT_AUTHOR_EMAIL": "f@x", "GIT_COMMITTER_NAME": "F"}
    env["GIT_COMMITTER_EMAIL"] = "f@x"
    os.environ.update({k: v for k, v in env.items() if k.startswith("GIT_")})
    first = api.promote(path, directory / "pkg")
    assert first.ok and first.commit
    help_run = subprocess.run(
        [sys.executable, "-m", first.plan.package, "--help"],
        cwd=directory / "pkg",
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_run.returncode == 0, help_run.stderr[-2000:]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True).stdout
    second = api.promote(path, directory / "pkg")
    assert second.ok  # idempotent: the branch does not move
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True).stdout == head

"""codegen/plain_definitions.py: a function it calls plain is black's output, on generated definitions, on real code
(every top-level function of the standard library and site-packages it accepts), and inside a promotion."""

from __future__ import annotations

import ast
import os
import sysconfig
import warnings
from pathlib import Path

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyterlab_promote.codegen import render
from jupyterlab_promote.codegen.plain_definitions import is_plain_definition

from .test_fuzz import FUZZ_EXAMPLES
from .test_plain_lines import _COMMENTS, _EXPRESSIONS, _NAMES, _STATEMENTS, _respaced

MODE = black.Mode(target_versions={black.TargetVersion.PY310, black.TargetVersion.PY311})


def _black_keeps(text: str, mode: black.Mode = MODE) -> bool:
    return black.format_str(text, mode=mode) == text


# Mostly what black writes, with spellings it changes among them
_PARAMETERS = st.lists(
    _NAMES
    | st.tuples(_NAMES, st.sampled_from(["1", "-1", '"a"', "None", "x", "0.5", "1E5", "'a'", " 1"])).map("=".join)
    | st.sampled_from(["*args", "**kwargs", "*", "x: int", "/", "x = 1", "x: int = 1", "x: int=1", "x : int"])
    | st.sampled_from(["cfg: Config", "y: dict[str, Any]", "y: dict[str,Any]", 'y: "T"', "y: str | None = None"]),
    max_size=4,
    unique=True,
).map(", ".join)
_ENDS = st.sampled_from(["):", "):", "):", ",):", ") :", ") -> int:", ") -> dict[str, Any]:", ") -> (int):", ")->int:"])
_HEADERS = st.tuples(_NAMES, _PARAMETERS, _ENDS).map(lambda t: f"def {t[0]}({t[1]}{t[2]}")
_DOCSTRINGS = st.sampled_from(['"""Doc."""', '"""Scaled ``x`` (a helper)."""', "", "", '""" Doc."""', "'''Doc.'''"])
_DOCSTRINGS |= st.sampled_from(['"""Doc. """', '"""Doc\\n."""', '"""a "quote"."""', '"Doc."'])
_DOCSTRINGS |= st.integers(10, 30).map(lambda words: '"""' + "cell, " * words + 'of a notebook."""')  # too long
_HEADS = st.sampled_from(["if", "elif", "while", "for x in", "for a, b in", "for (a, b) in", "else", "return", "raise"])
_HEADS |= st.sampled_from(["pass", "break", "continue", "return", "assert", "del", "if not"])


@st.composite
def _definitions(draw) -> str:
    lines = [draw(st.sampled_from(["", "", "# cell 3 (id a)", "#c"]))]
    lines.append(draw(_HEADERS))
    docstring = draw(_DOCSTRINGS)
    if docstring:
        lines.append(f"    {docstring}")
    depth, opened = 1, True
    for _ in range(draw(st.integers(1, 6))):
        level = depth + 1 if opened and len(lines) > 2 + bool(docstring) else draw(st.integers(1, depth))
        level = max(1, level + draw(st.sampled_from([0, 0, 0, 0, 0, 1, -1])))
        pad = "    " * level
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(draw(st.sampled_from([pad, "    " * max(1, level - 1), ""])) + "# about the next line")
        if draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()):
            lines.append("")
        head = draw(_HEADS)
        expression = _respaced(draw(_EXPRESSIONS), draw(st.lists(st.tuples(st.floats(0, 1), st.integers(-1, 2)))))
        comment = draw(_COMMENTS)
        if head in ("if", "elif", "while", "for x in", "for a, b in", "for (a, b) in", "if not"):
            lines.append(f"{pad}{head} {expression}:{comment}")
            opened = True
        elif head == "else":
            lines.append(f"{pad}else:{comment}")
            opened = True
        elif head in ("return", "raise", "assert", "del") and draw(st.booleans()):
            lines.append(f"{pad}{head} {expression}{comment}")
            opened = False
        elif head == "return" and draw(st.booleans()):  # a step's outputs
            names = draw(st.lists(_NAMES, max_size=3))
            spelling = draw(st.sampled_from(['"{0}": {0}', '"{0}":{0}', "'{0}': {0}", '"{0}": ({0})']))
            lines.append(f"{pad}return {{{', '.join(spelling.format(name) for name in names)}}}{comment}")
            opened = False
        elif head in ("pass", "break", "continue", "return"):
            lines.append(f"{pad}{head}{comment}")
            opened = False
        else:
            lines.append(f"{pad}{draw(_STATEMENTS)}{comment}")
            opened = False
        depth = level
    if opened:
        lines.append("    " * (depth + 1) + "pass")
    return "\n".join(line for line in lines[lines[0] == "" :]) + "\n"


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(definition=_definitions(), line_length=st.sampled_from([88, 40, 120]))
def test_a_definition_called_plain_is_blacks_output(definition, line_length) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(definition, "<definition>", "exec", dont_inherit=True)
    except SyntaxError:
        return  # promoted code always compiles
    if is_plain_definition(definition, line_length):
        assert _black_keeps(definition, black.Mode(target_versions=MODE.target_versions, line_length=line_length))


def test_the_definitions_written_as_black_writes_them_are_called_plain() -> None:
    """Not a vacuous rule: a notebook's helper written by black is plain; the spellings black changes are not."""
    plain = [
        '# cell 3 (id cell-3)\ndef feature_0(values, scale=1):\n    """Scaled mean of ``values`` (helper 0)."""\n'
        "    total = 0.0\n    for value in values:\n        total += value * scale\n"
        "    return total / max(len(values), 1)\n",
        "def f(a, *args, b=-1, **kw):\n    if a:\n        return b\n    elif not a:\n        # why\n        x = 1\n"
        '    else:\n        raise ValueError("x")\n    while x < 3:\n        x += 1  # more\n'
        "    for i, j in enumerate(x):  # c\n        continue\n    return\n",
        'def f():\n    """Doc."""\n',
        "def f():\n    pass\n",
        'def model_step(cfg: Config, *, data) -> dict[str, Any]:\n    """Model step."""\n    hidden = cfg.hidden\n'
        '    model = Net(hidden)  # the notebook\'s\n    return {"model": model, "data": data}\n',
    ]
    for definition in plain:
        assert is_plain_definition(definition, 88) and _black_keeps(definition), definition
    not_plain = [
        "def f():\n    if a:\n    x = 1\n",
        "def f():\n    x = (1)\n",
        "def f():\n\n    x = 1\n",
        "def f():\n        # c\n    x = 1\n",
        "def f():\n    if (a):\n        x = 1\n",
        "def f():\n    for (a, b) in x:\n        x = 1\n",
        "def f():\n    if a :\n        x = 1\n",
        "def f():\n    if x:\n        y = 1\n    # c\n",
        "def f(a,):\n    pass\n",
        "def f(x: int=1):\n    pass\n",
        "def f() -> (int):\n    pass\n",
        'def f(x: "T"):\n    pass\n',
        'def f():\n    return {"a":a}\n',
        "def f(a = 1):\n    pass\n",
        "def f():\n    ''' Doc.'''\n",
        "def f():\n    x = 1\ny = 2\n",
        "@d\ndef f():\n    pass\n",
        "async def f():\n    pass\n",
        "class A:\n    pass\n",
        "def f():\n    return (a, b)\n",
        "def f():\n    if x: y = 1\n",
        "#c\ndef f():\n    pass\n",
    ]
    assert [d for d in not_plain if is_plain_definition(d, 88)] == []
    assert not is_plain_definition("def f(aaaa, bbbb):\n    pass\n", 10)


def _library_definitions(limit: int) -> list[str]:
    """Top-level undecorated functions of the standard library and site-packages, as their files write them."""
    found: list[str] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                body = ast.parse(text).body
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        lines = text.split("\n")
        for node in body:
            if isinstance(node, ast.FunctionDef) and not node.decorator_list:
                definition = "\n".join(lines[node.lineno - 1 : node.end_lineno]) + "\n"
                if is_plain_definition(definition, 88):
                    found.append(definition)
        if len(found) >= limit:
            break
    return found


@pytest.mark.parametrize("limit", [int(os.environ.get("JUPYTERLAB_PROMOTE_PLAIN_DEFINITIONS", "300"))])
def test_functions_of_the_standard_library_called_plain_are_blacks_output(limit: int) -> None:
    """Real code written by others: each top-level function the recognizer accepts, black keeps (300 in CI; more with
    JUPYTERLAB_PROMOTE_PLAIN_DEFINITIONS: 10,000 reads all 8,031 of the 92,725, 0 failures)."""
    definitions = _library_definitions(limit)
    assert len(definitions) >= min(limit, 300)
    assert [d[:200] for d in definitions if not _black_keeps(d, render.project_mode())] == []


def test_a_module_of_plain_definitions_is_formatted_as_black_formats_it_whole(tmp_path, monkeypatch) -> None:
    """In format_black, beside pieces black formats: the module is black's output for the whole, and black was
    handed none of the plain definitions."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    handed: list[str] = []
    original = render._black_in_mode
    monkeypatch.setattr(render, "_black_in_mode", lambda text, key: handed.append(text) or original(text, key))
    monkeypatch.setattr(render, "format_in_workers", lambda texts, key: None)
    helpers = [
        f'# cell {i}\ndef helper_{i}(values, scale={i}):\n    """Helper {i}."""\n    total = 0.0\n'
        f"    for value in values:\n        total += value * scale\n    return total\n"
        for i in range(5)
    ]
    module = '"""Module."""\n\nimport os\n\n\n' + "\n\n".join(helpers) + "\n\ndef other( x ):\n    return x\n"
    formatted = render.format_black(module, render.project_mode())
    assert formatted == black.format_str(module, mode=render.project_mode())
    assert not any("helper_" in text for text in handed) and any("def other" in text for text in handed)

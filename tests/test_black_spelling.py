"""What the generator writes in black's own spelling: black then confirms it in one pass instead of rewriting it
and confirming again (black.format_str runs a second pass whenever its first changed anything)."""

from __future__ import annotations

import keyword
import shutil
from pathlib import Path

import black
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyterlab_promote.codegen import render
from jupyterlab_promote.codegen.render import black_string, call_statement

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"
NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,24}", fullmatch=True).filter(lambda name: not keyword.iskeyword(name))
ARGUMENTS = st.lists(NAMES | NAMES.map(lambda name: f"{name}={name}") | NAMES.map(black_string), max_size=12)


def _is_black(text: str) -> bool:
    return black.format_str(text, mode=render.project_mode()) == text


def _in_function(lines: str, depth: int) -> str:
    """``lines`` (written at ``depth``) inside as many nested functions, as a module."""
    opening = "".join(f"{'    ' * level}def f{level}():\n" for level in range(depth))
    return opening + lines + "\n"


@settings(max_examples=150, deadline=None)
@given(callee=NAMES, arguments=ARGUMENTS, depth=st.integers(0, 2))
def test_a_call_statement_is_blacks_spelling(callee, arguments, depth):
    assert _is_black(_in_function(call_statement(callee, arguments, depth), depth))


@settings(max_examples=150, deadline=None)
@given(name=NAMES, parameters=st.lists(NAMES, max_size=12, unique=True))
def test_a_signature_is_blacks_spelling(name, parameters):
    signature = call_statement(
        f"def {name}", ["cfg: Config", *(["*", *parameters] if parameters else [])], 0, " -> dict[str, Any]:"
    )
    assert _is_black(signature + "\n    pass\n")


ITEMS = st.lists(NAMES | NAMES.map(black_string) | st.tuples(NAMES, ARGUMENTS), max_size=12)


@settings(max_examples=150, deadline=None)
@given(head=st.sampled_from(["x = ", "return "]), items=ITEMS, depth=st.integers(1, 3))
def test_a_list_display_is_blacks_spelling(head, items, depth):
    assert _is_black(_in_function(render.list_statement(head, items, depth), depth))


@settings(max_examples=150, deadline=None)
@given(keyword=st.sampled_from(["command=", "args="]), items=ITEMS, depth=st.integers(1, 3))
def test_a_list_as_an_argument_of_a_split_call_is_blacks_spelling(keyword, items, depth):
    opening = "    " * (depth - 1)
    listed = render.list_statement(keyword, items, depth, ",")
    assert _is_black(_in_function(f"{opening}call(\n{listed}\n{opening})", depth - 1))


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(NAMES, max_size=10, unique=True), depth=st.integers(1, 3))
def test_a_dict_display_is_blacks_spelling(keys, depth):
    statement = render.list_statement("return ", [f'"{key}": {key}' for key in keys], depth, "", "{}")
    assert _is_black(_in_function(statement, depth))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_a_string_is_spelled_as_black_spells_it_and_means_the_same(text):
    literal = black_string(text)
    assert eval(literal) == text  # noqa: S307 (a literal we wrote)
    if "\\" not in literal:  # black leaves escapes as they are; it only picks the quotes
        assert _is_black(f"x = {literal}\n")


def test_the_pipeline_and_the_kubeflow_module_need_one_black_pass(tmp_path, monkeypatch):
    """The demo's run_steps, step signatures, returns and Kubeflow components come out of the templates as black
    writes them: black leaves each of those pieces as it is."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    render.forget_formatted()
    formatted_pieces: list[str] = []
    changed: list[str] = []
    original = render._black_in_mode

    def recording(source: str, key: str) -> str:
        formatted = original(source, key)
        formatted_pieces.append(source)
        if formatted != source:
            changed.append(source)
        return formatted

    monkeypatch.setattr(render, "_black_in_mode", recording)
    monkeypatch.setattr(render, "format_in_workers", lambda texts, key: None)
    from jupyterlab_promote import api

    notebook = Path(shutil.copy(DEMO, tmp_path / "demo.ipynb"))
    api.preview(notebook, tmp_path / "demo_project")
    render.forget_formatted()
    assert sum(piece.startswith("@dsl.container_component") for piece in formatted_pieces) >= 5
    ours = ("@dsl.", "def run_steps", "def trial_config", "def main", "def test_")
    assert [piece[:80] for piece in changed if piece.lstrip().startswith(ours)] == []

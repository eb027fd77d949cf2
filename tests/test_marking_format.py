"""Formatting the notebook's statements with their lint marks (codegen/render.py) skips black where black would
keep a marked line as it is; the result must be exactly what black over the whole marked module gives."""

from __future__ import annotations

import black
import pytest

from jupyterlab_promote.codegen import render
from jupyterlab_promote.codegen.lint import mark_author_lint

WIDE = "数" * 30  # two columns each for black


def _always_black(source: str) -> str:
    """The formatting before the shortcut: black over the whole marked module, until the marks hold."""
    formatted = render._format_generated(source, "")
    for _ in range(render._MARKING_PASSES):
        marked = mark_author_lint(formatted)
        if marked == formatted:
            break
        formatted = black.format_str(marked, mode=render.project_mode())
    return formatted


CASES = {
    "dead-store": "def step():\n    unused = compute()\n    return 1\n",
    "near-the-limit": "def step():\n    unused_value_with_a_long_name = compute_something(first_argument, second_arg)\n",
    "over-the-limit-once-marked": "def step():\n    unused_value_with_a_long_name = compute_something(first_argument, second_a)\n",
    "wide-characters": f'def step():\n    unused = "{WIDE}"\n',
    "f-string-without-placeholders": 'def step():\n    print(f"done")\n',
    "compare-to-none": "def step(x):\n    if x == None:\n        return 1\n",
    "bare-except": "def step():\n    try:\n        run()\n    except:\n        pass\n",
    "lambda-bound": "def step():\n    scale = lambda v: v * 2\n    return scale(3)\n",
    "wrapped-statement": (
        "def step():\n    unused = some_function(argument_number_one, argument_number_two, argument_number_three, four)\n"
    ),
    "multi-line-string": 'def step():\n    unused = """first\nsecond"""\n',
    "in-a-loop": "def step(xs):\n    for x in xs:\n        last = x * 2\n    return 0\n",
    "one-line-def": "def step():\n    def inner(): unused = 1\n    return inner\n",
    "existing-comment": "def step():\n    unused = compute()  # the author's note\n",
    "redefined": "def helper():\n    return 1\n\n\ndef helper():\n    return 2\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_marking_gives_what_black_over_the_marked_module_gives(name: str) -> None:
    source = CASES[name]
    assert render._format_authored(source, "") == _always_black(source)


def test_a_mark_that_still_fits_on_a_one_line_statement_skips_black() -> None:
    formatted = render._format_generated(CASES["dead-store"], "")
    marked = mark_author_lint(formatted)
    assert marked != formatted
    assert render._lines_black_would_change(formatted, marked) == []
    long = render._format_generated(CASES["over-the-limit-once-marked"], "")
    assert render._lines_black_would_change(long, mark_author_lint(long)) == [(2, 2)]


def test_marks_after_whole_statements_need_no_compile_and_others_are_checked(monkeypatch) -> None:
    """A mark at the end of a line holding one whole statement cannot change the code: the module is not compiled
    for it (a 5 MB step: two compiles saved). A mark elsewhere (after a multi-line string) is still checked."""
    from jupyterlab_promote.codegen import lint

    simple = "def step(compute):\n    unused = compute()\n    return 1\n"

    def no_compile(*args, **kwargs):
        raise AssertionError("compiled")

    monkeypatch.setattr(lint, "compile", no_compile, raising=False)
    assert mark_author_lint(simple) == simple.replace("compute()", "compute()  # noqa: F841")
    monkeypatch.undo()
    spanning = 'def step():\n    text = """a\nb"""\n    return 1\n'
    compiled: list[str] = []
    monkeypatch.setattr(lint, "compile", lambda *a, **k: compiled.append(a[0]) or compile(*a, **k), raising=False)
    marked = mark_author_lint(spanning)
    assert marked == spanning.replace('b"""', 'b"""  # noqa: F841') and len(compiled) == 2


def test_the_formatter_reads_the_statement_lines_marking_parsed() -> None:
    """One parse of the module for marking and for the formatter's check of the marks (a 5 MB step: 0.7 s each)."""
    from jupyterlab_promote.codegen import lint

    formatted = render._format_generated(CASES["dead-store"], "")
    lint.one_statement_lines.cache_clear()
    marked = mark_author_lint(formatted)
    assert render._lines_black_would_change(formatted, marked) == []
    info = lint.one_statement_lines.cache_info()
    assert (info.misses, info.hits) == (1, 1)

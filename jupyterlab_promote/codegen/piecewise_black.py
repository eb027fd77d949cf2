"""black one top-level definition at a time, so that an edit re-formats only the definitions it touched.

black formats every logical line by itself; only its blank-line rule (``lines.EmptyLineTracker``) looks across
statements. Before a top-level ``def``, ``async def``, ``class`` or the first decorator of one, that rule gives two
blank lines whatever the statement before is, as long as:

- the source has only blank lines there, if anything: no comment but those leading the definition (black moves
  the blank lines to before them), no form feed;
- the statement before is not the module docstring (black puts one blank line between it and a decorator), and
  does not end in a dummy body such as ``def f(): ...`` (after one, black keeps no blank line where there is none).

The module is cut only at such places, and only when black's Mode names its target versions (inferred ones come from
features anywhere in the file) and asks for no preview style. The pieces, formatted apart with that Mode and joined by
two blank lines, are then black's output for the whole module. A module with ``fmt:``/``yapf:`` directives, a carriage
return, a form feed, an encoding declaration, or a ``match``, ``case`` or ``type`` statement stays whole: black could
skip a region across the cut, see other line ends, or parse the whole file with another grammar.
``tests/test_piecewise_black.py`` holds the pieces to black's own output of the whole.
"""

from __future__ import annotations

import ast
import re
from typing import Callable

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Also an encoding declaration (black keeps one it ignores on a file's first two lines, so a piece's too). A
# `match`/`case` line ends in a colon and a `type` alias names its type: not `match = ...` nor `type=int`.
_KEEP_WHOLE = re.compile(
    r"fmt:|yapf:|\r|\f|^[ \t]*#.*coding[:=]|^[ \t]*(match|case)\b.*:[ \t]*(#.*)?$|^[ \t]*type[ \t]+\w+[ \t]*[\[=]",
    re.MULTILINE,
)


def mode_allows_pieces(mode) -> bool:
    """Whether black's output under ``mode`` is the same module cut into pieces or not."""
    return bool(mode.target_versions) and not (
        mode.preview
        or mode.unstable
        or mode.enabled_features
        or mode.is_pyi
        or mode.is_ipynb
        or mode.skip_source_first_line
    )


def split_at_definitions(source: str) -> list[tuple[int, str]]:
    """``source`` cut before each top-level definition black puts two blank lines before whatever precedes it:
    (number of the piece's first line, its text) for each piece, in order; one piece when it cannot be cut."""
    if _KEEP_WHOLE.search(source):
        return [(1, source)]
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [(1, source)]
    lines = source.split("\n")  # ast counts lines at "\n" only, once "\r" is ruled out
    starts = [1]
    for before, statement in zip(body, body[1:]):
        start = _cut_before(statement, before, lines)
        if start is not None:
            starts.append(start)
    ends = [start - 1 for start in starts[1:]] + [len(lines)]
    return [(start, "\n".join(lines[start - 1 : end]).rstrip("\n") + "\n") for start, end in zip(starts, ends)]


def _cut_before(statement: ast.stmt, before: ast.stmt, lines: list[str]) -> int | None:
    """The line ``statement`` starts on (its leading comment lines included), when black's blank lines before it
    depend on nothing before it."""
    if not isinstance(statement, _DEFINITIONS) or _is_bare_constant(before) or _ends_in_dummy_body(before):
        return None
    first = statement.decorator_list[0].lineno if statement.decorator_list else statement.lineno
    if statement.decorator_list and not lines[first - 1].startswith("@"):
        return None  # a decorator's "@" on a line of its own
    while first - 1 > before.end_lineno and lines[first - 2].startswith("#"):
        first -= 1  # comment lines right above lead the definition: black moves blank lines to before them
    if any(line.strip(" \t") for line in lines[before.end_lineno : first - 1]):
        return None  # anything but blank lines between (an indented comment, a form feed)
    return first


def _is_bare_constant(statement: ast.stmt) -> bool:
    """The module docstring (black puts one blank line after it, before a decorator), or another constant."""
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _ends_in_dummy_body(statement: ast.stmt) -> bool:
    """Whether the last line of ``statement`` may be, once black formats it, a block with its body on the header
    line (``def f(): ...``: after one, black keeps no blank line where the source has none)."""
    node: ast.AST = statement
    while True:
        blocks = [getattr(node, name, None) for name in ("body", "orelse", "finalbody", "handlers", "cases")]
        children = [child for block in blocks if isinstance(block, list) for child in block]
        if not children:
            return False
        if isinstance(node, ast.stmt) and (
            min(child.lineno for child in children) == node.lineno or _is_ellipsis_only(node.body)
        ):
            return True
        node = max(children, key=lambda child: child.end_lineno)


def _is_ellipsis_only(body: list) -> bool:
    return (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis
    )


def pieces_of(source: str, mode) -> list[tuple[int, str]]:
    """The pieces black formats apart under ``mode`` (as split_at_definitions gives them): ``source`` whole when
    the Mode does not allow cutting."""
    return split_at_definitions(source) if mode_allows_pieces(mode) else [(1, source)]


def join_pieces(formatted: list[str]) -> str:
    """Formatted pieces as one module: two blank lines between, as black puts before each of them."""
    return "\n\n".join(formatted)


def reformat_pieces(source: str, lines: list[tuple[int, int]], mode, format_piece: Callable[[str], str]) -> str:
    """black's output for ``source`` when only the 1-based line ranges ``lines`` may differ from it: the pieces
    holding none of them are kept as they are, the others formatted again.

    (Not black's own ``lines=`` option: it can change the blank lines after a formatted import.)"""
    formatted = []
    for start, text in pieces_of(source, mode):
        end = start + text.count("\n") - 1
        touched = any(first <= end and last >= start for first, last in lines)
        formatted.append(format_piece(text) if touched else text)
    return join_pieces(formatted)

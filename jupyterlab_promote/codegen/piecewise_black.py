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
two blank lines, are then black's output for the whole module.

A top-level function longer than ``LONG_BODY`` characters (a step holding a 5 MB cell) is cut inside too, between two
statements of its body on adjacent lines, so that an edit re-formats one part and workers share the rest. Each part
after the first is formatted as the body of a ``def _():`` (its ``opener``), which black's output then loses again:
black's blank lines there are none, as in the whole, when the statement before the cut is not the docstring or an
import (black puts a blank line after imports) and the one after is no string (it would read as a docstring) or
``...`` (a dummy body black joins to the ``def`` line). A module with ``fmt:``/``yapf:`` directives, a carriage
return, a form feed, an encoding declaration, or a ``match``, ``case`` or ``type`` statement stays whole: black could
skip a region across the cut, see other line ends, or parse the whole file with another grammar.
``tests/test_piecewise_black.py`` holds the pieces to black's own output of the whole.
"""

from __future__ import annotations

import ast
import re
from typing import Callable, NamedTuple

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Also an encoding declaration (black keeps one it ignores on a file's first two lines, so a piece's too). A
# `match`/`case` line ends in a colon and a `type` alias names its type: not `match = ...` nor `type=int`.
_KEEP_WHOLE = re.compile(
    r"fmt:|yapf:|\r|\f|^[ \t]*#.*coding[:=]|^[ \t]*(match|case)\b.*:[ \t]*(#.*)?$|^[ \t]*type[ \t]+\w+[ \t]*[\[=]",
    re.MULTILINE,
)


LONG_BODY = 100_000  # characters of a function formatted in parts, each about as long


class Piece(NamedTuple):
    start: int  # the line of the module it starts on
    text: str
    opener: str = ""  # what black formats before it, and what its output loses again: a body's later part


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


def split_at_definitions(source: str) -> list[Piece]:
    """``source`` cut before each top-level definition black puts two blank lines before whatever precedes it, and
    inside long functions (LONG_BODY): its pieces in order; one piece when it cannot be cut."""
    if _KEEP_WHOLE.search(source):
        return [Piece(1, source)]
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [Piece(1, source)]
    lines = source.split("\n")  # ast counts lines at "\n" only, once "\r" is ruled out
    starts: list[tuple[int, str]] = [(1, "")]
    for index, statement in enumerate(body):
        start = _cut_before(statement, body[index - 1], lines) if index else None
        if start is not None:
            starts.append((start, ""))
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            opener = "async def _():\n" if isinstance(statement, ast.AsyncFunctionDef) else "def _():\n"
            starts += [(line, opener) for line in _cuts_inside(statement, lines)]
    ends = [start - 1 for start, _ in starts[1:]] + [len(lines)]
    return [
        Piece(start, "\n".join(lines[start - 1 : end]).rstrip("\n") + "\n", opener)
        for (start, opener), end in zip(starts, ends)
    ]


def _cuts_inside(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> list[int]:
    """Lines to cut ``function``'s body before, about every LONG_BODY characters, where black's output of the
    parts is its output of the whole."""
    if function.end_lineno - function.lineno < 2 or _size(lines, function.lineno, function.end_lineno) <= LONG_BODY:
        return []
    cuts, size = [], 0
    for before, statement in zip(function.body, function.body[1:]):
        size += _size(lines, before.lineno, before.end_lineno)
        if size >= LONG_BODY and _cuttable_between(before, statement):
            cuts.append(statement.lineno)
            size = 0
    return cuts


def _size(lines: list[str], first: int, last: int) -> int:
    return sum(len(line) + 1 for line in lines[first - 1 : last])


def _cuttable_between(before: ast.stmt, statement: ast.stmt) -> bool:
    """Whether ``statement`` formats alone as the first of a ``def _():`` body the way it does after ``before``."""
    return (
        statement.lineno == before.end_lineno + 1  # no blank line, no comment between
        and not hasattr(before, "body")
        and not hasattr(statement, "body")
        and not isinstance(before, (ast.Import, ast.ImportFrom))
        and not _is_bare_constant(before)
        and not _is_bare_constant(statement)
    )


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
    """The module docstring (black puts one blank line after it, before a decorator), or another constant (an
    f-string too: black reads a block's first string as its docstring)."""
    return isinstance(statement, ast.Expr) and isinstance(statement.value, (ast.Constant, ast.JoinedStr))


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


def pieces_of(source: str, mode) -> list[Piece]:
    """The pieces black formats apart under ``mode`` (as split_at_definitions gives them): ``source`` whole when
    the Mode does not allow cutting."""
    return split_at_definitions(source) if mode_allows_pieces(mode) else [Piece(1, source)]


def formatted_input(piece: Piece) -> str:
    """What black formats for ``piece``."""
    return piece.opener + piece.text


def join_pieces(pieces: list[Piece], formatted: list[str]) -> str:
    """black's outputs for ``pieces`` (of formatted_input) as one module: two blank lines before each definition,
    as black puts them; a body's later part without its opener, right after the part before."""
    joined = []
    for piece, text in zip(pieces, formatted):
        if piece.opener:
            joined.append(text.split("\n", 1)[1])
        else:
            joined.append(("\n\n" if joined else "") + text)
    return "".join(joined)


def reformat_pieces(source: str, lines: list[tuple[int, int]], mode, format_piece: Callable[[str], str]) -> str:
    """black's output for ``source`` when only the 1-based line ranges ``lines`` may differ from it: the pieces
    holding none of them are kept as they are, the others formatted again.

    (Not black's own ``lines=`` option: it can change the blank lines after a formatted import.)"""
    pieces, formatted = pieces_of(source, mode), []
    for piece in pieces:
        end = piece.start + piece.text.count("\n") - 1
        touched = any(first <= end and last >= piece.start for first, last in lines)
        formatted.append(format_piece(formatted_input(piece)) if touched else formatted_input(piece))
    return join_pieces(pieces, formatted)

"""Large lists of numbers, read with ``json`` instead of Python's parser.

A cell can hold its data as a literal: ``X = [[0.1, 0.2], [0.3, 0.4], ...]`` pasted from elsewhere. Python's parser
builds a node per number (a 20 MB list: 3.5 million nodes, 12 s and 4 GB), though all the analysis needs of such a
statement is that it binds ``X`` to a literal, and the literals stage then stores the value as a data file.

So before a large cell is parsed, each top-level ``NAME = [...]`` whose list spans at least ``LIMIT`` characters of
numbers, brackets, commas and white space alone is read with ``json``. That text is JSON and Python alike, with the
same value (JSON's ``true``, ``NaN`` or strings never get this far). The list's inside is blanked with spaces in the
text handed to the parser, which then sees an empty list at the same place, every line and column unchanged; the
value read by json rides on that node (``literal_value``). When the parse of the blanked text puts anything else
there (the pattern matched inside a string, say), the cell is parsed as written.
"""

from __future__ import annotations

import ast
import json
import re

# Characters of source (a few hundred lines once black has split it): the literals stage stores a literal this
# large as a data file (stages/literals.py)
LIMIT = 10_000
_NESTING = 100  # Python's tokenizer refuses 200 nested brackets; deeper lists take the parser's way and its verdict

_STATEMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*(?=\[)", re.MULTILINE)
_NOT_NUMERIC = re.compile(r"[^0-9.eE+\-\[\], \t\n]")
_LINE_REST = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\n|\Z)")
_NOT_BRACKET = re.compile(r"[^\[\]]+")
_LINE_BODY = re.compile(r"[^\n]+")
# json's own NaN, Infinity, true, false and null hold letters _NOT_NUMERIC refuses after decoding
_DECODER = json.JSONDecoder()


class _HeldValue:
    """The value json read, on the parse's empty list. Copies of the tree share it: nothing changes it."""

    __slots__ = ("value",)

    def __init__(self, value: list) -> None:
        self.value = value

    def __deepcopy__(self, memo: dict) -> _HeldValue:
        return self


_HELD = "promote_literal"  # the attribute of the ast.List node


def literal_value(node: ast.AST) -> object:
    """``ast.literal_eval(node)``, or the value json read for a list that parse_code blanked."""
    held = getattr(node, _HELD, None)
    return held.value if held is not None else ast.literal_eval(node)


def parse_code(code: str) -> ast.Module:
    """``ast.parse(code)``, each large list of numbers read by json instead (raises SyntaxError as ast.parse)."""
    found = _numeric_lists(code) if len(code) >= LIMIT and "\r" not in code else []
    if not found:
        return ast.parse(code)
    parts, at = [], 0
    for start, end, _ in found:
        inside = code[start + 1 : end - 1]
        parts += [code[at : start + 1], _LINE_BODY.sub(lambda run: " " * len(run.group()), inside), "]"]
        at = end
    parts.append(code[at:])
    tree = ast.parse("".join(parts))
    return tree if _hold_values(tree, code, found) else ast.parse(code)


def _numeric_lists(code: str) -> list[tuple[int, int, list]]:
    """(start, end, value) of each top-level ``NAME = [numbers]`` of at least LIMIT characters, in order."""
    found: list[tuple[int, int, list]] = []
    for match in _STATEMENT.finditer(code):
        start = match.end()
        if found and start < found[-1][1]:
            continue  # a line inside the list before
        if _NOT_NUMERIC.search(code, start, start + LIMIT):
            continue  # not numbers, or shorter than LIMIT (what follows it is code): spare decoding it
        try:
            value, end = _DECODER.raw_decode(code, start)
        except (ValueError, RecursionError):
            continue
        if end - start < LIMIT or _NOT_NUMERIC.search(code, start, end) or not _LINE_REST.match(code, end):
            continue
        if _nesting(code[start:end]) <= _NESTING:
            found.append((start, end, value))
    return found


def _nesting(text: str) -> int:
    """How deep the brackets of ``text`` nest (past _NESTING: _NESTING + 1): each pass drops the innermost pairs."""
    brackets = _NOT_BRACKET.sub("", text)
    for depth in range(_NESTING + 1):
        if not brackets:
            return depth
        brackets = brackets.replace("[]", "")
    return _NESTING + 1


def _hold_values(tree: ast.Module, code: str, found: list[tuple[int, int, list]]) -> bool:
    """Put each value on the empty list the parse made of its blanked text; False unless every one is the whole
    value of a top-level ``NAME = ...`` exactly where the text had it."""
    expected = {}
    for start, end, value in found:
        line_start = code.rfind("\n", 0, start) + 1
        line = code.count("\n", 0, start) + 1
        last_break = code.rfind("\n", start, end)
        end_column = end - last_break - 1 if last_break >= 0 else start - line_start + end - start
        expected[(line, start - line_start)] = (line + code.count("\n", start, end), end_column, value)
    held = 0
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        node = statement.value
        if not (isinstance(statement.targets[0], ast.Name) and isinstance(node, ast.List) and not node.elts):
            continue
        place = expected.get((node.lineno, node.col_offset))
        if place is not None and place[:2] == (node.end_lineno, node.end_col_offset):
            setattr(node, _HELD, _HeldValue(place[2]))
            held += 1
    return held == len(found)

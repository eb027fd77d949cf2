r"""Large literals of numbers and double-quoted strings, read with ``json`` instead of Python's parser.

A cell can hold its data as a literal: ``X = [[0.1, 0.2], [0.3, 0.4], ...]`` or ``VOCAB = {"the": 0, ...}`` pasted
from elsewhere. Python's parser builds a node per element (a 20 MB list: 3.5 million nodes, 12 s and 4 GB), though
all the analysis needs of such a statement is that it binds ``X`` to a literal, and the literals stage then stores
the value as a data file.

So before a large cell is parsed, each top-level ``NAME = [...]`` or ``NAME = {...}``, or a literal of numbers as the
first argument of a call (``X = np.array([[0.1, 0.2], ...], dtype=...)``), spanning at least ``LIMIT`` characters
is read with ``json`` when that text means the same in JSON and Python: outside its strings only
numbers, brackets, braces, colons, commas and white space (so no ``true``, ``NaN`` or ``None``; trailing commas
where black puts them, the literal closing at the start of a line, are read as spaces), inside them no
escape the two read differently (``\/``, a surrogate pair) and no surrogate. The literal's inside is blanked with
spaces in the text handed to the parser (one per UTF-8 byte, as the parser counts columns), which then sees an
empty list or dict at the same place, every line and column unchanged; the value read by json rides on that node
(``literal_value``). When the parse of the blanked text puts anything else there (the pattern matched inside a
string, say), the cell is parsed as written.

No stage looks inside such a literal but through ``literal_value``: a literal holding strings is no call's argument
(codegen/example_chain.py counts the texts of a call), and a top-level assignment is never a module-level definition
(stages/paths.py reads the paths in those).
"""

from __future__ import annotations

import ast
import json
import re

# Characters of source (a few hundred lines once black has split it): the literals stage stores a literal this
# large as a data file (stages/literals.py)
LIMIT = 10_000
_NESTING = 100  # Python's tokenizer refuses 200 nested brackets; deeper lists take the parser's way and its verdict

# ``NAME = [`` or ``NAME = np.array([``: the literal alone, or the first argument of a call (group 1)
_STATEMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*([A-Za-z_][\w.]*\([ \t]*)?(?=[\[{])", re.MULTILINE)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string, once json has read the text
# What may stand outside the strings: json's own NaN, Infinity, true, false and null hold letters it refuses
_NOT_SKELETON = re.compile(r'[^0-9.eE+\-\[\]{}:, \t\n"]')
# Escapes JSON reads otherwise than Python: "\/" is "/" in JSON only, "\ud83d\ude00" one character in JSON only
_UNLIKE_ESCAPE = re.compile(r"\\(?:/|u[dD][89abAB])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEXT_STATEMENT = re.compile(r"^[A-Za-z_#]", re.MULTILINE)
_LINE_REST = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\n|\Z)")
_ARGUMENT_END = re.compile(r"[ \t\n]*[,)]")  # after a call's first argument
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
# A trailing comma as black writes it, at the end of a line before a closing bracket: never inside a JSON string,
# which holds no line break
_TRAILING_COMMA = re.compile(r",(?=\n[ \t]*[\]}])")
_DECODER = json.JSONDecoder()


class _HeldValue:
    """The value json read, on the parse's empty list or dict. Copies of the tree share it: nothing changes it."""

    __slots__ = ("value",)

    def __init__(self, value: list | dict) -> None:
        self.value = value

    def __deepcopy__(self, memo: dict) -> _HeldValue:
        return self


_HELD = "promote_literal"  # the attribute of the ast.List or ast.Dict node


def literal_value(node: ast.AST) -> object:
    """``ast.literal_eval(node)``, or the value json read for a literal that parse_code blanked."""
    held = getattr(node, _HELD, None)
    return held.value if held is not None else ast.literal_eval(node)


def is_held(node: ast.AST) -> bool:
    """The node stands for a literal json read: its value holds no comment and is JSON exactly."""
    return hasattr(node, _HELD)


def parse_code(code: str) -> ast.Module:
    """``ast.parse(code)``, each large literal JSON reads alike read by json instead (raises SyntaxError as
    ast.parse)."""
    found = _json_literals(code) if len(code) >= LIMIT and "\r" not in code else []
    if not found:
        return ast.parse(code)
    parts, at = [], 0
    for start, end, _ in found:
        inside = code[start + 1 : end - 1]
        parts += [code[at : start + 1], _blanked(inside), code[end - 1]]
        at = end
    parts.append(code[at:])
    tree = ast.parse("".join(parts))
    return tree if _hold_values(tree, code, found) else ast.parse(code)


def _blanked(text: str) -> str:
    """``text`` as spaces, its line breaks kept: one space per UTF-8 byte, as the parser counts columns."""
    lines = text.split("\n")
    if text.isascii():
        return "\n".join(" " * len(line) for line in lines)
    return "\n".join(" " * len(line.encode("utf-8")) for line in lines)


def _json_literals(code: str) -> list[tuple[int, int, list | dict]]:
    """(start, end, value) of each top-level ``NAME = [...]`` or ``{...}`` of at least LIMIT characters that JSON
    and Python read alike, in order."""
    found: list[tuple[int, int, list | dict]] = []
    for match in _STATEMENT.finditer(code):
        start = match.end()
        if found and start < found[-1][1]:
            continue  # a line inside the literal before
        # No line of a JSON literal starts with a letter or a comment: the literal ends before the next such line.
        # json is handed the statement alone, since its errors count the lines of all it is given.
        following = _NEXT_STATEMENT.search(code, start)
        extent = (following.start() if following else len(code)) - start
        if extent < LIMIT:
            continue  # a small literal, or none: spare decoding it
        read = _read_json(code[start : start + extent])
        if read is None:
            continue  # not JSON (a name, a single quote, a comment...): the parser's way
        value, end = read[0], start + read[1]
        rest = _ARGUMENT_END if match.group(1) else _LINE_REST
        if end - start < LIMIT or not rest.match(code, end):
            continue
        literal = code[start:end]
        if match.group(1) and '"' in literal:
            continue  # an argument's strings are read by stages (a helper called with the model and one text)
        skeleton = _skeleton(literal)
        if skeleton is not None and _nesting(skeleton) <= _NESTING:
            found.append((start, end, value))
    return found


def _read_json(text: str) -> tuple[list | dict, int] | None:
    """(value, length) of the JSON literal ``text`` starts with, or None. Written as black writes a long literal,
    the closing bracket on a line of its own after a trailing comma (after every element's, when split), it is
    read with those commas made spaces."""
    close = text.find("\n]" if text[0] == "[" else "\n}")
    if close > 0 and text[close - 1] == ",":
        window = _TRAILING_COMMA.sub(" ", text[: close + 2])
        read = _decoded(window)
        if read is not None and read[1] == len(window):
            return read
    return _decoded(text)


def _decoded(text: str) -> tuple[list | dict, int] | None:
    try:
        return _DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        return None


def _skeleton(text: str) -> str | None:
    """The JSON ``text`` with its strings emptied, or None when Python would read it otherwise."""
    if '"' in text:
        if ("\\" in text and _UNLIKE_ESCAPE.search(text)) or (not text.isascii() and _SURROGATE.search(text)):
            return None
        text = _STRING.sub('""', text)
    return None if _NOT_SKELETON.search(text) else text


def _nesting(skeleton: str) -> int:
    """How deep the brackets and braces nest (past _NESTING: _NESTING + 1): each pass drops the innermost pairs."""
    brackets = _NOT_BRACKET.sub("", skeleton)
    for depth in range(_NESTING + 1):
        if not brackets:
            return depth
        brackets = _INNERMOST.sub("", brackets)
    return _NESTING + 1


def _hold_values(tree: ast.Module, code: str, found: list[tuple[int, int, list | dict]]) -> bool:
    """Put each value on the empty list or dict the parse made of its blanked text; False unless every one is
    the whole value of a top-level ``NAME = ...`` exactly where the text had it (columns in UTF-8 bytes)."""
    expected = {}
    for start, end, value in found:
        line_start = code.rfind("\n", 0, start) + 1
        line = code.count("\n", 0, start) + 1
        column = _width(code[line_start:start])
        last_break = code.rfind("\n", start, end)
        end_column = _width(code[last_break + 1 : end]) if last_break >= 0 else column + _width(code[start:end])
        expected[(line, column)] = (line + code.count("\n", start, end), end_column, value)
    held = 0
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        if not isinstance(statement.targets[0], ast.Name):
            continue
        value = statement.value
        for node in [value, value.args[0]] if isinstance(value, ast.Call) and value.args else [value]:
            place = expected.get((node.lineno, node.col_offset))
            if place is None or not _is_empty_literal(node) or place[:2] != (node.end_lineno, node.end_col_offset):
                continue
            if isinstance(node, ast.List) == isinstance(place[2], list):
                setattr(node, _HELD, _HeldValue(place[2]))
                held += 1
    return held == len(found)


def _is_empty_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.List) and not node.elts) or (isinstance(node, ast.Dict) and not node.keys)


def _width(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))

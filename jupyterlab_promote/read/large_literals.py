r"""Large literals of data, read with ``json`` instead of Python's parser.

A cell can hold its data as a literal: ``X = [[0.1, 0.2], [0.3, 0.4], ...]`` or ``VOCAB = {"the": 0, ...}`` pasted
from elsewhere. Python's parser builds a node per element (a 20 MB list: 3.5 million nodes, 12 s and 4 GB), though
all the analysis needs of such a statement is that it binds ``X`` to a literal, and the literals stage then stores
the value as a data file.

So before a large cell is parsed, each top-level ``NAME = [...]``, ``{...}`` or ``(...)``, or such a literal as the
first argument of a call (``X = np.array([[0.1, 0.2], ...], dtype=...)``, ``df = pd.DataFrame({"a": [...]})``),
spanning at least ``LIMIT`` characters is read with ``json`` when that text means the same in JSON and Python:
outside its strings only numbers, brackets, braces, colons, commas and white space (so no ``true`` or ``NaN``;
trailing commas where black puts them, the literal closing at the start of a line, are read as spaces), inside them no
escape the two read differently (``\/``, a surrogate pair) and no surrogate. The literal's inside is blanked with
spaces in the text handed to the parser (one per UTF-8 byte, as the parser counts columns), which then sees an
empty list, dict or tuple at the same place, every line and column unchanged; the value read by json rides on that
node (``literal_value``). When the parse of the blanked text puts anything else there (the pattern matched inside a
string, say), the cell is parsed as written.

Data as Python prints it reads so too: ``None``, ``True``, ``False``, strings in single quotes (holding no backslash
and no double quote) and tuples are written in JSON's spelling, each as long as Python's (``null``, ``"..."``,
``[...]``), before json reads the text, so that every offset holds. A literal holding a tuple keeps its own text as
its value (``held_as_text``): JSON has no tuple, and the literals stage stores such a literal as its text anyway.
Parentheses that group rather than make a tuple, ``(1)`` or ``([1, 2])``, take the parser's way. So does a dict
whose keys JSON has not (``{1: "a"}``): json reads it with its braces as brackets and its colons as commas, which
finds where it ends and that its elements are data, a check of its skeleton that it is a dict, and it is kept as
text. Sets, and keys that are containers, take the parser's way.

No stage looks inside such a literal but through ``literal_value``: a statement holding one is too large to follow
for an example prediction (codegen/example_chain.py counts the texts of a call), the paths stage reads no string
inside a list or dict argument, and a top-level assignment is never a module-level definition (stages/paths.py reads
the paths in those).
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
_STATEMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*([A-Za-z_][\w.]*\([ \t]*)?(?=[\[{(])", re.MULTILINE)
# Escapes JSON reads otherwise than Python: "\/" is "/" in JSON only, "\ud83d\ude00" one character in JSON only
_UNLIKE_ESCAPE = re.compile(r"\\(?:/|u[dD][89abAB])")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEXT_STATEMENT = re.compile(r"^[A-Za-z_#]", re.MULTILINE)
_LINE_REST = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\n|\Z)")
_ARGUMENT_END = re.compile(r"[ \t\n]*[,)]")  # after a call's first argument
_NOT_BRACKET = re.compile(r"[^\[\]{}()]+")
_INNERMOST = re.compile(r"\[\]|\{\}|\(\)")
# A trailing comma as black writes it, at the end of a line before a closing bracket: never inside a JSON string,
# which holds no line break
_TRAILING_COMMA = re.compile(r",(?=\n[ \t]*[\]}])")
_DECODER = json.JSONDecoder()

# Python's spellings of data JSON spells otherwise, each as long as JSON's: a double-quoted string is matched only
# to be kept as it is (what it holds is no token), a single-quoted one only when it holds no backslash or double
# quote (then its text is JSON's between double quotes). No word boundaries: a word run into a number or a name
# (``1None``, ``Nonex``) is no JSON either, and every branch starting with a character keeps the search fast.
_STRINGS = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'"\\\n]*\''
_PYTHON_STRING = re.compile(_STRINGS)
_BETWEEN_STRINGS = re.compile(f"({_STRINGS})")  # split: what lies outside the strings, and the strings
_PYTHON_WORD = re.compile(r"None|True|False")
_PYTHON_ONLY = re.compile(r"[(']|None|True|False")
_PARENTHESES_AS_BRACKETS = str.maketrans("()", "[]")
_DICTS_AS_LISTS = str.maketrans("{}:", "[],")  # {1: "a"} as [1, "a"]: json reads the elements, no structure
# The inside of braces holding pairs, once the containers inside are ``x``: a key is a number, a string or a word
_KEY = r"[ \t\n]*[^ \t\n:,x]+[ \t\n]*"
_ITEM = r"[ \t\n]*[^ \t\n:,]+[ \t\n]*"
_PAIRS = re.compile(f"{_KEY}:{_ITEM}(?:,{_KEY}:{_ITEM})*,?[ \t\n]*")
# What may stand outside the strings once Python's words are numbers: json's own NaN, Infinity, true, false and
# null hold letters, which Python reads as names
_NOT_SKELETON = re.compile(r'[^0-9.eE+\-\[\]{}():, \t\n"]')
# Parentheses around one element and no comma group it: no tuple (``( )``, an empty tuple, counts too: it takes
# the parser's way)
_GROUPING = re.compile(r"\([^\[\](){},]+\)")
_INNERMOST_ANY = re.compile(r"\[[^\[\](){}]*\]|\{[^\[\](){}]*\}|\([^\[\](){}]*\)")


class _HeldValue:
    """The value json read, on the parse's empty list, dict or tuple, or (``text``) the literal's own text when it
    holds a tuple or a key JSON has not. Copies of the tree share it: nothing changes it."""

    __slots__ = ("value", "text")

    def __init__(self, value: list | dict | None, text: str | None = None) -> None:
        self.value, self.text = value, text

    def __deepcopy__(self, memo: dict) -> _HeldValue:
        return self


_HELD = "promote_literal"  # the attribute of the ast.List, ast.Dict or ast.Tuple node
_KINDS = {"[": ast.List, "{": ast.Dict, "(": ast.Tuple}  # the node the parse makes of the blanked literal


def literal_value(node: ast.AST) -> object:
    """``ast.literal_eval(node)``, or the value of a literal that parse_code blanked."""
    held = getattr(node, _HELD, None)
    if held is None:
        return ast.literal_eval(node)
    return held.value if held.text is None else ast.literal_eval(held.text)


def is_held(node: ast.AST) -> bool:
    """The node stands for a literal json read: its text holds no comment, and its value (unless
    ``held_as_text``) is JSON exactly."""
    return hasattr(node, _HELD)


def held_as_text(node: ast.AST) -> bool:
    """The node stands for a literal json read that holds a tuple or a key other than a string, which no JSON value
    does."""
    held = getattr(node, _HELD, None)
    return held is not None and held.text is not None


def parse_code(code: str) -> ast.Module:
    """``ast.parse(code)``, each large literal JSON reads alike read by json instead (raises SyntaxError as
    ast.parse)."""
    found = _json_literals(code) if len(code) >= LIMIT and "\r" not in code else []
    if not found:
        return ast.parse(code)
    parts, at = [], 0
    for start, end, _, _ in found:
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


def _json_literals(code: str) -> list[tuple[int, int, list | dict, bool]]:
    """(start, end, value, kept as text) of each top-level ``NAME = [...]``, ``{...}`` or ``(...)`` of at least
    LIMIT characters that JSON and Python read alike, in order."""
    found: list[tuple[int, int, list | dict, bool]] = []
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
        read, as_text = _read_any_spelling(code[start : start + extent])
        if read is None:
            continue  # not JSON (a name, a comment...): the parser's way
        value, end = read[0], start + read[1]
        rest = _ARGUMENT_END if match.group(1) else _LINE_REST
        if end - start < LIMIT or not rest.match(code, end):
            continue
        skeleton = _skeleton(code[start:end])
        if skeleton is None or _nesting(skeleton) > _NESTING:
            continue
        as_text = as_text or "(" in skeleton
        if not as_text or _python_structure(skeleton):
            found.append((start, end, value, as_text))
    return found


def _read_any_spelling(text: str) -> tuple[tuple[list | dict, int] | None, bool]:
    """(value, length) of the literal ``text`` starts with, read as written, in JSON's spelling of Python's data,
    or with dicts as lists (then only its length counts: its value is its text); and whether it is kept as text."""
    read = _read_json(text)
    if read is not None or "\0" in text or not _PYTHON_ONLY.search(text) and "{" not in text:
        return read, False
    for spelled, as_text in _json_spellings(text):
        read = _read_json(spelled)
        if read is not None:
            return read, as_text
    return None, False


def _json_spellings(text: str):
    """``text`` with Python's data spelled as JSON spells it, each offset kept (``text`` holds no NUL); then, if it
    holds braces, with its dicts as lists too (``{1: "a"}`` as ``[1, "a"]``)."""
    parts = _BETWEEN_STRINGS.split(text)  # outside, a string, outside, ..., outside
    outside = "\0".join(parts[::2]).translate(_PARENTHESES_AS_BRACKETS)  # one pass over all of it: no callback
    outside = outside.replace("None", "null").replace("True", "true").replace("False", "false")
    strings = [string if string[0] == '"' else f'"{string[1:-1]}"' for string in parts[1::2]]
    yield _joined(outside, strings), False
    if "{" in outside:
        yield _joined(outside.translate(_DICTS_AS_LISTS), strings), True


def _joined(outside: str, strings: list[str]) -> str:
    """The pieces of ``outside`` (joined by NUL) with ``strings`` between them."""
    spelled = outside.split("\0")
    spelled[1:] = [piece for pair in zip(strings, spelled[1:]) for piece in pair]
    return "".join(spelled)


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
    """The literal ``text`` json read (as written, or in JSON's spelling) with its strings emptied and Python's
    None, True and False as numbers, or None when Python would read it otherwise."""
    if '"' in text or "'" in text:
        if ("\\" in text and _UNLIKE_ESCAPE.search(text)) or (not text.isascii() and _SURROGATE.search(text)):
            return None
        text = _PYTHON_STRING.sub('""', text)
    text = _PYTHON_WORD.sub("0", text)
    return None if _NOT_SKELETON.search(text) else text


def _python_structure(skeleton: str) -> bool:
    """Whether Python reads ``skeleton`` as the nesting json read: every pair of parentheses makes a tuple (holds a
    comma between its elements, or nothing), colons stand only in braces, and braces hold ``key: value`` pairs whose
    keys are no list, dict or tuple (which literal_eval refuses, or the parser's way may). Each pass makes the
    innermost pairs one element, ``x``."""
    structure = skeleton
    for _ in range(_NESTING + 1):
        if _GROUPING.search(structure):
            return False
        innermost = _INNERMOST_ANY.findall(structure)
        for pair in innermost:
            if ":" in pair and not (pair[0] == "{" and _PAIRS.fullmatch(pair, 1, len(pair) - 1)):
                return False
            if pair[0] == "{" and pair != "{}" and ":" not in pair:
                return False  # a set
        if not innermost:
            return True
        structure = _INNERMOST_ANY.sub("x", structure)
    return False


def _nesting(skeleton: str) -> int:
    """How deep the brackets, braces and parentheses nest (past _NESTING: _NESTING + 1): each pass drops the
    innermost pairs."""
    brackets = _NOT_BRACKET.sub("", skeleton)
    for depth in range(_NESTING + 1):
        if not brackets:
            return depth
        brackets = _INNERMOST.sub("", brackets)
    return _NESTING + 1


def _hold_values(tree: ast.Module, code: str, found: list[tuple[int, int, list | dict, bool]]) -> bool:
    """Put each value on the empty list, dict or tuple the parse made of its blanked text; False unless every one
    is the whole value of a top-level ``NAME = ...`` exactly where the text had it (columns in UTF-8 bytes)."""
    expected = {}
    for start, end, value, as_text in found:
        line_start = code.rfind("\n", 0, start) + 1
        line = code.count("\n", 0, start) + 1
        column = _width(code[line_start:start])
        last_break = code.rfind("\n", start, end)
        end_column = _width(code[last_break + 1 : end]) if last_break >= 0 else column + _width(code[start:end])
        held = _HeldValue(None, code[start:end]) if as_text else _HeldValue(value)
        expected[(line, column)] = (line + code.count("\n", start, end), end_column, held, _KINDS[code[start]])
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
            if type(node) is place[3]:
                setattr(node, _HELD, place[2])
                held += 1
    return held == len(found)


def _is_empty_literal(node: ast.expr) -> bool:
    if isinstance(node, (ast.List, ast.Tuple)):
        return not node.elts
    return isinstance(node, ast.Dict) and not node.keys


def _width(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))

"""Top-level functions black already wrote, which it returns as they are: no need to run it on them.

A notebook of 2,000 cells holds hundreds of small helper functions; promotion formats each as a piece of its module
(piecewise_black), and black reads them at about 0.2 MB/s. Many people format their notebooks with black (or an
editor's formatter that writes as it does), so such a piece is often black's output already. This module recognises
the simplest of those from the text alone:

- leading comment lines, then ``def name(parameters):`` or ``def name(parameters) -> annotation:`` on one line:
  parameters ``name``, ``name=value`` (a name, a number as black writes it, a double-quoted string without
  backslash, a negative number), ``name: annotation``, ``name: annotation = value``, ``*``, ``*name`` and
  ``**name``, joined by ``", "``, an annotation being a plain expression (plain_lines); no ``/``, no trailing
  comma;
- an optional one-line docstring ``\"\"\"text\"\"\"`` (printable, no quote or backslash, no space at either end), of
  any length: black cannot split it, and leaves the closing quotes of a one-line docstring where they are;
- a body of lines indented by four spaces a level: plain one-line statements (plain_lines), ``pass``, ``break``,
  ``continue``, ``return``, ``return``/``raise`` of a plain expression, ``return`` of a dict display of names under
  their own names as keys (``return {"model": model}``: a promoted step's), and the headers ``if``/``elif``/``while``
  of a plain expression, ``for names in`` a plain expression, and ``else:``, each followed by a line one level
  deeper; comment lines at the depth of the statement after them, inline comments as plain_lines takes them;
- no blank line anywhere (black's blank-line rules inside functions are left to black), every other line at most
  ``line_length`` characters, printable ASCII only, nothing after the function.

Anything else is black's to format. ``tests/test_plain_definitions.py`` holds the recognised texts to black's output
(generated definitions, and every top-level function of the standard library the rules accept), under the black
release it runs with; under another year's release black decides (plain_lines.BLACK_YEARS).
"""

from __future__ import annotations

import keyword
import re

from .plain_lines import is_plain_expression, is_plain_statement, line_statement

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VALUE = rf'-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e-?[0-9]+)?|"[^"\\]*"|{_NAME}'
_HEADER = re.compile(rf"def ({_NAME})\((.*?)\)(?: -> (.+))?:")
_PARAMETER = re.compile(rf"(?:\*\*?)?({_NAME})|({_NAME})=(?:{_VALUE})|\*|({_NAME}): ([^\"'=]+?)(?: = (?:{_VALUE}))?")
_RETURNED_NAMES = re.compile(rf'return \{{(?:"{_NAME}": {_NAME}(?:, "{_NAME}": {_NAME})*)?\}}')
_DOCSTRING = re.compile(r'    """[!#-\[\]-~](?:[ !#-\[\]-~]*[!#-\[\]-~])?"""')
_COMPOUND = re.compile(r"(if|elif|while|for) (.+):|(else):")
_FOR_TARGETS = re.compile(rf"{_NAME}(?:, {_NAME})* in (.+)")
_CONTROL = re.compile(r"[^ -~\n]")
_SIMPLE_WORDS = frozenset({"pass", "break", "continue", "return"})


def is_plain_definition(text: str, line_length: int) -> bool:
    """Whether black, formatting ``text`` alone with lines of ``line_length``, returns it unchanged, by the rules
    above (False says nothing: black decides)."""
    if not text.endswith("\n") or not text.isascii() or _CONTROL.search(text):
        return False
    lines = text[:-1].split("\n")
    first = 0
    while first < len(lines) and lines[first].startswith("#"):
        if line_statement(lines[first], "") != "":
            return False
        first += 1
    if first == len(lines) or not _is_plain_header(lines[first]):
        return False
    body = lines[first + 1 :]
    docstring = bool(body) and _DOCSTRING.fullmatch(body[0]) is not None
    # A one-line docstring may be longer: black cannot split it, and moves no closing quotes of one line (#3320)
    if any(len(line) > line_length for line in lines[: first + 1] + body[docstring:]):
        return False
    if docstring:
        return _is_plain_block(body[1:], depth=1, opened=False)
    return bool(body) and _is_plain_block(body, depth=0, opened=True)


def _is_plain_header(line: str) -> bool:
    header = _HEADER.fullmatch(line)
    if header is None or keyword.iskeyword(header[1]) or header[3] and not is_plain_expression(header[3]):
        return False
    parameters = _top_level_split(header[2]) if header[2] else []
    for text in parameters:
        parameter = _PARAMETER.fullmatch(text) if text is not None else None
        if parameter is None:
            return False
        name = parameter[1] or parameter[2] or parameter[3]
        if name and keyword.iskeyword(name) or parameter[4] and not is_plain_expression(parameter[4]):
            return False
    return True


def _top_level_split(text: str) -> list[str | None]:
    """``text`` cut at each ", " outside brackets (None for a part that is no whole parameter)."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return [None]
        if char == "," and depth == 0:
            parts.append(text[start:at])
            start = at + 2 if text[at + 1 : at + 2] == " " else -1
            if start < 0:
                return [None]
    return [*parts, text[start:]] if depth == 0 else [None]


def _is_plain_block(lines: list[str], depth: int, opened: bool) -> bool:
    """The function's body after its docstring: each statement one level deeper than a header before it, else at
    most as deep as the statement before; a comment line at the depth of the next statement (black moves it there).
    ``depth``: the level of the line before; ``opened``: that line opens a block."""
    for index, line in enumerate(lines):
        level, remainder = divmod(_indent(line), 4)
        statement = line_statement(line, " " * (4 * level))
        if statement is None and _RETURNED_NAMES.fullmatch(line, 4 * level):
            statement = line[4 * level :]  # braces and colons, which plain lines hold nowhere else
        if remainder or level < 1 or statement is None:
            return False
        if statement == "":
            following = next((other for other in lines[index + 1 :] if not other.lstrip(" ").startswith("#")), None)
            if following is None or _indent(following) != 4 * level:
                return False
            continue
        if (level != depth + 1) if opened else (level > depth):
            return False
        depth, opened = level, _opens_block(statement)
        if opened is None:
            return False
    return not opened


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _opens_block(statement: str) -> bool | None:
    """True for a plain compound header, False for a plain simple statement, None otherwise."""
    compound = _COMPOUND.fullmatch(statement)
    if compound is not None:
        if compound[3]:
            return True
        if compound[1] == "for":
            targets = _FOR_TARGETS.fullmatch(compound[2])
            return True if targets is not None and is_plain_expression(targets[1]) else None
        return True if is_plain_expression(compound[2]) else None
    word, _, rest = statement.partition(" ")
    if word in _SIMPLE_WORDS and not rest:
        return False
    if word in ("return", "raise"):
        return False if rest and (is_plain_expression(rest) or _RETURNED_NAMES.fullmatch(statement)) else None
    return False if is_plain_statement(statement) else None

"""Function bodies of plain one-line statements, which black returns as they are: no need to run it on them.

A cell of 90,000 ordinary statements becomes a step function of 5 MB, which piecewise_black cuts into parts of
about 100 KB, each formatted as the body of a ``def _():``. black reads such a part at about 0.18 MB/s a core (a
5 MB cell: 12 s of black), yet when every line is a short statement already spelled as black spells it, its output
is its input. This module recognises that case, and only that, from the text alone:

- every line is blank, or indented by exactly four spaces and holds one whole statement (brackets closed on the
  line, no backslash, no semicolon) or a comment, at most ``line_length`` characters, printable ASCII only (black
  measures width per character); no two blank lines in a row, none first or last;
- the statement is an assignment, an augmented assignment or an expression that is no lone string: names,
  keywords among ``and or not in is if else None True False``, decimal numbers as black writes them (``0.5``,
  ``1e-3``), double-quoted strings without a backslash or prefix, calls, subscripts, attributes, list displays,
  and the operators below; no parenthesised expression (black drops redundant parentheses), no colon (slices,
  dicts, lambdas, walrus), no ``**`` (black hugs simple powers), no trailing comma (black's magic trailing comma);
- the spaces between tokens are black's: one around binary operators, comparisons, ``=`` at the top level and
  keywords; none inside brackets, around ``.``, after a unary operator or ``*`` that unpacks an argument, around a
  keyword argument's ``=``; one after a comma; two before an inline ``# comment``.

Anything else is black's to format. ``tests/test_plain_lines.py`` holds the recognised texts to black's output, under
the black release it runs with; under another year's release (``BLACK_YEARS``: black changes its stable style only
in a year's first release) black decides.
"""

from __future__ import annotations

import keyword
import re

_TOKEN = re.compile(
    r"(?P<space> *)(?:"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e-?[0-9]+)?(?![A-Za-z0-9_.]))"
    r'|(?P<string>"[^"\\]*")'
    r"|(?P<op>//=|>>=|<<=|\+=|-=|\*=|/=|%=|&=|\|=|\^=|==|!=|<=|>=|//|>>|<<|[-+*/%<>=&|^~()\[\],.])"
    r"|(?P<comment>#.*)"
    r")"
)
_COMMENT = re.compile(r"# .*\S")
_UNSUPPORTED = re.compile(r"\*\*|[:;\\{}@'`$?]")  # in the code, outside its comment (_code_part)
BLACK_YEARS = ("26",)  # black releases whose stable style the tests held these rules to
_CONTROL = re.compile(r"[^ -~\n]")  # a tab, a form feed, a carriage return, in code or comment
_INDENT = "    "

_BINARY_WORDS = frozenset({"and", "or", "in", "is", "if", "else"})
_OPERAND_WORDS = frozenset({"None", "True", "False"})
_BINARY = frozenset({"/", "//", "%", "<", ">", "<=", ">=", "==", "!=", "&", "|", "^", "<<", ">>"})
_ASSIGNING = frozenset({"=", "+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=", "^=", ">>=", "<<="})

# What the token before was, as far as the space before the next one goes
_START, _OPEN, _CLOSE, _COMMA, _DOT, _OPERATOR, _UNARY, _NOT, _NOT_IN, _KEYWORD_EQUALS, _OPERAND = range(11)


def is_plain_body(text: str, line_length: int) -> bool:
    """Whether black, formatting ``def _():\\n`` + ``text`` with lines of ``line_length``, returns it unchanged,
    by the rules above (False says nothing: black decides)."""
    if not text.endswith("\n") or not text.isascii() or _CONTROL.search(text):
        return False
    lines = text[:-1].split("\n")
    if not lines[0] or not lines[-1]:
        return False
    blank_before = False
    for line in lines:
        if not line:
            if blank_before:
                return False
            blank_before = True
            continue
        blank_before = False
        if len(line) > line_length or not _is_plain_line(line):
            return False
    return True


def _is_plain_line(line: str) -> bool:
    statement = line_statement(line, _INDENT)
    return statement == "" or statement is not None and _is_plain_statement(statement)


def line_statement(line: str, indent: str) -> str | None:
    """The statement of ``line``, indented by ``indent`` and spaced as black spaces it before its comment, without
    either ("" for a comment line); None when the indentation, the comment or the characters are not black's. A
    colon is allowed only at the end (a block's header: ``for x in y:``), and is kept."""
    depth = len(indent)
    if not line.startswith(indent) or line[depth : depth + 1] in (" ", ""):
        return None
    code, comment = _code_part(line)
    if comment is not None and (not _COMMENT.fullmatch(comment) or comment.startswith("# type:")):
        return None  # black writes "# " before a comment's text, and reads type comments
    if not code:
        return "" if comment is not None and line.index("#") == depth else None  # a comment line
    if comment is not None and not (code.endswith("  ") and code[-3] != " "):
        return None  # two spaces before an inline comment
    statement = code[depth:].rstrip(" ") if comment is not None else code[depth:]
    return None if _UNSUPPORTED.search(statement[:-1] if statement.endswith(":") else statement) else statement


def is_plain_statement(code: str) -> bool:
    """Whether black writes the one-line statement ``code`` (no indentation, no comment) as it is."""
    return _is_plain_statement(code)


def is_plain_expression(code: str) -> bool:
    """Whether black writes the expression ``code`` as it is (as a condition, an iterable, a value returned)."""
    return _is_plain_statement(code, expression=True)


def _code_part(line: str) -> tuple[str, str | None]:
    """The line before its comment, and the comment (None without one): a ``#`` inside a string is no comment."""
    at = line.find("#")
    while at >= 0:
        if line.count('"', 0, at) % 2 == 0:
            return line[:at] if line[:at].strip() else "", line[at:]
        at = line.find("#", at + 1)
    return line, None


def _is_plain_statement(code: str, expression: bool = False) -> bool:
    """``code``, a statement without indentation or comment: black's spaces between tokens of the grammar above;
    ``expression``: no assignment either."""
    brackets: list[str] = []  # "call", "subscript", "list"
    before, position, first = _START, 0, True
    while position < len(code):
        token = _TOKEN.match(code, position)
        if token is None or token.end() == position or token.group("comment") is not None:
            return False
        position = token.end()
        space = token.group("space")
        if first:
            if space or token.group("string") is not None:
                return False  # a lone string reads as a docstring to black
            first = False
        found = _step(token, before, brackets)
        if found is None or expression and not brackets and token.group("op") in _ASSIGNING:
            return False
        before, wanted = found
        if wanted is not None and space != wanted:
            return False
    return not brackets and before in (_OPERAND, _CLOSE)


def _step(token: re.Match, before: int, brackets: list[str]) -> tuple[int, str | None] | None:
    """(what this token is, the space black writes before it; None: any, at the line's start), or None when the
    token is outside the grammar."""
    after_operand = before in (_OPERAND, _CLOSE)
    joined = before in (_START, _OPEN, _DOT, _UNARY, _KEYWORD_EQUALS)  # no space before the next operand
    operand_space = None if before == _START else ("" if joined else " ")
    word = token.group("name")
    if before == _NOT_IN and word != "in":
        return None
    if word is not None:
        if before == _DOT:
            return (_OPERAND, "") if not keyword.iskeyword(word) else None
        if word == "in" and before == _NOT_IN:
            return _OPERATOR, " "
        if word == "not" and after_operand:
            return _NOT_IN, " "
        if word in _BINARY_WORDS:
            return (_OPERATOR, " ") if after_operand else None
        if word == "not":
            return _NOT, operand_space
        if keyword.iskeyword(word) and word not in _OPERAND_WORDS:
            return None
        return (_OPERAND, operand_space) if not after_operand else None
    if token.group("number") is not None or token.group("string") is not None:
        return (_OPERAND, operand_space) if not after_operand else None
    return _operator_step(token.group("op"), before, brackets, after_operand, operand_space)


def _operator_step(
    op: str, before: int, brackets: list[str], after_operand: bool, operand_space: str | None
) -> tuple[int, str | None] | None:
    if op in ("(", "[", ")", "]"):
        return _bracket_step(op, before, brackets, after_operand, operand_space)
    if op == ",":
        return (_COMMA, "") if after_operand else None
    if op == ".":
        return (_DOT, "") if after_operand else None
    if op in ("-", "+", "~", "*") and not after_operand:
        if op == "*" and not (brackets[-1:] == ["call"] and before in (_OPEN, _COMMA)):
            return None  # only ``f(*args)``
        return _UNARY, operand_space
    if not after_operand:
        return None
    if op in _ASSIGNING:
        if op == "=" and brackets[-1:] == ["call"]:
            return _KEYWORD_EQUALS, ""
        return (_OPERATOR, " ") if not brackets else None
    return (_OPERATOR, " ") if op in _BINARY or op in ("-", "+", "*") else None


def _bracket_step(
    op: str, before: int, brackets: list[str], after_operand: bool, operand_space: str | None
) -> tuple[int, str | None] | None:
    if op == "(":
        if not after_operand:
            return None  # parentheses that group: black may drop them
        brackets.append("call")
        return _OPEN, ""
    if op == "[":
        brackets.append("subscript" if after_operand else "list")
        return _OPEN, "" if after_operand else operand_space
    if not brackets or brackets[-1] not in (("call",) if op == ")" else ("subscript", "list")):
        return None
    if before not in (_OPERAND, _CLOSE, _OPEN):
        return None  # a trailing comma, or an operator left open
    brackets.pop()
    return _CLOSE, ""

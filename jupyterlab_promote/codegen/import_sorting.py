"""isort on a generated module, without the nested imports it is known to leave as they are.

isort makes a whole new ``Config`` (a deep copy of every setting) for each import block inside a function or a
branch: about 0.85 ms a block, and the templates hold some thirty (``import yaml`` inside a function, so that a
stage imports only what it runs). That was most of isort's time in a first promotion, and isort was a tenth of it.

A nested block of one line, ``import a.b`` or ``from a import b`` with one name, no alias, no comment and no
continuation, is already sorted: isort returns it unchanged, and adds no blank line around it but before a comment
right below it. Such a line stands alone as its block when the code line above it (blank lines and comments
aside: isort reads comments into a block) and the line below it are no part of an import statement, and the line
below is no comment. It is handed to isort as a ``pass`` carrying a marker and put back afterwards; when a marker
does not come back exactly once, isort sorts the module as it is. ``tests/test_import_sorting.py`` holds the output
to isort's own on generated modules, on the modules promotions format and on the standard library's.
"""

from __future__ import annotations

import re

# An import isort cannot change on its own line: one dotted module, or one name from one (relative or not).
_SETTLED = re.compile(r"([ \t]+)(?:import [A-Za-z_][\w.]*|from (?:\.*[A-Za-z_][\w.]*|\.+) import [A-Za-z_]\w*)")
_IMPORT_LINE = re.compile(r"[ \t]*(?:import|from)[ \t(\\]")
_MARKER = "isort-settled-import"
_MARKED = re.compile(rf"  # {_MARKER} ([0-9]+)$")
# Below isort's line length for any indentation (it wraps a long line even alone).
_LONGEST = 79


def sort_imports(source: str, config, isort) -> str:
    """``isort.code(source, config=config)``, byte for byte, with fewer blocks for isort to sort."""
    original = source.split("\n")
    settled = _settled_lines(original) if _MARKER not in source else {}
    if not settled:
        return isort.code(source, config=config)
    handed = [
        f"{settled[number]}pass  # {_MARKER} {number}" if number in settled else line
        for number, line in enumerate(original)
    ]
    returned = isort.code("\n".join(handed), config=config).split("\n")
    back: dict[int, int] = {}  # line of the source → its line in isort's output
    for position, line in enumerate(returned):
        if _MARKER in line:
            found = _MARKED.search(line)
            number = int(found[1]) if found else -1
            if number in back or number not in settled:
                return isort.code(source, config=config)
            back[number] = position
    if back.keys() != settled.keys():
        return isort.code(source, config=config)
    for number, position in back.items():
        returned[position] = original[number]
    return "\n".join(returned)


def _settled_lines(lines: list[str]) -> dict[int, str]:
    """The nested one-line import blocks isort leaves as they are: line index → its indentation."""
    kinds = _line_kinds(lines)
    written = [number for number, kind in enumerate(kinds) if kind != _BLANK]
    settled: dict[int, str] = {}
    above = ""  # the last line above that is code or an import: isort reads comments into a block
    above_kind = _CODE
    for at, number in enumerate(written):
        line, kind = lines[number], kinds[number]
        if kind == _COMMENT:
            continue
        below = kinds[written[at + 1]] if at + 1 < len(written) else _CODE
        # isort puts a blank line between a nested block and a comment right below it
        alone = above_kind == _CODE and below == _CODE and not above.endswith(("\\", ",", "("))
        settling = alone and kind == _IMPORT and len(line) <= _LONGEST and _SETTLED.fullmatch(line)
        if settling:
            settled[number] = settling[1]
        above, above_kind = line, kind
    return settled


_BLANK, _COMMENT, _IMPORT, _CODE = range(4)


def _line_kinds(lines: list[str]) -> list[int]:
    """Each line blank, a comment, part of an import statement (its continuation lines too), or other code."""
    kinds = []
    closing = ""  # while an import statement goes on: the ")" or the "\\" that continues it
    for line in lines:
        stripped = line.strip()
        if closing:
            kinds.append(_IMPORT)
            ends = ")" in line if closing == ")" else not stripped.endswith("\\")
            closing = "" if ends else closing
        elif not stripped:
            kinds.append(_BLANK)
        elif stripped.startswith("#"):
            kinds.append(_COMMENT)
        elif _IMPORT_LINE.match(line):
            kinds.append(_IMPORT)
            code = line.split("#", 1)[0].rstrip()
            closing = ")" if "(" in code and ")" not in code else "\\" if code.endswith("\\") else ""
        else:
            kinds.append(_CODE)
    return kinds

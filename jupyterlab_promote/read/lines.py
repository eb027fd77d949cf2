"""Lines as Python's tokenizer sees them: only ``\\n`` ends a line.

``str.splitlines`` (and ``textwrap``, which uses it) also breaks on ``\\x0b``, ``\\x0c``,
``\\x1c``-``\\x1e``, ``\\x85``, U+2028 and U+2029. Mixed with line numbers from the parser that
shifts lines, corrupts strings holding those characters, or reports false syntax errors, so every
line-wise operation on cell code goes through this module. Cell sources have their ``\\r\\n`` and
``\\r`` turned into ``\\n`` on reading (as the tokenizer does).
"""

from __future__ import annotations

import re

# A form feed in a line's indentation has an "undefined effect" (language reference, 2.1.8) and black
# cannot parse it once the line is indented into a function, so it is dropped from leading whitespace.
_LEADING_FORM_FEEDS = re.compile(r"^[ \t\x0c]*\x0c[ \t\x0c]*", re.MULTILINE)


def split_lines(text: str) -> list[str]:
    """``text.split("\\n")`` without the empty string after a final newline (like splitlines)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def indent(text: str, prefix: str) -> str:
    """``textwrap.indent`` that breaks lines only at ``\\n``; blank lines stay blank."""
    return "\n".join(prefix + line if line.strip(" \t") else line for line in text.split("\n"))


def normalise_newlines(source: str) -> str:
    """``\\r\\n`` and ``\\r`` → ``\\n``; form feeds out of indentation."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if "\x0c" in source:
        source = _LEADING_FORM_FEEDS.sub(lambda m: m.group(0).replace("\x0c", ""), source)
    return source


def source_segment(lines: list[str], node: object) -> str | None:
    """``ast.get_source_segment`` over lines split once (it re-splits the whole source on every call).

    ``lines`` is ``split_lines(code)``; column offsets are UTF-8 byte offsets, as the parser gives them.
    """
    try:
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    except AttributeError:
        return None
    if None in (last, end) or last >= len(lines):
        return None
    if first == last:
        return lines[first].encode("utf-8")[start:end].decode("utf-8")
    head = lines[first].encode("utf-8")[start:].decode("utf-8")
    tail = lines[last].encode("utf-8")[:end].decode("utf-8")
    return "\n".join([head, *lines[first + 1 : last], tail])

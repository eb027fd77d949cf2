"""Edits of a cell's source at the positions ``ast`` gives, collected and then applied together.

One engine for both rewrites of notebook code: magics as plain Python (magics.py) and the notebook's statements
rewritten for the package (codegen/statements.py). Positions are 1-based lines and *character* columns; ``ast``
counts columns in UTF-8 bytes, so :meth:`SourceEdits.span_of` converts (a non-ASCII string before a rewritten
expression must not shift it).
"""

from __future__ import annotations

import ast

Span = tuple[int, int, int, int]  # line, column, end line, end column


class SourceEdits:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines  # never mutated: apply() copies what it edits
        self.edits: list[tuple[int, int, int, int, str]] = []

    def __bool__(self) -> bool:
        return bool(self.edits)

    def span_of(self, node: ast.expr | ast.stmt) -> Span:
        assert node.end_lineno is not None and node.end_col_offset is not None
        start = len(self.lines[node.lineno - 1].encode()[: node.col_offset].decode())
        end = len(self.lines[node.end_lineno - 1].encode()[: node.end_col_offset].decode())
        return node.lineno, start, node.end_lineno, end

    def overlaps(self, span: Span) -> bool:
        """Whether ``span`` meets an edit already made (a second edit there would garble both)."""
        return any((span[0], span[1]) < (e[2], e[3]) and (e[0], e[1]) < (span[2], span[3]) for e in self.edits)

    def replace(self, span: Span, text: str) -> None:
        self.edits.append((*span, text))

    def insert(self, line: int, column: int, text: str) -> None:
        self.edits.append((line, column, line, column, text))

    def replace_expression(self, node: ast.expr, text: str) -> None:
        self.replace(self.span_of(node), text)

    def replace_statement(self, node: ast.stmt, text: str, only_child: bool) -> None:
        """The statement's whole lines become ``text``, indented as it was; ``pass`` where a block would be empty."""
        if not text.strip() and only_child:
            text = "pass"
        indent = " " * node.col_offset
        end = node.end_lineno or node.lineno
        indented = "\n".join(indent + line if line else line for line in text.splitlines())
        self.replace((node.lineno, 0, end, len(self.lines[end - 1])), indented)

    def apply(self, start: int = 1, end: int | None = None) -> list[str]:
        """Lines ``start``..``end`` (as numbered before the edits) with every edit made."""
        end = len(self.lines) if end is None else end
        # Only the lines from the first one edited or kept on: a copy of the whole cell per statement was
        # quadratic in the cell's length. Lines before ``first`` are never read, so the result is the same.
        first = min([start] + [edit[0] for edit in self.edits])
        last = max([end] + [edit[2] for edit in self.edits])
        lines, shift = self.lines[first - 1 : last], first - 1
        for line, col, end_line, end_col, text in sorted(self.edits, reverse=True):
            head, tail = lines[line - 1 - shift][:col], lines[end_line - 1 - shift][end_col:]
            replacement = (head + text + tail).split("\n")
            lines[line - 1 - shift : end_line - shift] = replacement
            end += len(replacement) - (end_line - line + 1)
        return lines[start - 1 - shift : end - shift]

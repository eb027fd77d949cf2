"""``if __name__ == "__main__":`` in a cell: always true in a notebook, never true in a package module.

Scripts pasted into notebooks keep their guard. Left in a step function it would silently skip the
training loop (the module's ``__name__`` is the package's), so the guard's body is un-indented in
place and the header kept as a comment; line numbers stay those of the cell.
"""

from __future__ import annotations

import ast

from .large_literals import parse_code
from .lines import split_lines


def _is_main_guard(node: ast.stmt) -> bool:
    if not (isinstance(node, ast.If) and not node.orelse and isinstance(node.test, ast.Compare)):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    constants = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and constants == ["__main__"]


def unguard_main(code: str, tree: ast.Module | None = None) -> tuple[str, list[int]]:
    """The code with each top-level ``__main__`` guard removed, and the lines (1-based) of the guards.

    ``tree``: the parse of ``code`` when the caller has one (a parse is most of the cost).
    """
    if tree is None:
        try:
            tree = parse_code(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return code, []
    guards = [node for node in tree.body if _is_main_guard(node)]
    if not guards:
        return code, []
    lines = split_lines(code)
    for guard in reversed(guards):
        first_body = guard.body[0].lineno
        width = guard.body[0].col_offset - guard.col_offset
        for number in range(guard.lineno, first_body):
            lines[number - 1] = f"# {lines[number - 1]}  (always true in a notebook)"
        for number in range(first_body, (guard.end_lineno or first_body) + 1):
            text = lines[number - 1]
            lines[number - 1] = text[width:] if text[:width].strip() == "" else text.lstrip()
    unguarded = "\n".join(lines) + ("\n" if code.endswith("\n") else "")
    try:
        ast.parse(unguarded)
    except SyntaxError:  # a multi-line string inside the guard broke the dedent: keep the code as written
        return code, []
    return unguarded, [guard.lineno for guard in guards]

"""A last check on the generated modules: a name the notebook binds, read by generated code where nothing binds it.

Data flow hands each step what its statements read (stages/dataflow.py). Where the analysis misses a read, the
notebook's line lands in a step that never receives the name, ruff reports F821 there, and the author-lint pass
marks it ``# noqa: F821`` like any lint of the notebook's own (codegen/lint.py): the promotion would exit 0 with a
package that dies with ``NameError`` when that line runs. A name the notebook defines nowhere is PRM002 already;
one it binds in some cell is this check's (PRM051), at the cell whose code reads it.
"""

from __future__ import annotations

import ast
import re
import symtable
from collections.abc import Mapping

from ..analysis.diagnostics import Diagnostic, diagnostic
from ..analysis.names import BUILTINS
from ..stages.plan import Plan

_CELL_COMMENT = re.compile(r"#.* cell (\d+) \(id ")


def unhanded_names(plan: Plan, files: Mapping[str, str]) -> list[Diagnostic]:
    """PRM051 for each name a generated module reads but nothing there binds, where a notebook cell binds it."""
    marked = {path: text for path, text in files.items() if path.endswith(".py") and "F821" in text}
    if not marked:  # ruff found no undefined name anywhere: the usual case, and the notebook's names go unread
        return []
    bound = {name for cell in plan.cells if cell.names for stmt in cell.names.statements for name in stmt.binds}
    known = set(plan.undefined) | plan.star_names | BUILTINS
    found: list[Diagnostic] = []
    for path, text in sorted(marked.items()):
        for name in sorted(_unbound_reads(text) & bound - known):
            index = _reading_cell(text, name)
            cell = next((c.cell for c in plan.cells if c.cell.index == index), None)
            found.append(
                diagnostic(
                    plan.notebook,
                    cell,
                    "warning",
                    "PRM051",
                    f"'{name}' is read in the generated {path}, but no step hands it there: the package raises"
                    " NameError when that line runs. This is a defect of the promotion; please report it with the"
                    " notebook",
                )
            )
    return found


def _unbound_reads(text: str) -> set[str]:
    """The globals the module's functions and classes read that the module itself never binds."""
    try:
        table = symtable.symtable(text, "<generated>", "exec")
    except (SyntaxError, ValueError):
        return set()
    module = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    module |= {child.get_name() for child in table.get_children()}
    reads: set[str] = set()
    todo = list(table.get_children())
    while todo:
        scope = todo.pop()
        todo += scope.get_children()
        reads |= {s.get_name() for s in scope.get_symbols() if s.is_global() and s.is_referenced()}
    return reads - module


def _reading_cell(text: str, name: str) -> int | None:
    """The notebook cell whose code, in the module, first reads ``name`` (the ``# cell N`` comment above it)."""
    tree = ast.parse(text)
    reads = [
        n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
    ]
    lines = text.splitlines()[: min(reads, default=0)]
    return next((int(m.group(1)) for line in reversed(lines) if (m := _CELL_COMMENT.search(line))), None)

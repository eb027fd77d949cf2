"""Stage: changes the package will not see.

A skip-tagged cell (or an untagged one that promotion does not pull in) that rescales ``X`` between
the data cell that built it and the train cell that reads it changes what the notebook computes, but
not what the package computes. Nothing fails: the metrics just differ. Promotion says so before
anything runs, on both cells, so the author can tag the cell or move the change.
"""

from __future__ import annotations

import ast

from ..analysis import CellPlan, diagnostic
from ..names import Statement
from ..plan import Plan, line_in_cell

# Mutating calls that change a mode or a place, not the values a later cell computes with.
_BENIGN_METHODS = {"eval", "train", "to", "cpu", "cuda", "zero_grad", "requires_grad_"}


def _changes_values(statement: Statement, name: str) -> bool:
    """Whether ``statement`` rebinds ``name`` or mutates it in a way that changes its values."""
    if name in statement.binds:
        return True
    for node in ast.walk(statement.node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if isinstance(receiver, ast.Name) and receiver.id == name and node.func.attr not in _BENIGN_METHODS:
                return True
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            root = node.value
            while isinstance(root, (ast.Subscript, ast.Attribute)):
                root = root.value
            if isinstance(root, ast.Name) and root.id == name:
                return True
    return False


def _first_read(cell: CellPlan, name: str) -> int | None:
    for statement in cell.names.statements if cell.names else []:
        if name in statement.reads or name in statement.mutates:
            lines = [n.lineno for n in ast.walk(statement.node) if isinstance(n, ast.Name) and n.id == name]
            return line_in_cell(cell, min(lines, default=statement.line))
    return None


def skipped_changes(plan: Plan) -> None:
    """Warn (PRM041) on both cells when a cell left out of the package changes a value a later promoted cell reads."""
    placed = {id(p.stmt) for step in plan.steps for p in step.body}
    placed |= {id(p.stmt) for items in plan.hoisted.values() for p in items}
    last_promoted_binding: dict[str, int] = {}  # name → index of the last promoted cell that assigned it
    left_out_changes: dict[str, tuple[CellPlan, Statement]] = {}  # name → latest left-out change after that
    for cell in plan.cells:
        if not cell.names or cell.role in ("parameters", "imports"):
            continue
        if cell.promoted:
            for name in sorted({n for s in cell.names.statements for n in s.reads + s.mutates}):
                change = left_out_changes.pop(name, None)
                if change is not None and name in last_promoted_binding:
                    _report(plan, name, change, cell)
            for statement in cell.names.statements:
                for name in statement.binds:
                    last_promoted_binding[name] = cell.cell.index
                    left_out_changes.pop(name, None)
            continue
        for statement in cell.names.statements:
            if id(statement) in placed or statement.is_definition or statement.is_import:
                continue
            for name in set(statement.binds) | set(statement.mutates):
                if name in last_promoted_binding and _changes_values(statement, name):
                    left_out_changes[name] = (cell, statement)


def _report(plan: Plan, name: str, change: tuple[CellPlan, Statement], reader: CellPlan) -> None:
    changer, statement = change
    kind = "skipped" if changer.role == "skip" else "untagged"
    changer.diagnostics.append(
        diagnostic(
            plan.notebook,
            changer.cell,
            "warning",
            "PRM041",
            f"this {kind} cell changes '{name}', which promoted cell {reader.cell.index} reads later: "
            f"the package will not make this change, so its results can differ from the notebook's; "
            f"tag this cell with the role it plays, or move the change into a promoted cell",
            line_in_cell(changer, statement.line),
        )
    )
    reader.diagnostics.append(
        diagnostic(
            plan.notebook,
            reader.cell,
            "warning",
            "PRM041",
            f"reads '{name}', which {kind} cell {changer.cell.index} changes before it in the notebook; "
            f"the package reads '{name}' without that change",
            _first_read(reader, name),
        )
    )

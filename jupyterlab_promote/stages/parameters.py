"""Stage: the parameters cell → typed parameters and the seed."""

from __future__ import annotations

import ast

from ..analysis.cellplan import CellPlan
from ..analysis.names import Statement
from ..read.large_literals import literal_value
from ..read.lines import source_segment, split_lines
from .plan import Parameter, Placed, Plan

_SEED_CALLS = {"manual_seed", "seed", "seed_everything", "set_seed", "manual_seed_all"}


def collect_parameters(plan: Plan) -> None:
    """Literal assignments → parameters; seeding → plan.seed; anything else → plan.prelude, run first."""
    seeds: list[ast.expr] = []
    for cell in plan.cells:
        if cell.role != "parameters" or not cell.names:
            continue
        lines = split_lines(cell.plain.code) if cell.plain else []
        for stmt in cell.names.statements:
            node = stmt.node
            if stmt.is_literal and isinstance(node, (ast.Assign, ast.AnnAssign)):
                _add_parameters(plan, cell, stmt, lines)
            elif _is_seed_call(node):
                seeds.append(node.value.args[0])  # type: ignore[attr-defined]
            elif stmt.is_import:
                continue
            else:
                plan.diagnose(
                    cell,
                    "warning",
                    "PRM019",
                    "not a literal assignment: it cannot become a typed parameter and runs at the start of the first step",
                    stmt.line,
                )
                plan.prelude.append(Placed(cell, stmt))
    for seed in seeds:
        _adopt_seed(plan, seed)


def _add_parameters(plan: Plan, cell: CellPlan, stmt: Statement, lines: list[str]) -> None:
    """A parameter per target of a literal assignment; a later assignment of the same name wins."""
    node = stmt.node
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
    value = literal_value(node.value)  # type: ignore[arg-type, attr-defined]
    source = source_segment(lines, node.value) or repr(value)  # type: ignore[union-attr, arg-type, attr-defined]
    text = lines[stmt.line - 1] if stmt.line - 1 < len(lines) else ""
    comment = text.split("#", 1)[1].strip() if "#" in text else ""
    for target in targets:
        plan.parameters = [p for p in plan.parameters if p.name != target.id]  # type: ignore[attr-defined]
        plan.parameters.append(Parameter(target.id, value, source, cell, stmt.line, comment))  # type: ignore[attr-defined]


def _adopt_seed(plan: Plan, seed: ast.expr) -> None:
    """A seed call's argument: a parameter becomes plan.seed; a literal becomes a ``seed`` parameter first."""
    if isinstance(seed, ast.Name) and any(p.name == seed.id for p in plan.parameters):
        plan.seed = seed.id
    elif isinstance(seed, ast.Constant) and isinstance(seed.value, int) and plan.seed is None:
        name = "seed" if not any(p.name == "seed" for p in plan.parameters) else "promote_seed"
        cell = next(c for c in plan.cells if c.role == "parameters")
        plan.parameters.append(
            Parameter(name, seed.value, repr(seed.value), cell, seed.lineno, "random seed (seed_everything)")
        )
        plan.seed = name


def _is_seed_call(node: ast.stmt) -> bool:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and len(node.value.args) == 1):
        return False
    func = node.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _SEED_CALLS and isinstance(node.value.args[0], (ast.Name, ast.Constant))

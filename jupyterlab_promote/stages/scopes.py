"""Stage: what a step function's scope cannot hold.

In the notebook every top-level name is a global of one namespace; in the package each step is a function, so the
notebook's variables become that function's locals, handed from step to step by name. Two things do not survive
that: a function that rebinds a notebook variable through ``global`` (it would rebind a module global no step
reads: an UnboundLocalError or a stale value), and code that makes or reads names at run time (``exec``, ``eval``,
``globals()``), which the analysis cannot see to hand on.
"""

from __future__ import annotations

import ast

from .plan import Placed, Plan, line_in_cell

_DYNAMIC_CALLS = {"exec", "eval", "globals", "locals", "vars"}


def refuse_lost_globals(plan: Plan) -> None:
    """PRM001 on ``global NAME`` inside a promoted function when NAME is a variable of the notebook's top level;
    PRM046 (a warning) on exec/eval/globals()/locals()/vars() in promoted code."""
    variables = {
        name
        for cell in plan.cells
        if cell.names
        for stmt in cell.names.statements
        if not stmt.is_definition
        for name in stmt.binds
    }
    for placed in _promoted(plan):
        if placed.stmt.is_definition:
            _refuse_global_rebinding(plan, placed, variables)
        _warn_dynamic_names(plan, placed)


def _promoted(plan: Plan) -> list[Placed]:
    return [p for step in plan.steps for p in step.body] + [p for group in plan.hoisted.values() for p in group]


def _refuse_global_rebinding(plan: Plan, placed: Placed, variables: set[str]) -> None:
    function = placed.stmt.binds[0]
    for declaration in placed.stmt.index.of(ast.Global):
        for name in declaration.names:
            if name not in variables:
                continue  # state the functions keep among themselves: a module global of the package too
            plan.diagnose(
                placed.cell,
                "error",
                "PRM001",
                f"`global {name}` in {function}: in the package the notebook's variables are local to each step"
                f" function, so {function} cannot change {name}; return the new value instead"
                f" ({name} = {function}(..., {name}))",
                line_in_cell(placed.cell, declaration.lineno),
            )


def _warn_dynamic_names(plan: Plan, placed: Placed) -> None:
    for call in placed.stmt.index.of(ast.Call):
        if not (isinstance(call.func, ast.Name) and call.func.id in _DYNAMIC_CALLS):
            continue
        if call.func.id == "vars" and call.args:  # vars(args): an object's attributes, no names of ours
            continue
        plan.diagnose(
            placed.cell,
            "warning",
            "PRM046",
            f"{call.func.id}() makes or reads names at run time, which promotion cannot see to hand from step to"
            " step: the package may raise NameError here; write the names out",
            line_in_cell(placed.cell, call.lineno),
        )

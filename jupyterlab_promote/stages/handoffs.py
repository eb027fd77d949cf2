"""Stage: hand-offs between steps that cannot be saved.

Each step's outputs are saved under ``artifacts/<stage>/`` so that a later stage can run alone. Some
values cannot be pickled: a lambda, a generator, an open file, an object holding one (the common
``DataLoader(ds, collate_fn=lambda b: ...)``), or a function a step defines and a later step calls
(dev04's ``test()``: it stays inside the step function because it reads the step's variables). The generated stage then rebuilds the value by running
its step again, and says so at run time; this stage says so at promotion time, on the cell that binds
it, so that the author learns it before a run does (and can name the function, to make it savable).
"""

from __future__ import annotations

import ast

from ..analysis import diagnostic
from ..plan import Placed, Plan, line_in_cell


def _unsavable_part(value: ast.AST) -> str | None:
    """What in ``value`` pickle refuses, in words; None when nothing visible is."""
    if isinstance(value, ast.Lambda):
        return "a lambda"
    if isinstance(value, ast.GeneratorExp):
        return "a generator"
    if not isinstance(value, ast.Call):
        return None
    if isinstance(value.func, ast.Name) and value.func.id == "open":
        return "an open file"
    for keyword in value.keywords:
        if isinstance(keyword.value, ast.Lambda):
            return f"a lambda ({keyword.arg}=...)" if keyword.arg else "a lambda"
    if any(isinstance(argument, (ast.Lambda, ast.GeneratorExp)) for argument in value.args):
        return "a lambda or generator argument"
    return None


def _binding(step_body: list[Placed], name: str) -> tuple[Placed, str] | None:
    """The last statement of the step that binds ``name`` to something unsavable, and what that is."""
    for placed in reversed(step_body):
        if name not in placed.stmt.binds:
            continue
        node = placed.stmt.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            return placed, f"a {kind} defined inside the step (it lives in the step function, not in a module)"
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        part = _unsavable_part(value) if value is not None else None
        return (placed, part) if part else None
    return None


def warn_unsavable_handoffs(plan: Plan) -> None:
    """Info PRM042 on the cell binding a step output that cannot be saved, naming the stages that rebuild it."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
    for step in plan.steps:
        for name in step.outputs:
            found = _binding(step.body, name)
            if found is None:
                continue
            placed, part = found
            readers = [other.name for other in plan.steps if name in other.inputs]
            hint = " (a named function instead of the lambda makes it savable)" if "lambda" in part else ""
            placed.cell.diagnostics.append(
                diagnostic(
                    plan.notebook,
                    placed.cell.cell,
                    "info",
                    "PRM042",
                    f"'{name}' is {part}, which cannot be saved between stages: when "
                    f"{', '.join(repr(r) for r in readers) or 'a later stage'} runs alone, it re-runs step "
                    f"'{step.name}' to rebuild '{name}'{hint}",
                    line_in_cell(placed.cell, placed.stmt.line),
                )
            )

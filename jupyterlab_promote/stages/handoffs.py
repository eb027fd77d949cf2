"""Stage: hand-offs between steps that cannot be saved.

Each step's outputs are saved under ``artifacts/<stage>/`` so that a later stage can run alone. Lambdas,
and functions or classes a step defines (dev04's ``test()``, wild04's ``CharRNN``), are saved by value
(cloudpickle, as MLflow saves models); a generator or an open file cannot be saved at all. The generated
stage then rebuilds the value by running its step again, and says so at run time; this stage says so at
promotion time, on the cell that binds it, so that the author learns it before a run does.
"""

from __future__ import annotations

import ast

from ..analysis.diagnostics import diagnostic
from .plan import Placed, Plan, line_in_cell


def _unsavable_part(value: ast.AST) -> str | None:
    """What in ``value`` no pickler can save, in words; None when nothing visible is."""
    if isinstance(value, ast.GeneratorExp):
        return "a generator"
    if not isinstance(value, ast.Call):
        return None
    if isinstance(value.func, ast.Name) and value.func.id == "open":
        return "an open file"
    if any(isinstance(argument, ast.GeneratorExp) for argument in [*value.args, *(k.value for k in value.keywords)]):
        return "built on a generator"
    return None


def _binding(step_body: list[Placed], name: str) -> tuple[Placed, str] | None:
    """The last statement of the step that binds ``name`` to something unsavable, and what that is."""
    for placed in reversed(step_body):
        if name not in placed.stmt.binds:
            continue
        node = placed.stmt.node
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
            placed.cell.diagnostics.append(
                diagnostic(
                    plan.notebook,
                    placed.cell.cell,
                    "info",
                    "PRM042",
                    f"'{name}' is {part}, which cannot be saved between stages: when "
                    f"{', '.join(repr(r) for r in readers) or 'a later stage'} runs alone, it re-runs step "
                    f"'{step.name}' to rebuild '{name}'",
                    line_in_cell(placed.cell, placed.stmt.line),
                )
            )

"""Which variable holds the notebook's model after its model step: what train saves, export and predict load."""

from __future__ import annotations

import ast
import re

from ..stages.plan import Plan


def find_model(plan: Plan) -> tuple[str | None, str | None]:
    """(step, variable) holding the model after the model step."""
    step = plan.step("model")
    if not step:
        return None, None
    candidates = step.outputs or [n for p in step.body if not p.stmt.is_definition for n in p.stmt.binds]
    candidates = [n for n in candidates if not any(p.stmt.is_definition and n in p.stmt.binds for p in step.body)]
    built = _built_from_notebook_classes(plan, step)
    ranked = sorted(candidates, key=lambda n: (n != "model", n not in built, not _MODEL_NAME.search(n)))
    return step.name, ranked[0] if ranked else None


_MODEL_NAME = re.compile(r"model|net|rnn|lstm|encoder|classifier", re.IGNORECASE)


def _built_from_notebook_classes(plan: Plan, step) -> set[str]:
    """Names the step binds by calling a class the notebook defines (``net = Net()``, ``m = MLP(...).to(d)``)."""
    classes = {
        stmt.binds[0]
        for cell in plan.cells
        if cell.names
        for stmt in cell.names.statements
        if isinstance(stmt.node, ast.ClassDef)
    }
    built = set()
    for placed in step.body:
        node = placed.stmt.node
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        if any(call.func.id in classes for call in calls):
            built.add(node.targets[0].id)
    return built

"""Stage: cells → steps in pipeline order (custom and Kale steps by notebook order)."""

from __future__ import annotations


from ..analysis import diagnostic
from ..plan import package_name, Placed, Plan, Step
from ..roles import PIPELINE_ROLES


def steps(plan: Plan, prelude: list[Placed]) -> None:
    by_name: dict[str, Step] = {}
    order: list[str] = []
    for cell in plan.cells:
        if not cell.promoted or cell.role in ("parameters", "functions") or not cell.names:
            continue
        name = cell.step or cell.role or ""
        if name not in by_name:
            by_name[name] = Step(name=_identifier(name), role=cell.role or "step")
            order.append(name)
        by_name[name].cells.append(cell)
    builtin = [r for r in PIPELINE_ROLES if r in by_name]
    custom = [n for n in order if n not in PIPELINE_ROLES]
    steps = [by_name[r] for r in builtin]
    for name in custom:
        first = by_name[name].cells[0].cell.index
        before = [i for i, s in enumerate(steps) if s.cells[0].cell.index < first]
        steps.insert(before[-1] + 1 if before else 0, by_name[name])
    plan.steps = steps
    for step in steps:
        if step.role == "step":
            _infer_step_role(plan, step)
    if not steps:
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                None,
                "error",
                "PRM018",
                "no promoted cells: tag cells with promote:data, promote:model, promote:train, … (or add '# promote: train' as a cell's first line)",
            )
        )
        return
    functions = [
        Placed(c, s)
        for c in plan.cells
        if c.role == "functions" and c.names
        for s in c.names.statements
        if not s.is_import
    ]
    steps[0].body.extend(prelude + [p for p in functions if not p.stmt.is_definition])
    for step in steps:
        step.body.extend(Placed(c, s) for c in step.cells for s in c.names.statements if not s.is_import)  # type: ignore[union-attr]
    # Definitions from functions cells always go to module level or the first step.
    steps[0].body[:0] = [p for p in functions if p.stmt.is_definition]


# When a custom (Kale) step's cells suggest several roles, the strongest wins.
_ROLE_STRENGTH = ["train", "evaluate", "export", "model", "preprocess", "data"]


def _infer_step_role(plan: Plan, step: Step) -> None:
    """A custom step (Kale's step:/block:) plays the role its code plays, so Kale notebooks need no retagging."""
    suggested = {c.suggested_role for c in step.cells}
    role = next((r for r in _ROLE_STRENGTH if r in suggested), None)
    if role is None:
        return
    step.role = role
    first = step.cells[0]
    first.diagnostics.append(
        diagnostic(
            plan.notebook,
            first.cell,
            "info",
            "PRM010",
            f"step '{step.name}' runs as the {role} step, from what its code does",
        )
    )


def _identifier(name: str) -> str:
    return package_name(name)

"""Stage: names the generated package reserves."""

from __future__ import annotations

from ..analysis.diagnostics import diagnostic
from .plan import MLOPS_FIELDS, RUNTIME_FIELDS, GeneratedNames, Plan, line_in_cell

# Names the generated code gives a meaning: Config's runtime fields and method, and the step functions' arguments.
RESERVED_CONFIG = RUNTIME_FIELDS | {"for_smoke"}
RESERVED_LOCALS = {"cfg", "fabric"}


def give_way_to_notebook_names(plan: Plan) -> None:
    if not plan.steps:  # nothing promoted (PRM018)
        return
    taken = {
        name
        for cell in plan.cells
        if cell.names
        for stmt in cell.names.statements
        for name in [*stmt.binds, *stmt.reads, *stmt.call_time_reads]
    } | {p.name for p in plan.parameters}
    plan.names = GeneratedNames.avoiding(taken, [s.name for s in plan.steps])
    for parameter in plan.parameters:
        name = parameter.name
        if name in RESERVED_CONFIG | RESERVED_LOCALS:
            message = f"parameter '{name}' has a name the generated package reserves for its own settings"
        elif name in MLOPS_FIELDS:
            message = f"parameter '{name}' has the name of a setting the MLOps stages read ({MLOPS_FIELDS[name]}): they would take the notebook's value for it"
        else:
            continue
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                parameter.cell.cell,
                "error",
                "PRM023",
                f"{message}; rename it in the notebook",
                line_in_cell(parameter.cell, parameter.line),
            )
        )
    for step in plan.steps:
        for placed in step.body:
            for name in set(placed.stmt.binds) & RESERVED_LOCALS:
                plan.diagnose(
                    placed.cell,
                    "error",
                    "PRM023",
                    f"'{name}' is the name every generated step uses for its {'configuration' if name == 'cfg' else 'Lightning Fabric'}; rename this variable",
                    line_in_cell(placed.cell, placed.stmt.line),
                )

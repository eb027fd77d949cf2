"""``make_settings(cfg, until)`` in pipeline.py: the process-wide settings of the steps before a stage, made again.

A stage that runs alone starts in a fresh process; the settings the notebook's earlier cells made
(stages/process_settings.py) must hold there as they held in the notebook's kernel.
"""

from __future__ import annotations

import ast
import copy

from ..stages.plan import Plan


def settings_function(plan: Plan) -> str:
    """``make_settings(cfg, until)``: the settings of the steps before ``until`` again, for a fresh process."""
    names = plan.names
    lines = [
        f"def {names.settings}(cfg: {names.config}, until: str | None = None) -> None:",
        '    """The process-wide settings the steps make, in order, stopping before step ``until``.',
        "",
        "    A stage that runs alone (dvc repro, one stage of the CLI), predict and serve start in a fresh process:",
        "    they make the settings the steps before them made, as the notebook's kernel still held them.",
        '    """',
        f"    steps = {names.steps}[: {names.steps}.index(until)] if until in {names.steps} else {names.steps}",
    ]
    parameters = {p.name for p in plan.parameters}
    for step, placed in plan.settings.items():
        lines.append(f'    if "{step}" in steps:')
        for item in placed:
            node = _ReadFromConfig(parameters).visit(copy.deepcopy(item.stmt.node))
            lines += [f"        {line}" for line in ast.unparse(node).splitlines()]
    return "\n".join(lines)


class _ReadFromConfig(ast.NodeTransformer):
    """A parameter read as ``cfg.<name>``: the settings function has no step's preamble."""

    def __init__(self, parameters: set[str]) -> None:
        self.parameters = parameters

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.parameters and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Attribute(ast.Name("cfg", ast.Load()), node.id, ast.Load()), node)
        return node

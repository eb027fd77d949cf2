"""Stage: the tuning search space, written beside each parameter: ``lr = 1e-3  # tune: loguniform(1e-5, 1e-1)``.

Kinds: ``loguniform(low, high)``, ``uniform(low, high)``, ``int(low, high)``, ``choice(a, b, ...)``.
A malformed ``# tune:`` comment is a warning on its cell (PRM027) and that parameter is not tuned.
"""

from __future__ import annotations

import ast
import re

from ..analysis.diagnostics import Diagnostic, diagnostic
from .plan import Parameter, Plan

_TUNE = re.compile(r"(?:^|\s)tune:\s*(.*)$")
_KINDS = {"loguniform": 2, "uniform": 2, "int": 2, "choice": None}


def _parse(parameter: Parameter) -> tuple[str, tuple] | str | None:
    """(kind, arguments), or an error message, or None where the comment names no search space."""
    found = _TUNE.search(parameter.comment)
    if not found:
        return None
    text = found.group(1).strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return f"'{text}' is not a search space such as loguniform(1e-5, 1e-1)"
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _KINDS):
        return f"'{text}': the kinds are {', '.join(_KINDS)}"
    kind = node.func.id
    try:
        arguments = tuple(ast.literal_eval(a) for a in node.args)
    except ValueError:
        return f"'{text}': the bounds must be literal numbers"
    if node.keywords or (_KINDS[kind] is not None and len(arguments) != _KINDS[kind]) or not arguments:
        return f"'{text}': {kind} takes {_KINDS[kind] or 'one or more'} values"
    if kind != "choice":
        numbers = all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in arguments)
        if not numbers or arguments[0] >= arguments[1] or (kind == "loguniform" and arguments[0] <= 0):
            return f"'{text}': needs low < high{' and low > 0' if kind == 'loguniform' else ''}"
        if kind == "int" and not all(isinstance(a, int) for a in arguments):
            return f"'{text}': int takes whole numbers"
        arguments = tuple(float(a) for a in arguments) if kind != "int" else arguments
    return kind, arguments


def search_space(plan: Plan) -> tuple[dict[str, tuple[str, tuple]], list[Diagnostic]]:
    """The parameters' search space and the diagnostics for malformed ``# tune:`` comments."""
    space: dict[str, tuple[str, tuple]] = {}
    problems: list[Diagnostic] = []
    for parameter in plan.parameters:
        parsed = _parse(parameter)
        if isinstance(parameter.value, bool) or parameter.value is None:
            parsed = None if parsed is None else f"{parameter.name} is not a number or a choice"
        if isinstance(parsed, str):
            message = f"{parsed}; {parameter.name} is not tuned"
            problems.append(
                diagnostic(plan.notebook, parameter.cell.cell, "warning", "PRM027", message, parameter.line)
            )
        elif parsed is not None:
            space[parameter.name] = parsed
    return space, problems


def check_search_space(plan: Plan) -> None:
    """Attach the malformed-comment warnings to the parameters cell."""
    for problem in search_space(plan)[1]:
        cell = next(c for c in plan.cells if c.cell.index == problem.cell_index)
        cell.diagnostics.append(problem)

"""Where the notebook calls its model, in words: why a project gets no predict or serve, cell and line named.

batch_call reads the model's call on one batch when the batch comes from a data loader a stage saves and the call
depends on the batch alone. When it cannot, the README says which call it looked at and what stood in the way,
so the user knows what to change: a loop that builds its data itself (``for step in range(n)``, a generator of
its own, indexing a dataset), or a call on something besides the batch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..analysis.diagnostics import quoted
from ..stages.plan import Plan, Step
from .call_scopes import Resolve, scopes


def unread_call(plan: Plan, model: str) -> str:
    """Why the first call of ``model`` in the train (else evaluate) step is no forward example; "" if none is found."""
    steps = [s for s in plan.steps if s.role == "train"] + [s for s in plan.steps if s.role == "evaluate"]
    for step in steps:
        for body, resolve in scopes(plan, step):
            for call, loop in _calls(body, None):
                if _calls_model(call, model, resolve):
                    return _why(plan, step, call, loop, resolve)
    return ""


def _calls(nodes: list[ast.AST], loop: ast.For | None) -> Iterator[tuple[ast.Call, ast.For | None]]:
    """Every call, in source order, with the innermost ``for`` loop around it (nested definitions skipped)."""
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            yield node, loop
        inner = node if isinstance(node, ast.For) else loop
        yield from _calls(list(ast.iter_child_nodes(node)), inner)


def _calls_model(call: ast.Call, model: str, resolve: Resolve) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "forward":  # ``rnn.forward(x)``
        func = func.value
    return isinstance(func, ast.Name) and resolve(func.id) == model


def _why(plan: Plan, step: Step, call: ast.Call, loop: ast.For | None, resolve: Resolve) -> str:
    the_call = f"`{quoted(ast.unparse(call))}`{_where(plan, call)}"
    if loop is None:
        return f"{the_call} is not inside a loop over batches"
    header = f"`for {quoted(ast.unparse(loop.target))} in {quoted(ast.unparse(loop.iter))}`"
    source = loop.iter
    while isinstance(source, ast.Call) and source.args and _name(source.func) in ("enumerate", "tqdm"):
        source = source.args[0]
    saved = {name for s in plan.steps for name in s.outputs}
    if isinstance(source, ast.Name) and resolve(source.id) in saved:
        return f"{the_call} takes something besides the batch that {header} draws, or changes it under a condition"
    return f"{the_call} runs on data its loop builds itself ({header}), not on batches of a data loader a stage saves"


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _where(plan: Plan, node: ast.AST) -> str:
    """`` (cell N, id ID, line L)`` for a node of one of the steps' statements; "" for one of a rewritten copy."""
    placed_statements = [p for step in plan.steps for p in step.body]
    for placed in placed_statements + [p for hoisted in plan.hoisted.values() for p in hoisted]:
        if any(inner is node for inner in ast.walk(placed.stmt.node)):
            cell = placed.cell.cell
            return f" (cell {cell.index}, id {cell.id}, line {node.lineno})"  # type: ignore[attr-defined]
    return ""

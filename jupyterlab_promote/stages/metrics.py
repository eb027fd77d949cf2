"""Stage: which values an evaluate step records as metrics."""

from __future__ import annotations

import ast

from ..analysis.diagnostics import diagnostic
from ..analysis.names import Statement
from .plan import Placed, Plan, Step, line_in_cell


def _bound_at_top_level(node: ast.stmt) -> list[str]:
    """Names an assignment binds at cell level, looking through with/if/try/loops but not defs."""
    if isinstance(node, (ast.With, ast.If, ast.Try, ast.For, ast.While)):
        # After a loop its variables hold the last iteration's values, as in the notebook (targets excepted).
        blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
        return [name for block in blocks for child in block for name in _bound_at_top_level(child)]
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    )
    return [
        leaf.id
        for target in targets
        for leaf in ast.walk(target)
        if isinstance(leaf, ast.Name) and isinstance(leaf.ctx, ast.Store)
    ]


def _is_results_call(node: ast.stmt) -> bool:
    """``trainer.test(...)`` / ``trainer.validate(...)``: Lightning returns the logged metrics as dicts."""
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("test", "validate")
    )


def find_metrics(plan: Plan) -> None:
    """Every value an evaluate step binds is a candidate metric; numeric scalars are kept at run time."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
    if not any(step.role == "evaluate" or any(c.role == "evaluate" for c in step.cells) for step in plan.steps):
        last = plan.steps[-1].cells[0]
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                last.cell,
                "info",
                "PRM012",
                "no evaluate step, so no metrics.json: tag the cell that measures the model promote:evaluate",
            )
        )
    for step in plan.steps:
        if step.role != "evaluate" and not any(c.role == "evaluate" for c in step.cells):
            continue
        for placed in step.body:
            if placed.cell.role not in ("evaluate", "step") and step.role != "evaluate":
                continue  # a step fused with evaluate cells: only those cells' values are metrics
            _collect_metrics(plan, step, placed)
    evaluate_steps = [s for s in plan.steps if s.role == "evaluate" or any(c.role == "evaluate" for c in s.cells)]
    if evaluate_steps:
        _results_of_evaluate_functions(plan)
        for step in plan.steps:
            _leave_out_non_metrics(plan, step)
    if evaluate_steps and not any(step.metrics or step.metric_tables for step in plan.steps):
        cell = evaluate_steps[0].cells[0]
        plan.diagnose(
            cell,
            "warning",
            "PRM012",
            "this evaluate step binds no value, so metrics.json will be empty; assign the final metric to a variable, e.g. `test_acc = correct / total`",
        )


def _collect_metrics(plan: Plan, step: Step, placed: Placed) -> None:
    """What one evaluate statement binds (candidate metrics), and the tables of results it records."""
    for name in _bound_at_top_level(placed.stmt.node):
        if name not in step.metrics:
            step.metrics.append(name)
    node = placed.stmt.node
    if _is_results_call(node) and isinstance(node, ast.Expr):
        step.captured[id(placed.stmt)] = plan.names.results
        step.metric_tables.append(plan.names.results)
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
        if (
            node.value.func.attr in ("test", "validate")
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            step.metric_tables.append(node.targets[0].id)


def _assignments(node: ast.stmt) -> list[ast.Assign]:
    """Assignments at cell level, looking through with/if/try/loops but not defs."""
    if isinstance(node, ast.Assign):
        return [node]
    blocks = [getattr(node, f, []) for f in ("body", "orelse", "finalbody")]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    return [found for block in blocks for child in block for found in _assignments(child)]


def _calls_any(node: ast.AST, functions: set[str]) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions for n in ast.walk(node)
    )


def _mentions(statement: Statement, names: set[str]) -> bool:
    """Whether any of ``names`` occurs in the statement: a statement that names no function calls none of them."""
    return any(node.id in names for node in statement.index.of(ast.Name))


def _returning_results_of(plan: Plan, functions: set[str]) -> set[str]:
    """Functions that return what an evaluate function returned: ``main()`` ending in ``return test_loss, test_acc``."""
    definitions = [
        stmt
        for cell in plan.cells
        if cell.promoted and cell.names
        for stmt in cell.names.statements
        if isinstance(stmt.node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    found: set[str] = set()
    while True:
        known = functions | found
        more = set()
        for definition in definitions:
            function = definition.node
            if function.name in known or not _mentions(definition, known):
                continue
            results = {  # names this function binds from a call to a known function
                leaf.id
                for assign in definition.index.of(ast.Assign)
                if _calls_any(assign.value, known)
                for target in assign.targets
                for leaf in ast.walk(target)
                if isinstance(leaf, ast.Name)
            }
            for node in definition.index.of(ast.Return):
                if node.value is not None:
                    names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                    if _calls_any(node.value, known) or names & results:
                        more.add(function.name)
        if not more:
            return found
        found |= more


def _results_of_evaluate_functions(plan: Plan) -> None:
    """``test_loss, test_acc = test(model, loader)`` in any step: what the evaluate cells' functions return.

    Scripts define ``test()`` in the evaluate cell and call it from the training loop or ``main()``; its
    results are the measurements, wherever the call is.
    """
    functions = {
        stmt.binds[0]
        for cell in plan.cells
        if cell.role == "evaluate" and cell.names
        for stmt in cell.names.statements
        if isinstance(stmt.node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    functions |= _returning_results_of(plan, functions)
    for step in plan.steps:
        for placed in step.body:
            for assign in _assignments(placed.stmt.node) if _mentions(placed.stmt, functions) else []:
                calls = [n for n in ast.walk(assign.value) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
                if not any(call.func.id in functions for call in calls):
                    continue
                for target in assign.targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name) and leaf.id not in step.metrics:
                            step.metrics.append(leaf.id)


# Calls whose result is data or a fitted object, never one number.
_NON_SCALAR_CALLS = {
    "fit": "a fitted object",
    "predict": "predictions",
    "predict_proba": "predictions",
    "transform": "transformed data",
    "fit_transform": "transformed data",
    "read_csv": "a table",
    "DataFrame": "a table",
    "DataLoader": "a data loader",
    "array": "an array",
    "tensor": "a tensor",
    "cross_validate": "a dict of arrays",
    "cross_val_score": "an array of scores",
    "cross_val_predict": "predictions",
    "confusion_matrix": "a matrix",
    "classification_report": "a report",
}


def _non_metric(value: ast.expr) -> str | None:
    """Why the value an evaluate cell binds is plainly not a numeric scalar (None when it may be one)."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)):
        return "a collection"
    if isinstance(value, (ast.GeneratorExp, ast.Lambda)):
        return "a generator" if isinstance(value, ast.GeneratorExp) else "a function"
    if isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return "text"
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _NON_SCALAR_CALLS:
            return _NON_SCALAR_CALLS[name]
        if name[:1].isupper():
            return f"a {name} object"
    return None


def _leave_out_non_metrics(plan: Plan, step) -> None:
    """Models, estimators, predictions and lists stay out of metrics.json; an info diagnostic names them."""
    last_value: dict[str, tuple[ast.expr, object, int]] = {}
    for placed in step.body:
        for assign in _assignments(placed.stmt.node):
            if len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name):
                last_value[assign.targets[0].id] = (assign.value, placed.cell, line_in_cell(placed.cell, assign.lineno))
            else:
                for leaf in ast.walk(assign.targets[0]) if len(assign.targets) == 1 else []:
                    if isinstance(leaf, ast.Name):
                        last_value.pop(leaf.id, None)  # unpacked: its type is not known here
    left_out: dict[int, tuple[object, int, list[str]]] = {}  # id(cell) → the cell, first line, what is no metric
    loop_targets = {  # name → (cell, line) of the loop that iterates over it
        leaf.id: (placed.cell, line_in_cell(placed.cell, getattr(node, "lineno", placed.stmt.line)))
        for placed in step.body
        for node in placed.stmt.index.of(ast.For, ast.comprehension)
        for leaf in ast.walk(node.target)
        if isinstance(leaf, ast.Name)
    }
    for name in list(step.metrics):
        value, cell, line = last_value.get(name, (None, None, 0))
        reason = _non_metric(value) if value is not None else None
        if name in loop_targets:
            cell, line = loop_targets[name]
            reason = "a loop variable: its last batch or item"
        if reason:
            step.metrics.remove(name)
            left_out.setdefault(id(cell), (cell, line, []))[2].append(f"{name} ({reason})")
    for cell, line, names in left_out.values():
        plan.diagnose(
            cell,
            "info",
            "PRM040",
            f"not recorded in metrics.json, since metrics are numeric scalars: {', '.join(names)}",
            line,
        )

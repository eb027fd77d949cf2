"""Which candidate metrics are plainly numbers, so the generated smoke test can insist that metrics.json has one.

Every value an evaluate step binds is a candidate metric, and the run keeps the numeric scalars among them. When
nothing the step binds reads as a number (gpytorch's example evaluates ``observed_pred = likelihood(model(x))``
and plots it), metrics.json may well stay empty: promotion says so on the cell, and the generated test checks
only that what was recorded is finite instead of failing on the notebook's own choice.
"""

from __future__ import annotations

import ast
import re

from .plan import Plan, Step, line_in_cell

# Words people put in a metric's name: `test_acc`, `val_loss`, `mean_score`, `rmse`, `f1`.
_METRIC_WORDS = re.compile(
    r"(?:^|_)(acc|accuracy|loss|score|error|err|f1|auc|roc|mse|rmse|mae|mape|r2|precision|recall|metric|"
    r"nll|likelihood|perplexity|ppl|iou|dice|bleu|rouge|psnr|ssim|correct|total)(?:$|_|\d)",
    re.IGNORECASE,
)
_METRIC_TEXT = re.compile(
    r"\b[\w ]{0,20}\b(acc|accuracy|loss|score|error|f1|auc|mse|rmse|mae|r2|precision|recall)\b", re.IGNORECASE
)
# Calls whose result is one number (or a 0-d tensor the run turns into one).
_NUMERIC_CALLS = {"float", "int", "round", "len", "sum", "mean", "item", "max", "min", "abs", "std", "sqrt", "score"}
_NUMERIC_SUFFIXES = ("_score", "_error", "_loss")


def expect_numeric_metrics(plan: Plan) -> None:
    """Record on each evaluate step the candidate metrics that are plainly numbers; warn when there are none."""
    functions = {
        stmt.binds[0]
        for cell in plan.cells
        if cell.names
        for stmt in cell.names.statements
        if isinstance(stmt.node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    for step in plan.steps:
        values = _last_values(step)
        step.numeric_metrics = [m for m in step.metrics if _plainly_numeric(m, values.get(m), functions)]
    candidates = [m for step in plan.steps for m in step.metrics]
    if not candidates or any(step.numeric_metrics or step.metric_tables for step in plan.steps):
        return
    step = next(s for s in plan.steps if s.metrics)
    printed = _printed_metric(step)
    plan.diagnose(
        printed[0] if printed else step.cells[-1],
        "warning",
        "PRM012",
        f"nothing this evaluate step binds reads as a number ({', '.join(candidates)}), so metrics.json may stay "
        "empty and register has nothing to compare; "
        + (f"this cell prints {printed[1]!r} without binding it: " if printed else "")
        + "assign the final metric to a variable, e.g. `test_mse = ((pred - y) ** 2).mean().item()`",
        printed[2] if printed else None,
    )


def _printed_metric(step: Step) -> tuple | None:
    """(cell, text, line) of a ``print`` whose text names a metric ("Test MAE: {}"), the metric it never bound."""
    for placed in step.body:
        for node in ast.walk(placed.stmt.node):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"):
                continue
            for text in (n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)):
                if match := _METRIC_TEXT.search(text):
                    return placed.cell, match.group(0), line_in_cell(placed.cell, node.lineno)
    return None


def _last_values(step: Step) -> dict[str, ast.expr | None]:
    """Each name's last value assigned at the step's top level (None: unpacked, augmented or looped over)."""
    values: dict[str, ast.expr | None] = {}
    for placed in step.body:
        for node in _top_level_statements(placed.stmt.node):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                values[node.targets[0].id] = node.value
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                # Unpacked from a call: as good as the call (`loss, acc = evaluate(...)` is, and
                # `lower, upper = pred.confidence_region()` is not); counters and the rest: taken at their word.
                value = node.value if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) else None
                values.update({n.id: value for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
    return values


def _top_level_statements(node: ast.stmt) -> list[ast.stmt]:
    """The statement and those nested in its with/if/try/loop blocks, not in defs or classes."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    nested = [getattr(node, f, []) for f in ("body", "orelse", "finalbody")]
    return [node, *(found for block in nested for child in block for found in _top_level_statements(child))]


def _plainly_numeric(name: str, value: ast.expr | None, functions: set[str]) -> bool:
    """A metric's name says so, or its value is arithmetic, a number, or a call that returns one."""
    if _METRIC_WORDS.search(name) or value is None:
        return True
    if isinstance(value, ast.Subscript):
        return not isinstance(value.slice, ast.Slice)  # `history["val_loss"][-1]`, not `means[1:]`
    if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Name)):
        return True
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float)) and not isinstance(value.value, bool)
    if isinstance(value, ast.Call):
        func = value.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return called in _NUMERIC_CALLS or called.endswith(_NUMERIC_SUFFIXES) or called in functions
    return False

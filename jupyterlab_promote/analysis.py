"""Cell analysis: every cell's role, plain code, names and diagnostics.

The result is per cell and independent of the other cells except for two
notebook-wide rules: Kale's "an untagged cell belongs to the step above", and
hidden state (execution counts that do not increase top to bottom).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .diagnostics import Diagnostic, Severity
from .main_guard import unguard_main
from .magics import PlainSource, SourceNote, to_python
from .names import CellNames, analyse_code
from .lines import split_lines
from .notebook import Cell, Notebook
from .roles import ROLES, RoleTag, role_tags, tag_for

_ABSOLUTE_PATH = re.compile(
    r"""(?<![\w])['"](/(?:home|Users|mnt|data|tmp|root|opt|srv|var)/[^'"]*|[A-Za-z]:\\\\[^'"]*)['"]"""
)
_CUDA_CALL = re.compile(r"""\.cuda\(\)|\.to\(\s*['"]cuda|device\(\s*['"]cuda(:\d+)?['"]\s*\)""")


@dataclass
class CellPlan:
    """What promotion knows about one code cell."""

    cell: Cell
    role: str | None = None  # None: untagged
    step: str | None = None  # custom step name (role "step"), or the role for built-in roles
    role_source: str | None = None
    plain: PlainSource | None = None
    names: CellNames | None = None
    suggested_role: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.role not in (None, "skip", "imports")

    def to_json(self) -> dict:
        names = self.names
        return {
            "index": self.cell.index,
            "id": self.cell.id,
            "cell_type": self.cell.cell_type,
            "role": self.role,
            "role_source": self.role_source,
            "tags": self.cell.tags,
            "suggested_role": self.suggested_role,
            "step": self.step,
            "first_line": self.cell.first_line,
            "defines": sorted(names.binds) if names else [],
            "uses": names.reads if names else [],
            "mutates": sorted(names.mutates) if names else [],
        }


def diagnostic(
    notebook: Notebook, cell: Cell | None, severity: str, code: str, message: str, line: int | None = None, **extra
) -> Diagnostic:
    return Diagnostic(
        severity=Severity(severity),
        code=code,
        message=message,
        notebook=str(notebook.path),
        cell_index=cell.index if cell else None,
        cell_id=cell.id if cell else None,
        line=line,
        **extra,
    )


def assign_roles(notebook: Notebook) -> list[CellPlan]:
    plans = []
    for cell in notebook.code_cells():
        plan = CellPlan(cell=cell)
        found, unknown = role_tags(cell.tags, cell.source)
        for tag in unknown:
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    cell,
                    "warning",
                    "PRM015",
                    f"unknown tag '{tag}'; known roles: {', '.join(ROLES)}, step:NAME"
                    " (NAME: a letter or _, then letters, digits, _ or -)",
                )
            )
        if found:
            chosen: RoleTag = found[0]
            if len({(t.role, t.step) for t in found}) > 1:
                names = ", ".join(tag_for(t.role, t.step) for t in found)
                plan.diagnostics.append(
                    diagnostic(
                        notebook,
                        cell,
                        "warning",
                        "PRM016",
                        f"several roles ({names}); using {tag_for(chosen.role, chosen.step)}",
                    )
                )
            plan.role, plan.role_source = chosen.role, chosen.source
            plan.step = chosen.step if chosen.role == "step" else chosen.role
        plans.append(plan)
    _apply_kale_rule(plans)
    return plans


def _apply_kale_rule(plans: list[CellPlan]) -> None:
    """In a notebook tagged with Kale steps, an untagged cell joins the step above it."""
    if not any(p.role == "step" and p.role_source == "kale" for p in plans):
        return
    current: CellPlan | None = None
    for plan in plans:
        if plan.role is None and current is not None:
            plan.role, plan.step, plan.role_source = current.role, current.step, "kale"
        elif plan.role in ("step", "skip") or plan.role in ROLES:
            current = plan if plan.role == "step" else None


def analyse_cell(notebook: Notebook, plan: CellPlan) -> None:
    """One cell's analysis; whatever its code does to the parser stays a diagnostic on this cell."""
    try:
        _analyse_cell(notebook, plan)
    except (RecursionError, MemoryError) as exc:
        # Deep nesting (-(-(…)), 1+1+…, nested lambdas) exhausts the parser or our AST walks.
        plan.plain, plan.names = None, None
        _unreadable(notebook, plan, f"too deeply nested for the parser ({type(exc).__name__}); split the expression")


# Deeper ASTs overflow the recursive walks of ast.unparse, black and our own stages.
MAX_NESTING = 150


@dataclass
class _CellFacts:
    """What the per-cell checks need from the AST, gathered in one walk (walks are most of the analysis)."""

    depth: int = 0  # of the deepest node; the walk stops once past MAX_NESTING
    calls: set[str] = field(default_factory=set)  # called by code that runs when the cell runs
    body_calls: set[str] = field(default_factory=set)  # called inside the functions the cell defines
    has_async: bool = False  # an await / async for / async with anywhere
    has_function_only: bool = False  # a return / yield / nonlocal anywhere
    has_lambda: bool = False


def _cell_facts(names: CellNames) -> _CellFacts:
    """One walk of the cell's AST, without recursion."""
    facts = _CellFacts()
    for stmt in names.statements:
        target = facts.body_calls if stmt.is_definition else facts.calls
        stack = [(stmt.node, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > facts.depth:
                facts.depth = depth
                if depth > MAX_NESTING:
                    return facts
            if isinstance(node, ast.Call):
                func = node.func
                target.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
            elif isinstance(node, _ASYNC):
                facts.has_async = True
            elif isinstance(node, _FUNCTION_ONLY):
                facts.has_function_only = True
            elif isinstance(node, ast.Lambda):
                facts.has_lambda = True
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return facts


_ASYNC = (ast.Await, ast.AsyncFor, ast.AsyncWith)
# Statements a notebook cell cannot run (SyntaxError outside a function) but a step function would accept.
_FUNCTION_ONLY = (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal)
_ASYNC_SCOPES = (ast.AsyncFunctionDef, ast.FunctionDef, ast.Lambda, ast.ClassDef)


def _outside_functions(names: CellNames, kinds: tuple[type, ...]) -> ast.AST | None:
    """The first node of ``kinds`` outside any function or class body, or None."""
    stack = [stmt.node for stmt in reversed(names.statements) if not isinstance(stmt.node, _ASYNC_SCOPES)]
    while stack:
        node = stack.pop()
        if isinstance(node, kinds):
            return node
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _ASYNC_SCOPES))
    return None


def _top_level_await(names: CellNames) -> int | None:
    """Line of an ``await`` (or ``async for``/``with``) outside any function: IPython runs it, a function cannot."""
    found = _outside_functions(names, _ASYNC)
    return found.lineno if found is not None else None  # type: ignore[attr-defined]


def _unreadable(notebook: Notebook, plan: CellPlan, message: str) -> None:
    severity = "error" if plan.promoted or plan.role == "parameters" else "warning"
    plan.diagnostics.append(diagnostic(notebook, plan.cell, severity, "PRM001", message, 1))
    if plan.plain is None:
        plan.plain = PlainSource(code="", syntax_error=SourceNote(1, severity, "PRM001", message))


def _analyse_cell(notebook: Notebook, plan: CellPlan) -> None:
    cell = plan.cell
    plain = to_python(cell.source)
    plan.plain = plain
    for note in plain.notes if plan.promoted or plan.role == "parameters" else []:
        plan.diagnostics.append(diagnostic(notebook, cell, note.severity, note.code, note.message, note.line))
    if plain.syntax_error:
        error = plain.syntax_error
        severity = "error" if plan.promoted else "warning"
        plan.diagnostics.append(diagnostic(notebook, cell, severity, error.code, error.message, error.line))
        return
    if plan.promoted:
        unguarded, guards = unguard_main(plain.code, plain.tree)
        if unguarded != plain.code:
            plain.code, plain.tree = unguarded, None
        for line in guards:
            message = '`if __name__ == "__main__":` is always true in a notebook; its body runs unguarded in the step'
            plan.diagnostics.append(diagnostic(notebook, cell, "info", "PRM025", message, line + plain.line_offset))
    try:
        plan.names = analyse_code(plain.code, plain.tree)
    except SyntaxError as exc:  # to_python already parsed; this is belt and braces
        plan.diagnostics.append(diagnostic(notebook, cell, "error", "PRM001", f"syntax error: {exc.msg}", exc.lineno))
        return
    facts = _cell_facts(plan.names)
    depth = facts.depth
    if depth > MAX_NESTING:
        plan.names = None
        plan.plain.syntax_error = SourceNote(1, "error", "PRM001", "")
        _unreadable(notebook, plan, f"an expression nested {depth} levels deep (at most {MAX_NESTING}); split it")
        return
    if plan.promoted and facts.has_async and (line := _top_level_await(plan.names)):
        message = "top-level await: a promoted step is a plain function; wrap it in `async def main()` and `asyncio.run(main())`"
        plan.plain.syntax_error = SourceNote(line, "error", "PRM001", message)
        plan.diagnostics.append(diagnostic(notebook, cell, "error", "PRM001", message, line + plain.line_offset))
        return
    if facts.has_function_only and (node := _outside_functions(plan.names, _FUNCTION_ONLY)) is not None:
        keyword = {ast.Return: "return", ast.Nonlocal: "nonlocal"}.get(type(node), "yield")
        message = f"syntax error: '{keyword}' outside a function (the notebook cannot run this cell either)"
        severity = "error" if plan.promoted else "warning"
        plan.plain.syntax_error = SourceNote(node.lineno, severity, "PRM001", message)  # type: ignore[attr-defined]
        line = node.lineno + plain.line_offset  # type: ignore[attr-defined]
        plan.diagnostics.append(diagnostic(notebook, cell, severity, "PRM001", message, line))
        return
    plan.suggested_role = suggest_role(plain.code, plan.names, (facts.calls, facts.body_calls))
    if plan.promoted:
        _check_code(notebook, plan, facts.has_lambda)


def _check_code(notebook: Notebook, plan: CellPlan, has_lambda: bool = True) -> None:
    cell, code = plan.cell, plan.plain.code if plan.plain else ""
    offset = plan.plain.line_offset if plan.plain else 0
    for number, text in enumerate(split_lines(code), start=1 + offset):
        stripped = text.split("#", 1)[0]
        if _ABSOLUTE_PATH.search(stripped):
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    cell,
                    "warning",
                    "PRM007",
                    "absolute path: it will not exist on another machine; make it a parameter or a path relative to the project",
                    number,
                )
            )
        if _CUDA_CALL.search(stripped):
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    cell,
                    "warning",
                    "PRM006",
                    "hard-coded CUDA device: Lightning places models and batches itself, so this breaks CPU and multi-GPU runs",
                    number,
                )
            )
    if plan.role in ("data", "preprocess") and plan.names and has_lambda:
        for stmt in plan.names.statements:
            for node in ast.walk(stmt.node):
                if isinstance(node, ast.Lambda):
                    plan.diagnostics.append(
                        diagnostic(
                            notebook,
                            cell,
                            "warning",
                            "PRM005",
                            "lambda in a data cell: DataLoader workers started with 'spawn' cannot pickle it; use a def at module level",
                            node.lineno + offset,
                        )
                    )
    if (
        plan.role != "skip"
        and plan.role is not None
        and plan.suggested_role
        and plan.role in ("data", "model", "train", "evaluate", "export")
    ):
        strong = {"train", "evaluate", "export", "model", "data"}
        if (
            plan.suggested_role in strong
            and plan.suggested_role != plan.role
            and not _compatible(plan.role, plan.suggested_role)
        ):
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    cell,
                    "info",
                    "PRM011",
                    f"tagged {tag_for(plan.role)} but its code looks like {plan.suggested_role}",
                    suggestion={
                        "action": "set-role",
                        "cell_index": cell.index,
                        "cell_id": cell.id,
                        "role": plan.suggested_role,
                    },
                )
            )


def _compatible(role: str, suggested: str) -> bool:
    # Model cells often build their optimiser; train cells often evaluate per epoch.
    return (role, suggested) in {
        ("model", "train"),
        ("train", "evaluate"),
        ("train", "model"),
        ("data", "preprocess"),
        ("preprocess", "data"),
        ("train", "export"),
    }


_TRAIN_CALLS = {"backward", "fit", "partial_fit"}
_EVAL_CALLS = {
    "no_grad",
    "inference_mode",
    "test",
    "validate",
    "score",
    "cross_val_score",
    "accuracy_score",
    "f1_score",
    "precision_recall_fscore_support",
    "evaluate",
}
_EXPORT_CALLS = {"save", "to_onnx", "export", "dump", "save_pretrained", "to_torchscript"}
_DATA_CALLS = {
    "DataLoader",
    "TensorDataset",
    "read_csv",
    "read_parquet",
    "load_dataset",
    "train_test_split",
    "random_split",
}
_LAYERS = {"Sequential", "Linear", "Conv1d", "Conv2d", "Conv3d", "LSTM", "GRU", "RNN", "Transformer", "Embedding"}
_PLOT_CALLS = {
    "scatter",
    "plot",
    "imshow",
    "contourf",
    "contour",
    "axis",
    "axvline",
    "axhline",
    "subplots",
    "figure",
    "rc",
    "hist",
    "bar",
    "legend",
}
_DISPLAY_CALLS = {
    "print",
    "display",
    "plot",
    "show",
    "imshow",
    "scatter",
    "hist",
    "figure",
    "subplots",
    "title",
    "xlabel",
    "ylabel",
    "legend",
    "head",
    "describe",
    "info",
}


def suggest_role(code: str, names: CellNames, called: tuple[set[str], set[str]] | None = None) -> str | None:
    """The role a cell's code most likely plays (a suggestion; tags always win).

    ``called``: (calls of code that runs with the cell, calls inside its definitions), when already collected.
    """
    calls: set[str] = set() if called is None else called[0]  # called by code that runs when the cell runs
    body_calls: set[str] = set() if called is None else called[1]  # called inside the functions the cell defines
    bases: set[str] = set()
    for stmt in names.statements:
        if isinstance(stmt.node, ast.ClassDef):
            bases |= {ast.unparse(b).split(".")[-1] for b in stmt.node.bases}
        if called is not None:
            continue
        target = body_calls if stmt.is_definition else calls
        for node in ast.walk(stmt.node):
            if isinstance(node, ast.Call):
                func = node.func
                target.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    if not names.statements:
        return None
    if all(s.is_import for s in names.statements):
        return "imports"
    if "backward" in calls and "step" in calls or calls & {"fit", "partial_fit"}:
        return "train"
    if (
        calls & {"save", "to_onnx", "dump", "save_pretrained", "to_torchscript"}
        or "export" in calls
        and "torch" in code
    ):
        return "export"
    if calls & _EVAL_CALLS:
        return "evaluate"
    if bases & {"Module", "LightningModule"} or calls & _LAYERS:
        return "model"
    if (
        bases & {"Dataset", "IterableDataset", "LightningDataModule"}
        or calls & _DATA_CALLS
        or any(c.startswith("load_") and c != "load_state_dict" for c in calls)
    ):
        return "data"
    if {"backward", "step"} <= body_calls:
        return "train"
    if len(body_calls & _PLOT_CALLS) >= 2:
        return "skip"  # plotting helpers
    if body_calls & {"no_grad", "inference_mode"}:
        return "evaluate"
    if (
        calls
        and calls <= _DISPLAY_CALLS | {"set_default", "plot_data", "plot_model"}
        and not any(s.binds for s in names.statements if not s.is_import)
    ):
        return "skip"
    return None


def analyse(notebook: Notebook) -> list[CellPlan]:
    plans = assign_roles(notebook)
    for plan in plans:
        analyse_cell(notebook, plan)
    _hidden_state(notebook, plans)
    return plans


def _hidden_state(notebook: Notebook, plans: list[CellPlan]) -> None:
    """Cells run out of order leave state the code alone does not explain."""
    last = 0
    for plan in plans:
        count = plan.cell.execution_count
        if count is None:
            continue
        if count < last:
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    plan.cell,
                    "warning",
                    "PRM004",
                    f"hidden state: this cell ran (execution count {count}) before the cell above it ({last}); restart and run all to check the notebook top to bottom",
                )
            )
        last = max(last, count)

"""Cell analysis: every cell's role, plain code, names and diagnostics.

The result is per cell and independent of the other cells except for two
notebook-wide rules: Kale's "an untagged cell belongs to the step above"
(roles.py), and hidden state (execution counts that do not increase top to
bottom, checks.py). Here: reading each cell into plain Python and its names,
and refusing what a step function cannot run.
"""

from __future__ import annotations

import ast
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..read.magics import PlainSource, SourceNote, to_python
from ..read.main_guard import unguard_main
from ..read.notebook import Notebook
from .cellplan import CellPlan
from .checks import check_code, check_execution_order
from .diagnostics import diagnostic
from .names import CellNames, analyse_code
from .roles import assign_roles
from .suggest import suggest_role

# stages/hidden_state.py and stages/handoffs.py still import these from here.
__all__ = ["analyse", "analyse_cell"]


def analyse(notebook: Notebook) -> list[CellPlan]:
    plans = assign_roles(notebook)
    with _cyclic_gc_paused():
        for plan in plans:
            analyse_cell(notebook, plan)
    check_execution_order(notebook, plans)
    return plans


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Parsing a large cell makes millions of AST nodes, none in a reference cycle, and each full collection
    while they pile up scans them all again: ~40% of analysing a 5 MB cell. Reference counting still frees
    what is dropped; cycles made meanwhile are collected afterwards. Process-wide: a thread that analyses
    meanwhile finds the collector paused and leaves it to the first one to turn back on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def analyse_cell(notebook: Notebook, plan: CellPlan) -> None:
    """One cell's analysis; whatever its code does to the parser stays a diagnostic on this cell."""
    try:
        _analyse_cell(notebook, plan)
    except (RecursionError, MemoryError) as exc:
        # Deep nesting (-(-(…)), 1+1+…, nested lambdas) exhausts the parser or our AST walks.
        plan.plain, plan.names = None, None
        _unreadable(notebook, plan, f"too deeply nested for the parser ({type(exc).__name__}); split the expression")


def _analyse_cell(notebook: Notebook, plan: CellPlan) -> None:
    plain = _read_plain(notebook, plan)
    if plain is None:
        return
    try:
        plan.names = analyse_code(plain.code, plain.tree)
    except SyntaxError as exc:  # to_python already parsed; this is belt and braces
        plan.diagnostics.append(
            diagnostic(notebook, plan.cell, "error", "PRM001", f"syntax error: {exc.msg}", exc.lineno)
        )
        return
    facts = _cell_facts(plan.names)
    if _refuse_unrunnable(notebook, plan, facts):
        return
    plan.suggested_role = suggest_role(plain.code, plan.names, (facts.calls, facts.body_calls))
    if plan.promoted:
        check_code(notebook, plan, facts.has_lambda)


def _read_plain(notebook: Notebook, plan: CellPlan) -> PlainSource | None:
    """The cell as plain Python (magics rewritten, a promoted cell's main guard dropped); None on a syntax error."""
    cell = plan.cell
    plain = plan.plain = to_python(cell.source)
    for note in plain.notes if plan.promoted or plan.role == "parameters" else []:
        plan.diagnostics.append(diagnostic(notebook, cell, note.severity, note.code, note.message, note.line))
    if plain.syntax_error:
        error = plain.syntax_error
        severity = "error" if plan.promoted else "warning"
        plan.diagnostics.append(diagnostic(notebook, cell, severity, error.code, error.message, error.line))
        return None
    if plan.promoted:
        unguarded, guards = unguard_main(plain.code, plain.tree)
        if unguarded != plain.code:
            plain.code, plain.tree = unguarded, None
        for line in guards:
            message = '`if __name__ == "__main__":` is always true in a notebook; its body runs unguarded in the step'
            plan.diagnostics.append(diagnostic(notebook, cell, "info", "PRM025", message, line + plain.line_offset))
    return plain


def _refuse_unrunnable(notebook: Notebook, plan: CellPlan, facts: _CellFacts) -> bool:
    """PRM001 for code a step function cannot hold: too deep, a top-level await, or function-only statements."""
    plain, cell = plan.plain, plan.cell
    if facts.depth > MAX_NESTING:
        plan.names = None
        plain.syntax_error = SourceNote(1, "error", "PRM001", "")
        _unreadable(notebook, plan, f"an expression nested {facts.depth} levels deep (at most {MAX_NESTING}); split it")
        return True
    if plan.promoted and facts.has_async and (line := _top_level_await(plan.names)):
        message = "top-level await: a promoted step is a plain function; wrap it in `async def main()` and `asyncio.run(main())`"
        plain.syntax_error = SourceNote(line, "error", "PRM001", message)
        plan.diagnostics.append(diagnostic(notebook, cell, "error", "PRM001", message, line + plain.line_offset))
        return True
    if facts.has_function_only and (node := _outside_functions(plan.names, _FUNCTION_ONLY)) is not None:
        keyword = {ast.Return: "return", ast.Nonlocal: "nonlocal"}.get(type(node), "yield")
        message = f"syntax error: '{keyword}' outside a function (the notebook cannot run this cell either)"
        severity = "error" if plan.promoted else "warning"
        plain.syntax_error = SourceNote(node.lineno, severity, "PRM001", message)  # type: ignore[attr-defined]
        line = node.lineno + plain.line_offset  # type: ignore[attr-defined]
        plan.diagnostics.append(diagnostic(notebook, cell, severity, "PRM001", message, line))
        return True
    return False


# Deeper ASTs overflow the recursive walks of ast.unparse, black and our own stages.
MAX_NESTING = 150


@dataclass
class _CellFacts:
    """What the per-cell checks need from the AST."""

    depth: int = 0  # of the deepest node; the rest is not gathered once past MAX_NESTING
    calls: set[str] = field(default_factory=set)  # called by code that runs when the cell runs
    body_calls: set[str] = field(default_factory=set)  # called inside the functions the cell defines
    has_async: bool = False  # an await / async for / async with anywhere
    has_function_only: bool = False  # a return / yield / nonlocal anywhere
    has_lambda: bool = False


def _cell_facts(names: CellNames) -> _CellFacts:
    """From each statement's node index: no walk of its own."""
    facts = _CellFacts()
    for stmt in names.statements:
        facts.depth = max(facts.depth, stmt.index.depth)
        if facts.depth > MAX_NESTING:
            return facts
        target = facts.body_calls if stmt.is_definition else facts.calls
        for call in stmt.index.of(ast.Call):
            func = call.func
            target.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        facts.has_async = facts.has_async or bool(stmt.index.of(*_ASYNC))
        facts.has_function_only = facts.has_function_only or bool(stmt.index.of(*_FUNCTION_ONLY))
        facts.has_lambda = facts.has_lambda or bool(stmt.index.of(ast.Lambda))
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

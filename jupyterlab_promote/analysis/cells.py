"""Cell analysis: every cell's role, plain code, names and diagnostics.

The result is per cell and independent of the other cells except for two
notebook-wide rules: Kale's "an untagged cell belongs to the step above"
(roles.py), and hidden state (execution counts that do not increase top to
bottom, checks.py). Here: reading each cell into plain Python and its names,
and refusing what a step function cannot run.
"""

from __future__ import annotations

import ast
import copy
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from ..read.magics import PlainSource, SourceNote
from ..read.notebook import Notebook
from .cell_reading import (
    ASYNC_NODES,
    FUNCTION_ONLY_NODES,
    MAX_NESTING,
    CellFacts,
    Reader,
    Reading,
)
from .cellplan import CellPlan
from .checks import check_code, check_execution_order
from .diagnostics import diagnostic
from .indirect_changes import read_indirect_changes
from .names import CellNames
from .roles import assign_roles
from .suggest import suggest_role

# stages/hidden_state.py and stages/handoffs.py still import these from here.
__all__ = ["analyse", "analyse_cell"]


def analyse(notebook: Notebook) -> tuple[list[CellPlan], dict[str, set[str]]]:
    """Every cell read, and which names may share an object some statement changes (indirect_changes.py)."""
    plans = assign_roles(notebook)
    reader = Reader()
    for plan in plans:  # build_plan keeps the collector paused meanwhile (cyclic_gc_paused)
        analyse_cell(notebook, plan, reader)
    read_rebound_builtins(plans)
    shared = read_indirect_changes(plans)
    check_execution_order(notebook, plans)
    return plans, shared


def read_rebound_builtins(plans: list[CellPlan]) -> None:
    """A builtin's name the notebook binds (``input = torch.randn(3)``, a parameter ``id = 7``) holds the
    notebook's value in every statement after the binding, in notebook order: there its read is a read like any
    other, which the steps hand on. Before any binding it stays the builtin (``max(...)`` above a later
    ``max = 10``). The statements are the shared readings' (cell_reading.py): one that gains a read is copied."""
    bound: set[str] = set()
    for plan in plans:
        if plan.names is None:
            continue
        statements, changed = [], False
        for stmt in plan.names.statements:
            reads = [name for name in stmt.builtin_reads if name in bound]
            call_time = [name for name in stmt.builtin_call_time_reads if name in bound]
            if reads or call_time:
                stmt = copy.copy(stmt)
                stmt.reads, stmt.call_time_reads = stmt.reads + reads, stmt.call_time_reads + call_time
                changed = True
            statements.append(stmt)
            bound.update(stmt.binds)
        if changed:
            plan.names = CellNames(statements=statements, code=plan.names.code)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Parsing a large cell makes millions of AST nodes, none in a reference cycle, and each full collection
    while they pile up scans them all again: ~40% of analysing a 5 MB cell, and ~23% of planning 2,000 cells
    when the stages that read those trees run with the collector on: build_plan pauses it for both.
    Reference counting still frees what is dropped; cycles made meanwhile wait for the next full collection.
    Process-wide: a thread that analyses meanwhile finds the collector paused and leaves it to the first one
    to turn back on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        _skip_young_collection()
        gc.enable()


def _skip_young_collection() -> None:
    """Everything made while paused moves to the oldest generation unscanned: the first collection after the
    pause would otherwise scan every node of the trees the plan keeps (a sixth of analysing 2,000 cells).
    Cycles among them are collected at the next full collection. ``gc.freeze`` and ``gc.unfreeze`` just move
    lists; skipped when someone else froze objects on purpose (a pre-forking server), whose freeze we must keep."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def analyse_cell(notebook: Notebook, plan: CellPlan, reader: Reader) -> None:
    """One cell's analysis; whatever its code does to the parser stays a diagnostic on this cell."""
    try:
        _analyse_cell(notebook, plan, reader.read(plan.cell.source, plan.promoted))
    except (RecursionError, MemoryError) as exc:
        # Deep nesting (-(-(…)), 1+1+…, nested lambdas) exhausts the parser or our AST walks.
        plan.plain, plan.names = None, None
        _unreadable(notebook, plan, f"too deeply nested for the parser ({type(exc).__name__}); split the expression")


def _analyse_cell(notebook: Notebook, plan: CellPlan, reading: Reading) -> None:
    plain = plan.plain = reading.plain
    _tell_reading(notebook, plan, reading)
    if plain.syntax_error or reading.names is None:
        return
    plan.names = reading.names
    facts = reading.facts
    if _refuse_unrunnable(notebook, plan, facts):
        return
    plan.suggested_role = suggest_role(plain.code, plan.names, (facts.calls, facts.body_calls))
    if plan.promoted:
        check_code(notebook, plan, facts.has_lambda)


def _tell_reading(notebook: Notebook, plan: CellPlan, reading: Reading) -> None:
    """What reading the cell as plain Python found: its magics' notes, a syntax error, dropped main guards."""
    cell, plain = plan.cell, reading.plain
    for note in plain.notes if plan.promoted or plan.role == "parameters" else []:
        plan.diagnostics.append(diagnostic(notebook, cell, note.severity, note.code, note.message, note.line))
    if plain.syntax_error:
        error = plain.syntax_error
        severity = "error" if plan.promoted else "warning"
        plan.diagnostics.append(diagnostic(notebook, cell, severity, error.code, error.message, error.line))
        return
    for line in reading.guards:
        message = '`if __name__ == "__main__":` is always true in a notebook; its body runs unguarded in the step'
        plan.diagnostics.append(diagnostic(notebook, cell, "info", "PRM025", message, line + plain.line_offset))
    if reading.error is not None:
        message = f"syntax error: {reading.error.msg}"
        plan.diagnostics.append(diagnostic(notebook, cell, "error", "PRM001", message, reading.error.lineno))


def _refuse_unrunnable(notebook: Notebook, plan: CellPlan, facts: CellFacts) -> bool:
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
    if facts.has_function_only and (node := _outside_functions(plan.names, FUNCTION_ONLY_NODES)) is not None:
        keyword = {ast.Return: "return", ast.Nonlocal: "nonlocal"}.get(type(node), "yield")
        message = f"syntax error: '{keyword}' outside a function (the notebook cannot run this cell either)"
        severity = "error" if plan.promoted else "warning"
        plain.syntax_error = SourceNote(node.lineno, severity, "PRM001", message)  # type: ignore[attr-defined]
        line = node.lineno + plain.line_offset  # type: ignore[attr-defined]
        plan.diagnostics.append(diagnostic(notebook, cell, severity, "PRM001", message, line))
        return True
    if facts.compile_error is not None:
        line, why = facts.compile_error
        plain.syntax_error = SourceNote(line, "error", "PRM001", f"syntax error: {why}")
        message = f"syntax error: {why} (Python rejects the cell when it compiles it: the notebook cannot run it)"
        plan.diagnostics.append(diagnostic(notebook, cell, "error", "PRM001", message, line + plain.line_offset))
        return True
    if plan.promoted and (star := _star_import_in_a_block(plan.names)) is not None:
        module = "." * star.level + (star.module or "")
        message = (
            f"`from {module} import *` inside a block: a promoted step is a function, where Python allows"
            " `import *` nowhere; import the names the cell uses by name"
        )
        plain.syntax_error = SourceNote(star.lineno, "error", "PRM001", message)
        plan.diagnostics.append(diagnostic(notebook, cell, "error", "PRM001", message, star.lineno + plain.line_offset))
        return True
    return False


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


def _star_import_in_a_block(names: CellNames) -> ast.ImportFrom | None:
    """A ``from M import *`` nested in the cell's module-level blocks (a top-level one is hoisted to the module)."""
    for stmt in names.statements:
        for node in stmt.index.of(ast.ImportFrom):
            if node is not stmt.node and any(alias.name == "*" for alias in node.names):
                return node
    return None


def _top_level_await(names: CellNames) -> int | None:
    """Line of an ``await`` (or ``async for``/``with``) outside any function: IPython runs it, a function cannot."""
    found = _outside_functions(names, ASYNC_NODES)
    return found.lineno if found is not None else None  # type: ignore[attr-defined]


def _unreadable(notebook: Notebook, plan: CellPlan, message: str) -> None:
    severity = "error" if plan.promoted or plan.role == "parameters" else "warning"
    plan.diagnostics.append(diagnostic(notebook, plan.cell, severity, "PRM001", message, 1))
    if plan.plain is None:
        plan.plain = PlainSource(code="", syntax_error=SourceNote(1, severity, "PRM001", message))

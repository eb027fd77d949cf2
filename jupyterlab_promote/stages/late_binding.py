"""Stage helper: a function that reads a global when called, called by a later step after that global was rebound.

In the notebook ``def report(v): return v + total`` reads ``total`` when it runs, so a call below ``total = 5.0``
sees 5.0, whichever cell defined it. In the package each step is a function: ``report``, defined in an earlier step
and handed on, closes over that step's ``total`` and keeps reading it (the package computed 2.0 where the notebook
computed 6.0, and said nothing). The definition is repeated in the calling step, where it reads that step's value
as the notebook's call did (PRM048); data flow then hands that step the names the repeated definition reads.

A definition is repeated only where that gives the notebook's behaviour: a plain ``def`` (no decorator, whose
registration or cache would run again) or ``name = lambda``, whose defaults read nothing rebound since (they are
evaluated where the definition runs), and which nothing changed in place since (``report.calls = 0``). Elsewhere the
call is a warning (PRM049) that names what to pass as arguments.
"""

from __future__ import annotations

import ast

from ..analysis.diagnostics import diagnostic
from ..analysis.names import BUILTINS, Statement
from .plan import Placed, Plan, Step, line_in_cell

Position = tuple[int, int]  # (notebook cell, line in the cell): the order the notebook ran statements in


def _position(placed: Placed) -> Position:
    return placed.cell.cell.index, placed.stmt.line


def function_node(stmt: Statement) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None:
    """The def or lambda ``stmt`` defines a name with."""
    node = stmt.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Lambda)
    ):
        return node.value
    return None


def _call_time_reads(stmt: Statement, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The globals the function reads when it runs. A lambda's are the names its body loads that are not its
    parameters (a nested lambda's parameters count too: repeating a definition once too often is harmless)."""
    if not isinstance(function, ast.Lambda):
        return set(stmt.call_time_reads)
    arguments = function.args
    parameters = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    parameters |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    loaded = {n.id for n in ast.walk(function.body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loaded - parameters - BUILTINS


def _definition_time_reads(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The names its defaults (and a def's annotations) read where the definition runs."""
    arguments = function.args
    parts: list[ast.AST] = [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
    if not isinstance(function, ast.Lambda):
        every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [arguments.vararg, arguments.kwarg]
        parts += [a.annotation for a in every if a is not None and a.annotation is not None]
        parts += [function.returns] if function.returns is not None else []
    return {n.id for part in parts for n in ast.walk(part) if isinstance(n, ast.Name)}


class LateBinding:
    """Which definitions a step must repeat, asked by data flow for each name a statement reads from another step."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        # name → where each step statement binds it or changes it in place, in any step
        self.bindings: dict[str, list[tuple[Position, Step]]] = {}
        self.changes: dict[str, list[Position]] = {}
        for step in plan.steps:
            for placed in step.body:
                for name in placed.stmt.binds:
                    self.bindings.setdefault(name, []).append((_position(placed), step))
                for name in placed.stmt.mutates:
                    self.changes.setdefault(name, []).append(_position(placed))
        self.repeated: dict[int, set[str]] = {}  # id(step) → the definitions repeated in it
        self.runs_at: dict[int, Position] = {}  # id(a repeated definition) → where the notebook's call ran

    def definition_to_repeat(self, name: str, producer: Step, step: Step, reader: Placed) -> Placed | None:
        """The definition of ``name`` in ``producer`` that ``reader`` (in ``step``) calls, repeated for ``step``
        when a global it reads when called was rebound since; else None."""
        repeated = self.repeated.setdefault(id(step), set())
        if producer is step or name in repeated:
            return None
        until = self.runs_at.get(id(reader), _position(reader))
        found = self._definition_in(producer, name, until)
        if found is None:
            return None
        definition, function = found
        stale = self._stale_reads(definition, function, producer, until, set())
        if not stale:
            return None
        repeated.add(name)
        what = (
            f"'{name}' (cell {definition.cell.cell.index}, the {producer.name} step) reads {', '.join(sorted(stale))}"
        )
        at = line_in_cell(reader.cell, reader.stmt.line)
        if unrepeatable := self._unrepeatable(name, definition, function, producer, until):
            message = (
                f"{what} when called, rebound since, but {unrepeatable}: in the package '{name}' keeps reading the"
                f" {producer.name} step's value, so this call can compute something else than the notebook's. Pass"
                f" {', '.join(sorted(stale))} to '{name}' as arguments"
            )
            reader.cell.diagnostics.append(
                diagnostic(self.plan.notebook, reader.cell.cell, "warning", "PRM049", message, at)
            )
            return None
        message = (
            f"{what} when called, rebound since; its definition is repeated in the {step.name} step so that this call"
            " reads the value the notebook's call read"
        )
        reader.cell.diagnostics.append(diagnostic(self.plan.notebook, reader.cell.cell, "info", "PRM048", message, at))
        copy = Placed(definition.cell, definition.stmt, "repeated")
        self.runs_at[id(copy)] = until  # what it calls is read where it is repeated, not where it was written
        return copy

    def definition_between(self, name: str, since: int, step: Step, reader: Placed) -> Placed | None:
        """The def or lambda of ``name`` in another step's cell between cell ``since`` (where ``step`` last bound
        it) and ``reader``: the one the notebook's call used (steps are ordered by what definitions read, not by
        where they are, since a definition moves to the step that first uses it), repeated for ``step``."""
        until = self.runs_at.get(id(reader), _position(reader))
        between = [
            (position, other)
            for position, other in self.bindings.get(name, [])
            if since < position[0] and position < until and other is not step
        ]
        if not between:
            return None
        position, other = max(between, key=lambda found: found[0])
        definition = next((p for p in other.body if name in p.stmt.binds and _position(p) == position), None)
        function = function_node(definition.stmt) if definition is not None else None
        if definition is None or function is None or self._unrepeatable(name, definition, function, other, until):
            return None
        reader.cell.diagnostics.append(
            diagnostic(
                self.plan.notebook,
                reader.cell.cell,
                "info",
                "PRM048",
                f"'{name}' is defined again in cell {position[0]} (the {other.name} step), between this step's"
                f" definition and this call; that definition is repeated in the {step.name} step, as the notebook's"
                " call used it",
                line_in_cell(reader.cell, reader.stmt.line),
            )
        )
        copy = Placed(definition.cell, definition.stmt, "repeated")
        self.runs_at[id(copy)] = until
        return copy

    def _unrepeatable(self, name: str, definition: Placed, function: ast.AST, producer: Step, until: Position) -> str:
        """Why running the definition again would not give the notebook's function ("" when it would)."""
        since = _position(definition)
        if getattr(function, "decorator_list", None):
            return "its decorator would run again (a registration, a cache)"
        if self._changed_between(name, since, until):
            return "it was changed in place since"
        if rebound := sorted(r for r in _definition_time_reads(function) if self._rebound(r, since, until, producer)):
            return f"its defaults read {', '.join(rebound)}, rebound since too"
        return ""

    def _definition_in(self, step: Step, name: str, until: Position) -> tuple[Placed, ast.AST] | None:
        """The last statement of ``step`` above ``until`` that binds ``name``, when it is a repeatable definition."""
        above = [p for p in step.body if name in p.stmt.binds and _position(p) < until]
        if not above:
            return None
        last = max(above, key=_position)
        function = function_node(last.stmt)
        return None if function is None else (last, function)

    def _stale_reads(
        self, definition: Placed, function: ast.AST, step: Step, until: Position, seen: set[str]
    ) -> set[str]:
        """The globals the function reads when called (through the notebook functions it calls too) that a
        statement outside its step rebinds between its definition and ``until``."""
        since, stale = _position(definition), set()
        for read in _call_time_reads(definition.stmt, function):
            if self._rebound(read, since, until, step):
                stale.add(read)
            elif read not in seen and (inner := self._defined_before(read, until)) is not None:
                seen.add(read)
                if self._stale_reads(*inner, until, seen):
                    stale.add(read)
        return stale

    def _defined_before(self, name: str, until: Position) -> tuple[Placed, ast.AST, Step] | None:
        bound = [(position, step) for position, step in self.bindings.get(name, []) if position < until]
        if not bound:
            return None
        _, step = max(bound, key=lambda found: found[0])
        found = self._definition_in(step, name, until)
        return None if found is None else (found[0], found[1], step)

    def _rebound(self, name: str, since: Position, until: Position, defining: Step) -> bool:
        return any(since < position < until and step is not defining for position, step in self.bindings.get(name, []))

    def _changed_between(self, name: str, since: Position, until: Position) -> bool:
        return any(since < position < until for position in self.changes.get(name, []))

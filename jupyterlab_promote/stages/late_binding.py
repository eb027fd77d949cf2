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
from collections.abc import Iterable

from ..analysis.diagnostics import diagnostic
from ..analysis.names import BUILTINS, Statement, root_name
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


def function_reads(stmt: Statement) -> tuple[list[str], list[str]]:
    """What a def, a class or ``name = lambda`` reads where it is defined, and what its body reads when called."""
    function = function_node(stmt)
    if isinstance(function, ast.Lambda):
        return sorted(_definition_time_reads(function)), sorted(_call_time_reads(stmt, function))
    return list(stmt.reads), list(stmt.call_time_reads)


def _definition_time_reads(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The names its defaults (and a def's annotations) read where the definition runs."""
    arguments = function.args
    parts: list[ast.AST] = [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
    if not isinstance(function, ast.Lambda):
        every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [arguments.vararg, arguments.kwarg]
        parts += [a.annotation for a in every if a is not None and a.annotation is not None]
        parts += [function.returns] if function.returns is not None else []
    return {n.id for part in parts for n in ast.walk(part) if isinstance(n, ast.Name)}


def stores_through(stmt: Statement, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that ``stmt`` stores an attribute or an item of (``Config.rate = 3.0``, ``del T[k]``)."""
    return {
        root
        for node in stmt.index.of(ast.Attribute, ast.Subscript)
        if not isinstance(node.ctx, ast.Load) and (root := root_name(node)) in names
    }


def changes_through(stmt: Statement, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that ``stmt`` changes through a part: a store (``stores_through``), or a call of a part's
    method (``Registry.items.append(v)``; ``Utils.helper(v)`` calls the class's own, and changes nothing)."""
    names = set(names)
    called = {
        root
        for call in stmt.index.of(ast.Call)
        if isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, (ast.Attribute, ast.Subscript))
        and (root := root_name(call.func.value)) in names
    }
    return stores_through(stmt, names) | called


def _returns_code(stmt: Statement) -> bool:
    """Whether calling the def ``stmt`` makes an object that holds its code: a closure, a lambda, a generator."""
    node = stmt.node
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Yield, ast.YieldFrom))
        for part in node.body
        for inner in ast.walk(part)
    )


def _held_names(stmt: Statement) -> tuple[set[str], set[str]]:
    """The names a statement puts into what it binds (``handlers = [report]``), and the names it calls: an instance
    of the notebook's class holds its methods (``m = Model()``); a def called here (``x = report(1.0)``) runs here."""
    calls = [call.func for call in stmt.index.of(ast.Call) if isinstance(call.func, ast.Name)]
    called = {id(func) for func in calls}
    put = {n.id for n in stmt.index.of(ast.Name) if isinstance(n.ctx, ast.Load) and id(n) not in called}
    return put, {func.id for func in calls}


class LateBinding:
    """Which definitions a step must repeat, asked by data flow for each name a statement reads from another step."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        # name → each step statement that binds it (where, in which step), and each that changes it in place
        # (``handlers.append(report)``), in any step
        self.bindings: dict[str, list[tuple[Position, Step, Placed]]] = {}
        self.changed_in_place: dict[str, list[tuple[Position, Step, Placed]]] = {}
        for step in plan.steps:
            for placed in step.body:
                found = (_position(placed), step, placed)
                for name in placed.stmt.binds:
                    self.bindings.setdefault(name, []).append(found)
                for name in placed.stmt.mutates:
                    self.changed_in_place.setdefault(name, []).append(found)
        # the names some step binds with a def or a lambda: most names read are variables, never repeated
        self.functions = {name for name, found in self.bindings.items() if any(function_node(b[2].stmt) for b in found)}
        # function name → where a step statement changes that function itself (``report.calls = 0``)
        self.changes = {
            name: [at for at, _, placed in self.changed_in_place.get(name, []) if stores_through(placed.stmt, {name})]
            for name in self.functions
        }
        self.decided: dict[int, set[str]] = {}  # id(step) → the names repeated in it or warned about
        self.runs_at: dict[int, Position] = {}  # id(a repeated definition) → where the notebook's call ran

    def definition_to_repeat(self, name: str, step: Step, reader: Placed) -> Placed | None:
        """The definition of ``name`` that ``reader`` (in ``step``) calls, made by another step, repeated for
        ``step`` when a global it reads when called was rebound since; else None (a warning where ``name`` holds
        such code and cannot be made again here)."""
        decided = self.decided.setdefault(id(step), set())
        if name in decided:
            return None
        until = self.runs_at.get(id(reader), _position(reader))
        last = self._last_binding(name, until)
        if last is None:
            return None
        _, producer, binding = last  # the step that made it, whoever changed it since
        if producer is step:
            return None
        function = function_node(binding.stmt)
        if function is None:
            if self._warn_held(name, binding, producer, reader, until):
                decided.add(name)
            return None
        stale = self._stale_reads(binding, function, producer, until, set())
        if not stale:
            return None
        decided.add(name)
        what = f"'{name}' (cell {binding.cell.cell.index}, the {producer.name} step) reads {', '.join(sorted(stale))}"
        if unrepeatable := self._unrepeatable(name, binding, function, producer, until):
            self._diagnose(
                reader,
                "warning",
                f"{what} when called, rebound since, but {unrepeatable}: in the package '{name}' keeps reading the"
                f" {producer.name} step's value, so this call can compute something else than the notebook's. Pass"
                f" {', '.join(sorted(stale))} to '{name}' as arguments",
            )
            return None
        self._diagnose(
            reader,
            "info",
            f"{what} when called, rebound since; its definition is repeated in the {step.name} step so that this call"
            " reads the value the notebook's call read",
        )
        return self._repeated(binding, until)

    def definition_between(self, name: str, since: int, step: Step, reader: Placed) -> Placed | None:
        """The def or lambda of ``name`` in another step's cell between cell ``since`` (where ``step`` last bound
        it, or the binding an earlier step would hand it) and ``reader``: the one the notebook's call used (steps
        are ordered by what definitions read, not by where they are, since a definition moves to the step that
        first uses it), repeated for ``step``."""
        if name not in self.functions:
            return None
        until = self.runs_at.get(id(reader), _position(reader))
        between = [b for b in self.bindings.get(name, []) if since < b[0][0] and b[0] < until and b[1] is not step]
        if not between:
            return None
        position, other, definition = max(between, key=lambda found: found[0])
        function = function_node(definition.stmt)
        if function is None or self._unrepeatable(name, definition, function, other, until):
            return None
        self._diagnose(
            reader,
            "info",
            f"'{name}' is defined again in cell {position[0]} (the {other.name} step), below the definition in cell"
            f" {since} and above this call; that definition is repeated in the {step.name} step, as the notebook's"
            " call used it",
        )
        return self._repeated(definition, until)

    def handed_on_binding(self, name: str, bound: int, reader: Placed) -> int:
        """The cell of the binding of ``name`` the notebook's read saw: ``bound``, the one an earlier step hands on,
        unless that is below ``reader`` (a definition moved to a step that runs earlier), then the last step binding
        above the reader, or -1 where none is (an untagged cell above it, or no cell, made what the notebook read)."""
        until = self.runs_at.get(id(reader), _position(reader))
        if bound < until[0]:
            return bound
        last = self._last_binding(name, until)
        return last[0][0] if last is not None else -1

    def _repeated(self, definition: Placed, until: Position) -> Placed:
        copy = Placed(definition.cell, definition.stmt, "repeated")
        self.runs_at[id(copy)] = until  # what it calls is read where it is repeated, not where it was written
        return copy

    def _warn_held(self, name: str, holder: Placed, producer: Step, reader: Placed, until: Position) -> bool:
        """PRM049 when what ``name`` holds (a lambda, a def or an instance of the notebook's class, put there where
        it was bound or since: ``handlers.append(report)``, ``@register``) reads, when called, a global rebound
        since: only a new object made here could read the new value. Whether it warned."""
        since = _position(holder)
        kept = [(holder, producer)] + [(p, s) for at, s, p in self.changed_in_place.get(name, []) if since < at < until]
        parts = list(
            dict.fromkeys(part for placed, step in kept for part in self._held_code(name, placed, step, until))
        )
        if parts:
            self._diagnose(
                reader,
                "warning",
                f"'{name}' (cell {holder.cell.cell.index}, the {producer.name} step) holds {'; '.join(parts)} when"
                f" called, rebound since: in the package that code keeps reading the {producer.name} step's values, so"
                " this can compute something else than the notebook's. Pass those values as arguments, or make"
                f" '{name}' again after they change",
            )
        return bool(parts)

    def _held_code(self, name: str, kept: Placed, step: Step, until: Position) -> list[str]:
        """What code reading a global rebound before ``until`` the statement ``kept`` (of ``step``) puts into
        ``name``, each as a phrase."""
        since, parts = _position(kept), []
        # the lambdas it makes and keeps (``ops = {"f": lambda v: v * k}``), from its node index: the statement can
        # be a table of a million numbers
        for function in kept.stmt.index.of(ast.Lambda):
            reads = _call_time_reads(kept.stmt, function)
            if stale := sorted(read for read in reads if self._rebound(read, since, until, step)):
                parts.append(f"a lambda that reads {', '.join(stale)}")
        node = kept.stmt.node
        if isinstance(node, ast.ClassDef) and node.name == name:  # its methods read them when called
            if stale := sorted(self._stale_reads(kept, node, step, until, {name})):
                parts.append(f"the methods of class {name}, which read {', '.join(stale)}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):  # a decorator put it there
            if stale := sorted(self._stale_reads(kept, node, step, until, {node.name})):
                parts.append(f"{node.name}, which reads {', '.join(stale)}")
            return parts
        for nested in kept.stmt.index.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            # made inside a block (``if …: def f()``): the block is no definition to repeat
            if nested.name == name and (stale := sorted(self._stale_reads(kept, nested, step, until, {name}))):
                parts.append(f"the {name} its block defines, which reads {', '.join(stale)}")
        return parts + self._held_definitions(name, kept, until)

    def _held_definitions(self, name: str, kept: Placed, until: Position) -> list[str]:
        """The notebook's defs and classes ``kept`` puts into ``name`` (``handlers = [report]``, ``m = Model()``)
        that read a global rebound before ``until``, each as a phrase."""
        put, called = _held_names(kept.stmt)
        parts = []
        for held in sorted(put | called):
            definition = self._definition_before(held, _position(kept), classes=True)
            if definition is None or held == name:
                continue
            if (
                held not in put
                and not isinstance(definition[1], ast.ClassDef)
                and not _returns_code(definition[0].stmt)
            ):
                continue  # a def called here runs here; a class makes an instance, a closure factory a closure
            if stale := sorted(self._stale_reads(*definition, until, {held})):
                parts.append(f"{held}, which reads {', '.join(stale)}")
        return parts

    def _diagnose(self, reader: Placed, severity: str, message: str) -> None:
        code = "PRM048" if severity == "info" else "PRM049"
        at = line_in_cell(reader.cell, reader.stmt.line)
        reader.cell.diagnostics.append(diagnostic(self.plan.notebook, reader.cell.cell, severity, code, message, at))

    def _unrepeatable(self, name: str, definition: Placed, function: ast.AST, producer: Step, until: Position) -> str:
        """Why running the definition again would not give the notebook's function ("" when it would)."""
        since = _position(definition)
        if getattr(function, "decorator_list", None):
            return "its decorator would run again (a registration, a cache)"
        if any(since < position < until for position in self.changes.get(name, [])):
            return "it was changed in place since"
        if rebound := sorted(r for r in _definition_time_reads(function) if self._rebound(r, since, until, producer)):
            return f"its defaults read {', '.join(rebound)}, rebound since too"
        return ""

    def _last_binding(self, name: str, until: Position) -> tuple[Position, Step, Placed] | None:
        """The last step statement above ``until`` that binds ``name``."""
        bound = [b for b in self.bindings.get(name, []) if b[0] < until]
        return max(bound, key=lambda found: found[0]) if bound else None

    def _definition_before(
        self, name: str, until: Position, classes: bool = False
    ) -> tuple[Placed, ast.AST, Step] | None:
        """The def, lambda (or class) that ``name`` holds at ``until``, with its step."""
        last = self._last_binding(name, until)
        if last is None:
            return None
        _, step, placed = last
        node = placed.stmt.node
        function = node if classes and isinstance(node, ast.ClassDef) else function_node(placed.stmt)
        return None if function is None else (placed, function, step)

    def _stale_reads(
        self, definition: Placed, function: ast.AST, step: Step, until: Position, seen: set[str]
    ) -> set[str]:
        """The globals the function reads when called (through the notebook functions it calls too) that a
        statement outside its step rebinds between its definition and ``until``."""
        since, stale = _position(definition), set()
        for read in _call_time_reads(definition.stmt, function):
            if self._rebound(read, since, until, step):
                stale.add(read)
            elif read not in seen and (inner := self._definition_before(read, until)) is not None:
                seen.add(read)
                if self._stale_reads(*inner, until, seen):
                    stale.add(read)
        return stale

    def _rebound(self, name: str, since: Position, until: Position, defining: Step) -> bool:
        return any(
            since < position < until and step is not defining for position, step, _ in self.bindings.get(name, [])
        )

"""Changes in place made under another name: through a function, a method or an alias.

``grow(sizes)``, where the notebook's ``def grow(seq)`` appends to ``seq``; ``record(v)``, where ``def record``
appends to the global ``sizes``; ``Logger().log(v)``, where a method of the notebook's class does; and
``alias.append(v)`` after ``alias = sizes``: each changes ``sizes`` as ``sizes.append(v)`` would, so the steps
order and hand on what it changed (stages/steps.py, stages/dataflow.py). Read in notebook order: a call uses the
def above it.
"""

from __future__ import annotations

import ast
import copy

from .cellplan import CellPlan
from .names import CellNames, Statement, changes_of_call, root_name


def read_indirect_changes(plans: list[CellPlan]) -> None:
    """Add what each statement changes under another name to its ``mutates``, and to its ``reads``: the step takes
    in the object it changes, to hand it on. Copies the statements it changes (cell_reading.py shares them)."""
    held = _Held()
    for plan in plans:
        if plan.names is None:
            continue
        statements, changed = [], False
        for stmt in plan.names.statements:
            names = held.changed_by_calls(stmt) if held.callables and not stmt.is_definition else []
            shared = [other for name in stmt.mutates + names for other in held.aliases.get(name, ())]
            if names := [n for n in dict.fromkeys(names + shared) if n not in stmt.mutates]:
                stmt = copy.copy(stmt)
                stmt.mutates = stmt.mutates + names
                stmt.reads = stmt.reads + [n for n in names if n not in stmt.reads and n not in stmt.binds]
                changed = True
            statements.append(stmt)
            held.rebind(stmt)
        if changed:
            plan.names = CellNames(statements=statements, code=plan.names.code)


class _Held:
    """What the notebook's names hold so far: its defs and classes, instances of those classes, and aliases."""

    def __init__(self) -> None:
        self.callables: dict[str, Statement] = {}  # name → its def or class statement
        self.instances: dict[str, Statement] = {}  # name → the class statement it was made by (``lg = Logger()``)
        self.aliases: dict[str, set[str]] = {}  # name → the names bound to the same object by ``a = b``

    def changed_by_calls(self, stmt: Statement) -> list[str]:
        found: list[str] = []
        for call in stmt.index.of(ast.Call):
            func = call.func
            if isinstance(func, ast.Name) and func.id in self.callables:
                definition = self.callables[func.id]
            elif (
                isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.instances
            ):
                definition = self.instances[func.value.id]
            else:
                continue
            changes = changes_of_call(definition)
            found += changes.globals
            keywords = {k.arg: k.value for k in call.keywords if k.arg}
            for position, param in changes.params:
                positional = position is not None and position < len(call.args)
                given = call.args[position] if positional else keywords.get(param)  # type: ignore[index]
                if given is not None and not isinstance(given, ast.Starred) and (root := root_name(given)):
                    found.append(root)
        return found

    def rebind(self, stmt: Statement) -> None:
        for name in stmt.binds:
            self.callables.pop(name, None)
            self.instances.pop(name, None)
            for other in self.aliases.pop(name, ()):
                self.aliases[other].discard(name)
        node = stmt.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.callables[node.name] = stmt
        if not isinstance(node, ast.Assign):
            return
        targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        value = node.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            made_by = self.callables.get(value.func.id)
            if made_by is not None and isinstance(made_by.node, ast.ClassDef):
                self.instances.update(dict.fromkeys(targets, made_by))
        elif isinstance(value, ast.Name) and value.id not in stmt.binds:
            shared = {value.id} | self.aliases.get(value.id, set())
            for target in targets:
                self.aliases[target] = set(shared)
                for other in shared:
                    self.aliases.setdefault(other, set()).add(target)

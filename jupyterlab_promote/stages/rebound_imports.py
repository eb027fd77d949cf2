"""Stage: an imported name that a step both reads and rebinds is read through an alias.

At a notebook's top level ``class DeepGP(DeepGP): ...`` subclasses the imported ``DeepGP`` and then takes its
name (gpytorch's deep GP example). Inside a step function the class statement makes ``DeepGP`` local to the
whole function, so reading the base raised ``UnboundLocalError``. The reads that came before the rebinding now
name the import by an alias (``from gpytorch.models.deep_gps import DeepGP as imported_DeepGP``); every later
read still sees the notebook's own class.
"""

from __future__ import annotations

import ast
import re

from .plan import Plan, Step

_FROM_IMPORT = re.compile(r"^from (\S+) import (\S+)(?: as (\S+))?$")
_IMPORT = re.compile(r"^import (\S+)(?: as (\S+))?$")


def alias_rebound_imports(plan: Plan) -> None:
    """Fill ``plan.import_aliases`` (id(Name) → alias) and add each alias's import to ``plan.imports``."""
    taken = set(plan.imports) | {n for c in plan.cells if c.names for s in c.names.statements for n in s.binds}
    for step in plan.steps:
        for name, reads in _reads_before_rebinding(plan, step).items():
            alias = _free_alias(name, taken)
            text = _aliased_import(plan.imports[name], alias)
            if text is None:
                continue  # `import a.b` binds `a`: no alias names it alone
            taken.add(alias)
            plan.imports[alias] = text
            plan.rebound_imports.add(name)
            plan.import_aliases.update({id(node): alias for node in reads})


def _reads_before_rebinding(plan: Plan, step: Step) -> dict[str, list[ast.Name]]:
    """Imported names the step binds somewhere, with their reads at the step's top level before the first binding.
    A name handed in (an earlier step assigned it after, or instead of, importing it) is read from its argument."""
    handed_in = set(step.inputs) | set(step.params)
    rebound = {n for placed in step.body for n in placed.stmt.binds if n in plan.imports and n not in handed_in}
    reads: dict[str, list[ast.Name]] = {}
    bound: set[str] = set()
    for placed in step.body:
        for name in (set(placed.stmt.reads) & rebound) - bound:
            node = placed.stmt.node
            loads = _loads_before_binding(node, name) if name in placed.stmt.binds else _loads(node, name)
            reads.setdefault(name, []).extend(loads)
        bound |= set(placed.stmt.binds)
    return {name: nodes for name, nodes in reads.items() if nodes}


def _loads_before_binding(node: ast.stmt, name: str) -> list[ast.Name]:
    """The loads of ``name`` that a statement evaluates before it binds ``name``: a class's bases and decorators,
    a def's decorators and defaults, an assignment's value."""
    if isinstance(node, ast.ClassDef):
        parts: list[ast.AST] = [*node.bases, *node.keywords, *node.decorator_list]
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        parts = [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)]
    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
        parts = [node.value]
    else:
        return []
    return [n for part in parts for n in _loads(part, name)]


def _loads(tree: ast.AST, name: str) -> list[ast.Name]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def _free_alias(name: str, taken: set[str]) -> str:
    alias = f"imported_{name}"
    while alias in taken:
        alias += "_"
    return alias


def _aliased_import(text: str, alias: str) -> str | None:
    if match := _FROM_IMPORT.match(text):
        return f"from {match[1]} import {match[2]} as {alias}"
    if (match := _IMPORT.match(text)) and (match[2] or "." not in match[1]):
        return f"import {match[1]} as {alias}"
    return None

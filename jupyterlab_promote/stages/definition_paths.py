"""Where the notebook's module-level definitions write a relative file.

A definition moved to module level has no ``cfg``: ``def save(v): open("saved.txt", "w")``, or Bjarte Sunde's
``EarlyStopping(..., path="checkpoint.pt")`` that so many notebooks copy, wrote into whatever folder the package ran
from. Two rewrites put those files under the artifacts directory:

* a literal the body reads when called becomes ``in_artifacts("saved.txt")``, the generated runtime's artifacts
  directory of the run in progress (``prepare_artifacts`` sets it before a step runs);
* a parameter's default is evaluated once, at import, before any run: every step's call that leaves it out passes
  it instead (``EarlyStopping(patience=7, path=f"{cfg.artifacts_dir}/checkpoint.pt")``). A default some call outside
  the steps leaves out (no ``cfg`` there either) stays as written, and so does every file of its root.

The steps then read and write those roots under the artifacts directory too (stages/paths.py). A file a
definition only reads is read where the notebook found it, ``in_notebook_dir("vocab.json")`` (or under the artifacts
directory, where a step writes it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..analysis.names import Statement
from .path_collector import Collector, path_root
from .plan import Plan


@dataclass
class DefinitionWrites:
    """What the module-level definitions write, and how each place naming such a file is rewritten."""

    roots: set[str] = field(default_factory=set)  # the roots now under the artifacts directory
    literals: set[int] = field(default_factory=set)  # ids of body literals: read through ``in_artifacts``
    # id(a body literal of a file a definition only reads) → its root: in the notebook's folder, unless a step writes it
    read_literals: dict[int, str] = field(default_factory=dict)
    left: set[str] = field(default_factory=set)  # roots written where the package runs (a default not passable)
    # id(a step's call that leaves out a defaulted path parameter) → (the parameter, its default literal) for each
    passed: dict[int, list[tuple[str, ast.Constant]]] = field(default_factory=dict)


def find_definition_writes(plan: Plan) -> None:
    """Stage: ``plan.definition_writes``, before stages/paths.py anchors the steps' paths."""
    if not plan.steps:
        return
    hoisted = [placed.stmt for items in plan.hoisted.values() for placed in items]
    step_code = [placed.stmt for step in plan.steps for placed in step.body]
    plan.definition_writes = _definition_writes(hoisted, step_code)


def _definition_writes(hoisted: list[Statement], step_code: list[Statement]) -> DefinitionWrites:
    found = DefinitionWrites()
    literals: dict[int, str] = {}  # id(body literal) → its root
    defaults: list[tuple[str, str, int | None, ast.Constant]] = []
    for statement in hoisted:
        defaults += _read_definition(statement, found, literals)
    calls = [call for s in [*hoisted, *step_code] for call in s.index.of(ast.Call)]
    in_steps = {id(call) for s in step_code for call in s.index.of(ast.Call)}
    passed: list[tuple[str, int, str, ast.Constant]] = []  # (root, id(step call), parameter, default)
    for item in defaults:
        leaving_out = [call for call in calls if _leaves_out(call, item)]
        root = _root_of(item[3]) or ""
        if all(id(call) in in_steps and passable(call) for call in leaving_out):
            passed += [(root, id(call), item[1], item[3]) for call in leaving_out]
        else:
            found.left.add(root)
    found.roots -= found.left
    found.literals = {key for key, root in literals.items() if root not in found.left}
    found.read_literals = {key: root for key, root in found.read_literals.items() if root not in found.left}
    for root, key, parameter, literal in passed:
        if root not in found.left:
            found.passed.setdefault(key, []).append((parameter, literal))
    return found


def _read_definition(
    statement: Statement, found: DefinitionWrites, literals: dict[int, str]
) -> list[tuple[str, str, int | None, ast.Constant]]:
    """One definition's written roots and literals into ``found`` and ``literals``; its defaulted path parameters
    of a written root returned."""
    collector = Collector()
    own = _parameter_defaults(statement.node)
    for _, parameter, _, literal in own:
        collector.assigned.setdefault(parameter, literal)
    collector.visit(ast.walk(statement.node))
    written = {root for node in collector.writes for root in collector.roots(node)}
    read = {root for node in collector.reads for root in collector.roots(node)} - written
    found.roots |= written
    passable_defaults = {id(literal) for *_, literal in own}
    called = _evaluated_when_called(statement.node)
    for node in collector.candidates:
        if (root := _root_of(node)) in read and id(node) in called:
            found.read_literals[id(node)] = root
        if root not in written or id(node) in passable_defaults:
            continue
        if id(node) in called:
            literals[id(node)] = root
        else:  # evaluated at import (a class attribute, a method's default): no run's artifacts yet
            found.left.add(root)
    return [item for item in own if _root_of(item[3]) in written]


def _evaluated_when_called(node: ast.stmt) -> set[int]:
    """ids of the nodes of the functions' bodies in a definition, less every parameter default."""
    functions = [n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    inside = {
        id(inner)
        for function in functions
        for part in (function.body if isinstance(function.body, list) else [function.body])
        for inner in ast.walk(part)
    }
    defaults = {
        id(inner)
        for function in functions
        for default in [*function.args.defaults, *function.args.kw_defaults]
        if default is not None
        for inner in ast.walk(default)
    }
    return inside - defaults


def _root_of(node: ast.expr) -> str | None:
    return path_root(node.value) if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _parameter_defaults(node: ast.stmt) -> list[tuple[str, str, int | None, ast.Constant]]:
    """(the definition's name, the parameter, its position or None, the default) for the string defaults of a def's parameters, or of a class's ``__init__`` (its position counted without self)."""
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    skipped = 0
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = node
    elif isinstance(node, ast.ClassDef):
        function = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        skipped = 1
    if function is None:
        return []
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    pairs: list[tuple[ast.arg, ast.expr | None, int | None]] = [
        (argument, default, position - skipped)
        for position, (argument, default) in enumerate(
            zip(positional, [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults))
        )
    ]
    pairs += [(argument, default, None) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    return [
        (node.name, argument.arg, position, default)  # type: ignore[attr-defined]
        for argument, default, position in pairs
        if isinstance(default, ast.Constant) and isinstance(default.value, str) and _root_of(default)
    ]


def _leaves_out(call: ast.Call, item: tuple[str, str, int | None, ast.Constant]) -> bool:
    """Whether ``call`` calls the definition without giving that parameter (a ``*``/``**`` argument may give it)."""
    name, parameter, position, _ = item
    if not isinstance(call.func, ast.Name) or call.func.id != name:
        return False
    if not passable(call):
        return True  # cannot tell: counts as left out, and no keyword can be added beside it
    given_by_position = position is not None and len(call.args) > position
    return not given_by_position and all(k.arg != parameter for k in call.keywords)


def passable(call: ast.Call) -> bool:
    """A step's call a keyword can be added to: no ``*``/``**`` argument that might already give it."""
    return not any(isinstance(a, ast.Starred) for a in call.args) and all(k.arg is not None for k in call.keywords)

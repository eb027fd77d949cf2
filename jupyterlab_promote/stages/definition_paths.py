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
from ..analysis.syntax_index import NodeIndex
from .path_collector import COLLECTED, Collector, path_root
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
        facts = statement.index.derived(_definition_facts)
        found.roots |= facts.written
        found.left |= facts.left
        literals.update(facts.literals)
        found.read_literals.update(facts.read_literals)
        defaults += facts.defaults
    passed: list[tuple[str, int, str, ast.Constant]] = []  # (root, id(step call), parameter, default)
    if defaults:
        calls = [call for s in [*hoisted, *step_code] for call in s.index.of(ast.Call)]
        in_steps = {id(call) for s in step_code for call in s.index.of(ast.Call)}
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


@dataclass
class _Facts:
    """What one module-level definition writes and reads, from its own nodes alone (kept on its node index)."""

    written: set[str] = field(default_factory=set)
    left: set[str] = field(default_factory=set)
    literals: dict[int, str] = field(default_factory=dict)  # id(literal read when called) → a written root
    read_literals: dict[int, str] = field(default_factory=dict)  # id(literal read when called) → a root only read
    defaults: list[tuple[str, str, int | None, ast.Constant]] = field(default_factory=list)  # of a written root


_NOTHING = _Facts()


def _definition_facts(index: NodeIndex) -> _Facts:
    node = index.nodes[0]
    collector = Collector()
    collector.visit(index.of(*COLLECTED))
    if not collector.writes and not collector.reads:
        return _NOTHING  # most definitions: no file at all
    own = _parameter_defaults(node)  # type: ignore[arg-type]
    for _, parameter, _, literal in own:  # a parameter holds its default, whatever the body assigns the name
        collector.assigned[parameter] = literal
    facts = _Facts(written={root for written in collector.writes for root in collector.roots(written)})
    read = {root for expression in collector.reads for root in collector.roots(expression)} - facts.written
    passable_defaults = {id(literal) for *_, literal in own}
    relevant = [c for c in collector.candidates if _root_of(c) in facts.written | read]
    called = _evaluated_when_called(node) if relevant else set()  # type: ignore[arg-type]
    for candidate in relevant:
        root = _root_of(candidate)
        if root in read and id(candidate) in called:
            facts.read_literals[id(candidate)] = root  # type: ignore[assignment]
        if root not in facts.written or id(candidate) in passable_defaults:
            continue
        if id(candidate) in called:
            facts.literals[id(candidate)] = root  # type: ignore[assignment]
        else:  # evaluated at import (a class attribute, a method's default): no run's artifacts yet
            facts.left.add(root)  # type: ignore[arg-type]
    facts.defaults = [item for item in own if _root_of(item[3]) in facts.written]
    return facts


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

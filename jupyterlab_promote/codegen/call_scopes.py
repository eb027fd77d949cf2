"""The bodies a step runs, and how each body's names map to the step's own names.

A step's statements run, and so do the functions it calls (``train(loader, model)``) and the methods of the
notebook's own classes it calls on an instance it built (``trainer = Trainer(model=model); trainer.fit(loader)``,
the training-loop class of many course notebooks). Readers of the model's call (batch_call) and of its
post-processing (inference) look into each body with a ``Resolve``: a name in that body → the step's name for it,
None when it is not one of the step's names.

In a method, ``self.ATTR`` is read as the name ``"self.ATTR"`` (the body is rewritten on a copy), which resolves to
what ``__init__`` stored there from its constructor's arguments (``self.model = model``), and calls of the
instance's other methods (``self.train_step(loader)``) are followed too, to a small depth.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator

from ..stages.plan import Plan, Step

Resolve = Callable[[str], str | None]  # a name in the body's scope → the step's name for it (None: unknown)
# another scope's names (a comprehension's variable may shadow the step's)
NESTED_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
_METHOD_DEPTH = 3  # trainer.fit → self.train_epoch → self.train_step: deeper chains are rare and costly to follow


def _calls(body: list[ast.stmt]) -> Iterator[ast.Call]:
    """Calls in the statements in source order, outside nested functions, classes and comprehensions."""
    for node in body:
        if isinstance(node, ast.Call):
            yield node
        yield from _calls([c for c in ast.iter_child_nodes(node) if not isinstance(c, NESTED_SCOPES)])  # type: ignore[misc]


def _parameters(call: ast.Call, function: ast.FunctionDef, method: bool = False) -> dict[str, str] | None:
    """The function's parameters → the caller's names passed to them (None for ``*args``/``**kwargs`` calls)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    names = [a.arg for a in function.args.posonlyargs + function.args.args][1 if method else 0 :]
    passed = {p: a.id for p, a in zip(names, call.args) if isinstance(a, ast.Name)}
    passed.update({k.arg: k.value.id for k in call.keywords if k.arg and isinstance(k.value, ast.Name)})
    return passed


def _own_names(function: ast.FunctionDef) -> set[str]:
    return {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}


def scopes(plan: Plan, step: Step) -> Iterator[tuple[list[ast.stmt], Resolve]]:
    """The step's own statements, then the body of each function it calls (``train(loader, model, ...)``), then of
    each method it calls on an instance of one of the notebook's classes, with how that body's names resolve to
    the step's: parameters to what the call passes; in a function the step defines, other names to themselves (a
    closure); in one defined elsewhere (another step, hoisted), to nothing."""
    yield [p.stmt.node for p in step.body], lambda name: name
    for _call, inner, resolve in _function_callees(plan, step):
        yield inner, resolve
    for call, cls, attributes in _method_calls(plan, step):
        yield from _method_bodies(cls, call.func.attr, call, lambda name: name, attributes, _METHOD_DEPTH)  # type: ignore[attr-defined]


def callees(plan: Plan, step: Step) -> Iterator[tuple[ast.Call, list[ast.stmt], Resolve]]:
    """Each call in the step's own statements of a function or of a method of the notebook's classes, with the body
    it runs and how that body's names resolve to the step's (one level: what the call returns lands in the step)."""
    yield from _function_callees(plan, step)
    for call, cls, attributes in _method_calls(plan, step):
        scope = _method_scope(cls, call.func.attr, call, lambda name: name, attributes)  # type: ignore[attr-defined]
        if scope is not None:
            yield call, *scope


def _function_callees(plan: Plan, step: Step) -> Iterator[tuple[ast.Call, list[ast.stmt], Resolve]]:
    body = [p.stmt.node for p in step.body]
    local = {n.name: n for n in body if isinstance(n, ast.FunctionDef)}
    elsewhere = [p.stmt.node for other in plan.steps if other is not step for p in other.body]
    elsewhere += [p.stmt.node for placed in plan.hoisted.values() for p in placed]
    defined = {n.name: n for n in elsewhere if isinstance(n, ast.FunctionDef)} | local
    for call in (c for c in _calls(body) if isinstance(c.func, ast.Name)):
        function = defined.get(call.func.id)  # type: ignore[attr-defined]
        passed = _parameters(call, function) if function else None
        if function is None or passed is None:
            continue
        own = _own_names(function)
        closure = local.get(function.name) is function
        yield call, function.body, (
            lambda name, p=passed, o=own, c=closure: p.get(name) if name in o or not c else name
        )


def _classes(plan: Plan) -> dict[str, ast.ClassDef]:
    nodes = [p.stmt.node for s in plan.steps for p in s.body] + [
        p.stmt.node for placed in plan.hoisted.values() for p in placed
    ]
    return {n.name: n for n in nodes if isinstance(n, ast.ClassDef)}


def _instances(plan: Plan, step: Step, classes: dict[str, ast.ClassDef]) -> dict[str, ast.Call]:
    """``obj = Class(...)`` for the notebook's own classes, in the steps up to this one (the last binding wins)."""
    found: dict[str, ast.Call] = {}
    for current in plan.steps:
        for placed in current.body:
            node = placed.stmt.node
            single = isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            call = node.value if single else None  # type: ignore[union-attr]
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in classes:
                found[node.targets[0].id] = call  # type: ignore[union-attr]
        if current is step:
            break
    return found


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


class _SelfAttributes(ast.NodeTransformer):
    """``self.ATTR`` → the name ``"self.ATTR"``, so a body's readers see one name for it."""

    def __init__(self, receiver: str) -> None:
        self.receiver = receiver

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.receiver:
            return ast.copy_location(ast.Name(f"self.{node.attr}", node.ctx), node)
        return self.generic_visit(node)


def _stored_attributes(cls: ast.ClassDef, constructor: ast.Call, resolve: Resolve) -> dict[str, str]:
    """``self.ATTR = PARAM`` in ``__init__`` → the step's name the constructor call passed for PARAM."""
    init = _methods(cls).get("__init__")
    passed = _parameters(constructor, init, method=True) if init else None
    if init is None or passed is None or not init.args.args:
        return {}
    receiver = init.args.args[0].arg
    stored: dict[str, str] = {}
    for node in ast.walk(init):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Name)):
            continue
        target = node.targets[0]
        on_self = isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
        if on_self and target.value.id == receiver and node.value.id in passed:  # type: ignore[union-attr]
            name = resolve(passed[node.value.id])
            if name is not None:
                stored[target.attr] = name  # type: ignore[union-attr]
    return stored


def _method_calls(plan: Plan, step: Step) -> Iterator[tuple[ast.Call, ast.ClassDef, dict[str, str]]]:
    """``obj.method(...)`` in the step's statements on an instance of the notebook's classes, with its class and
    what its ``__init__`` stored."""
    classes = _classes(plan)
    if not classes:
        return
    instances = _instances(plan, step, classes)
    for call in _calls([p.stmt.node for p in step.body]):
        func = call.func
        receiver = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if receiver not in instances:
            continue
        constructor = instances[receiver]
        cls = classes[constructor.func.id]  # type: ignore[attr-defined]
        yield call, cls, _stored_attributes(cls, constructor, lambda name: name)


def _method_scope(
    cls: ast.ClassDef, name: str, call: ast.Call, outer: Resolve, attributes: dict[str, str]
) -> tuple[list[ast.stmt], Resolve] | None:
    """The method's body (``self.ATTR`` rewritten) and how its names resolve; None when it cannot be followed."""
    method = _methods(cls).get(name)
    passed = _parameters(call, method, method=True) if method and method.args.args else None
    if method is None or passed is None:
        return None
    receiver = method.args.args[0].arg
    rewritten = _SelfAttributes(receiver).visit(copy.deepcopy(ast.Module(body=method.body, type_ignores=[])))

    def resolve(found: str) -> str | None:
        if found.startswith("self."):
            return attributes.get(found.removeprefix("self."))
        return outer(passed[found]) if found in passed else None

    return rewritten.body, resolve


def _method_bodies(
    cls: ast.ClassDef, name: str, call: ast.Call, outer: Resolve, attributes: dict[str, str], depth: int
) -> Iterator[tuple[list[ast.stmt], Resolve]]:
    """The method's body and those of the instance's methods it calls in turn."""
    scope = _method_scope(cls, name, call, outer, attributes) if depth else None
    if scope is None:
        return
    yield scope
    body, resolve = scope
    for inner in _calls(body):
        if isinstance(inner.func, ast.Name) and inner.func.id.startswith("self."):
            yield from _method_bodies(cls, inner.func.id.removeprefix("self."), inner, resolve, attributes, depth - 1)

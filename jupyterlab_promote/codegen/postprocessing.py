"""The post-processing the notebook's evaluation applies to the model's output, which predict and serve repeat.

Read from the statements of each evaluating step and of the functions and methods it calls (call_scopes): an
``argmax`` over the class dimension, or a ``sigmoid``. The output may cross a function boundary first: an
evaluation function returns what the model gave (``return loss, np.vstack(y_probs)``) and the step applies the
argmax to what it got back (``y_pred = np.argmax(y_prob, axis=1)``). A sigmoid or softmax before an argmax does
not change which class wins, so such a chain predicts the argmax.
"""

from __future__ import annotations

import ast

from ..stages.plan import Plan, Step
from .call_scopes import Resolve, callees, scopes
from .own_lightning import evaluation_bodies

_SIGMOID = {"sigmoid"}
_ARRAY_MODULES = {"torch", "np", "numpy"}  # torch.argmax(out, 1), np.argmax(probs, axis=1)
_CLASS_AXES = (1, -1)
_COLLECTING = ("append", "extend")  # list methods that gather the output batch by batch


def _model_calls(node: ast.AST, model: str, bound: set[str]) -> bool:
    """``node`` is the model's output: ``model(...)`` or a name bound to one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == model:
        return True
    return isinstance(node, ast.Name) and node.id in bound


def _int_argument(call: ast.Call, position: int) -> int | None:
    value = call.args[position] if len(call.args) > position else None
    value = value or next((k.value for k in call.keywords if k.arg in ("dim", "axis")), None)
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub) and isinstance(value.operand, ast.Constant):
        return -value.operand.value if isinstance(value.operand.value, int) else None
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, int) else None


def _postprocessing_of(node: ast.AST, model: str, bound: set[str]) -> str | None:
    """What one expression applies to the model's output: argmax over the class dimension, sigmoid, or none."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    method = isinstance(func, ast.Attribute) and _model_calls(func.value, model, bound)
    function = bool(node.args) and _model_calls(node.args[0], model, bound) and not method
    if name == "argmax" and method and _int_argument(node, 0) in _CLASS_AXES:
        return "argmax"
    if name in ("argmax", "max") and function and _int_argument(node, 1) in _CLASS_AXES:
        # torch.max(out, 1), np.argmax(probs, axis=1): the indices, i.e. the class
        module = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        return "argmax" if module in _ARRAY_MODULES and (name == "argmax" or module == "torch") else None
    if name in _SIGMOID and (method or function):
        return "sigmoid"
    return None


def _bound_outputs(body: list[ast.stmt], model: str) -> set[str]:
    """Names the statements bind to ``model(...)`` (the first of a tuple: the output predict keeps)."""
    bound: set[str] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign) and _model_calls(node.value, model, set()):
                bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
                # `logits, hidden = model(x, hidden)`: the first output, the one predict keeps (batch_call)
                first = [t.elts[0] for t in node.targets if isinstance(t, ast.Tuple) and t.elts]
                bound.update(t.id for t in first if isinstance(t, ast.Name) and t.id != "_")
    return bound


def _applied(body: list[ast.stmt], model: str, bound: set[str]) -> set[str]:
    return {kind for stmt in body for node in ast.walk(stmt) if (kind := _postprocessing_of(node, model, bound))}


def _derived(body: list[ast.stmt], model: str) -> set[str]:
    """Names whose value comes from the model's output: assigned from it (``y_prob = F.sigmoid(z)``), or lists it
    was appended to (``y_probs.extend(y_prob)``), to a fixed point (a loop's later lines feed its earlier ones)."""
    derived = _bound_outputs(body, model)
    nodes = [node for stmt in body for node in ast.walk(stmt)]

    def carries(value: ast.AST) -> bool:
        return any(_model_calls(n, model, derived) for n in ast.walk(value))

    while True:
        found = set(derived)
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value and carries(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _COLLECTING:
                if isinstance(node.func.value, ast.Name) and any(carries(a) for a in node.args):
                    found.add(node.func.value.id)
        if found == derived:
            return derived
        derived = found


def _returned_outputs(body: list[ast.stmt], model: str) -> set[int | None]:
    """Which parts of what the body returns carry the model's output: tuple positions, or None for the whole."""
    derived = _derived(body, model)
    returned: set[int | None] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.Return) and node.value is not None):
                continue
            parts = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for position, part in enumerate(parts):
                if any(_model_calls(n, model, derived) for n in ast.walk(part)):
                    returned.add(position if isinstance(node.value, ast.Tuple) else None)
    return returned


def _received(body: list[ast.stmt], call: ast.Call, returned: set[int | None]) -> set[str]:
    """The step's names bound to the returned parts that carry the model's output (``_, _, y_prob = f(...)``)."""
    for stmt in body:
        if not (isinstance(stmt, ast.Assign) and stmt.value is call and len(stmt.targets) == 1):
            continue
        target = stmt.targets[0]
        if isinstance(target, ast.Name) and None in returned:
            return {target.id}
        if isinstance(target, ast.Tuple):
            parts = enumerate(target.elts)
            return {t.id for i, t in parts if i in returned and isinstance(t, ast.Name) and t.id != "_"}
    return set()


def _local_names(body: list[ast.stmt], resolve: Resolve, model: str) -> list[str]:
    names = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    return sorted(n for n in names if resolve(n) == model)


def _evaluation_postprocessing(plan: Plan, step: Step, model: str) -> set[str]:
    """Post-processing one evaluating step applies, its callees' included; a callee's sigmoid that the step then
    argmaxes counts as the argmax."""
    found: set[str] = set()
    body = [p.stmt.node for p in step.body]
    chains: set[str] = set()
    for call, inner, resolve in callees(plan, step):
        for local in _local_names(inner, resolve, model):
            received = _received(body, call, _returned_outputs(inner, local))
            after = _applied(body, "", received) if received else set()
            if "argmax" in after:  # a monotone map before an argmax keeps the winning class
                chains |= _applied(inner, local, _bound_outputs(inner, local))
                found.add("argmax")
    for inner, resolve in scopes(plan, step):
        for local in _local_names(inner, resolve, model):
            found |= _applied(inner, local, _bound_outputs(inner, local))
    return found - (chains - {"argmax"})


def postprocessing(plan: Plan, model: str | None) -> str:
    """The post-processing the evaluate step applies to the model's output, when it shows exactly one.

    Recognised: ``model(x).argmax(1)``, ``torch.argmax(out, dim=1)``, ``_, pred = torch.max(out, 1)`` (``out``
    bound to ``model(x)`` in the step), ``torch.sigmoid(model(x))``, in the step or in a function it calls with the
    model (``test(loader, model)``), an argmax the step applies to what such a function returns, or the
    ``test_step`` of the notebook's own LightningModule. Anything else, or two different ones: raw outputs
    ("none"), since a guess would silently change what the model predicts.
    """
    if model is None:
        return "none"
    found: set[str] = set()
    for step in plan.steps:
        if step.metrics or step.role == "evaluate":
            found |= _evaluation_postprocessing(plan, step, model)
    if plan.loop is None and plan.lightning:  # the notebook's own LightningModule evaluates itself: `self(x)`
        for body in evaluation_bodies(plan, model):
            found |= _applied(body, "self", _bound_outputs(body, "self"))
    return found.pop() if len(found) == 1 else "none"

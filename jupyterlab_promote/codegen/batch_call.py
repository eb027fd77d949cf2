"""How the model is called on one batch in a training loop kept as written (Fabric projects).

A mapped loop's call comes from its LightningModule mapping (``lightning.forward_test``); a kept loop's is read
here from the notebook's own ``for BATCH in LOADER:`` loop (also ``enumerate``, ``tqdm``, and inside a function
the step defines or calls with the loader and model), in the train step first, then the evaluate step. The
result has forward_test's shape, so schema, predict, serve, export and the generated tests use it alike:
``{"loader": LOADER, "batch_target": "x, y", "arguments": "x.view(x.shape[0], -1)"}``.

Only what the batch itself determines is kept: statements before the call that rebind batch names are folded
into the arguments (``x = x.view(...)``), device moves (``.to(device)``, ``.cuda()``) are dropped since the
example runs where the model is, and anything else (a name from outside the batch, a rebinding under an ``if``,
a call whose result is unpacked into several values) gives no example rather than a guess.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator

from ..stages.plan import Plan
from .call_scopes import NESTED_SCOPES, Resolve, scopes


def _func_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk without entering nested functions, classes or comprehensions: their names are another scope's."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, NESTED_SCOPES):
            yield from _walk(child)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _loop_source(loop: ast.For) -> tuple[str, ast.expr] | None:
    """(loader name, batch target) of ``for T in L``, ``enumerate(L)``, ``tqdm(L)`` and their nestings."""
    source, target = loop.iter, loop.target
    while isinstance(source, ast.Call) and source.args and not isinstance(source.args[0], ast.Starred):
        name = _func_name(source.func)
        if name == "tqdm":
            source = source.args[0]
        elif name == "enumerate" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            source, target = source.args[0], target.elts[1]
        else:
            return None
    plain = all(isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Store)) for n in ast.walk(target))
    return (source.id, copy.deepcopy(target)) if isinstance(source, ast.Name) and plain else None


class _Substitute(ast.NodeTransformer):
    """Batch names → what they hold in terms of the batch as drawn; device moves dropped."""

    def __init__(self, env: dict[str, ast.expr], devices: Callable[[ast.expr], bool]) -> None:
        self.env, self.devices = env, devices
        self.outside = False  # a name read that the batch does not determine

    def visit_Name(self, node: ast.Name) -> ast.AST:
        self.outside = self.outside or node.id not in self.env
        return copy.deepcopy(self.env.get(node.id, node))

    def visit_Call(self, node: ast.Call) -> ast.AST:
        moved = self._moved(node)
        return self.visit(moved) if moved is not None else self.generic_visit(node)

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        """``[item.to(device) for item in batch]``: the batch itself, moved."""
        loop, *more = node.generators
        item = loop.target.id if isinstance(loop.target, ast.Name) else None
        moved = self._moved(node.elt)
        if not more and not loop.ifs and not loop.is_async and isinstance(moved, ast.Name) and moved.id == item:
            return self.visit(loop.iter)
        self.outside = True  # the comprehension's own variable is not a batch name
        return node

    def _moved(self, node: ast.expr) -> ast.expr | None:
        """X of ``X.to(device)``, ``X.cuda()``, ``X.cpu()``; None for anything else."""
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or node.keywords:
            return None
        func = node.func
        moves = func.attr in ("cuda", "cpu") and not node.args
        moves = moves or (func.attr == "to" and len(node.args) == 1 and self.devices(node.args[0]))
        return func.value if moves else None


class _Batch:
    """The batch as drawn (``pattern``) and what each name the loop body has bound so far holds (``env``)."""

    def __init__(self, pattern: ast.expr, devices: Callable[[ast.expr], bool]) -> None:
        self.pattern, self.devices = pattern, devices
        self.env: dict[str, ast.expr] = {n: ast.Name(n, ast.Load()) for n in _names(pattern)}

    def value(self, node: ast.expr) -> ast.expr | None:
        """``node`` over the batch as drawn; None when it reads anything else."""
        substitute = _Substitute(self.env, self.devices)
        folded = substitute.visit(copy.deepcopy(node))
        return None if substitute.outside else folded

    def bind(self, stmt: ast.stmt) -> None:
        """Follow one statement of the loop body."""
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
        if isinstance(target, ast.Name):
            self._set({target.id: self.value(stmt.value)})  # type: ignore[union-attr]
        elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
            value = stmt.value  # type: ignore[union-attr]
            if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
                self._set({e.id: self.value(v) for e, v in zip(target.elts, value.elts)})  # type: ignore[attr-defined]
            elif isinstance(value, ast.Name) and self._drawn(value.id):
                self._unpack(value.id, target)
            else:
                self._set({e.id: None for e in target.elts})  # type: ignore[attr-defined]
        else:
            stored = {n.id for n in _walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            # a method called for its effect may change the batch in place (x.resize_(...))
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                stored |= _names(stmt.value.func) & set(self.env)
            self._set(dict.fromkeys(stored))

    def _set(self, values: dict[str, ast.expr | None]) -> None:
        for name, value in values.items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value

    def _drawn(self, name: str) -> bool:
        """``name`` still holds a part of the batch exactly as drawn."""
        value = self.env.get(name)
        return isinstance(value, ast.Name) and value.id == name and name in _names(self.pattern)

    def _unpack(self, name: str, target: ast.Tuple) -> None:
        """``x, y = batch``: the batch is drawn as ``x, y`` directly."""
        parts = copy.deepcopy(target)
        if isinstance(self.pattern, ast.Name):
            self.pattern = parts
        else:
            self.pattern = _Replace(name, parts).visit(self.pattern)
        self.env = {k: v for k, v in self.env.items() if name not in _names(v)}
        self.env.update({e.id: ast.Name(e.id, ast.Load()) for e in target.elts})  # type: ignore[attr-defined]


class _Replace(ast.NodeTransformer):
    def __init__(self, name: str, parts: ast.expr) -> None:
        self.name, self.parts = name, parts

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self.parts if node.id == self.name else node


def _flat(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The loop body's statements in order, ``with torch.no_grad():`` blocks opened."""
    for stmt in body:
        if isinstance(stmt, ast.With):
            yield from _flat(stmt.body)
        else:
            yield stmt


def _example(loop: ast.For, model: str, resolve: Resolve, devices: set[str], scope: list[ast.stmt]) -> dict | None:
    """The forward example of one loop: its first call of ``model``, if that call depends on the batch alone (a
    hidden state threaded from call to call aside), or in a loop over anything else (``for t in range(n)``) on one
    whole tensor that the loop never rebinds (full-batch training)."""
    source = _loop_source(loop)
    if source is None:
        return _full_batch_example(loop, model, resolve, devices, scope)
    loader = resolve(source[0])
    if loader is None:
        return None
    batch = _Batch(source[1], lambda node: isinstance(node, ast.Name) and resolve(node.id) in devices)
    for stmt in _flat(loop.body):
        call = _model_call(stmt, model, resolve)
        if call is None:
            batch.bind(stmt)
            continue
        call_shape = _call_shape(stmt, call, loop, scope)
        if call_shape is None:
            return None
        states, output = call_shape
        arguments = [None if isinstance(a, ast.Name) and a.id in states else batch.value(a) for a in call.args]
        inputs = [a for a in arguments if a is not None]
        if len(inputs) != len(call.args) - len(states):
            return None
        pattern = batch.pattern
        drawn = pattern.elts if isinstance(pattern, ast.Tuple) else [pattern]
        return _rendered(loader, ", ".join(ast.unparse(p) for p in drawn), call, arguments, states, output)
    return None


def _full_batch_example(
    loop: ast.For, model: str, resolve: Resolve, devices: set[str], scope: list[ast.stmt]
) -> dict | None:
    """``for t in range(n): out = model(X)``: X, a tensor the loop reads whole and never rebinds, is the batch."""
    rebound = {n.id for n in _walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for stmt in _flat(loop.body):
        call = _model_call(stmt, model, resolve)
        call_shape = _call_shape(stmt, call, loop, scope) if call is not None else None
        if call is None or call_shape is None:
            continue
        states, output = call_shape
        read = [a for a in call.args if not (isinstance(a, ast.Name) and a.id in states)]
        moves = _Substitute({}, lambda n: isinstance(n, ast.Name) and resolve(n.id) in devices)
        tensor = moves.visit(copy.deepcopy(read[0])) if len(read) == 1 else None  # `model(X.to(device))`: X
        if not isinstance(tensor, ast.Name) or tensor.id in rebound or resolve(tensor.id) is None:
            return None
        arguments = [None if a is not read[0] else tensor for a in call.args]
        found = _rendered(resolve(tensor.id), tensor.id, call, arguments, states, output)  # type: ignore[arg-type]
        return found | {"full_batch": True}
    return None


def _model_call(stmt: ast.stmt, model: str, resolve: Resolve) -> ast.Call | None:
    calls = (n for n in _walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name))
    return next((c for c in calls if resolve(c.func.id) == model), None)  # type: ignore[attr-defined]


def _call_shape(stmt: ast.stmt, call: ast.Call, loop: ast.For, scope: list[ast.stmt]) -> tuple[dict, int | None] | None:
    """(the hidden states the call threads, name → the value they start from; which of the model's outputs is the
    prediction, None for the output itself), or None for a call this code does not read.

    ``out, h = model(x, h)`` threads ``h`` (a state: an argument the call's own result rebinds) and predicts with
    ``out``; ``recon, mu, logvar = model(x)`` predicts with ``recon``, the first output.
    """
    simple = isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return))
    if not simple or call.keywords or not call.args or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    target = stmt.targets[0] if isinstance(stmt, ast.Assign) and stmt.value is call else None
    if not isinstance(target, ast.Tuple):
        return {}, None
    if not all(isinstance(e, ast.Name) for e in target.elts):
        return None
    names = [e.id for e in target.elts]  # type: ignore[attr-defined]
    threaded = {a.id for a in call.args if isinstance(a, ast.Name)} & set(names)
    states = {name: _initial_state(name, loop, scope) for name in threaded}
    outputs = [i for i, name in enumerate(names) if name not in threaded and name != "_"]
    if None in states.values() or not outputs:
        return None
    return states, outputs[0]


def _initial_state(name: str, loop: ast.For, scope: list[ast.stmt]) -> ast.expr | None:
    """What ``name`` holds when the loop starts: the last assignment before it, when that is ``None`` (the
    module's own zero state: RNN, LSTM and GRU layers start from zeros for None)."""
    found: list[tuple[int, int, ast.expr]] = []  # (statement, line, value): lines compare within one cell only
    for position, stmt in enumerate(scope):
        inside = any(node is loop for node in _walk(stmt))
        for node in _walk(stmt):
            assigns = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]
            if assigns and (not inside or node.lineno < loop.lineno):
                found.append((position, node.lineno, node.value))  # type: ignore[union-attr]
        if inside:
            break
    value = max(found, key=lambda item: item[:2])[2] if found else None
    return value if isinstance(value, ast.Constant) and value.value is None else None


def _rendered(
    loader: str, batch_target: str, call: ast.Call, arguments: list, states: dict, output: int | None
) -> dict:
    """The example as the templates use it: ``arguments`` (the call on a drawn batch), ``input`` (the one tensor
    predict and serve feed) and ``forward`` (the call on ``features``, the input rows, down to the prediction)."""
    calls: dict[str, list[str]] = {"arguments": [], "forward": []}
    for argument, given in zip(call.args, arguments):
        state = states[argument.id] if given is None else None  # type: ignore[attr-defined]
        calls["arguments"].append(ast.unparse(state if given is None else given))
        calls["forward"].append(ast.unparse(state) if given is None else "features")
    found = {"loader": loader, "batch_target": batch_target, "arguments": ", ".join(calls["arguments"])}
    inputs = [a for a in arguments if a is not None]
    if len(inputs) == 1:  # predict and serve feed one tensor of rows
        chosen = "" if output is None else f"[{output}]"
        if _is_slice(inputs[0]):
            # `model(batch[:-1])`: the model takes a list of its input tensors; predict feeds the list of one
            found["listed"] = True
            calls["forward"] = [f"[{f}]" if f == "features" else f for f in calls["forward"]]
        found |= {"input": ast.unparse(inputs[0]), "forward": f"model({', '.join(calls['forward'])}){chosen}"}
    return found


def _is_slice(node: ast.expr) -> bool:
    """``batch[:-1]``, ``batch[0:1]``: a slice of the batch as drawn, a list (or tuple) of its tensors."""
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and isinstance(node.value, ast.Name)


_DEVICE_CALLS = {"device", "current_accelerator"}  # torch.device("cpu"), torch.accelerator.current_accelerator()


def _device_names(plan: Plan) -> set[str]:
    """Names the steps bind to a device: the analysis's ``device = "cuda" if ... else "cpu"``, and a
    ``torch.device(...)`` bound under an ``if`` (``if use_accel: device = ... else: device = torch.device("cpu")``)."""
    names = {s.binds[0] for step in plan.steps for p in step.body if (s := p.stmt).is_device and s.binds}
    for node in (n for step in plan.steps for p in step.body for n in _walk(p.stmt.node)):
        single = isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        if single and isinstance(node.value, ast.Call) and _func_name(node.value.func) in _DEVICE_CALLS:
            names.add(node.targets[0].id)
    return names


def kept_loop_forward(plan: Plan, model: str, available: set[str]) -> dict | None:
    """The forward example of the model's call in a kept train (else evaluate) loop over a saved loader.

    A loader built after the model (by the train step itself, ``train_loader, test_loader = make_loaders()``, and
    read by the evaluate step) is drawn once the step that builds it has run: ``until`` names that step."""
    devices = _device_names(plan)
    steps = [s for s in plan.steps if s.role == "train"] + [s for s in plan.steps if s.role == "evaluate"]
    for step in steps:
        for body, resolve in scopes(plan, step):
            loops = (n for s in body if not isinstance(s, NESTED_SCOPES) for n in _walk(s) if isinstance(n, ast.For))
            for loop in loops:
                found = _example(loop, model, resolve, devices, body)
                # the loader is a stage output the step reads
                if not found or found["loader"] not in step.inputs:
                    continue
                if found["loader"] not in available:
                    found["until"] = next(s.name for s in plan.steps if found["loader"] in s.outputs)
                return found
    return None

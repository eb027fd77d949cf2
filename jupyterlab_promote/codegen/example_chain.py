"""The notebook's own example prediction, read as predict's recipe for a model whose training loop builds its data.

A character-level RNN is trained on tensors its loop builds itself, so no batch of a saved data loader says what a
row of a file is. Such notebooks show the way themselves: after building or training the model they try it on one
example, ``output = rnn(lineToTensor("Albert"))`` then ``print(label_from_output(output, labels))``, or hand the
model to a helper, ``sample(net, 1000, prime="Anna")``. That chain, with its one text literal made the row's value,
is what predict and serve run for each row: the notebook's own encoding before the model, its own decoding after.

Read from the top-level statements of the steps (simple assignments followed, so ``input = f("x"); rnn(input)``
is one chain), kept only when every name the chain reads can be had at predict time: a value a stage saves, a
parameter, or a global of the pipeline module. The most processed candidate wins (``label_from_output(output, …)``
over ``print(output)``).
"""

from __future__ import annotations

import ast
import builtins
import copy
from dataclasses import dataclass, field

from ..read.large_literals import is_held
from ..stages.plan import Plan, Step
from .call_scopes import NESTED_SCOPES
from .mlops import handed_on, stage_name

_SHOWN_BY = {"print", "display", "pprint"}  # calls that only show a prediction: the prediction is their argument
_BUILTINS = set(dir(builtins))
_NODES = 300  # an example prediction is a line or two; larger statements are not followed


@dataclass
class ExampleChain:
    """How the notebook turns one text value into a prediction, as source for the generated ``schema.py``."""

    stage: str  # the stage of the step holding the chain (its inputs say where each saved value comes from)
    column: str  # the input column: the parameter the text literal is passed to
    value: str  # the notebook's own example value
    lines: list[str]  # the body of ``predict_value(model, value, helpers)``
    saved: list[str] = field(default_factory=list)  # values a stage saves, loaded once
    parameters: list[str] = field(default_factory=list)  # config keys
    globals: list[str] = field(default_factory=list)  # globals of the pipeline module
    where: str = ""  # "cell N, id X" of the chain's last statement
    shown: str = ""  # the notebook's own expression, on one line, for a comment


@dataclass
class _Candidate:
    depth: int
    prediction: ast.expr
    target: ast.Call
    form: str  # "input": model(ENCODE(text)); "helper": HELPER(model, text)
    step: Step
    bound: set[str]  # names the step bound before the statement
    placed: object


def find_example_chain(plan: Plan, model: str) -> ExampleChain | None:
    """The notebook's example prediction with ``model``, or None when no step shows one that predict can repeat."""
    best: _Candidate | None = None
    for step in plan.steps:
        for candidate in _candidates(step, model):
            if best is None or candidate.depth > best.depth:
                best = candidate
    return _chain(plan, model, best) if best is not None else None


def unpromoted_example(plan: Plan, model: str) -> str:
    """Where a cell no step holds tries ``model`` on an example text (``sample(net, 1000, prime="Anna")``), in
    words for the README: tagging it would give the project predict and serve. "" when none does."""
    for cell in plan.cells:
        if cell.promoted or cell.names is None:
            continue
        for statement in cell.names.statements:
            node = statement.node
            root = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
            if root is None or not _small(root) or model not in statement.reads:
                continue
            for target, _form in _example_calls(root, model):
                shown = ast.unparse(target)
                shown = shown if len(shown) <= 60 else shown[:59] + "…"
                return f"cell {cell.cell.index} (id {cell.cell.id}) tries it on an example text, `{shown}`"
    return ""


def example_definitions(plan: Plan, step: Step, model: str) -> list[str]:
    """Functions and classes ``step`` defines that its example prediction calls (``sample`` in
    ``sample(net, 1000, prime="Anna")``): its stage saves them, so predict can call them too."""
    best = max(_candidates(step, model), key=lambda c: c.depth, default=None)
    if best is None:
        return []
    defined = {
        name
        for placed in step.body
        if isinstance(placed.stmt.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for name in placed.stmt.binds
    }
    read = {n.id for n in ast.walk(best.prediction) if isinstance(n, ast.Name)}
    return sorted(read & defined & best.bound)


def _candidates(step: Step, model: str):
    """Each statement of the step that calls the model on an example text, with its most processed prediction."""
    if not any(model in placed.stmt.reads for placed in step.body):
        return  # most steps: nothing to follow
    values: dict[str, ast.expr] = {}  # small simple assignments so far, their own names followed
    bound: set[str] = set()
    for placed in step.body:
        node = placed.stmt.node
        root = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
        reads = set(placed.stmt.reads)
        small = root is not None and (model in reads or reads & values.keys() or _assigns_one(node)) and _small(root)
        if small and (model in reads or reads & values.keys()):
            followed = _Follow(values).visit(copy.deepcopy(root))
            parents = {id(c): n for n in ast.walk(followed) for c in ast.iter_child_nodes(n)}
            for target, form in _example_calls(followed, model):
                prediction, depth = _prediction(target, parents)
                yield _Candidate(depth, prediction, target, form, step, set(bound), placed)
        for name in placed.stmt.binds:
            values.pop(name, None)
        if small and _assigns_one(node) and node.targets[0].id != model:  # type: ignore[union-attr]
            followed = _Follow(values).visit(copy.deepcopy(root))
            if _small(followed):
                values[node.targets[0].id] = followed  # type: ignore[union-attr]
        bound.update(placed.stmt.binds)


def _assigns_one(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)


def _small(node: ast.AST) -> bool:
    """At most _NODES nodes, nothing defined inside: cheap to copy and to follow (a long ``x = x + 1`` chain is not).
    A literal json read stands for the thousands of nodes the parser would have made of it."""
    for count, inner in enumerate(ast.walk(node)):
        if count >= _NODES or isinstance(inner, NESTED_SCOPES) or is_held(inner):
            return False
    return True


class _Follow(ast.NodeTransformer):
    """Names bound by an earlier simple assignment of the step → the value assigned (a copy)."""

    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return copy.deepcopy(self.values[node.id])
        return node


def _texts(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_model(node: ast.AST, model: str) -> bool:
    return isinstance(node, ast.Name) and node.id == model


def _example_calls(root: ast.expr, model: str):
    """``model(ENCODE("text"))`` and ``HELPER(…, model, …, "text", …)``: one text literal, the model called once."""
    for node in ast.walk(root):
        if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
            continue
        arguments = node.args + [k.value for k in node.keywords]
        if any(isinstance(a, ast.Starred) for a in arguments):
            continue
        func = node.func
        called = _is_model(func, model) or (
            isinstance(func, ast.Attribute) and func.attr == "forward" and _is_model(func.value, model)
        )
        if called and len(node.args) == 1 and not node.keywords:
            encoded = node.args[0]
            calls_model = any(_is_model(n, model) for n in ast.walk(encoded))
            if isinstance(encoded, ast.Call) and len(_texts(encoded)) == 1 and not calls_model:
                yield node, "input"
        elif isinstance(func, ast.Name) and func.id != model:
            direct = [a for a in arguments if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            models = [a for a in arguments if _is_model(a, model)]
            nested = sum(_is_model(n, model) for a in arguments for n in ast.walk(a))
            if len(direct) == 1 and len(_texts(node)) == 1 and len(models) == 1 and nested == 1:
                yield node, "helper"


def _prediction(target: ast.Call, parents: dict[int, ast.AST]) -> tuple[ast.expr, int]:
    """The most processed value above the example call: climbing through calls that take it as an argument,
    methods called on it and subscripts of it; ``print(…)`` only shows it and ``.shape`` only describes it."""
    current: ast.expr = target
    child: ast.AST = target
    depth = 0
    while id(child) in parents:
        parent = parents[id(child)]
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in _SHOWN_BY:
            break
        if isinstance(parent, ast.Attribute) and parent.value is child:
            child = parent  # ``output.argmax``: a step only with its call, the next parent
            continue
        argument = isinstance(parent, ast.Call) and (
            any(a is child for a in parent.args) or any(k.value is child for k in parent.keywords)
        )
        method = isinstance(parent, ast.Call) and parent.func is child and isinstance(child, ast.Attribute)
        subscript = isinstance(parent, ast.Subscript) and parent.value is child
        if not (argument or method or subscript):
            break
        current = child = parent  # type: ignore[assignment]
        depth += 1
    return current, depth


def _chain(plan: Plan, model: str, found: _Candidate) -> ExampleChain | None:
    """The candidate as ``predict_value``'s body, if every name it reads can be had at predict time."""
    text = _texts(found.target)[0]
    column = _column(plan, found.target, text, found.form)
    reserved = {"model", "value", "helpers", "features", "output"}
    names = {n.id for n in ast.walk(found.prediction) if isinstance(n, ast.Name)} - {model}
    if names & reserved:
        return None  # the generated function's own names would shadow the notebook's
    saved, parameters, globals_ = [], [], []
    handed = set(handed_on(plan, found.step))
    for name in sorted(names):
        if name in found.step.params:
            parameters.append(name)
        elif name in handed or (name in found.step.inputs and name not in found.bound):
            saved.append(name)
        elif name in found.bound or name in found.step.inputs:
            return None  # made by the step and not saved
        elif name in plan.imports or name in plan.hoisted_names():
            globals_.append(name)
        elif name not in _BUILTINS:
            return None
    shown = " ".join(ast.unparse(found.prediction).split())  # one line: it goes into a comment
    prediction = _Replace(model, text, found.target).visit(found.prediction)
    if found.form == "input":
        encoded = _Replace(model, text, found.target).visit(found.target.args[0])
        lines = [f"features = {ast.unparse(encoded)}", "output = model(features)"]
        if isinstance(prediction, ast.Name) and prediction.id == "output":
            lines.append("return output")
        else:
            lines.append(f"return {ast.unparse(prediction)}")
    else:
        lines = [f"return {ast.unparse(prediction)}"]
    cell = found.placed.cell.cell  # type: ignore[attr-defined]
    return ExampleChain(
        stage=stage_name(found.step.name),
        column=column,
        value=text.value,
        lines=lines,
        saved=saved,
        parameters=parameters,
        globals=globals_,
        where=f"cell {cell.index}, id {cell.id}",
        shown=shown,
    )


class _Replace(ast.NodeTransformer):
    """The notebook's model → ``model``, its text literal → ``value``, the model's call (form "input") → ``output``."""

    def __init__(self, model: str, text: ast.Constant, target: ast.Call) -> None:
        self.model, self.text, self.target = model, text, target

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.text:
            return ast.Name("value", ast.Load())
        if node is self.target and _is_model(_called(node), self.model):  # type: ignore[arg-type]
            return ast.Name("output", ast.Load())
        if _is_model(node, self.model):
            return ast.Name("model", ast.Load())
        return super().visit(node)


def _called(call: ast.Call) -> ast.expr:
    func = call.func
    return func.value if isinstance(func, ast.Attribute) and func.attr == "forward" else func


def _column(plan: Plan, call: ast.Call, text: ast.Constant, form: str) -> str:
    """The input column's name: the keyword or parameter the text is passed to (``"text"`` when unknown)."""
    holder = call.args[0] if form == "input" else call
    if not isinstance(holder, ast.Call):
        return "text"
    for keyword in holder.keywords:
        if keyword.value is text and keyword.arg and keyword.arg.isidentifier():
            return keyword.arg
    if text in holder.args and isinstance(holder.func, ast.Name):
        definition = _definition(plan, holder.func.id)
        if definition is not None:
            parameters = [a.arg for a in definition.args.posonlyargs + definition.args.args]
            position = holder.args.index(text)
            if position < len(parameters):
                return parameters[position]
    return "text"


def _definition(plan: Plan, name: str) -> ast.FunctionDef | None:
    nodes = [p.stmt.node for s in plan.steps for p in s.body]
    nodes += [p.stmt.node for placed in plan.hoisted.values() for p in placed]
    return next((n for n in nodes if isinstance(n, ast.FunctionDef) and n.name == name), None)

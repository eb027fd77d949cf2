"""Which variable holds the notebook's model after its model step: what train saves, export and predict load."""

from __future__ import annotations

import ast
import re

from ..stages.plan import Plan, Step


def find_model(plan: Plan) -> tuple[str | None, str | None]:
    """(step, variable) holding the model after the model step.

    A model step that only defines classes leaves the instance to the train step, as Lightning notebooks do
    (``model = LitModel(); trainer.fit(model, loader)`` in one cell): then the train step's instance of one of the
    notebook's torch modules is the model, and the step that builds it is the train step."""
    step = plan.step("model")
    if step:
        # a name no later step reads is the model only where the step surely holds it on return: the step then
        # hands it on for the generated tests (modules.step_function), which read it from the pipeline's state
        candidates = step.outputs or [
            n for p in step.body if not p.stmt.is_definition for n in p.stmt.binds if _assigned_last(step, n)
        ]
        deleted = {
            t.id
            for p in step.body
            if isinstance(p.stmt.node, ast.Delete)
            for t in p.stmt.node.targets
            if isinstance(t, ast.Name)
        }
        candidates = [
            n
            for n in candidates
            if n not in deleted and not any(p.stmt.is_definition and n in p.stmt.binds for p in step.body)
        ]
        built = _built_from_notebook_classes(plan, step)
        fitted = _fitted_in_train(plan)
        ranked = sorted(
            candidates, key=lambda n: (n not in fitted, n != "model", n not in built, not _MODEL_NAME.search(n))
        )
        if ranked:
            return step.name, ranked[0]
    train = plan.loop.step if plan.loop else next((s for s in plan.steps if s.role == "train"), None)
    modules = _module_classes(plan)
    built_in_train = sorted(_built_from_notebook_classes(plan, train, modules) if train else ())
    if train is None or not built_in_train:
        return (step.name if step else None), None
    return train.name, min(built_in_train, key=lambda n: (n != "model", not _MODEL_NAME.search(n)))


def _assigned_last(step: Step, name: str) -> bool:
    """Whether the step's last statement binding ``name`` is a plain assignment at its top level, so that the name
    surely holds a value when the step returns (not a ``del``, nor a branch of an ``if``, a ``match`` or a ``with``
    whose block may not run to its end)."""
    last = next((p.stmt.node for p in reversed(step.body) if name in p.stmt.binds), None)
    return isinstance(last, (ast.Assign, ast.AnnAssign, ast.AugAssign))


def _fitted_in_train(plan: Plan) -> set[str]:
    """Names the train step calls ``fit`` on (``search.fit(X, y)``): the estimator it trains, not the one it wraps
    (``model_to_tune``, handed to ``GridSearchCV``, is never fitted itself)."""
    fitted = set()
    for step in plan.steps:
        if step.role != "train":
            continue
        for placed in step.body:
            for call in placed.stmt.index.of(ast.Call):
                func = call.func
                if isinstance(func, ast.Attribute) and func.attr in _FITS and isinstance(func.value, ast.Name):
                    fitted.add(func.value.id)
    return fitted


_FITS = {"fit", "partial_fit", "fit_transform", "fit_predict"}
_MODEL_NAME = re.compile(r"model|net|rnn|lstm|encoder|classifier", re.IGNORECASE)


def _module_classes(plan: Plan) -> set[str]:
    """The notebook's torch modules: classes derived from ``nn.Module`` or ``LightningModule``, or from another
    such class of the notebook (a helper class, ``Keeper()``, is no model)."""
    return notebook_subclasses(plan, _MODULE_BASES)


def notebook_subclasses(plan: Plan, bases: set[str]) -> set[str]:
    """The notebook's classes derived from one of ``bases`` (by last name: ``pl.LightningDataModule`` counts),
    directly or through another of the notebook's classes."""
    classes = plan.classes
    found: set[str] = set()
    while True:
        more = {
            name
            for name, node in classes.items()
            if name not in found and any(ast.unparse(base).split(".")[-1] in bases | found for base in node.bases)
        }
        if not more:
            return found
        found |= more


_MODULE_BASES = {"Module", "LightningModule"}


def _built_from_notebook_classes(plan: Plan, step, classes: set[str] | None = None) -> set[str]:
    """Names the step binds by calling a class the notebook defines (``net = Net()``, ``m = MLP(...).to(d)``)."""
    classes = set(plan.classes) if classes is None else classes
    built: set[str] = set()
    if not classes:
        return built
    for placed in step.body:
        node = placed.stmt.node
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        calls = placed.stmt.index.of(ast.Call)  # the value's calls: a target Name holds none
        if any(isinstance(call.func, ast.Name) and call.func.id in classes for call in calls):
            built.add(node.targets[0].id)
    return built


def model_built_inside_function(plan: Plan) -> str:
    """Where a model no step binds is built, in words: inside a function of a step (``main()``, as the PyTorch
    examples do), so that no stage can save it; "" when no function of the steps builds one of the notebook's
    torch modules."""
    modules = _module_classes(plan)
    for step in plan.steps:
        for placed in step.body:
            function = placed.stmt.node
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in modules:
                    cell = placed.cell.cell
                    where = f"cell {cell.index}, id {cell.id}, line {node.lineno}"
                    return f"`{node.func.id}()` is built inside `{function.name}()` ({where}) and never leaves it"
    return ""

"""The forward example of a notebook that already trains its own LightningModule: ``trainer.fit(model, loader)``
or ``trainer.fit(model, datamodule=dm)``.

Lightning hands ``training_step`` each batch of the loader given to ``fit`` (a DataModule's ``train_dataloader()``
after ``setup("fit")``); the module's own call on that batch (``x, y = batch``, then ``self(x)``) is how predict,
serve, the schema and the forward test call the model.
"""

from __future__ import annotations

import ast

from ..stages.plan import Plan, Step
from .mlops import train_step_name
from .model_output import notebook_subclasses


def own_module_forward(plan: Plan, model: str, available: set[str]) -> dict | None:
    """{loader, datamodule, batch_target, arguments} read from ``fit`` and the model class's ``training_step``;
    ``datamodule`` says ``loader`` names a LightningDataModule. None when the loader is not a saved name, the class
    is not the notebook's, or its step calls the model some other way."""
    train = plan.step(train_step_name(plan) or "")
    if train is None:
        return None
    fit = _fit_call(train, model)
    loader, datamodule = _training_data(plan, fit) if fit else (None, False)
    # saved by a stage, so the schema and the export can load it: from an earlier step, or built beside ``fit``
    # (``dm = MNISTDataModule()`` in the train cell) and handed on to the steps after
    handed = isinstance(loader, ast.Name) and (loader.id in train.inputs or loader.id in train.outputs)
    if not (handed and loader.id in available):
        return None
    step_function = _methods(plan.classes, _bound_class(plan, model)).get("training_step")
    if step_function is None or len(step_function.args.args) < 2:
        return None
    batch = step_function.args.args[1].arg
    target = _batch_target(step_function, batch)
    arguments = _self_call(step_function, {n.id for n in ast.walk(ast.parse(target)) if isinstance(n, ast.Name)})
    if arguments is None:
        return None
    return {"loader": loader.id, "datamodule": datamodule, "batch_target": target, "arguments": arguments}


def _fit_call(step: Step, model: str) -> ast.Call | None:
    for placed in step.body:
        for node in ast.walk(placed.stmt.node):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fit"):
                continue
            given = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "model"), None)
            if isinstance(given, ast.Name) and given.id == model:
                return node
    return None


def _training_data(plan: Plan, fit: ast.Call) -> tuple[ast.expr | None, bool]:
    """(what ``fit`` trains on, whether it is a LightningDataModule): ``fit(model, datamodule=dm)``,
    ``fit(model, loader)`` or ``fit(model, train_dataloaders=loader)``, and ``fit(model, dm)`` when ``dm`` is built
    from one of the notebook's LightningDataModule classes."""
    datamodule = next((k.value for k in fit.keywords if k.arg == "datamodule"), None)
    if datamodule is not None:
        return datamodule, True
    given = (
        fit.args[1]
        if len(fit.args) > 1
        else next((k.value for k in fit.keywords if k.arg == "train_dataloaders"), None)
    )
    built_by = _bound_class(plan, given.id) if isinstance(given, ast.Name) else None
    return given, built_by in notebook_subclasses(plan, {"LightningDataModule"})


def _bound_class(plan: Plan, name: str) -> str | None:
    """The class the steps call to bind ``name`` (``model = LitResnet(lr=0.05)``)."""
    for step in plan.steps:
        for placed in step.body:
            node = placed.stmt.node
            if not (isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [name]):
                continue
            if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
                return node.value.func.id
    return None


def _batch_target(function: ast.FunctionDef, batch: str) -> str:
    """``x, y`` of ``x, y = batch`` at the top of the step, else the batch parameter itself."""
    for node in function.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.value, ast.Name) and node.value.id == batch:
                target = node.targets[0]
                return (
                    ", ".join(map(ast.unparse, target.elts)) if isinstance(target, ast.Tuple) else ast.unparse(target)
                )
    return batch


def _self_call(function: ast.FunctionDef, batch_names: set[str]) -> str | None:
    """The arguments of ``self(...)`` or ``self.forward(...)`` on the batch alone (no keywords)."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or node.keywords:
            continue
        func = node.func
        own = isinstance(func, ast.Name) and func.id == "self"
        own = own or (isinstance(func, ast.Attribute) and func.attr == "forward" and ast.unparse(func.value) == "self")
        used = {n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name)}
        if own and node.args and used <= batch_names:
            return ", ".join(ast.unparse(a) for a in node.args)
    return None


def evaluation_bodies(plan: Plan, model: str) -> list[list[ast.stmt]]:
    """The bodies of the model class's ``test_step`` (else ``validation_step``) and of the methods it calls on
    ``self``, where ``self(x)`` is the model's output: what the notebook applies to it when it evaluates."""
    classes = plan.classes
    methods = _methods(classes, _bound_class(plan, model))
    first = methods.get("test_step") or methods.get("validation_step")
    if first is None:
        return []
    called = {
        node.func.attr
        for node in ast.walk(first)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func.value) == "self"
    }
    return [first.body] + [methods[name].body for name in sorted(called) if name in methods]


def _methods(classes: dict[str, ast.ClassDef], name: str | None) -> dict[str, ast.FunctionDef]:
    """The class's methods, inherited ones from other notebook classes included (the class's own win)."""
    found: dict[str, ast.FunctionDef] = {}
    seen: set[str] = set()
    while name in classes and name not in seen:
        seen.add(name)
        for node in classes[name].body:
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, node)
        bases = [b.id for b in classes[name].bases if isinstance(b, ast.Name) and b.id in classes]
        name = bases[0] if bases else None
    return found

"""Render a mapped training loop as a LightningModule and the Trainer calls that replace it.

The hooks are the notebook's own batch statements with three renames —
the model becomes ``self.model``, the criterion ``self.criterion`` and
parameters ``self.hparams.NAME`` (plain values, so checkpoints load with
``weights_only=True``) — and ``self.log`` where the loop kept running totals.
"""

from __future__ import annotations

import ast

from ..analysis.loops import StepBody
from ..stages.paths import NOTEBOOK_DIR, anchored
from ..stages.plan import MappedLoop, Plan

LIT_CLASS = "LitModel"


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return ast.copy_location(ast.parse(self.names[node.id], mode="eval").body, node)
        return node


def _renames(loop: MappedLoop) -> dict[str, str]:
    names = {loop.mapping.model: "self.model"}
    if loop.mapping.criterion:
        names[loop.mapping.criterion] = "self.criterion"
    names.update({name: f"self.hparams.{name}" for name in loop.hparams})
    return names


def _source(node: ast.AST, names: dict[str, str]) -> str:
    return ast.unparse(_Rename(names).visit(ast.parse(ast.unparse(node))))


def _hook(name: str, body: StepBody, metric: str, names: dict[str, str], returns: bool) -> list[str]:
    lines = [f"    def {name}(self, batch, batch_idx):", f"        {body.batch_target} = batch"]
    lines += [f"        {_source(stmt, names)}" for stmt in body.statements]
    lines.append(f'        self.log("{metric}", {body.loss}, on_step=False, on_epoch=True, prog_bar=True)')
    if returns:
        lines.append(f"        return {body.loss}")
    return lines


def lit_module(plan: Plan) -> str:
    """The LightningModule class for model.py."""
    loop = plan.loop
    assert loop is not None
    mapping, names = loop.mapping, _renames(loop)
    cell = loop.placed.cell.cell
    arguments = ["self", "model"] + (["criterion"] if mapping.criterion else []) + loop.hparams
    lines = [
        f"class {LIT_CLASS}(pl.LightningModule):",
        f'    """The training loop of cell {cell.index} (id {cell.id}) as Lightning hooks; the model itself is unchanged."""',
        "",
        f"    def __init__({', '.join(arguments)}):",
        "        super().__init__()",
        '        self.save_hyperparameters(ignore=["model", "criterion"])',
        "        self.model = model",
    ]
    if mapping.criterion:
        lines.append("        self.criterion = criterion")
    lines += ["", "    def forward(self, *args):", "        return self.model(*args)", ""]
    lines += _hook("training_step", mapping.train, "train_loss", names, returns=True)
    if mapping.validation:
        lines += [""] + _hook("validation_step", mapping.validation, "val_loss", names, returns=False)
    optimizer_value = _source(loop.optimizer.stmt.node.value, names)  # type: ignore[attr-defined]
    lines += ["", "    def configure_optimizers(self):", f"        {mapping.optimizer} = {optimizer_value}"]
    if loop.scheduler is not None:
        scheduler_value = _source(loop.scheduler.stmt.node.value, names)  # type: ignore[attr-defined]
        scheduler = {"scheduler": "scheduler", "interval": '"epoch"'}
        if mapping.scheduler_monitor:
            scheduler["monitor"] = '"val_loss"'
        config = ", ".join(f'"{k}": {v}' for k, v in scheduler.items())
        lines += [
            f"        scheduler = {scheduler_value}",
            f'        return {{"optimizer": {mapping.optimizer}, "lr_scheduler": {{{config}}}}}',
        ]
    else:
        lines.append(f"        return {mapping.optimizer}")
    return "\n".join(lines)


def device_after_fit(plan: Plan) -> str | None:
    """The notebook's device variable, when steps after the mapped loop's step use it (then it is rebound there)."""
    loop = plan.loop
    if loop is None or not isinstance(loop.mapping.model, str):
        return None
    devices = {s.binds[0] for step in plan.steps for p in step.body if (s := p.stmt).is_device and s.binds}
    later = plan.steps[plan.steps.index(loop.step) + 1 :]
    return next((d for d in sorted(devices) if any(d in step.inputs for step in later)), None)


def fit_statements(plan: Plan, taken: set[str]) -> str:
    """What replaces the epoch loop inside the train step."""
    loop = plan.loop
    assert loop is not None
    mapping = loop.mapping
    lit, trainer = ("lit_model", "trainer") if not {"lit_model", "trainer"} & taken else ("lit_model_pl", "trainer_pl")
    arguments = (
        [mapping.model] + ([mapping.criterion] if mapping.criterion else []) + [f"{h}={h}" for h in loop.hparams]
    )
    options = [f"max_epochs={ast.unparse(mapping.epochs)}"]
    if mapping.validation:
        options.append('monitor="val_loss"')
    if mapping.clip is not None:
        options.append(f"gradient_clip_val={ast.unparse(mapping.clip)}")
    fit = [f"train_dataloaders={ast.unparse(mapping.train_loader)}"]
    if mapping.val_loader is not None:
        fit.append(f"val_dataloaders={ast.unparse(mapping.val_loader)}")
    lines = [
        f"# The notebook's epoch loop (cell {loop.placed.cell.cell.index}) runs as {LIT_CLASS}'s hooks (model.py) under a Trainer.",
        f"{lit} = {LIT_CLASS}({', '.join(arguments)})",
        f"{trainer} = {plan.names.runtime_function('build_trainer')}(cfg, {', '.join(options)})",
        f"{trainer}.fit({lit}, {', '.join(fit)})",
    ]
    if device := device_after_fit(plan):
        lines += [
            "# Later steps evaluate where the Trainer trained (after fit Lightning hands the model back on the CPU).",
            f"{device} = {trainer}.strategy.root_device",
            f"{mapping.model}.to({device})",
        ]
    if mapping.checkpoint_path is not None:
        path = ast.unparse(mapping.checkpoint_path)
        anchor = plan.paths.anchor(mapping.checkpoint_path) if plan.paths else None
        lines += [
            "# The notebook saved the best epoch's weights here; the checkpoint callback kept them.",
            f"torch.save({plan.names.runtime_function('best_weights')}({trainer}, {lit}), {anchored(mapping.checkpoint_path, path, anchor, climbs=anchor == NOTEBOOK_DIR) if anchor else path})",
        ]
    return "\n".join(lines)


def forward_test(plan: Plan, available: set[str]) -> dict | None:
    """What the generated forward-pass test needs: the loader, the batch unpacking and the model call."""
    loop = plan.loop
    if loop is None or not isinstance(loop.mapping.train_loader, ast.Name):
        return None
    loader = loop.mapping.train_loader.id
    if loader not in available:
        return None
    batch_names = {n.id for n in ast.walk(ast.parse(loop.mapping.train.batch_target)) if isinstance(n, ast.Name)}
    for stmt in loop.mapping.train.statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == loop.mapping.model:
                used = {n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name)}
                if used <= batch_names and not node.keywords:
                    return {
                        "loader": loader,
                        "batch_target": loop.mapping.train.batch_target,
                        "arguments": ", ".join(ast.unparse(a) for a in node.args),
                    }
    return None


def _producer(plan: Plan, name: str) -> str | None:
    return next((s.name for s in plan.steps if name in s.outputs), None)


def datamodule(plan: Plan) -> str | None:
    """A LightningDataModule over the data steps, when the mapped loop names its loaders."""
    loop = plan.loop
    if loop is None or not isinstance(loop.mapping.train_loader, ast.Name):
        return None
    loaders = {"train_dataloader": loop.mapping.train_loader.id}
    if isinstance(loop.mapping.val_loader, ast.Name):
        loaders["val_dataloader"] = loop.mapping.val_loader.id
    producers = [_producer(plan, name) for name in loaders.values()]
    if None in producers:
        return None
    order = [s.name for s in plan.steps]
    until = max(producers, key=order.index)  # type: ignore[arg-type]
    lines = [
        "class DataModule(pl.LightningDataModule):",
        '    """The notebook\'s data steps as a LightningDataModule: `Trainer().fit(model, datamodule=DataModule(cfg))`."""',
        "",
        f"    def __init__(self, cfg: {plan.names.config}) -> None:",
        "        super().__init__()",
        "        self.cfg = cfg",
        "        self.state: dict[str, Any] = {}",
        "",
        "    def setup(self, stage: str | None = None) -> None:",
        "        if not self.state:",
        "            # pipeline imports this module, so import it when called; the steps alone, since",
        "            # the Trainer that uses this DataModule owns the process group that run() would close",
        f"            from .pipeline import {plan.names.run_steps}",
        "",
        f'            self.state = {plan.names.run_steps}(self.cfg, until="{until}")',
    ]
    for hook, name in loaders.items():
        lines += ["", f"    def {hook}(self):", f'        return self.state["{name}"]']
    return "\n".join(lines)

"""Assemble the package's Python modules from planned statements.

``data.py`` and ``model.py`` hold the notebook's definitions that need nothing
but imports (so DataLoader workers can pickle them); ``pipeline.py`` holds one
function per step, whose parameters and return value are the data flow the
plan computed, and ``run()`` which wires them in order.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

from ..analysis.syntax_index import NodeIndex
from ..read.lines import indent
from ..stages.plan import MODULE_ORDER, RUNTIME_FUNCTIONS, Placed, Plan, Step
from .example_chain import example_definitions
from .lightning import (
    LIT_CLASS,
    datamodule,
    device_after_fit,
    fit_statements,
    lit_module,
)
from .mode import RenderMode, Runtime
from .model_output import find_model
from .render import black_string, call_statement, list_statement, names_tuple
from .settings import settings_function
from .statements import RenderOptions, models_set_up, render

# What device boilerplate becomes, per runtime.
DEVICE = {
    "fabric": "fabric.device  # Lightning Fabric picks the device",
    "lightning": 'torch.device("cpu")  # the Trainer moves model and batches to the accelerator during fit',
}


@dataclass
class ModuleText:
    body: str
    datamodule: bool = False  # the data module holds the generated LightningDataModule


def _cell_header(placed: Placed) -> str:
    cell = placed.cell.cell
    where = f"cell {cell.index} (id {cell.id})"
    if placed.origin == "pulled":
        return f"# from untagged {where}, pulled in because this step needs it"
    if placed.origin == "setting":
        return f"# from {placed.cell.role or 'untagged'} {where}: a process-wide setting"
    if placed.origin == "moved":
        return f"# from {placed.cell.role} {where}, moved here: this step uses it first"
    if placed.origin == "repeated":
        return (
            f"# from {placed.cell.role or 'untagged'} {where}, repeated here: it reads this step's values when called"
        )
    return f"# {where}"


def _render_group(placed: list[Placed], options: RenderOptions, overrides: dict[int, str] | None = None) -> str:
    chunks: list[str] = []
    current = None
    for item in placed:
        text = (overrides or {}).get(id(item.stmt))
        if text is None:
            text = render(item, options)
        if not text.strip():
            continue
        key = (item.cell.cell.index, item.origin)
        if key != current:
            chunks.append(_cell_header(item))
            current = key
        chunks.append(text)
    return "\n".join(chunks)


def _state_update(step_function: str, arguments: list[str]) -> str:
    """``state.update(step(arguments))`` in run_steps, as black writes it (it splits the outer call first)."""
    step_call = call_statement(step_function, arguments, 2)
    if "\n" not in step_call:
        return call_statement("state.update", [step_call.strip()], 1)
    return f"    state.update(\n{step_call}\n    )"


def _literal_calls(plan: Plan) -> dict[int, list[tuple[ast.expr, str]]]:
    """id(statement) → its stored literals, each with the call that reads it back."""
    return {
        key: [(node, f'{plan.names.literal}("{stored.file}")') for node, stored in found]
        for key, found in plan.literals.items()
    }


def _passed_keywords(plan: Plan) -> dict[int, str]:
    """id(a step's call) → the keywords it gains: Trainer's root directory, a definition's defaulted path."""
    if not plan.paths:
        return {}
    return {key: "default_root_dir=cfg.artifacts_dir" for key in plan.paths.trainers} | plan.paths.passed


def _definitions_options(plan: Plan) -> RenderOptions:
    """Module-level definitions: stored literals loaded, the files they write read through the run's artifacts."""
    # only the runtime's anchor: a definition also repeated in a step (late_binding.py) has no cfg here
    anchors = {
        key: anchor
        for key, anchor in (plan.paths.literals.items() if plan.paths else ())
        if not anchor.startswith("cfg.")
    }
    return RenderOptions(
        fabric=False,
        literals=_literal_calls(plan),
        anchors=anchors,
        beside_notebook=frozenset({plan.names.notebook_path}),
        copied_modules=frozenset(plan.notebook_modules),
    )


def definitions_module(plan: Plan, module: str) -> ModuleText:
    body = _render_group(plan.hoisted[module], _definitions_options(plan))
    extra = (
        lit_module(plan)
        if module == "model" and plan.loop is not None
        else datamodule(plan) if module == "data" else None
    )
    if extra:
        body = (body + "\n\n\n" if body.strip() else "") + extra
    return ModuleText(body=body, datamodule=module == "data" and extra is not None)


def _loop_overrides(plan: Plan, step: Step) -> dict[int, str]:
    """The mapped loop becomes Trainer calls; its optimiser/scheduler move into configure_optimizers."""
    loop = plan.loop
    if loop is None or loop.step is not step:
        return {}
    taken = {n for p in step.body for n in p.stmt.binds}
    fit = fit_statements(plan, taken)
    overrides = {id(loop.placed.stmt): fit}
    # The optimiser and scheduler move into configure_optimizers; trackers only the loop read go with it, but not
    # what the Trainer's calls read in the loop's place (``n_epochs = 3`` above ``for epoch in range(n_epochs)``).
    fit_reads = {node.id for node in ast.walk(ast.parse(fit)) if isinstance(node, ast.Name)}
    trackers = [
        p
        for p in step.body
        if isinstance(p.stmt.node, ast.Assign)
        and set(p.stmt.binds) <= set(loop.placed.stmt.reads)
        and not set(p.stmt.binds) & fit_reads
    ]
    for moved in [loop.optimizer, *filter(None, [loop.scheduler]), *trackers]:
        if moved.stmt.binds and moved.stmt.binds[0] in (loop.mapping.model, loop.mapping.criterion):
            continue
        others = [p for p in step.body if p is not moved and p is not loop.placed]
        if not any(set(moved.stmt.binds) & set(p.stmt.reads) for p in others) and not set(moved.stmt.binds) & set(
            step.outputs
        ):
            overrides[id(moved.stmt)] = ""
    return overrides


def _signature(plan: Plan, step: Step, fabric: bool) -> str:
    head = [f"cfg: {plan.names.config}"] + (["fabric: Fabric"] if fabric else [])
    if step.inputs:
        head.append("*")
        head.extend(step.inputs)
    return call_statement(f"def {plan.names.step_function(step.name)}", head, 0, " -> dict[str, Any]:")


def _docstring(plan: Plan, step: Step) -> str:
    return f'"""{step.name.capitalize()} step: {step.cells_named} of {plan.notebook.name}."""'


def _captures(step: Step, options: RenderOptions) -> dict[int, str]:
    """``trainer.test(...)`` as a bare statement: its result is kept, since its entries are the metrics."""
    overrides = {}
    for placed in step.body:
        name = step.captured.get(id(placed.stmt))
        if name is None:
            continue
        lines = render(placed, options).split("\n")
        first = next(i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#"))
        lines[first] = f"{name} = {lines[first]}"
        overrides[id(placed.stmt)] = "\n".join(lines)
    return overrides


def step_function(
    plan: Plan, step: Step, kind: Runtime, literals: dict[int, list[tuple[ast.expr, str]]] | None = None
) -> str:
    names = plan.names
    lines = [_signature(plan, step, kind is Runtime.FABRIC), "    " + _docstring(plan, step)]
    written = plan.paths.written_parameters if plan.paths else set()
    for name in step.params:
        # a folder the steps write into lands under the artifacts directory, as a written literal does (paths.py)
        value = f"os.path.join(cfg.artifacts_dir, cfg.{name})" if name in written else f"cfg.{name}"
        lines.append(f"    {name} = {value}")
    # A name defined nowhere that this step also assigns is local here: its placeholder must be too.
    bound = {n for p in step.body if not p.stmt.is_definition for n in p.stmt.binds}
    for name in sorted(set(plan.undefined) & bound):
        lines.append(_undefined_placeholder(plan, name, 1))
    anchors = plan.paths.literals if plan.paths else None
    keywords = _passed_keywords(plan)
    fabric = kind is Runtime.FABRIC
    earlier = plan.steps[: plan.steps.index(step)] if fabric else []
    options = RenderOptions(
        fabric=fabric,
        device=DEVICE.get(kind),
        anchors=anchors,
        joined=plan.paths.joined if plan.paths else None,
        keywords=keywords,
        renames=plan.import_aliases,
        literals=literals,
        set_up=frozenset(models_set_up([p.stmt for s in earlier for p in s.body])),
        setup_again=plan.names.runtime_function("fabric_setup_again"),
        copied_modules=frozenset(plan.notebook_modules),
    )
    body = _render_group(step.body, options, _loop_overrides(plan, step) | _captures(step, options))
    if body.strip():
        lines.append(indent(body, "    "))
    outputs = {name: name for name in step.outputs}
    model_step, model = find_model(plan)
    if model is not None and model_step == step.name:
        outputs.setdefault(model, model)  # the model, though no later step reads it: the generated tests do
    # the definitions the notebook's example prediction calls: predict and serve load them from this stage
    outputs.update((name, name) for name in (example_definitions(plan, step, model) if model else ()))
    if plan.loop is not None and plan.loop.step is step and (device := device_after_fit(plan)):
        outputs[device] = device
    if step.metrics or step.metric_tables:
        metric_values = ", ".join(f'"{m}": {m}' for m in step.metrics)
        tables = f", tables=[{', '.join(step.metric_tables)}]" if step.metric_tables else ""
        save = names.runtime_function("save_metrics")
        lines.append(f"    {names.metrics} = {save}(cfg, {{{metric_values}}}{tables})")
        outputs[names.metrics] = names.metrics
    items = ", ".join(f'"{key}": {value}' for key, value in outputs.items())
    if step.role == "preprocess" and outputs:
        # Fitted transforms and prepared data, kept for batch inference and for inspection.
        lines.append(f'    return {names.runtime_function("save_outputs")}(cfg, "{step.name}", {{{items}}})')
    else:  # as black writes it, so that black confirms it in one pass
        lines.append(list_statement("return ", [f'"{key}": {value}' for key, value in outputs.items()], 1, "", "{}"))
    return "\n".join(lines)


def run_function(plan: Plan, mode: RenderMode) -> str:
    kind, model_output = mode.runtime, mode.model_output
    fabric = kind is Runtime.FABRIC
    names = plan.names
    lines = []
    if kind.torch:
        lines = [
            f"def {names.run}(cfg: {names.config}, until: str | None = None) -> dict[str, Any]:",
            '    """Run the steps in order; with ``until``, stop after that step."""',
            "    try:",
            f"        return {names.run_steps}(cfg, until)",
            "    finally:",
            f"        {names.runtime_function('close_distributed')}()  # all processes end together: gloo aborts at exit"
            " otherwise",
            "",
            "",
        ]
    lines += [
        f"def {names.run_steps if kind != 'plain' else names.run}(cfg: {names.config}, until: str | None = None) -> dict[str, Any]:",
        '    """Run the steps in order; with ``until``, stop after that step."""',
    ]
    if fabric:
        lines.append(f"    fabric = {names.runtime_function('build_fabric')}(cfg)")
    lines += [f"    {line}" for line in mode.seed_lines]
    lines.append(f"    {names.runtime_function('prepare_artifacts')}(cfg)")
    lines.append("    state: dict[str, Any] = {}")
    for step in plan.steps:
        arguments = ["cfg"] + (["fabric"] if fabric else [])
        inputs = ", ".join(f'"{name}": state["{name}"]' for name in step.inputs)
        if fabric and step.role == "train" and step.inputs:
            # Only what training iterates is sharded (DDP) or capped (smoke); evaluation sees whole loaders.
            arguments.append(f"**{names.runtime_function('prepare_loaders')}(cfg, fabric, {{{inputs}}})")
        else:
            arguments += [f'{name}=state["{name}"]' for name in step.inputs]
        lines.append(_state_update(names.step_function(step.name), arguments))
        lines.append(f'    if until == "{step.name}":')
        lines.append("        return state")
    if kind.torch and model_output:
        lines.append(f'    {names.runtime_function("export_model")}(cfg, state.get("{model_output}"))')
        # the deployable program (torch.export) is the export stage's (stages.py), not every run's
    lines.append("    return state")
    return "\n".join(lines)


def _undefined_placeholder(plan: Plan, name: str, depth: int = 0) -> str:
    """``name = Undefined(...)``: reaching it raises NameError naming the cell that used it."""
    cell, line = min(plan.undefined[name], key=lambda use: use[0])  # the first use in the notebook
    where = f"{plan.notebook.name}, cell {cell}, line {line}"  # never a path: output must not depend on where it ran
    undefined = plan.names.runtime_function("Undefined")
    return call_statement(f"{name} = {undefined}", [black_string(name), black_string(where)], depth)


def pipeline_module(plan: Plan, mode: RenderMode) -> ModuleText:
    parts = []
    parts.append(f"{plan.names.steps} = {names_tuple([step.name for step in plan.steps])}")
    for name in plan.undefined:
        parts.append(_undefined_placeholder(plan, name))
    literals = _literal_calls(plan)
    definitions = _render_group(plan.hoisted["pipeline"], _definitions_options(plan))
    if definitions.strip():
        parts.append(definitions)
    if plan.settings:
        parts.append(settings_function(plan))
    for step in plan.steps:
        parts.append(step_function(plan, step, mode.runtime, literals))
    parts.append(run_function(plan, mode))
    return ModuleText(body="\n\n\n".join(parts))


def module_imports(plan: Plan, module: str, body: str, kind: Runtime) -> list[str]:
    """Import lines for exactly the names the module's code reads."""
    tree = ast.parse(body)
    indexes = [NodeIndex(node) for node in tree.body]  # one walk, shared by the questions below
    names = [name for index in indexes for name in index.of(ast.Name)]
    loaded = {n.id for n in names if isinstance(n.ctx, ast.Load)}
    bound_here = {n.id for n in names if isinstance(n.ctx, ast.Store) and n.col_offset == 0}
    bound_here |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}
    # An import a step rebinds (its earlier reads go through an alias) is needed only where a read can reach it.
    loaded -= {name for name in plan.rebound_imports if not _reaches_module(tree.body, indexes, name)}
    imports = _notebook_imports(plan, loaded, bound_here)
    if plan.star_names & loaded:  # ruff's F405 at each use is marked as the author's lint (lint.py)
        imports += [f"{star}  # noqa: F403" for star in plan.star_imports]
    if "import tqdm" in imports and "tqdm.auto." in body:  # the notebook front end, rewritten (frontends.py)
        imports[imports.index("import tqdm")] = "import tqdm.auto"
    local = _sibling_imports(plan, module, loaded, bound_here)
    if "Any" in loaded and module != "pipeline":
        imports.append("from typing import Any")
    runtime = [
        plan.names.imported(public, plan.names.runtime_function(public))
        for public in sorted(RUNTIME_FUNCTIONS)
        if module == "pipeline" and plan.names.runtime_function(public) in loaded
    ]
    anchors = set(plan.paths.literals.values()) if plan.paths else set()
    for public, local_name in (
        ("in_artifacts", plan.names.artifacts_path),
        ("in_notebook_dir", plan.names.notebook_path),
    ):
        if local_name in loaded and local_name in anchors:  # a definition's file (stages/definition_paths.py)
            runtime = sorted([*runtime, plan.names.imported(public, local_name)])
    if runtime:
        local.append(f"from .runtime import {', '.join(runtime)}")
    if module == "pipeline":
        imports += _pipeline_imports(loaded, body, kind)
    return _grouped(imports) + [""] + sorted(local)


def _reaches_module(statements: list[ast.stmt], indexes: list[NodeIndex], name: str) -> bool:
    """Whether a read of ``name`` can reach the module's binding: outside functions, or in one that never binds it."""
    for node, index in zip(statements, indexes):
        names = [n for n in index.of(ast.Name) if n.id == name]
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if names:
                return True
            continue
        binds = any(isinstance(n.ctx, ast.Store) for n in names) or any(
            n.name == name for n in index.of(ast.ClassDef, ast.FunctionDef)
        )
        if names and not binds:
            return True
    return False


def _notebook_imports(plan: Plan, loaded: set[str], bound_here: set[str]) -> list[str]:
    """The notebook's own imports of the names read, and the few the rewritten code adds (torch, random, numpy)."""
    # One Lightning namespace throughout; a `pl` of the notebook's that is no Lightning (imblearn's pipeline) stays.
    lightning_pl = "pl" not in plan.imports or "lightning" in plan.imports["pl"]
    imports = sorted(
        {
            plan.imports[name]
            for name in loaded
            if name in plan.imports and name not in bound_here and (name != "pl" or not lightning_pl)
        }
    )
    if "pl" in loaded and lightning_pl:
        imports.append("import pytorch_lightning as pl")
    if "torch" in loaded and "torch" not in plan.imports:
        imports.append("import torch")
    imports += [
        f"import {name}"
        for name in sorted(loaded & {"random", "numpy"})
        if name not in plan.imports and name not in bound_here
    ]
    return imports


def _sibling_imports(plan: Plan, module: str, loaded: set[str], bound_here: set[str]) -> list[str]:
    """``from .data import …`` for hoisted definitions of earlier modules, and the Config."""
    hoisted = plan.hoisted_names()
    if plan.loop is not None:
        hoisted[LIT_CLASS] = "model"
    local = []
    for other in MODULE_ORDER:
        if other == module:
            break
        names = sorted(n for n in loaded if hoisted.get(n) == other and n not in bound_here)
        if names:
            local.append(f"from .{other} import {', '.join(names)}")
    if plan.names.config in loaded:
        local.append(f"from .config import {plan.names.imported('Config', plan.names.config)}")
    if plan.literals and plan.names.literal in loaded:
        local.append(f"from .literals import {plan.names.imported('load_literal', plan.names.literal)}")
    return local


def _pipeline_imports(loaded: set[str], body: str, kind: Runtime) -> list[str]:
    """What pipeline.py's generated wiring needs: typing, Fabric, seed_everything, os for a joined path."""
    imports = []
    if "Any" in loaded or "dict[str, Any]" in body:
        imports.append("from typing import Any")
    if "Fabric" in loaded:
        imports.append("from lightning_fabric import Fabric")
    if "os.path.join(cfg.artifacts_dir" in body or "os.path.join(cfg.notebook_dir" in body:
        imports.append("import os")
    if "seed_everything" in loaded:
        source = "pytorch_lightning" if kind is Runtime.LIGHTNING else "lightning_fabric"
        imports.append(f"from {source} import seed_everything")
    return imports


def _grouped(imports: list[str]) -> list[str]:
    """isort's order: standard library, then third-party, each alphabetical, a blank line between."""
    stdlib = sorted(
        {line for line in imports if line.split()[1].split(".")[0] in sys.stdlib_module_names}, key=_import_key
    )
    third = sorted(set(imports) - set(stdlib), key=_import_key)
    return stdlib + ([""] if stdlib and third else []) + third


def _import_key(line: str) -> tuple[str, str]:
    return (line.split()[1].lower(), line)

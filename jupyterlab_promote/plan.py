"""Stage 2 of promotion: cells → steps with explicit data flow.

The plan says, for every promoted statement, which step function it lands in,
what each step takes from earlier steps and hands to later ones, which
definitions move to module level, and which statements are pulled in from
untagged cells. Code generation only renders this plan.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .analysis import CellPlan, analyse, diagnostic
from .diagnostics import Diagnostic, has_errors
from .loops import LoopMapping, match_epoch_loop
from .names import BUILTINS, Statement
from .notebook import Notebook, content_hash
from .roles import PIPELINE_ROLES

_SEED_CALLS = {"manual_seed", "seed", "seed_everything", "set_seed", "manual_seed_all"}
# Modules that hoisted definitions of each role go to; later modules may import earlier ones.
MODULE_ORDER = ["data", "model", "pipeline"]
_ROLE_MODULE = {"data": "data", "preprocess": "data", "model": "model"}


@dataclass
class Parameter:
    name: str
    value: object
    source: str  # the literal as written
    cell: CellPlan
    line: int
    comment: str = ""

    @property
    def type_name(self) -> str:
        return type(self.value).__name__ if self.value is not None else "object"

    @property
    def flag(self) -> str:
        return "--" + self.name.lower().replace("_", "-")


@dataclass
class Placed:
    """A statement placed in a step or module, with where it came from."""

    cell: CellPlan
    stmt: Statement
    origin: str = "tagged"  # "tagged" | "pulled" (from an untagged cell) | "moved" (from a later step)


@dataclass
class Step:
    name: str
    role: str
    cells: list[CellPlan] = field(default_factory=list)
    body: list[Placed] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    metric_tables: list[str] = field(
        default_factory=list
    )  # results of trainer.test()/validate(): their entries are metrics

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "cells": [c.cell.index for c in self.cells],
            "inputs": self.inputs,
            "outputs": self.outputs,
        }


@dataclass
class MappedLoop:
    """A raw training loop that becomes LightningModule hooks plus a Trainer."""

    step: Step
    placed: Placed  # the epoch loop statement
    mapping: LoopMapping
    optimizer: Placed  # optimizer = Opt(model.parameters(), ...)
    scheduler: Placed | None
    hparams: list[str]  # parameters the hooks read (become save_hyperparameters values)


@dataclass
class Plan:
    notebook: Notebook
    package: str
    cells: list[CellPlan]
    parameters: list[Parameter] = field(default_factory=list)
    seed: str | None = None  # name of the parameter holding the seed
    steps: list[Step] = field(default_factory=list)
    hoisted: dict[str, list[Placed]] = field(default_factory=lambda: {m: [] for m in MODULE_ORDER})
    imports: dict[str, str] = field(default_factory=dict)  # bound name → import statement
    requirements: list[str] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    content_hash: str = ""
    strict: bool = False  # --strict: pulling in untagged code is an error
    loop: MappedLoop | None = None
    torch: bool = False  # promoted code uses PyTorch
    lightning: bool = False  # promoted code already uses Lightning (its own LightningModule/Trainer)

    @property
    def ok(self) -> bool:
        return not has_errors(self.all_diagnostics)

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        found = [d for cell in self.cells for d in cell.diagnostics] + self.diagnostics
        return sorted(found, key=lambda d: (d.cell_index if d.cell_index is not None else -1, d.line or 0))

    def hoisted_names(self) -> dict[str, str]:
        return {p.stmt.binds[0]: module for module, placed in self.hoisted.items() for p in placed}

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "notebook": str(self.notebook.path),
            "package": self.package,
            "content_hash": self.content_hash,
            "cells": [c.to_json() for c in self.cells],
            "steps": [s.to_json() for s in self.steps],
            "parameters": [
                {"name": p.name, "value": p.source, "type": p.type_name, "flag": p.flag} for p in self.parameters
            ],
            "dependencies": self.requirements,
            "diagnostics": [d.to_json() for d in self.all_diagnostics],
        }


def package_name(text: str) -> str:
    """A valid, PEP 8 package name from a notebook stem or user input."""
    name = re.sub(r"\W+", "_", text.strip().lower()).strip("_") or "promoted"
    return f"nb_{name}" if name[0].isdigit() else name


# --- stage: parameters ---------------------------------------------------------------


def _parameters(plan: Plan) -> list[Placed]:
    """Literal assignments → parameters; seeding → plan.seed; anything else runs first."""
    prelude: list[Placed] = []
    seeds: list[ast.expr] = []
    for cell in plan.cells:
        if cell.role != "parameters" or not cell.names:
            continue
        lines = cell.plain.code.splitlines() if cell.plain else []
        for stmt in cell.names.statements:
            node = stmt.node
            if stmt.is_literal and isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = ast.literal_eval(node.value)  # type: ignore[arg-type]
                source = ast.get_source_segment(cell.plain.code, node.value) or repr(value)  # type: ignore[union-attr, arg-type]
                text = lines[stmt.line - 1] if stmt.line - 1 < len(lines) else ""
                comment = text.split("#", 1)[1].strip() if "#" in text else ""
                for target in targets:
                    plan.parameters = [p for p in plan.parameters if p.name != target.id]  # type: ignore[attr-defined]
                    plan.parameters.append(Parameter(target.id, value, source, cell, stmt.line, comment))  # type: ignore[attr-defined]
            elif _is_seed_call(node):
                seeds.append(node.value.args[0])  # type: ignore[attr-defined]
            elif stmt.is_import:
                continue
            else:
                cell.diagnostics.append(
                    diagnostic(
                        plan.notebook,
                        cell.cell,
                        "warning",
                        "PRM019",
                        "not a literal assignment: it cannot become a typed parameter and runs at the start of the first step",
                        stmt.line,
                    )
                )
                prelude.append(Placed(cell, stmt))
    for seed in seeds:
        if isinstance(seed, ast.Name) and any(p.name == seed.id for p in plan.parameters):
            plan.seed = seed.id
        elif isinstance(seed, ast.Constant) and isinstance(seed.value, int) and plan.seed is None:
            name = "seed" if not any(p.name == "seed" for p in plan.parameters) else "promote_seed"
            cell = next(c for c in plan.cells if c.role == "parameters")
            plan.parameters.append(
                Parameter(name, seed.value, repr(seed.value), cell, seed.lineno, "random seed (seed_everything)")
            )
            plan.seed = name
    return prelude


def _is_seed_call(node: ast.stmt) -> bool:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and len(node.value.args) == 1):
        return False
    func = node.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _SEED_CALLS and isinstance(node.value.args[0], (ast.Name, ast.Constant))


# --- stage: imports ------------------------------------------------------------------


def _import_table(plan: Plan) -> None:
    """One import statement per bound name, from any cell (promoted and untagged first)."""
    ordered = [c for c in plan.cells if c.role != "skip"] + [c for c in plan.cells if c.role == "skip"]
    for cell in ordered:
        if not cell.names:
            continue
        for stmt in cell.names.statements:
            node = stmt.node
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    plan.imports.setdefault(bound, text)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                for alias in node.names:
                    if alias.name == "*":
                        cell.diagnostics.append(
                            diagnostic(
                                plan.notebook,
                                cell.cell,
                                "warning",
                                "PRM002",
                                f"'from {node.module} import *' hides which names the code uses; import them by name",
                                stmt.line,
                            )
                        )
                        continue
                    bound = alias.asname or alias.name
                    text = f"from {node.module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    plan.imports.setdefault(bound, text)
        if cell.plain and cell.plain.needs_subprocess and cell.role not in (None, "skip"):
            plan.imports.setdefault("subprocess", "import subprocess")
        if cell.plain and cell.role not in (None, "skip"):
            plan.requirements.extend(r for r in cell.plain.requirements if r not in plan.requirements)
    namespaces = {text.split()[1].split(".")[0] for text in plan.imports.values()}
    if {"pytorch_lightning", "lightning"} <= namespaces:
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                None,
                "warning",
                "PRM008",
                "the notebook imports both pytorch_lightning and lightning.pytorch; their classes do not mix ('model must be a LightningModule'); the package uses pytorch_lightning only",
            )
        )


# --- stage: steps --------------------------------------------------------------------


def _steps(plan: Plan, prelude: list[Placed]) -> None:
    by_name: dict[str, Step] = {}
    order: list[str] = []
    for cell in plan.cells:
        if not cell.promoted or cell.role in ("parameters", "functions") or not cell.names:
            continue
        name = cell.step or cell.role or ""
        if name not in by_name:
            by_name[name] = Step(name=_identifier(name), role=cell.role or "step")
            order.append(name)
        by_name[name].cells.append(cell)
    builtin = [r for r in PIPELINE_ROLES if r in by_name]
    custom = [n for n in order if n not in PIPELINE_ROLES]
    steps = [by_name[r] for r in builtin]
    for name in custom:
        first = by_name[name].cells[0].cell.index
        before = [i for i, s in enumerate(steps) if s.cells[0].cell.index < first]
        steps.insert(before[-1] + 1 if before else 0, by_name[name])
    plan.steps = steps
    for step in steps:
        if step.role == "step":
            _infer_step_role(plan, step)
    if not steps:
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                None,
                "error",
                "PRM018",
                "no promoted cells: tag cells with promote:data, promote:model, promote:train, … (or add '# promote: train' as a cell's first line)",
            )
        )
        return
    functions = [
        Placed(c, s)
        for c in plan.cells
        if c.role == "functions" and c.names
        for s in c.names.statements
        if not s.is_import
    ]
    steps[0].body.extend(prelude + [p for p in functions if not p.stmt.is_definition])
    for step in steps:
        step.body.extend(Placed(c, s) for c in step.cells for s in c.names.statements if not s.is_import)  # type: ignore[union-attr]
    # Definitions from functions cells always go to module level or the first step.
    steps[0].body[:0] = [p for p in functions if p.stmt.is_definition]


# When a custom (Kale) step's cells suggest several roles, the strongest wins.
_ROLE_STRENGTH = ["train", "evaluate", "export", "model", "preprocess", "data"]


def _infer_step_role(plan: Plan, step: Step) -> None:
    """A custom step (Kale's step:/block:) plays the role its code plays, so Kale notebooks need no retagging."""
    suggested = {c.suggested_role for c in step.cells}
    role = next((r for r in _ROLE_STRENGTH if r in suggested), None)
    if role is None:
        return
    step.role = role
    first = step.cells[0]
    first.diagnostics.append(
        diagnostic(
            plan.notebook,
            first.cell,
            "info",
            "PRM010",
            f"step '{step.name}' runs as the {role} step, from what its code does",
        )
    )


def _identifier(name: str) -> str:
    return package_name(name)


# --- stage: hoisting -----------------------------------------------------------------


def _hoistable(plan: Plan) -> dict[str, Placed]:
    """Definitions that read only imports, builtins and other such definitions."""
    candidates: dict[str, Placed] = {}
    seen: dict[str, int] = {}
    for cell in plan.cells:
        if cell.role in ("skip", "parameters", "imports") or not cell.names:
            continue
        for stmt in cell.names.statements:
            for name in stmt.binds:
                seen[name] = seen.get(name, 0) + 1
            if stmt.is_definition:
                candidates[stmt.binds[0]] = Placed(cell, stmt, "tagged" if cell.promoted else "pulled")
    candidates = {n: p for n, p in candidates.items() if seen.get(n) == 1}
    params = {p.name for p in plan.parameters}
    changed = True
    while changed:
        changed = False
        for name, placed in list(candidates.items()):
            needs = set(placed.stmt.reads) | set(placed.stmt.call_time_reads)
            bad = {n for n in needs if n not in BUILTINS and n not in plan.imports and n not in candidates}
            if bad or needs & params:
                del candidates[name]
                changed = True
    return candidates


def _module_for(placed: Placed, hoisted: dict[str, Placed], placement: dict[str, str]) -> str:
    role = placed.cell.role or ""
    module = _ROLE_MODULE.get(role, "pipeline")
    for dependency in set(placed.stmt.reads) | set(placed.stmt.call_time_reads):
        if dependency in placement:
            module = max(module, placement[dependency], key=MODULE_ORDER.index)
    return module


# --- stage: data flow ----------------------------------------------------------------


def _data_flow(plan: Plan) -> None:
    hoistable = _hoistable(plan)
    used_hoisted: set[str] = set()
    params = {p.name for p in plan.parameters}
    available: dict[str, Step] = {}  # name → the last step that bound or changed it
    untagged = [c for c in plan.cells if c.role is None and c.names]
    for index, step in enumerate(plan.steps):
        local: set[str] = set()
        binds_anywhere = {n for p in step.body for n in p.stmt.binds}
        position = 0
        while position < len(step.body):
            placed = step.body[position]
            stmt = placed.stmt
            if stmt.is_definition and stmt.binds[0] in hoistable and hoistable[stmt.binds[0]].stmt is stmt:
                used_hoisted.add(stmt.binds[0])
                position += 1
                continue
            reads = list(stmt.reads)
            reads += [n for n in stmt.call_time_reads if n not in binds_anywhere]
            inserted = False
            for name in reads:
                if name in local or name in BUILTINS:
                    continue
                if name in available:
                    if name not in step.inputs:
                        step.inputs.append(name)
                    producer = available[name]
                    if name not in producer.outputs:
                        producer.outputs.append(name)
                elif name in params:
                    if name not in step.params:
                        step.params.append(name)
                elif name in plan.imports:
                    continue
                elif name in hoistable:
                    _use_hoisted(plan, name, hoistable, used_hoisted, placed)
                elif pulled := _pull_from_untagged(plan, name, placed, untagged, step):
                    step.body[position:position] = pulled
                    binds_anywhere |= {n for p in pulled for n in p.stmt.binds}
                    inserted = True
                    break
                elif moved := _move_later_definition(plan, name, index, placed):
                    step.body.insert(position, moved)
                    binds_anywhere |= set(moved.stmt.binds)
                    inserted = True
                    break
                else:
                    _undefined(plan, name, placed, index)
                    local.add(name)
            if inserted:
                continue  # process the inserted statements first
            local.update(stmt.binds)
            for name in stmt.binds + [m for m in stmt.mutates if m not in plan.imports]:
                available[name] = step
            position += 1
    placement: dict[str, str] = {}
    for name in sorted(used_hoisted, key=lambda n: (hoistable[n].cell.cell.index, hoistable[n].stmt.line)):
        placement[name] = _module_for(hoistable[name], hoistable, placement)
        plan.hoisted[placement[name]].append(hoistable[name])
    for step in plan.steps:
        step.body = [
            p
            for p in step.body
            if not (
                p.stmt.is_definition and p.stmt.binds[0] in used_hoisted and hoistable[p.stmt.binds[0]].stmt is p.stmt
            )
        ]
        if step.role in ("data", "preprocess"):
            _warn_local_classes(plan, step, hoistable)


def _warn_local_classes(plan: Plan, step: Step, hoistable: dict[str, Placed]) -> None:
    """A class that reads notebook state stays inside its step: its instances cannot be pickled."""
    for placed in step.body:
        if not isinstance(placed.stmt.node, ast.ClassDef):
            continue
        state = [
            n for n in placed.stmt.call_time_reads if n not in plan.imports and n not in hoistable and n not in BUILTINS
        ]
        placed.cell.diagnostics.append(
            diagnostic(
                plan.notebook,
                placed.cell.cell,
                "warning",
                "PRM005",
                f"class {placed.stmt.binds[0]} reads notebook state ({', '.join(state) or 'parameters'}) when called, so it stays "
                f"inside the {step.name} step; DataLoader workers started with 'spawn' cannot pickle it. Pass those values to its constructor",
                placed.stmt.line + _offset(placed.cell),
            )
        )


def _use_hoisted(plan: Plan, name: str, hoistable: dict[str, Placed], used: set[str], reader: Placed) -> None:
    if name in used:
        return
    used.add(name)
    definition = hoistable[name]
    if definition.origin == "pulled":
        _warn_pulled(plan, reader, definition.cell, name)
    for dependency in set(definition.stmt.reads) | set(definition.stmt.call_time_reads):
        if dependency in hoistable:
            _use_hoisted(plan, dependency, hoistable, used, definition)


def _warn_pulled(plan: Plan, reader: Placed, source: CellPlan, name: str) -> None:
    role = reader.cell.role or "step"
    reader.cell.diagnostics.append(
        diagnostic(
            plan.notebook,
            reader.cell.cell,
            "error" if plan.strict else "warning",
            "PRM003",
            f"'{name}' is defined only in untagged cell {source.cell.index} (id {source.cell.id}); its definition was pulled in. Tag that cell to make this explicit",
            reader.stmt.line + _offset(reader.cell),
            suggestion={
                "action": "set-role",
                "cell_index": source.cell.index,
                "cell_id": source.cell.id,
                "role": role if role != "step" else "functions",
            },
            related_cells=[{"index": source.cell.index, "id": source.cell.id}],
        )
    )


def _offset(cell: CellPlan) -> int:
    return cell.plain.line_offset if cell.plain else 0


def _pull_from_untagged(plan: Plan, name: str, reader: Placed, untagged: list[CellPlan], step: Step) -> list[Placed]:
    before = [c for c in untagged if c.cell.index < reader.cell.cell.index and name in c.names.binds]  # type: ignore[union-attr]
    source = before[-1] if before else next((c for c in untagged if name in c.names.binds), None)  # type: ignore[union-attr]
    if source is None:
        return []
    statements = [s for s in source.names.statements if name in s.binds and not s.is_import]  # type: ignore[union-attr]
    pulled = [Placed(source, s, "pulled") for s in statements]
    already = {id(p.stmt) for p in step.body}
    pulled = [p for p in pulled if id(p.stmt) not in already]
    if pulled:
        _warn_pulled(plan, reader, source, name)
    return pulled


def _move_later_definition(plan: Plan, name: str, index: int, reader: Placed) -> Placed | None:
    for later in plan.steps[index:]:
        for position, placed in enumerate(later.body):
            if placed.stmt.is_definition and placed.stmt.binds[0] == name and placed is not reader:
                if later is plan.steps[index] and later.body.index(reader) > position:
                    return None
                del later.body[position]
                reader.cell.diagnostics.append(
                    diagnostic(
                        plan.notebook,
                        placed.cell.cell,
                        "info",
                        "PRM017",
                        f"'{name}' is defined in the {placed.cell.role} step but first used by step '{plan.steps[index].name}' (cell {reader.cell.cell.index}); its definition moved there",
                        placed.stmt.line + _offset(placed.cell),
                    )
                )
                return Placed(placed.cell, placed.stmt, "moved")
    return None


def _undefined(plan: Plan, name: str, reader: Placed, index: int) -> None:
    later = [s.name for s in plan.steps[index + 1 :] if any(name in p.stmt.binds for p in s.body)]
    skipped = [c.cell.index for c in plan.cells if c.role == "skip" and c.names and name in c.names.binds]
    if later:
        message = f"'{name}' is used here but only step '{later[0]}' defines it, and that step runs later"
        severity = "error"
    elif skipped:
        message = f"'{name}' is defined only in skipped cell {skipped[0]}; tag that cell or define '{name}' in a promoted cell"
        severity = "warning"
    else:
        message = f"'{name}' is used but defined in no cell; the package raises NameError if this line runs"
        severity = "warning"
    if name not in plan.undefined:
        plan.undefined.append(name)
    reader.cell.diagnostics.append(
        diagnostic(plan.notebook, reader.cell.cell, severity, "PRM002", message, _first_use(reader, name))
    )


def _first_use(placed: Placed, name: str) -> int:
    for node in ast.walk(placed.stmt.node):
        if isinstance(node, ast.Name) and node.id == name:
            return node.lineno + _offset(placed.cell)
    return placed.stmt.line + _offset(placed.cell)


# --- stage: metrics ------------------------------------------------------------------


def _bound_at_top_level(node: ast.stmt) -> list[str]:
    """Names an assignment binds at cell level, looking through with/if/try but not loops or defs."""
    if isinstance(node, (ast.With, ast.If, ast.Try)):
        blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
        return [name for block in blocks for child in block for name in _bound_at_top_level(child)]
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    )
    return [
        leaf.id
        for target in targets
        for leaf in ast.walk(target)
        if isinstance(leaf, ast.Name) and isinstance(leaf.ctx, ast.Store)
    ]


def _metrics(plan: Plan) -> None:
    """Every value an evaluate step binds is a candidate metric; numeric scalars are kept at run time."""
    for step in plan.steps:
        if step.role != "evaluate":
            continue
        for placed in step.body:
            for name in _bound_at_top_level(placed.stmt.node):
                if name not in step.metrics:
                    step.metrics.append(name)
            node = placed.stmt.node
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
            ):
                if (
                    node.value.func.attr in ("test", "validate")
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                ):
                    step.metric_tables.append(node.targets[0].id)
        if not step.metrics:
            cell = step.cells[0]
            cell.diagnostics.append(
                diagnostic(
                    plan.notebook,
                    cell.cell,
                    "warning",
                    "PRM012",
                    "this evaluate step binds no value, so metrics.json will be empty; assign the final metric to a variable, e.g. `test_acc = correct / total`",
                )
            )


# --- stage: training loop → Lightning ----------------------------------------------------


def _calls_backward(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward"
        for n in ast.walk(node)
    )


def _binding(step: Step, name: str, before: Placed) -> Placed | None:
    found = None
    for placed in step.body:
        if placed is before:
            break
        if name in placed.stmt.binds:
            found = placed
    return found


def _training_loop(plan: Plan) -> None:
    """Map the one training loop onto a LightningModule when its shape is unambiguous."""
    sites = [p for s in plan.steps for p in s.body if _calls_backward(p.stmt.node)]
    sites += [p for group in plan.hoisted.values() for p in group if _calls_backward(p.stmt.node)]
    if not sites:
        return
    reason = _unmappable(plan, sites)
    if reason:
        placed = sites[0]
        placed.cell.diagnostics.append(
            diagnostic(
                plan.notebook,
                placed.cell.cell,
                "info",
                "PRM014",
                f"training loop kept as written on Lightning Fabric ({reason}); it still runs on CPU, GPU and DDP",
                placed.stmt.line + _offset(placed.cell),
            )
        )


def _unmappable(plan: Plan, sites: list[Placed]) -> str | None:
    """Why the loop cannot become LightningModule hooks, or None after recording the mapping."""
    if len(sites) != 1:
        return "backward() is called in several places"
    placed = sites[0]
    step = next((s for s in plan.steps if placed in s.body), None)
    if step is None or placed.stmt.is_definition:
        return "the loop is inside a function or class"
    if step.role != "train":
        return f"the loop is in the {step.role} step, not the train step"
    mapping = match_epoch_loop(placed.stmt.node)
    if mapping is None:
        return "its shape is not a plain epoch loop over batches with zero_grad/backward/step"
    optimizer = _binding(step, mapping.optimizer, placed)
    if optimizer is None or mapping.model not in optimizer.stmt.reads:
        return f"'{mapping.optimizer}' is not built from {mapping.model}.parameters() in this step"
    scheduler = _binding(step, mapping.scheduler, placed) if mapping.scheduler else None
    if mapping.scheduler and scheduler is None:
        return f"scheduler '{mapping.scheduler}' is not built in this step"
    loop_binds = set(placed.stmt.binds) - {mapping.model, mapping.optimizer}
    if loop_binds & set(step.outputs):
        return f"later steps read {', '.join(sorted(loop_binds & set(step.outputs)))}, which only the loop computes"
    params = {p.name for p in plan.parameters}
    known = {mapping.model, mapping.criterion, mapping.optimizer} | params | set(plan.imports) | BUILTINS
    bodies = [mapping.train] + ([mapping.validation] if mapping.validation else [])
    for body in bodies:
        local = {
            n.id
            for s in body.statements
            for n in ast.walk(s)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        local |= {n.id for n in ast.walk(ast.parse(body.batch_target)) if isinstance(n, ast.Name)}
        free = (
            {
                n.id
                for s in body.statements
                for n in ast.walk(s)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            }
            - local
            - known
        )
        if free:
            return f"the batch code reads {', '.join(sorted(free))} from the notebook"
    expressions = [optimizer.stmt.node] + ([scheduler.stmt.node] if scheduler else [])
    hparams = sorted({n.id for e in expressions for n in ast.walk(e) if isinstance(n, ast.Name) and n.id in params})
    hparams += sorted(
        {n.id for b in bodies for s in b.statements for n in ast.walk(s) if isinstance(n, ast.Name) and n.id in params}
        - set(hparams)
    )
    plan.loop = MappedLoop(step, placed, mapping, optimizer, scheduler, hparams)
    placed.cell.diagnostics.append(
        diagnostic(
            plan.notebook,
            placed.cell.cell,
            "info",
            "PRM022",
            "training loop mapped to Lightning: training_step"
            + (", validation_step" if mapping.validation else "")
            + ", configure_optimizers and a Trainer"
            + (" with a best-checkpoint callback" if mapping.checkpoint_path is not None else ""),
            placed.stmt.line + _offset(placed.cell),
        )
    )
    return None


# --- stage: reserved names ---------------------------------------------------------------

# Names the generated code gives a meaning: Config's runtime fields, and the step functions' arguments.
RESERVED_CONFIG = {
    "accelerator",
    "devices",
    "strategy",
    "num_nodes",
    "precision",
    "artifacts_dir",
    "smoke",
    "smoke_batches",
    "for_smoke",
}
RESERVED_LOCALS = {"cfg", "fabric"}


def _reserved_names(plan: Plan) -> None:
    for parameter in plan.parameters:
        if parameter.name in RESERVED_CONFIG | RESERVED_LOCALS:
            plan.diagnostics.append(
                diagnostic(
                    plan.notebook,
                    parameter.cell.cell,
                    "error",
                    "PRM023",
                    f"parameter '{parameter.name}' has a name the generated package reserves for its own settings; rename it in the notebook",
                    parameter.line + _offset(parameter.cell),
                )
            )
    for step in plan.steps:
        for placed in step.body:
            for name in set(placed.stmt.binds) & RESERVED_LOCALS:
                placed.cell.diagnostics.append(
                    diagnostic(
                        plan.notebook,
                        placed.cell.cell,
                        "error",
                        "PRM023",
                        f"'{name}' is the name every generated step uses for its {'configuration' if name == 'cfg' else 'Lightning Fabric'}; rename this variable",
                        placed.stmt.line + _offset(placed.cell),
                    )
                )


# --- stage: framework -------------------------------------------------------------------


def _framework(plan: Plan) -> None:
    """Say so when there is no PyTorch: the package is still generated, around the notebook's own code."""
    needed = {n for s in plan.steps for p in s.body for n in p.stmt.reads + p.stmt.call_time_reads}
    needed |= {n for group in plan.hoisted.values() for p in group for n in p.stmt.reads + p.stmt.call_time_reads}
    roots = {plan.imports[n].split()[1].split(".")[0] for n in needed if n in plan.imports}
    plan.torch = bool(roots & {"torch", "pytorch_lightning", "lightning", "lightning_fabric"})
    plan.lightning = bool(roots & {"pytorch_lightning", "lightning"})
    if not plan.torch:
        train = plan.step("train") or plan.steps[0]
        cell = train.cells[0]
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                cell.cell,
                "info",
                "PRM013",
                f"no PyTorch model: the {train.name} step runs the notebook's own code; the package, pipeline, tests and CI are generated as usual",
            )
        )


# --- the pipeline of stages ----------------------------------------------------------


def build_plan(notebook: Notebook, package: str | None = None, *, strict: bool = False) -> Plan:
    """Notebook → Plan, through named stages that each add one kind of fact."""
    cells = analyse(notebook)
    plan = Plan(notebook=notebook, package=package_name(package or notebook.stem), cells=cells, strict=strict)
    plan.content_hash = content_hash([c.cell.source for c in cells if c.role not in (None, "skip")])
    if any(c.plain and c.plain.syntax_error and c.promoted for c in cells):
        return plan
    prelude = _parameters(plan)
    _import_table(plan)
    _steps(plan, prelude)
    if plan.steps:
        _data_flow(plan)
        _metrics(plan)
        _reserved_names(plan)
        _framework(plan)
        _training_loop(plan)
    return plan

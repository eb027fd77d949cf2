"""Stages: which framework the code uses, and whether its training loop maps onto Lightning."""

from __future__ import annotations

import ast

from ..analysis.diagnostics import diagnostic
from ..analysis.loops import StepBody, match_epoch_loop
from ..analysis.names import BUILTINS, Statement
from .plan import MappedLoop, Placed, Plan, Step, line_in_cell

# --- stage: framework -------------------------------------------------------------------


def detect_framework(plan: Plan) -> None:
    """Say so when there is no PyTorch: the package is still generated, around the notebook's own code."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
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


# --- stage: training loop → Lightning ----------------------------------------------------


def _calls_backward(statement: Statement) -> bool:
    return any(isinstance(n.func, ast.Attribute) and n.func.attr == "backward" for n in statement.index.of(ast.Call))


def _binding(step: Step, name: str, before: Placed) -> Placed | None:
    found = None
    for placed in step.body:
        if placed is before:
            break
        if name in placed.stmt.binds:
            found = placed
    return found


def map_training_loop(plan: Plan) -> None:
    """Map the one training loop onto a LightningModule when its shape is unambiguous."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
    sites = [p for s in plan.steps for p in s.body if _calls_backward(p.stmt)]
    sites += [p for group in plan.hoisted.values() for p in group if _calls_backward(p.stmt)]
    if not sites:
        return
    loop = _match_loop(plan, sites)
    if isinstance(loop, MappedLoop):
        _record_mapping(plan, loop)
        return
    placed = sites[0]
    plan.diagnose(
        placed.cell,
        "info",
        "PRM014",
        f"training loop kept as written on Lightning Fabric ({loop}); it still runs on CPU, GPU and DDP",
        line_in_cell(placed.cell, placed.stmt.line),
    )


def _match_loop(plan: Plan, sites: list[Placed]) -> MappedLoop | str:
    """The loop as LightningModule hooks, or why it cannot become them."""
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
    hparams = _hyperparameters(plan, [optimizer, *filter(None, [scheduler])], bodies, known, params)
    if isinstance(hparams, str):
        return hparams
    return MappedLoop(step, placed, mapping, optimizer, scheduler, hparams)


def _hyperparameters(
    plan: Plan, built: list[Placed], bodies: list[StepBody], known: set[str], params: set[str]
) -> list[str] | str:
    """What the hooks read as ``self.hparams``: the parameters the optimizer, scheduler and batch code read, and the
    constants the optimizer and scheduler read (``wd = 1e-4``), since configure_optimizers runs in the
    LightningModule; or why the loop cannot be mapped (they read another value of the notebook's)."""
    for body in bodies:
        if free := _free_names(body) - known:
            return f"the batch code reads {', '.join(sorted(free))}, which one batch alone does not give"
    expressions = [placed.stmt.node for placed in built]
    built_from = {
        n.id for e in expressions for n in ast.walk(e) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    others = built_from - known - {name for placed in built for name in placed.stmt.binds}
    if unknown := {name for name in others if not _bound_to_constants(plan, name)}:
        return f"the optimizer or scheduler reads {', '.join(sorted(unknown))}, which is no parameter or constant"
    params = params | others
    hparams = sorted({n.id for e in expressions for n in ast.walk(e) if isinstance(n, ast.Name) and n.id in params})
    hparams += sorted(
        {n.id for b in bodies for s in b.statements for n in ast.walk(s) if isinstance(n, ast.Name) and n.id in params}
        - set(hparams)
    )
    return hparams


def _bound_to_constants(plan: Plan, name: str) -> bool:
    """Every binding of ``name`` in the notebook's cells is an assignment of a literal (``wd = 1e-4``)."""
    bindings = [s for c in plan.cells if c.names for s in c.names.statements if name in s.binds]
    for statement in bindings:
        node = statement.node
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return False
        try:
            ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    return bool(bindings)


def _free_names(body: StepBody) -> set[str]:
    """Names a batch body reads before it binds them: from the notebook, or carried over from the batch before
    (``out, hidden = model(x, hidden)``), which a training_step, called on one batch alone, never sees."""
    bound = {n.id for n in ast.walk(ast.parse(body.batch_target)) if isinstance(n, ast.Name)}
    free: set[str] = set()
    for stmt in body.statements:
        names = [n for n in ast.walk(stmt) if isinstance(n, ast.Name)]
        free |= {n.id for n in names if isinstance(n.ctx, ast.Load)} - bound
        bound |= {n.id for n in names if isinstance(n.ctx, ast.Store)}
    return free


def _record_mapping(plan: Plan, loop: MappedLoop) -> None:
    """The plan keeps the mapped loop; PRM022 tells the author which hooks it became."""
    plan.loop = loop
    placed, mapping = loop.placed, loop.mapping
    plan.diagnose(
        placed.cell,
        "info",
        "PRM022",
        "training loop mapped to Lightning: training_step"
        + (", validation_step" if mapping.validation else "")
        + ", configure_optimizers and a Trainer"
        + (" with a best-checkpoint callback" if mapping.checkpoint_path is not None else ""),
        line_in_cell(placed.cell, placed.stmt.line),
    )

"""Recognise a raw PyTorch training loop that maps onto a LightningModule.

The shape we map is the one tutorials teach::

    for epoch in range(EPOCHS):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)      # dropped: Lightning moves batches
            optimizer.zero_grad()                  # dropped: Lightning steps the optimiser
            loss = criterion(model(x), y)          # → training_step
            loss.backward(); optimizer.step()      # dropped
            running += loss.item()                 # bookkeeping → self.log
        model.eval()
        for x, y in valid_loader: ...              # → validation_step
        if valid_loss <= best: torch.save(model.state_dict(), PATH)   # → ModelCheckpoint

Anything else inside the epoch loop means the loop is kept as written on Fabric;
guessing at a loop's meaning would silently change what the notebook computes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass
class StepBody:
    """The statements of one batch loop that compute the loss, and its batch unpacking."""

    batch_target: str  # source of the loop target, e.g. "data, target" or "batch"
    statements: list[ast.stmt]
    loss: str  # the variable holding the loss


@dataclass
class LoopMapping:
    node: ast.For  # the epoch loop statement
    epochs: ast.expr
    model: str
    optimizer: str
    criterion: str | None
    train_loader: ast.expr
    train: StepBody
    val_loader: ast.expr | None = None
    validation: StepBody | None = None
    scheduler_monitor: bool | None = None  # None: no scheduler; True: step(val_loss); False: step()
    scheduler: str | None = None
    clip: ast.expr | None = None
    checkpoint_path: ast.expr | None = None  # torch.save(model.state_dict(), PATH) on improvement


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Expr):
        node = node.value
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ""


def _called_on(node: ast.AST) -> str | None:
    """``optimizer`` for the statement ``optimizer.step()``: the plain name a bare method call is made on."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
        value = node.value.func.value
        return value.id if isinstance(value, ast.Name) else None
    return None


def _is_to_device(node: ast.stmt) -> bool:
    """``x, y = x.to(device), y.to(device)`` and friends: Lightning moves batches itself."""
    if not isinstance(node, ast.Assign):
        return False
    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
    return bool(values) and all(_call_name(v) in {"to", "cuda"} for v in values)  # `x = ()` moves nothing


def _is_bookkeeping(node: ast.stmt) -> bool:
    """Running totals and prints: replaced by self.log, which Lightning aggregates per epoch."""
    if isinstance(node, ast.Expr) and _call_name(node) in {"print", "set_postfix", "write", "clear_output", "display"}:
        return True
    if isinstance(node, ast.AugAssign):
        return True
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        return any(_call_name(n) == "item" for n in ast.walk(node.value)) or isinstance(node.value, ast.BinOp)
    return False


_PROGRESS = {"tqdm", "track", "progress"}  # progress-bar wrappers around an iterable
_NO_GRAD = {"no_grad", "inference_mode"}


def _unwrap_progress(iterable: ast.expr) -> ast.expr:
    """``loader`` for ``tqdm(loader)`` / ``tqdm.tqdm(loader, desc=...)``: Lightning shows its own progress."""
    while isinstance(iterable, ast.Call) and _call_name(iterable) in _PROGRESS and iterable.args:
        iterable = iterable.args[0]
    return iterable


def _flatten_no_grad(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements with ``with torch.no_grad():`` blocks opened: Lightning disables gradients in validation itself."""
    flat: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.With) and all(_call_name(item.context_expr) in _NO_GRAD for item in stmt.items):
            flat.extend(_flatten_no_grad(stmt.body))
        else:
            flat.append(stmt)
    return flat


def _loop_target(loop: ast.For) -> tuple[str, ast.expr] | None:
    """(batch unpacking source, loader) for ``for x, y in loader`` or ``for i, (x, y) in enumerate(tqdm(loader))``."""
    iterable, target = _unwrap_progress(loop.iter), loop.target
    if _call_name(iterable) == "enumerate" and isinstance(iterable, ast.Call) and iterable.args:
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            return _target_source(target.elts[1]), _unwrap_progress(iterable.args[0])
        return None
    if isinstance(iterable, (ast.Name, ast.Attribute)):
        return _target_source(target), iterable
    return None


def _target_source(target: ast.expr) -> str:
    """An assignment target as black writes it: ``x, y`` (ast.unparse writes ``(x, y)``)."""
    if isinstance(target, ast.Tuple) and len(target.elts) > 1:
        return ", ".join(ast.unparse(element) for element in target.elts)
    return ast.unparse(target)


def _train_body(loop: ast.For) -> tuple[StepBody, str, str, ast.expr | None] | None:
    """(body, model, optimizer, clip value) of the inner batch loop, or None when it is not canonical."""
    unpacked = _loop_target(loop)
    if unpacked is None:
        return None
    scan = _TrainScan()
    if not all(scan.take(stmt) for stmt in loop.body):
        return None  # control flow or calls we do not understand
    loss, optimizer, kept = scan.loss, scan.optimizer, scan.kept
    if not (loss and optimizer):
        return None
    model = _forward_model(kept)
    if model is None or not any(
        loss in {t.id for t in ast.walk(s) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)} for s in kept
    ):
        return None
    return StepBody(unpacked[0], kept, loss), model, optimizer, scan.clip


class _TrainScan:
    """The statements of a batch loop one by one: the optimizer calls it makes, and the statements kept."""

    def __init__(self) -> None:
        self.kept: list[ast.stmt] = []
        self.loss: str | None = None
        self.optimizer: str | None = None
        self.clip: ast.expr | None = None

    def take(self, stmt: ast.stmt) -> bool:
        """False for a statement a canonical batch loop does not have."""
        if _is_to_device(stmt) or self._optimizer_call(stmt):
            return True
        if self.loss is not None and _is_bookkeeping(stmt):
            return True  # after backward: running statistics
        if isinstance(stmt, ast.Assign):
            self.kept.append(stmt)
            return True
        return isinstance(stmt, ast.Expr) and _call_name(stmt) in {"print"}

    def _optimizer_call(self, stmt: ast.stmt) -> bool:
        """zero_grad, backward, step and gradient clipping: recorded, and dropped from the body."""
        name = _call_name(stmt)
        if name == "zero_grad":
            self.optimizer = self.optimizer or _called_on(stmt)
            return True
        if not isinstance(stmt, ast.Expr):
            return False
        if name == "backward":
            self.loss = _called_on(stmt)
        elif name == "step":
            self.optimizer = _called_on(stmt)
        elif name in {"clip_grad_norm_", "clip_grad_value_"}:
            self.clip = stmt.value.args[1] if len(stmt.value.args) > 1 else None  # type: ignore[attr-defined]
        else:
            return False
        return True


def _forward_model(statements: list[ast.stmt]) -> str | None:
    """The module called on the batch: the first plain-name call whose result feeds the loss."""
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                callee = node.func.id
                if (
                    callee[0].islower()
                    and not callee.endswith(("loss", "Loss", "_fn", "criterion"))
                    and callee not in {"len", "float", "int", "sum", "max", "min"}
                ):
                    return callee
    return None


def _criterion(body: StepBody, model: str) -> str | None:
    for stmt in body.statements:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == body.loss for t in stmt.targets):
            call = stmt.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id != model:
                return call.func.id
    return None


def _validation_body(loop: ast.For, model: str) -> StepBody | None:
    unpacked = _loop_target(loop)
    if unpacked is None:
        return None
    kept: list[ast.stmt] = []
    loss = None
    for stmt in _flatten_no_grad(loop.body):
        if _is_to_device(stmt):
            continue
        if loss is not None and _is_bookkeeping(stmt):
            continue
        if isinstance(stmt, ast.Assign):
            kept.append(stmt)
            value = stmt.value
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id != model
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                loss = stmt.targets[0].id
            continue
        if _is_bookkeeping(stmt):
            continue
        return None
    return StepBody(unpacked[0], kept, loss) if loss else None


def _checkpoint_path(stmt: ast.stmt, model: str) -> ast.expr | None:
    """PATH of ``if <improved>: ... torch.save(model.state_dict(), PATH) ...``."""
    if not isinstance(stmt, ast.If) or stmt.orelse:
        return None
    path = None
    for child in stmt.body:
        if _call_name(child) == "save" and isinstance(child, ast.Expr):
            args = child.value.args  # type: ignore[attr-defined]
            if len(args) == 2 and ast.unparse(args[0]) == f"{model}.state_dict()":
                path = args[1]
                continue
        if _is_bookkeeping(child) or isinstance(child, ast.Assign):
            continue
        return None
    return path


def match_epoch_loop(node: ast.stmt) -> LoopMapping | None:
    """A LoopMapping when ``node`` is a canonical epoch loop, else None."""
    epochs_call = _epochs_call(node)
    if epochs_call is None:
        return None
    body = _flatten_no_grad(node.body)  # type: ignore[attr-defined]
    inner_loops = [s for s in body if isinstance(s, ast.For)]
    if not inner_loops or len(inner_loops) > 2:
        return None
    mapping = _map_batch_loops(node, epochs_call, inner_loops)
    if mapping is None or not _map_epoch_statements(mapping, body, inner_loops):
        return None
    if mapping.scheduler_monitor and mapping.validation is None:
        return None
    return mapping


def _epochs_call(node: ast.stmt) -> ast.Call | None:
    """The ``range(EPOCHS)`` (or ``trange``) of ``for epoch in range(EPOCHS):`` without an else."""
    if not (isinstance(node, ast.For) and not node.orelse):
        return None
    epochs_call = _unwrap_progress(node.iter)
    if not (
        isinstance(epochs_call, ast.Call)
        and _call_name(epochs_call) in {"range", "trange"}
        and len(epochs_call.args) == 1
    ):
        return None
    return epochs_call


def _map_batch_loops(node: ast.stmt, epochs_call: ast.Call, inner_loops: list[ast.For]) -> LoopMapping | None:
    """The training batch loop, and the validation one when there are two."""
    trained = _train_body(inner_loops[0])
    if trained is None:
        return None
    train, model, optimizer, clip = trained
    train_loader = _loop_target(inner_loops[0])[1]  # type: ignore[index]
    mapping = LoopMapping(
        node, epochs_call.args[0], model, optimizer, _criterion(train, model), train_loader, train, clip=clip
    )
    if len(inner_loops) == 2:
        validation = _validation_body(inner_loops[1], model)
        if validation is None:
            return None
        mapping.validation = validation
        mapping.val_loader = _loop_target(inner_loops[1])[1]  # type: ignore[index]
    return mapping


def _map_epoch_statements(mapping: LoopMapping, body: list[ast.stmt], inner_loops: list[ast.For]) -> bool:
    """The epoch loop's other statements: bookkeeping, train()/eval(), a scheduler step, a best checkpoint.

    False when one is none of these.
    """
    model, optimizer = mapping.model, mapping.optimizer
    for stmt in body:
        if (
            stmt in inner_loops
            or _is_bookkeeping(stmt)
            or _call_name(stmt) in {"train", "eval"}
            and _called_on(stmt) == model
        ):
            continue
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Constant, ast.BinOp, ast.Name)):
            continue  # epoch-level counters
        if _call_name(stmt) == "step" and isinstance(stmt, ast.Expr) and _called_on(stmt) != optimizer:
            mapping.scheduler = _called_on(stmt)
            mapping.scheduler_monitor = bool(stmt.value.args)  # type: ignore[attr-defined]
            continue
        if (path := _checkpoint_path(stmt, model)) is not None:
            mapping.checkpoint_path = path
            continue
        return False
    return True

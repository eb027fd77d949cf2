"""Stage: changes the package will not see.

A skip-tagged cell (or an untagged one that promotion does not pull in) that rescales ``X`` between
the data cell that built it and the train cell that reads it changes what the notebook computes, but
not what the package computes. Nothing fails: the metrics just differ. Promotion says so before
anything runs, on both cells, so the author can tag the cell or move the change.

The random stream is such a value too: a skipped cell that builds and trains a baseline model after
the seed draws initial weights, so every promoted cell that draws after it gets other numbers in the
notebook than in the package (dev02's baseline: train accuracy 0.949 in the notebook, 0.954 in the
package, both right). That is said on both cells as well (PRM043). So is a step order that moves one promoted cell's
draws before another's, which came first in the notebook (PRM047).
"""

from __future__ import annotations

import ast

from ..analysis.cellplan import CellPlan
from ..analysis.diagnostics import diagnostic
from ..analysis.names import Statement, attribute_chain
from .plan import Plan, line_in_cell

# Mutating calls that change a mode or a place, not the values a later cell computes with.
_BENIGN_METHODS = {"eval", "train", "to", "cpu", "cuda", "zero_grad", "requires_grad_"}


def _changes_values(statement: Statement, name: str) -> bool:
    """Whether ``statement`` rebinds ``name`` or mutates it in a way that changes its values."""
    if name in statement.binds:
        return True
    for node in statement.index.of(ast.Call, ast.Subscript, ast.Attribute):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if isinstance(receiver, ast.Name) and receiver.id == name and node.func.attr not in _BENIGN_METHODS:
                return True
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            root = node.value
            while isinstance(root, (ast.Subscript, ast.Attribute)):
                root = root.value
            if isinstance(root, ast.Name) and root.id == name:
                return True
    return False


def _first_read(cell: CellPlan, name: str) -> int | None:
    for statement in cell.names.statements if cell.names else []:
        if name in statement.reads or name in statement.mutates:
            lines = [n.lineno for n in statement.index.of(ast.Name) if n.id == name]
            return line_in_cell(cell, min(lines, default=statement.line))
    return None


def warn_skipped_changes(plan: Plan) -> None:
    """Warn (PRM041) on both cells when a cell left out of the package changes a value a later promoted cell reads."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
    placed = {id(p.stmt) for step in plan.steps for p in step.body}
    placed |= {id(p.stmt) for items in plan.hoisted.values() for p in items}
    last_promoted_binding: dict[str, int] = {}  # name → index of the last promoted cell that assigned it
    left_out_changes: dict[str, tuple[CellPlan, Statement]] = {}  # name → latest left-out change after that
    for cell in plan.cells:
        if not cell.names or cell.role in ("parameters", "imports"):
            continue
        if cell.promoted:
            _read_in_promoted_cell(plan, cell, last_promoted_binding, left_out_changes)
        else:
            _note_left_out_changes(cell, placed, last_promoted_binding, left_out_changes)


def _read_in_promoted_cell(
    plan: Plan,
    cell: CellPlan,
    last_promoted_binding: dict[str, int],
    left_out_changes: dict[str, tuple[CellPlan, Statement]],
) -> None:
    """Report the left-out changes this promoted cell reads; what it binds starts afresh."""
    for name in sorted({n for s in cell.names.statements for n in s.reads + s.mutates}):
        change = left_out_changes.pop(name, None)
        if change is not None and name in last_promoted_binding:
            _report(plan, name, change, cell)
    for statement in cell.names.statements:
        for name in statement.binds:
            last_promoted_binding[name] = cell.cell.index
            left_out_changes.pop(name, None)


def _note_left_out_changes(
    cell: CellPlan,
    placed: set[int],
    last_promoted_binding: dict[str, int],
    left_out_changes: dict[str, tuple[CellPlan, Statement]],
) -> None:
    """Remember what a left-out cell changes in values promoted cells bound (pulled-in statements excepted)."""
    for statement in cell.names.statements:
        if id(statement) in placed or statement.is_definition or statement.is_import:
            continue
        for name in set(statement.binds) | set(statement.mutates):
            if name in last_promoted_binding and _changes_values(statement, name):
                left_out_changes[name] = (cell, statement)


def _warn_both(
    plan: Plan, code: str, left_out: tuple[CellPlan, int | None, str], reader: tuple[CellPlan, int | None, str]
) -> None:
    """The same finding on the left-out cell and on the promoted cell it affects: (cell, line, message) each."""
    for cell, line, message in (left_out, reader):
        cell.diagnostics.append(diagnostic(plan.notebook, cell.cell, "warning", code, message, line))


def _report(plan: Plan, name: str, change: tuple[CellPlan, Statement], reader: CellPlan) -> None:
    changer, statement = change
    kind = "skipped" if changer.role == "skip" else "untagged"
    _warn_both(
        plan,
        "PRM041",
        (
            changer,
            line_in_cell(changer, statement.line),
            f"this {kind} cell changes '{name}', which promoted cell {reader.cell.index} reads later: "
            f"the package will not make this change, so its results can differ from the notebook's; "
            f"tag this cell with the role it plays, or move the change into a promoted cell",
        ),
        (
            reader,
            _first_read(reader, name),
            f"reads '{name}', which {kind} cell {changer.cell.index} changes before it in the notebook; "
            f"the package reads '{name}' without that change",
        ),
    )


# Calls that draw from a random generator, by the module they come from (after the notebook's own aliases).
_DRAWING_PREFIXES = ("numpy.random.", "random.", "torch.utils.data.random_split")
_DRAWING_TORCH = {
    "rand",
    "randn",
    "randint",
    "randperm",
    "normal",
    "bernoulli",
    "multinomial",
    "rand_like",
    "randn_like",
}
_SEEDING = {"seed", "manual_seed", "seed_everything", "set_seed"}


def _imported_modules(plan: Plan) -> dict[str, str]:
    """Bound name → the dotted module or object it stands for (``np`` → ``numpy``, ``nn`` → ``torch.nn``)."""
    modules = {}
    for bound, text in plan.imports.items():
        node = ast.parse(text).body[0]
        for alias in node.names:
            if (alias.asname or alias.name.split(".")[0]) != bound:
                continue
            if isinstance(node, ast.ImportFrom):
                modules[bound] = f"{node.module}.{alias.name}"
            else:
                modules[bound] = alias.name if alias.asname else bound
    return modules


def _dotted(node: ast.AST, modules: dict[str, str]) -> str | None:
    chain = attribute_chain(node)
    return ".".join([modules.get(chain[0], chain[0]), *chain[1:]]) if chain else None


def _iterates(node: ast.AST, loaders: set[str]) -> bool:
    """``iter(loader)`` or ``for ... in loader``: every DataLoader iterator draws a base seed from torch's generator."""
    if isinstance(node, (ast.For, ast.comprehension)):
        return isinstance(node.iter, ast.Name) and node.iter.id in loaders
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "iter"
        and bool(node.args)
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in loaders
    )


def _random_use(statement: Statement, modules: dict[str, str], known: tuple[set[str], set[str]]) -> str | None:
    """'seed' when the statement seeds, 'draw' when it draws random numbers (a layer's initial weights count).

    ``known``: the notebook's own torch module classes, and the names bound to DataLoaders.
    """
    if statement.is_definition or statement.is_import:
        return None
    module_classes, loaders = known
    # A seeding call wins wherever it is, so the order the nodes are looked at in does not matter.
    use = "draw" if any(_iterates(n, loaders) for n in statement.index.of(ast.For, ast.comprehension)) else None
    for node in statement.index.of(ast.Call):
        if _iterates(node, loaders):
            use = "draw"
        name = _dotted(node.func, modules) or ""
        last = name.rsplit(".", 1)[-1]
        if last in _SEEDING:
            return "seed"
        if (
            name.startswith(_DRAWING_PREFIXES)
            or (name.startswith("torch.") and last in _DRAWING_TORCH)
            or (name.startswith("torch.nn.") and last[:1].isupper() and "functional" not in name)
            or name in module_classes
        ):
            use = "draw"
    return use


def _known_names(plan: Plan, modules: dict[str, str]) -> tuple[set[str], set[str]]:
    """The notebook's own torch modules (constructing one draws its initial weights), and its DataLoaders."""
    classes, loaders = set(), set()
    for cell in plan.cells:
        for statement in cell.names.statements if cell.names else []:
            node = statement.node
            if isinstance(node, ast.ClassDef) and any(
                (_dotted(base, modules) or "").endswith(("Module", "LightningModule")) for base in node.bases
            ):
                classes.add(node.name)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                if (_dotted(node.value.func, modules) or "").endswith("DataLoader"):
                    loaders.update(statement.binds)
    return classes, loaders


def warn_random_draws(plan: Plan) -> None:
    """Where the package draws other random numbers than the notebook: after a left-out cell's draws (PRM043), or
    in another order of the steps (PRM047)."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
    modules = _imported_modules(plan)
    known = _known_names(plan, modules)
    _warn_skipped_draws(plan, modules, known)
    _warn_reordered_draws(plan, modules, known)


def _warn_skipped_draws(plan: Plan, modules: dict[str, str], known: tuple[set[str], set[str]]) -> None:
    """Warn (PRM043) on both cells when a left-out cell draws random numbers between the seed and a promoted draw."""
    placed = {id(p.stmt) for step in plan.steps for p in step.body}
    left_out_draw: tuple[CellPlan, Statement] | None = None
    for cell in plan.cells:
        if not cell.names or cell.role == "imports":
            continue
        promoted = cell.promoted or cell.role == "parameters"
        for statement in cell.names.statements:
            use = _random_use(statement, modules, known)
            if use == "seed" and promoted:
                left_out_draw = None  # the streams meet again
            elif use == "draw" and not promoted and id(statement) not in placed and left_out_draw is None:
                left_out_draw = (cell, statement)
            elif use == "draw" and promoted and left_out_draw is not None:
                _report_draw(plan, left_out_draw, cell, statement)
                left_out_draw = None


def _report_draw(plan: Plan, left_out: tuple[CellPlan, Statement], reader: CellPlan, draw: Statement) -> None:
    cell, statement = left_out
    kind = "skipped" if cell.role == "skip" else "untagged"
    _warn_both(
        plan,
        "PRM043",
        (
            cell,
            line_in_cell(cell, statement.line),
            f"this {kind} cell draws random numbers after the seed, so promoted cell {reader.cell.index} draws "
            f"different ones in the notebook than in the package: results can differ by chance "
            f"(`jupyter promote --verify --seeds N` measures by how much); seed again after this cell to align them",
        ),
        (
            reader,
            line_in_cell(reader, draw.line),
            f"draws random numbers that {kind} cell {cell.cell.index} shifted in the notebook; the package draws "
            f"them without that cell, so its results can differ by chance",
        ),
    )


def _warn_reordered_draws(plan: Plan, modules: dict[str, str], known: tuple[set[str], set[str]]) -> None:
    """Warn (PRM047) where the steps' order makes a promoted draw see another part of the random stream than in the
    notebook: a step that runs first although its cells are below another step's draws (roles run in pipeline
    order, and a step runs after the steps it reads from). Once, at the first such draw."""
    if len(plan.steps) < 2:
        return
    run: list[tuple[CellPlan, Statement, str]] = []  # the random uses, in the package's order
    for step in plan.steps:
        for placed in step.body:
            if use := _random_use(placed.stmt, modules, known):
                run.append((placed.cell, placed.stmt, use))
    written = sorted(run, key=lambda use: (use[0].cell.index, use[1].line))
    in_notebook = {id(statement): position for (_, statement, _), position in zip(written, _stream_positions(written))}
    for at, ((cell, statement, use), position) in enumerate(zip(run, _stream_positions(run))):
        if use != "draw" or in_notebook[id(statement)] == position:
            continue
        above = next((c.cell.index for c, _, _ in run[at + 1 :] if c.cell.index < cell.cell.index), None)
        cause = (
            f"before cell {above}, which draws random numbers before it in the notebook"
            if above is not None
            else "in another order than the notebook's cells"
        )
        cell.diagnostics.append(
            diagnostic(
                plan.notebook,
                cell.cell,
                "warning",
                "PRM047",
                f"the package runs this cell's step {cause}, so this cell draws different random numbers: results "
                f"can differ by chance; seed again at the top of this cell, or tag the cells so that their steps run "
                f"in notebook order",
                line_in_cell(cell, statement.line),
            )
        )
        return


def _stream_positions(uses: list[tuple[CellPlan, Statement, str]]) -> list[tuple[int | None, int, int]]:
    """For each use: the last seed before it and the draws since (how many, and a hash of which), which is where in
    the random stream it draws."""
    positions: list[tuple[int | None, int, int]] = []
    seed, count, draws = None, 0, 0
    for _, statement, use in uses:
        positions.append((seed, count, draws))
        if use == "seed":
            seed, count, draws = id(statement), 0, 0
        else:
            count, draws = count + 1, hash((draws, id(statement)))
    return positions

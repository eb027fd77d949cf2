"""Stage: cells → steps in pipeline order (custom and Kale steps by notebook order)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis.cellplan import CellPlan
from ..analysis.diagnostics import diagnostic
from ..analysis.roles import PIPELINE_ROLES
from .late_binding import function_node, function_reads
from .paths import file_roots_by_cell
from .plan import Placed, Plan, Step, package_name


def assign_steps(plan: Plan) -> None:
    """Promoted cells → steps, in the order the data flows (plan.steps), each with its statements."""
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
    for step in steps:
        if step.role == "step":
            _infer_step_role(plan, step)
    assigned = _assigned_imports(plan)
    steps = order_by_data_flow(plan, steps, assigned)
    plan.steps = steps
    if not steps:
        plan.diagnostics.append(
            diagnostic(
                plan.notebook,
                None,
                "error",
                "PRM018",
                "no promoted cells: tag cells with promote:data, promote:model, promote:train, … (or add '# promote: train' as a cell's first line)"
                + _suggested_tags(plan),
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
    steps[0].body.extend(plan.prelude + [p for p in functions if not p.stmt.is_definition])
    for step in steps:
        step.body.extend(
            Placed(c, s)
            for c in step.cells
            for s in c.names.statements  # type: ignore[union-attr]
            if not s.is_import or assigned.intersection(s.binds)
        )
    # Definitions from functions cells always go to module level or the first step.
    steps[0].body[:0] = [p for p in functions if p.stmt.is_definition]


def _assigned_imports(plan: Plan) -> set[str]:
    """Imported names the notebook also assigns to (``math = 1.5``): a step's import of one stays where it is, so
    that the statements after it read the module again, as in the notebook (the import at the module's top would
    be shadowed by the assignment)."""
    assigned = {
        name
        for cell in plan.cells
        if cell.names and cell.role != "skip"
        for stmt in cell.names.statements
        if not stmt.is_import
        for name in stmt.binds
    }
    return assigned & set(plan.imports)


def order_by_data_flow(plan: Plan, steps: list[Step], assigned_imports: set[str]) -> list[Step]:
    """Steps in an order the notebook's own data flow allows, as close to ``steps`` (pipeline order) as it can be.

    Roles say what a step is, not when it runs: a step that reads what another step's earlier cell
    bound runs after it. Steps that feed each other (a data cell using a vocabulary that a preprocess
    cell above it built, and that preprocess cell splitting the data) cannot be separated without
    changing what the notebook computes, so they fuse into one step in notebook order.
    """
    producer: dict[int, Step] = {id(c): s for s in steps for c in s.cells}
    binders = sorted((c for s in steps for c in s.cells), key=lambda c: c.cell.index)
    # where a name can come from: the steps' cells, and the definitions of the cells no step holds (untagged or
    # functions cells), which are pulled into the steps that use them and read what they read
    cells = sorted((c for c in plan.cells if c.names and c.role != "skip"), key=lambda c: c.cell.index)
    bindings = _Bindings(cells, producer, assigned_imports)
    after: dict[int, set[int]] = {id(s): set() for s in steps}  # step → the steps it must follow
    for step in steps:
        for cell in step.cells:
            for name, when_called in _outside_reads(cell):
                followed: set[str] = set()  # the name, and what the definitions it names read when called
                for source in _sources(plan, bindings, producer, name, cell.cell.index, followed):
                    if producer[id(source)] is not step:
                        after[id(step)].add(id(producer[id(source)]))
                # a def's body reads where it is called, not here: the calls keep that order (``followed``)
                for read in sorted(followed) if not when_called else ():
                    _keep_rebinding_order(bindings, producer, after, read, cell)
    _order_by_files(binders, producer, after)
    groups = _fuse_cycles(plan, steps, after)
    ordered: list[Step] = []
    placed: set[int] = set()
    while groups:
        ready = next(g for g in groups if all(dep in placed or dep in g.members for dep in g.after))
        groups.remove(ready)
        ordered.append(ready.step)
        placed |= ready.members
    return ordered


def _outside_reads(cell: CellPlan) -> list[tuple[str, bool]]:
    """The names ``cell`` reads from outside (CellNames.reads), each with whether only the body of a def that the
    cell does not call reads it, when called elsewhere (a class body runs where it is written; its methods' reads
    count there too)."""
    bound: set[str] = set()
    found: dict[str, bool] = {}
    statements = cell.names.statements if cell.names else []
    last_read = {name: at for at, stmt in enumerate(statements) for name in stmt.reads + stmt.call_time_reads}
    for at, stmt in enumerate(statements):
        is_def = isinstance(stmt.node, (ast.FunctionDef, ast.AsyncFunctionDef))
        function = is_def and last_read.get(stmt.binds[0], -1) <= at  # not called below it in the cell
        for name in stmt.reads:
            if name not in bound:
                found[name] = False
        for name in stmt.call_time_reads:
            if name not in bound:
                found[name] = found.get(name, True) and function
        bound.update(stmt.binds)
    return list(found.items())


class _Bindings:
    """For each name, the cells that bind or change it, and the steps' cells among them with each step's first
    and last such cell, in notebook order: found once (a cell's ``binds`` is computed on each call, and with 2,000
    cells each name is asked about by every cell that reads it)."""

    def __init__(self, cells: list[CellPlan], producer: dict[int, Step], assigned_imports: set[str]) -> None:
        self.assigned_imports = assigned_imports
        self.changing: dict[str, list[CellPlan]] = {}
        self.binding: dict[str, list[CellPlan]] = {}  # steps' cells only
        self.spans: dict[str, dict[int, tuple[Step, int, int]]] = {}  # name → id(step) → (step, first, last cell)
        for cell in cells:
            changes = cell.names.binds | cell.names.mutates  # type: ignore[union-attr]
            for name in changes:
                self.changing.setdefault(name, []).append(cell)
            if id(cell) not in producer:
                continue
            step, index = producer[id(cell)], cell.cell.index
            # a change in place (``sizes[0] = 1.5``) orders the steps as a binding does: a reader above it must
            # not see it
            for name in changes:
                self.binding.setdefault(name, []).append(cell)
                spans = self.spans.setdefault(name, {})
                first = spans[id(step)][1] if id(step) in spans else index
                spans[id(step)] = (step, first, index)


def _keep_rebinding_order(
    bindings: _Bindings, producer: dict[int, Step], after: dict[int, set[int]], name: str, reader: CellPlan
) -> None:
    """The steps hand values on by name, so of the steps that bind ``name``, the one whose value ``reader`` sees in
    the notebook (the last binding above it) must run after those that bind it earlier, and before ``reader``'s step
    the ones that bind it later must not run: ``x = 1.0`` tagged train above ``x = 2.0`` tagged data reads 2.0."""
    bound = bindings.binding.get(name, [])
    at = _position(bound, reader)
    last = bound[at - 1] if at else None  # None: a parameter, …
    reading = producer[id(reader)]
    seen = producer[id(last)] if last is not None else None
    if seen is reading:
        return
    for step, first, end in bindings.spans.get(name, {}).values():
        if end > reader.cell.index and step is not reading:
            # bound again below the reader: that step runs after it. When it is the step the value came from (two
            # train cells around a preprocess cell), the two need each other and fuse, in notebook order.
            after[id(step)].add(id(reading))
        if last is not None and first < last.cell.index and step is not seen:
            # bound above the binding the reader sees: that step runs before it (the reader's own step too: then
            # they fuse, as its earlier cell must not override the value handed in)
            after[id(seen)].add(id(step))


def _position(bound: list[CellPlan], reader: CellPlan) -> int:
    """How many of ``bound`` (in notebook order) lie above ``reader``: a binary search."""
    low, high = 0, len(bound)
    while low < high:
        middle = (low + high) // 2
        if bound[middle].cell.index < reader.cell.index:
            low = middle + 1
        else:
            high = middle
    return low


def _sources(
    plan: Plan, bindings: _Bindings, producer: dict[int, Step], name: str, before: int, seen: set[str]
) -> list[CellPlan]:
    """The step cells whose values reading ``name`` at cell ``before`` depends on (notebook semantics). A cell no
    step holds counts only for a definition it makes (pulled into the step that uses it)."""
    # imports are collected for every module, whichever cell has them, unless a cell also assigns to the name
    if (name in plan.imports and name not in bindings.assigned_imports) or name in seen:
        return []
    seen.add(name)
    for source in reversed(bindings.changing.get(name, ())):
        if source.cell.index >= before:
            continue
        statements = source.names.statements  # type: ignore[union-attr]
        definition = next(
            (s for s in statements if (s.is_definition or function_node(s) is not None) and name in s.binds), None
        )
        if definition is None:
            if id(source) in producer:
                return [source]
            if any(s.is_import and name in s.binds for s in statements):
                return []  # the import, at the top of every module
            continue  # untagged code that is no definition: the steps never see it
        # The data-flow stage moves a def, class or lambda to the step that first uses it; what it reads orders the
        # steps: its defaults as they were where it is defined (its own cell included), its body as they are where
        # it is called (a name its cell binds above it, or a later cell, is what the call reads), but for the
        # literal its cell keeps for it (``ledger = []``), which moves with it.
        defined_with, called_with = function_reads(definition)
        found = [
            *(_sources(plan, bindings, producer, need, source.cell.index + 1, seen) for need in defined_with),
            *(
                _sources(plan, bindings, producer, need, before, seen)
                for need in called_with
                if not _state_kept_by(source, need, bindings)
            ),
        ]
        return [cell for group in found for cell in group]
    return []


def _state_kept_by(cell: CellPlan, name: str, bindings: _Bindings) -> bool:
    """Whether ``name`` is a literal that ``cell`` binds for its functions and no other cell binds: it moves with
    them (dataflow._state_of_moved)."""
    binders = [c for c in bindings.changing.get(name, ()) if name in c.names.binds]  # type: ignore[union-attr]
    return binders == [cell] and any(
        s.is_literal and not s.reads and name in s.binds for s in cell.names.statements  # type: ignore[union-attr]
    )


def _order_by_files(binders: list[CellPlan], producer: dict[int, Step], after: dict[int, set[int]]) -> None:
    """A file is a hand-off too: the step that reloads what an earlier cell saved runs after it."""
    files = file_roots_by_cell(binders)
    for cell in binders:
        for root in files[id(cell)][1]:
            writer = next(
                (b for b in reversed(binders) if b.cell.index < cell.cell.index and root in files[id(b)][0]), None
            )
            if writer is not None and producer[id(writer)] is not producer[id(cell)]:
                after[id(producer[id(cell)])].add(id(producer[id(writer)]))


@dataclass
class _Group:
    step: Step
    members: set[int]  # ids of the steps fused into this one
    after: set[int]


def _fuse_cycles(plan: Plan, steps: list[Step], after: dict[int, set[int]]) -> list[_Group]:
    """One group per step, except that steps which need each other's results become one step."""

    def reaches(start: int) -> set[int]:
        seen, todo = set(), [start]
        while todo:
            for dep in after[todo.pop()]:
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    reach = {id(s): reaches(id(s)) for s in steps}
    groups: list[_Group] = []
    done: set[int] = set()
    for step in steps:
        if id(step) in done:
            continue
        cycle = [s for s in steps if s is step or (id(s) in reach[id(step)] and id(step) in reach[id(s)])]
        done |= {id(s) for s in cycle}
        members = {id(s) for s in cycle}
        fused = step if len(cycle) == 1 else _fuse(plan, cycle)
        groups.append(_Group(fused, members, set().union(*(after[m] for m in members)) - members))
    return groups


def _fuse(plan: Plan, cycle: list[Step]) -> Step:
    role = (
        next(r for r in _ROLE_STRENGTH if any(s.role == r for s in cycle))
        if any(s.role in _ROLE_STRENGTH for s in cycle)
        else cycle[0].role
    )
    cells = sorted((c for s in cycle for c in s.cells), key=lambda c: c.cell.index)
    fused = Step(name="_".join(s.name for s in cycle), role=role, cells=cells)
    names = " and ".join(f"'{s.name}'" for s in cycle)
    plan.diagnose(
        cells[0],
        "info",
        "PRM026",
        f"steps {names} each use what the other computes earlier in the notebook, so they run as one step "
        f"'{fused.name}' in notebook order; retag the cells if you want them apart",
    )
    return fused


# When a custom (Kale) step's cells suggest several roles, the strongest wins.
_ROLE_STRENGTH = ["train", "evaluate", "export", "model", "preprocess", "data"]


def _suggested_tags(plan: Plan) -> str:
    """The tags the untagged cells' code suggests (the panel's "Looks like …" hints), for a notebook with none."""
    by_role: dict[str, list[str]] = {}
    for cell in plan.cells:
        if cell.role is None and cell.suggested_role in PIPELINE_ROLES:
            by_role.setdefault(cell.suggested_role, []).append(f"{cell.cell.index} (id {cell.cell.id})")
    if not by_role:
        return ""
    ordered = [role for role in PIPELINE_ROLES if role in by_role]
    return "; from their code: " + "; ".join(
        f"promote:{role} on cell{'s' if len(by_role[role]) > 1 else ''} {', '.join(by_role[role])}" for role in ordered
    )


def _infer_step_role(plan: Plan, step: Step) -> None:
    """A custom step (Kale's step:/block:) plays the role its code plays, so Kale notebooks need no retagging."""
    suggested = {c.suggested_role for c in step.cells}
    role = next((r for r in _ROLE_STRENGTH if r in suggested), None)
    if role is None:
        return
    step.role = role
    first = step.cells[0]
    plan.diagnose(first, "info", "PRM010", f"step '{step.name}' runs as the {role} step, from what its code does")


def _identifier(name: str) -> str:
    return package_name(name)

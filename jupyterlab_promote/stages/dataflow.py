"""Stage: data flow between steps.

What each step takes from earlier steps and hands on, which statements are pulled in from untagged cells, moved
from a later step or repeated from another (late_binding.py), and which names are defined nowhere; which
definitions move to module level is hoisting.py's.
"""

from __future__ import annotations

import ast
import bisect
import re

from ..analysis.cellplan import CellPlan
from ..analysis.diagnostics import diagnostic
from .hoisting import hoist, hoistable_definitions, use_hoisted, warn_pulled
from .late_binding import LateBinding, function_node
from .plan import Placed, Plan, Step, line_in_cell


def _deleted(node: ast.stmt) -> set[str]:
    """The names a top-level ``del`` statement unbinds."""
    return {t.id for t in node.targets if isinstance(t, ast.Name)} if isinstance(node, ast.Delete) else set()


def trace_data_flow(plan: Plan) -> None:
    if not plan.steps:  # nothing promoted (PRM018)
        return
    flow = _Flow(plan)
    for index, step in enumerate(plan.steps):
        flow.trace_step(index, step)
    hoist(plan, flow.hoistable, flow.used_hoisted)


class _Flow:
    """The walk over the steps in order: what each statement reads, and where that comes from."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.hoistable = hoistable_definitions(plan)
        self.late = LateBinding(plan)
        self.used_hoisted: set[str] = set()
        self.params = {p.name for p in plan.parameters}
        self.param_cells = {p.name: p.cell.cell.index for p in plan.parameters}  # the last cell that sets each
        self.available: dict[str, Step] = {}  # name → the last step that bound or changed it
        self.bound_at: dict[str, int] = {}  # name → the notebook cell of that binding
        self.deleted_in: dict[str, CellPlan] = {}  # name → the cell whose ``del`` unbound it last
        self.untagged: dict[str, list[CellPlan]] = {}  # name → the untagged cells that bind it, in notebook order
        self.tagged: dict[str, list[int]] = {}  # name → the steps' cells that bind it, in notebook order
        for cell in plan.cells:
            if not cell.names or not (cell.role is None or cell.promoted):
                continue
            for name in cell.names.binds:
                if cell.role is None:
                    self.untagged.setdefault(name, []).append(cell)
                else:
                    self.tagged.setdefault(name, []).append(cell.cell.index)

    def trace_step(self, index: int, step: Step) -> None:
        """Every statement of ``step``, with what it reads resolved; pulled and moved statements are traced too."""
        local: dict[str, int] = {}  # name → the notebook cell of its last binding in this step so far
        binds_anywhere = {n for p in step.body for n in p.stmt.binds}
        position = 0
        while position < len(step.body):
            stmt = step.body[position].stmt
            if stmt.is_definition and stmt.binds[0] in self.hoistable and self.hoistable[stmt.binds[0]].stmt is stmt:
                self.used_hoisted.add(stmt.binds[0])
                position += 1
                continue
            reads = list(stmt.reads)
            reads += [n for n in stmt.call_time_reads if n not in binds_anywhere]
            # A function defined here may run before the step binds a name it reads (``b = g(x)`` with g reading
            # b): the step's local starts as the value handed in, which is what the notebook's global held then.
            for name in stmt.call_time_reads:
                if name in binds_anywhere and name not in local and name not in reads:
                    self._known(name, step, step.body[position])
            inserted = self._resolve(reads, index, step, position, local)
            if inserted is not None:
                binds_anywhere |= inserted
                continue  # process the inserted statements first
            local.update(dict.fromkeys(stmt.binds, step.body[position].cell.cell.index))
            deleted = _deleted(stmt.node)
            for name in stmt.binds + [m for m in stmt.mutates if m not in self.plan.imports]:
                # imported again after an assignment (steps.py): later steps read the import; ``del name``: no step
                # after this one can be handed it (a read there is the notebook's NameError)
                if stmt.is_import or name in deleted:
                    self.available.pop(name, None)
                    self.bound_at.pop(name, None)
                    if name in deleted:
                        self.deleted_in[name] = step.body[position].cell
                    continue
                self.deleted_in.pop(name, None)
                self.available[name] = step
                self.bound_at[name] = step.body[position].cell.cell.index
            position += 1

    def _resolve(
        self, reads: list[str], index: int, step: Step, position: int, local: dict[str, int]
    ) -> set[str] | None:
        """Find where each name read comes from; the names bound by statements inserted before ``position``
        (pulled from an untagged cell, a definition moved from a later step or repeated from another), else None."""
        placed = step.body[position]
        for name in reads:
            bound = local.get(name, self.bound_at.get(name) if name in self.available else None)
            if bound is not None and name not in local:
                bound = self.late.handed_on_binding(name, bound, placed)
            # an untagged cell between that binding and this reader rebinds it (a helper redefined in a later
            # cell): this reader sees that one, as in the notebook
            if bound is not None and (
                pulled := _pull_from_untagged(self.plan, name, placed, self.untagged, step, since=bound)
            ):
                step.body[position:position] = pulled
                return {n for p in pulled for n in p.stmt.binds}
            # a def another step makes below that binding and above this reader, or one reading globals rebound
            # since it was made: repeated here (late_binding.py)
            if (bound is not None and (repeated := self.late.definition_between(name, bound, step, placed))) or (
                name not in local
                and name in self.available
                and (repeated := self.late.definition_to_repeat(name, step, placed))
            ):
                step.body.insert(position, repeated)
                return set(repeated.stmt.binds)
            if name in local:
                continue
            # ``epochs = 2`` in an untagged cell below the parameters cell: the notebook ran with that value
            if (
                name in self.params
                and name not in self.available
                and (
                    pulled := _pull_from_untagged(
                        self.plan, name, placed, self.untagged, step, since=self.param_cells[name]
                    )
                )
            ):
                step.body[position:position] = pulled
                return {n for p in pulled for n in p.stmt.binds}
            if self._known(name, step, placed):  # reads hold no builtin the notebook left alone
                continue
            if pulled := _pull_from_untagged(
                self.plan, name, placed, self.untagged, step, tagged=self.tagged.get(name)
            ):
                step.body[position:position] = pulled
                return {n for p in pulled for n in p.stmt.binds}
            if moved := _move_later_definition(self.plan, name, index, placed):
                step.body.insert(position, moved)
                return set(moved.stmt.binds)
            _undefined(self.plan, name, placed, index, self.deleted_in.get(name))
            local[name] = placed.cell.cell.index
        return None

    def _known(self, name: str, step: Step, reader: Placed) -> bool:
        """``name`` is an earlier step's output (handed over), a parameter, an import or a hoisted definition."""
        if name in self.available:
            producer = self.available[name]
            if producer is step:  # changed in place earlier in this step (``model.eval()``): its own, no hand-off
                return True
            if name not in step.inputs:
                step.inputs.append(name)
            if name not in producer.outputs:
                producer.outputs.append(name)
        elif name in self.params:
            if name not in step.params:
                step.params.append(name)
        elif name in self.plan.imports:
            pass
        elif name in self.hoistable:
            use_hoisted(self.plan, name, self.hoistable, self.used_hoisted, reader)
        else:
            return False
        return True


def _pull_from_untagged(
    plan: Plan,
    name: str,
    reader: Placed,
    untagged: dict[str, list[CellPlan]],
    step: Step,
    since: int | None = None,
    tagged: list[int] | None = None,
) -> list[Placed]:
    """The statements of the untagged cell that binds ``name`` last above ``reader`` (or, without one, the first
    below); with ``since``, only one between that cell index and the reader; without, none if one of the ``tagged``
    cells (indices, ascending) binds it between that cell and the reader."""
    binding = untagged.get(name, [])
    before = [c for c in binding if c.cell.index < reader.cell.cell.index]
    if since is not None:
        before = [c for c in before if c.cell.index > since]
        if not before:
            return []
    elif tagged and bisect.bisect_left(tagged, reader.cell.cell.index) > bisect.bisect_right(
        tagged, before[-1].cell.index if before else -1
    ):
        return []  # the reader sees a step's own binding, below it in the pipeline: moved, not pulled
    source = before[-1] if before else next(iter(binding), None)
    if source is None:
        return []
    statements = [s for s in source.names.statements if name in s.binds and not s.is_import]  # type: ignore[union-attr]
    pulled = [Placed(source, s, "pulled") for s in statements]
    already = {id(p.stmt) for p in step.body}
    pulled = [p for p in pulled if id(p.stmt) not in already]
    if pulled:
        warn_pulled(plan, reader, source, name)
    return pulled


def _move_later_definition(plan: Plan, name: str, index: int, reader: Placed) -> Placed | None:
    """The definition of ``name`` in this or a later step that ``reader`` sees in the notebook (the last one above
    it, else the first), moved to where it is read; None if it already runs there."""
    found = [
        (later, placed)
        for later in plan.steps[index:]
        for placed in later.body
        if (placed.stmt.is_definition or function_node(placed.stmt) or _state_of_moved(plan, placed, reader))
        and placed.stmt.binds[0] == name
        and placed is not reader
    ]
    if not found:
        return None
    above = [f for f in found if f[1].cell.cell.index < reader.cell.cell.index]
    # the last above in notebook order: a cell can define the name several times (def, then a lambda)
    later, placed = max(above, key=lambda f: (f[1].cell.cell.index, f[1].stmt.line)) if above else found[0]
    position = later.body.index(placed)
    if later is plan.steps[index] and later.body.index(reader) > position:
        return None
    del later.body[position]
    reader.cell.diagnostics.append(
        diagnostic(
            plan.notebook,
            placed.cell.cell,
            "info",
            "PRM017",
            f"'{name}' is defined in the {placed.cell.step or placed.cell.role} step but first used by step '{plan.steps[index].name}' (cell {reader.cell.cell.index}); its definition moved there",
            line_in_cell(placed.cell, placed.stmt.line),
        )
    )
    return Placed(placed.cell, placed.stmt, "moved")


def _state_of_moved(plan: Plan, placed: Placed, reader: Placed) -> bool:
    """``ledger = []`` in the cell of a moved ``def note(v): ledger.append(v)``: the state the function keeps moves
    with it when nothing else binds it (else the step that first calls it would run before the state exists)."""
    stmt = placed.stmt
    if reader.origin != "moved" or placed.cell is not reader.cell or not stmt.is_literal or stmt.reads:
        return False
    return sum(stmt.binds[0] in p.stmt.binds for step in plan.steps for p in step.body) == 1


# The names IPython binds for its history: ``_`` (last output), ``__``, ``___``, ``_5``, ``_i``, ``_i5``, ``In``, ``Out``
_IPYTHON_HISTORY = re.compile(r"_{1,3}|_\d+|_i{1,3}|_i\d+|_oh|_ih|_dh|In|Out")


def _undefined(plan: Plan, name: str, reader: Placed, index: int, deleted_in: CellPlan | None = None) -> None:
    later = [s.name for s in plan.steps[index + 1 :] if any(name in p.stmt.binds for p in s.body)]
    skipped = [c.cell.index for c in plan.cells if c.role == "skip" and c.names and name in c.names.binds]
    if deleted_in is not None:
        where = f"cell {deleted_in.cell.index} (id {deleted_in.cell.id})"
        message = f"'{name}' is deleted by {where} (del {name}) before this step runs: the package raises NameError if this line runs, as the notebook would after that cell"
        severity = "warning"
    elif later:
        message = f"'{name}' is used here but only step '{later[0]}' defines it, and that step runs later"
        severity = "error"
    elif skipped:
        message = f"'{name}' is defined only in skipped cell {skipped[0]}; tag that cell or define '{name}' in a promoted cell"
        severity = "warning"
    elif bound_below := _binding_below(plan.steps[index], name, reader):
        cell, line = bound_below
        where = "this cell" if cell is reader.cell else f"cell {cell.cell.index} (id {cell.cell.id})"
        message = (
            f"'{name}' is read here before {where} binds it at line {line}: where that read runs first (the first "
            "pass of a loop), the package raises NameError, as a fresh run of the notebook would"
        )
        severity = "warning"
    elif setter := _global_setter(plan, name):
        cell, function, line = setter
        message = (
            f"'{name}' is set only by `global {name}` in {function}() (cell {cell.cell.index}, id {cell.cell.id}, "
            f"line {line}): a step is a function, and a global another function sets is not its variable, so the "
            f"package would raise NameError here. Return the value instead ({name} = {function}())"
        )
        severity = "error"
    elif plan.star_imports:  # no cell defines it: from a star import, as in the notebook (PRM002 on that import)
        plan.star_names.add(name)
        return
    elif _IPYTHON_HISTORY.fullmatch(name):
        message = (
            f"'{name}' is IPython's input/output history, which exists only in a kernel: the package raises NameError "
            "if this line runs; bind the value to a name in the cell that computes it"
        )
        severity = "warning"
    else:
        message = f"'{name}' is used but defined in no cell; the package raises NameError if this line runs"
        severity = "warning"
    line = _first_use(reader, name)
    plan.undefined.setdefault(name, []).append((reader.cell.cell.index, line))
    plan.diagnose(reader.cell, severity, "PRM002", message, line)


def _global_setter(plan: Plan, name: str) -> tuple[CellPlan, str, int] | None:
    """The cell, def and line of a ``global name`` declaration in a def of a promoted or untagged cell."""
    for cell in plan.cells:
        if cell.role == "skip" or not cell.names or "global" not in cell.cell.source:
            continue
        for stmt in cell.names.statements:
            if isinstance(stmt.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for declared in stmt.index.of(ast.Global):
                    if name in declared.names:
                        return cell, stmt.node.name, line_in_cell(cell, declared.lineno)
    return None


def _binding_below(step: Step, name: str, reader: Placed) -> tuple[CellPlan, int] | None:
    """The cell and line where ``step`` binds ``name`` at or after ``reader`` (a loop binding what it read)."""
    body = step.body[step.body.index(reader) :] if reader in step.body else []
    for placed in body:
        if name in placed.stmt.binds:
            lines = [n.lineno for n in placed.stmt.index.of(ast.Name) if n.id == name and isinstance(n.ctx, ast.Store)]
            return placed.cell, line_in_cell(placed.cell, min(lines, default=placed.stmt.line))
    return None


def _first_use(placed: Placed, name: str) -> int:
    lines = [n.lineno for n in placed.stmt.index.of(ast.Name) if n.id == name and isinstance(n.ctx, ast.Load)]
    return line_in_cell(placed.cell, min(lines, default=placed.stmt.line))

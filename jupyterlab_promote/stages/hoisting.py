"""Stage: hoisting. The definitions that read only imports, builtins and other such definitions, and that nothing
changes, go to module level (``data.py``, ``model.py``, ``pipeline.py``), where every stage imports them; the others
stay in the step that makes them and are handed on.
"""

from __future__ import annotations

import ast

from ..analysis.cellplan import CellPlan
from ..analysis.names import BUILTINS, changes_of_call, has_default
from .late_binding import changes_through, stores_through
from .plan import MODULE_ORDER, Placed, Plan, Step, line_in_cell

# Where hoisted definitions of each role go; later modules may import earlier ones (MODULE_ORDER).
_ROLE_MODULE = {"data": "data", "preprocess": "data", "model": "model"}


def hoistable_definitions(plan: Plan) -> dict[str, Placed]:
    """Definitions that read only imports, builtins and other such definitions (a builtin's name the notebook
    rebound before is among the reads: analysis/cells.py)."""
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
    for name in _changed_definitions(plan, candidates):
        del candidates[name]
    params = {p.name for p in plan.parameters}
    # An import the notebook also assigns to (``math = 1.0`` above ``import math``) is whichever came last when the
    # function runs: in a module of its own the function would always read the import.
    imports = set(plan.imports) - {
        name
        for cell in plan.cells
        if cell.names
        for stmt in cell.names.statements
        if not stmt.is_import and not stmt.is_definition
        for name in stmt.binds
    }
    changed = True
    while changed:
        changed = False
        for name, placed in list(candidates.items()):
            needs = set(placed.stmt.reads) | set(placed.stmt.call_time_reads)
            bad = {n for n in needs if n not in imports and n not in candidates}
            if bad or needs & params:
                del candidates[name]
                changed = True
    return candidates


def _changed_definitions(plan: Plan, definitions: dict[str, Placed]) -> set[str]:
    """The definitions the notebook changes: through an attribute or an item (``Config.rate = 3.0``), a method that
    changes its own class (``Counter.made += 1``), or a default a call fills (``def acc(v, seen=[])``). They stay in
    their step and are handed on: at module level each stage run alone would import them unchanged."""
    changed = set()
    for name, placed in definitions.items():
        node = placed.stmt.node
        if isinstance(node, ast.ClassDef) and stores_through(placed.stmt, {name}):
            changed.add(name)
        elif _made_defaults(node):  # a list, a dict or an object made once, which calls may fill
            if any(has_default(node, param) for _, param in changes_of_call(placed.stmt).params):
                changed.add(name)
    for cell in plan.cells:
        for stmt in cell.names.statements if cell.names else ():
            if not definitions.keys().isdisjoint(stmt.mutates):  # a change through a part changes the definition
                changed |= changes_through(stmt, definitions.keys())
    return changed


def _made_defaults(node: ast.stmt) -> bool:
    arguments = getattr(node, "args", None)
    defaults = [*arguments.defaults, *arguments.kw_defaults] if arguments is not None else []
    made = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp, ast.Call)
    return any(isinstance(default, made) for default in defaults)


def _module_for(placed: Placed, hoisted: dict[str, Placed], placement: dict[str, str]) -> str:
    role = placed.cell.role or ""
    module = _ROLE_MODULE.get(role, "pipeline")
    for dependency in set(placed.stmt.reads) | set(placed.stmt.call_time_reads):
        if dependency in placement:
            module = max(module, placement[dependency], key=MODULE_ORDER.index)
    return module


# --- stage: data flow ----------------------------------------------------------------


def hoist(plan: Plan, hoistable: dict[str, Placed], used_hoisted: set[str]) -> None:
    """The hoistable definitions some step uses go to their module and leave the steps' bodies."""
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
    """A class that stays inside its step (it reads notebook state, or the notebook changes it): its instances cannot
    be pickled by reference."""
    for placed in step.body:
        if isinstance(placed.stmt.node, ast.ClassDef):
            plan.diagnose(
                placed.cell,
                "warning",
                "PRM005",
                f"class {placed.stmt.binds[0]} {_why_kept_in_step(plan, placed, hoistable)}, so it stays inside the"
                f" {step.name} step; DataLoader workers started with 'spawn' cannot pickle it",
                line_in_cell(placed.cell, placed.stmt.line),
            )


def _why_kept_in_step(plan: Plan, placed: Placed, hoistable: dict[str, Placed]) -> str:
    name, stmt = placed.stmt.binds[0], placed.stmt
    state = [
        n for n in dict.fromkeys(stmt.call_time_reads + stmt.reads) if n not in plan.imports and n not in hoistable
    ]
    if state := [n for n in state if n not in BUILTINS]:
        return f"reads notebook state ({', '.join(state)}). Pass those values to its constructor"
    if _changed_definitions(plan, {name: placed}):
        return "is changed by the notebook after it is defined (through an attribute, an item or a part's method)"
    if placed.cell.role == "parameters":
        return "is defined in the parameters cell (whose lines other than parameters run inside the first step)"
    return "is defined more than once in the notebook"


def use_hoisted(plan: Plan, name: str, hoistable: dict[str, Placed], used: set[str], reader: Placed) -> None:
    if name in used:
        return
    used.add(name)
    definition = hoistable[name]
    if definition.origin == "pulled":
        warn_pulled(plan, reader, definition.cell, name)
    for dependency in set(definition.stmt.reads) | set(definition.stmt.call_time_reads):
        if dependency in hoistable:
            use_hoisted(plan, dependency, hoistable, used, definition)


def warn_pulled(plan: Plan, reader: Placed, source: CellPlan, name: str) -> None:
    role = reader.cell.role or "step"
    where = f"untagged cell {source.cell.index} (id {source.cell.id})"
    if parameter := next((p for p in plan.parameters if p.name == name), None):
        message = (
            f"parameter '{name}' is set again in {where}, below the parameters cell; that line was pulled in, as the "
            f"notebook ran it, so the package's {parameter.flag} does not reach this line. Tag that cell to make this"
            " explicit, or delete the line"
        )
    else:
        message = (
            f"'{name}' is defined only in {where}; its definition was pulled in. Tag that cell to make this explicit"
        )
    plan.diagnose(
        reader.cell,
        "error" if plan.strict else "warning",
        "PRM003",
        message,
        line_in_cell(reader.cell, reader.stmt.line),
        suggestion={
            "action": "set-role",
            "cell_index": source.cell.index,
            "cell_id": source.cell.id,
            "role": role if role != "step" else "functions",
        },
        related_cells=[{"index": source.cell.index, "id": source.cell.id}],
    )

"""Notebook → Plan, through named stages that each add one kind of fact.

Like black's pipeline, each stage is a function of the plan so far; their order is the order below.
"""

from __future__ import annotations

from ..analysis import analyse
from ..notebook import Notebook, content_hash
from ..plan import Plan, package_name
from .dataflow import data_flow
from .handoffs import unsavable_handoffs
from .hidden_state import skipped_changes, skipped_random_draws
from .imports import import_table
from .metrics import metrics
from .parameters import parameters
from .paths import file_paths
from .reserved import reserved_names
from .search_space import search_space_diagnostics
from .steps import steps
from .training import framework, training_loop


def build_plan(notebook: Notebook, package: str | None = None, *, strict: bool = False) -> Plan:
    cells = analyse(notebook)
    plan = Plan(notebook=notebook, package=package_name(package or notebook.stem), cells=cells, strict=strict)
    plan.content_hash = content_hash([c.cell.source for c in cells if c.role not in (None, "skip")])
    if any(c.plain and c.plain.syntax_error and c.promoted for c in cells):
        return plan
    prelude = parameters(plan)
    search_space_diagnostics(plan)
    import_table(plan)
    steps(plan, prelude)
    if plan.steps:
        data_flow(plan)
        skipped_changes(plan)
        skipped_random_draws(plan)
        reserved_names(plan)
        metrics(plan)
        framework(plan)
        training_loop(plan)
        file_paths(plan)
        unsavable_handoffs(plan)
    return plan

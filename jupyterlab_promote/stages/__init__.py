"""Notebook → Plan: the stages, each a verb on the plan that adds one kind of fact, run in the order of STAGES.

Every stage has the same signature, ``stage(plan) -> None``, and checks its own preconditions (most need
the steps that ``assign_steps`` makes, and do nothing without them).
"""

from __future__ import annotations

from typing import Callable

from ..analysis.cells import analyse, cyclic_gc_paused
from ..analysis.roles import unread_role_tags
from ..read.notebook import Notebook, content_hash
from .dataflow import trace_data_flow
from .definition_paths import find_definition_writes
from .handoffs import warn_unsavable_handoffs
from .hidden_state import warn_random_draws, warn_skipped_changes
from .imports import collect_imports
from .literals import store_large_literals
from .local_modules import copy_local_modules
from .metric_evidence import expect_numeric_metrics
from .metrics import find_metrics
from .parameters import collect_parameters
from .paths import anchor_file_paths
from .plan import Plan, package_name
from .process_settings import find_process_settings
from .rebound_imports import alias_rebound_imports
from .reserved import give_way_to_notebook_names
from .scopes import refuse_lost_globals
from .search_space import check_search_space
from .steps import assign_steps
from .training import detect_framework, map_training_loop

STAGES: tuple[Callable[[Plan], None], ...] = (
    collect_parameters,
    check_search_space,
    collect_imports,
    assign_steps,
    find_process_settings,
    trace_data_flow,
    refuse_lost_globals,
    copy_local_modules,
    warn_skipped_changes,
    warn_random_draws,
    give_way_to_notebook_names,
    alias_rebound_imports,
    find_metrics,
    expect_numeric_metrics,
    detect_framework,
    map_training_loop,
    find_definition_writes,
    anchor_file_paths,
    store_large_literals,
    warn_unsavable_handoffs,
)


def build_plan(notebook: Notebook, package: str | None = None, *, strict: bool = False) -> Plan:
    with cyclic_gc_paused():  # the stages walk the trees the analysis made (cells.py)
        cells, shared = analyse(notebook)
        plan = Plan(notebook=notebook, package=package_name(package or notebook.stem), cells=cells, strict=strict)
        plan.shared_objects = shared
        plan.content_hash = content_hash([c.cell.source for c in cells if c.role not in (None, "skip")])
        plan.diagnostics.extend(unread_role_tags(notebook))
        if any(c.plain and c.plain.syntax_error and c.promoted for c in cells):
            return plan  # PRM001 on the cell already: nothing else can be read from code that does not parse
        for stage in STAGES:
            stage(plan)
    return plan

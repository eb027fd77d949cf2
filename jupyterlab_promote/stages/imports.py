"""Stage: one import statement per bound name, from every cell."""

from __future__ import annotations

import ast

from ..analysis.cellplan import CellPlan
from ..analysis.diagnostics import diagnostic
from ..read.frontends import console_import
from ..read.magics import PlainSource
from .plan import Plan


def collect_imports(plan: Plan) -> None:
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
                    plan.imports.setdefault(bound, console_import(text))
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                _collect_from_import(plan, cell, stmt.line, node)
        if cell.plain and cell.role not in (None, "skip"):
            _collect_magic_needs(plan, cell.plain)
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


def _collect_magic_needs(plan: Plan, plain: PlainSource) -> None:
    """What a cell's rewritten magics call (``subprocess.run``, ``os.environ``) and install (``%pip``)."""
    for module in plain.modules:
        plan.imports.setdefault(module, f"import {module}")
    plan.requirements.extend(r for r in plain.requirements if r not in plan.requirements)


def _collect_from_import(plan: Plan, cell: CellPlan, line: int, node: ast.ImportFrom) -> None:
    """``from X import a as b`` binds b; ``import *`` binds names no one can see (PRM002)."""
    for alias in node.names:
        if alias.name == "*":
            star = f"from {node.module} import *"
            if cell.role == "skip":
                continue
            if star not in plan.star_imports:
                plan.star_imports.append(star)
            plan.diagnose(
                cell,
                "warning",
                "PRM002",
                f"'{star}' hides which names the code uses: the package imports it the same way and takes from it"
                " every name no cell defines; import them by name so that a misspelt one is caught",
                line,
            )
            continue
        bound = alias.asname or alias.name
        text = f"from {node.module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        plan.imports.setdefault(bound, console_import(text))

"""Stage: modules the package cannot import: the notebook's own, and Colab's.

A kernel starts in the notebook's folder, so ``import helpers`` finds ``helpers.py`` beside the notebook (or in a
folder a cell puts on ``sys.path``). The package imports its modules' imports at the top of each module, from
wherever it is installed or run: that ``helpers`` is not there, and requirements would even name a PyPI
distribution ``helpers``, another project's code. A promotion that exits 0 must give a package that runs, so such
an import, read by the promoted code, is refused (PRM052) at its line, with what to do instead. So is
``google.colab``, which exists only inside Colab (PyPI's ``google`` names another project).
"""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

from ..analysis.cellplan import CellPlan
from ..installed import distribution_version
from .plan import Plan, line_in_cell

# ``sys.path.append("lib")``, ``sys.path.insert(0, "../src")``: folders the notebook's own imports are found in
_PATH_ADDITION = re.compile(r"sys\.path\.(?:append|insert)\(\s*(?:\d+\s*,\s*)?[rR]?(['\"])([^'\"\n]+)\1\s*\)")


def refuse_local_modules(plan: Plan) -> None:
    """PRM052 at each import of a module found beside the notebook, or of Colab's, whose name the promoted code
    reads."""
    if not plan.steps:
        return
    folder = plan.notebook.path.resolve().parent
    searched = [folder] + _added_folders(plan, folder)
    read = _read_by_promoted_code(plan)
    for cell in plan.cells:
        if cell.role == "skip" or not cell.names:
            continue
        for statement in cell.names.statements:
            for module, bound in _imported(statement.node) if statement.is_import else ():
                if bound not in read:
                    continue
                if module == "google.colab" or module.startswith("google.colab."):
                    _refuse_colab(plan, cell, statement.line)
                elif (found := _local_file(module.split(".")[0], searched)) and not _installed(module.split(".")[0]):
                    _refuse(plan, cell, statement.line, module.split(".")[0], found, folder)


def _added_folders(plan: Plan, folder: Path) -> list[Path]:
    """The folders the notebook's cells add to ``sys.path`` with a literal, relative to the notebook's folder."""
    found = []
    for cell in plan.cells:
        source = cell.cell.source if cell.cell.cell_type == "code" else ""
        for match in _PATH_ADDITION.finditer(source) if "sys.path" in source else ():
            try:
                found.append((folder / match.group(2)).resolve())
            except (OSError, ValueError):
                continue  # a path the system refuses names no folder to look in
    return found


def _read_by_promoted_code(plan: Plan) -> set[str]:
    """The names the steps and the module-level definitions read."""
    placed = [p.stmt for step in plan.steps for p in step.body]
    placed += [p.stmt for items in plan.hoisted.values() for p in items]
    return {name for stmt in placed for name in (*stmt.reads, *stmt.call_time_reads)}


def _imported(node: ast.stmt) -> list[tuple[str, str]]:
    """(the module, or the module's attribute, imported; the name bound) for each name an absolute import binds:
    ``from google import colab`` → ("google.colab", "colab")."""
    if isinstance(node, ast.Import):
        return [(alias.name, alias.asname or alias.name.split(".")[0]) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [(f"{node.module}.{a.name}", a.asname or a.name) for a in node.names if a.name != "*"]
    return []


def _local_file(module: str, folders: list[Path]) -> Path | None:
    """``module.py`` or the package ``module/`` in one of ``folders``, as the kernel's import would find it."""
    for folder in folders:
        for candidate in (folder / f"{module}.py", folder / module / "__init__.py"):
            try:
                if candidate.is_file():
                    return candidate
            except OSError:  # a name too long for the file system is no module there
                continue
    return None


def _refuse_colab(plan: Plan, cell: CellPlan, line: int) -> None:
    plan.diagnose(
        cell,
        "error",
        "PRM052",
        "google.colab exists only inside Google Colab (drive.mount, files.upload): the package, run anywhere else, "
        "would stop with ModuleNotFoundError. Move the Colab lines to a cell tagged skip and read the data from a "
        "path (a parameter)",
        line_in_cell(cell, line),
    )


def _installed(module: str) -> bool:
    """A distribution installed here provides ``module`` (the folder installed with pip install -e, say): the
    package's requirements name it, and it imports wherever that distribution is installed."""
    # packages_distributions scans every installed distribution: asked only once a module is found beside
    return bool(distribution_version(module)) or module in metadata.packages_distributions()


def _refuse(plan: Plan, cell: CellPlan, line: int, module: str, found: Path, folder: Path) -> None:
    try:
        shown = found.relative_to(folder).as_posix()
    except ValueError:
        shown = found.name  # never an absolute path in a message: it names the machine, not the notebook
    if shown.endswith("/__init__.py"):
        shown = shown[: -len("/__init__.py")] + "/"
    plan.diagnose(
        cell,
        "error",
        "PRM052",
        f"'{module}' is the notebook's own module ({shown}, found from the notebook's folder), which the package "
        f"does not contain: it would stop with ModuleNotFoundError (and its requirements would name a PyPI "
        f"distribution '{module}'). Make it installable (a pyproject.toml beside it, then pip install -e) or move "
        "the code it needs into a promoted cell",
        line_in_cell(cell, line),
    )

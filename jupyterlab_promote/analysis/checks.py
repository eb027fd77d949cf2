"""Checks on a promoted cell's code that cost no more than a look at it: PRM004–PRM007, PRM011 and PRM050.

Absolute paths, a change of working directory and hard-coded CUDA devices (by line), lambdas in data cells (they do
not pickle into DataLoader workers), a tag its code contradicts, and cells run out of order.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..read.lines import split_lines
from ..read.magics import CHANGED_FOLDER
from ..read.notebook import Notebook
from .cellplan import CellPlan
from .diagnostics import diagnostic
from .roles import tag_for

_ABSOLUTE_PATH = re.compile(
    r"""(?<![\w])['"](/(?:home|Users|mnt|data|tmp|root|opt|srv|var)/[^'"]*|[A-Za-z]:\\\\[^'"]*)['"]"""
)
_CHDIR_CALL = re.compile(r"\bchdir\s*\(")
_CUDA_CALL = re.compile(r"""\.cuda\(\)|\.to\(\s*['"]cuda|device\(\s*['"]cuda(:\d+)?['"]\s*\)""")
# Roles whose code says clearly enough what it does that a contradicting suggestion is worth a note.
_STRONG = {"train", "evaluate", "export", "model", "data"}
# Model cells often build their optimiser; train cells often evaluate per epoch.
_COMPATIBLE = {
    ("model", "train"),
    ("train", "evaluate"),
    ("train", "model"),
    ("data", "preprocess"),
    ("preprocess", "data"),
    ("train", "export"),
}


def check_code(notebook: Notebook, plan: CellPlan, has_lambda: bool = True) -> None:
    """PRM005, PRM006, PRM007, PRM011, PRM050, PRM053 and PRM054 on a promoted cell; ``has_lambda``: False when the cell surely
    has none."""
    _check_lines(notebook, plan)
    if plan.names and ("input" in plan.cell.source or "getpass" in plan.cell.source):
        _check_prompts(notebook, plan)
    if plan.names and "listdir" in plan.cell.source:
        _check_listings(notebook, plan)
    if plan.role in ("data", "preprocess") and plan.names and has_lambda:
        _check_lambdas(notebook, plan)
    _check_tag_against_code(notebook, plan)


def _check_lines(notebook: Notebook, plan: CellPlan) -> None:
    """Absolute paths (PRM007) and hard-coded CUDA devices (PRM006), line by line, comments aside."""
    code = plan.plain.code if plan.plain else ""
    offset = plan.plain.line_offset if plan.plain else 0
    for number, text in enumerate(split_lines(code), start=1 + offset):
        stripped = text.split("#", 1)[0]
        # the `in` tests first: a line of data (megabytes of numbers or records) holds neither, and the patterns
        # look behind
        if ('"/' in stripped or "'/" in stripped or ":\\\\" in stripped) and _ABSOLUTE_PATH.search(stripped):
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    plan.cell,
                    "warning",
                    "PRM007",
                    "absolute path: it will not exist on another machine; make it a parameter or a path relative to the project",
                    number,
                )
            )
        if "chdir" in stripped and _CHDIR_CALL.search(stripped):
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    plan.cell,
                    "error",
                    "PRM050",
                    f"os.chdir {CHANGED_FOLDER}",
                    number,
                )
            )
        if "cuda" in stripped and _CUDA_CALL.search(stripped):
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    plan.cell,
                    "warning",
                    "PRM006",
                    "hard-coded CUDA device: Lightning places models and batches itself, so this breaks CPU and multi-GPU runs",
                    number,
                )
            )


def _check_prompts(notebook: Notebook, plan: CellPlan) -> None:
    """PRM053 at ``input()`` and ``getpass()``: the package runs unattended (CI, ``dvc repro``, a cluster), where
    nobody answers and standard input is closed (EOFError)."""
    for call, name, line in _calls(plan, ("input", "getpass")):
        if name == "input" and not isinstance(call.func, ast.Name):
            continue  # a method of that name, not the built-in
        plan.diagnostics.append(
            diagnostic(
                notebook,
                plan.cell,
                "error",
                "PRM053",
                f"{name}() waits for someone to type an answer, but the package runs unattended (CI, dvc repro, a "
                "cluster), where standard input is closed: make the value a parameter, read a secret from an "
                "environment variable (os.environ[...]), or move this line to a cell tagged skip",
                line,
            )
        )


def _check_listings(notebook: Notebook, plan: CellPlan) -> None:
    """PRM054 at ``os.listdir()`` / ``os.listdir(".")``: bare names of the working folder (``os.scandir``'s entries
    carry their ``.path``). The package lists the folder ``"."`` names in the notebook's folder, but it runs from its
    project, where a name from the list, opened as it is, is not."""
    for call, _, line in _calls(plan, ("listdir",)):
        if not _names_working_folder(call):
            continue
        plan.diagnostics.append(
            diagnostic(
                notebook,
                plan.cell,
                "warning",
                "PRM054",
                "listdir() of the working folder gives bare file names: the package lists the notebook's folder, "
                "but it runs from its project, so a name from this list opened as it is (open(name)) is not "
                "found there; join the folder to each name (os.path.join('.', name)), or list paths with "
                "glob.glob('*.csv') or Path('.').glob('*.csv')",
                line,
            )
        )


def _calls(plan: CellPlan, names: tuple[str, ...]) -> Iterator[tuple[ast.Call, str, int]]:
    """The cell's calls of a function or method named one of ``names``, each with that name and its line."""
    offset = plan.plain.line_offset if plan.plain else 0
    for stmt in plan.names.statements if plan.names else []:
        for call in stmt.index.of(ast.Call):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in names:
                yield call, name, call.lineno + offset


def _names_working_folder(call: ast.Call) -> bool:
    """A listing of the working folder: no folder given, ``"."``, ``"./"`` or ``os.getcwd()``."""
    folder = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "path"), None)
    if folder is None:
        return True
    if isinstance(folder, ast.Constant):
        return folder.value in ("", ".", "./")
    return isinstance(folder, ast.Call) and ast.unparse(folder.func) in ("os.getcwd", "getcwd", "Path.cwd")


def _check_lambdas(notebook: Notebook, plan: CellPlan) -> None:
    """PRM005 at every lambda of a data cell that can outlive its statement: not one called where it is written
    (``(lambda v: v * 2)(x)``), nor a ``key=`` that sorted/min/max/sort use up there."""
    offset = plan.plain.line_offset if plan.plain else 0
    for stmt in plan.names.statements if plan.names else []:
        used_up = {
            id(part)
            for call in stmt.index.of(ast.Call)
            for part in [call.func, *(k.value for k in call.keywords if k.arg == "key")]
            if isinstance(part, ast.Lambda)
        }
        for node in stmt.index.of(ast.Lambda):
            if id(node) in used_up:
                continue
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    plan.cell,
                    "warning",
                    "PRM005",
                    "lambda in a data cell: DataLoader workers started with 'spawn' cannot pickle it; use a def at module level",
                    node.lineno + offset,
                )
            )


def _check_tag_against_code(notebook: Notebook, plan: CellPlan) -> None:
    """PRM011, with a one-click retag, when the code clearly plays another role than the tag says."""
    role, suggested, cell = plan.role, plan.suggested_role, plan.cell
    if role not in _STRONG or not suggested or suggested not in _STRONG:
        return
    if suggested == role or (role, suggested) in _COMPATIBLE:
        return
    plan.diagnostics.append(
        diagnostic(
            notebook,
            cell,
            "info",
            "PRM011",
            f"tagged {tag_for(role)} but its code looks like {suggested}",
            suggestion={"action": "set-role", "cell_index": cell.index, "cell_id": cell.id, "role": suggested},
        )
    )


def check_execution_order(notebook: Notebook, plans: list[CellPlan]) -> None:
    """PRM004: cells run out of order leave state the code alone does not explain."""
    last = 0
    for plan in plans:
        count = plan.cell.execution_count
        if count is None:
            continue
        if count < last:
            plan.diagnostics.append(
                diagnostic(
                    notebook,
                    plan.cell,
                    "warning",
                    "PRM004",
                    f"hidden state: this cell ran (execution count {count}) before the cell above it ({last}); restart and run all to check the notebook top to bottom",
                )
            )
        last = max(last, count)

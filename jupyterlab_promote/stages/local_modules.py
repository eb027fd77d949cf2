"""Stage: the notebook's own modules, and the modules the package cannot import.

A kernel starts in the notebook's folder, so ``import helpers`` finds ``helpers.py`` beside the notebook. The package
imports its modules' imports from wherever it is installed or run, where that ``helpers`` is not (and requirements
would even name a PyPI distribution ``helpers``, another project's code). So a module file beside the notebook that
the promoted code reads (or one in a folder a cell adds to ``sys.path``), with the notebook's other modules it
imports in turn, is copied into the package as ``notebook_modules/helpers.py`` and imported from there
(codegen/notebook_modules.py writes it). A module a ``%%writefile helpers.py`` cell writes is copied from that cell,
so the package holds what the notebook's run would have written, whether or not it ran before promotion. What
cannot be copied so is refused (PRM052) at its line, with what to do instead: a package folder (``helpers/``), a
file that does not parse; and ``google.colab``, which exists only inside Colab (PyPI's ``google`` names another
project).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..analysis.cellplan import CellPlan
from ..installed import distribution_version
from .plan import Placed, Plan, line_in_cell

# ``sys.path.append("lib")``, ``sys.path.insert(0, "../src")``: folders the notebook's own imports are found in
PATH_ADDITION = re.compile(r"sys\.path\.(?:append|insert)\(\s*(?:\d+\s*,\s*)?[rR]?(['\"])([^'\"\n]+)\1\s*\)")
# where the package holds the copies (a subpackage: a module named data.py or model.py meets no generated one)
NOTEBOOK_MODULES = "notebook_modules"
# ``%%writefile helpers.py``, ``%%writefile -a "my lib.py"``: the first line of a cell that writes a file
_WRITEFILE = re.compile(r"%%writefile\b([^\n]*)\n")


@dataclass
class _Places:
    """Where the kernel's imports found the notebook's own modules: the notebook's folder first, then the folders
    its cells add to ``sys.path``; and the module files its ``%%writefile`` cells write there (path → text)."""

    folders: list[Path]
    written: dict[Path, str]

    def find(self, module: str) -> Path | None:
        """``module.py`` or the package ``module/`` in one of the folders, as the kernel's import would find it."""
        for folder in self.folders:
            for candidate in (folder / f"{module}.py", folder / module / "__init__.py"):
                try:
                    if candidate in self.written or candidate.is_file():
                        return candidate
                except OSError:  # a name too long for the file system is no module there
                    continue
        return None

    def read(self, path: Path) -> str:
        return self.written[path] if path in self.written else path.read_text(encoding="utf-8")


def copy_local_modules(plan: Plan) -> None:
    """Each module of the notebook's own whose name the promoted code reads: copied into the package, with the
    modules of yours it imports, and imported from there; PRM052 where that cannot be (and for Colab)."""
    if not plan.steps:
        return
    folder = plan.notebook.path.resolve().parent
    searched = _Places([folder] + _added_folders(plan, folder), _written_modules(plan, folder))
    placed = [p for step in plan.steps for p in step.body] + [p for items in plan.hoisted.values() for p in items]
    read = {name for p in placed for name in (*p.stmt.reads, *p.stmt.call_time_reads)}
    for cell in plan.cells:
        if cell.role == "skip" or not cell.names or "import" not in cell.cell.source:
            continue
        for statement in (s for s in cell.names.statements if s.is_import):
            for module, bound in _imported(statement.node):
                if bound in read or bound == "*":
                    _copy_or_refuse(plan, cell, statement.line, module, searched)
    _copy_nested_imports(plan, placed, searched)
    if plan.notebook_modules:
        _import_copies(plan)


def _copy_nested_imports(plan: Plan, placed: list[Placed], searched: _Places) -> None:
    """An import inside a def or a block the package holds: what it binds is the def's own, so it counts as read."""
    for item in placed:
        if "import" in item.cell.cell.source and not item.stmt.is_import:
            for node in item.stmt.index.of(ast.Import, ast.ImportFrom):
                for module, _ in _imported(node):
                    _copy_or_refuse(plan, item.cell, node.lineno, module, searched)


def _copy_or_refuse(plan: Plan, cell: CellPlan, line: int, module: str, searched: _Places) -> None:
    """An import the promoted code reads: of Colab's (PRM052), or of a module found from the notebook's folder
    (copied, or PRM052 saying why not)."""
    top = module.split(".")[0]
    if module == "google.colab" or module.startswith("google.colab."):
        _refuse_colab(plan, cell, line)
    elif top in plan.notebook_modules:
        return  # copied at an earlier import
    elif (found := searched.find(top)) and not _installed(top):
        before = set(plan.notebook_modules)
        if (why := _copy(plan, top, found, searched)) is not None:
            _refuse(plan, cell, line, top, found, searched.folders[0], why)
            return
        also = sorted(set(plan.notebook_modules) - before - {top})
        plan.diagnose(
            cell,
            "info",
            "PRM055",
            f"{plan.notebook_modules[top][1]}, the notebook's own module, is copied into the package as "
            f"src/{plan.package}/{NOTEBOOK_MODULES}/{top}.py"
            + (
                f" with the modules of yours it imports ({', '.join(plan.notebook_modules[n][1] for n in also)})"
                if also
                else ""
            )
            + "; promote again after changing it (a change there makes the package out of date)",
            line_in_cell(cell, line),
        )


def _copy(plan: Plan, module: str, found: Path, searched: _Places) -> str | None:
    """Copy ``module`` and the notebook's own modules it imports into ``plan.notebook_modules``; None, or why it
    cannot be copied (nothing is copied then)."""
    copies: dict[str, tuple[str, str]] = {}
    todo = [(module, found)]
    while todo:
        name, path = todo.pop()
        if name in copies or name in plan.notebook_modules:
            continue
        if path.name == "__init__.py":
            return f"'{name}' is a package folder, which the package does not copy"
        try:
            source = searched.read(path)
            tree = ast.parse(source, filename=path.name)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, MemoryError, RecursionError) as error:
            return f"{path.name} cannot be read as Python ({type(error).__name__})"
        copies[name] = (source, os.path.relpath(path, searched.folders[0]).replace(os.sep, "/"))
        for node in ast.walk(tree):
            for imported, _ in _imported(node) if isinstance(node, (ast.Import, ast.ImportFrom)) else ():
                top = imported.split(".")[0]
                if (local := searched.find(top)) is not None and not _installed(top):
                    todo.append((top, local))
    plan.notebook_modules.update(copies)
    return None


def _added_folders(plan: Plan, folder: Path) -> list[Path]:
    """The folders the notebook's cells add to ``sys.path`` with a literal, relative to the notebook's folder."""
    found = []
    for cell in plan.cells:
        source = cell.cell.source if cell.cell.cell_type == "code" else ""
        for match in PATH_ADDITION.finditer(source) if "sys.path" in source else ():
            try:
                found.append((folder / match.group(2)).resolve())
            except (OSError, ValueError):
                continue  # a path the system refuses names no folder to look in
    return found


def _written_modules(plan: Plan, folder: Path) -> dict[Path, str]:
    """The ``*.py`` files the notebook's ``%%writefile`` cells write (``-a`` appends), in cell order: path → text."""
    written: dict[Path, str] = {}
    for cell in plan.cells:
        source = cell.cell.source if cell.cell.cell_type == "code" else ""
        header = _WRITEFILE.match(source.lstrip()) if "%%writefile" in source else None
        try:
            words = shlex.split(header.group(1)) if header else []
        except ValueError:  # an unclosed quote: IPython refuses the cell too
            continue
        appends = "-a" in words or "--append" in words
        names = [word for word in words if not word.startswith("-")]
        if len(names) != 1 or not names[0].endswith(".py"):
            continue
        try:
            path = (folder / names[0]).resolve()
        except (OSError, ValueError):
            continue
        body = source.lstrip()[header.end() :]  # type: ignore[union-attr]
        written[path] = (written.get(path, "") if appends else "") + body
    return written


def _imported(node: ast.stmt) -> list[tuple[str, str]]:
    """(the module, or the module's attribute, imported; the name bound) for each name an absolute import binds:
    ``from google import colab`` → ("google.colab", "colab")."""
    if isinstance(node, ast.Import):
        return [(alias.name, alias.asname or alias.name.split(".")[0]) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [(f"{node.module}.{a.name}", a.asname or a.name) for a in node.names]  # ``*`` binds "*"
    return []


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


def _refuse(plan: Plan, cell: CellPlan, line: int, module: str, found: Path, folder: Path, why: str) -> None:
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
        f"cannot contain: {why}. It would stop with ModuleNotFoundError (and its requirements would name a PyPI "
        f"distribution '{module}'). Make it installable (a pyproject.toml beside it, then pip install -e), make it "
        "one file beside the notebook, or move the code it needs into a promoted cell",
        line_in_cell(cell, line),
    )


def _import_copies(plan: Plan) -> None:
    """The notebook's imports of a copied module read the package's copy: ``import helpers`` → ``from
    .notebook_modules import helpers``, ``from helpers import f`` → ``from .notebook_modules.helpers import f``."""
    for bound, text in list(plan.imports.items()):
        if (rewritten := copied_import(text, set(plan.notebook_modules), f".{NOTEBOOK_MODULES}")) is not None:
            plan.imports[bound] = rewritten
    plan.star_imports = [
        copied_import(text, set(plan.notebook_modules), f".{NOTEBOOK_MODULES}") or text for text in plan.star_imports
    ]


def copied_import(text: str, copied: set[str], home: str) -> str | None:
    """One import statement of a copied module, from its copy in ``home`` (``.notebook_modules``, or ``.`` between
    two copies); None when it imports none. ``import a, helpers`` keeps ``a`` and adds the copy's import after it."""
    try:
        node = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return None
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        top, _, rest = node.module.partition(".")
        if top not in copied:
            return None
        node.module, node.level = f"{home.lstrip('.')}.{top}{'.' + rest if rest else ''}".lstrip("."), home.count(".")
        return ast.unparse(node)
    if not isinstance(node, ast.Import) or not any(a.name.split(".")[0] in copied for a in node.names):
        return None
    kept = [a for a in node.names if a.name.split(".")[0] not in copied]
    moved = [a for a in node.names if a.name.split(".")[0] in copied]
    statements = [ast.unparse(ast.Import(names=kept))] if kept else []
    statements += [
        ast.unparse(ast.ImportFrom(module=home.lstrip(".") or None, names=[a], level=home.count("."))) for a in moved
    ]
    return "; ".join(statements)

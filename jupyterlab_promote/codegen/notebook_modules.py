"""The notebook's own modules, copied into the package (stages/local_modules.py chose them).

Each copy is the module as it lies beside the notebook, with its imports of the other copies made relative
(``import utils`` → ``from . import utils``), formatted and lint-marked as the notebook's own code is.
"""

from __future__ import annotations

import ast

from ..read.lines import split_lines
from ..read.source_edits import SourceEdits
from ..stages.local_modules import NOTEBOOK_MODULES, copied_import
from ..stages.plan import Plan
from .render import Unformatted


def notebook_module_files(plan: Plan) -> dict[str, str | Unformatted]:
    """``src/<package>/notebook_modules/<name>.py`` for each copied module, and the subpackage's ``__init__.py``."""
    if not plan.notebook_modules:
        return {}
    folder = f"src/{plan.package}/{NOTEBOOK_MODULES}"
    names = ", ".join(f"{name}.py" for name in sorted(plan.notebook_modules))
    files: dict[str, str | Unformatted] = {
        f"{folder}/__init__.py": Unformatted(
            f'"""The modules {plan.notebook.name} imports from its folder ({names}), copied at promotion: edit '
            'them beside the notebook and promote again, or here."""\n',
            plan.package,
        )
    }
    copied = set(plan.notebook_modules)
    for name, source in sorted(plan.notebook_modules.items()):
        files[f"{folder}/{name}.py"] = Unformatted(_relative_imports(source, copied), plan.package, authored=True)
    return files


def _relative_imports(source: str, copied: set[str]) -> str:
    """``source`` with each import of another copy made relative, in place (the statement's own span)."""
    tree = ast.parse(source)
    edits = SourceEdits(split_lines(source))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        rewritten = copied_import(ast.unparse(node), copied, ".")
        if rewritten is not None:
            edits.replace(edits.span_of(node), rewritten)
    return "\n".join(edits.apply()) if edits else source

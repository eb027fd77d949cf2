"""The notebook's own modules, copied into the package (stages/local_modules.py chose them).

Each copy is the module as it lies beside the notebook, formatted and lint-marked as the notebook's own code is,
with these edits: its imports of the other copies made relative (``import utils`` → ``from . import utils``), and its
relative path literals anchored as a module-level definition's are (stages/paths.py): a file it only reads is read
beside the notebook (``in_notebook_dir("data/x.csv")``), where the notebook's kernel found it; a file a function of it
writes goes under the run's artifacts directory (``in_artifacts("model.pt")``). A write outside a function (at import,
or a parameter's default) stays as it is: it runs before any run has an artifacts directory. ``__file__`` names the
module where it lay, beside the notebook (the files it reads next to itself are there).
"""

from __future__ import annotations

import ast

from ..read.lines import split_lines
from ..read.source_edits import SourceEdits
from ..stages.local_modules import NOTEBOOK_MODULES, copied_import
from ..stages.path_collector import Collector
from ..stages.paths import anchored
from ..stages.plan import Plan
from .render import Unformatted


def notebook_module_files(plan: Plan) -> tuple[dict[str, str | Unformatted], set[str]]:
    """``src/<package>/notebook_modules/<name>.py`` for each copied module and the subpackage's ``__init__.py``;
    and the runtime's anchoring functions the copies call (``plan.names.artifacts_path``, ``notebook_path``)."""
    if not plan.notebook_modules:
        return {}, set()
    folder = f"src/{plan.package}/{NOTEBOOK_MODULES}"
    names = ", ".join(where for _, where in sorted(plan.notebook_modules.values(), key=lambda copy: copy[1]))
    files: dict[str, str | Unformatted] = {
        f"{folder}/__init__.py": Unformatted(
            f'"""The modules of your own {plan.notebook.name} imports ({names}: paths from its folder), copied '
            'at promotion: edit them there and promote again, or here."""\n',
            plan.package,
        )
    }
    used: set[str] = set()
    for name, (source, where) in sorted(plan.notebook_modules.items()):
        text, anchors = _copy(plan, where, source)
        files[f"{folder}/{name}.py"] = Unformatted(text, plan.package, authored=True)
        used |= anchors
    return files, used


def _copy(plan: Plan, where: str, source: str) -> tuple[str, set[str]]:
    """The copy of the module that lay at ``where`` (relative to the notebook's folder), and the anchoring functions
    it calls."""
    tree = ast.parse(source)
    edits = SourceEdits(split_lines(source))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if (rewritten := copied_import(ast.unparse(node), set(plan.notebook_modules), ".")) is not None:
                edits.replace(edits.span_of(node), rewritten)
    anchors = _path_anchors(plan, tree)
    for node, anchor in anchors:
        edits.replace(edits.span_of(node), anchored(node, "", anchor, climbs=anchor == plan.names.notebook_path))
    used = {anchor for _, anchor in anchors}
    # ``os.path.dirname(__file__)``: the folder the module lay in, the notebook's, where its files still are
    for node in (n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "__file__"):
        edits.replace(edits.span_of(node), f"{plan.names.notebook_path}({where!r})")
        used.add(plan.names.notebook_path)
    if not edits:
        return source, used
    lines = edits.apply()
    if used:  # after the module's docstring and ``from __future__`` imports, which must come first
        imported = ", ".join(
            plan.names.imported(public, local)
            for public, local in (
                ("in_artifacts", plan.names.artifacts_path),
                ("in_notebook_dir", plan.names.notebook_path),
            )
            if local in used
        )
        at = _first_plain_line(tree)
        lines[at:at] = [f"from ..runtime import {imported}"]
    return "\n".join(lines), used


def _path_anchors(plan: Plan, tree: ast.Module) -> list[tuple[ast.Constant, str]]:
    """The copy's relative path literals, each with where it is anchored (see the module's docstring)."""
    collector = Collector()
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        arguments = function.args
        positional = arguments.posonlyargs + arguments.args
        defaults = zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults)
        keyword = ((a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None)
        for argument, default in (*defaults, *keyword):  # ``def load(path="data/v.txt")``: read at the call
            collector.hold(argument.arg, default)
    collector.visit(ast.walk(tree))
    written = {root for node in collector.writes for root in collector.roots(node)}
    read_only = {root for node in collector.reads for root in collector.roots(node)} - written
    in_bodies = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for statement in function.body
        for node in ast.walk(statement)
    }
    found = []
    for node in dict.fromkeys(collector.candidates):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue  # an f-string's or a call's anchor is a cfg expression, which a copy has not
        root = collector.root_of(node)
        if root in written and id(node) in in_bodies:
            found.append((node, plan.names.artifacts_path))
        elif root in read_only:
            found.append((node, plan.names.notebook_path))
    return found


def _first_plain_line(tree: ast.Module) -> int:
    """The index of the line where the module's own statements start (after its docstring and __future__)."""
    body = tree.body
    at = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        at = 1
    while at < len(body) and isinstance(body[at], ast.ImportFrom) and body[at].module == "__future__":
        at += 1
    if at == len(body):
        return (body[-1].end_lineno or 0) if body else 0
    node = body[at]
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators]) - 1

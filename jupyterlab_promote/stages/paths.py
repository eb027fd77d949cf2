"""Where the notebook's relative file paths land in the package.

A notebook writes ``torch.save(model.state_dict(), "moons.pt")`` into whatever folder it was opened from.
The package must write only under its artifacts directory, so every relative path the promoted steps
*write* is anchored there (``f"{cfg.artifacts_dir}/moons.pt"``), together with every later mention of
the same file or folder (the evaluate step that reloads it, the dataset that reads the folder a data
step filled). A relative path they only *read* is anchored at the notebook's own folder
(``cfg.notebook_dir``), where the notebook found it, whatever directory the package runs from.

A file named by a value (``f"{MODEL_NAME}.pt"``, ``name + ".csv"``) has no literal root: the steps' path expression
itself is joined to the artifacts directory (``os.path.join(cfg.artifacts_dir, f"{MODEL_NAME}.pt")``, which keeps
an absolute value absolute) wherever they write it, and wherever they read a file named the same way. One they
only read is joined to the notebook's folder when the value is a constant they assign (a value computed at run
time may be a URL).

Paths are matched by their root (first component after any ``./`` or ``../``), so ``"data"``,
``"data/anna.txt"`` and ``f"data/names/{lang}.txt"`` move together. Only step code is rewritten here: what
module-level definitions (which have no ``cfg``) write, stages/definition_paths.py finds, and those roots are
anchored as the steps' own writes are. What one walk over code says of paths is stages/path_collector.py's.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..analysis.names import Statement
from ..analysis.syntax_index import NodeIndex
from .path_collector import (
    COLLECTED,
    FILE_LIKE,
    Collector,
    candidate_root,
    is_working_folder,
    path_root,
    writing_functions,
)
from .plan import Plan

if TYPE_CHECKING:
    from .definition_paths import DefinitionWrites

ARTIFACTS = "cfg.artifacts_dir"
NOTEBOOK_DIR = "cfg.notebook_dir"


@dataclass
class FilePaths:
    """The roots of the relative paths promoted steps write and read, and where each kind is anchored."""

    written: set[str] = field(default_factory=set)
    read_only: set[str] = field(default_factory=set)
    literals: dict[int, str] = field(default_factory=dict)  # id(literal node) → ARTIFACTS or NOTEBOOK_DIR
    # id(Trainer(...) call) → the call: without default_root_dir Lightning writes lightning_logs/ into the cwd
    trainers: dict[int, ast.Call] = field(default_factory=dict)
    # the string parameters a step writes into (``OUTPUT_DIR = "outputs"``, ``os.makedirs(OUTPUT_DIR)``): each step
    # reads them under the artifacts directory
    written_parameters: set[str] = field(default_factory=set)
    # id(path expression naming a file by a value, ``f"{MODEL_NAME}.pt"``) → where it is joined (ARTIFACTS)
    joined: dict[int, str] = field(default_factory=dict)
    # id(a step's call of a definition whose default path it writes, stages/definition_paths.py) → the keywords passed
    passed: dict[int, str] = field(default_factory=dict)

    def anchor(self, node: ast.expr) -> str | None:
        return self.literals.get(id(node))


def _in_bodies(index: NodeIndex) -> set[int]:
    """ids of every node inside the bodies of the functions and lambdas a statement defines."""
    found: set[int] = set()
    for function in index.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
        if id(function) not in found:  # else nested in one already walked
            found.update(id(inner) for inner in ast.walk(function))
    return found


def file_roots_by_cell(cells: list) -> dict[int, tuple[set[str], set[str]]]:
    """id(cell) → (roots the cell writes, roots it mentions): file hand-offs that order steps like names do."""
    assigned: dict[str, ast.expr] = {}
    statements = {id(cell): cell.names.statements if cell.names else [] for cell in cells}
    writers = writing_functions([s for cell in cells for s in statements[id(cell)]])
    collectors = {}
    for cell in cells:
        collector = collectors[id(cell)] = Collector(assigned, writers)
        for statement in statements[id(cell)]:
            collector.visit(statement.index.of(*COLLECTED))
    deferred = {n for cell in cells for s in statements[id(cell)] for n in s.index.derived(_in_bodies)}
    found = {}
    for key, collector in collectors.items():
        # a write inside a def happens where the function is called, not in the cell that defines it
        written = {root for node in collector.writes if id(node) not in deferred for root in collector.roots(node)}
        mentioned = {root for node in collector.reads + collector.candidates for root in collector.roots(node)}
        found[key] = (written, mentioned)
    return found


def _is_lightning_trainer(plan: Plan, call: ast.Call) -> bool:
    """``pl.Trainer(...)`` or an imported ``Trainer`` of Lightning's, not a notebook's own class of that name."""
    func = call.func
    bound = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
    bound = bound or (func.id if isinstance(func, ast.Name) else None)
    return bound is not None and "lightning" in plan.imports.get(bound, "")


def anchor_file_paths(plan: Plan) -> None:
    """Anchor the promoted steps' relative paths: writes (and what shares their root) under artifacts."""
    if not plan.steps:  # nothing promoted (PRM018)
        return
    hoisted = [placed.stmt for items in plan.hoisted.values() for placed in items]
    step_code = [placed.stmt for step in plan.steps for placed in step.body]
    collector = Collector(writers=writing_functions(hoisted + step_code), named_files=True)
    for statement in step_code:
        collector.visit(statement.index.of(*COLLECTED))
    for loop in filter(None, [plan.loop]):
        if loop.mapping.checkpoint_path is not None:
            collector.writes.append(loop.mapping.checkpoint_path)
    paths = FilePaths()
    definitions = plan.definition_writes
    definition_roots = definitions.roots if definitions else set()
    # a string parameter is what its name holds in every step (a step that assigns the name again comes first)
    parameters = {p.name: ast.Constant(p.value) for p in plan.parameters if isinstance(p.value, str)}
    for name, value in parameters.items():
        collector.assigned.setdefault(name, value)
    paths.written = {root for node in collector.writes for root in collector.roots(node)} | definition_roots
    written_through = dict(collector.named)
    paths.read_only = {root for node in collector.reads for root in collector.roots(node)} - paths.written
    anchored_names = _anchor_named_folders(
        collector, paths, written_through, {id(v) for v in parameters.values()}, step_code
    )
    # A file-like literal inside a module-level definition that definition_paths.py left as written (a default some
    # call outside the steps leaves out) is written where the package runs: the steps that read it look there too.
    definition_reads = set(definitions.read_literals.values()) if definitions else set()
    paths.read_only -= _definition_roots(plan) - definition_roots - definition_reads
    _anchor_literals(collector, paths)
    if definitions:
        _anchor_definition_writes(plan, definitions, paths)
    _join_named_files(collector, paths, anchored_names)
    paths.trainers = {id(call): call for call in collector.trainers if _is_lightning_trainer(plan, call)}
    # ``os.listdir()`` lists the folder ``"."`` names: given it, as the literal would be anchored
    listed = ARTIFACTS if "." in paths.written else NOTEBOOK_DIR
    paths.passed.update((id(call), f"path={listed}") for call in collector.listings)
    checkpoint = plan.loop.mapping.checkpoint_path if plan.loop else None
    if checkpoint is not None and candidate_root(checkpoint) in paths.written:
        paths.literals[id(checkpoint)] = ARTIFACTS
    plan.paths = paths


def _anchor_literals(collector: Collector, paths: FilePaths) -> None:
    """Literals of a written root start at the artifacts directory, of a root only read at the notebook's folder."""
    for node in collector.candidates:
        root = collector.root_of(node)
        if root in paths.written:
            paths.literals[id(node)] = ARTIFACTS
        elif root in paths.read_only:
            paths.literals[id(node)] = NOTEBOOK_DIR


def _anchor_definition_writes(plan: Plan, definitions: DefinitionWrites, paths: FilePaths) -> None:
    """A definition's own literal reads the run's artifacts directory (the notebook's folder for a file only read
    there); a step's call passes a defaulted path."""
    paths.literals.update((key, plan.names.artifacts_path) for key in definitions.literals)
    for key, root in definitions.read_literals.items():  # read where the notebook found it, or where a step wrote it
        paths.literals[key] = plan.names.artifacts_path if root in paths.written else plan.names.notebook_path
    for key, defaults in definitions.passed.items():
        paths.passed[key] = ", ".join(f"{name}={anchored(literal, '', ARTIFACTS)}" for name, literal in defaults)


def _join_named_files(collector: Collector, paths: FilePaths, anchored_names: set[str]) -> None:
    """Files named by a value joined to the artifacts directory, or one only read to the notebook's folder when
    the name is a constant (a value computed at run time may be a URL); not where the name's own literal is
    anchored (``anchored_names``: read only as a path)."""
    for key, expressions in (collector.named_files or {}).items():
        leading = collector.named_file_leads[key]
        if isinstance(leading, ast.Name) and leading.id in anchored_names:
            continue
        folder = ARTIFACTS if key in paths.written else NOTEBOOK_DIR if key in collector.known_named_files else None
        paths.joined.update((id(expression), folder) for expression in expressions if folder is not None)


def _anchor_named_folders(
    collector: Collector,
    paths: FilePaths,
    written_through: dict[int, tuple[str, ast.Constant]],
    parameters: set[int],
    step_code: list[Statement],
) -> set[str]:
    """A folder a name holds, written into (``out_dir = "results"``, ``os.makedirs(out_dir)``), when the steps read
    that name only as a path: its literal is anchored, or, a parameter's (``parameters``: their ids), the steps read
    it joined to the artifacts directory. A name also read as a value (``load_dataset(NAME)``) keeps its value.
    The names anchored so are returned."""
    path_only = _read_only_as_paths({name for name, _ in written_through.values()}, collector.path_names, step_code)
    for key, (name, literal) in written_through.items():
        if name in path_only and key not in parameters:
            collector.candidates.append(literal)
        elif name in path_only:
            paths.written_parameters.add(name)
    return path_only


def _read_only_as_paths(names: set[str], path_names: set[int], step_code: list[Statement]) -> set[str]:
    """Those of ``names`` that every read in the steps' code uses as a path (``roots`` went through it)."""
    found = set(names)
    for statement in step_code if found else ():
        for node in statement.index.of(ast.Name):
            if node.id in found and isinstance(node.ctx, ast.Load) and id(node) not in path_names:
                found.discard(node.id)
    return found


def _definition_roots(plan: Plan) -> set[str]:
    """Roots of the file-like string literals in definitions that live at module level (no ``cfg`` there)."""
    roots = set()
    for placed in (p for items in plan.hoisted.values() for p in items):
        for node in placed.stmt.index.of(ast.Constant):
            if isinstance(node.value, str) and FILE_LIKE.search(node.value):
                roots.add(path_root(node.value))
    return roots - {None}


def anchored(node: ast.expr, source: str, anchor: str, climbs: bool = False) -> str:
    """The literal's source text, rewritten to start at ``anchor`` (``cfg.artifacts_dir``), or passed to the
    generated runtime's function ``anchor`` names (``in_artifacts``, in a module-level definition). ``climbs``: a
    read beside the notebook keeps its leading ``..`` (``"../data/x.csv"``, a folder beside the notebook's); a write
    drops it, so that it stays under the artifacts directory."""
    if is_working_folder(node):  # ``os.getcwd()`` → ``cfg.notebook_dir``; ``Path.cwd()`` → ``Path(cfg.notebook_dir)``
        func = node.func  # type: ignore[attr-defined]
        if isinstance(func, ast.Attribute) and func.attr == "cwd":
            return f"{ast.unparse(func.value)}({anchor})"
        # ``Path()`` → ``Path(cfg.notebook_dir)``, ``os.path.abspath("")`` → ``os.path.abspath(cfg.notebook_dir)``
        keeps_call = node.args or "Path" in ast.unparse(func)  # type: ignore[attr-defined]
        return f"{ast.unparse(func)}({anchor})" if keeps_call else anchor
    if isinstance(node, ast.Constant):
        parts = posixpath.normpath(node.value.replace("\\", "/")).split("/")  # ``..`` only in front
        relative = "/".join(p for p in parts if p != "." and (climbs or p != ".."))
        if not anchor.startswith("cfg."):
            return f"{anchor}({relative or '.'!r})"
        if not relative:
            return anchor
        return "f" + repr(f"{{{anchor}}}/" + relative.replace("{", "{{").replace("}", "}}"))
    leading_folders = r"(\./)*" if climbs else r"(\.{1,2}/)*"
    match = re.match(r"([rRfFbBuU]*)('''|\"\"\"|'|\")" + leading_folders, source)
    assert match is not None  # an f-string's source always starts with its prefix and quote
    return source[: match.end(2)] + f"{{{anchor}}}/" + source[match.end() :]

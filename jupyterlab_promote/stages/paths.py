"""Where the notebook's relative file paths land in the package.

A notebook writes ``torch.save(model.state_dict(), "moons.pt")`` into whatever folder it was opened from.
The package must write only under its artifacts directory, so every relative path the promoted steps
*write* is anchored there (``f"{cfg.artifacts_dir}/moons.pt"``), together with every later mention of
the same file or folder (the evaluate step that reloads it, the dataset that reads the folder a data
step filled). A relative path they only *read* is anchored at the notebook's own folder
(``cfg.notebook_dir``), where the notebook found it, whatever directory the package runs from.

Paths are matched by their root (first component after any ``./`` or ``../``), so ``"data"``,
``"data/anna.txt"`` and ``f"data/names/{lang}.txt"`` move together. Only step code is rewritten:
module-level definitions have no ``cfg``, and take their paths from their callers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..analysis.names import Statement
from ..analysis.syntax_index import NodeIndex
from .plan import Plan

ARTIFACTS = "cfg.artifacts_dir"
NOTEBOOK_DIR = "cfg.notebook_dir"

# Calls that take a path; the argument position (or keyword) holding it is found below.
_PATH_CALLS = {
    "Path",
    "PurePath",
    "open",
    "join",
    "makedirs",
    "mkdir",
    "exists",
    "isfile",
    "isdir",
    "listdir",
    "glob",
    "load",
    "save",
    "dump",
    "savefig",
    "ImageFolder",
    "DatasetFolder",
    "urlretrieve",
}
_PATH_KEYWORDS = {
    "root",
    "path",
    "filepath",
    "file",
    "fname",
    "filename",
    "dirpath",
    "save_dir",
    "log_dir",
    "data_dir",
    "output_dir",
    "path_or_buf",
    "default_root_dir",
}
# Keywords that name where a library writes (loggers, checkpoints, trainers).
_OUTPUT_KEYWORDS = ("save_dir", "default_root_dir", "dirpath", "log_dir", "output_dir")
_READ_FUNCTIONS = {"read_csv", "read_parquet", "read_json", "read_excel", "read_feather", "read_pickle", "read_table"}
_READ_FUNCTIONS |= {"loadtxt", "genfromtxt", "imread", "ImageFolder", "DatasetFolder"}
_WRITE_METHODS = {"to_csv", "to_parquet", "to_json", "to_pickle", "to_excel", "to_feather", "to_hdf", "savefig"}
_WRITE_METHODS |= {
    "save_pretrained",
    "save_checkpoint",
    "save_model",
    "savetxt",
    "makedirs",
    "mkdir",
    "imsave",
    "imwrite",
}
_RECEIVER_WRITES = {"mkdir", "write_text", "write_bytes", "touch"}
_RECEIVER_READS = {"read_text", "read_bytes"}
_FILE_LIKE = re.compile(r"(/|\.[A-Za-z0-9]{1,6}$)")


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

    def anchor(self, node: ast.expr) -> str | None:
        return self.literals.get(id(node))


def path_root(value: str) -> str | None:
    """``"./data/x.csv"`` → ``"data"``; None for what is not a relative file path (URLs, absolute, flags)."""
    if not value or "\n" in value or "://" in value or value.startswith(("/", "~", "-")) or re.match(r"^\w:", value):
        return None
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if not parts:
        return "." if value.strip("./") == "" else None
    return parts[0] if re.fullmatch(r"[\w.\- ]+", parts[0]) else None


def _leftmost(node: ast.expr) -> ast.expr:
    """``"results/x_" + str(epoch) + ".png"`` → the ``"results/x_"`` it starts with."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node


def _leading_text(node: ast.expr) -> str | None:
    """The literal text a string expression starts with: a constant, or an f-string's first part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and len(node.values) > 1:
            return first.value if "/" in first.value else None
    return None


class _Collector:
    """One walk over the promoted step code: path literals, what each name holds, and reads and writes."""

    def __init__(
        self, assigned: dict[str, ast.expr] | None = None, writers: dict[str, set[int | str]] | None = None
    ) -> None:
        self.assigned: dict[str, ast.expr] = {} if assigned is None else assigned  # ``name = expr`` in step code
        self.writers = writers or {}  # the notebook's own functions that write where they are told
        self.trainers: list[ast.Call] = []
        self.candidates: list[ast.expr] = []  # string literals in a path position
        self.writes: list[ast.expr] = []
        self.reads: list[ast.expr] = []
        # id → a string a name holds, and the name, reached by ``roots`` (``out = "results"``)
        self.named: dict[int, tuple[str, ast.Constant]] = {}
        self.path_names: set[int] = set()  # ids of the names ``roots`` went through: each in a path's place

    def visit(self, nodes: Iterable[ast.AST]) -> None:
        """``nodes``: a tree's, in walk order (the first assignment of a name is the one kept)."""
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigned.setdefault(node.targets[0].id, node.value)
                self._candidate(node.value, loose=True)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                self._candidate(node.left, loose=True)
                self._candidate(node.right, loose=True)

    def _candidate(self, node: ast.expr, loose: bool) -> None:
        node = _leftmost(node)
        text = _leading_text(node)
        if text is not None and (not loose or _FILE_LIKE.search(text) or isinstance(node, ast.JoinedStr)):
            self.candidates.append(node)

    def _call(self, call: ast.Call) -> None:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        strict = name in _PATH_CALLS or name in _READ_FUNCTIONS or name in _WRITE_METHODS
        if name.endswith("Trainer") and not any(k.arg in ("default_root_dir", None) for k in call.keywords):
            self.trainers.append(call)
        for argument in call.args:
            self._candidate(argument, loose=not strict)
        for keyword in call.keywords:
            self._candidate(keyword.value, loose=keyword.arg not in _PATH_KEYWORDS)
        self._classify(call, name)

    def _classify(self, call: ast.Call, name: str) -> None:
        args, keywords = call.args, {k.arg: k.value for k in call.keywords if k.arg}
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        written, read = _path_arguments(call, name, keywords, receiver, self.writers)
        self.writes += written
        self.reads += read
        if name in _RECEIVER_WRITES and receiver is not None:
            self.writes.append(receiver)
        elif name in _RECEIVER_READS | {"open"} and receiver is not None:
            (self.writes if _writing_mode(args[0] if args else keywords.get("mode")) else self.reads).append(receiver)

    def roots(self, node: ast.expr, depth: int = 0) -> set[str]:
        """The path roots an expression can denote, through names, ``Path(...)``, ``join`` and ``/``."""
        if depth > 8:
            return set()
        text = _leading_text(node)
        if text is not None:
            root = path_root(text)
            return {root} if root else set()
        if isinstance(node, ast.Name) and node.id in self.assigned:
            value = self.assigned[node.id]
            self.path_names.add(id(node))
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.named[id(value)] = (node.id, value)
            return self.roots(value, depth + 1)
        if _folder_first(node):  # ``f"{out_dir}/v.txt"``; not ``f"{name}.pt"``, where the name may be no folder
            return self.roots(node.values[0].value, depth + 1)  # type: ignore[attr-defined]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            return self.roots(node.left, depth + 1)
        if isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("Path", "PurePath", "join", "abspath", "normpath", "expanduser"):
                return self.roots(node.args[0], depth + 1)
        return set()


def _folder_first(node: ast.expr) -> bool:
    """An f-string that starts with a value and then a ``/``: that value is a folder."""
    if (
        not isinstance(node, ast.JoinedStr)
        or len(node.values) < 2
        or not isinstance(node.values[0], ast.FormattedValue)
    ):
        return False
    after = node.values[1]
    return isinstance(after, ast.Constant) and isinstance(after.value, str) and after.value.startswith("/")


def _writing_mode(mode: ast.expr | None) -> bool:
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(set(mode.value) & set("wax+"))


def _path_arguments(
    call: ast.Call, name: str, keywords: dict, receiver: ast.expr | None, writers: dict[str, set[int | str]]
) -> tuple[list[ast.expr], list[ast.expr]]:
    """The path arguments of a call: (written, read)."""
    args = call.args
    if name == "open" and receiver is None and args:
        mode = args[1] if len(args) > 1 else keywords.get("mode")
        return ([args[0]], []) if _writing_mode(mode) else ([], [args[0]])
    written = _written_arguments(call, name, keywords, receiver, writers)
    if written is not None:
        return written, []
    if name in _READ_FUNCTIONS | {"load"} and args:
        return [], [args[0]]
    return [], [keywords["root"]] if "root" in keywords else []


def _written_arguments(
    call: ast.Call, name: str, keywords: dict, receiver: ast.expr | None, writers: dict[str, set[int | str]]
) -> list[ast.expr] | None:
    """What a call writes to, or None when it writes nothing it is given."""
    args = call.args
    if name in ("save", "dump") and len(args) >= 2 and not _is_numpy(receiver):
        return [args[1]]  # torch.save(obj, PATH), joblib.dump(obj, PATH)
    if name in ("save", "savez", "savez_compressed") and args:
        return [args[0]]  # np.save(PATH, array), model.save(PATH)
    if name in _WRITE_METHODS and (args or keywords):
        return [args[0] if args else next(iter(keywords.values()))]
    if name in ("urlretrieve", "copy", "copyfile", "copy2", "save_image") and len(args) >= 2:
        return [args[1]]  # torchvision's save_image(tensor, PATH) too
    if isinstance(call.func, ast.Name) and name in writers:
        marked = writers[name]
        return [a for i, a in enumerate(args) if i in marked] + [v for k, v in keywords.items() if k in marked]
    if output := next((keywords[k] for k in _OUTPUT_KEYWORDS if k in keywords), None):
        return [output]  # CSVLogger(save_dir="logs"), Trainer(default_root_dir=...): written into
    if keywords.get("download") is not None and _truthy(keywords["download"]):
        root = keywords.get("root") or (args[0] if args else None)
        return [root] if root is not None else []  # datasets.MNIST("data", download=True) fills the folder
    return None


def _is_numpy(receiver: ast.expr | None) -> bool:
    return isinstance(receiver, ast.Name) and receiver.id in ("np", "numpy")


def _truthy(node: ast.expr) -> bool:
    return not (isinstance(node, ast.Constant) and not node.value)


def writing_functions(statements: list[Statement]) -> dict[str, set[int | str]]:
    """The notebook's own functions that write to a path they are given (``def save_image(tensor, fp)`` that
    ends in ``plt.imsave(fp, …)``): name → the positions and names of those parameters."""
    writers: dict[str, set[int | str]] = {}
    for statement in statements:
        writers.update(statement.index.derived(_writing_functions))
    return writers


def _writing_functions(index: NodeIndex) -> dict[str, set[int | str]]:
    writers: dict[str, set[int | str]] = {}
    for node in index.of(ast.FunctionDef, ast.AsyncFunctionDef):
        inner = _Collector()
        for inner_statement in node.body:
            inner.visit(ast.walk(inner_statement))
        used = {n.id for written in inner.writes for n in ast.walk(written) if isinstance(n, ast.Name)}
        parameters = [a.arg for a in node.args.posonlyargs + node.args.args]
        marked = {i for i, p in enumerate(parameters) if p in used} | {p for p in parameters if p in used}
        if marked:
            writers[node.name] = marked
    return writers


def _in_bodies(index: NodeIndex) -> set[int]:
    """ids of every node inside the bodies of the functions and lambdas a statement defines."""
    found: set[int] = set()
    for function in index.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda):
        if id(function) not in found:  # else nested in one already walked
            found.update(id(inner) for inner in ast.walk(function))
    return found


# What the collector looks at; the index hands over only these.
_COLLECTED = (ast.Assign, ast.Call, ast.BinOp)


def file_roots_by_cell(cells: list) -> dict[int, tuple[set[str], set[str]]]:
    """id(cell) → (roots the cell writes, roots it mentions): file hand-offs that order steps like names do."""
    assigned: dict[str, ast.expr] = {}
    statements = {id(cell): cell.names.statements if cell.names else [] for cell in cells}
    writers = writing_functions([s for cell in cells for s in statements[id(cell)]])
    collectors = {}
    for cell in cells:
        collector = collectors[id(cell)] = _Collector(assigned, writers)
        for statement in statements[id(cell)]:
            collector.visit(statement.index.of(*_COLLECTED))
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
    collector = _Collector(writers=writing_functions(hoisted + step_code))
    for statement in step_code:
        collector.visit(statement.index.of(*_COLLECTED))
    for loop in filter(None, [plan.loop]):
        if loop.mapping.checkpoint_path is not None:
            collector.writes.append(loop.mapping.checkpoint_path)
    paths = FilePaths()
    # a string parameter is what its name holds in every step (a step that assigns the name again comes first)
    parameters = {p.name: ast.Constant(p.value) for p in plan.parameters if isinstance(p.value, str)}
    for name, value in parameters.items():
        collector.assigned.setdefault(name, value)
    paths.written = {root for node in collector.writes for root in collector.roots(node)}
    written_through = dict(collector.named)
    paths.read_only = {root for node in collector.reads for root in collector.roots(node)} - paths.written
    _anchor_named_folders(collector, paths, written_through, {id(v) for v in parameters.values()}, step_code)
    # A file-like literal inside a module-level definition (``EarlyStopping(path='checkpoint.pt')``, which saves
    # there) is written where the package runs: the steps that read it must look there too, not beside the notebook.
    paths.read_only -= _definition_roots(plan)
    for node in collector.candidates:
        root = path_root(_leading_text(node) or "")
        if root in paths.written:
            paths.literals[id(node)] = ARTIFACTS
        elif root in paths.read_only:
            paths.literals[id(node)] = NOTEBOOK_DIR
    paths.trainers = {id(call): call for call in collector.trainers if _is_lightning_trainer(plan, call)}
    checkpoint = plan.loop.mapping.checkpoint_path if plan.loop else None
    if checkpoint is not None and path_root(_leading_text(checkpoint) or "") in paths.written:
        paths.literals[id(checkpoint)] = ARTIFACTS
    plan.paths = paths


def _anchor_named_folders(
    collector: _Collector,
    paths: FilePaths,
    written_through: dict[int, tuple[str, ast.Constant]],
    parameters: set[int],
    step_code: list[Statement],
) -> None:
    """A folder a name holds, written into (``out_dir = "results"``, ``os.makedirs(out_dir)``), when the steps read
    that name only as a path: its literal is anchored, or, a parameter's (``parameters``: their ids), the steps read
    it joined to the artifacts directory. A name also read as a value (``load_dataset(NAME)``) keeps its value."""
    path_only = _read_only_as_paths({name for name, _ in written_through.values()}, collector.path_names, step_code)
    for key, (name, literal) in written_through.items():
        if name in path_only and key not in parameters:
            collector.candidates.append(literal)
        elif name in path_only:
            paths.written_parameters.add(name)


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
            if isinstance(node.value, str) and _FILE_LIKE.search(node.value):
                roots.add(path_root(node.value))
    return roots - {None}


def anchored(node: ast.expr, source: str, anchor: str) -> str:
    """The literal's source text, rewritten to start at ``anchor`` (``cfg.artifacts_dir``)."""
    if isinstance(node, ast.Constant):
        relative = "/".join(p for p in node.value.replace("\\", "/").split("/") if p not in ("", ".", ".."))
        if not relative:
            return anchor
        return "f" + repr(f"{{{anchor}}}/" + relative.replace("{", "{{").replace("}", "}}"))
    match = re.match(r"([rRfFbBuU]*)('''|\"\"\"|'|\")(\.{1,2}/)*", source)
    assert match is not None  # an f-string's source always starts with its prefix and quote
    return source[: match.end(2)] + f"{{{anchor}}}/" + source[match.end() :]

"""What one walk over code says about file paths: the literals in a path's place, what each name holds, and which
calls write or read the paths they are given.

stages/paths.py anchors what the promoted steps write and read; stages/definition_paths.py what module-level
definitions write.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable

from ..analysis.names import Statement
from ..analysis.syntax_index import NodeIndex

# Calls that delete what is at the path they are given: writes (never a file of the user's outside artifacts/)
_REMOVALS = ("rmtree", "remove", "unlink", "rmdir", "removedirs")
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
    "scandir",
    "walk",
    "glob",
    "load",
    "save",
    "dump",
    "savefig",
    "ImageFolder",
    "DatasetFolder",
    "urlretrieve",
    "copyfile",
    "copy2",
    "copytree",
    "move",
    "ZipFile",
    "extractall",
    *_REMOVALS,
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
# The node types a collector's walk looks at: hand it a node index's ``of(*COLLECTED)``.
COLLECTED = (ast.Assign, ast.Call, ast.BinOp, ast.For, ast.comprehension)
# shutil's (source, destination) calls
_COPIES = {"copy", "copyfile", "copy2", "copytree", "move"}
# modules whose ``open(PATH, MODE)`` opens a file as the built-in does (``tarfile.open("data.tar.gz")``)
_OPENING_MODULES = {"tarfile", "gzip", "bz2", "lzma", "io", "codecs"}
_RECEIVER_WRITES = {"mkdir", "write_text", "write_bytes", "touch", "unlink", "rmdir"}
_RECEIVER_READS = {"read_text", "read_bytes", "iterdir", "glob", "rglob", "exists", "is_file", "is_dir", "stat"}
# calls that look at what is at the path they are given, or list it (``os.listdir("data")``, ``os.path.exists(p)``)
_LOOKING = {"listdir", "scandir", "walk", "exists", "lexists", "isfile", "isdir", "getsize", "getmtime"}
FILE_LIKE = re.compile(r"(/|\.[A-Za-z0-9]{1,6}$)")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,6}$")


def path_root(value: str) -> str | None:
    """``"./data/x.csv"`` → ``"data"``, ``"../data/x.csv"`` → ``"../data"``; None for what is not a relative file path
    (URLs, absolute, flags, a ``..`` after a folder's name)."""
    if not value or "\n" in value or "://" in value or value.startswith(("/", "~", "-")) or re.match(r"^\w:", value):
        return None
    parts = posixpath.normpath(value.replace("\\", "/")).split("/")  # ``"data/../x.csv"`` → ``["x.csv"]``
    climbs = [part for part in parts if part == ".."]  # normpath leaves them in front only
    first = parts[len(climbs)] if len(parts) > len(climbs) and parts[len(climbs)] != "." else None
    if first is None:  # ``"."``, ``"../.."``: a folder of the notebook's, itself the root
        return "/".join(climbs) or "."
    # ``"../data/x.csv"`` → ``"../data"``: a folder beside the notebook's is not the notebook's own ``data``
    return "/".join([*climbs, first]) if re.fullmatch(r"[\w.\- ]+", first) else None


def is_working_folder(node: ast.expr) -> bool:
    """``os.getcwd()``, ``Path.cwd()``, ``Path()``, ``os.path.abspath("")``: the folder the notebook ran from, as the
    path ``"."`` names it."""
    if not isinstance(node, ast.Call) or node.keywords:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if node.args:  # ``os.path.abspath("")``, ``os.path.realpath(".")``: notebooks have no ``__file__``
        here = len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value in ("", ".", "./")
        return here and name in ("abspath", "realpath")
    return name in ("getcwd", "getcwdb", "Path", "PurePath") or (name == "cwd" and isinstance(func, ast.Attribute))


def candidate_root(node: ast.expr) -> str | None:
    """The root a path candidate starts at: its literal text's, or ``"."`` for the working folder."""
    return "." if is_working_folder(node) else path_root(leading_text(node) or "")


def _environment_default(call: ast.Call) -> ast.expr | None:
    """The default of ``os.environ.get("DATA_DIR", "data")`` or ``os.getenv(…)``: the path when the variable is unset."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "get":
        owner = func.value
        named = isinstance(owner, ast.Attribute) and owner.attr == "environ" and isinstance(owner.value, ast.Name)
    else:
        named = (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
            isinstance(func, ast.Name) and func.id == "getenv"
        )
    if not named:
        return None
    if len(call.args) >= 2:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "default"), None)


def _module_glob(func: ast.expr) -> bool:
    """``glob.glob``, ``glob.iglob`` or a bare ``glob(...)``: a pattern from the working folder (a ``Path``'s
    ``.glob`` takes one relative to that path, which must stay relative)."""
    return isinstance(func, ast.Name) or (isinstance(func, ast.Attribute) and _is_module(func.value, {"glob"}))


def _pattern_root(pattern: str) -> str | None:
    """``"*.csv"`` → ``"."``; ``"data/*.csv"`` → ``"data"``: the folder a glob pattern lists, as a root."""
    first = pattern.replace("\\", "/").lstrip("./").split("/")[0]
    return "." if any(ch in first for ch in "*?[") else path_root(pattern)


def _leftmost(node: ast.expr) -> ast.expr:
    """``"results/x_" + str(epoch) + ".png"`` → the ``"results/x_"`` it starts with."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node


def leading_text(node: ast.expr) -> str | None:
    """The literal text a string expression starts with: a constant, or an f-string's first part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and len(node.values) > 1:
            return first.value if "/" in first.value else None
    return None


class Collector:
    """One walk over the promoted step code: path literals, what each name holds, and reads and writes."""

    def __init__(
        self,
        assigned: dict[str, ast.expr] | None = None,
        writers: dict[str, dict[int | str, str]] | None = None,
        named_files: bool = False,
    ) -> None:
        self.assigned: dict[str, ast.expr] = {} if assigned is None else assigned  # ``name = expr`` in step code
        self.writers = writers or {}  # the notebook's own functions that write where they are told
        self.suffixes: dict[int, str] = {}  # id(literal given a writing function) → what the function appends
        self.patterns: set[int] = set()  # ids of the patterns module-level glob calls are given
        self.trainers: list[ast.Call] = []
        self.listings: list[ast.Call] = []  # ``os.listdir()``, ``os.scandir()``: of the working folder, as ``"."``
        self.candidates: list[ast.expr] = []  # string literals in a path position
        self.writes: list[ast.expr] = []
        self.reads: list[ast.expr] = []
        # id → a string a name holds, and the name, reached by ``roots`` (``out = "results"``)
        self.named: dict[int, tuple[str, ast.Constant]] = {}
        self.path_names: set[int] = set()  # ids of the names ``roots`` went through: each in a path's place
        # with ``named_files``: a file named by a value, ``f"{MODEL_NAME}.pt"``, is a root of its own ("{MODEL_NAME}
        # .pt"), and each such root the expressions ``roots`` reached under it
        self.named_files: dict[str, list[ast.expr]] | None = {} if named_files else None
        self.known_named_files: set[str] = set()  # those whose value is a constant the steps assign
        self.named_file_leads: dict[str, ast.expr] = {}  # each one's leading value (``MODEL_NAME``)

    def visit(self, nodes: Iterable[ast.AST]) -> None:
        """``nodes``: a tree's, in walk order (the first assignment of a name is the one kept)."""
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and (key := _assigned_key(node.targets[0])):
                self.assigned.setdefault(key, node.value)
                self._candidate(node.value, loose=True)
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.iter, (ast.List, ast.Tuple)):
                if isinstance(node.target, ast.Name):  # ``for name in ["a.txt", "b.txt"]``: name holds each
                    self.assigned.setdefault(node.target.id, node.iter)
                    for element in node.iter.elts:
                        self._candidate(element, loose=True)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                self._candidate(node.left, loose=True)
                self._candidate(node.right, loose=True)

    def hold(self, name: str, value: ast.expr) -> None:
        """``name`` holds ``value`` where the walk does not see it assigned (a parameter's default)."""
        self.assigned.setdefault(name, value)
        self._candidate(value, loose=True)

    def _candidate(self, node: ast.expr, loose: bool, suffix: str = "") -> None:
        if isinstance(node, ast.IfExp):  # ``"a.csv" if full else "b.csv"``: either is a path
            self._candidate(node.body, loose, suffix)
            self._candidate(node.orelse, loose, suffix)
            return
        node = _leftmost(node)
        text = leading_text(node)
        if text is not None and (not loose or FILE_LIKE.search(text) or isinstance(node, ast.JoinedStr)):
            self.candidates.append(node)
            if suffix and isinstance(node, ast.Constant):
                self.suffixes[id(node)] = suffix

    def root_of(self, node: ast.expr) -> str | None:
        """A candidate's root, with what a writing function it is given appends (``"best"`` → ``"best.pt"``)."""
        if id(node) in self.suffixes:
            return path_root((leading_text(node) or "") + self.suffixes[id(node)])
        if id(node) in self.patterns:  # ``glob.glob("*.csv")`` lists the working folder
            return _pattern_root(leading_text(node) or "")
        return candidate_root(node)

    def _call(self, call: ast.Call) -> None:
        if is_working_folder(call):
            self.candidates.append(call)
            return
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        strict = name in _PATH_CALLS or name in _READ_FUNCTIONS or name in _WRITE_METHODS
        if name.endswith("Trainer") and not any(k.arg in ("default_root_dir", None) for k in call.keywords):
            self.trainers.append(call)
        elif name in ("listdir", "scandir") and not call.args and not call.keywords:
            self.listings.append(call)
        marked = self.writers.get(name, {}) if isinstance(call.func, ast.Name) else {}
        for position, argument in enumerate(call.args):
            self._candidate(argument, loose=not strict and position not in marked, suffix=marked.get(position, ""))
        for keyword in call.keywords:
            path_keyword = keyword.arg in _PATH_KEYWORDS or keyword.arg in marked
            self._candidate(keyword.value, loose=not path_keyword, suffix=marked.get(keyword.arg or "", ""))
        self._classify(call, name)

    def _classify(self, call: ast.Call, name: str) -> None:
        if name in ("glob", "iglob") and call.args and _module_glob(call.func):
            self.patterns.add(id(_leftmost(call.args[0])))
        args, keywords = call.args, {k.arg: k.value for k in call.keywords if k.arg}
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        written, read = _path_arguments(call, name, keywords, receiver, self.writers)
        self.writes += written
        self.reads += read
        if name in _RECEIVER_WRITES and receiver is not None:
            self.writes.append(receiver)
        elif name == "open" and receiver is not None:  # ``Path("out.txt").open("w")``
            (self.writes if _writing_mode(args[0] if args else keywords.get("mode")) else self.reads).append(receiver)
        elif name in _RECEIVER_READS and receiver is not None:
            self.reads.append(receiver)

    def roots(self, node: ast.expr, depth: int = 0) -> set[str]:
        """The path roots an expression can denote, through names, ``Path(...)``, ``join`` and ``/``."""
        if depth > 8:
            return set()
        text = leading_text(node)
        if text is not None or is_working_folder(node):
            root = self.root_of(node)
            return {root} if root else set()
        if (key := _assigned_key(node)) in self.assigned:
            return self._assigned_roots(node, key, depth)
        if self.named_files is not None and (key := self._file_named_by_value(node)) is not None:
            return self._named_file_roots(node, key, depth)
        if _folder_first(node) or self._path_first(node):  # ``f"{out_dir}/v.txt"``, ``f"{Path('a') / b}.pt"``
            return self.roots(node.values[0].value, depth + 1)  # type: ignore[attr-defined]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            return self.roots(node.left, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return self.roots(node.value, depth + 1)
        if isinstance(node, ast.Call):
            return self._call_roots(node, depth)
        return {root for choice in _choices(node) for root in self.roots(choice, depth + 1)}

    def _call_roots(self, node: ast.Call, depth: int) -> set[str]:
        """``Path(p)``, ``os.path.join(p, …)``, ``str(p)``: p's roots; ``os.environ.get(KEY, p)``: the default's."""
        if (default := _environment_default(node)) is not None:
            # in a path's place, the default is a path literal: anchored as any (``os.environ.get("DIR", "data")``)
            self._candidate(default, loose=False)
            return self.roots(default, depth + 1)
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if node.args and name in ("Path", "PurePath", "join", "abspath", "realpath", "normpath", "expanduser", "str"):
            return self.roots(node.args[0], depth + 1)
        if not node.args and name in ("resolve", "absolute", "expanduser") and isinstance(node.func, ast.Attribute):
            return self.roots(node.func.value, depth + 1)  # ``Path("data").resolve()``
        return set()

    def _named_file_roots(self, node: ast.expr, key: str, depth: int) -> set[str]:
        """A file named by a value is a root of its own; one named by a constant the steps assign is read through
        its name too, as a path: a name read only so has its literal anchored instead of the expression joined
        (stages/paths.py)."""
        assert self.named_files is not None
        self.named_files.setdefault(key, []).append(node)
        if key not in self.known_named_files:
            return {key}
        return {key} | self.roots(self.named_file_leads[key], depth + 1)

    def _path_first(self, node: ast.expr) -> bool:
        """An f-string that starts with a value holding folders (not ``f"{name}.pt"``, where the name may be none)."""
        if not isinstance(node, ast.JoinedStr) or not node.values or not isinstance(node.values[0], ast.FormattedValue):
            return False
        held = self._held(_unwrap_str(node.values[0].value))
        return held is not None and _path_built(held)

    def _assigned_roots(self, node: ast.expr, key: str, depth: int) -> set[str]:
        """The roots of what a name (or ``self.path``, which ``__init__`` set) holds."""
        value = self.assigned[key]
        if isinstance(node, ast.Name):
            self.path_names.add(id(node))
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.named[id(value)] = (node.id, value)
        return self.roots(value, depth + 1)

    def _file_named_by_value(self, node: ast.expr) -> str | None:
        """``f"{MODEL_NAME}_best.pt"`` or ``name + ".csv"``: a relative file whose name starts with a value, keyed by
        that value's code and the extension (``{MODEL_NAME}.pt``); None for other expressions, and for a value that
        is a constant absolute path or URL."""
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.FormattedValue):
            if _folder_first(node):
                return None
            leading, texts = node.values[0].value, [v.value for v in node.values if isinstance(v, ast.Constant)]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            leading = _leftmost(node)
            if leading_text(leading) is not None or isinstance(leading, ast.JoinedStr):
                return None
            texts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        else:
            return None
        held = self._held(_unwrap_str(leading))
        if held is not None and _path_built(held):
            return None  # a path of folders (``Path("results") / name``): its root is anchored as such
        value = held.value if isinstance(held, ast.Constant) and isinstance(held.value, str) else None
        extension = _EXTENSION.search(str(texts[-1])) if texts else None
        if (value is not None and path_root(value) is None) or extension is None:
            return None
        key = f"{{{ast.unparse(leading)}}}{extension.group()}"
        self.named_file_leads[key] = _unwrap_str(leading)
        if value is not None:
            self.known_named_files.add(key)
        return key

    def _held(self, node: ast.expr, depth: int = 0) -> ast.expr | None:
        """What a name holds in the steps' code, through other names; None when unknown (a loop variable, a
        parameter of a function)."""
        while (key := _assigned_key(node)) is not None and depth < 8:
            if key not in self.assigned:
                return None
            node, depth = self.assigned[key], depth + 1
        return node


_PATH_BUILDERS = {"Path", "PurePath", "join", "abspath", "realpath", "normpath", "expanduser", "resolve", "absolute"}
_PATH_BUILDERS |= {"joinpath", "with_suffix", "getcwd", "cwd"}


def _path_built(node: ast.expr) -> bool:
    """A value holding folders: ``"results/run1"``, ``Path(...)``, ``a / b``, ``f"{out}/run"``, ``os.path.join(...)``."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and "/" in node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True
    if isinstance(node, (ast.BinOp, ast.JoinedStr)):
        return _folder_first(node) or "/" in (leading_text(_leftmost(node)) or "")
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        return name in _PATH_BUILDERS
    return False


def _choices(node: ast.expr) -> list[ast.expr]:
    """The values an expression can be: ``"a.csv" if full else "b.csv"``, or a literal list a loop gives one by one
    (``for name in ["a.txt", "b.txt"]``)."""
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    return node.elts if isinstance(node, (ast.List, ast.Tuple)) else []


def _unwrap_str(node: ast.expr) -> ast.expr:
    """``str(path)`` → ``path``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
        return node.args[0]
    return node


def _assigned_key(target: ast.expr) -> str | None:
    """What an assignment target is recorded as: a name, or ``self.attribute``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return f"self.{target.attr}"
    return None


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
    call: ast.Call, name: str, keywords: dict, receiver: ast.expr | None, writers: dict[str, dict[int | str, str]]
) -> tuple[list[ast.expr], list[ast.expr]]:
    """The path arguments of a call: (written, read)."""
    args = call.args
    if name == "open" and (receiver is None or _is_module(receiver, _OPENING_MODULES)) and args:
        mode = args[1] if len(args) > 1 else keywords.get("mode")
        return ([args[0]], []) if _writing_mode(mode) else ([], [args[0]])
    if (name in _COPIES or (name in ("rename", "replace") and _is_module(receiver, {"os"}))) and len(args) >= 2:
        return [args[1]], [args[0]]  # shutil.copytree(SRC, DST), os.rename(SRC, DST)
    if name == "extractall" and (args or "path" in keywords):
        return [args[0] if args else keywords["path"]], []  # ZipFile(...).extractall("data") fills the folder
    if name == "ZipFile" or (name in ("glob", "iglob") and _module_glob(call.func)):
        return [], args[:1]  # the archive read; the folder a pattern lists read
    written = _written_arguments(call, name, keywords, receiver, writers)
    if written is not None:
        return written, []
    if name in _READ_FUNCTIONS | _LOOKING | {"load"} and args:
        return [], [args[0]]
    return [], [keywords["root"]] if "root" in keywords else []


def _written_arguments(
    call: ast.Call, name: str, keywords: dict, receiver: ast.expr | None, writers: dict[str, dict[int | str, str]]
) -> list[ast.expr] | None:
    """What a call writes to, or None when it writes nothing it is given."""
    args = call.args
    if name in ("save", "dump") and len(args) >= 2 and not _is_numpy(receiver):
        return [args[1]]  # torch.save(obj, PATH), joblib.dump(obj, PATH)
    if name in ("save", "savez", "savez_compressed") and args:
        return [args[0]]  # np.save(PATH, array), model.save(PATH)
    if name in _WRITE_METHODS and (args or keywords):
        return [args[0] if args else next(iter(keywords.values()))]
    if name in _REMOVALS and args and (_is_module(receiver, {"os", "shutil"}) or isinstance(call.func, ast.Name)):
        return [args[0]]  # shutil.rmtree("outputs"), os.remove("v.txt")
    if name in ("urlretrieve", "save_image") and len(args) >= 2:
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


def _is_module(receiver: ast.expr | None, modules: set[str]) -> bool:
    return isinstance(receiver, ast.Name) and receiver.id in modules


def _is_numpy(receiver: ast.expr | None) -> bool:
    return _is_module(receiver, {"np", "numpy"})


def _truthy(node: ast.expr) -> bool:
    return not (isinstance(node, ast.Constant) and not node.value)


def writing_functions(statements: list[Statement]) -> dict[str, dict[int | str, str]]:
    """The notebook's own functions that write to a path they are given (``def save_image(tensor, fp)`` that
    ends in ``plt.imsave(fp, …)``): name → the positions and names of those parameters, each with what the function
    appends to it (``".pt"`` for ``torch.save(state, f"{name}.pt")``, else "")."""
    writers: dict[str, dict[int | str, str]] = {}
    for statement in statements:
        writers.update(statement.index.derived(_writing_functions))
    return writers


def _writing_functions(index: NodeIndex) -> dict[str, dict[int | str, str]]:
    writers: dict[str, dict[int | str, str]] = {}
    for node in index.of(ast.FunctionDef, ast.AsyncFunctionDef):
        inner = Collector()
        for inner_statement in node.body:
            inner.visit(ast.walk(inner_statement))
        parameters = [a.arg for a in node.args.posonlyargs + node.args.args]
        suffixes: dict[str, str] = {}
        for written in inner.writes:
            for name in (n.id for n in ast.walk(written) if isinstance(n, ast.Name) and n.id in parameters):
                suffixes.setdefault(name, _suffix_after(written, name))
        marked: dict[int | str, str] = {}
        for position, parameter in enumerate(parameters):
            if parameter in suffixes:
                marked[position] = marked[parameter] = suffixes[parameter]
        if marked:
            writers[node.name] = marked
    return writers


def _suffix_after(written: ast.expr, name: str) -> str:
    """``".pt"`` for ``f"{name}.pt"`` or ``name + ".pt"``: the literal text a path parameter is completed with."""
    if isinstance(written, ast.JoinedStr) and written.values and isinstance(written.values[0], ast.FormattedValue):
        leading, rest = written.values[0].value, written.values[1:]
    elif isinstance(written, ast.BinOp) and isinstance(written.op, ast.Add):
        parts: list[ast.expr] = []
        node: ast.expr = written
        while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts.insert(0, node.right)
            node = node.left
        leading, rest = node, parts
    else:
        return ""
    texts = [part.value for part in rest if isinstance(part, ast.Constant) and isinstance(part.value, str)]
    whole = isinstance(leading, ast.Name) and leading.id == name and len(texts) == len(rest)
    return "".join(texts) if whole and "/" not in "".join(texts) else ""

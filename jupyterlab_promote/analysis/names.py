"""Names each cell defines, uses and mutates, statement by statement.

Static only: the notebook is never executed. Module-level reads and writes
come from an ``ast`` walk; what functions and classes read at *call* time comes
from the standard library's ``symtable``, which applies Python's real scoping
rules (comprehensions, closures, class bodies) instead of our guess of them.
In-place mutation (``model.fit(X, y)``, ``items.append(x)``,
``df.dropna(inplace=True)``, ``obj.attr = v``) counts as redefining the object:
a later cell that reads a fitted model depends on the cell that fitted it.
"""

from __future__ import annotations

import ast
import builtins
import re
import symtable
from dataclasses import dataclass, field

from ..read.displays import DISPLAY_METHODS
from ..read.large_literals import parse_code
from ..read.lines import source_segment, split_lines
from .syntax_index import NodeIndex

BUILTINS = set(dir(builtins)) | {"__file__", "__name__", "get_ipython", "display"}

# Methods that change their receiver even when their result is used.
MUTATING_METHODS = {
    "fit",
    "partial_fit",
    "fit_transform",
    "step",
    "backward",
    "zero_grad",
    "append",
    "extend",
    "insert",
    "update",
    "add",
    "pop",
    "remove",
    "discard",
    "clear",
    "sort",
    "reverse",
    "setdefault",
    "load_state_dict",
    "train",
    "eval",
    "to",
    "cuda",
    "cpu",
    "requires_grad_",
    "apply",
    "register_buffer",
    "register_parameter",
    "set_params",
    "add_module",
    "manual_seed",
    "seed",
    "fill_",
    "zero_",
    "copy_",
    "add_",
    "mul_",
}
# Functions that change their first argument in place: ``next(it)``, ``setattr(box, "v", 1)``,
# ``rng.shuffle(items)``, ``heapq.heappush(heap, v)``; and PyTorch's in-place functions, whose names end with an
# underscore (``nn.init.zeros_(layer.bias)``).
ARGUMENT_CHANGING = {
    "next",
    "setattr",
    "delattr",
    "shuffle",
    "heappush",
    "heappop",
    "heapify",
    "heappushpop",
    "heapreplace",
}
# A device's name as torch.device takes it ("gpu" is Lightning's accelerator name, which torch.device refuses)
_DEVICE_NAME = re.compile(r"(?:cpu|cuda|mps|xpu)(?::[0-9]+)?")


@dataclass
class CallChanges:
    """What calling a def changes in place: the parameters its body changes (``seq.append(v)``), by position (None:
    keyword-only), so the call changes what it is handed there, and the globals its body changes."""

    params: list[tuple[int | None, str]] = field(default_factory=list)
    globals: list[str] = field(default_factory=list)


@dataclass
class Statement:
    """One top-level statement of a cell (line numbers are the cell's own)."""

    node: ast.stmt
    line: int
    end_line: int
    binds: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)  # read before bound in this statement
    mutates: list[str] = field(default_factory=list)
    # Names the statement binds and then changes in place (``for m in models: m.fit(X)``, ``p -= lr * p.grad``):
    # the objects they hold may be held by other names too (indirect_changes.py).
    local_changes: list[str] = field(default_factory=list)
    call_time_reads: list[str] = field(default_factory=list)  # globals a def/class body reads when called
    # Builtins' names read (as ``reads`` and ``call_time_reads``): the notebook's own value where it bound the name
    # before (``input = torch.randn(3)``), which cells.py adds to the reads; else the builtin.
    builtin_reads: list[str] = field(default_factory=list)
    builtin_call_time_reads: list[str] = field(default_factory=list)
    # What a call of this def changes in place (indirect_changes.py); found when a call asks (changes_of_call): None
    # until then.
    call_changes: CallChanges | None = None
    is_import: bool = False
    is_definition: bool = False  # def / class
    is_literal: bool = False  # NAME = <literal>
    is_device: bool = False  # device = "cuda" if ... else "cpu"
    is_display: bool = False  # a bare expression whose only effect was output
    index: NodeIndex = field(init=False, repr=False, compare=False)  # the node's subtree, for the stages


@dataclass
class CellNames:
    statements: list[Statement]
    code: str

    @property
    def binds(self) -> set[str]:
        return {name for stmt in self.statements for name in stmt.binds}

    @property
    def mutates(self) -> set[str]:
        return {name for stmt in self.statements for name in stmt.mutates}

    @property
    def reads(self) -> list[str]:
        """Names the cell needs from outside: read before any statement of it binds them (a builtin's name only
        where the notebook rebound it above: analysis/cells.py)."""
        bound: set[str] = set()
        needed: list[str] = []
        for stmt in self.statements:
            for name in stmt.reads + stmt.call_time_reads:
                if name not in bound and name not in needed:
                    needed.append(name)
            bound.update(stmt.binds)
        return needed


class _ModuleLevel(ast.NodeVisitor):
    """Reads, writes and mutations of code that runs when the statement runs."""

    def __init__(self) -> None:
        self.loads: list[str] = []
        self.stores: list[str] = []
        self.mutated: list[str] = []
        self.augmented: list[str] = []  # ``x += v``: in place for lists, tensors and arrays
        self._local_stack: list[set[str]] = []

    def _is_local(self, name: str) -> bool:
        return any(name in scope for scope in self._local_stack)

    # NodeVisitor.visit builds a method name and looks it up for every node, and generic_visit makes two
    # generators per node: a third of the analysis. The handlers are found once per node class instead.
    def visit(self, node: ast.AST) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            self.generic_visit(node)
        elif handler is not _LEAF:
            handler(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if not self._is_local(node.id) and node.id not in self.stores:
                self.loads.append(node.id)
        elif not self._is_local(node.id):
            self.stores.append(node.id)

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                self.visit(base)
            for keyword in node.keywords:
                self.visit(keyword.value)
        else:
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
                self.visit(default)
        self.stores.append(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(default)  # evaluated where the lambda is written
        params = {a.arg for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs}
        self._local_stack.append(params)
        self.visit(node.body)
        self._local_stack.pop()

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        targets: set[str] = set()
        for generator in node.generators:
            targets |= {n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name)}
        self.visit(node.generators[0].iter)  # evaluated in the enclosing scope
        self._local_stack.append(targets)
        for index, generator in enumerate(node.generators):
            if index:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))
        self._local_stack.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension  # type: ignore[assignment]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        # ``except E as err``: err is bound in the handler and deleted at its end, never handed on
        if node.type is not None:
            self.visit(node.type)
        self._local_stack.append({node.name} if node.name else set())
        for statement in node.body:
            self.visit(statement)
        self._local_stack.pop()

    def _capture(self, node: ast.MatchAs | ast.MatchStar) -> None:
        # ``case [first, *rest]:`` binds its names as an assignment does (the parser holds them as text)
        if node.name and not self._is_local(node.name):
            self.stores.append(node.name)
        self.generic_visit(node)

    visit_MatchAs = visit_MatchStar = _capture  # type: ignore[assignment]

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest and not self._is_local(node.rest):
            self.stores.append(node.rest)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.stores.append(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.stores.append(alias.asname or alias.name)

    def visit_Expr(self, node: ast.Expr) -> None:
        # A method call whose result is thrown away is called for its effect on the receiver.
        call = node.value
        if isinstance(call, ast.Call) and (root := _receiver(call.func)) and not _is_display_call(call):
            self._changed(root)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and (root := _receiver(node.func)):
            inplace = any(
                k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            )
            if node.func.attr in MUTATING_METHODS or inplace:
                self._changed(root)
        if node.args and _changes_its_argument(node.func) and (root := root_name(node.args[0])):
            self._changed(root)
        self.generic_visit(node)

    def _changed(self, name: str) -> None:
        if not self._is_local(name):  # ``[x.to(device) for x in batch]`` changes no name of the notebook's
            self.mutated.append(name)

    def _store_target(self, target: ast.expr) -> None:
        if isinstance(target, (ast.Attribute, ast.Subscript)) and (root := root_name(target)):
            self._changed(root)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._store_target(target)
            self.visit(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)  # ``(n := n + 1)`` reads n before it binds it
        self.visit(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)  # ``for b in [b, 2.0]`` reads b before the loop binds it (the target comes first)
        self._store_target(node.target)
        self.visit(node.target)
        for statement in node.body + node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name) and not self._is_local(node.target.id):
            if node.target.id not in self.stores:
                self.loads.append(node.target.id)
            self.augmented.append(node.target.id)
        self._store_target(node.target)
        self.visit(node.target)

    def visit_Delete(self, node: ast.Delete) -> None:
        # ``del x`` needs x to exist (a read) and makes it local to a step function (a binding).
        for target in node.targets:
            if isinstance(target, ast.Name):
                if not self._is_local(target.id) and target.id not in self.stores:
                    self.loads.append(target.id)
                self.stores.append(target.id)
            else:
                self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value:
            self.visit(node.value)
        self._store_target(node.target)
        self.visit(node.target)


_LEAF = object()  # nothing to visit: constants, and the contexts and operators every expression carries
_LEAF_KINDS = (ast.Constant, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_NODE_KINDS = [kind for kind in vars(ast).values() if isinstance(kind, type) and issubclass(kind, ast.AST)]
_HANDLERS: dict[type, object] = {
    kind: _LEAF if issubclass(kind, _LEAF_KINDS) else getattr(_ModuleLevel, f"visit_{kind.__name__}")
    for kind in _NODE_KINDS
    if issubclass(kind, _LEAF_KINDS) or hasattr(_ModuleLevel, f"visit_{kind.__name__}")
}


def _is_display_call(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in DISPLAY_METHODS


def root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def attribute_chain(node: ast.AST) -> list[str]:
    """``["torch", "backends", "cudnn"]`` for ``torch.backends.cudnn``; [] unless the chain starts at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else []


def _changes_its_argument(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ARGUMENT_CHANGING
    if isinstance(func, ast.Attribute):
        return func.attr in ARGUMENT_CHANGING or (func.attr.endswith("_") and not func.attr.endswith("__"))
    return False


def _receiver(func: ast.expr) -> str | None:
    """``model`` for ``model.fit``/``model.layer.reset()``; None for plain calls."""
    return root_name(func.value) if isinstance(func, ast.Attribute) else None


def _call_time_globals(node: ast.stmt, lines: list[str], scopes: set[str] | None = None) -> list[str]:
    """Globals that the body of the function or class ``node`` reads (or, with ``scopes``, the bodies of the defs
    and classes of those names that the block ``node`` makes). Its own text (decorators aside: they run at
    definition time) goes to symtable, which is what the compiler reads; unparsing it first cost more than the
    rest of the cell's analysis."""
    table = _symbol_table(source_segment(lines, node)) or _symbol_table(ast.unparse(node))
    if table is None:
        return []
    found: list[str] = []

    def walk(scope: symtable.SymbolTable) -> None:
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and symbol.is_global() and symbol.get_name() not in found:
                found.append(symbol.get_name())
        for child in scope.get_children():
            walk(child)

    for child in table.get_children():
        if scopes is None or child.get_name() in scopes:
            walk(child)
    return found


def _symbol_table(source: str | None) -> symtable.SymbolTable | None:
    """The module's table, when ``source`` compiles and defines something; else None."""
    try:
        table = symtable.symtable(source or "", "<cell>", "exec")
    except (SyntaxError, ValueError):
        return None
    return table if table.get_children() else None


def _is_literal(node: ast.stmt, index: NodeIndex) -> bool:
    if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name) for t in targets):
        return False
    if isinstance(node, ast.Assign) and len(index.of(ast.Name)) > len(targets) and not index.of(ast.Call):
        return False  # the value reads a name, which literal_eval refuses (only `set()` may), raising: slow
    try:
        ast.literal_eval(node.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_device(node: ast.stmt) -> bool:
    """``device = torch.device(...)``, or a choice between devices (``"cuda" if torch.cuda.is_available() else
    "cpu"``): boilerplate that Lightning and Fabric replace. Read from the expression's form, not its words: a
    Trainer's ``accelerator="cpu"`` is no device, nor is a name Lightning takes as an accelerator."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return False
    if "accelerator" in node.targets[0].id.lower():  # Trainer(accelerator=...) takes names, not torch.device
        return False
    return not isinstance(node.value, ast.Constant) and _names_device(node.value)


def _names_device(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _DEVICE_NAME.fullmatch(node.value) is not None
    if isinstance(node, ast.IfExp):
        return _names_device(node.body) and _names_device(node.orelse)
    if isinstance(node, ast.Call):
        return _dotted(node.func) in ("torch.device", "torch.accelerator.current_accelerator")
    # torch.accelerator.current_accelerator().type: the device's name
    return isinstance(node, ast.Attribute) and node.attr == "type" and _names_device(node.value)


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def changes_of_call(stmt: Statement) -> CallChanges:
    """What a call of the def ``stmt``, or of the class's methods, changes (nothing for other statements); found once
    (the statements are shared across analyses)."""
    if stmt.call_changes is None:
        node = stmt.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stmt.call_changes = _call_changes(node)
        elif isinstance(node, ast.ClassDef):  # its methods' globals, whichever the call runs
            methods = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            stmt.call_changes = CallChanges(
                globals=list(dict.fromkeys(g for m in methods for g in _call_changes(m).globals))
            )
        else:
            stmt.call_changes = CallChanges()
    return stmt.call_changes


def has_default(node: ast.stmt, param: str) -> bool:
    """Whether the def ``node``'s parameter ``param`` has a default value (evaluated once, kept by the function)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    arguments = node.args
    positional = arguments.posonlyargs + arguments.args
    with_default = positional[len(positional) - len(arguments.defaults) :]
    keyword = [a for a, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is not None]
    return any(a.arg == param for a in with_default + keyword)


def _call_changes(node: ast.FunctionDef | ast.AsyncFunctionDef) -> CallChanges:
    """The names the body changes in place and never binds: a parameter's, or a global's."""
    body = _ModuleLevel()
    for statement in node.body:
        body.visit(statement)
    changed = list(dict.fromkeys(n for n in body.mutated if n not in body.stores))
    if not changed:
        return CallChanges()
    positional = [a.arg for a in node.args.posonlyargs + node.args.args]
    keyword_only = [a.arg for a in node.args.kwonlyargs]
    params = [(i, name) for i, name in enumerate(positional) if name in changed]
    params += [(None, name) for name in keyword_only if name in changed]
    every = {
        *positional,
        *keyword_only,
        node.args.vararg and node.args.vararg.arg,
        node.args.kwarg and node.args.kwarg.arg,
    }
    return CallChanges(params, [n for n in changed if n not in every])


def analyse_statement(node: ast.stmt, lines: list[str]) -> Statement:
    """``lines``: the cell's ``split_lines(code)``, split once for all its statements."""
    visitor = _ModuleLevel()
    visitor.visit(node)
    index = NodeIndex(node)
    binds = list(dict.fromkeys(visitor.stores))
    loads = dict.fromkeys(visitor.loads)
    reads = [n for n in loads if n not in BUILTINS]
    changed = dict.fromkeys(visitor.mutated + visitor.augmented)
    stmt = Statement(
        node=node,
        line=node.lineno,
        end_line=node.end_lineno or node.lineno,
        binds=binds,
        reads=reads,
        mutates=[n for n in dict.fromkeys(visitor.mutated) if n not in binds or n in reads],
        local_changes=[n for n in changed if n in binds and n not in reads],
        builtin_reads=[n for n in loads if n in BUILTINS],
        is_import=isinstance(node, (ast.Import, ast.ImportFrom)),
        is_definition=isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)),
        is_literal=_is_literal(node, index),
        is_device=_is_device(node),
        is_display=isinstance(node, ast.Expr)
        and not index.has(ast.NamedExpr)
        and (
            _is_display_call(node.value)
            if isinstance(node.value, ast.Call)
            # ``save() if ok else None``, ``[os.remove(f) for f in old]``: a call inside is run for its effect
            else not isinstance(node.value, (ast.Await, ast.Yield, ast.YieldFrom))
            and all(_is_display_call(call) for call in index.of(ast.Call))
        ),
    )
    stmt.index = index
    if stmt.is_definition:
        call_time = [n for n in _call_time_globals(node, lines) if n != binds[0]]
    elif nested := {d.name for d in index.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)}:
        # ``if …: def f(): return k`` (or in a try, with or for block): f reads k when called, as a def does
        call_time = [n for n in _call_time_globals(node, lines, nested) if n not in binds]
    else:
        return stmt
    stmt.call_time_reads = [n for n in call_time if n not in BUILTINS]
    stmt.builtin_call_time_reads = [n for n in call_time if n in BUILTINS]
    return stmt


def analyse_code(code: str, tree: ast.Module | None = None) -> CellNames:
    """Statement records for plain Python (raises SyntaxError; callers report it); ``tree``: its parse, if made."""
    tree, lines = tree if tree is not None else parse_code(code), split_lines(code)
    return CellNames(statements=[analyse_statement(node, lines) for node in tree.body], code=code)

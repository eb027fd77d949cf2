"""Render planned statements back to source text, with the few rewrites promotion makes.

Statements are cut from the cell's own text (comments included), never
regenerated from the AST, so the promoted code reads like the notebook. The
rewrites are deliberate and small:

* device boilerplate becomes ``device = fabric.device`` (Lightning places
  models and batches, so the same code runs on CPU, one GPU or many);
* ``loss.backward()`` becomes ``fabric.backward(loss)`` (precision and
  strategy plugins hook in there);
* after the optimiser is built, ``model, optimizer = fabric.setup(...)``;
* display-only statements (``df.head()``, ``clear_output()``) are dropped;
* a literal too large for the code reads its stored file (stages/literals.py);
* a ``global`` statement outside any function is dropped (``pass`` inside a block): a no-op in the notebook,
  in the step function it would turn the step's own variables into module globals, and a use of one earlier
  in the step (from another cell) into a compile error.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

from ..analysis.names import Statement
from ..analysis.syntax_index import NodeIndex
from ..read.displays import DISPLAY_FUNCTIONS
from ..read.frontends import console_attribute
from ..read.lines import split_lines
from ..read.source_edits import SourceEdits
from ..stages.local_modules import NOTEBOOK_MODULES, copied_import
from ..stages.paths import NOTEBOOK_DIR, anchored
from ..stages.plan import Placed
from .call_scopes import NESTED_SCOPES

# How many statements after the optimizer fabric.setup may move past (hand-overs come right after it).
_HANDOVER_WINDOW = 8
# The nodes that can hold a block of statements (body, orelse, finalbody).
_BLOCK_HOLDERS = (ast.stmt, ast.excepthandler, ast.match_case)


@dataclass
class RenderOptions:
    fabric: bool  # torch code inside a step: rewrite for Lightning Fabric (never for module-level definitions)
    device: str | None = None  # what device boilerplate becomes; None keeps it as written
    anchors: dict[int, str] | None = None  # id(path literal) → where it is anchored (stages/paths.py)
    # the anchors of reads beside the notebook, which keep a leading ``..`` (stages/paths.py's ``anchored``)
    beside_notebook: frozenset[str] = frozenset({NOTEBOOK_DIR})
    joined: dict[int, str] | None = None  # id(a file named by a value, ``f"{NAME}.pt"``) → the folder it is joined to
    # id(call) → keywords it gains: ``default_root_dir=cfg.artifacts_dir`` for the notebook's own Trainer(...), a
    # definition's defaulted path (stages/definition_paths.py)
    keywords: dict[int, str] | None = None
    renames: dict[int, str] | None = None  # id(Name) → the name to read instead (stages/rebound_imports.py)
    # id(statement) → its large literals and the call that loads each from its file (stages/literals.py)
    literals: dict[int, list[tuple[ast.expr, str]]] | None = None
    # models an earlier step set up with Fabric: a new optimizer for one (a second training phase) is set up alone
    set_up: frozenset[str] = frozenset()
    setup_again: str = "fabric_setup_again"  # the runtime's function for that, as the pipeline module imports it
    # the notebook's own modules copied into the package: an import of one inside a def or block reads the copy
    copied_modules: frozenset[str] = frozenset()


def _statement_start(placed: Placed) -> int:
    node = placed.stmt.node
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


_last_cell = threading.local()  # per thread (the server renders in a pool): the cell last looked up


def _position(placed: Placed) -> int:
    """The statement's position among its cell's statements (cached for the cell: a cell renders in a row)."""
    names = placed.cell.names
    if getattr(_last_cell, "names", None) is not names:
        _last_cell.names, _last_cell.positions = names, {id(s): i for i, s in enumerate(names.statements)}
    return _last_cell.positions[id(placed.stmt)]


def _lines(placed: Placed) -> list[str]:
    """The cell's plain code, split once for all its statements (never mutated: SourceEdits copies what it edits)."""
    code = placed.cell.plain.code if placed.cell.plain else ""
    if getattr(_last_cell, "code", None) is not code:
        _last_cell.code, _last_cell.lines = code, split_lines(code)
    return _last_cell.lines


def _previous_end(placed: Placed) -> int:
    """Last line of the statement before this one in the same cell (0 if none)."""
    index = _position(placed)
    return placed.cell.names.statements[index - 1].end_line if index else 0


def _is_display_expr(node: ast.stmt) -> bool:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    if isinstance(func, ast.Name):
        return func.id in DISPLAY_FUNCTIONS
    if isinstance(func, ast.Attribute):
        root = func.value
        return func.attr in DISPLAY_FUNCTIONS or (isinstance(root, ast.Name) and root.id == "display")
    return False


def _drop_module_globals(edits: SourceEdits, stmt: Statement) -> None:
    """``global NAME`` in a block at the cell's module level (not in a function or class it defines) → ``pass``."""
    if not stmt.index.of(ast.Global):  # most statements: no walk
        return
    todo: list[ast.AST] = [stmt.node]
    while todo:
        current = todo.pop()
        if isinstance(current, ast.Global):
            edits.replace(edits.span_of(current), "pass")
        todo.extend(c for c in ast.iter_child_nodes(current) if not isinstance(c, NESTED_SCOPES))


def models_set_up(statements: list[Statement]) -> set[str]:
    """The models whose optimizer ``statements`` build (``optimizer = Adam(model.parameters())``): on Fabric each is
    set up there."""
    return {
        setup.split(",")[0]
        for stmt in statements
        for node in stmt.index.of(ast.Assign)
        if (setup := _optimizer_setup(node)) is not None
    }


def _optimizer_setup(node: ast.stmt) -> str | None:
    """``model, optimizer = fabric.setup(model, optimizer)`` after ``optimizer = Adam(model.parameters())``."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return None
    call = node.value
    if not (isinstance(call, ast.Call) and call.args):
        return None
    first = call.args[0]
    if not (
        isinstance(first, ast.Call)
        and isinstance(first.func, ast.Attribute)
        and first.func.attr == "parameters"
        and isinstance(first.func.value, ast.Name)
    ):
        return None
    model, optimizer = first.func.value.id, node.targets[0].id
    return f"{model}, {optimizer} = fabric.setup({model}, {optimizer})"


def render(placed: Placed, options: RenderOptions) -> str:
    """The statement's text (with its leading comments), rewritten; '' when dropped."""
    stmt = placed.stmt
    if stmt.is_display or _is_display_expr(stmt.node) or isinstance(stmt.node, ast.Global):
        return ""
    lines = _lines(placed)
    start = _previous_end(placed) + 1
    while start < _statement_start(placed) and not lines[start - 1].strip():
        start += 1
    edits = SourceEdits(lines)
    if stmt.is_device and options.device:
        target = stmt.node.targets[0].id  # type: ignore[attr-defined]
        edits.replace_statement(stmt.node, f"{target} = {options.device}", False)
        return "\n".join(edits.apply(start, stmt.end_line))
    index = _position(placed)
    statements = placed.cell.names.statements  # type: ignore[union-attr]
    near = statements[max(0, index - _HANDOVER_WINDOW) : index + _HANDOVER_WINDOW + 1]
    _rewrite_statements(edits, ([s.node for s in near], min(index, _HANDOVER_WINDOW)), lines, options, stmt.index)
    _use_console_frontends(edits, stmt.index)
    _drop_module_globals(edits, stmt)
    for literal, call in (options.literals or {}).get(id(stmt.node), ()):
        edits.replace_expression(literal, call)
    if options.renames:
        for node in stmt.index.of(ast.Name):
            if id(node) in options.renames:
                edits.replace_expression(node, options.renames[id(node)])
    _rewrite_paths(edits, stmt.index, options)
    if options.copied_modules:
        _import_copies(edits, stmt.index, options.copied_modules)
    return "\n".join(edits.apply(start, stmt.end_line))


def _import_copies(edits: SourceEdits, index: NodeIndex, copied: frozenset[str]) -> None:
    """``import helpers`` inside a def → ``from .notebook_modules import helpers`` (stages/local_modules.py)."""
    for node in index.of(ast.Import, ast.ImportFrom):
        rewritten = copied_import(ast.unparse(node), set(copied), f".{NOTEBOOK_MODULES}")
        if rewritten is not None and not edits.overlaps(span := edits.span_of(node)):
            edits.replace(span, rewritten)


def _rewrite_statements(
    edits: SourceEdits,
    top: tuple[list[ast.stmt], int],
    lines: list[str],
    options: RenderOptions,
    nodes: NodeIndex,
) -> None:
    """Display calls dropped, and on Fabric ``fabric.backward`` and ``fabric.setup``, in one statement and every
    block nested in it. ``top`` is the statement's own block (the cell's statements) and its position there;
    ``nodes`` its nodes (a statement holding a large literal has a million: never walked here)."""
    # The innermost function around each node: fabric.setup rebinds the model there.
    enclosing: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for function in nodes.of(ast.FunctionDef, ast.AsyncFunctionDef) if options.fabric else ():
        enclosing.update({id(n): function for n in ast.walk(function) if n is not function})
    # The statement itself first (never dropped here: only_child is False), then every nested block.
    blocks = [(top[0], [top[1]])] + [
        (block, list(range(len(block))))
        for parent in nodes.of(*_BLOCK_HOLDERS)
        for field_name in ("body", "orelse", "finalbody")
        if isinstance(block := getattr(parent, field_name, None), list)
    ]
    for position, (block, indices) in enumerate(blocks):
        only_child = position > 0 and len(block) == 1
        for index in indices:
            child = block[index]
            if not isinstance(child, ast.stmt):
                continue
            if position > 0 and _is_display_expr(child):
                edits.replace_statement(child, "", only_child)
            elif options.fabric:
                _rewrite_for_fabric(edits, (block, index), lines, only_child, enclosing.get(id(child)), options)


def _rewrite_for_fabric(
    edits: SourceEdits,
    at: tuple[list[ast.stmt], int],
    lines: list[str],
    only_child: bool,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    options: RenderOptions,
) -> None:
    """``loss.backward()`` → ``fabric.backward(loss)``; ``fabric.setup`` once the optimizer is built
    (``fabric_setup_again`` for a model an earlier step set up: Fabric sets a model up once)."""
    block, index = at
    child = block[index]
    if _is_backward(child):
        loss = ast.unparse(child.value.func.value)  # type: ignore[attr-defined]
        edits.replace_statement(child, f"fabric.backward({loss})", only_child)
    for setup in _setups_due_after(block, index):
        if (model := setup.split(",")[0]) in options.set_up:
            setup = setup.replace(f"fabric.setup({model}, ", f"{options.setup_again}(fabric, {model}, ")
        end = child.end_lineno or child.lineno
        edits.insert(end, len(lines[end - 1]), "\n" + " " * child.col_offset + setup)
        if function:
            _declare_nonlocal(edits, function, setup.split(",")[0])


def _setups_due_after(block: list[ast.stmt], index: int) -> list[str]:
    """The ``fabric.setup`` lines that go right after ``block[index]``.

    Right after the optimizer is built, or after the statements just below it that only hand the model to another
    object (gpytorch's ``ExactMarginalLogLikelihood(likelihood, model)``): such objects must hold the notebook's
    own module, since libraries check its type and Fabric's wrapper is not one.
    """
    setups = []
    for start in range(index, max(-1, index - _HANDOVER_WINDOW - 1), -1):
        setup = _optimizer_setup(block[start])
        if setup is not None and _setup_point(block, start) == index:
            setups.append(setup)
    return setups


def _setup_point(block: list[ast.stmt], start: int) -> int:
    """Where the setup of the optimizer built by ``block[start]`` goes (see _setups_due_after)."""
    model, optimizer = block[start].value.args[0].func.value.id, block[start].targets[0].id  # type: ignore[attr-defined]
    point = start
    for later in range(start + 1, min(len(block), start + _HANDOVER_WINDOW + 1)):
        uses = _uses(block[later], {model, optimizer})
        if not uses:
            continue
        simple = isinstance(block[later], (ast.Assign, ast.AnnAssign, ast.Expr))
        if not simple or any(name == optimizer or not handed_over for name, handed_over in uses):
            break  # the optimizer's own users (schedulers) and the model's callers get Fabric's wrappers
        point = later
    return point


def _uses(statement: ast.stmt, names: set[str]) -> list[tuple[str, bool]]:
    """Each read of ``names`` in ``statement``, and whether it is an argument of a call (handed to another object)."""
    arguments = {
        id(argument.value if isinstance(argument, ast.keyword) else argument)
        for call in ast.walk(statement)
        if isinstance(call, ast.Call)
        for argument in [*call.args, *call.keywords]
    }
    return [
        (node.id, id(node) in arguments)
        for node in ast.walk(statement)
        if isinstance(node, ast.Name) and node.id in names
    ]


def _use_console_frontends(edits: SourceEdits, index: NodeIndex) -> None:
    """``tqdm.notebook.tqdm(...)`` → ``tqdm.auto.tqdm(...)`` (frontends.py says why)."""
    for node in index.of(ast.Attribute):
        if (text := console_attribute(node)) is not None:
            edits.replace_expression(node, text)


def _rewrite_paths(edits: SourceEdits, index: NodeIndex, options: RenderOptions) -> None:
    """Where the notebook's files land: anchored literals, joined file names, keywords that say where."""
    if options.anchors:
        _anchor_paths(edits, index, options.anchors, options.beside_notebook)
    if options.joined:
        _join_paths(edits, index, options.joined)
    if options.keywords:
        _pass_keywords(edits, index, options.keywords)


def _anchor_paths(
    edits: SourceEdits, index: NodeIndex, anchors: dict[int, str], beside_notebook: frozenset[str]
) -> None:
    """Relative path literals rewritten to start at the artifacts (or notebook) folder, unless already edited."""
    for node in index.of(ast.Constant, ast.JoinedStr, ast.Call):  # what stages/paths.py anchors
        anchor = anchors.get(id(node))
        if anchor is None or node.end_lineno is None or node.end_col_offset is None:
            continue
        span = edits.span_of(node)
        if edits.overlaps(span):
            continue
        source = "\n".join(edits.lines[node.lineno - 1 : node.end_lineno])
        source = source[span[1] : len(source) - len(edits.lines[node.end_lineno - 1]) + span[3]]
        edits.replace(span, anchored(node, source, anchor, climbs=anchor in beside_notebook))


def _join_paths(edits: SourceEdits, index: NodeIndex, joined: dict[int, str]) -> None:
    """A file named by a value joined to its folder: ``os.path.join(cfg.artifacts_dir, f"{NAME}.pt")``."""
    for node in index.of(ast.JoinedStr, ast.BinOp):
        folder = joined.get(id(node))
        if folder is None:
            continue
        span = edits.span_of(node)
        if edits.overlaps(span):
            continue
        source = "\n".join(edits.lines[span[0] - 1 : span[2]])
        source = source[span[1] : len(source) - len(edits.lines[span[2] - 1]) + span[3]]
        edits.replace(span, f"os.path.join({folder}, {source})")


def _pass_keywords(edits: SourceEdits, index: NodeIndex, keywords: dict[int, str]) -> None:
    """Calls gain keyword arguments after their last argument (``Trainer(...)``'s ``default_root_dir``)."""
    for node in index.of(ast.Call):
        if id(node) not in keywords or node.end_lineno is None or node.end_col_offset is None:
            continue
        arguments = [*node.args, *node.keywords]
        if arguments:
            last = max(arguments, key=lambda a: (a.end_lineno or 0, a.end_col_offset or 0))
            line, column, text = last.end_lineno, last.end_col_offset, f", {keywords[id(node)]}"
        else:
            line, column, text = node.end_lineno, node.end_col_offset - 1, keywords[id(node)]
        assert line is not None and column is not None
        at = len(edits.lines[line - 1].encode()[:column].decode())
        if not edits.overlaps((line, at, line, at + 1)):
            edits.insert(line, at, text)


def _declare_nonlocal(edits: SourceEdits, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
    """``nonlocal model`` in a nested function that sets up the step's model, so the rebinding reaches the step.

    Without it the assignment would make ``model`` local to the function and break every earlier read.
    """
    arguments = function.args
    parameters = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    stores = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if name in parameters or name in stores:
        return
    body = function.body
    first = (
        body[1]
        if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        else body[0]
    )
    edits.insert(first.lineno, 0, " " * first.col_offset + f"nonlocal {name}\n")


def _is_backward(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "backward"
        and not node.value.args
        and not node.value.keywords
    )

"""A cell's source read into plain Python and its names, remembered by source across analyses.

The panel analyses the notebook while the user types: between two analyses most cells are unchanged, and reading
them again (IPython's transformer, the parse, the names walk) was most of each analysis. A reading depends only on
the cell's source and whether the cell is promoted (a promoted cell loses its ``if __name__ == "__main__":``
guard), so it is kept, keyed by both, in a process-wide cache that the server's threads share.

What a reading holds is never changed afterwards: the AST and the statement records are only read by the stages
(code generation re-parses what it rewrites), and each cell gets its own copy of the ``PlainSource`` (which
analysis may still mark). Two cells of one analysis never share a reading, since stages tell statements apart by
identity; a second cell with the same source reads it afresh.
"""

from __future__ import annotations

import ast
import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from ..read.magics import PlainSource, to_python
from ..read.main_guard import unguard_main
from .names import CellNames, analyse_code

# The cache holds about 124 bytes of AST and records per character of source: 512 K characters, about 60 MB,
# hold a 2,000-cell notebook twice over. A cell larger than _LARGEST is read afresh every time, so that one
# megabyte cell cannot push every other cell out.
_BUDGET = 512 * 1024
_LARGEST = 64 * 1024


# Deeper ASTs overflow the recursive walks of ast.unparse, black and our own stages.
MAX_NESTING = 150


@dataclass
class CellFacts:
    """What the per-cell checks need from the AST."""

    depth: int = 0  # of the deepest node; the rest is not gathered once past MAX_NESTING
    calls: set[str] = field(default_factory=set)  # called by code that runs when the cell runs
    body_calls: set[str] = field(default_factory=set)  # called inside the functions the cell defines
    has_async: bool = False  # an await / async for / async with anywhere
    has_function_only: bool = False  # a return / yield / nonlocal anywhere
    has_lambda: bool = False
    # what Python's compiler rejects in a tree the parser accepted (`global x` after a use of x, `break` outside
    # a loop, a duplicate argument): (line, message), looked for in promoted cells only
    compile_error: tuple[int, str] | None = None


def cell_facts(names: CellNames, promoted: bool) -> CellFacts:
    """From each statement's node index: no walk of its own."""
    facts = CellFacts()
    if promoted:
        facts.compile_error = compile_error(names)
    for stmt in names.statements:
        facts.depth = max(facts.depth, stmt.index.depth)
        if facts.depth > MAX_NESTING:
            return facts
        target = facts.body_calls if stmt.is_definition else facts.calls
        for call in stmt.index.of(ast.Call):
            func = call.func
            target.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        facts.has_async = facts.has_async or stmt.index.has(*ASYNC_NODES)
        facts.has_function_only = facts.has_function_only or stmt.index.has(*FUNCTION_ONLY_NODES)
        facts.has_lambda = facts.has_lambda or stmt.index.has(ast.Lambda)
    return facts


def compile_error(names: CellNames) -> tuple[int, str] | None:
    """The compiler's verdict on the cell's tree (the symbol table and code generation, which ``ast.parse`` does
    not run): IPython compiles every cell, so a cell it rejects is no step a function can hold either. A
    top-level ``await`` passes here as IPython lets it; the per-cell checks refuse it with their own message."""
    module = ast.Module(body=[stmt.node for stmt in names.statements], type_ignores=[])
    try:
        compile(module, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno or 1, exc.msg
    except (ValueError, TypeError):  # a tree the compiler cannot take at all: the parse already said what it could
        return None
    return None


ASYNC_NODES = (ast.Await, ast.AsyncFor, ast.AsyncWith)
# Statements a notebook cell cannot run (SyntaxError outside a function) but a step function would accept.
FUNCTION_ONLY_NODES = (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal)


@dataclass(frozen=True)
class Reading:
    plain: PlainSource  # the cell as plain Python, after dropping a promoted cell's main guard
    guards: tuple[int, ...]  # lines of the main guards dropped
    names: CellNames | None  # None when the plain code does not parse
    error: SyntaxError | None  # the parse error of the plain code, if any
    facts: CellFacts  # what the per-cell checks need from the AST (empty without names)


def read_cell(source: str, promoted: bool) -> Reading:
    """The reading of one cell, computed (RecursionError and MemoryError propagate: the caller reports them)."""
    plain = to_python(source)
    guards: tuple[int, ...] = ()
    if plain.syntax_error is None and promoted:
        unguarded, found = unguard_main(plain.code, plain.tree)
        guards = tuple(found)
        if unguarded != plain.code:
            plain.code, plain.tree = unguarded, None
    names, error = None, None
    if plain.syntax_error is None:
        try:
            names = analyse_code(plain.code, plain.tree)
        except SyntaxError as exc:  # to_python already parsed; this is belt and braces
            error = exc
    facts = cell_facts(names, promoted) if names is not None else CellFacts()
    return Reading(plain, guards, names, error, facts)


class _Cache:
    def __init__(self, budget: int) -> None:
        self.budget, self.size = budget, 0
        self.entries: OrderedDict[tuple[str, bool], Reading] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, bool]) -> Reading | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, bool], reading: Reading) -> None:
        if len(key[0]) > _LARGEST:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = reading
            self.size += len(key[0])
            while self.size > self.budget:
                (source, _), _ = self.entries.popitem(last=False)
                self.size -= len(source)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


_CACHE = _Cache(_BUDGET)


def clear_cache() -> None:
    """Forget every reading (benchmarks measure a first analysis with it)."""
    _CACHE.clear()


class Reader:
    """The readings of one analysis: from the cache where a cell's source was read before, never one reading for
    two cells."""

    def __init__(self) -> None:
        self._handed: dict[int, Reading] = {}  # by id, the readings kept alive so that no id is reused

    def read(self, source: str, promoted: bool) -> Reading:
        key = (source, promoted)
        reading = _CACHE.get(key)
        if reading is None or id(reading) in self._handed:
            fresh = read_cell(source, promoted)
            if reading is None:
                _CACHE.put(key, fresh)
            reading = fresh
        self._handed[id(reading)] = reading
        # the cell's own PlainSource: analysis may mark a syntax error on it, or drop its tree
        plain = dataclasses.replace(
            reading.plain, notes=list(reading.plain.notes), requirements=list(reading.plain.requirements)
        )
        return dataclasses.replace(reading, plain=plain)

"""A statement's nodes, listed once, for every stage that looks inside it.

Walking the AST was most of the analysis: each stage walked every statement again for the one node type it
wanted (calls, names, assignments), so a 1 MB cell took ~10 full walks. The index walks a statement once,
in ``ast.walk``'s order, and answers "the nodes of these types" from buckets, so a stage pays for the nodes
it asks about, not for the whole tree. It is only built for the statements of the analysis (names.py),
whose trees nothing mutates afterwards: code generation rewrites fresh parses, never these.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class NodeIndex:
    """Every node of one tree in ``ast.walk`` order (breadth first, the root first), and its depth.

    Left out: the expression contexts and operators held in a field of their own (``Load``, ``Add``...), a third of
    the nodes, which the parser makes once and shares between all nodes; no stage asks for them. They count in the
    depth. A comparison's operators are a list, and stay."""

    __slots__ = ("_buckets", "_derived", "_mixed", "depth", "nodes")

    def __init__(self, root: ast.AST) -> None:
        nodes = [root]
        buckets: dict[type, list[ast.AST]] = {}
        depth, level_end, deepest_shared = 1, 1, 0
        for position, node in enumerate(nodes):  # appending while iterating: a breadth-first queue
            if position == level_end:
                depth, level_end = depth + 1, len(nodes)
            buckets.setdefault(type(node), []).append(node)
            for name in node._fields:  # ast.iter_child_nodes, without a generator per node
                value = getattr(node, name, None)
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.AST):
                            nodes.append(item)
                elif isinstance(value, ast.AST):
                    if type(value) in _SHARED:
                        deepest_shared = depth + 1
                    else:
                        nodes.append(value)
        self.nodes: list[ast.AST] = nodes
        self.depth = max(depth, deepest_shared)  # of the deepest node, the root counting 1
        self._buckets = buckets
        # made on first use: most statements never need them, and a cell can hold 100,000 statements
        self._mixed: dict[tuple[type, ...], tuple[Any, ...]] | None = None
        self._derived: dict[Callable, Any] | None = None

    def of(self, *kinds: type) -> Sequence[Any]:
        """The nodes that are instances of ``kinds``, in walk order (isinstance, so ``ast.expr`` works too).

        Shared with every caller: read it, never change it."""
        buckets = self._buckets
        if len(kinds) == 1 and kinds[0] in _CONCRETE:  # most questions: one node class without subclasses
            return buckets.get(kinds[0], ())
        present = [kind for kind in _NODE_TYPES.get(kinds) or _node_types(kinds) if kind in buckets]
        if len(present) <= 1:
            return buckets[present[0]] if present else ()
        if self._mixed is None:
            self._mixed = {}
        found = self._mixed.get(kinds)
        if found is None:  # several types: filtered from all the nodes once, since the stages ask again
            wanted = set(present)
            found = self._mixed[kinds] = tuple(node for node in self.nodes if type(node) in wanted)
        return found

    def has(self, *kinds: type) -> bool:
        """Whether any node is an instance of ``kinds``."""
        buckets = self._buckets
        for kind in _NODE_TYPES.get(kinds) or _node_types(kinds):
            if kind in buckets:
                return True
        return False

    def derived(self, compute: Callable[[NodeIndex], T]) -> T:
        """``compute(self)``, a fact a stage derives from these nodes alone, computed once (two stages ask)."""
        if self._derived is None:
            self._derived = {}
        if compute not in self._derived:
            self._derived[compute] = compute(self)
        return self._derived[compute]


_NODE_TYPES: dict[tuple[type, ...], tuple[type, ...]] = {}
# The node classes whose instances the parser shares: one ``Load()``, one ``Add()``... for the whole tree.
_SHARED = frozenset(
    kind
    for base in (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    for kind in base.__subclasses__()
)
# ast.Num, ast.Str...: names of ast.Constant kept for old code; the parser never makes them.
_DEPRECATED = frozenset(kind for kind in ast.Constant.__subclasses__())
# The node classes no other class derives from (ast.Call, ast.Name...): their bucket is the whole answer. Also
# ast.Constant: its subclasses (ast.Num, ast.Str...) are deprecated names whose instances are Constants.
_CONCRETE = frozenset(
    kind
    for kind in vars(ast).values()
    if isinstance(kind, type) and issubclass(kind, ast.AST) and not kind.__subclasses__()
) | {ast.Constant}


def _node_types(kinds: tuple[type, ...]) -> tuple[type, ...]:
    """The node classes that are subclasses of ``kinds``, that a tree can hold: every statement asks about the same
    few, and looks each up in its buckets."""
    found = _NODE_TYPES.get(kinds)
    if found is None:
        every, todo = set(), [ast.AST]
        while todo:
            for subclass in todo.pop().__subclasses__():
                if subclass not in every:
                    every.add(subclass)
                    todo.append(subclass)
        held = (kind for kind in every if issubclass(kind, kinds) and kind not in _DEPRECATED)
        found = _NODE_TYPES[kinds] = tuple(sorted(held, key=lambda kind: kind.__name__))
    return found

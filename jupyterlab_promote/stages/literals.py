"""Stage: literals too large to keep in the code move to data files inside the package.

A cell can hold its data as a literal: a table of numbers, a vocabulary, an embedded CSV. Kept in the code,
black writes such a list one element per line (a 5 MB list: 900,000 lines and minutes of formatting) and every
reader of the step scrolls past it. So each literal of at least ``LIMIT`` characters that ``ast.literal_eval``
reads becomes a file of the package's ``literals/`` folder, and the code calls the loader the package defines
there (``load_literal("table-1a2b3c4d.json")``): JSON when JSON holds the value exactly, else the literal's own
text. Each call builds a new object, as evaluating the literal did in the notebook.
A large literal of data arrives with its value already read by json (read/large_literals.py).

A file is named after the variable it is bound to and a hash of its content: changed data changes the code
that names it, so the DVC stages (fingerprinted from the code) re-run.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import tokenize
from dataclasses import dataclass
from itertools import accumulate

from ..read.large_literals import LIMIT, held_as_text, is_held, literal_value
from ..read.lines import split_lines
from .paths import FilePaths
from .plan import Plan

FOLDER = "literals"  # inside the package

_CONTAINERS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant)
# Where an expression cannot become a call: match patterns, f-string parts, annotations.
_OPAQUE = (ast.pattern, ast.JoinedStr)


@dataclass(frozen=True)
class StoredLiteral:
    file: str  # its name inside the package's literals/ folder
    text: str  # the file's content


def store_large_literals(plan: Plan) -> None:
    placed = [p for step in plan.steps for p in step.body] + [p for group in plan.hoisted.values() for p in group]
    measured: dict[int, tuple[list[str], list[int]]] = {}
    for item in placed:
        code = item.cell.plain.code if item.cell.plain else ""
        if len(code) < LIMIT:  # nearly every cell: nothing in it can be that large
            continue
        if id(code) not in measured:
            lines = split_lines(code)
            measured[id(code)] = lines, [0, *accumulate(len(line) + 1 for line in lines)]
        found = _stored_in(item.stmt.node, *measured[id(code)], plan.paths)
        if found:
            plan.literals[id(item.stmt.node)] = found


def _stored_in(
    statement: ast.stmt, lines: list[str], ends: list[int], paths: FilePaths | None
) -> list[tuple[ast.expr, StoredLiteral]]:
    """The literals of ``statement`` to store; ``ends[n]``: the characters of the cell before its line n + 1."""

    def size(node: ast.AST) -> int:
        if getattr(node, "end_lineno", None) is None:
            return LIMIT  # a node without a position (arguments, comprehension): look inside
        if node.lineno == node.end_lineno:
            return node.end_col_offset - node.col_offset  # UTF-8 bytes: near enough for a threshold
        return ends[node.end_lineno] - ends[node.lineno - 1]

    anchored = paths.literals if paths else {}
    found: list[tuple[ast.expr, StoredLiteral]] = []
    todo: list[tuple[ast.AST, ast.AST | None, str]] = [(statement, None, "literal")]
    while todo:
        node, parent, name = todo.pop()
        if size(node) < LIMIT or isinstance(node, _OPAQUE) or _is_annotation(node, parent):
            continue
        if isinstance(node, _CONTAINERS):
            if isinstance(parent, ast.Expr):
                continue  # a docstring, or a value only displayed: the statement is no code to keep
            if not _anchors_inside(node, anchored) and (stored := _stored(node, lines, name)):
                found.append((node, stored))
                continue
        todo.extend((child, node, _name_for(child, node, name)) for child in ast.iter_child_nodes(node))
    return sorted(found, key=lambda pair: (pair[0].lineno, pair[0].col_offset))


def _is_annotation(node: ast.AST, parent: ast.AST | None) -> bool:
    return parent is not None and node in (getattr(parent, "annotation", None), getattr(parent, "returns", None))


def _anchors_inside(node: ast.AST, anchored: dict) -> bool:
    """A path the paths stage rewrites lies inside: the literal stays in the code, where the rewrite happens."""
    return bool(anchored) and any(id(inner) in anchored for inner in ast.walk(node))


def _name_for(child: ast.AST, node: ast.AST, name: str) -> str:
    """What a literal at ``child`` is named after: the target of ``NAME = [...]``, also when the literal is an
    argument of the call that is the value, or of a call among those arguments (``frame = pd.DataFrame([...],
    columns=...)``, ``x = torch.tensor(np.array([...]))``); else "literal"."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and child is node.value:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return re.sub(r"[^A-Za-z0-9_]", "_", targets[-1].id) if isinstance(targets[-1], ast.Name) else "literal"
    if isinstance(node, (ast.Call, ast.keyword)) and child is not getattr(node, "func", None):
        return name  # an argument of the value's call, or a keyword argument's value
    return "literal"


def _stored(node: ast.expr, lines: list[str], name: str) -> StoredLiteral | None:
    """The literal as a file, or None when it is no literal (a name or a call inside) or cannot be stored."""
    if held_as_text(node):  # read by json, holding a tuple or an int key: no JSON value does, so stored as written
        text = f"(\n{_segment(node, lines)}\n)\n"
        return StoredLiteral(f"{name}-{_digest(text)}.txt", text)
    try:
        value = literal_value(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    segment = _segment(node, lines)
    text = None  # JSON would drop the author's comments (json found none where it read the literal)
    if is_held(node) or "#" not in segment or not _has_comment(segment):
        try:
            text, suffix = _json_text(value, checked=is_held(node)), "json"
        except (TypeError, ValueError):
            pass
    if text is None:
        text, suffix = f"(\n{segment}\n)\n", "txt"  # parenthesised: a bare tuple or split string reads back whole
    return StoredLiteral(f"{name}-{_digest(text)}.{suffix}", text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _segment(node: ast.expr, lines: list[str]) -> str:
    first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]  # type: ignore[index]
    start = len(first.encode()[: node.col_offset].decode())
    end = len(last.encode()[: node.end_col_offset].decode())
    if node.lineno == node.end_lineno:
        return first[start:end]
    return "\n".join([first[start:], *lines[node.lineno : node.end_lineno - 1], last[:end]])  # type: ignore[operator]


def _has_comment(segment: str) -> bool:
    try:
        tokens = tokenize.generate_tokens(io.StringIO(f"(\n{segment}\n)").readline)
        return any(token.type == tokenize.COMMENT for token in tokens)
    except (tokenize.TokenError, SyntaxError):
        return True  # unsure: keep the text as written


def _json_text(value: object, checked: bool = False) -> str:
    """JSON that reads back as exactly ``value``, one element of a list or dict per line; TypeError if none.
    ``checked``: json built the value, so it holds JSON's types alone (a float may still be infinite)."""
    if not checked:
        _check_json_exact(value)
    if not (isinstance(value, (list, dict)) and value):
        return _compact(value) + "\n"
    items = value.values() if isinstance(value, dict) else value
    if not _CONTAINER_TYPES & set(map(type, items)):  # flat: one call of the C encoder
        text = _one_per_line(value)
        return f"{text[0]}\n{text[1:-1]}\n{text[-1]}\n"
    if isinstance(value, list):
        return "[\n" + ",\n".join(_compact(item) for item in value) + "\n]\n"
    return "{\n" + ",\n".join(f"{_compact(k)}: {_compact(v)}" for k, v in value.items()) + "\n}\n"


_OPTIONS = {"ensure_ascii": False, "allow_nan": False}
_compact = json.JSONEncoder(**_OPTIONS, separators=(",", ": ")).encode
_one_per_line = json.JSONEncoder(**_OPTIONS, separators=(",\n", ": ")).encode


_CONTAINER_TYPES = {list, dict}  # what literal_eval and json build: never a subclass
_JSON_NUMBERS = {bool, int, float, type(None)}


def _check_json_exact(value: object) -> None:
    """TypeError unless JSON reads ``value`` back with the same types (no tuple, set, bytes, complex, int key...)."""
    todo = [value]
    while todo:
        current = todo.pop()
        if isinstance(current, list):
            if not set(map(type, current)) <= _JSON_NUMBERS:  # a list of numbers (a table's row): nothing to look at
                todo.extend(current)
        elif isinstance(current, dict):
            if not all(type(key) is str for key in current):
                raise TypeError("a key that is not a string")
            todo.extend(current.values())
        elif isinstance(current, str):
            current.encode("utf-8")  # a lone surrogate: UnicodeEncodeError, a ValueError
        elif current is not None and type(current) not in (bool, int, float):
            raise TypeError(f"{type(current).__name__} is not JSON")

"""Mark the notebook's own lint, kept verbatim, so the generated project passes ``ruff check``.

Promotion keeps the author's statements as written. Some of them fail the lint every generated
project promises (``ruff check --select E4,E7,E9,F,I``): a variable that is assigned and never read
inside a function (F841: a notebook's top-level dead store becomes one once it lives in a step
function, and authors leave them in their own methods), a function defined again before the first
definition was used (F811: notebooks iterate on a helper in place), and a lambda bound to a name (E731).
Rewriting them would change the author's code, so the line gets a ``# noqa`` naming the rule.
"""

from __future__ import annotations

import ast


def _pyflakes_lines(tree: ast.Module) -> tuple[set[int], set[int]]:
    """Lines where pyflakes (the engine behind ruff's F rules) finds an unused local, and a redefinition."""
    from pyflakes import checker, messages

    found = checker.Checker(tree).messages
    unused = {m.lineno for m in found if isinstance(m, messages.UnusedVariable)}
    redefined = {m.lineno for m in found if isinstance(m, messages.RedefinedWhileUnused)}
    return unused | _unused_in_tuple_assignments(tree), redefined


def _unused_in_tuple_assignments(tree: ast.Module) -> set[int]:
    """``a, b = x, y`` inside a function with ``b`` never read: ruff flags it, pyflakes does not."""
    lines: set[int] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        loaded = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
        declared = {
            name for n in ast.walk(function) if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names
        }
        for node in ast.walk(function):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple)):
                continue
            for target in node.targets:
                if not isinstance(target, ast.Tuple) or len(target.elts) != len(node.value.elts):
                    continue
                for element in target.elts:
                    if isinstance(element, ast.Name) and element.id not in loaded | declared:
                        lines.add(element.lineno)
    return lines


_AMBIGUOUS = {"l", "O", "I"}  # pycodestyle E741: easily confused with 1 and 0


def _ambiguous_names(tree: ast.Module) -> set[int]:
    stores = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in _AMBIGUOUS}
    arguments = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.arg) and n.arg in _AMBIGUOUS}
    return stores | arguments


def _lambda_assignments(tree: ast.Module) -> set[int]:
    return {
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Lambda)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }


def mark_author_lint(source: str) -> str:
    """``source`` (black-formatted) with ``# noqa: F841`` / ``E731`` / ``E741`` / ``F811`` where needed."""
    tree = ast.parse(source)
    codes: dict[int, list[str]] = {}
    unused, redefined = _pyflakes_lines(tree)
    for line in sorted(unused):
        codes.setdefault(line, []).append("F841")
    for line in sorted(redefined):
        codes.setdefault(line, []).append("F811")
    for line in sorted(_lambda_assignments(tree)):
        codes.setdefault(line, []).append("E731")
    for line in sorted(_ambiguous_names(tree)):
        codes.setdefault(line, []).append("E741")
    if not codes:
        return source
    lines = source.split("\n")
    for number, rules in codes.items():
        text = lines[number - 1]
        if "# noqa" in text:
            continue
        lines[number - 1] = f"{text}  # noqa: {', '.join(rules)}"
    marked = "\n".join(lines)
    # A line that ends inside a string cannot take a comment: keep the source unmarked there.
    try:
        same = ast.dump(ast.parse(marked)) == ast.dump(tree)
    except SyntaxError:
        same = False
    return marked if same else source

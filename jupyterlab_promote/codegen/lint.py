"""Mark the notebook's own lint, kept verbatim, so the generated project passes ``ruff check``.

Promotion keeps the author's statements as written, and authors write what the lint every generated
project promises (``ruff check --select E4,E7,E9,F,I``) rejects: dead stores (F841, and every
notebook's top-level dead store becomes one inside a step function), ``print(f"done")`` (F541),
``x == None`` (E711), bare ``except:`` (E722), a lambda bound to a name (E731), a helper defined
again in place (F811)... Rewriting them would change the author's code, so each line gets a
``# noqa`` naming exactly the rules ruff itself reports there.

Ruff is asked, rather than a table of our own, because it is the linter the promise is made against:
the marks follow its rules and its placement of ``noqa`` (the last line of a multi-line string).
Only code that holds the author's statements is marked. Module-level imports (F401 there) and their
order (I) are never marked: they are generated, and a test fails when they are wrong. An import the
author wrote inside a step (``try: import scipy``) stays the author's.
"""

from __future__ import annotations

import ast
import json
from functools import lru_cache

from .ruff_limits import run_ruff, source_number

# The promised rule set, less what generation owns (imports) and what no comment can silence (syntax).
_AUTHOR_RULES = ("--select", "E4,E7,E9,F", "--ignore", "E902")


def author_lint(sources: list[str]) -> list[dict[int, list[str]]]:
    """For each source, the rule codes by the line their ``# noqa`` belongs on, as ruff reports them: one ruff
    process for all of them."""
    arguments = ["check", *_AUTHOR_RULES, "--output-format", "json", "--no-cache", "--isolated", "--exit-zero"]
    out, _ = run_ruff(arguments, sources)
    try:
        findings = json.loads(out or "[]")
    except ValueError:  # ruff could not read the sources (no lint to mark then)
        return [{} for _ in sources]
    codes: list[dict[int, list[str]]] = [{} for _ in sources]
    for finding in findings:
        code, row = finding.get("code"), finding.get("noqa_row")
        if code == "F401" and finding["location"]["column"] == 1:
            continue  # a module-level import is generated (hoisted from the notebook): ours to get right
        number = source_number(finding.get("filename", ""))
        if code and row and number is not None and number < len(sources) and code not in codes[number].get(row, []):
            codes[number].setdefault(row, []).append(code)
    return codes


_MARK_DRIFT = 20  # how many lines below its statement's first line black may have moved a mark


def mark_author_lint(source: str, codes: dict[int, list[str]] | None = None) -> str:
    """``source`` (black-formatted) with ``# noqa: CODE`` on each line where ruff finds the author's lint; ``codes``:
    what :func:`author_lint` found in it, when it was asked already."""
    if codes is None:
        (codes,) = author_lint([source])
    if not codes:
        return source
    lines = source.split("\n")
    for number, rules in sorted(codes.items()):
        text = lines[number - 1]
        if "# noqa" in text:
            continue
        mark = f"  # noqa: {', '.join(sorted(rules))}"
        # Black moves a trailing comment to the end of a statement it wraps, but ruff reads it on the first line:
        # a mark left at the end of this statement by an earlier pass moves back here.
        for later in range(number, min(len(lines), number + _MARK_DRIFT)):
            if later + 1 not in codes and lines[later].endswith(mark):
                lines[later] = lines[later][: -len(mark)]
                break
        lines[number - 1] = text + mark
    marked = "\n".join(lines)
    if codes.keys() <= one_statement_lines(source):
        return marked  # every mark after a whole statement (black wrote no ``;``): no line ends inside a string
    # A comment that changed the code (a line ending inside a string) is dropped: keep the source unmarked.
    # Code objects compare their constants, names and positions: a comment at a line's end changes none of them.
    try:
        same = compile(marked, "<marked>", "exec", dont_inherit=True) == compile(
            source, "<marked>", "exec", dont_inherit=True
        )
    except SyntaxError:
        same = False
    return marked if same else source


@lru_cache(maxsize=2)
def one_statement_lines(source: str) -> frozenset[int]:
    """Lines that hold one whole simple statement (no block, no docstring-like string), by the parser: in black's
    output, nothing else is on such a line, so a comment at its end changes no code. Kept for the last modules:
    marking asks about a module, then the formatter about the same module (a 5 MB step: 0.7 s a parse)."""
    found: set[int] = set()
    todo: list[ast.AST] = list(ast.parse(source).body)
    while todo:
        node = todo.pop()
        blocks = [getattr(node, name, None) for name in ("body", "orelse", "finalbody", "handlers", "cases")]
        if not any(blocks):
            is_text = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if node.lineno == node.end_lineno and not is_text:
                found.add(node.lineno)
            continue
        todo.extend(child for block in blocks if isinstance(block, list) for child in block)
    return frozenset(found)

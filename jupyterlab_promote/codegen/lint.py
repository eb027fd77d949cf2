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
import os
import re
import subprocess

from ..errors import PromoteError

# The promised rule set, less what generation owns (imports) and what no comment can silence (syntax).
_AUTHOR_RULES = ("--select", "E4,E7,E9,F", "--ignore", "E902")
_RUFF_SECONDS = 120


class LintTooCostlyError(PromoteError):
    """ruff cannot check a generated module within this machine's means, so neither could the project's own CI.

    ``cell`` is (index, id, line) of the cell that holds the likely cause, when the module names it."""

    status = 422

    def __init__(self, message: str, cell: tuple[int, str, int] | None = None) -> None:
        super().__init__(message)
        self.cell = cell


def _memory_limit() -> int | None:
    """Bytes of address space ruff may take: half of this machine's memory (None where it cannot be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return None


def _run_ruff(command: list[str], source: str) -> str | None:
    """ruff's standard output, or None when it ran out of memory (a failed allocation aborts it) or time."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="surrogatepass",
    )
    # Set from here rather than in the child (preexec_fn is unsafe in the server's threads); the limit outlives exec,
    # and ruff allocates its semantic model long after it starts.
    limit = _memory_limit()
    try:
        import resource

        if limit is not None:
            resource.prlimit(process.pid, resource.RLIMIT_AS, (limit, limit))
    except (ImportError, AttributeError, OSError, ValueError):  # no prlimit here (not Linux): no limit
        pass
    try:
        out, _ = process.communicate(source, timeout=_RUFF_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    return None if process.returncode < 0 else out  # killed: out of memory, ruff aborts


def _ruff_findings(source: str) -> dict[int, list[str]]:
    """Rule codes by the line their ``# noqa`` belongs on, as ruff reports them for ``source``."""
    # the ruff package ships its binary and says where
    from ruff.__main__ import find_ruff_bin

    command = [find_ruff_bin(), "check", *_AUTHOR_RULES, "--output-format", "json", "--no-cache", "--isolated"]
    out = _run_ruff([*command, "--stdin-filename", "module.py", "-"], source)
    if out is None:
        raise _too_costly(source)
    try:
        findings = json.loads(out or "[]")
    except ValueError:  # ruff could not read the source (no lint to mark then)
        return {}
    codes: dict[int, list[str]] = {}
    for finding in findings:
        code, row = finding.get("code"), finding.get("noqa_row")
        if code == "F401" and finding["location"]["column"] == 1:
            continue  # a module-level import is generated (hoisted from the notebook): ours to get right
        if code and row and code not in codes.get(row, []):
            codes.setdefault(row, []).append(code)
    return codes


_MARK_DRIFT = 20  # how many lines below its statement's first line black may have moved a mark


def mark_author_lint(source: str) -> str:
    """``source`` (black-formatted) with ``# noqa: CODE`` on each line where ruff finds the author's lint."""
    codes = _ruff_findings(source)
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
    # A comment that changed the code (a line ending inside a string) is dropped: keep the source unmarked.
    # Code objects compare their constants, names and positions: a comment at a line's end changes none of them.
    try:
        same = compile(marked, "<marked>", "exec", dont_inherit=True) == compile(
            source, "<marked>", "exec", dont_inherit=True
        )
    except SyntaxError:
        same = False
    return marked if same else source


def _too_costly(source: str) -> LintTooCostlyError:
    """Why ruff gave up, at the cell holding the longest chain of a name rebound from itself, if there is one."""
    message = (
        f"ruff, the linter every generated project runs, cannot check this code within {_RUFF_SECONDS} s and half "
        "of this machine's memory, so the project's own CI could not either"
    )
    chain = _longest_self_rebinding(source)
    if chain is None:
        return LintTooCostlyError(f"{message}.")
    name, count, line = chain
    message += (
        f": '{name}' is rebound from itself {count:,} times in one scope (as in `{name} = {name} + 1`), and ruff's "
        "memory grows with the square of that count. Write it as a loop."
    )
    lines = source.split("\n")
    for number in range(line - 1, 0, -1):  # the cell header the generator writes above each cell's code
        match = re.fullmatch(r"\s*#.*\bcell (\d+) \(id ([^)]*)\).*", lines[number - 1])
        if match:
            return LintTooCostlyError(message, (int(match.group(1)), match.group(2), line - number))
    return LintTooCostlyError(message)


def _longest_self_rebinding(source: str) -> tuple[str, int, int] | None:
    """(name, count, first line) of the name most often assigned from itself in one scope, if any is, 1000+ times."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    best: tuple[str, int, int] | None = None
    scopes = [tree] + [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes:
        counts: dict[str, list[int]] = {}
        for statement in _scope_statements(scope.body):
            target, reads = _self_rebound(statement)
            if target is not None and reads:
                counts.setdefault(target, []).append(statement.lineno)
        for name, lines in counts.items():
            if len(lines) >= 1000 and (best is None or len(lines) > best[1]):
                best = (name, len(lines), lines[0])
    return best


def _self_rebound(statement: ast.AST) -> tuple[str | None, bool]:
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, True
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        name = statement.targets[0].id
        return name, any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(statement.value))
    return None, False


def _scope_statements(body: list[ast.stmt]):
    """The statements of one scope: into if/for/while/with/try blocks, not into nested functions or classes."""
    for statement in body:
        yield statement
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                yield from _scope_statements(getattr(statement, field, []))
            for handler in getattr(statement, "handlers", []):
                yield from _scope_statements(handler.body)

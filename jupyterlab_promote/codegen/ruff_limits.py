"""ruff within this machine's means, and why not when it cannot be.

ruff's memory grows with the square of how often one name is rebound from itself in one scope: ``total += 1.0``
written out 40,000 times takes 3.6 GB, 80,000 times 14 GB, whatever rules are selected (ruff 0.17.6). A
notebook cell can hold such code, and the generated project's own ``ruff check`` would need the same memory, so
ruff gets half of the machine's (or the container's) memory and 120 s, and code beyond that is a diagnostic naming
the cell (PRM045).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import tempfile
from pathlib import Path

from ..errors import PromoteError

_RUFF_SECONDS = 120


class LintTooCostlyError(PromoteError):
    """ruff cannot check a generated module within this machine's means, so neither could the project's own CI.

    ``cell`` is (index, id, line) of the cell that holds the likely cause, when the module names it."""

    status = 422

    def __init__(self, message: str, cell: tuple[int, str, int] | None = None) -> None:
        super().__init__(message)
        self.cell = cell


class RuffFailedError(PromoteError):
    """ruff stopped on an error of its own (an unknown option of an old release, a broken install), not the code's:
    the generated imports would be left unsorted, so nothing is written."""

    status = 500


def _memory_limit() -> int | None:
    """Bytes of address space ruff may take: half of this machine's memory, or of the container's where a cgroup
    limits it (Binder: 2 GB on a large host), None where neither can be told."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    for path in _CGROUP_LIMITS:
        try:
            memory = min(memory, int(Path(path).read_text().strip()))
        except (OSError, ValueError):  # no such file, or "max"
            continue
    return memory // 2


_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")  # cgroup v2, v1


def run_ruff(arguments: list[str], sources: list[str]) -> tuple[str, list[str]]:
    """One ruff process over ``sources``, each written as a file of a scratch folder (its working directory, so that
    nothing where the user stands, no folder and no configuration, changes what it does): ruff's standard output, and
    each file's text after it (``--fix`` rewrites them). LintTooCostlyError when it ran out of memory (a failed
    allocation aborts it) or time, at the source that holds the likely cause."""
    # the ruff package ships its binary and says where
    from ruff.__main__ import find_ruff_bin

    with tempfile.TemporaryDirectory(prefix="promote-ruff-") as scratch:
        paths = [Path(scratch) / _MODULE.format(number) for number in range(len(sources))]
        for path, source in zip(paths, sources):
            path.write_text(source, encoding="utf-8", errors="surrogatepass", newline="")
        command = [find_ruff_bin(), *arguments, *(path.name for path in paths)]
        process = subprocess.Popen(
            command,
            cwd=scratch,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="surrogatepass",
        )
        # Set from here rather than in the child (preexec_fn is unsafe in the server's threads); the limit outlives
        # exec, and ruff allocates its semantic model long after it starts.
        limit = _memory_limit()
        try:
            import resource

            if limit is not None:
                resource.prlimit(process.pid, resource.RLIMIT_AS, (limit, limit))
        except (ImportError, AttributeError, OSError, ValueError):  # no prlimit here (not Linux): no limit
            pass
        try:
            out, err = process.communicate(timeout=_RUFF_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise _too_costly(sources) from None
        if process.returncode < 0:  # killed: out of memory, ruff aborts
            raise _too_costly(sources)
        if process.returncode == 2:  # ruff's own failure (the code's findings exit 0 or 1)
            said = (err or out).strip().splitlines()
            raise RuffFailedError(
                f"ruff ({command[0]}) failed: {said[-1] if said else 'no message'}; nothing was written. "
                "Install a ruff of 0.6 or later (pip install -U ruff).",
                details=said[-20:],
            )
        return out, [_read(path) for path in paths]


_MODULE = "module-{}.py"  # named so no import can mean them: `import module` stays third-party


def source_number(filename: str) -> int | None:
    """Which of run_ruff's sources ruff names ``filename`` (as it reports a finding), or None."""
    found = re.search(r"module-([0-9]+)\.py$", filename)
    return int(found[1]) if found else None


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", errors="surrogatepass", newline="") as file:  # line ends as written
        return file.read()


def _too_costly(sources: list[str]) -> LintTooCostlyError:
    """Why ruff gave up, at the cell holding the longest chain of a name rebound from itself, if there is one."""
    message = (
        f"ruff, the linter every generated project runs, cannot check this code within {_RUFF_SECONDS} s and half "
        "of this machine's memory, so the project's own CI could not either"
    )
    chains = [(chain, source) for source in sources if (chain := _longest_self_rebinding(source)) is not None]
    if not chains:
        return LintTooCostlyError(f"{message}.")
    (name, count, line), source = max(chains, key=lambda found: found[0][1])
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

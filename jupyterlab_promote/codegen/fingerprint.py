"""The generation key: a hash of everything the generated files depend on.

Generation is a pure function of the notebook's cells, the modules beside it that they import (copied into the
package: stages/local_modules.py), the options and the tool's own code, so two
promotions with the same key write the same files. promote.toml records the key; a re-promotion
whose key matches the one on the promote branch stops before generating (formatting is most of a
promotion's time) and reports "up to date", exactly as the full run would.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from .._version_info import tool_version
from ..read.notebook import Notebook
from ..stages.local_modules import PATH_ADDITION
from ..stages.plan import Plan

_PACKAGE = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=1)
def _tool_fingerprint() -> str:
    """The version plus a hash of the package's code and templates: a source checkout changes without a new version."""
    digest = hashlib.sha256(tool_version().encode())
    for path in sorted(p for p in _PACKAGE.rglob("*") if _generates(p)):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _generates(path: Path) -> bool:
    """Our code, our templates, and every file of the default template (skeleton/: .toml, .yml, .gitignore…)."""
    if "__pycache__" in path.parts or not path.is_file():
        return False
    return path.suffix in {".py", ".j2"} or "skeleton" in path.relative_to(_PACKAGE).parts


def generation_key(plan: Plan, notebook_ref: str) -> str:
    """Hash of the inputs of :func:`generate`: cells, notebook name and reference, package, options, tool."""
    return notebook_generation_key(plan.notebook, plan.package, plan.strict, notebook_ref)


def notebook_generation_key(notebook: Notebook, package: str, strict: bool, notebook_ref: str) -> str:
    """:func:`generation_key` from the notebook as read, before any analysis (a re-promotion compares it first)."""
    digest = hashlib.sha256(_tool_fingerprint().encode())
    for text in (notebook.name, notebook_ref, package, str(strict)):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    for cell in notebook.cells:
        fields = (
            str(cell.index),
            cell.id,
            cell.cell_type,
            "\x1f".join(cell.tags),
            str(cell.execution_count),
            cell.source,
        )
        digest.update("\x1e".join(fields).encode("utf-8", "surrogatepass") + b"\0")
    for name, content in _local_modules(notebook):
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:32]


# the first module an import line names (``import a.b``, ``from a import b``); a loose read: more files is only a
# larger hash
_IMPORTED = re.compile(rb"^[ \t]*(?:from|import)[ \t]+(\w+)", re.MULTILINE)


def _local_modules(notebook: Notebook) -> list[tuple[str, bytes]]:
    """The ``name.py`` files its cells import, beside the notebook or in a folder a cell adds to ``sys.path``, and
    those they import in turn, with contents."""
    sources = [cell.source for cell in notebook.cells]
    added = [m.group(2) for source in sources if "sys.path" in source for m in PATH_ADDITION.finditer(source)]
    folders = [notebook.path.parent] + [notebook.path.parent / folder for folder in added]
    todo = [m.decode() for source in sources for m in _IMPORTED.findall(source.encode("utf-8", "replace"))]
    found: dict[str, bytes] = {}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if (content := _module_file(name, folders)) is not None:
            found[name] = content
            todo += [m.decode() for m in _IMPORTED.findall(content)]
    return sorted(found.items())


def _module_file(name: str, folders: list[Path]) -> bytes | None:
    """``name.py``'s bytes in the first of ``folders`` that holds it, as the kernel's import would find it."""
    for folder in folders:
        try:
            return (folder / f"{name}.py").read_bytes()
        except (OSError, ValueError):  # no such file (most imports), or none the system lets us read
            continue
    return None

"""The package's folders follow the data flow (docs/architecture.md): imports go down that picture, never up, and
the front doors reach the core only through api.py."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "jupyterlab_promote"

# What each subpackage may import of ours, besides itself and the leaf modules below.
MAY_IMPORT = {
    "read": set(),
    "analysis": {"read"},
    "stages": {"read", "analysis"},
    "codegen": {"read", "analysis", "stages"},
    "gitrepo": set(),
    "lifecycle": set(),
    "fidelity": {"read", "analysis", "stages", "codegen", "gitrepo"},
}
LEAVES = {"errors", "_version_info", "installed"}  # imported from anywhere: they import nothing of ours
FRONT_DOORS = {"app", "handlers", "verify_handlers", "lifecycle_handlers"}
FRONT_DOOR_MAY_IMPORT = {"api", "errors", "settings", "_version_info", "handlers"}


def our_imports(path: Path) -> set[str]:
    """The first component (subpackage or top-level module) of every module of ours that ``path`` imports."""
    package = list(path.relative_to(PACKAGE).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            found.update([target[0]] if target else [alias.name for alias in node.names])
    return found


def python_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if not {"skeleton", "templates"} & set(p.parts)]


def test_subpackages_import_only_what_comes_before_them_in_the_data_flow():
    wrong = []
    for path in python_modules():
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2:
            continue
        own = parts[0]
        allowed = MAY_IMPORT[own] | LEAVES | {own}
        wrong += [f"{'/'.join(parts)} imports {name}" for name in sorted(our_imports(path) - allowed)]
    assert not wrong


def test_front_doors_reach_the_core_only_through_the_api():
    wrong = []
    for name in FRONT_DOORS:
        imported = our_imports(PACKAGE / f"{name}.py")
        wrong += [f"{name}.py imports {other}" for other in sorted(imported - FRONT_DOOR_MAY_IMPORT - FRONT_DOORS)]
    assert not wrong


def test_every_subpackage_has_a_place_in_the_picture():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(MAY_IMPORT)

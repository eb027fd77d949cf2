"""The generated modules' imports sorted by ruff, the linter whose ``I`` rules every generated project promises.

ruff is asked rather than isort because the promise is made against it: each module comes back exactly as the
project's own ``ruff check --select I --fix`` would leave it, with the project's settings (``src = ["src"]``, which
holds only the package, and the package first-party; ruff's defaults otherwise). One ruff process sorts every module
of a promotion: ruff starts in a few milliseconds, where importing isort and sorting module by module cost a tenth
of a first promotion. ruff runs in a scratch folder, so a folder named like a library where the user stands (a
``torch/``) or a ruff configuration there changes nothing.
"""

from __future__ import annotations

import json

from .ruff_limits import run_ruff


def sort_imports(sources: list[str], first_party: str) -> list[str]:
    """Each source with its import blocks (top-level and nested) sorted as the generated project's ruff sorts them;
    a source ruff cannot parse comes back as it is (validation names its problem)."""
    if not sources:
        return []
    arguments = ["check", "--isolated", "--no-cache", "--select", "I", "--fix", "--exit-zero", "--quiet"]
    arguments += ["--config", 'src = ["src"]']
    if first_party:  # a package name is an identifier: JSON writes it as a TOML string
        arguments += ["--config", f"lint.isort.known-first-party = [{json.dumps(first_party)}]"]
    _, sorted_sources = run_ruff(arguments, sources)
    return sorted_sources

"""Notebook-only progress bars become tqdm's automatic front end, which picks the widget in Jupyter and the
console bar anywhere else.

``tqdm.notebook`` needs a running Jupyter front end (and ipywidgets), and ``import tqdm`` alone does not load it:
in the notebook some other import had loaded it, so ``tqdm.notebook.tqdm(...)`` worked there and raised
``AttributeError`` in the package (gpytorch's examples). ``tqdm.auto`` has the same classes and signatures.
"""

from __future__ import annotations

import ast

NOTEBOOK_MODULE, AUTO_MODULE = "tqdm.notebook", "tqdm.auto"
# tqdm's deprecated notebook aliases and what tqdm.auto calls them.
_ALIASES = {"tqdm_notebook": "tqdm", "tnrange": "trange"}


def console_import(text: str) -> str:
    """An import statement's text with tqdm's notebook front end replaced by the automatic one."""
    if text.startswith(f"from {NOTEBOOK_MODULE} import "):
        return text.replace(f"from {NOTEBOOK_MODULE} ", f"from {AUTO_MODULE} ", 1)
    if text == f"import {NOTEBOOK_MODULE}" or text.startswith(f"import {NOTEBOOK_MODULE} as "):
        return text.replace(f"import {NOTEBOOK_MODULE} ", f"import {AUTO_MODULE} ", 1)
    for alias, name in _ALIASES.items():
        if text == f"from tqdm import {alias}":
            return f"from {AUTO_MODULE} import {name} as {alias}"
        if text.startswith(f"from tqdm import {alias} as "):
            return text.replace(f"from tqdm import {alias} ", f"from {AUTO_MODULE} import {name} ", 1)
    return text


def console_attribute(node: ast.AST) -> str | None:
    """The replacement text for ``tqdm.notebook`` (→ ``tqdm.auto``) or ``tqdm.tqdm_notebook`` (→
    ``tqdm.auto.tqdm``) read as an attribute of the ``tqdm`` package; None for anything else."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "tqdm"):
        return None
    if node.attr == "notebook":
        return AUTO_MODULE
    if node.attr in _ALIASES:
        return f"{AUTO_MODULE}.{_ALIASES[node.attr]}"
    return None

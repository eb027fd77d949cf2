"""The role a cell's code most likely plays: a suggestion the panel offers and PRM011 compares with the tag.

Read from what the code calls and which classes it subclasses; tags always win.
"""

from __future__ import annotations

import ast

from ..read.displays import OUTPUT_CALLS, PLOT_CALLS
from .names import CellNames

_TRAIN_CALLS = {"backward", "fit", "partial_fit"}
_EVAL_CALLS = {
    "no_grad",
    "inference_mode",
    "test",
    "validate",
    "score",
    "cross_val_score",
    "accuracy_score",
    "f1_score",
    "precision_recall_fscore_support",
    "evaluate",
}
_EXPORT_CALLS = {"save", "to_onnx", "export", "dump", "save_pretrained", "to_torchscript"}
_DATA_CALLS = {
    "DataLoader",
    "TensorDataset",
    "read_csv",
    "read_parquet",
    "load_dataset",
    "train_test_split",
    "random_split",
}
_LAYERS = {"Sequential", "Linear", "Conv1d", "Conv2d", "Conv3d", "LSTM", "GRU", "RNN", "Transformer", "Embedding"}


def suggest_role(code: str, names: CellNames, called: tuple[set[str], set[str]] | None = None) -> str | None:
    """The role a cell's code most likely plays (a suggestion; tags always win).

    ``called``: (calls of code that runs with the cell, calls inside its definitions), when already collected.
    """
    if not names.statements:
        return None
    if all(s.is_import for s in names.statements):
        return "imports"
    calls, body_calls = called if called is not None else _calls(names)
    role = _role_of_code_that_runs(code, calls, _base_names(names)) or _role_of_definitions(body_calls)
    if role is None and _only_displays(calls, names):
        return "skip"
    return role


def _calls(names: CellNames) -> tuple[set[str], set[str]]:
    """(names called by code that runs when the cell runs, names called inside the functions the cell defines)."""
    calls: set[str] = set()
    body_calls: set[str] = set()
    for stmt in names.statements:
        target = body_calls if stmt.is_definition else calls
        for node in stmt.index.of(ast.Call):
            func = node.func
            target.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return calls, body_calls


def _base_names(names: CellNames) -> set[str]:
    """Last dotted part of the base classes of the classes the cell defines."""
    bases: set[str] = set()
    for stmt in names.statements:
        if isinstance(stmt.node, ast.ClassDef):
            bases |= {ast.unparse(b).split(".")[-1] for b in stmt.node.bases}
    return bases


def _role_of_code_that_runs(code: str, calls: set[str], bases: set[str]) -> str | None:
    if "backward" in calls and "step" in calls or calls & {"fit", "partial_fit"}:
        return "train"
    if (
        calls & {"save", "to_onnx", "dump", "save_pretrained", "to_torchscript"}
        or "export" in calls
        and "torch" in code
    ):
        return "export"
    if calls & _EVAL_CALLS:
        return "evaluate"
    if bases & {"Module", "LightningModule"} or calls & _LAYERS:
        return "model"
    if (
        bases & {"Dataset", "IterableDataset", "LightningDataModule"}
        or calls & _DATA_CALLS
        or any(c.startswith("load_") and c != "load_state_dict" for c in calls)
    ):
        return "data"
    return None


def _role_of_definitions(body_calls: set[str]) -> str | None:
    """What the functions the cell defines are for: training, plotting (skip) or evaluation."""
    if {"backward", "step"} <= body_calls:
        return "train"
    if len(body_calls & PLOT_CALLS) >= 2:
        return "skip"  # plotting helpers
    if body_calls & {"no_grad", "inference_mode"}:
        return "evaluate"
    return None


def _only_displays(calls: set[str], names: CellNames) -> bool:
    """The cell only shows things: display calls, and no name bound besides imports."""
    return bool(
        calls
        and calls <= OUTPUT_CALLS | {"set_default", "plot_data", "plot_model"}
        and not any(s.binds for s in names.statements if not s.is_import)
    )

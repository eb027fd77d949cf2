"""The plan: cells → steps with explicit data flow.

The plan (built by :mod:`jupyterlab_promote.stages`) says, for every promoted statement, which step function it lands in,
what each step takes from earlier steps and hands to later ones, which
definitions move to module level, and which statements are pulled in from
untagged cells. Code generation only renders this plan.
"""

from __future__ import annotations

import ast
import keyword
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..analysis.cellplan import CellPlan
from ..analysis.diagnostics import Diagnostic, diagnostic, has_errors
from ..analysis.loops import LoopMapping
from ..analysis.names import Statement
from ..read.notebook import Notebook

if TYPE_CHECKING:
    import ast

    from .definition_paths import DefinitionWrites
    from .literals import StoredLiteral
    from .paths import FilePaths

# Fields the generated Config has besides the notebook's parameters (codegen/templates/config.py.j2).
RUNTIME_FIELDS = {
    "accelerator",
    "devices",
    "strategy",
    "num_nodes",
    "precision",
    "artifacts_dir",
    "notebook_dir",
    "smoke",
    "smoke_batches",
}
# Config keys the generated MLOps stages read, with what each means to them: a notebook parameter of the same name
# would hand the stages its own value (an Optuna time limit of the notebook's request timeout).
MLOPS_FIELDS = {
    "primary_metric": "the metric tune and register compare",
    "direction": "whether the primary metric is better high or low",
    "trials": "the number of Optuna trials tune runs",
    "timeout": "tune's time limit",
    "val_fraction": "the share of training data tune holds out",
    "final_data": "the data the final fit trains on",
    "tracking_uri": "register's MLflow tracking URI",
}
# Options every generated CLI has; a parameter's flag never shadows them.
_CLI_OPTIONS = {"help", "config"} | {name.replace("_", "-") for name in RUNTIME_FIELDS}
# Modules that hoisted definitions of each role go to; later modules may import earlier ones.
MODULE_ORDER = ["data", "model", "pipeline"]


@dataclass
class GeneratedNames:
    """Every name the generated pipeline module defines beside the notebook's code, in one place.

    The package must never take a name the notebook uses (a notebook's own ``train_step`` helper or
    ``Config`` dataclass): where they meet, ours gives way, consistently in every generated file.
    """

    config: str = "Config"
    run: str = "run"
    run_steps: str = "run_steps"
    steps: str = "STEPS"
    step_suffix: str = "_step"
    metrics: str = "metrics"
    results: str = "test_results"  # what an unassigned trainer.test()/validate() returns
    settings: str = "make_settings"  # makes the settings of the steps before a stage that runs alone
    literal: str = "load_literal"  # reads a literal stored in the package's literals/ (stages/literals.py)
    artifacts_path: str = "in_artifacts"  # a definition's file under the run's artifacts (definition_paths.py)
    notebook_path: str = "in_notebook_dir"  # a file a definition reads, in the notebook's folder (the same)
    # the runtime's functions the pipeline module calls, imported under another name where the notebook uses theirs
    # (a notebook's own ``def save_metrics(...)``): public name → the pipeline's; absent, the same
    runtime: dict[str, str] = field(default_factory=dict)

    def step_function(self, step: str) -> str:
        return f"{step}{self.step_suffix}"

    def runtime_function(self, public: str) -> str:
        """The pipeline module's name for the runtime's ``public`` function."""
        return self.runtime.get(public, public)

    @staticmethod
    def imported(public: str, local: str) -> str:
        """An import list entry: the other modules keep the public name, the pipeline module its own."""
        return public if public == local else f"{public} as {local}"

    @classmethod
    def avoiding(cls, taken: set[str], steps: list[str]) -> GeneratedNames:
        """Our names, each replaced by its first alternative the notebook does not use."""
        alternatives = {
            "config": ["Config", "PipelineConfig", "PromotedConfig"],
            "run": ["run", "run_pipeline", "run_promoted"],
            "run_steps": ["run_steps", "run_pipeline_steps", "run_promoted_steps"],
            "steps": ["STEPS", "PIPELINE_STEPS", "PROMOTED_STEPS"],
            "step_suffix": ["_step", "_stage", "_pipeline_step"],
            "metrics": ["metrics", "step_metrics", "promoted_metrics"],
            "results": ["test_results", "trainer_results", "promoted_results"],
            "settings": ["make_settings", "make_process_settings", "make_promoted_settings"],
            "literal": ["load_literal", "load_stored_literal", "load_promoted_literal"],
            "artifacts_path": ["in_artifacts", "in_artifacts_dir", "in_promoted_artifacts"],
            "notebook_path": ["in_notebook_dir", "in_notebook_folder", "in_promoted_notebook_dir"],
        }
        chosen: dict[str, Any] = {}
        for field_name, options in alternatives.items():
            if field_name == "step_suffix":
                fits = [o for o in options if not {f"{s}{o}" for s in steps} & taken]
            else:
                fits = [o for o in options if o not in taken]
            chosen[field_name] = (fits or [options[-1] + "_"])[0]
        runtime = {}
        for public in sorted(RUNTIME_FUNCTIONS & taken):
            options = [f"runtime_{public}", f"promoted_{public}"]
            runtime[public] = next((o for o in options if o not in taken), options[-1] + "_")
        return cls(**chosen, runtime=runtime)


# What the runtime module (templates/runtime.py.j2) gives the pipeline module's steps and run function.
RUNTIME_FUNCTIONS = frozenset(
    {
        "build_fabric",
        "fabric_setup_again",
        "build_trainer",
        "best_weights",
        "prepare_loaders",
        "close_distributed",
        "save_metrics",
        "save_outputs",
        "prepare_artifacts",
        "export_model",
        "export_program",
        "Undefined",
    }
)


@dataclass
class Parameter:
    name: str
    value: object
    source: str  # the literal as written
    cell: CellPlan
    line: int
    comment: str = ""

    @property
    def type_name(self) -> str:
        return type(self.value).__name__ if self.value is not None else "object"

    @property
    def flag(self) -> str:
        """The CLI flag; prefixed with ``param-`` where the generated CLI already has that option."""
        flag = self.name.lower().replace("_", "-")
        return f"--param-{flag}" if flag in _CLI_OPTIONS else f"--{flag}"


@dataclass
class Placed:
    """A statement placed in a step or module, with where it came from."""

    cell: CellPlan
    stmt: Statement
    # "tagged" | "pulled" (from an untagged cell) | "moved" (from a later step) | "setting" (stages/process_settings.py)
    # | "repeated" (a definition also kept where it was, reading a later step's values: stages/late_binding.py)
    origin: str = "tagged"


@dataclass
class Step:
    name: str
    role: str
    cells: list[CellPlan] = field(default_factory=list)
    body: list[Placed] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    metric_tables: list[str] = field(
        default_factory=list
    )  # results of trainer.test()/validate(): their entries are metrics
    captured: dict[int, str] = field(default_factory=dict)  # id(stmt) of a bare trainer.test(...) → name for its result
    numeric_metrics: list[str] = field(default_factory=list)  # the metrics that plainly are numbers

    @property
    def cells_named(self) -> str:
        """``cell 4`` or ``cells 4, 7``: where the step's code came from, as the project's docs say it."""
        indexes = ", ".join(str(c.cell.index) for c in self.cells)
        return f"cell {indexes}" if len(self.cells) == 1 else f"cells {indexes}"

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "cells": [c.cell.index for c in self.cells],
            "inputs": self.inputs,
            "outputs": self.outputs,
            "parameters": self.params,
        }


@dataclass
class MappedLoop:
    """A raw training loop that becomes LightningModule hooks plus a Trainer."""

    step: Step
    placed: Placed  # the epoch loop statement
    mapping: LoopMapping
    optimizer: Placed  # optimizer = Opt(model.parameters(), ...)
    scheduler: Placed | None
    hparams: list[str]  # parameters the hooks read (become save_hyperparameters values)


@dataclass
class Plan:
    notebook: Notebook
    package: str
    cells: list[CellPlan]
    parameters: list[Parameter] = field(default_factory=list)
    prelude: list[Placed] = field(default_factory=list)  # parameters-cell code that is not a parameter: runs first
    seed: str | None = None  # name of the parameter holding the seed
    steps: list[Step] = field(default_factory=list)
    hoisted: dict[str, list[Placed]] = field(default_factory=lambda: {m: [] for m in MODULE_ORDER})
    imports: dict[str, str] = field(default_factory=dict)  # bound name → import statement
    # ``from M import *`` of promoted cells, kept as written; the names no cell defines are taken from them
    star_imports: list[str] = field(default_factory=list)
    star_names: set[str] = field(default_factory=set)
    requirements: list[str] = field(default_factory=list)
    # a name no cell defines → where it is used (cell index, line), in the order found: the placeholder names the first
    undefined: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    content_hash: str = ""
    strict: bool = False  # --strict: pulling in untagged code is an error
    loop: MappedLoop | None = None
    torch: bool = False  # promoted code uses PyTorch
    lightning: bool = False  # promoted code already uses Lightning (its own LightningModule/Trainer)
    names: GeneratedNames = field(default_factory=GeneratedNames)
    paths: FilePaths | None = None  # where relative file paths are anchored (stages/paths.py)
    definition_writes: DefinitionWrites | None = None  # files module-level definitions write (definition_paths.py)
    # id(statement) → its literals stored as data files, each with the file (stages/literals.py)
    literals: dict[int, list[tuple[ast.expr, StoredLiteral]]] = field(default_factory=dict)
    # Imports a step rebinds (stages/rebound_imports.py): their names, and id(Name) → alias for the earlier reads
    rebound_imports: set[str] = field(default_factory=set)
    import_aliases: dict[int, str] = field(default_factory=dict)
    # step name → the process-wide settings it makes, in order (stages/process_settings.py)
    settings: dict[str, list[Placed]] = field(default_factory=dict)
    # name → the names that may share an object with it that some statement changes (analysis/indirect_changes.py)
    shared_objects: dict[str, set[str]] = field(default_factory=dict)
    # the notebook's own modules, copied into the package's ``notebook_modules`` (stages/local_modules.py): module
    # name → its source as read, and where it lay, relative to the notebook's folder (``helpers.py``, ``../src/x.py``)
    notebook_modules: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors(self.all_diagnostics)

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        found = [d for cell in self.cells for d in cell.diagnostics] + self.diagnostics
        return sorted(found, key=lambda d: (d.cell_index if d.cell_index is not None else -1, d.line or 0))

    def diagnose(
        self, cell: CellPlan, severity: str, code: str, message: str, line: int | None = None, **extra
    ) -> None:
        """Add a diagnostic to ``cell``'s own list; ``extra``: a suggestion, related cells."""
        cell.diagnostics.append(diagnostic(self.notebook, cell.cell, severity, code, message, line, **extra))

    @cached_property
    def classes(self) -> dict[str, ast.ClassDef]:
        """Every class the notebook's code cells define, by name (code generation asks once per step and stage:
        the cells' statements no longer change once the plan is built)."""
        return {
            stmt.node.name: stmt.node
            for cell in self.cells
            if cell.names
            for stmt in cell.names.statements
            if isinstance(stmt.node, ast.ClassDef)
        }

    def hoisted_names(self) -> dict[str, str]:
        return {p.stmt.binds[0]: module for module, placed in self.hoisted.items() for p in placed}

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def pulled_cells(self, step: Step) -> list[int]:
        """Untagged cells whose code ``step`` needs (PRM003), placed in the step or hoisted to a shared module."""
        mine = {c.cell.index for c in step.cells}
        pulled = {placed.cell.cell.index for placed in step.body if placed.origin in ("pulled", "setting")}
        for found in self.all_diagnostics:
            if found.code == "PRM003" and found.cell_index in mine:
                pulled |= {related["index"] for related in found.related_cells}
        return sorted(pulled)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "notebook": str(self.notebook.path),
            "package": self.package,
            "content_hash": self.content_hash,
            "cells": [c.to_json() for c in self.cells],
            "steps": [{**s.to_json(), "pulled": self.pulled_cells(s)} for s in self.steps],
            "parameters": [
                {"name": p.name, "value": p.source, "type": p.type_name, "flag": p.flag} for p in self.parameters
            ],
            "dependencies": self.requirements,
            "diagnostics": [d.to_json() for d in self.all_diagnostics],
        }


def package_name(text: str) -> str:
    """A valid, PEP 8 package name from a notebook stem or user input: ASCII, never a keyword.

    ``données_π`` → ``donnees``: accents are dropped (NFKD), other letters become ``_``,
    because a distribution name and every tool around it (pip, hatch, TOML keys) want ASCII.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.strip().lower()).strip("_") or "promoted"
    name = f"nb_{name}" if name[0].isdigit() else name
    return f"{name}_" if keyword.iskeyword(name) else name


def line_in_cell(cell: CellPlan, line: int) -> int:
    """A line of the plain code as the user sees it in the cell (a ``%%magic`` header shifts it)."""
    return line + (cell.plain.line_offset if cell.plain else 0)

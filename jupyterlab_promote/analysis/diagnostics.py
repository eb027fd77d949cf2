"""Diagnostics: what the analysis says about a notebook, cell by cell.

A diagnostic always names the notebook, the cell (index *and* id, because
indexes shift when cells are inserted while ids do not) and the line inside
the cell, so both the CLI and the panel can point at the exact spot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..read.notebook import Cell, Notebook


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# Stable codes: tests, docs and the frontend refer to these, never to messages.
CODES: dict[str, str] = {
    "PRM001": "syntax-error",
    "PRM002": "undefined-name",
    "PRM003": "defined-only-in-untagged-cell",
    "PRM004": "hidden-state",
    "PRM005": "unpicklable-in-data-cell",
    "PRM006": "hard-coded-device",
    "PRM007": "absolute-path",
    "PRM008": "mixed-lightning-namespaces",
    "PRM009": "shell-command",
    "PRM010": "role-suggestion",
    "PRM011": "tag-contradicts-code",
    "PRM012": "evaluate-binds-no-metric",
    "PRM013": "no-pytorch-model",
    "PRM014": "training-loop-kept-on-fabric",
    "PRM015": "unknown-tag",
    "PRM016": "conflicting-tags",
    "PRM017": "definition-moved",
    "PRM018": "no-promoted-cells",
    "PRM019": "non-literal-parameter",
    "PRM020": "dropped-magic",
    "PRM021": "pip-dependency",
    "PRM022": "training-loop-mapped",
    "PRM023": "reserved-name",
    "PRM024": "generated-file-invalid",
}


@dataclass
class Diagnostic:
    severity: Severity
    code: str
    message: str
    notebook: str
    cell_index: int | None = None
    cell_id: str | None = None
    line: int | None = None
    # Machine-readable fix the panel can offer with one click.
    suggestion: dict | None = None
    related_cells: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return CODES.get(self.code, "")

    def location(self) -> str:
        parts = [self.notebook]
        if self.cell_index is not None:
            parts.append(f"cell {self.cell_index} (id {self.cell_id})")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)

    def format(self) -> str:
        return f"{self.location()}: {self.severity.value} {self.code} {self.message}"

    def to_json(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["name"] = self.name
        return data


def diagnostic(
    notebook: Notebook, cell: Cell | None, severity: str, code: str, message: str, line: int | None = None, **extra
) -> Diagnostic:
    """A diagnostic at ``line`` of ``cell`` (None: the notebook as a whole); ``extra``: suggestion, related_cells."""
    return Diagnostic(
        severity=Severity(severity),
        code=code,
        message=message,
        notebook=str(notebook.path),
        cell_index=cell.index if cell else None,
        cell_id=cell.id if cell else None,
        line=line,
        **extra,
    )


def quoted(code: str, longest: int = 60) -> str:
    """The notebook's code as a message quotes it: one line, cut with "…" past ``longest`` characters (a
    parameter can be a literal of megabytes)."""
    line = " ".join(code.split()) if "\n" in code else code
    return line if len(line) <= longest else line[: longest - 1] + "…"


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)

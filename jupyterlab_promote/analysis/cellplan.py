"""What promotion knows about one code cell: its role, its plain code, its names and its diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..read.magics import PlainSource
from ..read.notebook import Cell
from .diagnostics import Diagnostic
from .names import CellNames


@dataclass
class CellPlan:
    """What promotion knows about one code cell."""

    cell: Cell
    role: str | None = None  # None: untagged
    step: str | None = None  # custom step name (role "step"), or the role for built-in roles
    role_source: str | None = None
    plain: PlainSource | None = None
    names: CellNames | None = None
    suggested_role: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.role not in (None, "skip", "imports")

    def to_json(self) -> dict:
        names = self.names
        return {
            "index": self.cell.index,
            "id": self.cell.id,
            "cell_type": self.cell.cell_type,
            "role": self.role,
            "role_source": self.role_source,
            "tags": self.cell.tags,
            "suggested_role": self.suggested_role,
            "step": self.step,
            "first_line": self.cell.first_line,
            "defines": sorted(names.binds) if names else [],
            "uses": names.reads if names else [],
            "mutates": sorted(names.mutates) if names else [],
        }

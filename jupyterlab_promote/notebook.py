"""Reading a notebook into the cells promotion works on.

nbformat does the parsing and validation; this module only turns its nodes
into small typed records and turns every way a file can be unreadable into a
:class:`NotebookError` that names the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NotebookError


@dataclass
class Cell:
    index: int
    id: str
    cell_type: str
    source: str
    tags: list[str] = field(default_factory=list)
    execution_count: int | None = None

    @property
    def first_line(self) -> str:
        for line in self.source.splitlines():
            if line.strip():
                return line.strip()[:120]
        return ""


@dataclass
class Notebook:
    path: Path
    cells: list[Cell]
    metadata: dict

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem

    def code_cells(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.cell_type == "code"]


def read_notebook(path: str | Path, content: dict | None = None) -> Notebook:
    """The notebook at ``path``; with ``content`` (the editor's unsaved JSON), that content under this path."""
    import nbformat  # nbformat pulls in jsonschema; keep CLI start fast

    path = Path(path)
    if content is None and not path.exists():
        raise NotebookError(f"{path}: no such notebook")
    if content is None and path.is_dir():
        raise NotebookError(f"{path}: is a directory, not a notebook")
    try:
        node = (
            nbformat.reads(json.dumps(content), as_version=4)
            if content is not None
            else nbformat.read(str(path), as_version=4)
        )
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path}: not a valid notebook file ({exc})") from None
    except Exception as exc:  # nbformat raises several unrelated types
        raise NotebookError(f"{path}: cannot be read as a notebook ({exc})") from None
    cells = []
    for index, raw in enumerate(node.get("cells", [])):
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        tags = raw.get("metadata", {}).get("tags", []) or []
        cells.append(
            Cell(
                index=index,
                id=str(raw.get("id") or f"index-{index}"),
                cell_type=raw.get("cell_type", "code"),
                source=source,
                tags=[str(tag) for tag in tags],
                execution_count=raw.get("execution_count"),
            )
        )
    return Notebook(path=path, cells=cells, metadata=dict(node.get("metadata", {})))


def content_hash(sources: list[str]) -> str:
    """Hash of the code that promotion reads; stored in promote.toml for the drift check."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]

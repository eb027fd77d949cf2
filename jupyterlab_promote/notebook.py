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

from .errors import InvalidNotebookError, NotebookError
from .lines import normalise_newlines, split_lines


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
        for line in split_lines(self.source):
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
        """The file name, safe to embed in generated docstrings, comments and messages.

        Quotes, backslashes and unprintable characters (a newline in a file name) become ``_``.
        """
        return "".join(c if c.isprintable() and c not in '"\\' else "_" for c in self.path.name)

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
    except Exception as exc:  # nbformat raises several unrelated types (RecursionError for absurd nesting too)
        error = InvalidNotebookError if content is not None else NotebookError
        raise error(f"{path}: cannot be read as a notebook ({type(exc).__name__}: {str(exc)[:300]})") from None
    _refuse_foreign_language(path, node.get("metadata", {}))
    raw_cells = node.get("cells", [])
    if not isinstance(raw_cells, list):
        raise InvalidNotebookError(f"{path}: 'cells' must be a list, got {type(raw_cells).__name__}")
    cells = [_read_cell(path, index, raw) for index, raw in enumerate(raw_cells)]
    return Notebook(path=path, cells=cells, metadata=dict(node.get("metadata", {})))


# Languages whose cells are Python (IPython syntax included).
_PYTHON_LANGUAGES = {"python", "python2", "python3", "ipython", "ipython3"}


def _refuse_foreign_language(path: Path, metadata: object) -> None:
    """An R or Julia notebook may happen to parse as Python; promoting it would be nonsense."""
    if not isinstance(metadata, dict):
        return
    kernelspec, language_info = metadata.get("kernelspec"), metadata.get("language_info")
    declared = [
        (where, info.get(key))
        for where, info, key in (
            ("kernelspec.language", kernelspec, "language"),
            ("language_info.name", language_info, "name"),
        )
        if isinstance(info, dict) and info.get(key) is not None
    ]
    for where, language in declared:
        if not isinstance(language, str) or language.strip().lower() not in _PYTHON_LANGUAGES:
            raise InvalidNotebookError(
                f"{path}: not a Python notebook (its {where} is {language!r}); only Python notebooks can be promoted"
            )


def _cell_problem(path: Path, index: int, raw: dict, problem: str) -> InvalidNotebookError:
    return InvalidNotebookError(f"{path}, cell {index} (id {raw.get('id') or f'index-{index}'}): {problem}")


def _text(path: Path, index: int, raw: dict, value: object) -> str:
    """A cell's source (a string or a list of strings), newlines as the tokenizer reads them."""
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        value = "".join(value)
    if not isinstance(value, str):
        raise _cell_problem(path, index, raw, f"'source' must be text or a list of strings, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = value[: exc.start].count("\n") + 1
        raise _cell_problem(
            path, index, raw, f"line {line}: a lone surrogate character {value[exc.start]!r} is not valid text"
        ) from None
    return normalise_newlines(value)


def _read_cell(path: Path, index: int, raw: object) -> Cell:
    if not isinstance(raw, dict):
        raise InvalidNotebookError(f"{path}, cell {index}: a cell must be a JSON object, got {type(raw).__name__}")
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _cell_problem(path, index, raw, f"'metadata' must be an object, got {type(metadata).__name__}")
    tags = metadata.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        example = f"[{json.dumps(tags)}]" if isinstance(tags, str) else '["promote:train"]'
        raise _cell_problem(path, index, raw, f"'tags' must be a list of strings like {example}, got {tags!r:.80}")
    count = raw.get("execution_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise _cell_problem(path, index, raw, f"'execution_count' must be a number or null, got {count!r:.40}")
    cell_type = raw.get("cell_type", "code")
    if not isinstance(cell_type, str):
        raise _cell_problem(path, index, raw, f"'cell_type' must be text, got {type(cell_type).__name__}")
    return Cell(
        index=index,
        id=str(raw.get("id") or f"index-{index}"),
        cell_type=cell_type,
        source=_text(path, index, raw, raw.get("source", "")),
        tags=list(tags),
        execution_count=count,
    )


def content_hash(sources: list[str]) -> str:
    """Hash of the code that promotion reads; stored in promote.toml for the drift check."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]

"""Reading a notebook into the cells promotion works on.

A v4 notebook is parsed with :mod:`json` and checked by a structural check of our own:
importing nbformat costs seconds (its jsonschema validator builds dozens of grammars at import),
more than the whole promotion. Only older formats (v3 and before) go through nbformat, for its
conversion. This module turns the JSON into small typed records and every way a file can be
unreadable into a :class:`NotebookError` that names the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidNotebookError, NotebookError
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
    path = Path(path)
    if content is None and not path.exists():
        raise NotebookError(f"{path}: no such notebook")
    if content is None and path.is_dir():
        raise NotebookError(f"{path}: is a directory, not a notebook")
    error = InvalidNotebookError if content is not None else NotebookError
    try:
        node = content if content is not None else json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{path}: not a valid notebook file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path}: cannot be read as a notebook (not JSON: {exc})") from None
    except RecursionError as exc:  # absurdly nested JSON
        raise error(f"{path}: cannot be read as a notebook ({type(exc).__name__}: {str(exc)[:300]})") from None
    problem = _structure_problem(node)
    if problem is not None:
        raise error(f"{path}: cannot be read as a notebook ({problem})")
    if node["nbformat"] < 4:
        node = _upgraded(path, node, error)
    _refuse_foreign_language(path, node.get("metadata", {}))
    cells = [_read_cell(path, index, raw) for index, raw in enumerate(node["cells"])]
    return Notebook(path=path, cells=cells, metadata=dict(node.get("metadata", {})))


def _structure_problem(node: object) -> str | None:
    """What makes ``node`` unreadable as a notebook document, or None (cell contents are checked per cell)."""
    if not isinstance(node, dict):
        return f"the document must be a JSON object, got {type(node).__name__}"
    version = node.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 4:
        return f"'nbformat' must be a format version from 1 to 4, got {version!r:.40}"
    if not isinstance(node.get("metadata", {}), dict):
        return f"'metadata' must be an object, got {type(node['metadata']).__name__}"
    if version < 4:
        return None  # nbformat converts older formats (worksheets) and checks them
    if not isinstance(node.get("nbformat_minor"), int):
        return "a version 4 notebook needs an integer 'nbformat_minor'"
    cells = node.get("cells")
    if not isinstance(cells, list):
        return f"'cells' must be a list, got {type(cells).__name__}"
    return next(
        (f"cell {index}: {problem}" for index, cell in enumerate(cells) if (problem := _cell_structure_problem(cell))),
        None,
    )


def _cell_structure_problem(cell: object) -> str | None:
    """What makes one cell of a version 4 notebook unreadable, or None."""
    if not isinstance(cell, dict):
        return f"a cell must be a JSON object, got {type(cell).__name__}"
    if not isinstance(cell.get("metadata", {}), dict):
        return f"'metadata' must be an object, got {type(cell['metadata']).__name__}"
    if not isinstance(cell.get("cell_type", "code"), str):
        return f"'cell_type' must be text, got {type(cell['cell_type']).__name__}"
    source = cell.get("source")
    if isinstance(source, list) and not all(isinstance(part, str) for part in source):
        return "'source' must be text or a list of strings"
    return None


def _upgraded(path: Path, node: dict, error: type[NotebookError]) -> dict:
    """A pre-v4 notebook converted by nbformat (slow to import, so only for these)."""
    import nbformat

    try:
        return nbformat.convert(nbformat.from_dict(node), 4)
    except Exception as exc:  # nbformat raises several unrelated types on malformed old documents
        raise error(f"{path}: cannot be read as a notebook ({type(exc).__name__}: {str(exc)[:300]})") from None


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
    return InvalidNotebookError(f"{path}, cell {index} (id {_cell_id(raw, index)}): {problem}")


# nbformat 4.5's cell id: the generated code quotes it in comments and docstrings, so nothing else may pass
_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _cell_id(raw: dict, index: int) -> str:
    """The cell's id as nbformat 4.5 allows it; ``index-N`` without one (nbformat 4.4 and before)."""
    found = raw.get("id")
    if found is None or found == "":
        return f"index-{index}"
    return found if isinstance(found, str) and _CELL_ID.fullmatch(found) else "(invalid)"


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
    if _cell_id(raw, index) == "(invalid)":
        raise _cell_problem(
            path, index, raw, f"its id {raw.get('id')!r:.80} is not a cell id (1 to 64 letters, digits, - or _)"
        )
    cell_type = raw.get("cell_type", "code")
    if not isinstance(cell_type, str):
        raise _cell_problem(path, index, raw, f"'cell_type' must be text, got {type(cell_type).__name__}")
    return Cell(
        index=index,
        id=_cell_id(raw, index),
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

"""Rendering our Jinja templates (codegen/templates/) and formatting the Python they produce.

Every string that reaches a generated TOML or YAML file goes through :func:`toml_value` or :func:`yaml_value`;
every generated Python module goes through :func:`format_modules` (imports sorted by ruff, then black, remembered),
and every module black formats goes through :func:`format_black`, in the Mode black has in the project.
"""

from __future__ import annotations

import gc
import json
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .black_output import black_release, is_black_output
from .black_workers import format_in_workers, mode_key, mode_of
from .format_cache import cached_format, remember, remembered
from .import_sorting import sort_imports
from .lint import author_lint, mark_author_lint, one_statement_lines
from .piecewise_black import (
    Piece,
    formatted_input,
    join_pieces,
    mode_allows_pieces,
    pieces_of,
    reformat_pieces,
)
from .plain_definitions import is_plain_definition
from .plain_lines import BLACK_YEARS, is_plain_body


def _bytecode_cache():
    """Compiled templates kept on disk: compiling our ~30 templates is a tenth of a first promotion's time in a fresh
    process. Beside them in the package, as Python keeps a module's bytecode beside it (``__pycache__``), where the
    package folder is writable; else beside the format cache. jinja keys each entry by the template's source and the
    Python version, so an edit recompiles. None when caching is off (``JUPYTERLAB_PROMOTE_CACHE_DIR=""``)."""
    import jinja2

    from .format_cache import cache_dir

    user_cache = cache_dir()
    if user_cache is None:
        return None
    for folder in (Path(__file__).resolve().parent / "__pycache__" / "jinja2", user_cache.parent / "templates"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return jinja2.FileSystemBytecodeCache(str(folder))
    return None  # nowhere to write: compile in memory, as before


@lru_cache(maxsize=1)
def _templates():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("jupyterlab_promote.codegen", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # we render Python and TOML, not HTML
        bytecode_cache=_bytecode_cache(),
    )
    environment.filters["toml"] = toml_value
    environment.filters["python"] = repr  # a Python literal of a plain value (str, list of str)
    environment.filters["names_tuple"] = names_tuple
    environment.filters["names_dict"] = names_dict
    environment.filters["call_statement"] = call_statement
    environment.globals["line_length"] = LINE_LENGTH
    return environment


# Collections of names written as black writes them, so that black confirms them in one pass instead of rewriting
# them and confirming again: past one item (any item, for a dict), the trailing comma puts each on a line of its
# own. ``depth``: the indentation level of the line the collection opens on. Names need no escaping.
def names_tuple(names: list[str], depth: int = 0) -> str:
    """``("a", "b")``."""
    if len(names) < 2:
        return f'("{names[0]}",)' if names else "()"
    pad = "    " * depth
    return "(\n" + "".join(f'{pad}    "{name}",\n' for name in names) + f"{pad})"


def names_dict(names: dict[str, str], depth: int = 0) -> str:
    """``{"a": "x"}``."""
    pad = "    " * depth
    return (
        "{\n" + "".join(f'{pad}    "{key}": "{value}",\n' for key, value in names.items()) + f"{pad}}}"
        if names
        else "{}"
    )


def call_statement(callee: str, arguments: list[str], depth: int, tail: str = "") -> str:
    """``callee(arguments)`` as black writes a call statement: on one line when it fits, else the arguments on a
    line of their own when they fit there or are one, else one a line with a trailing comma. Where black would
    choose otherwise (wide East Asian letters count twice for it), it rewrites the statement as it would have
    anyway: this never adds a trailing comma black would not write, which would stay (black keeps one it finds).
    ``tail``: what follows the closing parenthesis on its line (the comma of an item in a list black split)."""
    pad = "    " * depth
    line = f"{pad}{callee}({', '.join(arguments)}){tail}"
    if len(line) <= LINE_LENGTH:
        return line
    inner = f"{pad}    {', '.join(arguments)}"
    if len(inner) <= LINE_LENGTH or len(arguments) == 1:
        return f"{pad}{callee}(\n{inner}\n{pad}){tail}"
    return f"{pad}{callee}(\n" + "".join(f"{pad}    {argument},\n" for argument in arguments) + f"{pad}){tail}"


def list_statement(
    head: str, items: list[str | tuple[str, list[str]]], depth: int, tail: str = "", brackets: str = "[]"
) -> str:
    """``head[items]tail`` as black writes it: on one line when it fits, else one item a line with a trailing
    comma (black splits a list or dict display it must split at every item). An item ``(callee, arguments)`` is
    a call, written as :func:`call_statement` writes it when its line is too long. ``brackets``: ``"{}"`` for a
    dict display (items ``'"key": value'``)."""
    pad = "    " * depth
    opening, closing = brackets
    texts = [item if isinstance(item, str) else f"{item[0]}({', '.join(item[1])})" for item in items]
    line = f"{pad}{head}{opening}{', '.join(texts)}{closing}{tail}"
    if len(line) <= LINE_LENGTH or not items:
        return line
    lines = [
        f"{pad}    {item}," if isinstance(item, str) else call_statement(item[0], item[1], depth + 1, ",")
        for item in items
    ]
    return f"{pad}{head}{opening}\n" + "\n".join(lines) + f"\n{pad}{closing}{tail}"


def black_string(text: str) -> str:
    """``text`` as a Python string literal as black writes it: double quotes unless the text holds one."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in literal[1:-1]:
        return f'"{literal[1:-1]}"'
    return literal


def toml_value(value: object) -> str:
    """``value`` as a TOML literal: every string that reaches a TOML file goes through here (or tomli_w)."""
    import tomli_w

    return tomli_w.dumps({"v": value})[len("v = ") :].rstrip("\n")


def toml_key(key: str) -> str:
    """A TOML key: bare when TOML allows it, else a quoted string."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def render(template: str, **context) -> str:
    return _templates().get_template(template).render(**context)


class Unformatted(NamedTuple):
    """A generated module to format (:func:`format_pending` formats a promotion's modules together)."""

    source: str
    first_party: str  # the generated package: its imports sort in their own section, as the project's ruff sorts them
    authored: bool = False  # it holds the notebook's statements, whose own lint is marked (lint.py)


_FORMATTED: dict[Unformatted, str] = {}  # this process' memory of format_modules, in front of the disk cache
_REMEMBERED = 512


def format_pending(files: dict[str, str | Unformatted]) -> dict[str, str]:
    """``files`` with every :class:`Unformatted` module formatted, all of them by one ruff process."""
    pending = [(path, text) for path, text in files.items() if isinstance(text, Unformatted)]
    formatted = format_modules([module for _, module in pending])
    return {**files, **{path: text for (path, _), text in zip(pending, formatted)}}  # type: ignore[dict-item]


def format_modules(modules: list[Unformatted]) -> list[str]:
    """Each module formatted: from this process' memory, else from the disk cache (format_cache), else sorted,
    black-formatted and marked, those of one package by one ruff process (and one more for the marks)."""
    found: dict[Unformatted, str | None] = {}
    for module in modules:
        if module not in found:
            found[module] = _FORMATTED.get(module) or remembered(module.source, *_cache_setting(module))
    missing = [module for module, text in found.items() if text is None]
    for first_party in sorted({module.first_party for module in missing}):
        group = [module for module in missing if module.first_party == first_party]
        for module, text in zip(group, _format_group(group, first_party)):
            found[module] = text
            remember(module.source, *_cache_setting(module), text)
    if len(_FORMATTED) > _REMEMBERED:
        _FORMATTED.clear()
    _FORMATTED.update(found)  # type: ignore[arg-type]
    return [found[module] for module in modules]  # type: ignore[misc]


def forget_formatted() -> None:
    """Empty this process' memory of formatted modules (tests and benchmarks measuring a first formatting)."""
    _FORMATTED.clear()


def _cache_setting(module: Unformatted):
    """(setting, formatter) keying ``module`` in the disk cache: what else its formatting depends on."""
    return module.first_party, _format_authored if module.authored else _format_generated


def _format_group(modules: list[Unformatted], first_party: str) -> list[str]:
    """What :func:`_format_generated` or :func:`_format_authored` gives for each module, with two ruff processes in
    all: one sorting every module's imports, one finding the notebook's lint in the authored ones."""
    sorted_sources = sort_imports([module.source for module in modules], first_party)
    formatted = [format_black(source, project_mode(), first_party) for source in sorted_sources]
    authored = [index for index, module in enumerate(modules) if module.authored]
    if authored:
        marked = _format_authored_all([formatted[index] for index in authored], first_party)
        for index, text in zip(authored, marked):
            formatted[index] = text
    return formatted


def _format_generated(source: str, first_party: str) -> str:
    """One generated module: imports sorted, then black (the name keys the disk cache's entries of such modules)."""
    return format_black(sort_imports([source], first_party)[0], project_mode(), first_party)


_IMPORTING = threading.Lock()


def import_black():
    """black, imported where used (it is slow to import) by one thread at a time: the server formats in a thread
    pool, and two threads importing black's compiled package at once can see it half initialised."""
    with _IMPORTING:
        import black
    return black


LINE_LENGTH = 88  # black's in the generated project (project_mode), and what the templates fit their lines to

# The oldest Python the generated code supports (the skeleton's pyproject says requires-python >= 3.10): black
# infers its target versions from it in the project (the skeleton's [tool.black] table makes the project folder
# black's root), so the generator formats with the same.
PYTHON_VERSION = "3.10"


@lru_cache(maxsize=1)
def project_mode():
    """black's Mode in the generated project, as its command line reads the project's pyproject.toml."""
    return black_mode(f'[project]\nrequires-python = ">={PYTHON_VERSION}"\n[tool.black]\nline-length = {LINE_LENGTH}\n')


def black_mode(pyproject: str):
    """black's Mode as its command line reads ``pyproject`` (target versions, line length, …)."""
    import tomllib

    black = import_black()
    from black.files import infer_target_version

    try:
        data = tomllib.loads(pyproject) if pyproject else {}
    except tomllib.TOMLDecodeError:
        data = {}
    options = data.get("tool", {}).get("black", {})
    declared = options.get("target-version", options.get("target_version"))
    if declared:  # as black's command line reads it: py310, ...
        targets = {black.TargetVersion[version.upper()] for version in declared}
    else:  # else from requires-python, as black's command line does
        targets = set(infer_target_version(data) or ())
    return black.Mode(
        target_versions=targets,
        line_length=int(options.get("line-length", options.get("line_length", black.DEFAULT_LINE_LENGTH))),
        string_normalization=not options.get("skip-string-normalization", False),
        magic_trailing_comma=not options.get("skip-magic-trailing-comma", False),
        preview=bool(options.get("preview", False)),
        unstable=bool(options.get("unstable", False)),
    )


def format_black(source: str, mode, package: str = "") -> str:
    """black's output for ``source`` under ``mode``, one top-level definition at a time, each remembered on disk
    (piecewise_black): after an edit, black parses again only the definitions that changed. The templates' pieces
    are black's output already (black_output; ``package``, the generated package's name, may be in them). Many
    definitions not formatted before are formatted by worker processes (black_workers)."""
    cut = pieces_of(source, mode)
    pieces = [formatted_input(piece) for piece in cut]
    key = mode_key(mode)
    formatted = [
        piece if _is_known_output(part, piece, key, mode, package) else remembered(piece, key, _black_in_mode)
        for part, piece in zip(cut, pieces)
    ]
    missing = [index for index, text in enumerate(formatted) if text is None]
    if missing:
        texts = [pieces[index] for index in missing]
        done = format_in_workers(texts, key) or [_black_in_mode(text, key) for text in texts]
        for index, text in zip(missing, done):
            formatted[index] = text
            remember(pieces[index], key, _black_in_mode, text)
    return join_pieces(cut, formatted)


def _is_known_output(part: Piece, text: str, key: str, mode, package: str) -> bool:
    """Whether black is known to return ``text`` (formatted_input of ``part``) as it is: a template's recorded
    piece, a long function's later part made of plain statements (plain_lines), or a simple function written as
    black writes it (plain_definitions)."""
    if is_black_output(text, key, package):
        return True
    if black_release().split(".")[0] not in BLACK_YEARS:
        return False
    if part.opener:
        return is_plain_body(part.text, mode.line_length)
    return mode_allows_pieces(mode) and is_plain_definition(text, mode.line_length)


def _black_piece(mode):
    key = mode_key(mode)
    return lambda piece: cached_format(piece, key, _black_in_mode)


def _black_in_mode(source: str, key: str) -> str:
    """black with the Mode ``key`` (black_workers.mode_key) describes."""
    black = import_black()
    formatted = black.format_str(source, mode=mode_of(key))
    if not gc.isenabled():  # generation pauses the collector (api._generate): free black's tree, a web of cycles
        gc.collect(1)
    return formatted


_MARKING_PASSES = 3


def _format_authored(source: str, first_party: str) -> str:
    """One module of the notebook's statements: formatted as a generated one, then their lint marked (the name keys
    the disk cache's entries of such modules)."""
    return _format_authored_all([_format_generated(source, first_party)], first_party)[0]


def _format_authored_all(modules: list[str], first_party: str) -> list[str]:
    """Each module (sorted and black-formatted) with the notebook's lint marked: ruff is asked once for all of them,
    then again only for a module whose marks moved."""
    return [_mark_until_settled(formatted, codes) for formatted, codes in zip(modules, author_lint(modules))]


def _mark_until_settled(formatted: str, codes: dict[int, list[str]]) -> str:
    # Until the marks hold: wrapping a marked line can move its mark off the line ruff reports (lint.py).
    for attempt in range(_MARKING_PASSES):
        marked = mark_author_lint(formatted, codes if attempt == 0 else None)
        if marked == formatted:
            break
        unsettled = _lines_black_would_change(formatted, marked)
        if not unsettled:
            return marked
        # Only the definitions holding those lines can need black again; the rest is black's output already.
        formatted = reformat_pieces(marked, unsettled, project_mode(), _black_piece(project_mode()))
    return formatted


def _lines_black_would_change(before: str, after: str) -> list[tuple[int, int]]:
    """1-based line ranges where marking changed black's output in a way black may not keep.

    Marking appends (or removes) a trailing comment and keeps the number of lines. black leaves a one-line
    statement that fits in the line length as it is, comment included: that is most marks (``x = f()  # noqa:
    F841``), and skipping black for them saves a whole pass over the module (a 5 MB step: a minute). The lines
    that hold one whole statement are read from ``before``: a mark is a trailing comment, which moves no statement
    off its lines, and marking parsed ``before`` already.
    """
    from black.strings import str_width

    changed = [
        number for number, (old, new) in enumerate(zip(before.split("\n"), after.split("\n")), start=1) if old != new
    ]
    lines, limit = after.split("\n"), project_mode().line_length
    kept = one_statement_lines(before)
    return [(n, n) for n in changed if n not in kept or str_width(lines[n - 1]) > limit]


def yaml_value(value: object) -> str:
    """A YAML scalar PyYAML reads back with the same type (it reads ``1e-05`` as a string)."""
    if isinstance(value, float):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        if exponent and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
        return text
    return json.dumps(value)

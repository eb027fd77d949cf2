"""Write the static Python of codegen/templates/*.py.j2 as black writes it in a generated project.

A top-level definition holding no Jinja renders verbatim, and black formats each logical line by itself, so
writing such a definition as black would changes no generated file (tests/test_golden.py checks that), while a
first promotion no longer pays for black rewriting it (a second black pass, long-line splitting). In definitions
with Jinja in them, each statement (or compound statement's header) whose lines hold no Jinja is written as black
writes it at its depth; the rest is left as it is. black still formats everything the templates render, except
the static definitions: their hashes go to templates/black_output.json (codegen/black_output.py), with black's
release and the project's Mode, and a first promotion takes them as they are under that release and Mode.

Many definitions with Jinja in them render alike for every notebook (the Jinja only picks what the project has, or
names a stage every project has). The record holds those too: each piece black formats on its own
(codegen/piecewise_black.py) of the modules promoted from two or more of the reference notebooks (the demo and
tests/fixtures), when black leaves it as it is. Pieces alike but for the package's name are recorded with the name
taken out, and the name lengths (1 to MAX_NAME) for which black leaves them as they are (black_output.canonical_text).

    python scripts/format_templates.py          # rewrite the templates and the record
    python scripts/format_templates.py --check  # exit 1, listing them, when some definition is not black's
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import black

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jupyterlab_promote.codegen.black_output import (  # noqa: E402
    NAME_MARK,
    RECORD,
    UPPER_MARK,
    canonical_text,
    text_digest,
)
from jupyterlab_promote.codegen.black_workers import mode_key  # noqa: E402
from jupyterlab_promote.codegen.piecewise_black import formatted_input, pieces_of  # noqa: E402
from jupyterlab_promote.codegen.render import project_mode  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "jupyterlab_promote" / "codegen" / "templates"
REFERENCE_NOTEBOOKS = [ROOT / "examples" / "demo.ipynb", *sorted((ROOT / "tests" / "fixtures").glob("*.ipynb"))]
_OPENS = re.compile(r"(@|def |async def |class )")
_JINJA = ("{{", "{%", "{#", "#}", "%}", "}}")
MAX_NAME = 64  # the longest package name the record covers


def static_definitions(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line slices of the top-level definitions that hold no Jinja and parse as one statement."""
    found, i = [], 0
    while i < len(lines):
        if not _OPENS.match(lines[i]):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t)]}" or _OPENS.match(lines[end])):
            if _OPENS.match(lines[end]) and not lines[end - 1].startswith("@"):
                break  # the next definition
            end += 1
        while end > i and not lines[end - 1].strip():
            end -= 1
        region = "\n".join(lines[i:end]) + "\n"
        if not any(mark in region for mark in _JINJA) and _one_definition(region):
            found.append((i, end))
        i = max(end, i + 1)
    return found


def _one_definition(region: str) -> bool:
    try:
        body = ast.parse(region).body
    except SyntaxError:
        return False
    return len(body) == 1 and isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


def static_statements(lines: list[str]) -> list[tuple[int, int, str, bool]]:
    """(first, end, indentation, is a header) of the statements and compound-statement headers that start outside
    brackets and strings, hold no Jinja, and parse alone once dedented (a header with a ``pass`` body)."""
    found, i, starts = [], 0, line_states(lines)
    while i < len(lines):
        line = lines[i]
        if starts[i] != (0, False, False) or not line.strip() or line.lstrip().startswith(("#", "@")):
            i += 1
            continue
        indentation = line[: len(line) - len(line.lstrip())]
        for end in range(i + 1, min(len(lines), i + _LONGEST_STATEMENT) + 1):
            chunk = lines[i:end]
            if any(_holds_jinja(text) or (text.strip() and not text.startswith(indentation)) for text in chunk):
                break
            kind = _statement_kind(_dedent(chunk, indentation)) if starts[end][0] == 0 else None
            if kind is not None:
                if not any(mark in text for text in chunk for mark in _KEEP):
                    found.append((i, end, indentation, kind == "header"))
                i = end - 1
                break
        i += 1
    return found


def line_states(lines: list[str]) -> list[tuple[int, bool, bool]]:
    """(open brackets, inside a triple-quoted string, continued by a backslash) where each line starts, and after the
    last; a Jinja tag reads as a name."""
    states, depth, quote, continued = [], 0, "", False
    for line in lines:
        states.append((depth, len(quote) == 3, continued))
        text, i, continued = _JINJA_TAG.sub("x", line), 0, False
        while i < len(text):
            if quote:
                if text.startswith(quote, i):
                    i, quote = i + len(quote), ""
                    continue
                i += 2 if text[i] == "\\" else 1
                continue
            char = text[i]
            if char == "#":
                break
            if char in "\"'":
                quote = char * 3 if text.startswith(char * 3, i) else char
                i += len(quote)
                continue
            depth += (char in "([{") - (char in ")]}")
            i += 1
        continued = not quote and text.rstrip().endswith("\\")
        if len(quote) == 1:  # a one-line string never spans lines
            quote = ""
    return [*states, (depth, len(quote) == 3, continued)]


_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_LONGEST_STATEMENT = 60
# Left as written: strings over several lines (re-indenting them would change them), black's own directives
_KEEP = ('"' * 3, "'" * 3, "fmt:", "type:")


def _holds_jinja(line: str) -> bool:
    return any(mark in line for mark in _JINJA)


def _dedent(chunk: list[str], indentation: str) -> str:
    return "\n".join(text[len(indentation) :] for text in chunk) + "\n"


def _statement_kind(source: str) -> str | None:
    """ "statement": one simple statement (not a bare constant: black reads a block's first string as its docstring;
    not an import); "header": the header of one compound statement; None: neither."""
    for candidate, compound in ((source, False), (source + "    pass\n", True)):
        try:
            body = ast.parse(candidate).body
        except SyntaxError:
            continue
        if len(body) != 1 or (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
            return None
        if isinstance(body[0], (ast.Import, ast.ImportFrom)):  # imports are sorted before black sees them
            return None
        if hasattr(body[0], "body") != compound or (compound and not isinstance(body[0].body[-1], ast.Pass)):
            return None
        return "header" if compound else "statement"
    return None


def format_template(text: str) -> str:
    lines = text.split("\n")
    for first, end in reversed(static_definitions(lines)):
        region = "\n".join(lines[first:end]) + "\n"
        lines[first:end] = black.format_str(region, mode=project_mode()).rstrip("\n").split("\n")
    for first, end, indentation, header in reversed(static_statements(lines)):
        lines[first:end] = _black_at_depth(lines[first:end], indentation, header)
    return "\n".join(lines)


def _black_at_depth(chunk: list[str], indentation: str, header: bool) -> list[str]:
    """black's lines for one statement (or compound statement's header) at this indentation: black measures a line
    with its indentation, so the statement is formatted dedented in a line length that much shorter."""
    mode = replace(project_mode(), line_length=project_mode().line_length - len(indentation.expandtabs()))
    source = _dedent(chunk, indentation) + ("    pass\n" if header else "")
    formatted = black.format_str(source, mode=mode).rstrip("\n").split("\n")
    if header:
        formatted = formatted[:-1]
    return [indentation + text if text else text for text in formatted]


def black_output_record(texts: list[str]) -> str:
    """templates/black_output.json for the templates ``texts``: the hashes of their static definitions, and of the
    pieces every project renders alike (rendered_alike), that black leaves as they are, under this black and the
    project's Mode; and the pieces alike but for the package's name, with the name lengths black leaves them at."""
    alike, named = rendered_alike()
    regions = set(alike)
    for text in texts:
        lines = text.split("\n")
        regions.update("\n".join(lines[first:end]) + "\n" for first, end in static_definitions(lines))
    definitions = {text_digest(region) for region in regions if black.format_str(region, mode=project_mode()) == region}
    spans = {text_digest(canonical): stable_name_lengths(canonical) for canonical in named}
    record = {
        "black": black.__version__,
        "mode": mode_key(project_mode()),
        "definitions": sorted(definitions),
        "named": {digest: spans[digest] for digest in sorted(spans) if spans[digest]},
    }
    return json.dumps(record, indent=1) + "\n"


def stable_name_lengths(canonical: str) -> list[list[int]]:
    """The runs [first, last] of name lengths for which black leaves ``canonical`` as it is, the name put back."""
    lengths = [
        length
        for length in range(1, MAX_NAME + 1)
        if black.format_str(text := _named(canonical, "p" * length), mode=project_mode()) == text
    ]
    runs: list[list[int]] = []
    for length in lengths:
        if runs and runs[-1][1] == length - 1:
            runs[-1][1] = length
        else:
            runs.append([length, length])
    return runs


def _named(canonical: str, package: str) -> str:
    """``canonical`` (black_output.canonical_text) with ``package`` put back."""
    return canonical.replace(NAME_MARK, package).replace(UPPER_MARK, package.upper())


def rendered_alike() -> tuple[list[str], list[str]]:
    """The pieces black formats on its own of the Python modules promoted from two or more reference notebooks; and
    the pieces alike in two or more but for the package's name, with the name taken out (canonical_text)."""
    from jupyterlab_promote import api

    seen: Counter[str] = Counter()
    named: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as scratch:
        for index, notebook in enumerate(REFERENCE_NOTEBOOKS):
            result = api.promote(notebook, Path(scratch) / str(index), commit=False)
            modules = sorted(result.output.rglob("*.py")) if result.ok else []
            pieces = {
                formatted_input(piece) for path in modules for piece in pieces_of(path.read_text(), project_mode())
            }
            seen.update(pieces)
            package = result.plan.package if result.ok else ""
            named.update({canonical_text(piece, package) for piece in pieces} - {None})
    return sorted(text for text, count in seen.items() if count >= 2), sorted(
        text for text, count in named.items() if count >= 2
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list the templates that would change")
    args = parser.parse_args()
    changed, texts = [], []
    for path in sorted(TEMPLATES.glob("*.py.j2")):
        text = path.read_text(encoding="utf-8")
        formatted = format_template(text)
        texts.append(formatted)
        if formatted != text:
            changed.append(path.name)
            if not args.check:
                path.write_text(formatted, encoding="utf-8")
    record = black_output_record(texts)
    if not RECORD.exists() or RECORD.read_text(encoding="utf-8") != record:
        changed.append(RECORD.name)
        if not args.check:
            RECORD.write_text(record, encoding="utf-8")
    print(("would change: " if args.check else "changed: ") + (", ".join(changed) or "nothing"))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())

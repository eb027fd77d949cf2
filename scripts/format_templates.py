"""Write the static Python of codegen/templates/*.py.j2 as black writes it in a generated project.

A top-level definition holding no Jinja renders verbatim, and black formats each logical line by itself, so
writing such a definition as black would changes no generated file (tests/test_golden.py checks that), while a
first promotion no longer pays for black rewriting it (a second black pass, long-line splitting). Definitions
with Jinja in them are left as they are; black still formats everything the templates render.

    python scripts/format_templates.py          # rewrite the templates
    python scripts/format_templates.py --check  # exit 1, listing them, when some definition is not black's
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import black

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jupyterlab_promote.codegen.render import project_mode  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / "jupyterlab_promote" / "codegen" / "templates"
_OPENS = re.compile(r"(@|def |async def |class )")
_JINJA = ("{{", "{%", "{#", "#}", "%}", "}}")


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


def format_template(text: str) -> str:
    lines = text.split("\n")
    for first, end in reversed(static_definitions(lines)):
        region = "\n".join(lines[first:end]) + "\n"
        lines[first:end] = black.format_str(region, mode=project_mode()).rstrip("\n").split("\n")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list the templates that would change")
    args = parser.parse_args()
    changed = []
    for path in sorted(TEMPLATES.glob("*.py.j2")):
        text = path.read_text(encoding="utf-8")
        formatted = format_template(text)
        if formatted != text:
            changed.append(path.name)
            if not args.check:
                path.write_text(formatted, encoding="utf-8")
    print(("would change: " if args.check else "changed: ") + (", ".join(changed) or "nothing"))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())

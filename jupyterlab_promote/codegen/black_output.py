"""The templates' static definitions, known to be black's output, so that a first promotion does not format them.

A top-level definition of a template that holds no Jinja renders verbatim into every project, and
``scripts/format_templates.py`` writes it as black writes it. That script also records, in
``templates/black_output.json``, a hash of each such definition that black leaves unchanged, with the black release
and the Mode it checked them under. A piece of a generated module (piecewise_black) whose text has one of those hashes
is black's output for that release and Mode, so format_black keeps it as it is: black parses it again only under
another release or Mode. Black takes about 0.4 s of a first promotion's CPU on these definitions alone.

The record also holds the pieces that render alike for every notebook although their template has Jinja in them
(the script finds them in the projects of the demo and the test fixtures): 79 more, about 36 KB of the 81 KB that
black formatted in a first promotion of a 20-cell notebook.

Many more pieces render alike but for the package's name (imports of its modules, `python -m NAME` in docstrings).
Those are recorded by their text with the name taken out (canonical_text), with the name lengths for which black
leaves them as they are: black reads an identifier by its length only, so a name of a recorded length is a hit.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from ..installed import distribution_version

RECORD = Path(__file__).resolve().parent / "templates" / "black_output.json"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# a package named so could make black parse a statement otherwise (`match x:`), or read a comment as a type comment
_SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})
NAME_MARK = "\0"  # stands for the package's name in canonical_text: Python source holds no NUL
UPPER_MARK = "\1"  # its upper case, in names of environment variables (`DEMO_SERVE_SCHEMA`)


@lru_cache(maxsize=1)
def _recorded() -> tuple[str, str, frozenset[str], dict[str, list[list[int]]]]:
    try:
        record = json.loads(RECORD.read_text(encoding="utf-8"))
        return record["black"], record["mode"], frozenset(record["definitions"]), dict(record.get("named", {}))
    except (OSError, ValueError, KeyError, TypeError):
        return "", "", frozenset(), {}  # no record: black formats everything


def canonical_text(text: str, package: str) -> str | None:
    """``text`` with each whole-word ``package`` replaced by NAME_MARK, and its upper case (part of a name or not) by
    UPPER_MARK; None when it holds neither, or when the name is not one black reads by its length alone (not ASCII,
    a soft keyword). Either way each occurrence is one mark, so the text comes back from the canonical one."""
    if not package.isidentifier() or not package.isascii() or package in _SOFT_KEYWORDS:
        return None
    canonical, count = re.subn(rf"\b{package}\b", NAME_MARK, text)
    if package.upper() != package:
        canonical, upper = re.subn(re.escape(package.upper()), UPPER_MARK, canonical)
        count += upper
    return canonical if count else None


def black_release() -> str:
    """The installed black's release, read without importing black (a promotion from the format cache needs none)."""
    return distribution_version("black") or "?"


def is_black_output(text: str, mode_key: str, package: str = "") -> bool:
    """Whether the installed black, under the Mode ``mode_key`` (black_workers.mode_key), returns ``text`` as it is,
    by the record of the templates' pieces; ``package``: the generated package's name, which ``text`` may hold."""
    release, mode, definitions, named = _recorded()
    if release != black_release() or mode != mode_key:
        return False
    if text_digest(text) in definitions:
        return True
    canonical = canonical_text(text, package) if named else None
    spans = named.get(text_digest(canonical)) if canonical is not None else None
    return spans is not None and any(first <= len(package) <= last for first, last in spans)

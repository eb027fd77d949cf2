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
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

RECORD = Path(__file__).resolve().parent / "templates" / "black_output.json"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def _recorded() -> tuple[str, str, frozenset[str]]:
    try:
        record = json.loads(RECORD.read_text(encoding="utf-8"))
        return record["black"], record["mode"], frozenset(record["definitions"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", "", frozenset()  # no record: black formats everything


@lru_cache(maxsize=1)
def black_release() -> str:
    """The installed black's release, read without importing black (a promotion from the format cache needs none)."""
    try:
        return metadata.version("black")
    except metadata.PackageNotFoundError:
        return "?"


def is_black_output(text: str, mode_key: str) -> bool:
    """Whether the installed black, under the Mode ``mode_key`` (black_workers.mode_key), returns ``text`` as it is,
    by the record of the templates' static definitions."""
    release, mode, definitions = _recorded()
    return release == black_release() and mode == mode_key and text_digest(text) in definitions

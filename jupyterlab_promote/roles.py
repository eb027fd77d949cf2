"""The tag vocabulary: which role a cell plays in the promoted pipeline.

A role comes from a cell tag (``promote:model``), from a directive comment on
the cell's first line (``# promote: model``, for editors that hide tags), or
from Kale's tags so that Kale notebooks promote without retagging.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Pipeline order of the built-in roles; custom steps slot in by notebook order.
PIPELINE_ROLES = ["data", "preprocess", "model", "train", "evaluate", "export"]
ROLES = ["parameters", "imports", "functions", *PIPELINE_ROLES, "skip"]

_ALIASES = {
    "parameters": "parameters",
    "pipeline-parameters": "parameters",  # Kale
    "imports": "imports",  # Kale
    "functions": "functions",  # Kale
    "pipeline-metrics": "evaluate",  # Kale
    "skip": "skip",  # Kale
}
_DIRECTIVE = re.compile(r"^\s*#\s*promote\s*:\s*(?P<value>[\w:.-]+)\s*$")
_STEP = re.compile(r"^(step|block):(?P<name>[A-Za-z_][\w-]*)$")


@dataclass(frozen=True)
class RoleTag:
    role: str  # one of ROLES, or "step" for a custom step
    step: str | None = None  # the custom step's name
    source: str = "tag"  # "tag" | "directive" | "kale"


def parse_tag(tag: str, source: str = "tag") -> RoleTag | None:
    """The role a single tag names, or None when the tag is not ours."""
    tag = tag.strip()
    if tag in _ALIASES:
        kale = tag not in {"parameters"} and not tag.startswith("promote:")
        return RoleTag(_ALIASES[tag], source="kale" if kale and source == "tag" else source)
    if tag.startswith("promote:"):
        value = tag.split(":", 1)[1]
        if value in ROLES:
            return RoleTag(value, source=source)
        if match := _STEP.match(value):
            return RoleTag("step", step=match.group("name").replace("-", "_"), source=source)
        return None
    if match := _STEP.match(tag):
        return RoleTag("step", step=match.group("name").replace("-", "_"), source="kale" if source == "tag" else source)
    return None


def is_foreign_promote_tag(tag: str) -> bool:
    """``promote:xyz`` with an unknown role: worth a warning, since it is surely a typo."""
    return tag.startswith(("promote:", "step:", "block:")) and parse_tag(tag) is None


def directive(source: str) -> str | None:
    """The value of a ``# promote: ROLE`` directive on the cell's first line."""
    first = source.lstrip("\n").split("\n", 1)[0]
    match = _DIRECTIVE.match(first)
    if not match:
        return None
    value = match.group("value")
    return value if value in _ALIASES or _STEP.match(value) else f"promote:{value}"


def role_tags(tags: list[str], source: str) -> tuple[list[RoleTag], list[str]]:
    """(the role tags found, unknown ``promote:`` tags) for one cell."""
    found, unknown = [], []
    cell_directive = directive(source)
    if cell_directive:
        parsed = parse_tag(cell_directive, source="directive")
        if parsed:
            found.append(parsed)
        else:
            unknown.append(cell_directive)
    for tag in tags:
        if tag.startswith("prev:"):
            continue  # Kale's explicit dependencies; we compute dependencies ourselves
        parsed = parse_tag(tag)
        if parsed:
            found.append(parsed)
        elif is_foreign_promote_tag(tag):
            unknown.append(tag)
    return found, unknown


def tag_for(role: str, step: str | None = None) -> str:
    if role == "parameters":
        return "parameters"
    if role == "step":
        return f"step:{step}"
    return f"promote:{role}"

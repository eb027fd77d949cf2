"""The tag vocabulary, and which role each cell plays in the promoted pipeline.

A role comes from a cell tag (``promote:model``), from a directive comment on
the cell's first line (``# promote: model``, for editors that hide tags), or
from Kale's tags so that Kale notebooks promote without retagging. In a Kale
notebook an untagged cell also joins the step above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..read.notebook import Notebook
from .cellplan import CellPlan
from .diagnostics import Diagnostic, diagnostic

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


# ``promote`` in any case, alone or before a separator: what a tag meant as ours starts with (not ``promoted``).
_PROMOTE_PREFIX = re.compile(r"\s*promote(?=$|[\s:_-])", re.IGNORECASE)
_SEPARATOR = re.compile(r"^promote[\s_-]*[:_\s-]?\s*")
_KNOWN_TAGS = [*_ALIASES, *(f"promote:{role}" for role in ROLES)]


def is_foreign_promote_tag(tag: str) -> bool:
    """A tag no role is read from that is surely meant as one of ours, so worth a warning: ``promote:xyz`` with an
    unknown role or a bad step name, or one of our tags in another case or with another separator
    (``Promote-Train``, ``Parameters``)."""
    if parse_tag(tag) is not None:
        return False
    lowered = tag.strip().lower()
    return bool(_PROMOTE_PREFIX.match(lowered)) or lowered.startswith(("step:", "block:")) or lowered in _ALIASES


def meant_tag(tag: str) -> str | None:
    """The tag ``tag`` (a foreign one) surely stands for: the same in lower case with ``:`` after ``promote``, or
    the closest known tag to that (``promote:dta``); None when none is close."""
    spelled = _SEPARATOR.sub("promote:", tag.strip().lower())
    if parse_tag(spelled) is not None:
        return spelled
    import difflib  # only for a misspelled tag

    close = difflib.get_close_matches(spelled, _KNOWN_TAGS, n=1, cutoff=0.8)
    return close[0] if close else None


def _unknown_tag_message(tag: str) -> str:
    meant = meant_tag(tag)
    if meant:
        return f"unknown tag '{tag}'; did you mean '{meant}'?"
    return (
        f"unknown tag '{tag}'; known roles: {', '.join(ROLES)}, step:NAME"
        " (NAME: a letter or _, then letters, digits, _ or -)"
    )


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


def assign_roles(notebook: Notebook) -> list[CellPlan]:
    """A plan for every code cell with the role its tags give it (PRM015, PRM016 on unknown or conflicting tags)."""
    plans = []
    for cell in notebook.code_cells():
        plan = CellPlan(cell=cell)
        found, unknown = role_tags(cell.tags, cell.source)
        for tag in unknown:
            plan.diagnostics.append(diagnostic(notebook, cell, "warning", "PRM015", _unknown_tag_message(tag)))
        if found:
            _take_first_role(notebook, plan, found)
        plans.append(plan)
    _apply_kale_rule(plans)
    return plans


def unread_role_tags(notebook: Notebook) -> list[Diagnostic]:
    """PRM015 on each role tag of a markdown or raw cell: roles are read on code cells only, so such a tag (on the
    heading of a section, say) would change nothing without a word."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            continue
        for tag in cell.tags:
            if parse_tag(tag) is not None or is_foreign_promote_tag(tag):
                message = (
                    f"the tag '{tag}' on a {cell.cell_type} cell does nothing: roles are read on code cells;"
                    " tag the code cells it is meant for"
                )
                found.append(diagnostic(notebook, cell, "warning", "PRM015", message))
    return found


def _take_first_role(notebook: Notebook, plan: CellPlan, found: list[RoleTag]) -> None:
    """The cell's first role tag wins; a warning names the others when they disagree."""
    chosen = found[0]
    if len({(t.role, t.step) for t in found}) > 1:
        names = ", ".join(tag_for(t.role, t.step) for t in found)
        plan.diagnostics.append(
            diagnostic(
                notebook,
                plan.cell,
                "warning",
                "PRM016",
                f"several roles ({names}); using {tag_for(chosen.role, chosen.step)}",
            )
        )
    plan.role, plan.role_source = chosen.role, chosen.source
    plan.step = chosen.step if chosen.role == "step" else chosen.role


def _apply_kale_rule(plans: list[CellPlan]) -> None:
    """In a notebook tagged with Kale steps, an untagged cell joins the step above it."""
    if not any(p.role == "step" and p.role_source == "kale" for p in plans):
        return
    current: CellPlan | None = None
    for plan in plans:
        if plan.role is None and current is not None:
            plan.role, plan.step, plan.role_source = current.role, current.step, "kale"
        elif plan.role in ("step", "skip") or plan.role in ROLES:
            current = plan if plan.role == "step" else None

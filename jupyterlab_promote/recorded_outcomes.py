"""What the last promotion of a generation key showed, kept so that promoting an unchanged notebook stops early.

A promotion that reached the user's branch records, under its generation key (codegen/fingerprint.py), what its
result shows of the plan: the package, the diagnostics, the stages and the search space. Promoting again with the
same key (same cells, options and tool code) would analyse the notebook only to show those again: with the record,
and git confirming that the promotion of that key is merged (api), the result is answered from the record instead.
The record decides nothing about the repository; without it (another machine, a cleared cache, caching off with
``JUPYTERLAB_PROMOTE_CACHE_DIR=""``) the notebook is analysed as before. Records live beside the format cache.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .analysis.diagnostics import Diagnostic, Severity
from .codegen.format_cache import cache_dir

_SHOWN = ("package", "diagnostics", "stages", "search_space")


@dataclass
class RecordedPlan:
    """What a PromoteResult shows of its plan, as the promotion that merged this generation key showed it."""

    package: str
    all_diagnostics: list[Diagnostic]
    summary: dict = field(default_factory=dict)  # mlops_summary's stages and search space
    ok: bool = True  # only a promotion that reached the user's branch is recorded


def _record_path(key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder.parent / "outcomes" / f"{key}.json"


def remember_outcome(key: str, reply: dict) -> None:
    """Keep what ``reply`` (PromoteResult.to_json of a merged promotion) shows of its plan; best effort."""
    path = _record_path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        partial.write_text(json.dumps({name: reply[name] for name in _SHOWN}), encoding="utf-8")
        os.replace(partial, path)
    except (OSError, KeyError, TypeError, ValueError):
        return  # a promotion never fails for its record


def recorded_plan(key: str) -> RecordedPlan | None:
    """The record of ``key``, or None (none kept, or not readable as one)."""
    path = _record_path(key)
    if path is None or not path.is_file():
        return None
    try:
        shown = json.loads(path.read_text(encoding="utf-8"))
        diagnostics = [_diagnostic(item) for item in shown["diagnostics"]]
        summary = {"stages": list(shown["stages"]), "search_space": dict(shown["search_space"])}
        return RecordedPlan(str(shown["package"]), diagnostics, summary)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _diagnostic(item: dict) -> Diagnostic:
    fields = {name: item[name] for name in Diagnostic.__dataclass_fields__ if name in item}
    fields["severity"] = Severity(item["severity"])
    return Diagnostic(**fields)

"""Where a promotion goes and what it would change there: the default output dir, the promote branch,
the refusal of a default output inside another project's repository, and the diff a preview shows."""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputNeededError, PromoteError


@dataclass
class FileChange:
    path: str
    status: str  # added | modified | unchanged | deleted
    diff: str = ""

    def to_json(self) -> dict:
        return {"path": self.path, "status": self.status, "diff": self.diff}


def branch_for(notebook: Path) -> str:
    """``promote/<notebook-stem>`` with only characters git accepts in a ref."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", notebook.stem).strip(".-") or "notebook"
    return f"promote/{stem}"


def default_output(notebook: Path) -> Path:
    return notebook.parent / f"{notebook.stem}_project"


def _enclosing_repository(path: Path) -> Path | None:
    """The top of the git work tree that holds ``path`` (or would, once created), if any."""
    existing = next((p for p in [path, *path.parents] if p.is_dir()), None)
    if existing is None:
        return None
    found = subprocess.run(
        ["git", "-C", str(existing), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    return Path(found.stdout.strip()).resolve() if found.returncode == 0 else None


def refuse_unmakeable_output(output: Path) -> None:
    """Refuse, before anything is written, an output that is a file or lies under one (the write would stop at
    its first file with the system's own words, "File exists"), or one in a ``.git`` folder."""
    if output.exists() and not output.is_dir():
        raise PromoteError(
            f"the output {output} is a file; give --output a folder (a new one, or a project promoted before)"
        )
    existing = next((p for p in output.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise PromoteError(f"the output {output} cannot be made: {existing} is a file, not a folder")
    # git's own folder: files there are no project (git cannot commit them), and they would sit among its objects
    if any(part.lower() == ".git" for part in output.absolute().parts):
        raise PromoteError(
            f"the output {output} lies inside a .git folder, where git keeps its own data; give --output a folder "
            "outside it"
        )


def refuse_foreign_default_output(notebook: str | Path, output: str | Path) -> None:
    """Refuse a *default* output inside a repository that is not the notebook's project.

    Promotion commits into the repository that holds its output. Without ``--output`` that must not be
    jupyterlab-promote's own source tree, nor a repository that does not track the notebook.
    """
    given, notebook, output = Path(notebook), Path(notebook).resolve(), Path(output).resolve()
    if not notebook.is_file():  # reading it says what is wrong
        return
    top = _enclosing_repository(output)
    if top is None or top == output:  # no repository yet, or the project's own from an earlier promotion
        return
    advice = f"give the project a place of its own, e.g. `jupyter promote {given} --output ../{output.name}`"
    if top == Path(__file__).resolve().parents[1] and (top / "jupyterlab_promote" / "api.py").is_file():
        raise OutputNeededError(
            f"the default output {output} lies inside jupyterlab-promote's own source tree ({top}); {advice}"
        )
    tracked = subprocess.run(
        ["git", "-C", str(top), "ls-files", "--error-unmatch", "--", str(notebook)], capture_output=True, check=False
    )
    if tracked.returncode != 0:
        raise OutputNeededError(
            f"the default output {output} lies inside the git repository {top}, which does not track "
            f"{notebook.name}, so it may not be the notebook's project; {advice}"
        )


def changes(output: Path, files: dict[str, str], previous: list[str]) -> list[FileChange]:
    """Diffs against the target as it is now; ``previous`` (the last promotion's files) reveals deletions."""
    changes = []
    for path, text in files.items():
        target = output / path
        old = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
        if old == text:
            changes.append(FileChange(path, "unchanged"))
            continue
        diff = "".join(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}",
            )
        )
        changes.append(FileChange(path, "modified" if old is not None else "added", diff))
    for path in sorted(set(previous) - set(files)):
        target = output / path
        if target.is_file():
            old = target.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
            diff = "".join(difflib.unified_diff(old, [], fromfile=f"a/{path}", tofile="/dev/null"))
            changes.append(FileChange(path, "deleted", diff))
    return changes

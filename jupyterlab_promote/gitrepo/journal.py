"""The undo journal that makes a promotion atomic.

Before the commit-and-merge flow of merge.py changes a ref, a git-dir state file or a file in the
working tree, it records the old value here; any failure then puts everything back exactly as it was,
including the output dir and the repository when the promotion created them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GitError, PromoteError
from .commands import git, git_paths, rev_parse

# git-dir files a merge may create or rewrite; rollback restores them byte for byte.
_STATE_FILES = ("index", "ORIG_HEAD", "MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE")


@dataclass
class Journal:
    """What commit_generated changed so far, so that a failure can put it all back."""

    created_dir: Path | None  # topmost directory created for the output dir
    root: Path | None = None
    created_repo: bool = False
    refs: dict[str, str | None] = field(default_factory=dict)  # None: did not exist
    git_files: dict[Path, bytes | None] = field(default_factory=dict)
    work_files: dict[Path, tuple[bytes, int] | None] = field(default_factory=dict)
    new_dirs: set[Path] = field(default_factory=set)

    @classmethod
    def for_output(cls, output_dir: Path) -> Journal:
        """A journal that will remove ``output_dir`` and the parents it needs, when they do not exist yet."""
        missing = output_dir
        while not missing.parent.exists():
            missing = missing.parent
        return cls(created_dir=None if output_dir.exists() else missing)

    def record_repo(self, root: Path, refs: Iterable[str]) -> None:
        self.root = root
        self.refs = {ref: rev_parse(root, ref) for ref in refs}
        for path in git_paths(root, *_STATE_FILES):
            self.git_files[path] = path.read_bytes() if path.is_file() else None

    def record_new_repo(self, root: Path, refs: Iterable[str]) -> None:
        """A repository this promotion made: none of ``refs`` exists, and rollback removes its git dir whole."""
        self.root = root
        self.refs = dict.fromkeys(refs)

    def record_work_files(self, root: Path, paths: Iterable[str]) -> None:
        for path in (root / rel for rel in paths):
            self.work_files[path] = (path.read_bytes(), path.stat().st_mode) if path.is_file() else None
            self.new_dirs |= {d for d in path.parents if root in d.parents and not d.exists()}

    def undo_after(self, exc: BaseException, output_dir: Path) -> GitError | None:
        """Roll back after ``exc``; the error to raise instead, or None to let ``exc`` itself through."""
        if problems := self.rollback():
            where = f"check `git status` in {self.root}" if self.root else f"check {output_dir}"
            return GitError(f"{_describe(exc)}\nUndoing it also failed; {where}.", details=problems)
        if isinstance(exc, (PromoteError, OSError)):
            details = exc.details if isinstance(exc, PromoteError) else []
            return GitError(f"{_describe(exc)}\nThe promotion was undone; nothing changed.", details=details)
        return None

    def rollback(self) -> list[str]:
        """Restore everything recorded; returns what could not be restored."""
        problems = []
        for step in (self._work_files, self._refs, self._git_files, self._created):
            try:
                step()
            except (PromoteError, OSError) as exc:
                problems.append(str(exc))
        return problems

    def _work_files(self) -> None:
        for path, before in self.work_files.items():
            if path.is_file() or path.is_symlink():
                path.unlink()
            if before is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(before[0])
                path.chmod(before[1])

    def _refs(self) -> None:
        for ref, before in self.refs.items():
            if self.root is not None and rev_parse(self.root, ref) != before:
                args = [ref, before] if before else ["-d", ref]
                git(self.root, "update-ref", "-m", "promote: undo", "--no-deref", *args)

    def _git_files(self) -> None:
        for path, before in self.git_files.items():
            if before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(before)

    def _created(self) -> None:
        for path in sorted(self.new_dirs, key=lambda d: len(d.parts), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        if self.created_repo and self.root is not None:
            shutil.rmtree(self.root / ".git")
        if self.created_dir is not None and self.created_dir.exists():
            shutil.rmtree(self.created_dir)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PromoteError):
        return exc.message
    if isinstance(exc, OSError):
        return f"Could not write {exc.filename or 'the output'}: {exc.strerror or exc}"
    return str(exc)

"""Running the ``git`` CLI for merge.py and journal.py (argument lists, no shell, no prompts), and
where the output dir sits in a repository.

:func:`run_git` is the one place every git command goes through, so it is the one place tests patch
to inject failures; call it as ``gitcmd.run_git`` so a patch reaches the caller too.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GitError, RefusedError

# Inherited variables that would point git at another repository or index.
_SCRUBBED_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
_FIXED_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_LITERAL_PATHSPECS": "1"}
# git writes paths and file contents as UTF-8 whatever the locale; odd bytes must not crash us.
_DECODING = {"encoding": "utf-8", "errors": "surrogateescape"}


def run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one git command.

    ``LC_ALL=C`` keeps messages parseable, ``GIT_TERMINAL_PROMPT=0`` makes git
    fail rather than wait for a password, and literal pathspecs stop an output
    dir named ``*`` from matching everything.
    """
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    full_env.update({**_FIXED_ENV, **(env or {})})
    command = ["git", *args]
    try:
        proc = subprocess.run(
            command, cwd=cwd, input=input, env=full_env, check=False, capture_output=True, text=True, **_DECODING
        )
    except OSError as exc:
        raise GitError(f"Could not run git in {cwd} ({exc}); is it on PATH?") from exc
    _count_for_fault_injection()
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        message = f"`{' '.join(command)}` failed in {cwd}: {detail}"
        raise GitError(message, details=detail.splitlines())
    return proc


_git_calls = 0


def _count_for_fault_injection() -> None:
    """Tests set ``JUPYTERLAB_PROMOTE_KILL_AFTER_GIT=N`` to die like a SIGKILL right after the Nth git call."""
    global _git_calls
    limit = os.environ.get("JUPYTERLAB_PROMOTE_KILL_AFTER_GIT")
    if limit:
        _git_calls += 1
        if _git_calls >= int(limit):
            os._exit(137)


def git(cwd: Path, *args: str, **kwargs: Any) -> str:
    """Stripped stdout of a git command that must succeed."""
    return run_git(args, cwd, **kwargs).stdout.strip()


def git_z(cwd: Path, *args: str, **kwargs: Any) -> list[str]:
    """Entries of a git command's NUL-separated (``-z``) output."""
    return [item for item in run_git(args, cwd, **kwargs).stdout.split("\0") if item]


def try_git(cwd: Path, *args: str) -> str | None:
    """Stdout of a git command whose failure is an answer (None), not an error."""
    proc = run_git(args, cwd, check=False)
    return proc.stdout if proc.returncode == 0 else None


def rev_parse(root: Path, rev: str) -> str | None:
    """The commit ``rev`` names, or None when it names nothing."""
    return (try_git(root, "rev-parse", "-q", "--verify", rev) or "").strip() or None


def git_paths(root: Path, *names: str) -> list[Path]:
    """Absolute paths of git-dir entries (linked worktrees keep them elsewhere)."""
    args = [arg for name in names for arg in ("--git-path", name)]
    return [root / line for line in git(root, "rev-parse", *args).splitlines()]


@dataclass(frozen=True)
class Location:
    """Where the output dir sits: ``root`` is None outside any repository."""

    root: Path | None
    prefix: str  # output dir relative to root, posix, "" for the root itself
    probe: Path  # nearest existing directory: where git runs before anything exists


def under(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def strip_prefix(prefix: str, path: str) -> str:
    return path.removeprefix(prefix + "/") if prefix else path


def pathspec(prefix: str) -> list[str]:
    return [prefix] if prefix else []  # git rejects "" as a pathspec; none means all


def locate(output_dir: Path) -> Location:
    probe = output_dir
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise RefusedError(f"{probe} is a file; choose another output directory.")
    proc = run_git(["rev-parse", "--show-toplevel"], probe, check=False)
    if proc.returncode != 0:
        if "not a git repository" in proc.stderr:
            return Location(None, "", probe)
        raise GitError(f"git cannot use {probe}: {proc.stderr.strip()}")
    root = Path(proc.stdout.strip())
    rel = output_dir.resolve().relative_to(root.resolve()).as_posix()
    return Location(root, "" if rel == "." else rel, probe)


def status(root: Path, paths: Sequence[str]) -> list[tuple[str, str]]:
    """``(XY, path)`` pairs; ``--no-optional-locks``: checking never rewrites the index."""
    args = ["--no-optional-locks", "status", "--porcelain=v1", "-z", "-uall", "--"]
    entries, result = iter(git_z(root, *args, *paths)), []
    for entry in entries:
        result.append((entry[:2], entry[3:]))
        if entry[0] in "RC":
            next(entries, None)  # a rename's source path follows as its own entry
    return result


def atomic_write(target: Path, text: str, mode: str) -> None:
    """Write a sibling temp file, then ``os.replace`` it: no reader sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    # os.open applies the umask, so files get the user's usual permissions.
    perms = 0o777 if mode == "100755" else 0o666
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, perms), "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit_one_file(output: Path, name: str, text: str, message: str | None) -> bool:
    """Write ``output/name`` and commit that one path on the current branch (``message`` None: only write it).

    False, writing nothing, when the file is tracked and has uncommitted changes: a hand edit is never lost.
    """
    target = output / name
    location = locate(output)
    if location.root is None or message is None:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            atomic_write(target, text, "100644")
        return True
    path = f"{location.prefix}/{name}" if location.prefix else name
    if status(location.root, [path]) and target.is_file():
        if try_git(location.root, "ls-files", "--error-unmatch", "--", path) is not None:
            return False
    atomic_write(target, text, "100644")
    if status(location.root, [path]):
        git(location.root, "add", "--", path)
        git(location.root, "commit", "-q", "-m", message, "--", path)
    return True

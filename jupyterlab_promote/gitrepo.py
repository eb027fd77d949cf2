"""Commit generated files on a promote branch and merge it into the user's branch.

The promote branch (``promote/<name>``) holds only pristine generated files, so
merging it into the user's branch lets git's three-way merge keep hand edits
across promotions. The pristine commit is built with plumbing and a throwaway
index, so only the final merge touches the user's index and working tree. Any
failure after :func:`preflight` puts refs, index, git-dir state files and the
written files back exactly as they were.

Only the ``git`` CLI is used: argument lists, no shell, no prompts.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import GitError, PromoteError, RefusedError

# git-dir entries that mean an operation is half done, and the git verb for it.
_IN_PROGRESS = {
    "MERGE_HEAD": "merge",
    "rebase-merge": "rebase",
    "rebase-apply": "rebase",
    "CHERRY_PICK_HEAD": "cherry-pick",
    "REVERT_HEAD": "revert",
}
# git-dir files a merge may create or rewrite; rollback restores them byte for byte.
_STATE_FILES = ("index", "ORIG_HEAD", "MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE")
# Inherited variables that would point git at another repository or index.
_SCRUBBED_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
_FIXED_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_LITERAL_PATHSPECS": "1"}
# git writes paths and file contents as UTF-8 whatever the locale; odd bytes must not crash us.
_DECODING = {"encoding": "utf-8", "errors": "surrogateescape"}
_IDENTITY_HELP = (
    "Git does not know who you are, so it cannot commit the generated package. Run\n"
    '  git config --global user.name "Your Name"\n'
    "  git config --global user.email you@example.com\n"
    "and promote again."
)


@dataclass
class CommitOutcome:
    """What :func:`commit_generated` did; paths are relative to the output dir."""

    repo_root: Path
    prefix: str
    created_repo: bool
    branch: str
    commit: str | None
    merge_commit: str | None
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    no_change: bool = False
    recovered: bool = False  # merged an earlier promotion that had been committed but not merged

    def to_json(self) -> dict:
        return {**asdict(self), "repo_root": str(self.repo_root)}


@dataclass(frozen=True)
class _Location:
    """Where the output dir sits: ``root`` is None outside any repository."""

    root: Path | None
    prefix: str  # output dir relative to root, posix, "" for the root itself
    probe: Path  # nearest existing directory: where git runs before anything exists


def _run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one git command; the single place tests patch to inject failures.

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


def _git(cwd: Path, *args: str, **kwargs: Any) -> str:
    """Stripped stdout of a git command that must succeed."""
    return _run_git(args, cwd, **kwargs).stdout.strip()


def _git_z(cwd: Path, *args: str, **kwargs: Any) -> list[str]:
    """Entries of a git command's NUL-separated (``-z``) output."""
    return [item for item in _run_git(args, cwd, **kwargs).stdout.split("\0") if item]


def _try(cwd: Path, *args: str) -> str | None:
    """Stdout of a git command whose failure is an answer (None), not an error."""
    proc = _run_git(args, cwd, check=False)
    return proc.stdout if proc.returncode == 0 else None


def _rev(root: Path, rev: str) -> str | None:
    return (_try(root, "rev-parse", "-q", "--verify", rev) or "").strip() or None


def _git_paths(root: Path, *names: str) -> list[Path]:
    """Absolute paths of git-dir entries (linked worktrees keep them elsewhere)."""
    args = [arg for name in names for arg in ("--git-path", name)]
    return [root / line for line in _git(root, "rev-parse", *args).splitlines()]


def _under(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


def _strip(prefix: str, path: str) -> str:
    return path.removeprefix(prefix + "/") if prefix else path


def _pathspec(prefix: str) -> list[str]:
    return [prefix] if prefix else []  # git rejects "" as a pathspec; none means all


def _mode(path: str, content: str) -> str:
    return "100755" if path.endswith(".sh") or content.startswith("#!") else "100644"


def _check_paths(paths: Iterable[str]) -> list[str]:
    """Refuse generated paths that could escape the output dir or reach into .git."""
    checked = []
    for path in paths:
        parts = PurePosixPath(path).parts
        if not parts or path[0] == "/" or "\\" in path or {"..", ".git"} & set(parts):
            raise RefusedError(f"Refusing to write {path!r} outside the output dir.")
        checked.append(PurePosixPath(path).as_posix())
    return checked


def _normalize(files: Mapping[str, str]) -> dict[str, str]:
    """Checked paths; ``\\n`` newlines so every platform commits the same blobs."""
    paths = _check_paths(files)
    return {path: text.replace("\r\n", "\n") for path, text in zip(paths, files.values())}


def _locate(output_dir: Path) -> _Location:
    probe = output_dir
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise RefusedError(f"{probe} is a file; choose another output directory.")
    proc = _run_git(["rev-parse", "--show-toplevel"], probe, check=False)
    if proc.returncode != 0:
        if "not a git repository" in proc.stderr:
            return _Location(None, "", probe)
        raise GitError(f"git cannot use {probe}: {proc.stderr.strip()}")
    root = Path(proc.stdout.strip())
    rel = output_dir.resolve().relative_to(root.resolve()).as_posix()
    return _Location(root, "" if rel == "." else rel, probe)


def _status(root: Path, pathspec: Sequence[str]) -> list[tuple[str, str]]:
    """``(XY, path)`` pairs; ``--no-optional-locks``: checking never rewrites the index."""
    args = ["--no-optional-locks", "status", "--porcelain=v1", "-z", "-uall", "--"]
    entries, result = iter(_git_z(root, *args, *pathspec)), []
    for entry in entries:
        result.append((entry[:2], entry[3:]))
        if entry[0] in "RC":
            next(entries, None)  # a rename's source path follows as its own entry
    return result


def _refuse(intro: str, listed: list[str], advice: str) -> RefusedError:
    return RefusedError(f"{intro}:\n  " + "\n  ".join(listed) + f"\n{advice}", details=listed)


def _check_identity(cwd: Path) -> None:
    failures = []
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        proc = _run_git(["var", var], cwd, check=False)
        if proc.returncode != 0:
            failures.append(f"{var}: {(proc.stderr.strip().splitlines() or ['unset'])[-1]}")
    if failures:
        raise RefusedError(_IDENTITY_HELP, details=failures)


def _check_repo(root: Path, prefix: str, targets: Sequence[str]) -> None:
    """Refuse when a half-done operation, uncommitted work or staged changes are in the way."""
    (lock,) = _git_paths(root, "index.lock")
    if lock.exists():
        raise RefusedError(
            f"{lock} exists: another git process is running in {root}, or one crashed."
            " Wait for it to finish, or remove .git/index.lock if no git process is running, then promote again."
        )
    for path, verb in zip(_git_paths(root, *_IN_PROGRESS), _IN_PROGRESS.values()):
        if path.exists():
            raise RefusedError(
                f"{root} is in the middle of a {verb}. Finish it or run `git {verb} --abort`, then promote again."
            )
    problems: dict[str, str] = {}
    for code, path in _status(root, _pathspec(prefix)):
        if code != "??":
            problems[path] = "uncommitted changes"
        elif any(path == t or t.startswith(f"{path}/") or path.startswith(f"{t}/") for t in targets):
            problems[path] = "untracked; the promotion would overwrite it"
    # git merge refuses to start while anything is staged, anywhere in the repository.
    for path in _git_z(root, "diff", "--cached", "--name-only", "-z"):
        problems.setdefault(path, "staged; git merge needs a clean index")
    if problems:
        raise _refuse(
            f"Promotion would touch files with uncommitted work in {root}",
            [f"{path} ({reason})" for path, reason in problems.items()],
            "Commit them, stash them (git stash -u) or move them away, then promote again.",
        )


def preflight(output_dir: Path, paths: Iterable[str]) -> None:
    """Raise :class:`RefusedError`, changing nothing, when promoting is not safe.

    Refused: no git identity; a merge, rebase, cherry-pick or revert in
    progress; uncommitted changes to anything tracked under the output dir;
    an untracked file where a generated file goes; anything staged (the merge
    needs a clean index).
    """
    output_dir, paths = Path(output_dir).absolute(), _check_paths(paths)
    loc = _locate(output_dir)
    _check_identity(loc.root or loc.probe)
    if loc.root is not None:
        _check_repo(loc.root, loc.prefix, [_under(loc.prefix, path) for path in paths])
        return
    blocked = [path for path in paths if os.path.lexists(output_dir / path)]
    if blocked:
        raise _refuse(
            f"These files already exist in {output_dir} and would be overwritten",
            blocked,
            "Move or delete them (they will be regenerated), then promote again.",
        )


@dataclass
class _Undo:
    """What commit_generated changed so far, so that a failure can put it all back."""

    created_dir: Path | None  # topmost directory created for the output dir
    root: Path | None = None
    created_repo: bool = False
    refs: dict[str, str | None] = field(default_factory=dict)  # None: did not exist
    git_files: dict[Path, bytes | None] = field(default_factory=dict)
    work_files: dict[Path, tuple[bytes, int] | None] = field(default_factory=dict)
    new_dirs: set[Path] = field(default_factory=set)

    def record_repo(self, root: Path, refs: Iterable[str]) -> None:
        self.root = root
        self.refs = {ref: _rev(root, ref) for ref in refs}
        for path in _git_paths(root, *_STATE_FILES):
            self.git_files[path] = path.read_bytes() if path.is_file() else None

    def record_work_files(self, root: Path, paths: Iterable[str]) -> None:
        for path in (root / rel for rel in paths):
            self.work_files[path] = (path.read_bytes(), path.stat().st_mode) if path.is_file() else None
            self.new_dirs |= {d for d in path.parents if root in d.parents and not d.exists()}

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
            if self.root is not None and _rev(self.root, ref) != before:
                args = [ref, before] if before else ["-d", ref]
                _git(self.root, "update-ref", "-m", "promote: undo", "--no-deref", *args)

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


def _write_tree(root: Path, prefix: str, files: Mapping[str, str], tip: str | None) -> str:
    """The previous promote tree with ``prefix`` replaced by ``files``, in a throwaway index."""
    with tempfile.TemporaryDirectory(prefix="promote-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        wanted = {_under(prefix, path): text for path, text in files.items()}
        lines = []
        if tip:
            _git(root, "read-tree", tip, env=env)
            old = _git_z(root, "ls-files", "-z", "--", *_pathspec(prefix), env=env)
            null = "0" * len(tip)  # mode 0 removes the entry
            lines += [f"0 {null}\t{path}" for path in old if path not in wanted]
        for path, text in wanted.items():
            sha = _git(root, "hash-object", "-w", "--stdin", input=text)
            lines.append(f"{_mode(path, text)} {sha}\t{path}")
        _git(root, "update-index", "-z", "--index-info", env=env, input="".join(f"{line}\0" for line in lines))
        return _git(root, "write-tree", env=env)


def _paths_merge_may_write(root: Path, head: str | None, new: str) -> list[str]:
    """Paths changed since the merge base: all that merging ``new`` can write."""
    base = head and (_try(root, "merge-base", head, new) or "").strip()
    if not base:
        return _git_z(root, "ls-tree", "-r", "-z", "--name-only", new)
    return _git_z(root, "diff-tree", "-r", "-z", "--no-renames", "--name-only", base, new)


def _merge(root: Path, prefix: str, branch: str, message: str) -> tuple[str | None, list[str]]:
    """Merge the promote branch; a conflict is left to the user like any git merge conflict.

    ``--allow-unrelated-histories`` is needed the first time (the promote branch
    starts with no history in common with the user's) and harmless afterwards.
    """
    args = ["merge", "--no-ff", "--no-edit", "--allow-unrelated-histories"]
    proc = _run_git([*args, "-m", message, branch], root, check=False)
    if proc.returncode == 0:
        return _rev(root, "HEAD"), []
    conflicts = _git_z(root, "diff", "--name-only", "-z", "--diff-filter=U")
    if not conflicts or not _git_paths(root, "MERGE_HEAD")[0].exists():
        detail = (proc.stderr or proc.stdout).strip()
        raise GitError(f"Merging {branch} failed: {detail}", details=detail.splitlines())
    return None, [_strip(prefix, path) for path in conflicts]


def commit_generated(output_dir: Path, files: Mapping[str, str], *, branch: str, message: str) -> CommitOutcome:
    """Commit ``files`` (relative to ``output_dir``) on ``branch``, then merge it.

    Creates ``output_dir`` and a repository when needed. Any failure after
    preflight leaves the repository, the files and ``output_dir`` as they were.
    """
    output_dir = Path(output_dir).absolute()
    files = _normalize(files)
    preflight(output_dir, files)
    loc = _locate(output_dir)
    if _try(loc.probe, "check-ref-format", f"refs/heads/{branch}") is None:
        raise RefusedError(f"{branch!r} is not a valid git branch name.")
    if loc.root and _head_ref(loc.root) == f"refs/heads/{branch}":
        raise RefusedError(
            f"The promote branch {branch} is checked out. Switch back (git switch main), then promote again."
        )
    if loc.root:
        _check_collisions(loc.root, loc.prefix, files, f"refs/heads/{branch}")
    missing = output_dir
    while not missing.parent.exists():
        missing = missing.parent
    undo = _Undo(created_dir=None if output_dir.exists() else missing)
    try:
        return _commit_and_merge(output_dir, loc, files, branch, message, undo)
    except BaseException as exc:
        if problems := undo.rollback():
            where = f"check `git status` in {undo.root}" if undo.root else f"check {output_dir}"
            note = f"{_describe(exc)}\nUndoing it also failed; {where}."
            raise GitError(note, details=problems) from exc
        if isinstance(exc, (PromoteError, OSError)):
            details = exc.details if isinstance(exc, PromoteError) else []
            raise GitError(f"{_describe(exc)}\nThe promotion was undone; nothing changed.", details=details) from exc
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PromoteError):
        return exc.message
    if isinstance(exc, OSError):
        return f"Could not write {exc.filename or 'the output'}: {exc.strerror or exc}"
    return str(exc)


def _blob_ids(root: Path, rev: str, paths: Sequence[str]) -> dict[str, str]:
    """path → blob id in ``rev`` for those of ``paths`` it holds ({} when ``rev`` does not exist)."""
    if not paths or _rev(root, rev) is None:
        return {}
    found = {}
    for entry in _git_z(root, "ls-tree", "-z", "--full-tree", rev, "--", *paths):
        meta, _, path = entry.partition("\t")
        found[path] = meta.split()[2]
    return found


def _check_collisions(root: Path, prefix: str, files: Mapping[str, str], branch_ref: str) -> None:
    """Refuse before merging when the user's branch already tracks a file the promotion adds for the first time.

    Such a file (a README.md when --output is the repository root) would end in an add/add conflict,
    leaving the repository mid-merge; a file an earlier promotion wrote merges normally.
    """
    paths = [_under(prefix, path) for path in files]
    tracked = _blob_ids(root, "HEAD", paths)
    generated_before = _blob_ids(root, branch_ref, paths)
    clashes = []
    for path, text in files.items():
        full = _under(prefix, path)
        data = text.encode("utf-8")
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if full in tracked and full not in generated_before and tracked[full] != blob:
            clashes.append(full)
    if clashes:
        raise _refuse(
            f"Your branch already tracks files the promotion would add for the first time in {root}",
            clashes,
            "Promote into another directory (--output), or move these files away and commit, then promote again.",
        )


def _head_ref(root: Path) -> str:
    """The branch HEAD points to, or "HEAD" when detached."""
    return (_try(root, "symbolic-ref", "-q", "HEAD") or "HEAD").strip()


def _commit_and_merge(
    output_dir: Path, loc: _Location, files: dict[str, str], branch: str, message: str, undo: _Undo
) -> CommitOutcome:
    output_dir.mkdir(parents=True, exist_ok=True)
    root, prefix = loc.root, loc.prefix
    if root is None:
        root = undo.root = output_dir.resolve()
        undo.created_repo = True
        _git(root, "init", "-q", "-b", "main")
    head_ref, branch_ref = _head_ref(root), f"refs/heads/{branch}"
    undo.record_repo(root, [head_ref, branch_ref])
    head, tip = undo.refs[head_ref], undo.refs[branch_ref]
    outcome = CommitOutcome(root, prefix, undo.created_repo, branch, tip, None)

    tree = _write_tree(root, prefix, files, tip)
    if tip and tree == _rev(root, f"{tip}^{{tree}}"):
        if head and _try(root, "merge-base", "--is-ancestor", tip, head) is not None:
            outcome.no_change = True  # "up to date" only when the user's branch holds the promotion
            return outcome
        # Committed on the promote branch but never merged (interrupted, or the merge was reset away).
        new, outcome.recovered = tip, True
        outcome.changed = sorted(files)
    else:
        parents = ["-p", tip] if tip else []
        outcome.commit = new = _git(root, "commit-tree", tree, *parents, "-m", message)
        _git(root, "update-ref", "-m", f"promote: {message}", branch_ref, new, tip or "")
        outcome.changed = sorted(files)
        if tip:
            diff = ["diff-tree", "-r", "-z", "--no-renames", "--name-only", tip, new, "--"]
            outcome.changed = [_strip(prefix, p) for p in _git_z(root, *diff, *_pathspec(prefix))]

    undo.record_work_files(root, _paths_merge_may_write(root, head, new))
    if head is None:
        # Unborn branch: nothing to merge into, so it starts at the promote commit. One git call moves
        # HEAD, index and files together, so a kill cannot leave HEAD ahead of the files.
        _git(root, "merge", "-q", "--ff-only", branch_ref)
        outcome.merge_commit = new
    else:
        outcome.merge_commit, outcome.conflicts = _merge(root, prefix, branch, message)
    return outcome


def read_from_branch(output_dir: Path, branch: str, relpath: str) -> str | None:
    """A generated file as last generated (before hand edits), or None.

    None when there is no repository, no such branch or no such file.
    """
    loc = _locate(Path(output_dir).absolute())
    if loc.root is None:
        return None
    return _try(loc.root, "cat-file", "blob", f"refs/heads/{branch}:{_under(loc.prefix, relpath)}")


def merged_promotion(output_dir: Path, branch: str, relpath: str) -> tuple[str, str] | None:
    """(tip, ``relpath`` as committed there) of the promote branch, when the user's branch holds that tip.

    None when there is no repository, branch or file, or when the last promotion never reached HEAD
    (interrupted, or reset away): then only a full promotion can say what is left to do.
    """
    loc = _locate(Path(output_dir).absolute())
    if loc.root is None or (tip := _rev(loc.root, f"refs/heads/{branch}")) is None:
        return None
    head = _rev(loc.root, "HEAD")
    if head is None or _try(loc.root, "merge-base", "--is-ancestor", tip, head) is None:
        return None
    text = _try(loc.root, "cat-file", "blob", f"{tip}:{_under(loc.prefix, relpath)}")
    return None if text is None else (tip, text)


def files_on_branch(output_dir: Path, branch: str) -> list[str]:
    """The generated files of the last promotion (relative to output_dir); [] when there is none."""
    loc = _locate(Path(output_dir).absolute())
    if loc.root is None or _rev(loc.root, f"refs/heads/{branch}") is None:
        return []
    listing = _try(loc.root, "ls-tree", "-r", "--name-only", "-z", f"refs/heads/{branch}", "--", *_pathspec(loc.prefix))
    return [_strip(loc.prefix, path) for path in (listing or "").split("\0") if path]


def _atomic_write(target: Path, text: str, mode: str) -> None:
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


def write_files(output_dir: Path, files: Mapping[str, str]) -> list[str]:
    """Write ``files`` into ``output_dir`` without git; returns the paths whose content changed.

    Refuses before writing anything when a differing file holds work git cannot
    give back (uncommitted changes, or untracked). Ignored files are disposable.
    """
    output_dir = Path(output_dir).absolute()
    changed = {}
    for path, text in _normalize(files).items():
        target = output_dir / path
        if not target.is_file() or target.read_bytes() != text.encode("utf-8"):
            changed[path] = text
    existing = [path for path in changed if (output_dir / path).exists()]
    loc = _locate(output_dir) if existing else None
    if loc is not None and loc.root is not None:
        dirty = [p for _, p in _status(loc.root, [_under(loc.prefix, p) for p in existing])]
        if dirty:
            raise _refuse(
                "These files have uncommitted changes or are untracked",
                dirty,
                "Commit them or stash them (git stash -u), then write again.",
            )
    for path, text in changed.items():
        try:
            _atomic_write(output_dir / path, text, _mode(path, text))
        except OSError as exc:
            raise PromoteError(f"Could not write {output_dir / path}: {exc}") from exc
    return list(changed)

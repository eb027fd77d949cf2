"""Commit generated files on a promote branch and merge it into the user's branch.

The promote branch (``promote/<name>``) holds only pristine generated files, so
merging it into the user's branch lets git's three-way merge keep hand edits
across promotions. The pristine commit is built with plumbing and a throwaway
index, so only the final merge touches the user's index and working tree. Any
failure after :func:`preflight` puts refs, index, git-dir state files and the
written files back exactly as they were (the journal of journal.py).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import GitError, PromoteError, RefusedError
from . import commands
from .commands import (
    Location,
    atomic_write,
    git,
    git_paths,
    git_z,
    locate,
    pathspec,
    rev_parse,
    status,
    strip_prefix,
    try_git,
    under,
)
from .journal import Journal

# git-dir entries that mean an operation is half done, and the git verb for it.
_IN_PROGRESS = {
    "MERGE_HEAD": "merge",
    "rebase-merge": "rebase",
    "rebase-apply": "rebase",
    "CHERRY_PICK_HEAD": "cherry-pick",
    "REVERT_HEAD": "revert",
}
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


def _refuse(intro: str, listed: list[str], advice: str) -> RefusedError:
    return RefusedError(f"{intro}:\n  " + "\n  ".join(listed) + f"\n{advice}", details=listed)


def _check_identity(cwd: Path) -> None:
    failures = []
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        proc = commands.run_git(["var", var], cwd, check=False)
        if proc.returncode != 0:
            failures.append(f"{var}: {(proc.stderr.strip().splitlines() or ['unset'])[-1]}")
    if failures:
        raise RefusedError(_IDENTITY_HELP, details=failures)


def _check_repo(root: Path, prefix: str, targets: Sequence[str]) -> None:
    """Refuse when a half-done operation, uncommitted work or staged changes are in the way."""
    (lock,) = git_paths(root, "index.lock")
    if lock.exists():
        raise RefusedError(
            f"{lock} exists: another git process is running in {root}, or one crashed."
            " Wait for it to finish, or remove .git/index.lock if no git process is running, then promote again."
        )
    for path, verb in zip(git_paths(root, *_IN_PROGRESS), _IN_PROGRESS.values()):
        if path.exists():
            raise RefusedError(
                f"{root} is in the middle of a {verb}. Finish it or run `git {verb} --abort`, then promote again."
            )
    problems: dict[str, str] = {}
    for code, path in status(root, pathspec(prefix)):
        if code != "??":
            problems[path] = "uncommitted changes"
        elif any(path == t or t.startswith(f"{path}/") or path.startswith(f"{t}/") for t in targets):
            problems[path] = "untracked; the promotion would overwrite it"
    # git merge refuses to start while anything is staged, anywhere in the repository.
    for path in git_z(root, "diff", "--cached", "--name-only", "-z"):
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
    output_dir = Path(output_dir).absolute()
    _preflight_at(locate(output_dir), output_dir, paths)


def _preflight_at(loc: Location, output_dir: Path, paths: Iterable[str]) -> None:
    paths = _check_paths(paths)
    _check_identity(loc.root or loc.probe)
    if loc.root is not None:
        _check_repo(loc.root, loc.prefix, [under(loc.prefix, path) for path in paths])
        return
    blocked = [path for path in paths if os.path.lexists(output_dir / path)]
    if blocked:
        raise _refuse(
            f"These files already exist in {output_dir} and would be overwritten",
            blocked,
            "Move or delete them (they will be regenerated), then promote again.",
        )


def _write_tree(root: Path, prefix: str, files: Mapping[str, str], tip: str | None) -> str:
    """The previous promote tree with ``prefix`` replaced by ``files``, in a throwaway index."""
    with tempfile.TemporaryDirectory(prefix="promote-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        wanted = {under(prefix, path): text for path, text in files.items()}
        lines = []
        if tip:
            git(root, "read-tree", tip, env=env)
            old = git_z(root, "ls-files", "-z", "--", *pathspec(prefix), env=env)
            null = "0" * len(tip)  # mode 0 removes the entry
            lines += [f"0 {null}\t{path}" for path in old if path not in wanted]
        shas = _write_blobs(root, Path(tmp), list(wanted.values()))
        lines += [f"{_mode(path, text)} {sha}\t{path}" for (path, text), sha in zip(wanted.items(), shas)]
        git(root, "update-index", "-z", "--index-info", env=env, input="".join(f"{line}\0" for line in lines))
        return git(root, "write-tree", env=env)


def _write_blobs(root: Path, scratch: Path, texts: list[str]) -> list[str]:
    """The blob of each text, written into the repository by one git process (not one per file), unfiltered as
    ``hash-object --stdin`` writes them."""
    paths = []
    for number, text in enumerate(texts):
        path = scratch / f"blob-{number}"
        path.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")
        paths.append(f"{path}\n")
    shas = git(root, "hash-object", "-w", "--no-filters", "--stdin-paths", input="".join(paths)).split()
    if len(shas) != len(texts):
        raise GitError(f"git hash-object wrote {len(shas)} blobs for {len(texts)} files")
    return shas


def _paths_merge_may_write(
    root: Path, head: str | None, new: str, first_files: Mapping[str, str] | None, prefix: str
) -> list[str]:
    """Paths changed since the merge base: all that merging ``new`` can write. ``first_files``: what the first
    promotion on the branch committed, None after that; that commit has no parent, so no merge base, and its tree
    holds exactly these."""
    if first_files is not None:
        return [under(prefix, path) for path in first_files]
    base = head and (try_git(root, "merge-base", head, new) or "").strip()
    if not base:
        return git_z(root, "ls-tree", "-r", "-z", "--name-only", new)
    return git_z(root, "diff-tree", "-r", "-z", "--no-renames", "--name-only", base, new)


def _merge(root: Path, prefix: str, branch: str, message: str) -> tuple[str | None, list[str]]:
    """Merge the promote branch; a conflict is left to the user like any git merge conflict.

    ``--allow-unrelated-histories`` is needed the first time (the promote branch
    starts with no history in common with the user's) and harmless afterwards.
    """
    args = ["merge", "--no-ff", "--no-edit", "--allow-unrelated-histories"]
    proc = commands.run_git([*args, "-m", message, branch], root, check=False)
    if proc.returncode == 0:
        return rev_parse(root, "HEAD"), []
    conflicts = git_z(root, "diff", "--name-only", "-z", "--diff-filter=U")
    if not conflicts or not git_paths(root, "MERGE_HEAD")[0].exists():
        detail = (proc.stderr or proc.stdout).strip()
        raise GitError(f"Merging {branch} failed: {detail}", details=detail.splitlines())
    return None, [strip_prefix(prefix, path) for path in conflicts]


def commit_generated(output_dir: Path, files: Mapping[str, str], *, branch: str, message: str) -> CommitOutcome:
    """Commit ``files`` (relative to ``output_dir``) on ``branch``, then merge it.

    Creates ``output_dir`` and a repository when needed. Any failure after
    preflight leaves the repository, the files and ``output_dir`` as they were.
    """
    output_dir = Path(output_dir).absolute()
    files = _normalize(files)
    loc = locate(output_dir)
    _preflight_at(loc, output_dir, files)
    if try_git(loc.probe, "check-ref-format", f"refs/heads/{branch}") is None:
        raise RefusedError(f"{branch!r} is not a valid git branch name.")
    if loc.root and _head_ref(loc.root) == f"refs/heads/{branch}":
        raise RefusedError(
            f"The promote branch {branch} is checked out. Switch back (git switch main), then promote again."
        )
    if loc.root:
        _check_collisions(loc.root, loc.prefix, files, f"refs/heads/{branch}")
    journal = Journal.for_output(output_dir)
    try:
        return _commit_and_merge(output_dir, loc, files, branch, message, journal)
    except BaseException as exc:
        if (error := journal.undo_after(exc, output_dir)) is None:
            raise
        raise error from exc


def _blob_ids(root: Path, rev: str, paths: Sequence[str]) -> dict[str, str]:
    """path → blob id in ``rev`` for those of ``paths`` it holds ({} when ``rev`` does not exist)."""
    if not paths or rev_parse(root, rev) is None:
        return {}
    found = {}
    for entry in git_z(root, "ls-tree", "-z", "--full-tree", rev, "--", *paths):
        meta, _, path = entry.partition("\t")
        found[path] = meta.split()[2]
    return found


def _check_collisions(root: Path, prefix: str, files: Mapping[str, str], branch_ref: str) -> None:
    """Refuse before merging when the user's branch already tracks a file the promotion adds for the first time.

    Such a file (a README.md when --output is the repository root) would end in an add/add conflict,
    leaving the repository mid-merge; a file an earlier promotion wrote merges normally.
    """
    paths = [under(prefix, path) for path in files]
    tracked = _blob_ids(root, "HEAD", paths)
    generated_before = _blob_ids(root, branch_ref, paths)
    clashes = []
    for path, text in files.items():
        full = under(prefix, path)
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
    return (try_git(root, "symbolic-ref", "-q", "HEAD") or "HEAD").strip()


def _commit_and_merge(
    output_dir: Path, loc: Location, files: dict[str, str], branch: str, message: str, journal: Journal
) -> CommitOutcome:
    output_dir.mkdir(parents=True, exist_ok=True)
    root, prefix = loc.root, loc.prefix
    branch_ref = f"refs/heads/{branch}"
    if root is None:
        root = journal.root = output_dir.resolve()
        journal.created_repo = True
        git(root, "init", "-q", "-b", "main")
        # A repository made this moment has no refs to ask git about, and undoing removes its .git whole.
        head_ref = "refs/heads/main"
        journal.record_new_repo(root, [head_ref, branch_ref])
    else:
        head_ref = _head_ref(root)
        journal.record_repo(root, [head_ref, branch_ref])
    head, tip = journal.refs[head_ref], journal.refs[branch_ref]
    outcome = CommitOutcome(root, prefix, journal.created_repo, branch, tip, None)

    tree = _write_tree(root, prefix, files, tip)
    if tip and tree == rev_parse(root, f"{tip}^{{tree}}"):
        if head and try_git(root, "merge-base", "--is-ancestor", tip, head) is not None:
            outcome.no_change = True  # "up to date" only when the user's branch holds the promotion
            return outcome
        # Committed on the promote branch but never merged (interrupted, or the merge was reset away).
        new, outcome.recovered = tip, True
        outcome.changed = sorted(files)
    else:
        parents = ["-p", tip] if tip else []
        outcome.commit = new = git(root, "commit-tree", tree, *parents, "-m", message)
        git(root, "update-ref", "-m", f"promote: {message}", branch_ref, new, tip or "")
        outcome.changed = sorted(files)
        if tip:
            diff = ["diff-tree", "-r", "-z", "--no-renames", "--name-only", tip, new, "--"]
            outcome.changed = [strip_prefix(prefix, p) for p in git_z(root, *diff, *pathspec(prefix))]

    journal.record_work_files(root, _paths_merge_may_write(root, head, new, None if tip else files, prefix))
    if head is None:
        # Unborn branch: nothing to merge into, so it starts at the promote commit. One git call moves
        # HEAD, index and files together, so a kill cannot leave HEAD ahead of the files.
        git(root, "merge", "-q", "--ff-only", branch_ref)
        outcome.merge_commit = new
    else:
        outcome.merge_commit, outcome.conflicts = _merge(root, prefix, branch, message)
    return outcome


def read_from_branch(output_dir: Path, branch: str, relpath: str) -> str | None:
    """A generated file as last generated (before hand edits), or None.

    None when there is no repository, no such branch or no such file.
    """
    loc = locate(Path(output_dir).absolute())
    if loc.root is None:
        return None
    return try_git(loc.root, "cat-file", "blob", f"refs/heads/{branch}:{under(loc.prefix, relpath)}")


def merged_promotion(output_dir: Path, branch: str, relpath: str) -> tuple[str, str] | None:
    """(tip, ``relpath`` as committed there) of the promote branch, when the user's branch holds that tip.

    None when there is no repository, branch or file, or when the last promotion never reached HEAD
    (interrupted, or reset away): then only a full promotion can say what is left to do.
    """
    loc = locate(Path(output_dir).absolute())
    if loc.root is None or (tip := rev_parse(loc.root, f"refs/heads/{branch}")) is None:
        return None
    head = rev_parse(loc.root, "HEAD")
    if head is None or try_git(loc.root, "merge-base", "--is-ancestor", tip, head) is None:
        return None
    text = try_git(loc.root, "cat-file", "blob", f"{tip}:{under(loc.prefix, relpath)}")
    return None if text is None else (tip, text)


def files_on_branch(output_dir: Path, branch: str) -> list[str]:
    """The generated files of the last promotion (relative to output_dir); [] when there is none."""
    loc = locate(Path(output_dir).absolute())
    if loc.root is None or rev_parse(loc.root, f"refs/heads/{branch}") is None:
        return []
    listing = try_git(
        loc.root, "ls-tree", "-r", "--name-only", "-z", f"refs/heads/{branch}", "--", *pathspec(loc.prefix)
    )
    return [strip_prefix(loc.prefix, path) for path in (listing or "").split("\0") if path]


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
    loc = locate(output_dir) if existing else None
    if loc is not None and loc.root is not None:
        dirty = [p for _, p in status(loc.root, [under(loc.prefix, p) for p in existing])]
        if dirty:
            raise _refuse(
                "These files have uncommitted changes or are untracked",
                dirty,
                "Commit them or stash them (git stash -u), then write again.",
            )
    for path, text in changed.items():
        try:
            atomic_write(output_dir / path, text, _mode(path, text))
        except OSError as exc:
            raise PromoteError(f"Could not write {output_dir / path}: {exc}") from exc
    return list(changed)

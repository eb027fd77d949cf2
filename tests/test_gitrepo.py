"""gitrepo against real git repositories: commits, merges, refusals and rollback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jupyterlab_promote.errors import GitError, RefusedError
from jupyterlab_promote.gitrepo import commands as gitcmd
from jupyterlab_promote.gitrepo import merge as gitrepo
from jupyterlab_promote.gitrepo.merge import (
    commit_generated,
    preflight,
    read_from_branch,
    write_files,
)

BRANCH = "promote/x"
FILES = {
    "pyproject.toml": '[project]\nname = "x"\n',
    "x/__init__.py": "",
    "x/model.py": "def predict(value):\n    return value * 2\n",
    "scripts/train.sh": "python -m x.train\n",
    "x/cli.py": "#!/usr/bin/env python\nprint('hi')\n",
}


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own HOME, no system/global config, and its own identity."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_COUNT", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    # tmp_path lives under /tmp; stop git from finding any repository above it.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("readme\n")
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("print('app')\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "initial")
    return path


def commit_all(repo: Path, message: str) -> None:
    git(repo, "commit", "-q", "-a", "-m", message)


def tree_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def snapshot(repo: Path) -> dict:
    """Everything a failed or refused promotion must leave untouched."""
    index = repo / ".git" / "index"
    state = {"index": index.read_bytes() if index.exists() else None}  # before status could touch it
    state["head"] = git(repo, "rev-parse", "HEAD")
    state["head_ref"] = git(repo, "symbolic-ref", "HEAD")
    state["branches"] = git(repo, "branch", "-a", "-v", "--no-abbrev")
    state["refs"] = git(repo, "for-each-ref")
    state["status"] = git(repo, "--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all")
    for name in ("MERGE_HEAD", "MERGE_MSG", "ORIG_HEAD"):
        state[name] = (repo / ".git" / name).read_bytes() if (repo / ".git" / name).exists() else None
    state["files"] = tree_files(repo)
    return state


def count_commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--all", "--count"))


def inject_failure(monkeypatch: pytest.MonkeyPatch, subcommand: str, *, nth: int = 1, after: bool = False) -> None:
    """Make the nth `git <subcommand>` fail, optionally after it really ran (so its effects need undoing)."""
    real = gitcmd.run_git
    calls = 0

    def fake(args, cwd, **kwargs):
        nonlocal calls
        if args and args[0] == subcommand:
            calls += 1
            if calls == nth:
                if after:
                    real(args, cwd, **kwargs)
                raise GitError(f"injected failure in git {subcommand}")
        return real(args, cwd, **kwargs)

    monkeypatch.setattr(gitcmd, "run_git", fake)


def test_plain_dir_becomes_repo_with_one_commit(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")

    result = commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    assert result.created_repo and result.prefix == "" and result.repo_root == out.resolve()
    assert result.commit == result.merge_commit == git(out, "rev-parse", "main").strip()
    assert git(out, "rev-parse", BRANCH).strip() == result.commit
    assert count_commits(out) == 1
    assert result.changed == sorted(FILES) and result.conflicts == [] and not result.no_change
    for path, content in FILES.items():
        assert (out / path).read_text() == content
    ls_tree = {line.split("\t")[1]: line.split()[0] for line in git(out, "ls-tree", "-r", "main").splitlines()}
    assert ls_tree == {
        "pyproject.toml": "100644",
        "x/__init__.py": "100644",
        "x/model.py": "100644",
        "scripts/train.sh": "100755",
        "x/cli.py": "100755",
    }
    assert os.access(out / "scripts/train.sh", os.X_OK)
    assert (out / "notes.txt").read_text() == "mine\n"
    assert git(out, "status", "--porcelain").splitlines() == ["?? notes.txt"]
    assert result.to_json()["repo_root"] == str(out.resolve()) and result.to_json()["branch"] == BRANCH


def test_a_first_promotion_into_a_plain_folder_asks_git_only_what_it_cannot_know(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository made a moment ago has no refs, no state files and no hand edits, and the first promote commit
    holds exactly the files given: asking git about them cost six processes of a first promotion's ~seventeen."""
    real, asked = gitcmd.run_git, []

    def recorded(args, cwd, **kwargs):
        asked.append(args[0])
        return real(args, cwd, **kwargs)

    monkeypatch.setattr(gitcmd, "run_git", recorded)
    out = tmp_path / "pkg"
    out.mkdir()

    commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    assert asked == [
        *("rev-parse", "var", "var", "check-ref-format", "init"),  # where, who, the branch name, the repository
        *("hash-object", "update-index", "write-tree", "commit-tree", "update-ref", "merge"),  # the commit, merged
    ]
    assert git(out, "status", "--porcelain") == "" and count_commits(out) == 1


def test_output_dir_inside_existing_repo_touches_only_prefix(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    out = repo / "generated" / "x"  # does not exist yet
    assert preflight(out, FILES) is None

    result = commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    assert not result.created_repo and result.prefix == "generated/x"
    assert git(repo, "ls-tree", "-r", "--name-only", BRANCH).split() == sorted(f"generated/x/{p}" for p in FILES)
    assert (repo / "README.md").read_text() == "readme\n" and (repo / "src/app.py").read_text() == "print('app')\n"
    assert git(repo, "rev-parse", "HEAD").strip() == result.merge_commit
    assert len(git(repo, "rev-list", "--parents", "-n1", "HEAD").split()) == 3  # a real merge commit
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "status", "--porcelain") == ""
    assert (out / "x/model.py").read_text() == FILES["x/model.py"]


def test_unchanged_generation_makes_no_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    first = commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")
    before = count_commits(repo), git(repo, "rev-parse", "HEAD")

    again = commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x again")

    assert again.no_change and again.commit == first.commit and again.merge_commit is None
    assert again.changed == [] and again.conflicts == []
    assert (count_commits(repo), git(repo, "rev-parse", "HEAD")) == before


def test_hand_edit_survives_next_promotion(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    out = repo / "gen"
    commit_generated(out, FILES, branch=BRANCH, message="Promote x")
    edited = "def predict(value):\n    # tuned by hand\n    return value * 3\n"
    (out / "x/model.py").write_text(edited)
    commit_all(repo, "hand edit")

    result = commit_generated(out, {**FILES, "x/__init__.py": "VERSION = 2\n"}, branch=BRANCH, message="Promote x v2")

    assert result.changed == ["x/__init__.py"] and result.conflicts == []
    assert (out / "x/model.py").read_text() == edited
    assert (out / "x/__init__.py").read_text() == "VERSION = 2\n"
    assert read_from_branch(out, BRANCH, "x/model.py") == FILES["x/model.py"]  # the branch stays pristine
    assert git(repo, "status", "--porcelain") == ""


def promote_into_conflict(repo: Path) -> gitrepo.CommitOutcome:
    out = repo / "gen"
    commit_generated(out, FILES, branch=BRANCH, message="Promote x")
    (out / "x/model.py").write_text("def predict(value):\n    return value * 3\n")
    commit_all(repo, "hand edit")
    changed = {**FILES, "x/model.py": "def predict(value):\n    return value * 4\n"}
    return commit_generated(out, changed, branch=BRANCH, message="Promote x v2")


def test_conflict_is_left_as_a_git_merge_conflict(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    result = promote_into_conflict(repo)
    hand_edit_commit = git(repo, "rev-parse", "HEAD").strip()

    assert result.conflicts == ["x/model.py"] and result.merge_commit is None
    assert result.commit == git(repo, "rev-parse", BRANCH).strip()
    assert (repo / ".git" / "MERGE_HEAD").read_text().strip() == result.commit
    text = (repo / "gen/x/model.py").read_text()
    assert "<<<<<<<" in text and "value * 3" in text and "value * 4" in text
    assert git(repo, "log", "-1", "--format=%s", hand_edit_commit).strip() == "hand edit"


def test_merge_in_progress_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    promote_into_conflict(repo)
    before = snapshot(repo)

    with pytest.raises(RefusedError, match="middle of a merge"):
        commit_generated(repo / "gen", {**FILES, "x/__init__.py": "# v3\n"}, branch=BRANCH, message="Promote x v3")

    assert snapshot(repo) == before


@pytest.mark.parametrize("stage", [False, True], ids=["unstaged", "staged"])
def test_dirty_generated_file_is_refused(tmp_path: Path, stage: bool) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")
    (repo / "gen/x/model.py").write_text("uncommitted work\n")
    if stage:
        git(repo, "add", "gen/x/model.py")
    before = snapshot(repo)

    with pytest.raises(RefusedError) as refused:
        commit_generated(repo / "gen", {**FILES, "x/__init__.py": "# v2\n"}, branch=BRANCH, message="Promote x v2")

    assert "gen/x/model.py" in refused.value.message
    assert refused.value.details == ["gen/x/model.py (uncommitted changes)"]
    assert snapshot(repo) == before


def test_staged_change_elsewhere_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "README.md").write_text("staged\n")
    git(repo, "add", "README.md")
    before = snapshot(repo)

    with pytest.raises(RefusedError, match="README.md"):
        commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")

    assert snapshot(repo) == before


def test_untracked_file_in_the_way_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "gen/x").mkdir(parents=True)
    (repo / "gen/x/model.py").write_text("my own model\n")
    (repo / "gen/unrelated.txt").write_text("fine\n")
    before = snapshot(repo)

    with pytest.raises(RefusedError) as refused:
        commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")

    assert refused.value.details == ["gen/x/model.py (untracked; the promotion would overwrite it)"]
    assert snapshot(repo) == before


def test_existing_file_in_plain_dir_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    (out / "x").mkdir(parents=True)
    (out / "x/model.py").write_text("my own model\n")

    with pytest.raises(RefusedError, match="x/model.py"):
        commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    assert not (out / ".git").exists() and tree_files(out) == {"x/model.py": b"my own model\n"}


def test_missing_identity_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    # Without this, git may invent an identity from the host name; a user would get the same refusal.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    out = tmp_path / "pkg"

    with pytest.raises(RefusedError) as refused:
        commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    assert 'git config --global user.name "Your Name"' in refused.value.message
    assert "git config --global user.email" in refused.value.message
    assert not out.exists()
    with pytest.raises(RefusedError, match="git config"):
        preflight(out, FILES)


def test_promote_branch_checked_out_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")
    git(repo, "switch", "-q", BRANCH)
    before = snapshot(repo)

    with pytest.raises(RefusedError, match="git switch"):
        commit_generated(repo / "gen", {**FILES, "x/__init__.py": "# v2\n"}, branch=BRANCH, message="Promote x v2")

    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("subcommand", "after"),
    [("update-ref", False), ("update-ref", True), ("merge", False), ("merge", True)],
    ids=["update-ref-refused", "update-ref-applied", "merge-refused", "merge-applied"],
)
def test_failure_after_preflight_restores_existing_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subcommand: str, after: bool
) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")
    (repo / "gen/x/model.py").write_text("def predict(value):\n    return value * 3\n")
    commit_all(repo, "hand edit")
    (repo / "src/app.py").write_text("unstaged edit outside the output dir\n")
    (repo / "scratch.txt").write_text("untracked\n")
    before = snapshot(repo)
    inject_failure(monkeypatch, subcommand, after=after)

    generation = {k: v for k, v in FILES.items() if k != "x/cli.py"} | {
        "x/__init__.py": "# v2\n",
        "x/new.py": "NEW = 1\n",
    }
    with pytest.raises(GitError, match="injected") as failed:
        commit_generated(repo / "gen", generation, branch=BRANCH, message="Promote x v2")

    assert "undone" in failed.value.message
    assert snapshot(repo) == before


def test_failing_merge_hook_is_undone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")
    hook = repo / ".git/hooks/pre-merge-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = snapshot(repo)

    with pytest.raises(GitError, match="lint failed"):
        commit_generated(repo / "gen", {**FILES, "x/__init__.py": "# v2\n"}, branch=BRANCH, message="Promote x v2")

    assert snapshot(repo) == before


@pytest.mark.parametrize(("subcommand", "nth"), [("update-ref", 1), ("merge", 1)])
def test_failure_in_plain_dir_removes_created_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subcommand: str, nth: int
) -> None:
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    inject_failure(monkeypatch, subcommand, nth=nth, after=True)

    with pytest.raises(GitError, match="injected"):
        commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    assert not (out / ".git").exists()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["notes.txt"]


def test_failure_in_repo_without_commits_keeps_it_unborn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "notes.txt").write_text("mine\n")
    inject_failure(monkeypatch, "merge", after=True)

    with pytest.raises(GitError, match="injected"):
        commit_generated(repo / "gen", FILES, branch=BRANCH, message="Promote x")

    assert git(repo, "for-each-ref") == "" and git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert not (repo / ".git/index").exists() and tree_files(repo) == {"notes.txt": b"mine\n"}


def test_failure_removes_output_dir_it_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    before = snapshot(repo)
    inject_failure(monkeypatch, "merge", after=True)

    with pytest.raises(GitError, match="injected"):
        commit_generated(repo / "deep/gen", FILES, branch=BRANCH, message="Promote x")

    assert not (repo / "deep").exists()
    assert snapshot(repo) == before


def test_file_dropped_from_generation_disappears(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    out = repo / "gen"
    commit_generated(out, FILES, branch=BRANCH, message="Promote x")

    result = commit_generated(
        out, {k: v for k, v in FILES.items() if k != "x/cli.py"}, branch=BRANCH, message="Promote x v2"
    )

    assert result.changed == ["x/cli.py"]
    for ref in (BRANCH, "main"):
        assert "gen/x/cli.py" not in git(repo, "ls-tree", "-r", "--name-only", ref).split()
    assert not (out / "x/cli.py").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_read_from_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    out = repo / "gen"
    assert read_from_branch(out, BRANCH, "x/model.py") is None  # no branch yet
    commit_generated(out, {**FILES, "NOTES.md": "a\r\nb\r\n"}, branch=BRANCH, message="Promote x")

    assert read_from_branch(out, BRANCH, "x/model.py") == FILES["x/model.py"]
    blob = subprocess.run(["git", "cat-file", "blob", f"{BRANCH}:gen/NOTES.md"], cwd=repo, capture_output=True)
    assert blob.stdout == b"a\nb\n"  # committed with \n newlines
    assert read_from_branch(out, BRANCH, "x/absent.py") is None
    assert read_from_branch(out, "promote/other", "x/model.py") is None
    assert read_from_branch(tmp_path / "plain", BRANCH, "x/model.py") is None


def test_write_files_outside_git(tmp_path: Path) -> None:
    out = tmp_path / "pkg"

    assert write_files(out, FILES) == list(FILES)
    assert tree_files(out) == {path: content.encode() for path, content in FILES.items()}
    assert os.access(out / "scripts/train.sh", os.X_OK) and not os.access(out / "x/model.py", os.X_OK)
    assert write_files(out, FILES) == []
    (out / "x/model.py").write_text("edited\n")  # no repository: nothing to protect it with
    assert write_files(out, {**FILES, "x/__init__.py": "A = 1\r\nB = 2\r\n"}) == ["x/__init__.py", "x/model.py"]
    assert (out / "x/__init__.py").read_bytes() == b"A = 1\nB = 2\n"
    assert sorted(p.name for p in out.rglob("*.tmp")) == []


def test_write_files_protects_uncommitted_work(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    out = repo / "gen"
    write_files(out, FILES)
    git(repo, "add", "gen")
    git(repo, "commit", "-q", "-m", "generated")
    (out / "x/model.py").write_text("uncommitted\n")
    (out / "x/extra.py").write_text("untracked\n")
    changed = {**FILES, "x/model.py": "regenerated\n", "x/extra.py": "generated\n", "x/__init__.py": "# v2\n"}

    with pytest.raises(RefusedError) as refused:
        write_files(out, changed)

    assert sorted(refused.value.details) == ["gen/x/extra.py", "gen/x/model.py"]
    assert (out / "x/__init__.py").read_text() == "" and (out / "x/model.py").read_text() == "uncommitted\n"

    git(repo, "checkout", "--", "gen/x/model.py")
    (out / "x/extra.py").unlink()
    assert sorted(write_files(out, changed)) == ["x/__init__.py", "x/extra.py", "x/model.py"]
    assert (out / "x/model.py").read_text() == "regenerated\n"


def test_bad_generated_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="outside the output dir"):
        write_files(tmp_path / "pkg", {"../escape.py": ""})
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "pkg").exists()

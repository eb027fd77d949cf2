"""Kill-anywhere: a promotion killed right after any of its git calls leaves the repository exactly
as it was before or exactly as after, or in a state the next promotion completes (never "up to date"
while the user's branch lacks the promotion).

``JUPYTERLAB_PROMOTE_KILL_AFTER_GIT=N`` makes the process ``os._exit(137)`` right after its Nth git
call, like a SIGKILL between two git commands.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_gitrepo import FILES, git, isolated_git, make_repo, tree_files  # noqa: F401  (fixture)

PROMOTE = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from jupyterlab_promote.gitrepo.merge import commit_generated\n"
    "outcome = commit_generated(Path(sys.argv[1]), json.loads(sys.argv[2]), branch='promote/x', message='Promote x')\n"
    "print('up to date' if outcome.no_change else 'merged')\n"
)
SECOND = {**{k: v for k, v in FILES.items() if k != "x/cli.py"}, "x/__init__.py": "# v2\n", "x/new.py": "NEW = 1\n"}
KILLED = 137


def promote(output: Path, files: dict[str, str], kill_after: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTERLAB_PROMOTE_KILL_AFTER_GIT"}
    if kill_after is not None:
        env["JUPYTERLAB_PROMOTE_KILL_AFTER_GIT"] = str(kill_after)
    return subprocess.run(
        [sys.executable, "-c", PROMOTE, str(output), json.dumps(files)], env=env, capture_output=True, text=True
    )


def state(top: Path, root: Path) -> dict:
    """What the user sees under ``top`` and in the repository at ``root``: branch and promote trees, files, merge state."""
    if not root.exists():
        return {"files": tree_files(top)}

    def tree(rev: str) -> str | None:
        proc = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", f"{rev}^{{tree}}"], cwd=root, capture_output=True, text=True
        )
        return proc.stdout.strip() or None

    has_git = (root / ".git").exists()
    return {
        "head": tree("HEAD") if has_git else None,
        "promote": tree("refs/heads/promote/x") if has_git else None,
        "status": git(root, "--no-optional-locks", "status", "--porcelain=v1", "-uall") if has_git else None,
        "merging": (root / ".git" / "MERGE_HEAD").exists(),
        "files": tree_files(top),
    }


def kill_everywhere(tmp_path: Path, setup, files: dict[str, str], output_of, repo_of) -> int:
    """Run the promotion killed after git call 1, 2, … until it completes; check each outcome. Returns the count."""
    reference = setup(tmp_path / "reference")
    before = state(reference, repo_of(reference))
    assert promote(output_of(reference), files).returncode == 0
    after = state(reference, repo_of(reference))
    assert after["merging"] is False and after["status"] == ""
    for nth in range(1, 200):
        root = setup(tmp_path / f"kill{nth}")
        run = promote(output_of(root), files, kill_after=nth)
        if run.returncode == 0:
            assert state(root, repo_of(root)) == after
            return nth - 1
        assert run.returncode == KILLED, run.stderr
        killed = state(root, repo_of(root))
        if killed not in (before, after):
            # A third state: the next promotion must finish the job, and say so truthfully.
            rerun = promote(output_of(root), files)
            assert rerun.returncode == 0, f"after a kill at git call {nth}: {rerun.stderr}"
            assert rerun.stdout.strip() == "merged", f"kill at git call {nth}: 'up to date' without the merge"
            assert (
                state(root, repo_of(root)) == after
            ), f"kill at git call {nth} left a state the next run did not repair"
        shutil.rmtree(root)
    raise AssertionError("the promotion never completed")


def test_kill_after_each_git_call_of_a_first_promotion_into_a_new_directory(tmp_path: Path) -> None:
    def setup(path: Path) -> Path:
        path.mkdir()
        return path

    kills = kill_everywhere(tmp_path, setup, FILES, lambda root: root / "pkg", lambda root: root / "pkg")
    assert kills >= 8  # preflight, init, hashing, commit, branch ref, merge: every step was interrupted once


def test_kill_after_each_git_call_of_a_second_promotion_in_a_repository(tmp_path: Path) -> None:
    def setup(path: Path) -> Path:
        repo = make_repo(path)
        assert promote(repo / "gen", FILES).returncode == 0
        return repo

    kills = kill_everywhere(tmp_path, setup, SECOND, lambda root: root / "gen", lambda root: root)
    assert kills >= 8


def test_promotion_reset_away_is_merged_again_not_reported_up_to_date(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    assert promote(repo / "gen", FILES).stdout.strip() == "merged"
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    assert not (repo / "gen").exists()

    again = promote(repo / "gen", FILES)

    assert again.returncode == 0 and again.stdout.strip() == "merged"
    assert (repo / "gen/x/model.py").read_text() == FILES["x/model.py"]
    assert promote(repo / "gen", FILES).stdout.strip() == "up to date"


@pytest.mark.parametrize("nth", [1, 3])
def test_the_kill_hook_kills_like_sigkill(tmp_path: Path, nth: int) -> None:
    run = promote(tmp_path / "pkg", FILES, kill_after=nth)
    assert run.returncode == KILLED and run.stdout == ""

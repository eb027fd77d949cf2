"""`jupyter promote` as a user runs it: exit codes, JSON, dry run, drift check, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

from .helpers import TINY_TORCH, write_notebook

ROOT = Path(__file__).resolve().parents[1]


def promote(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        [sys.executable, "-m", "jupyterlab_promote.app", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_promote_json_then_check_then_drift(tmp_path):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    done = promote(str(notebook), "--output", "out", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) >= {"ok", "output", "package", "branch", "commit", "files", "diagnostics"}
    assert data["ok"] and data["branch"] == "promote/tiny" and "src/tiny/pipeline.py" in data["files"]

    assert promote(str(notebook), "--output", "out", "--check", cwd=tmp_path).returncode == 0
    node = nbformat.read(str(notebook), as_version=4)
    node.cells[1].source = node.cells[1].source.replace("epochs = 2", "epochs = 3")
    nbformat.write(node, str(notebook))
    drift = promote(str(notebook), "--output", "out", "--check", cwd=tmp_path)
    assert drift.returncode == 1 and "changed since its last promotion" in drift.stdout


def test_dry_run_writes_nothing_and_prints_a_diff(tmp_path):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    done = promote(str(notebook), "--output", "out", "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "+++ b/src/tiny/pipeline.py" in done.stdout and "step train" in done.stdout
    assert not (tmp_path / "out").exists()


def test_errors_exit_1_with_location_and_no_traceback(tmp_path):
    notebook = write_notebook(tmp_path / "bad.ipynb", [("x = (", ["promote:data"])])
    done = promote(str(notebook), "--output", "out", cwd=tmp_path)
    assert done.returncode == 1
    assert "bad.ipynb, cell 0 (id cell-0), line 1: error PRM001" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out").exists()


def test_unreadable_notebook_and_usage_errors(tmp_path):
    (tmp_path / "junk.ipynb").write_text("{not json")
    done = promote("junk.ipynb", cwd=tmp_path)
    assert done.returncode == 1 and "junk.ipynb" in done.stderr and "Traceback" not in done.stderr
    assert promote("missing.ipynb", cwd=tmp_path).returncode == 1
    assert promote(cwd=tmp_path).returncode == 2


def test_no_identity_is_refused_with_advice(tmp_path):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    done = subprocess.run(
        [sys.executable, "-m", "jupyterlab_promote.app", str(notebook), "--output", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "git config" in done.stderr and "Traceback" not in done.stderr


def test_cli_start_does_not_import_heavy_libraries():
    code = "import sys, jupyterlab_promote.app as a; bad = {'torch', 'pytorch_lightning', 'black', 'jupyter_server', 'asyncio'} & set(sys.modules); print(sorted(bad))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_default_output_in_a_repository_that_does_not_track_the_notebook_asks_for_output(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    done = promote("tiny.ipynb", cwd=tmp_path)
    assert done.returncode == 2 and "--output" in done.stderr and "does not track tiny.ipynb" in done.stderr
    assert not (tmp_path / "tiny_project").exists()
    assert subprocess.run(["git", "-C", str(tmp_path), "branch", "--all"], capture_output=True, text=True).stdout == ""
    # Tracked there, the notebook's repository is its project: the default output is fine.
    identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "-C", str(tmp_path), "add", notebook.name], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *identity, "commit", "-qm", "notebook"], check=True)
    assert promote("tiny.ipynb", "--dry-run", cwd=tmp_path).returncode == 0
    done = promote("tiny.ipynb", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(took " in done.stdout


def test_a_refusal_lists_each_file_once(tmp_path):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    assert promote(str(notebook), "--output", "out", cwd=tmp_path).returncode == 0
    config = tmp_path / "out" / "config.yaml"
    config.write_text(config.read_text() + "# mine\n")
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("epochs = 2", "epochs = 3")
    nbformat.write(nb, str(notebook))
    refused = promote(str(notebook), "--output", "out", cwd=tmp_path)
    assert refused.returncode == 1 and refused.stderr.count("config.yaml") == 1, refused.stderr


def test_default_output_inside_the_tools_own_source_tree_is_refused():
    from jupyterlab_promote import api
    from jupyterlab_promote.errors import OutputNeededError

    demo = ROOT / "examples" / "demo.ipynb"
    try:
        api.refuse_foreign_default_output(demo, api.default_output(demo))
    except OutputNeededError as error:
        assert "own source tree" in error.message and "--output" in error.message
    else:
        raise AssertionError("the demo's default output inside this repository was accepted")


def test_jupyter_promote_config_py_is_read_and_the_command_line_wins(tmp_path):
    """The command reads jupyter_promote_config.py from Jupyter's config folder (~/.jupyter here) as JupyterApp does,
    without importing it (asyncio and ssl): a dry run set there writes nothing, unless the command line says not."""
    (tmp_path / ".jupyter").mkdir()
    (tmp_path / ".jupyter" / "jupyter_promote_config.py").write_text("c.PromoteApp.dry_run = True\n")
    notebook = write_notebook(tmp_path / "nb.ipynb", TINY_TORCH)
    dry = promote(str(notebook), "--output", "out", cwd=tmp_path)
    assert dry.returncode == 0 and not (tmp_path / "out").exists(), dry.stderr
    written = promote(str(notebook), "--output", "out", "--no-commit", "--PromoteApp.dry_run=False", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "out" / "pyproject.toml").exists(), written.stderr

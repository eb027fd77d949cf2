"""The lifecycle routes on a real jupyter_server: jobs (smoke pipeline, tests) and the registry of a promoted project.

Jobs execute the project's code, so starting and cancelling need write permission; paths stay inside the root.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.handlers import NAMESPACE, ROUTES
from jupyterlab_promote.lifecycle import jobs, project_state

from .test_api_schema import assert_matches
from .test_handlers import DenyWrite, git, server_config, snapshot

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"
# A promoted project whose "tests" are quick: the job machinery, not the demo's training, is under test there.
QUICK_TEST = "def test_quick():\n    assert True\n"


@pytest.fixture
def jp_server_config() -> dict:
    return server_config()


@pytest.fixture(autouse=True)
def git_identity(isolated_git) -> None:
    """Every test here runs with isolated_git (conftest.py)."""


def fake_project(root: Path, name: str = "project", package: str = "pkg", main: str = "") -> Path:
    """The layout jobs need (promote.toml, src/PKG/__main__.py, tests/), without a promotion's seconds."""
    project = root / name
    (project / "src" / package).mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "promote.toml").write_text("[notebook]\n")
    (project / "src" / package / "__init__.py").write_text("")
    (project / "src" / package / "__main__.py").write_text(main or "print('smoke ok')\n")
    (project / "tests" / "test_quick.py").write_text(QUICK_TEST)
    return project


async def request(jp_fetch, method: str, route: str, body: dict | None = None, **params) -> tuple[int, dict]:
    data = {"body": json.dumps(body)} if method == "POST" else {}
    query = {key: str(value) for key, value in params.items()} or None
    response = await jp_fetch(NAMESPACE, route, method=method, raise_error=False, params=query, **data)
    return response.code, json.loads(response.body)


async def finished(jp_fetch, job: dict, limit_s: float = 600) -> tuple[dict, str]:
    """Poll as the panel does (since = the last `next`) until the job ends: (last reply, all its output)."""
    text, since = job["text"], job["next"]
    for _ in range(int(limit_s / 0.25)):
        if job["state"] != "running":
            return job, text
        await asyncio.sleep(0.25)
        status, job = await request(jp_fetch, "GET", "jobs", job=job["job"], since=since)
        assert status == 200, job
        assert_matches(job, "job")
        assert job["offset"] == since  # nothing lost: the output is far below the cap
        text, since = text + job["text"], job["next"]
    raise AssertionError(f"job still running after {limit_s} s: {text[-2000:]}")


async def test_a_tests_job_runs_pytest_in_the_project_and_reports_its_output(jp_fetch, jp_root_dir):
    fake_project(jp_root_dir)
    status, job = await request(jp_fetch, "POST", "jobs", {"output": "project", "kind": "tests"})
    assert status == 200, job
    assert_matches(job, "job")
    assert job["state"] == "running" and job["output"] == "project" and job["command"] == "python -m pytest -q"
    job, text = await finished(jp_fetch, job)
    assert job["state"] == "passed" and job["exit_code"] == 0, text
    assert "1 passed" in text


async def test_a_smoke_job_runs_the_package_with_src_on_the_path(jp_fetch, jp_root_dir):
    main = "import sys\nprint('args', sys.argv[1:])\nraise SystemExit(3)\n"
    fake_project(jp_root_dir, main=main)
    status, job = await request(jp_fetch, "POST", "jobs", {"output": "project", "kind": "smoke"})
    assert status == 200 and job["command"] == "python -m pkg run --smoke"
    job, text = await finished(jp_fetch, job)
    assert job["state"] == "failed" and job["exit_code"] == 3
    assert "args ['run', '--smoke']" in text


async def test_cancel_stops_the_whole_process_group(jp_fetch, jp_root_dir):
    # The package starts a child that would outlive a plain kill of its parent.
    main = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "print('child', child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    fake_project(jp_root_dir, main=main)
    status, job = await request(jp_fetch, "POST", "jobs", {"output": "project", "kind": "smoke"})
    assert status == 200
    text = ""
    while "child" not in text:
        await asyncio.sleep(0.2)
        _, reply = await request(jp_fetch, "GET", "jobs", job=job["job"])
        text = reply["text"]
    child = int(text.split("child")[1].split()[0])
    status, busy = await request(jp_fetch, "POST", "jobs", {"output": "project", "kind": "tests"})
    assert status == 409 and "already running" in busy["message"]  # one job per project at a time

    status, cancelling = await request(jp_fetch, "DELETE", "jobs", job=job["job"])
    assert status == 200 and cancelling["job"] == job["job"]
    job, text = await finished(jp_fetch, cancelling, limit_s=30)
    assert job["state"] == "cancelled" and job["exit_code"] == -15 and "[cancelled]" in text
    for _ in range(50):  # the child got SIGTERM too
        if gone(child):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the job's child process survived the cancel")


@pytest.mark.parametrize("jp_server_config", [server_config(authorizer_class=DenyWrite)])
async def test_starting_and_cancelling_a_job_need_write_permission(jp_fetch, jp_root_dir, tmp_path):
    fake_project(jp_root_dir)
    before = snapshot(tmp_path)
    DenyWrite.asked.clear()
    status, reply = await request(jp_fetch, "POST", "jobs", {"output": "project", "kind": "tests"})
    assert status == 403 and DenyWrite.asked[-1] == ("write", "contents")
    assert snapshot(tmp_path) == before
    status, reply = await request(jp_fetch, "DELETE", "jobs", job="anything")
    assert status == 403 and DenyWrite.asked[-1] == ("write", "contents")
    status, reply = await request(jp_fetch, "GET", "jobs", job="nope")  # reading a job's report is a read
    assert status == 404 and DenyWrite.asked[-1] == ("read", "contents")
    assert_matches(reply, "error")
    status, reply = await request(jp_fetch, "GET", "registry", output="project")
    assert status == 200 and DenyWrite.asked[-1] == ("read", "contents")


@pytest.mark.parametrize(
    ("method", "route"), [("POST", "jobs"), ("GET", "jobs"), ("DELETE", "jobs"), ("GET", "registry")]
)
async def test_lifecycle_routes_refuse_requests_without_a_token(jp_fetch, jp_root_dir, method, route):
    fake_project(jp_root_dir)
    headers = {"Authorization": "", "Cookie": "_xsrf=abc", "X-XSRFToken": "abc"}
    data = {"body": json.dumps({"output": "project", "kind": "tests"})} if method == "POST" else {}
    response = await jp_fetch(
        NAMESPACE, route, method=method, raise_error=False, headers=headers, params={"output": "project"}, **data
    )
    assert response.code in (401, 403)
    assert not jobs._jobs or all(job.output != jp_root_dir / "project" for job in jobs._jobs.values())


@pytest.mark.parametrize("output", ["../escaped", "%2e%2e/escaped", "/tmp", "linkdir", "linkdir/project", "missing"])
async def test_job_and_registry_paths_cannot_leave_the_root(jp_fetch, jp_root_dir, tmp_path, output):
    fake_project(tmp_path / "outside")  # a real project outside the root, reachable through a link
    fake_project(tmp_path, name="escaped")
    (jp_root_dir / "linkdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    status, reply = await request(jp_fetch, "POST", "jobs", {"output": output, "kind": "tests"})
    assert status in (400, 404), reply
    assert_matches(reply, "error")
    status, reply = await request(jp_fetch, "GET", "registry", output=output)
    assert status in (400, 404), reply


async def test_bad_job_requests_are_json_errors(jp_fetch, jp_root_dir):
    fake_project(jp_root_dir)
    (jp_root_dir / "plain").mkdir()
    for body, expected, error in [
        ({"output": "project", "kind": "shell"}, 400, "UsageError"),
        ({"output": "project"}, 400, "BadRequest"),
        ({"output": "plain", "kind": "tests"}, 404, "NotAProjectError"),
    ]:
        status, reply = await request(jp_fetch, "POST", "jobs", body)
        assert (status, reply["error"]) == (expected, error), reply
    status, reply = await request(jp_fetch, "GET", "jobs", job="x", since="-1")
    assert status in (400, 404)


async def test_registry_without_a_database_or_without_mlflow_says_why(jp_fetch, jp_root_dir, monkeypatch):
    fake_project(jp_root_dir)
    status, reply = await request(jp_fetch, "GET", "registry", output="project")
    assert status == 200, reply
    assert_matches(reply, "registry")
    assert reply["available"] is False and reply["versions"] == [] and "no mlflow.db" in reply["reason"]
    assert reply["model"] == "pkg" and reply["output"] == "project"
    (jp_root_dir / "project" / "mlflow.db").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow → ImportError
    status, reply = await request(jp_fetch, "GET", "registry", output="project")
    assert status == 200 and reply["available"] is False and "mlflow cannot be imported" in reply["reason"]


def gone(pid: int) -> bool:
    """Exited (a zombie counts: its parent has not reaped it yet)."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_running_jobs_stop_when_the_server_process_exits(tmp_path):
    """Jobs have their own sessions, so nothing else would stop them: an atexit hook does."""
    project = fake_project(tmp_path, main="import time\nprint('up', flush=True)\ntime.sleep(300)\n")
    script = (
        "import sys, time; from jupyterlab_promote import api; job = api.start_job(sys.argv[1], 'smoke');"
        "time.sleep(1); print(job._process.pid)"
    )
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script, str(project)], check=True, cwd=repo, capture_output=True, text=True
    )
    pid = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pid)


def test_output_beyond_the_cap_keeps_the_tail_and_says_what_was_skipped(monkeypatch):
    monkeypatch.setattr(jobs, "OUTPUT_LIMIT", 10)
    job = jobs.Job("id", "tests", Path("."), ["-m", "pytest"])
    job.append("0123456789")
    job.append("abcde")
    reply = job.to_json(since=2)
    assert (reply["text"], reply["offset"], reply["next"], reply["skipped"]) == ("56789abcde", 5, 15, 3)
    assert job.to_json(since=15)["text"] == ""


def test_hand_edits_lists_generated_files_edited_by_hand_not_the_users_own(tmp_path, git_identity):
    project = fake_project(tmp_path)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-qm", "generated")
    git(project, "branch", "promote/nb")
    (project / "tests" / "test_quick.py").write_text(QUICK_TEST + "# mine\n")
    (project / "src" / "pkg" / "__init__.py").unlink()
    (project / "notes.md").write_text("my own file\n")
    assert project_state.hand_edits(project, "promote/nb") == ["src/pkg/__init__.py", "tests/test_quick.py"]
    assert project_state.hand_edits(project, "promote/other") == []
    assert project_state.hand_edits(tmp_path / "nowhere", "promote/nb") == []


def test_preview_and_promote_report_the_hand_edits_the_merge_kept(tmp_path, git_identity):
    notebook = tmp_path / "demo.ipynb"
    shutil.copy(DEMO, notebook)
    output = tmp_path / "demo_project"
    first = api.promote(notebook, output)
    assert first.ok and first.hand_edits == []
    readme = output / "README.md"
    readme.write_text(readme.read_text() + "\nOur team's notes.\n")
    git(output, "commit", "-qam", "notes")
    assert api.preview(notebook, output).hand_edits == ["README.md"]
    text = json.loads(notebook.read_text())
    text["cells"][2]["source"] = "".join(text["cells"][2]["source"]).replace("noise = 0.2", "noise = 0.25")
    notebook.write_text(json.dumps(text))
    second = api.promote(notebook, output)
    assert second.ok and second.merged and second.hand_edits == ["README.md"], second.message
    assert second.to_json()["hand_edits"] == ["README.md"] and "Our team's notes." in readme.read_text()


@pytest.mark.slow
async def test_the_demo_smoke_pipeline_fills_the_registry_and_its_tests_pass(jp_fetch, jp_root_dir):
    """The real thing: promote examples/demo.ipynb, run its smoke pipeline and its generated tests through the route."""
    shutil.copy(DEMO, jp_root_dir / "demo.ipynb")
    assert api.promote(jp_root_dir / "demo.ipynb", jp_root_dir / "demo_project").ok
    status, job = await request(jp_fetch, "POST", "jobs", {"output": "demo_project", "kind": "smoke"})
    assert status == 200, job
    job, text = await finished(jp_fetch, job)
    assert job["state"] == "passed", text[-3000:]
    assert "register: demo v1 is the new champion" in text

    status, registry = await request(jp_fetch, "GET", "registry", output="demo_project")
    assert status == 200, registry
    assert_matches(registry, "registry")
    assert registry["available"] and registry["model"] == "demo" and registry["champion"] == "1"
    (version,) = registry["versions"]
    assert version["champion"] and version["reason"] == "no champion yet" and 0 < version["metrics"]["test_acc"] <= 1

    status, job = await request(jp_fetch, "POST", "jobs", {"output": "demo_project", "kind": "tests"})
    assert status == 200, job
    job, text = await finished(jp_fetch, job)
    assert job["state"] == "passed" and " passed" in text, text[-3000:]


def test_the_routes_are_registered():
    assert ROUTES["jobs"].__name__ == "JobsHandler" and ROUTES["registry"].__name__ == "RegistryHandler"

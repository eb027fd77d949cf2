"""The server extension over real HTTP (pytest-jupyter): routes, auth, path safety, concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import warnings
from pathlib import Path

import nbformat
import pytest
from jupyter_server.auth import Authorizer
from jupyter_server.utils import JupyterServerAuthWarning
from nbformat.v4 import new_code_cell, new_notebook

from jupyterlab_promote import api
from jupyterlab_promote._version_info import tool_version
from jupyterlab_promote.handlers import NAMESPACE, ROUTES

POST_ROUTES = ["analyze", "preview", "promote", "check"]
NOTEBOOK = "demo.ipynb"


def server_config(**serverapp: object) -> dict:
    """The extension enabled, plus any extra ServerApp/Promoter settings."""
    config: dict = {"ServerApp": {"jpserver_extensions": {"jupyterlab_promote": True}, **serverapp}}
    return config


@pytest.fixture
def jp_server_config() -> dict:
    return server_config()


@pytest.fixture(autouse=True)
def git_identity(isolated_git) -> None:
    """Every test here runs with isolated_git (conftest.py)."""


def tagged(source: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    return cell


def write_notebook(path: Path, model_source: str = "model = nn.Linear(4, 2)") -> Path:
    """A tiny tagged training notebook: parameters, data, model, train loop, evaluate."""
    notebook = new_notebook(
        cells=[
            tagged(
                "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset",
                "promote:imports",
            ),
            tagged("epochs = 1", "parameters"),
            tagged(
                "x = torch.randn(16, 4)\ny = torch.randint(0, 2, (16,))\n"
                "loader = DataLoader(TensorDataset(x, y), batch_size=4)",
                "promote:data",
            ),
            tagged(model_source, "promote:model"),
            tagged(
                "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
                "for _ in range(epochs):\n"
                "    for xb, yb in loader:\n"
                "        opt.zero_grad()\n"
                "        loss = nn.functional.cross_entropy(model(xb), yb)\n"
                "        loss.backward()\n"
                "        opt.step()",
                "promote:train",
            ),
            tagged("acc = 0.5", "promote:evaluate"),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture
def notebook(jp_root_dir: Path) -> Path:
    return write_notebook(jp_root_dir / NOTEBOOK)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def snapshot(top: Path) -> dict[str, int]:
    """Every file and directory under ``top`` (links not followed) with its size: detects any write.

    The user's cache (``home/.cache``: black's results, remembered across calls) is not the user's files.
    """
    found = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            relative = str(path.relative_to(top))
            if not relative.startswith("home/.cache"):
                found[relative] = path.lstat().st_size if name in filenames else -1
    return found


async def call(jp_fetch, route: str, body: object = None, *, raw: str | None = None, headers: dict | None = None):
    """(status, JSON reply) of one request; GET for ``version``, POST with a JSON body otherwise."""
    kwargs: dict = {"raise_error": False, "headers": headers}
    if route == "version":
        response = await jp_fetch(NAMESPACE, route, method="GET", **kwargs)
    else:
        data = raw if raw is not None else json.dumps(body)
        response = await jp_fetch(NAMESPACE, route, method="POST", body=data, **kwargs)
    return response.code, json.loads(response.body) if response.body else None


def assert_error(status: int, reply: dict, expected: int | tuple[int, ...]) -> None:
    """A refusal: the expected status and a JSON body a person can read, never a traceback."""
    assert status in (expected if isinstance(expected, tuple) else (expected,)), reply
    assert reply["ok"] is False and reply["error"] and reply["message"]
    assert "Traceback" not in json.dumps(reply)


# --- each route does its job -------------------------------------------------


async def test_analyze_returns_the_plan(jp_fetch, notebook):
    status, plan = await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    assert status == 200 and plan["ok"] is True
    assert plan["notebook"] == NOTEBOOK  # relative to the root, as sent
    assert [step["name"] for step in plan["steps"]] == ["data", "model", "train", "evaluate"]
    assert len(plan["cells"]) == 6 and isinstance(plan["diagnostics"], list)


async def test_preview_lists_files_and_writes_nothing(jp_fetch, notebook, tmp_path):
    before = snapshot(tmp_path)
    status, preview = await call(jp_fetch, "preview", {"path": NOTEBOOK})
    assert status == 200 and preview["ok"] is True
    assert preview["output"] == "demo_project"
    assert {"pyproject.toml", "promote.toml"} <= {f["path"] for f in preview["files"]}
    assert {f["status"] for f in preview["files"]} == {"added"}
    assert snapshot(tmp_path) == before


async def test_promote_commits_then_check_sees_no_drift(jp_fetch, notebook, jp_root_dir):
    status, drift = await call(jp_fetch, "check", {"path": NOTEBOOK})
    assert status == 200 and drift["drifted"] is True

    status, result = await call(jp_fetch, "promote", {"path": NOTEBOOK, "output": "out/demo", "name": "demo_pkg"})
    assert status == 200 and result["ok"] is True, result
    assert result["output"] == "out/demo" and result["package"] == "demo_pkg"
    assert result["commit"] and result["branch"] == "promote/demo"
    project = jp_root_dir / "out" / "demo"
    log = git(project, "log", "--oneline").splitlines()
    assert len(log) == 1 and "Promote demo.ipynb" in log[0]
    assert git(project, "status", "--porcelain") == ""

    status, drift = await call(jp_fetch, "check", {"path": NOTEBOOK, "output": "out/demo", "name": "demo_pkg"})
    assert status == 200 and drift["drifted"] is False


async def test_promote_with_plan_errors_is_200_not_ok(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir / NOTEBOOK, model_source="model = nn.Linear(4, 2")
    status, result = await call(jp_fetch, "promote", {"path": NOTEBOOK})
    assert status == 200 and result["ok"] is False and result["commit"] is None
    assert any(d["severity"] == "error" for d in result["diagnostics"])
    assert not (jp_root_dir / "demo_project").exists()


async def test_promote_refused_by_git_is_409(jp_fetch, notebook, jp_root_dir):
    project = jp_root_dir / "demo_project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    (project / "README.md").write_text("mine\n")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "initial")
    (project / "README.md").write_text("uncommitted edit\n")
    status, reply = await call(jp_fetch, "promote", {"path": NOTEBOOK})
    assert_error(status, reply, 409)
    assert reply["error"] == "RefusedError" and "README.md" in reply["message"]


async def test_version(jp_fetch):
    status, reply = await call(jp_fetch, "version")
    assert status == 200 and reply == {"version": tool_version()}


async def test_unexpected_failure_is_a_short_json_500(jp_fetch, notebook, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "analyze", boom)
    status, reply = await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    assert_error(status, reply, 500)
    assert reply["error"] == "InternalError" and "boom" in reply["message"]


async def test_unreadable_notebook_is_the_core_error(jp_fetch, jp_root_dir):
    (jp_root_dir / "broken.ipynb").write_text("not a notebook")
    status, reply = await call(jp_fetch, "analyze", {"path": "broken.ipynb"})
    assert_error(status, reply, 404)
    assert reply["error"] == "NotebookError"


# --- authentication and authorization -----------------------------------------


@pytest.mark.parametrize("route", [*POST_ROUTES, "version"])
async def test_every_route_refuses_requests_without_a_token(jp_fetch, notebook, tmp_path, route):
    before = snapshot(tmp_path)
    # A matching XSRF cookie and header, so that it is the missing token (not XSRF) that is refused.
    headers = {"Authorization": "", "Cookie": "_xsrf=abc", "X-XSRFToken": "abc"}
    status, reply = await call(jp_fetch, route, {"path": NOTEBOOK}, headers=headers)
    assert status in (401, 403)
    assert "_xsrf" not in reply["message"]
    assert snapshot(tmp_path) == before


class DenyWrite(Authorizer):
    """Allows reading and refuses writing; records what the handlers asked for."""

    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource):
        DenyWrite.asked.append((action, resource))
        return action != "write"


# @authorized maps the HTTP method to an action (GET → read, POST → write) unless
# given one. analyze, preview and check only read, so they pass action="read";
# promote passes "write"; all use auth_resource "contents".
@pytest.mark.parametrize("jp_server_config", [server_config(authorizer_class=DenyWrite)])
async def test_write_permission_is_needed_only_to_promote(jp_fetch, notebook, tmp_path):
    for route in ["analyze", "preview", "check", "version"]:
        DenyWrite.asked.clear()
        status, _ = await call(jp_fetch, route, {"path": NOTEBOOK})
        assert status == 200, route
        assert DenyWrite.asked[-1] == ("read", "contents"), route
    before = snapshot(tmp_path)
    DenyWrite.asked.clear()
    status, _ = await call(jp_fetch, "promote", {"path": NOTEBOOK})
    assert status == 403
    assert DenyWrite.asked[-1] == ("write", "contents")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("handler", ROUTES.values(), ids=ROUTES.keys())
def test_every_verb_is_authenticated_then_authorized(handler):
    """What jupyter_server's auth check looks for: @web.authenticated outermost, @authorized under it."""
    # The verbs this extension defines (APIHandler.options is jupyter_server's own, @allow_unauthenticated).
    verbs = [m.lower() for m in handler.SUPPORTED_METHODS if m.lower() in vars(handler)]
    assert verbs
    for verb in verbs:
        method = getattr(handler, verb)
        assert Path(method.__code__.co_filename).match("tornado/web.py"), verb
        assert Path(method.__wrapped__.__code__.co_filename).match("jupyter_server/auth/decorator.py"), verb


def registered_handlers(router) -> set[type]:
    found = set()
    for rule in getattr(router, "rules", []):
        if isinstance(rule.target, type):
            found.add(rule.target)
        else:
            found |= registered_handlers(rule.target)
    return found


def test_loading_with_authentication_required_warns_nothing(jp_configurable_serverapp):
    """The template's CI check: allow_unauthenticated_access=False and no JupyterServerAuthWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = jp_configurable_serverapp(config=server_config(allow_unauthenticated_access=False))
    assert not [w for w in caught if issubclass(w.category, JupyterServerAuthWarning)]
    assert set(ROUTES.values()) <= registered_handlers(app.web_app.default_router)


# --- paths: nothing outside the root, ever -------------------------------------


@pytest.fixture
def outside(tmp_path: Path, jp_root_dir: Path) -> Path:
    """Valid notebooks outside the root, reachable by '..' and by symlinks inside it."""
    write_notebook(tmp_path / "x.ipynb")
    secret = write_notebook(tmp_path / "outside" / "secret.ipynb")
    (jp_root_dir / "link.ipynb").symlink_to(secret)
    (jp_root_dir / "linkdir").symlink_to(secret.parent, target_is_directory=True)
    return secret.parent


BAD_NOTEBOOK_PATHS = [
    "../x.ipynb",
    "sub/../../x.ipynb",
    "/etc/passwd",
    "{outside}/secret.ipynb",  # absolute path to a real notebook
    "%2e%2e/x.ipynb",
    "..%2fx.ipynb",
    "link.ipynb",
    "linkdir/secret.ipynb",
]


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("path", BAD_NOTEBOOK_PATHS)
async def test_notebook_paths_cannot_leave_the_root(jp_fetch, outside, tmp_path, route, path):
    before = snapshot(tmp_path)
    # An output inside the root, so that only the notebook path can be what is refused.
    status, reply = await call(jp_fetch, route, {"path": path.format(outside=outside), "output": "project"})
    assert_error(status, reply, (400, 404))
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("route", ["preview", "promote", "check"])
@pytest.mark.parametrize("output", ["../escaped", "%2e%2e/escaped", "/tmp/promote-escaped", "linkdir/project"])
async def test_output_cannot_leave_the_root(jp_fetch, notebook, outside, tmp_path, route, output):
    before = snapshot(tmp_path)
    status, reply = await call(jp_fetch, route, {"path": NOTEBOOK, "output": output})
    assert_error(status, reply, (400, 404))
    assert snapshot(tmp_path) == before
    assert not Path("/tmp/promote-escaped").exists()


@pytest.mark.parametrize(
    "jp_server_config",
    [{**server_config(), "Promoter": {"output_pattern": "{notebook_dir}/../{notebook_stem}_escaped"}}],
)
async def test_configured_default_output_outside_the_root_is_refused(jp_fetch, notebook, tmp_path):
    status, reply = await call(jp_fetch, "promote", {"path": NOTEBOOK})
    assert_error(status, reply, 400)
    assert "output_pattern" in reply["message"]
    assert not (tmp_path / "demo_escaped").exists()


@pytest.mark.parametrize(
    "jp_server_config", [{**server_config(), "Promoter": {"output_pattern": "{notebook_dir}/built/{notebook_stem}"}}]
)
async def test_default_output_follows_server_config(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir / "sub" / NOTEBOOK)
    status, preview = await call(jp_fetch, "preview", {"path": f"sub/{NOTEBOOK}"})
    assert status == 200 and preview["output"] == "sub/built/demo"


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "",
        "[]",
        '"demo.ipynb"',
        "{}",
        '{"path": 3}',
        '{"path": ""}',
        '{"path": "demo.ipynb", "name": ["x"]}',
    ],
)
async def test_malformed_bodies_are_400(jp_fetch, notebook, route, raw):
    status, reply = await call(jp_fetch, route, raw=raw)
    assert_error(status, reply, 400)


@pytest.mark.parametrize("route", ["preview", "promote", "check"])
async def test_output_must_be_a_string(jp_fetch, notebook, route):
    status, reply = await call(jp_fetch, route, {"path": NOTEBOOK, "output": 5})
    assert_error(status, reply, 400)


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("path", ["missing.ipynb", "notes.txt", "folder", "folder.ipynb"])
async def test_missing_or_non_notebook_paths_are_404(jp_fetch, jp_root_dir, route, path):
    (jp_root_dir / "notes.txt").write_text("hello\n")
    (jp_root_dir / "folder").mkdir()
    (jp_root_dir / "folder.ipynb").mkdir()
    status, reply = await call(jp_fetch, route, {"path": path})
    assert_error(status, reply, 404)


# --- concurrency ------------------------------------------------------------------


def track_promotes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Wrap api.promote to record how many run at once (each lingers so overlaps would show)."""
    real, lock, counts = api.promote, threading.Lock(), {"now": 0, "max": 0}

    def tracked(*args, **kwargs):
        with lock:
            counts["now"] += 1
            counts["max"] = max(counts["max"], counts["now"])
        try:
            time.sleep(0.2)
            return real(*args, **kwargs)
        finally:
            with lock:
                counts["now"] -= 1

    monkeypatch.setattr(api, "promote", tracked)
    return counts


async def test_concurrent_promotes_of_one_target_are_serialised(jp_fetch, notebook, jp_root_dir, monkeypatch):
    project = jp_root_dir / "demo_project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    (project / "NOTES.md").write_text("hand-written\n")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "initial")
    counts = track_promotes(monkeypatch)

    replies = await asyncio.gather(*(call(jp_fetch, "promote", {"path": NOTEBOOK}) for _ in range(3)))
    assert [status for status, _ in replies] == [200, 200, 200]
    assert all(reply["ok"] for _, reply in replies), replies
    assert counts["max"] == 1
    assert sum(bool(reply["files"]) for _, reply in replies) == 1  # the others found it up to date
    assert git(project, "status", "--porcelain") == ""
    assert len(git(project, "log", "--oneline", "main").splitlines()) == 3  # initial, promote, merge
    assert len(git(project, "log", "--oneline", "--merges", "main").splitlines()) == 1
    assert git(project, "rev-list", "--count", "promote/demo").strip() == "1"
    git(project, "fsck", "--strict")


async def test_promotes_of_different_targets_run_in_parallel(jp_fetch, notebook, monkeypatch):
    counts = track_promotes(monkeypatch)
    replies = await asyncio.gather(
        *(call(jp_fetch, "promote", {"path": NOTEBOOK, "output": f"out{i}"}) for i in range(2))
    )
    assert [status for status, _ in replies] == [200, 200]
    assert counts["max"] == 2


async def test_promotes_into_one_repository_are_serialised(jp_fetch, notebook, jp_root_dir, monkeypatch):
    """Two outputs inside one repository share git's index: they must not run at the same time."""
    git(jp_root_dir, "init", "-q", "-b", "main")
    git(jp_root_dir, "add", NOTEBOOK)
    git(jp_root_dir, "commit", "-qm", "notebook")
    counts = track_promotes(monkeypatch)
    replies = await asyncio.gather(
        *(call(jp_fetch, "promote", {"path": NOTEBOOK, "output": f"shared{i}"}) for i in range(2))
    )
    assert [status for status, _ in replies] == [200, 200]
    assert counts["max"] == 1
    assert git(jp_root_dir, "status", "--porcelain") == ""


async def test_analyze_reads_unsaved_content_from_the_editor(jp_fetch, notebook):
    """The panel sends the editor's JSON, so a tag that is not saved yet already shows."""
    content = json.loads(notebook.read_text())
    content["cells"][0]["metadata"]["tags"] = ["promote:skip"]
    status, plan = await call(jp_fetch, "analyze", {"path": NOTEBOOK, "content": content})
    assert status == 200
    assert plan["cells"][0]["role"] == "skip"
    status, reply = await call(jp_fetch, "analyze", {"path": NOTEBOOK, "content": ["not", "a", "notebook"]})
    assert status == 400 and "content" in reply["message"]


# --- hostile input (issue 7): every refusal a 4xx with a message, never a 500 --------------------


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("field", ["path", "output"])
async def test_a_name_longer_than_the_file_system_allows_is_a_4xx(jp_fetch, notebook, route, field):
    body = {"path": NOTEBOOK, field: "a" * 300 + (".ipynb" if field == "path" else "")}
    status, reply = await call(jp_fetch, route, body)
    if route == "analyze" and field == "output":
        assert status == 200  # analyze reads the notebook only
    else:
        assert_error(status, reply, (400, 404))


@pytest.mark.parametrize(
    ("case", "raw"),
    [
        (
            "null-source",
            '{"path": "demo.ipynb", "content": {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
            '"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": null, "outputs": [], "execution_count": null}]}}',
        ),
        (
            "lone-surrogate",
            '{"path": "demo.ipynb", "content": {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
            '"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": "x = \'\\ud800\'", "outputs": [], "execution_count": null}]}}',
        ),
        ("nested-100000", '{"path": "demo.ipynb", "content": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        (
            "nested-content",
            '{"path": "demo.ipynb", "content": {"metadata": ' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "}}",
        ),
    ],
)
async def test_malformed_content_is_a_4xx_naming_the_problem(jp_fetch, notebook, case, raw):
    status, reply = await call(jp_fetch, "analyze", raw=raw)
    assert_error(status, reply, (400, 422))


async def test_a_body_over_64_mib_is_refused_with_413(jp_fetch, notebook):
    padding = "x" * (64 * 2**20 + 1)
    status, reply = await call(jp_fetch, "analyze", raw=json.dumps({"path": NOTEBOOK, "padding": padding}))
    assert_error(status, reply, 413)


async def test_error_messages_name_paths_relative_to_the_root(jp_fetch, jp_root_dir):
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / "sub" / "broken.ipynb").write_text("not a notebook")
    for route in POST_ROUTES:
        status, reply = await call(jp_fetch, route, {"path": "sub/broken.ipynb"})
        assert_error(status, reply, (404, 422))
        assert str(jp_root_dir) not in json.dumps(reply) and "sub/broken.ipynb" in reply["message"]


async def test_50_concurrent_previews_and_5_concurrent_promotes_into_one_repository(jp_fetch, notebook, jp_root_dir):
    git(jp_root_dir, "init", "-q", "-b", "main")
    git(jp_root_dir, "add", NOTEBOOK)
    git(jp_root_dir, "commit", "-qm", "notebook")
    previews = [call(jp_fetch, "preview", {"path": NOTEBOOK, "output": "pkg"}) for _ in range(50)]
    promotes = [call(jp_fetch, "promote", {"path": NOTEBOOK, "output": f"pkg{i % 2}"}) for i in range(5)]

    replies = await asyncio.gather(*previews, *promotes)

    assert all(status == 200 for status, _ in replies), [r for s, r in replies if s != 200][:2]
    assert all(reply["ok"] for _, reply in replies[:50])
    for _, reply in replies[50:]:  # committed, or found up to date: never half done
        assert reply["ok"] and (reply["commit"] or "up to date" in reply["message"]), reply
    assert git(jp_root_dir, "status", "--porcelain") == ""
    assert not (jp_root_dir / ".git" / "MERGE_HEAD").exists()
    git(jp_root_dir, "fsck", "--strict")

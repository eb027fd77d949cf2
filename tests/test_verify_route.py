"""The verify route on a real jupyter_server: a background job that executes code, so it needs write permission."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from jupyter_server.auth import Authorizer

from jupyterlab_promote.handlers import NAMESPACE

from .helpers import write_notebook
from .test_verify import PLAIN

NOTEBOOK = "plain.ipynb"


def server_config(**serverapp: object) -> dict:
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_promote": True}, **serverapp}}


@pytest.fixture
def jp_server_config() -> dict:
    return server_config()


@pytest.fixture(autouse=True)
def git_setup(isolated_git) -> None:
    """Every test here runs with isolated_git (conftest.py)."""


@pytest.fixture
def notebook(jp_root_dir: Path) -> Path:
    return write_notebook(jp_root_dir / NOTEBOOK, PLAIN)


async def post(jp_fetch, body: object) -> tuple[int, dict]:
    response = await jp_fetch(NAMESPACE, "verify", method="POST", body=json.dumps(body), raise_error=False)
    return response.code, json.loads(response.body)


async def poll(jp_fetch, job: str) -> tuple[int, dict]:
    response = await jp_fetch(NAMESPACE, "verify", method="GET", params={"job": job}, raise_error=False)
    return response.code, json.loads(response.body)


async def finished(jp_fetch, job: str) -> dict:
    """The job's last report, once it is no longer running (the notebook and the package take seconds)."""
    while True:
        status, reply = await poll(jp_fetch, job)
        assert status == 200, reply
        if reply["state"] != "running":
            return reply
        await asyncio.sleep(0.5)


async def test_verify_runs_in_the_background_and_reports_the_table(jp_fetch, notebook, jp_root_dir):
    status, started = await post(jp_fetch, {"path": NOTEBOOK, "output": "out", "set": {"n": 40}, "seeds": 2})
    assert status == 200 and started["state"] == "running" and started["job"]
    reply = await finished(jp_fetch, started["job"])
    assert reply["state"] == "done", reply
    result = reply["result"]
    assert result["ok"] and result["output"] == "out" and result["parameters"] == {"n": 40}
    assert {m["name"]: m["verdict"] for m in result["metrics"]} == {"mean": "ok", "largest": "ok"}
    assert reply["progress"] == ["recording fidelity.json"]
    assert json.loads((jp_root_dir / "out" / "fidelity.json").read_text())["seeds"] == 2


async def test_a_failing_notebook_is_a_failed_job_naming_the_cell(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir / NOTEBOOK, [*PLAIN, ("raise ValueError('boom')", ["promote:skip"])])
    status, started = await post(jp_fetch, {"path": NOTEBOOK})
    assert status == 200
    reply = await finished(jp_fetch, started["job"])
    assert reply["state"] == "failed"
    assert reply["result"]["error"] == "VerifyError" and "cell 4 (id cell-4)" in reply["result"]["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"path": NOTEBOOK, "seeds": "3"}, "seeds"),
        ({"path": NOTEBOOK, "seeds": 0}, "seeds"),
        ({"path": NOTEBOOK, "rtol": "tight"}, "rtol"),
        ({"path": NOTEBOOK, "set": "epochs=2"}, "set"),
        ({"path": "../outside.ipynb"}, "path"),
    ],
)
async def test_bad_requests_are_refused_before_any_work(jp_fetch, notebook, body, field):
    status, reply = await post(jp_fetch, body)
    assert status == 400 and reply["ok"] is False and f"'{field}'" in reply["message"]


async def test_unknown_job_is_404(jp_fetch):
    status, reply = await poll(jp_fetch, "no-such-job")
    assert status == 404 and reply["error"] == "NotFound"


class ReadOnly(Authorizer):
    """Allows reading and refuses writing."""

    def is_authorized(self, handler, user, action, resource):
        return action != "write"


@pytest.mark.parametrize("jp_server_config", [server_config(authorizer_class=ReadOnly)])
async def test_verify_executes_code_so_a_read_only_user_gets_403(jp_fetch, notebook, jp_root_dir):
    status, reply = await post(jp_fetch, {"path": NOTEBOOK, "output": "out"})
    assert status == 403
    assert not (jp_root_dir / "out").exists()

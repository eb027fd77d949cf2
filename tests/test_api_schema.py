"""Every route's replies, from a real jupyter_server, match the one definition of the shapes: api.schema.json."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from jupyterlab_promote.handlers import NAMESPACE, ROUTES

from .helpers import write_notebook
from .test_verify import PLAIN

SCHEMA = json.loads((Path(__file__).parents[1] / "jupyterlab_promote" / "api.schema.json").read_text())
NOTEBOOK = "My Model (v2).ipynb"

# Every role source and a custom step, so that each field of a cell and a step carries a real value.
CELLS = [
    "import random",
    ("n = 40\nseed = 3\nrandom.seed(seed)", ["parameters"]),
    ("# promote: data\nvalues = [random.random() for _ in range(n)]", []),
    "def scale(xs):\n    return [2 * x for x in xs]",
    ("scaled = scale(values)", ["step:rescale"]),
    ("mean = sum(scaled) / n\nlargest = max(scaled)", ["pipeline-metrics"]),
]


@pytest.fixture
def jp_server_config() -> dict:
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab_promote": True}}}


@pytest.fixture(autouse=True)
def git_identity(isolated_git) -> None:
    """Every test here runs with isolated_git (conftest.py)."""


def assert_matches(reply: dict, definition: str) -> None:
    """``reply`` is valid against ``#/$defs/<definition>``; every violation is listed."""
    validator = Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"})
    problems = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(reply)]
    assert not problems, "\n".join(problems)


async def request(jp_fetch, method: str, route: str, body: dict | None = None, **params: str) -> tuple[int, dict]:
    data = {"body": json.dumps(body)} if method == "POST" else {}
    response = await jp_fetch(NAMESPACE, route, method=method, raise_error=False, params=params or None, **data)
    return response.code, json.loads(response.body)


def test_the_schema_is_valid_and_describes_every_route():
    Draft202012Validator.check_schema(SCHEMA)
    assert set(ROUTES) == {"analyze", "preview", "promote", "check", "verify", "version", "jobs", "registry"}


async def test_analyze_reply_matches_and_carries_the_servers_names(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir / NOTEBOOK, CELLS)
    status, plan = await request(jp_fetch, "POST", "analyze", {"path": NOTEBOOK})
    assert status == 200
    assert_matches(plan, "analysis")
    assert plan["package"] == "my_model_v2" and plan["output"] == "My Model (v2)_project"
    sources = {cell["first_line"]: (cell["role"], cell["role_source"], cell["step"]) for cell in plan["cells"]}
    assert sources["# promote: data"] == ("data", "directive", "data")
    assert sources["scaled = scale(values)"] == ("step", "kale", "rescale")
    rescale = next(step for step in plan["steps"] if step["name"] == "rescale")
    assert rescale["inputs"] == ["values"] and rescale["pulled"] == [3]
    assert next(step for step in plan["steps"] if step["name"] == "data")["parameters"] == ["n"]

    # The panel's own pattern setting is expanded by the server, {package} included.
    status, plan = await request(
        jp_fetch, "POST", "analyze", {"path": NOTEBOOK, "output_pattern": "built/{package}", "name": "other_name"}
    )
    assert status == 200 and plan["output"] == "built/other_name" and plan["package"] == "other_name"
    status, refused = await request(jp_fetch, "POST", "analyze", {"path": NOTEBOOK, "output_pattern": "{pkg}"})
    assert status == 400
    assert_matches(refused, "error")


async def test_preview_promote_check_version_and_errors_match(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir / NOTEBOOK, CELLS)
    target = {"path": NOTEBOOK, "output": "out"}
    for route, definition in [("preview", "preview"), ("check", "check"), ("promote", "promoteResult")]:
        status, reply = await request(jp_fetch, "POST", route, target)
        assert status == 200, reply
        assert_matches(reply, definition)
    status, reply = await request(jp_fetch, "POST", "check", target)
    assert status == 200 and reply["drifted"] is False
    assert_matches(reply, "check")
    status, reply = await request(jp_fetch, "GET", "version")
    assert status == 200
    assert_matches(reply, "version")
    for body in [{"path": "missing.ipynb"}, {"path": "../x.ipynb"}, {"path": NOTEBOOK, "name": "class"}]:
        status, reply = await request(jp_fetch, "POST", "analyze", body)
        assert status >= 400
        assert_matches(reply, "error")


async def test_verify_job_replies_match_while_running_and_when_done(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir / "plain.ipynb", PLAIN)
    status, job = await request(jp_fetch, "POST", "verify", {"path": "plain.ipynb", "output": "plain_out"})
    assert status == 200
    assert_matches(job, "verifyJob")
    while job["state"] == "running":
        await asyncio.sleep(0.5)
        status, job = await request(jp_fetch, "GET", "verify", job=job["job"])
        assert status == 200
        assert_matches(job, "verifyJob")
    assert job["state"] == "done" and job["result"]["ok"] is True
    assert_matches(job["result"], "verifyResult")
    status, missing = await request(jp_fetch, "GET", "verify", job="nope")
    assert status == 404
    assert_matches(missing, "error")

"""REST route for ``--verify``: a background job that runs the notebook and the package, then compares them.

A thin adapter on :class:`handlers.PromoteHandler` (auth, paths kept inside the root, JSON errors), calling
:mod:`jupyterlab_promote.api` only. handlers.py imports this module last; it adds its route to ``ROUTES``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import tornado.web
from jupyter_server.auth.decorator import authorized

from . import api
from .errors import PromoteError
from .handlers import ROUTES, PromoteHandler, bad_input, lock_for, not_found


@dataclass
class VerifyJob:
    """One background ``--verify``: it runs the notebook and the package, so it takes minutes."""

    id: str
    state: str = "running"  # running | done | failed
    progress: list[str] = field(default_factory=list)
    result: dict | None = None

    def to_json(self) -> dict:
        return {"ok": True, "job": self.id, "state": self.state, "progress": self.progress[-1:], "result": self.result}


# Jobs by id; the oldest finished ones are forgotten beyond this many.
_verify_jobs: dict[str, VerifyJob] = {}
_KEPT_JOBS = 32


def _overrides(body: dict) -> list[str]:
    """``set``: ``{"epochs": 2}`` or ``["epochs=2"]``, as NAME=VALUE texts for api.verify."""
    value = body.get("set") or []
    if isinstance(value, dict):
        return [f"{key}={item!r}" for key, item in value.items()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise bad_input("'set' must be an object of parameter values or a list of \"NAME=VALUE\" strings.")


def _number(body: dict, field: str, kind: type, default: float) -> float:
    value = body.get(field, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise bad_input(f"'{field}' must be {'an integer' if kind is int else 'a number'}, got {value!r}.")
    return value


class VerifyHandler(PromoteHandler):
    """POST starts a verify job (write: it executes the notebook's code); GET ?job=ID reports on it."""

    @tornado.web.authenticated
    @authorized(action="write")
    async def post(self) -> None:
        await self.answer(self._start)

    async def _start(self, body: dict) -> dict:
        notebook, output, name = self.target(body)
        if self.template(body):
            raise bad_input("verify with a project template is not supported yet: verify the built-in layout.")
        overrides, seeds = _overrides(body), int(_number(body, "seeds", int, 1))
        rtol = float(_number(body, "rtol", float, 1e-6))
        if not 1 <= seeds <= 20:
            raise bad_input(f"'seeds' must be between 1 and 20, got {seeds}.")
        job = VerifyJob(uuid.uuid4().hex)
        _verify_jobs[job.id] = job
        for stale in [j for j in _verify_jobs.values() if j.state != "running"][:-_KEPT_JOBS]:
            _verify_jobs.pop(stale.id, None)
        strict = self.promoter().strict
        call = functools.partial(
            api.verify,
            notebook,
            output,
            name,
            overrides=overrides,
            seeds=seeds,
            rtol=rtol,
            strict=strict,
            progress=job.progress.append,
        )
        job_task = asyncio.ensure_future(self._run(job, output, call))
        _running_tasks.add(job_task)
        job_task.add_done_callback(_running_tasks.discard)
        return job.to_json()

    async def _run(self, job: VerifyJob, output: Path, call: Callable[[], Any]) -> None:
        try:
            async with lock_for(output):
                job.result = self.relative((await self.off_loop(call)).to_json())
            job.state = "done"
        except PromoteError as exc:
            job.result, job.state = exc.to_json(), "failed"
        except Exception as exc:
            self.log.exception("jupyterlab-promote: verify failed")
            job.result = {
                "ok": False,
                "error": "InternalError",
                "message": f"Unexpected {type(exc).__name__}: {str(exc)[:200]}.",
            }
            job.state = "failed"

    @tornado.web.authenticated
    @authorized(action="read")
    async def get(self) -> None:
        job = _verify_jobs.get(self.get_query_argument("job", ""))
        if job is None:
            self.set_status(404)
            self.finish(json.dumps(not_found("No such verify job (finished jobs are kept for a while).").to_json()))
            return
        self.finish(json.dumps(job.to_json()))


# Strong references to running verify tasks: asyncio keeps only weak ones.
_running_tasks: set[asyncio.Future] = set()


ROUTES["verify"] = VerifyHandler

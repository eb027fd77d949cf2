"""REST routes for a promoted project's lifecycle: background jobs (smoke pipeline, tests) and the model registry.

Thin adapters on :class:`handlers.PromoteHandler` (auth, paths kept inside the root, JSON errors), calling
:mod:`jupyterlab_promote.api` only. handlers.py imports this module last; it adds its routes to ``ROUTES``.
"""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from . import api
from .handlers import ROUTES, PromoteHandler, RequestError, resolve_inside


def _text(body: dict, field: str, what: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise RequestError(400, "BadRequest", f"'{field}' is required: {what}.")
    return value.strip()


class LifecycleHandler(PromoteHandler):
    """GET and DELETE carry their arguments in the query: they become the ``body`` that ``answer`` hands on."""

    def read_body(self) -> dict:
        if self.request.method in ("GET", "DELETE"):
            return {name: self.get_query_argument(name) for name in self.request.query_arguments}
        return super().read_body()

    def project(self, body: dict):
        """The promoted project's directory, inside the Jupyter root (the same checks as every route's paths)."""
        output = resolve_inside(self.root, _text(body, "output", "the promoted project's directory"), "output")
        if not output.is_dir():
            raise RequestError(404, "NotFound", f"No directory at {body['output']!r}: promote the notebook first.")
        return output

    def job(self, body: dict) -> api.Job:
        job = api.get_job(_text(body, "job", "the id that starting the job returned"))
        if job is None:
            raise RequestError(404, "NotFound", "No such job (finished jobs are kept for a while).")
        return job


def _since(body: dict) -> int:
    text = str(body.get("since") or "0")
    if not text.isdigit():
        raise RequestError(400, "BadRequest", f"'since' must be a character offset (0 or more), got {text!r}.")
    return int(text)


class JobsHandler(LifecycleHandler):
    """POST starts the smoke pipeline or the tests of a project, GET ?job=ID&since=N reports, DELETE ?job=ID cancels.

    Starting and cancelling are writes: a job executes the project's code.
    """

    @tornado.web.authenticated
    @authorized(action="write")
    async def post(self) -> None:
        await self.answer(self._start)

    async def _start(self, body: dict) -> dict:
        output, kind = self.project(body), _text(body, "kind", "smoke or tests")
        return (await self.off_loop(api.start_job, output, kind)).to_json()

    @tornado.web.authenticated
    @authorized(action="read")
    async def get(self) -> None:
        await self.answer(self._status)

    async def _status(self, body: dict) -> dict:
        return self.job(body).to_json(_since(body))

    @tornado.web.authenticated
    @authorized(action="write")
    async def delete(self) -> None:
        await self.answer(self._cancel)

    async def _cancel(self, body: dict) -> dict:
        job = self.job(body)
        await self.off_loop(api.cancel_job, job.id)
        return job.to_json(_since(body))


class RegistryHandler(LifecycleHandler):
    """GET ?output=DIR: the project's registered model versions, their metrics and the champion (read only)."""

    @tornado.web.authenticated
    @authorized(action="read")
    async def get(self) -> None:
        await self.answer(self._registry)

    async def _registry(self, body: dict) -> dict:
        # off the loop: importing mlflow and opening its store take seconds
        return await self.off_loop(api.registered_versions, self.project(body))


ROUTES.update({"jobs": JobsHandler, "registry": RegistryHandler})

"""REST routes of the server extension: thin adapters from HTTP to :mod:`jupyterlab_promote.api`.

Nothing here knows how promotion works. A handler checks who is asking, turns
the JSON body into paths that are guaranteed to lie inside the Jupyter root,
runs the API call off the event loop and returns the API's own JSON. Errors are
JSON too (``{"ok": false, "error", "message"}``), never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import weakref
from collections import OrderedDict
from pathlib import Path, PureWindowsPath
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from . import api
from ._version_info import tool_version
from .errors import PromoteError
from .settings import Promoter, expand_output_pattern

NAMESPACE = "jupyterlab-promote"
# A notebook sent as unsaved `content` may be large, but not unbounded.
MAX_BODY_BYTES = 64 * 2**20

# One lock per git repository (or per output directory outside any repository), so that
# promotes sharing a repository run one after the other instead of fighting over git's index.
# Weak values: a lock disappears once no request holds or waits for it.
_output_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


# Identical requests in flight share one computation (a burst of previews from several tabs or users),
# and analyses are remembered by content: the panel re-analyses the same notebook often.
_in_flight: dict[tuple, asyncio.Future] = {}
_analyses: OrderedDict[tuple, dict] = OrderedDict()
_KEPT_ANALYSES = 32


def _request_key(route: str, body: bytes, *files: Path) -> tuple:
    """What makes two requests identical: the route, the body and the bytes of the files they read."""
    digest = hashlib.sha256(body)
    for path in files:
        digest.update(b"\0" + str(path).encode("utf-8", "surrogateescape") + b"\0" + path.read_bytes())
    return route, digest.hexdigest()


def _modules_beside(notebook: Path) -> str:
    """The Python files beside the notebook, each with its size and time of change: an analysis copies those the
    notebook imports (stages/local_modules.py), so one of them changed is another analysis."""
    try:
        found = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in notebook.parent.glob("*.py")]
    except OSError:  # a folder that cannot be listed has no module the analysis could copy either
        return ""
    return hashlib.sha256(repr(sorted(found)).encode("utf-8", "surrogateescape")).hexdigest()


def _lock_key(output: Path) -> str:
    for candidate in [output, *output.parents]:
        if (candidate / ".git").exists():
            return str(candidate)
    return str(output)


def lock_for(output: Path) -> asyncio.Lock:
    key = _lock_key(output)
    lock = _output_locks.get(key)
    if lock is None:
        lock = _output_locks[key] = asyncio.Lock()
    return lock


class RequestError(Exception):
    """A request refused before any work: bad input (400) or a path we will not touch (404)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def to_json(self) -> dict:
        return {"ok": False, "error": self.error, "message": self.message}


def bad_input(message: str) -> RequestError:
    return RequestError(400, "BadRequest", message)


def not_found(message: str) -> RequestError:
    return RequestError(404, "NotFound", message)


def resolve_inside(root: Path, value: str, field: str) -> Path:
    """``value`` (relative to ``root``) as a resolved path that is inside ``root``.

    Both the raw and the URL-decoded text are checked, so ``%2e%2e/`` is refused
    like ``../``; the raw text is what gets opened, since JSON bodies carry file
    names as they are on disk. ``resolve()`` follows symlinks, so a link that
    points out of the root is refused too.
    """
    for text in {value, unquote(value)}:
        if "\0" in text:
            raise bad_input(f"'{field}' contains a NUL character.")
        if text.startswith(("/", "\\")) or PureWindowsPath(text).drive:
            raise bad_input(f"'{field}' must be relative to the Jupyter root, not absolute: {value!r}.")
        if ".." in text.replace("\\", "/").split("/"):
            raise bad_input(f"'{field}' must not contain '..': {value!r}.")
    resolved = (root / value).resolve()
    if not resolved.is_relative_to(root):
        raise not_found(f"'{field}' {value!r} is outside the Jupyter root (a symbolic link leaving it?).")
    return resolved


def _optional_string(body: dict, field: str) -> str | None:
    """An optional text field; missing, null and blank all mean "use the default"."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_input(f"'{field}' must be a string, got {type(value).__name__}.")
    return value.strip() or None


class PromoteHandler(APIHandler):
    """Shared plumbing: body parsing, path checks, off-loop work and JSON errors."""

    auth_resource = "contents"

    @property
    def root(self) -> Path:
        root_dir = getattr(self.contents_manager, "root_dir", None)
        if not root_dir:
            raise RequestError(501, "NotSupported", "Promotion needs a file-based contents manager with a root_dir.")
        return Path(root_dir).resolve()

    def promoter(self) -> Promoter:
        """``c.Promoter.*`` from the server's config, the same traits the CLI reads."""
        return Promoter(config=self.settings.get("config") or self.config)

    def read_body(self) -> dict:
        if len(self.request.body or b"") > MAX_BODY_BYTES:
            raise RequestError(
                413,
                "PayloadTooLarge",
                f"The request body is over {MAX_BODY_BYTES // 2**20} MiB; save the notebook and send its path only.",
            )
        try:
            body = json.loads(self.request.body or b"")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise bad_input('The request body must be JSON, like {"path": "notebook.ipynb"}.') from None
        if not isinstance(body, dict):
            raise bad_input(f"The request body must be a JSON object, got {type(body).__name__}.")
        return body

    def notebook_path(self, body: dict) -> Path:
        value = body.get("path")
        if not isinstance(value, str) or not value.strip():
            raise bad_input("'path' is required: the notebook's path relative to the Jupyter root.")
        notebook = resolve_inside(self.root, value.strip(), "path")
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            raise not_found(f"No notebook at {value!r} (a .ipynb file relative to the Jupyter root).")
        return notebook

    def output_path(self, body: dict, notebook: Path, pattern: str | None = None) -> Path:
        """The requested ``output``, else ``pattern`` or ``c.Promoter.output_pattern``; it must stay inside the root."""
        value = _optional_string(body, "output")
        if value is not None:
            return resolve_inside(self.root, value, "output")
        name = _optional_string(body, "name")
        if pattern:
            relative = expand_output_pattern(pattern, notebook, name)
        else:
            relative = self.promoter().default_output(notebook, name)
        default = (self.root / relative).resolve()  # an absolute pattern wins
        if not default.is_relative_to(self.root):
            raise bad_input(f"The default output {default} (output_pattern) is outside the Jupyter root.")
        return default

    def template(self, body: dict, *, action: str = "write") -> dict:
        """``template``/``template_options`` for the API: the server's own, or one the request names from its allow-list.

        Templates run code (cookiecutter hooks), so a request may only pick a location the server configured in
        ``c.Promoter.template_allow_list``, never carry template options (they are rendered into hook code), and a
        read-only request (preview) may use a template only when the user may also write.
        """
        settings = self.promoter()
        if body.get("template_options") not in (None, [], {}):
            raise RequestError(
                403, "Forbidden", "template options come from the server's configuration (c.Promoter.template_options)."
            )
        requested = _optional_string(body, "template")
        if requested is not None and requested not in settings.template_allow_list:
            raise RequestError(
                403,
                "Forbidden",
                f"template {requested!r} is not in the server's allow-list (c.Promoter.template_allow_list).",
            )
        arguments = (
            settings.template_arguments()
            if requested is None
            else {
                "template": requested,
                "template_options": list(settings.template_options),
            }
        )
        if (
            arguments
            and action != "write"
            and not self.authorizer.is_authorized(self, self.current_user, "write", "contents")
        ):
            raise RequestError(
                403, "Forbidden", "rendering a project template runs its hooks: it needs write permission."
            )
        return arguments

    def target(self, body: dict) -> tuple[Path, Path, str | None]:
        """(notebook, output, package name) of a preview, promote or check request."""
        notebook = self.notebook_path(body)
        return notebook, self.output_path(body, notebook), _optional_string(body, "name")

    def relative(self, answer: dict) -> dict:
        """Report ``notebook``/``output`` relative to the root, as the client sent them."""
        for key in ("notebook", "output"):
            value = answer.get(key)
            if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_relative_to(self.root):
                answer[key] = Path(value).relative_to(self.root).as_posix() or "."
        return answer

    def hide_root(self, reply: dict) -> dict:
        """Error messages name paths relative to the Jupyter root, as the client sent them: no server layout leaks."""
        root = str(Path(getattr(self.contents_manager, "root_dir", "") or "/").resolve())

        def relative(text: object) -> object:
            if not isinstance(text, str) or root == "/":
                return text
            return text.replace(root + "/", "").replace(root, ".")

        reply["message"] = relative(reply.get("message"))
        if isinstance(reply.get("details"), list):
            reply["details"] = [relative(line) for line in reply["details"]]
        return reply

    async def off_loop(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Promotion reads, formats and runs git: seconds of work that must not block the server."""
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))

    async def shared(self, key: tuple, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``off_loop(fn, ...)``, computed once for identical requests in flight at the same time.

        The computation is shielded: a client that disconnects does not cancel it for the others.
        """
        future = _in_flight.get(key)
        if future is None:
            future = _in_flight[key] = asyncio.ensure_future(self.off_loop(fn, *args, **kwargs))
            future.add_done_callback(lambda _: _in_flight.pop(key, None))
        return await asyncio.shield(future)

    async def answer(self, work: Callable[[dict], Awaitable[dict]]) -> None:
        """Run ``work(body)`` and send its JSON; every failure becomes a JSON error body."""
        try:
            status, reply = 200, self.relative(await work(self.read_body()))
        except (RequestError, PromoteError) as exc:
            status, reply = exc.status, self.hide_root(exc.to_json())
        except OSError as exc:  # a name longer than the file system allows, a permission denied, …
            where = exc.filename if isinstance(exc.filename, str) else "a path"
            reason = exc.strerror or type(exc).__name__
            status, reply = 400, self.hide_root({"ok": False, "error": "OSError", "message": f"{where}: {reason}"})
        except Exception as exc:
            self.log.exception("jupyterlab-promote: %s %s failed", self.request.method, self.request.path)
            status, reply = 500, {
                "ok": False,
                "error": "InternalError",
                "message": f"Unexpected {type(exc).__name__}: {str(exc)[:200]}. The server log has the details.",
            }
        self.set_status(status)
        self.finish(json.dumps(reply))


class AnalyzeHandler(PromoteHandler):
    # @authorized maps POST to "write"; analysing only reads the notebook, so it asks for "read".
    @tornado.web.authenticated
    @authorized(action="read")
    async def post(self) -> None:
        await self.answer(self._analyze)

    async def _analyze(self, body: dict) -> dict:
        notebook, name = self.notebook_path(body), _optional_string(body, "name")
        content = body.get("content")
        if content is not None and not isinstance(content, dict):
            raise bad_input("'content' must be the notebook as a JSON object")
        strict = self.promoter().strict
        key = _request_key(
            f"analyze strict={strict} {_modules_beside(notebook)}",
            self.request.body or b"",
            *([notebook] if content is None else []),
        )
        if (analysis := _analyses.get(key)) is None:
            plan = await self.shared(key, api.analyze, notebook, name, strict=strict, content=content)
            analysis = _analyses[key] = plan.to_json()
            while len(_analyses) > _KEPT_ANALYSES:
                _analyses.popitem(last=False)
        _analyses.move_to_end(key)
        # The default output travels with the plan, so the panel never derives names itself.
        output = self.output_path(body, notebook, _optional_string(body, "output_pattern"))
        return {**analysis, "output": str(output)}


class PreviewHandler(PromoteHandler):
    # Read: preview computes diffs against the target and writes nothing.
    @tornado.web.authenticated
    @authorized(action="read")
    async def post(self) -> None:
        await self.answer(self._preview)

    async def _preview(self, body: dict) -> dict:
        notebook, output, name = self.target(body)
        strict = self.promoter().strict
        template = self.template(body, action="read")
        key = _request_key(f"preview strict={strict} output={output} {template}", self.request.body or b"", notebook)
        return (await self.shared(key, api.preview, notebook, output, name, strict=strict, **template)).to_json()


class PromoteRouteHandler(PromoteHandler):
    # Write: promote creates files, commits and merges in the target directory.
    @tornado.web.authenticated
    @authorized(action="write")
    async def post(self) -> None:
        await self.answer(self._promote)

    async def _promote(self, body: dict) -> dict:
        """A plan with errors or a merge conflict is still HTTP 200 with ``ok: false``."""
        notebook, output, name = self.target(body)
        template = self.template(body)
        async with lock_for(output):
            result = await self.off_loop(api.promote, notebook, output, name, strict=self.promoter().strict, **template)
        return result.to_json()


class CheckHandler(PromoteHandler):
    # Read: compares the notebook with the last promotion recorded in git.
    @tornado.web.authenticated
    @authorized(action="read")
    async def post(self) -> None:
        await self.answer(self._check)

    async def _check(self, body: dict) -> dict:
        return (await self.off_loop(api.check, *self.target(body))).to_json()


class VersionHandler(PromoteHandler):
    @tornado.web.authenticated
    @authorized(action="read")
    async def get(self) -> None:
        self.finish(json.dumps({"version": tool_version()}))


ROUTES = {
    "analyze": AnalyzeHandler,
    "preview": PreviewHandler,
    "promote": PromoteRouteHandler,
    "check": CheckHandler,
    "version": VersionHandler,
}


def setup_handlers(web_app: tornado.web.Application) -> None:
    base_url = web_app.settings["base_url"]
    handlers = [(url_path_join(base_url, NAMESPACE, route), handler) for route, handler in ROUTES.items()]
    web_app.add_handlers(".*$", handlers)


# The verify and lifecycle routes (verify; jobs, registry) live in modules of their own, built on PromoteHandler;
# each adds its routes to ROUTES.
from . import lifecycle_handlers, verify_handlers  # noqa: E402,F401

"""jupyterlab-promote: promote a tagged notebook to a tested, git-committed Lightning package.

Importing the package stays light (no jupyter_server, torch or black): the CLI
imports it too, and the server part is loaded only when Jupyter asks for it.
"""

from __future__ import annotations

from typing import Any

from ._version_info import tool_version

__version__ = tool_version()


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-promote"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyterlab_promote"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the REST routes; handlers are imported here so the CLI never pulls in jupyter_server."""
    from .handlers import NAMESPACE, ROUTES, setup_handlers

    setup_handlers(server_app.web_app)
    server_app.log.info("jupyterlab-promote %s: registered /%s/{%s}", __version__, NAMESPACE, ",".join(ROUTES))

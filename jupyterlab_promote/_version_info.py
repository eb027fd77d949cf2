"""The tool's own version, without importing the (optional) build-time _version module eagerly."""

from __future__ import annotations


def tool_version() -> str:
    try:
        from ._version import __version__

        return __version__
    except ImportError:  # running from a source tree that was never built
        return "0.1.0"

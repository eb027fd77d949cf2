"""Errors that reach a person.

Every failure the core can foresee is a :class:`PromoteError` with a message
written for the user. The CLI prints it and the server returns it as JSON;
neither ever shows a traceback for these.
"""

from __future__ import annotations


class PromoteError(Exception):
    """A failure the user can act on.

    ``status`` is the HTTP status the server maps it to; the CLI maps every
    PromoteError to exit status 1.
    """

    status = 400

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])

    def to_json(self) -> dict:
        return {"ok": False, "error": type(self).__name__, "message": self.message, "details": self.details}


class NotebookError(PromoteError):
    """The notebook cannot be read (missing, not JSON, not a notebook)."""

    status = 404


class InvalidNotebookError(NotebookError):
    """The notebook was read but cannot be promoted as it is: a malformed cell, or not Python."""

    status = 422


class UsageError(PromoteError):
    """An argument (package name, output directory) cannot be used as given."""

    status = 400


class GitError(PromoteError):
    """Git refused, or the repository is not in a state we may touch."""

    status = 409


class RefusedError(GitError):
    """Promotion refused before changing anything (dirty tree, merge in progress, no identity)."""


class OutputNeededError(PromoteError):
    """The default output would land in a repository that is not the notebook's project: ask for --output."""


class TemplateError(PromoteError):
    """The template cannot be used: not found, refused, or it failed to render."""

    status = 400

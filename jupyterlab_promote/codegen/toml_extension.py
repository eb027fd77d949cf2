"""The ``toml`` filter as a Jinja extension, for our default template (skeleton/cookiecutter.json's ``_extensions``).

A module of its own: Jinja (and cookiecutter) import it by name when they build an environment, so promotion's
start-up never imports jinja2 for it.
"""

from __future__ import annotations

from jinja2.ext import Extension

from .render import toml_value


class TomlExtension(Extension):
    """Adds the ``toml`` filter (render.toml_value), the one our own templates use."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["toml"] = toml_value

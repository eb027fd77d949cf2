"""Settings shared by the CLI and the server extension (one ``c.Promoter.x`` serves both)."""

from __future__ import annotations

import string
from pathlib import Path

from traitlets import Bool, List, Unicode
from traitlets.config import Configurable

from .errors import UsageError
from .stages.plan import package_name

PLACEHOLDERS = ("notebook_dir", "notebook_stem", "package")


def expand_output_pattern(pattern: str, notebook: Path, name: str | None = None) -> Path:
    """The output directory ``pattern`` names for ``notebook``.

    ``{package}`` is the package name promotion will use (``name`` if given, else from the stem),
    computed by the same function as the plan's, so the panel and the CLI agree on it.
    """
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None]
    except ValueError as error:  # an unmatched brace
        raise UsageError(f"output pattern {pattern!r}: {error}; use {{notebook_dir}}, {{notebook_stem}}, {{package}}")
    unknown = sorted({field for field in fields if field not in PLACEHOLDERS})
    if unknown:
        raise UsageError(
            f"output pattern {pattern!r} has unknown placeholder(s) {', '.join(unknown)}; "
            "known: {notebook_dir}, {notebook_stem}, {package}"
        )
    values = {"notebook_dir": notebook.parent, "notebook_stem": notebook.stem}
    return Path(pattern.format(**values, package=package_name(name or notebook.stem)))


class Promoter(Configurable):
    """How notebooks are promoted; set in jupyter_promote_config.py or jupyter_server_config.py."""

    output_pattern = Unicode(
        "{notebook_dir}/{notebook_stem}_project",
        help="Default output directory; {notebook_dir}, {notebook_stem} and {package} are filled in.",
    ).tag(config=True)
    strict = Bool(False, help="Treat code pulled in from untagged cells as an error.").tag(config=True)
    template = Unicode(
        "",
        help="Organisation project template (cookiecutter): a local directory or a git URL; empty: the built-in layout. "
        "Templates run code (hooks): name only templates you trust.",
    ).tag(config=True)
    template_options = List(
        Unicode(), help="KEY=VALUE answers to the template's own variables (repeatable --template-option)."
    ).tag(config=True)
    template_allow_list = List(
        Unicode(),
        help="Server only: template locations a REST request (the panel) may name in its body; any other is refused "
        "with 403. Requests never carry template options.",
    ).tag(config=True)

    def template_arguments(self) -> dict:
        """``template``/``template_options`` for api.preview and api.promote (nothing without a template)."""
        return {"template": self.template, "template_options": list(self.template_options)} if self.template else {}

    def default_output(self, notebook: Path, name: str | None = None) -> Path:
        return expand_output_pattern(self.output_pattern, notebook, name)

"""Settings shared by the CLI and the server extension (one ``c.Promoter.x`` serves both)."""

from __future__ import annotations

from pathlib import Path

from traitlets import Bool, Unicode
from traitlets.config import Configurable


class Promoter(Configurable):
    """How notebooks are promoted; set in jupyter_promote_config.py or jupyter_server_config.py."""

    output_pattern = Unicode(
        "{notebook_dir}/{notebook_stem}_project",
        help="Default output directory; {notebook_dir} and {notebook_stem} are filled in.",
    ).tag(config=True)
    strict = Bool(False, help="Treat code pulled in from untagged cells as an error.").tag(config=True)

    def default_output(self, notebook: Path) -> Path:
        return Path(self.output_pattern.format(notebook_dir=notebook.parent, notebook_stem=notebook.stem))

"""Our default project template: a cookiecutter template shipped in the package (``skeleton/``).

``skeleton/`` holds the files around the notebook's code (pyproject.toml, README.md, the CI workflows,
.gitignore, Dockerfile, .dockerignore, deploy/slurm.sbatch for torch projects) as a real cookiecutter template: ``cookiecutter --no-input
jupyterlab_promote/codegen/skeleton`` renders the demo's surroundings from the defaults in its
cookiecutter.json. Promotion supplies ``package_name``, ``description`` and ``distribution``, and the rest as
private variables (``_torch``, ``_stages``, …: a leading ``_`` is how cookiecutter keeps lists and dicts as
they are instead of offering them as choices).

A promotion renders it here with jinja2 directly, with the Jinja settings cookiecutter would use
(``_jinja2_env_vars``, ``_extensions``, ``keep_trailing_newline``, ``StrictUndefined``): importing
cookiecutter alone takes ~0.35 s, more than the whole generation of a warm promotion.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

SKELETON = Path(__file__).parent / "skeleton"
# Our names for the variables cookiecutter's users know by another name; every other one gets a leading "_".
PUBLIC = {"package": "package_name", "description": "description", "distribution": "distribution"}


@lru_cache(maxsize=1)
def _settings() -> dict:
    return json.loads((SKELETON / "cookiecutter.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    from .render import _bytecode_cache

    settings = _settings()
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SKELETON)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # as cookiecutter: TOML, YAML, Markdown
        extensions=settings.get("_extensions", []),
        bytecode_cache=_bytecode_cache(),
        **settings.get("_jinja2_env_vars", {}),
    )


@lru_cache(maxsize=1)
def _templates() -> tuple[tuple[str, str], ...]:
    """(template name, path in the project) of every file under the project folder ``{{cookiecutter.…}}``."""
    (root,) = [p for p in SKELETON.iterdir() if p.is_dir() and "{{" in p.name]
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            found.append((f"{root.name}/{relative}", relative))
    return tuple(sorted(found))


def cookiecutter_context(values: dict) -> dict:
    """Our generation context as the template's ``cookiecutter`` variables."""
    return {PUBLIC.get(key, f"_{key}"): value for key, value in values.items()}


def render_skeleton(values: dict) -> dict[str, str]:
    """path in the project → text: every file of the default template, rendered with ``values``."""
    environment = _environment()
    context = cookiecutter_context(values)
    # what hooks/post_gen_project.py removes when cookiecutter renders it
    skipped = set() if values["torch"] else set(_settings()["_torch_only"])
    return {
        path: environment.get_template(name).render(cookiecutter=context)
        for name, path in _templates()
        if path not in skipped
    }

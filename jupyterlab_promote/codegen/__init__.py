"""Code generation: render a plan into the files of a Python package.

Only rendering happens here; every decision (which statement goes where, what
flows between steps) was made by :mod:`jupyterlab_promote.stages.plan`. Static files
come from Jinja2 templates, Python modules are assembled from the notebook's
own statements, and everything Python is formatted with black's API.
"""

from __future__ import annotations

from .project import GeneratedProject, generate

__all__ = ["GeneratedProject", "generate"]

"""Our default project template (codegen/skeleton/) is a real cookiecutter template.

Promotion renders it with jinja2 directly (importing cookiecutter costs more than a warm promotion's
generation), so these tests hold the two to the same bytes: cookiecutter itself, given the demo's variables,
renders exactly the files promotion writes. tests/test_golden.py holds the rendering to today's output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from jupyterlab_promote import api
from jupyterlab_promote.codegen import default_template, project

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"


def _demo_variables(monkeypatch) -> tuple[dict, dict[str, str]]:
    """(the cookiecutter variables promotion gives the skeleton for the demo, the files it generates)."""
    seen = {}

    def spy(values):
        seen.update(values)
        return default_template.render_skeleton(values)

    monkeypatch.setattr(project, "render_skeleton", spy)
    files = project.generate(api.analyze(DEMO), "demo.ipynb").files
    return default_template.cookiecutter_context(seen), files


def test_cookiecutter_renders_what_promotion_writes(tmp_path, monkeypatch):
    from cookiecutter.main import cookiecutter

    variables, files = _demo_variables(monkeypatch)
    template = tmp_path / "template"
    shutil.copytree(default_template.SKELETON, template)
    settings = json.loads((template / "cookiecutter.json").read_text())
    settings.update(variables)
    (template / "cookiecutter.json").write_text(json.dumps(settings))

    out = Path(cookiecutter(str(template), no_input=True, output_dir=str(tmp_path / "out")))

    rendered = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert out.name == "demo"
    assert set(rendered) == {"pyproject.toml", "README.md", ".gitignore", "Dockerfile", ".dockerignore"} | {
        f".github/workflows/{name}.yml" for name in ("ci", "retrain", "drift")
    } | {"deploy/slurm.sbatch"}
    assert {path: files[path] for path in rendered} == rendered


def test_cookiecutter_no_input_renders_the_shipped_defaults(tmp_path):
    """`cookiecutter --no-input jupyterlab_promote/codegen/skeleton` on its own, as a person would run it."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(default_template.SKELETON)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    out = tmp_path / "demo"
    pyproject = tomllib.loads((out / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "demo"
    assert "python -m demo" in (out / "README.md").read_text()
    assert (out / ".github" / "workflows" / "ci.yml").is_file()


def test_a_project_without_torch_has_no_slurm_script_either_way(tmp_path):
    """hooks/post_gen_project.py removes what promotion skips (cookiecutter.json's _torch_only)."""
    from cookiecutter.main import cookiecutter

    out = Path(
        cookiecutter(
            str(default_template.SKELETON), no_input=True, output_dir=str(tmp_path), extra_context={"_torch": False}
        )
    )
    assert not (out / "deploy" / "slurm.sbatch").exists()
    assert (out / "Dockerfile").is_file()
    values = json.loads((default_template.SKELETON / "cookiecutter.json").read_text())
    ours = {key.removeprefix("_"): value for key, value in values.items()}
    ours.update(package=ours.pop("package_name"), distribution="demo", torch=False)
    assert "deploy/slurm.sbatch" not in default_template.render_skeleton(ours)

"""Promotion into an organisation's project template (cookiecutter).

The built-in layout (``generate``) stays the default. With a template, :func:`apply_template`
renders it with the ``cookiecutter`` library (never a prompt: ``no_input=True``), supplying what
promotion knows where the template declares it, then maps the generated files into the rendered
tree (placing.py). The result is again a ``GeneratedProject`` whose ``files`` are the whole tree (template +
code), which is what gitrepo/merge.py commits on the pristine branch, so re-promotion merges hand edits
and template updates alike.

Where the code goes comes from ``promote.yaml`` at the template's root (beside cookiecutter.json)::

    source: "src/{{ cookiecutter.module_name }}"  # the package directory; our modules go in it
    tests: tests                                   # where our tests go
    ci_command: "make test"                        # how the template's CI runs tests and pipeline
    modules:                                       # optional: our module -> its name in this layout
      data: dataset
      pipeline: modeling.train
      predict: modeling.predict

Its text is rendered with the template's context first. Without it, placement is inferred from
the rendered tree (a package directory under ``src/`` or at the root) and reported;
cookiecutter-data-science v2 (a template with ``ccds.json``) gets its own layout, see CCDS_MODULES.

Templates are code that runs (cookiecutter hooks): only a local directory or a git repository the
user names is accepted here; the server adds its allow-list (handlers.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import PromoteError, TemplateError, UsageError
from .placing import Placement, place
from .project import GeneratedProject
from .render import PYTHON_VERSION, toml_value

HOOK_FILE = "promote.yaml"
# cookiecutter-data-science v2: our module -> where that layout expects it (dotted, inside the package).
CCDS_MODULES = {
    "data": "dataset",
    "model": "modeling.model",
    "pipeline": "modeling.train",
    "predict": "modeling.predict",
}
# What promotion supplies to CCDS unless --template-option says otherwise: CCDS's example modules
# (typer/loguru scaffolds reading CCDS's path constants) would clash with the notebook's own code.
CCDS_DEFAULTS = {"include_code_scaffold": "No"}
_GIT_URL = re.compile(r"^(git\+)?(https?|ssh|git|file)://\S+$|^[\w.-]+@[\w.-]+:\S+$")
_render_lock = threading.Lock()  # cookiecutter and the CCDS patches are process-global


@dataclass
class Templated:
    project: GeneratedProject
    placement: Placement
    notes: list[str]


def parse_options(items: list[str] | tuple[str, ...] | dict | None) -> dict:
    """``KEY=VALUE`` texts (a JSON object or list value is parsed: CCDS's nested choices take dicts)."""
    if isinstance(items, dict):
        return dict(items)
    options = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"template option {item!r} is not KEY=VALUE")
        value = value.strip()
        if value[:1] in "{[":
            try:
                value = json.loads(value)
            except ValueError:
                raise UsageError(f"template option {key.strip()}: {value!r} is not valid JSON") from None
        options[key.strip()] = value
    return options


def is_git_url(location: str) -> bool:
    """A URL git clones (a zip archive is not: cookiecutter would unpack it, we refuse it)."""
    return bool(_GIT_URL.match(location)) and not location.lower().endswith(".zip")


def check_location(location: str) -> str:
    """A local template directory (made absolute) or a git URL; anything else is refused."""
    location = location.strip()
    if is_git_url(location):
        return location
    path = Path(location).expanduser()
    if path.is_dir() and ((path / "cookiecutter.json").is_file() or (path / "ccds.json").is_file()):
        return str(path.resolve())
    if path.is_dir():
        raise TemplateError(f"template {location}: no cookiecutter.json in that directory")
    raise TemplateError(
        f"template {location!r} is neither a local template directory nor a git URL "
        "(zip files and abbreviations like gh: are not accepted)"
    )


@contextlib.contextmanager
def _ccds_patches(enabled: bool):
    """What `ccds` does to cookiecutter (../shared/templates/README.md), undone afterwards."""
    if not enabled:
        yield
        return
    import cookiecutter.environment
    import cookiecutter.generate
    import cookiecutter.main
    import cookiecutter.prompt
    import jinja2

    try:
        from ccds.monkey_patch import generate_context_wrapper, prompt_for_config
    except ImportError:
        raise TemplateError(
            "this is a cookiecutter-data-science template: its hooks need `pip install cookiecutter-data-science`"
        ) from None
    saved = [
        (cookiecutter.environment, "StrictUndefined"),
        (cookiecutter.main, "generate_context"),
        (cookiecutter.main, "prompt_for_config"),
        (cookiecutter.generate, "generate_context"),
        (cookiecutter.prompt, "prompt_for_config"),
    ]
    originals = [getattr(module, name) for module, name in saved]
    cookiecutter.environment.StrictUndefined = jinja2.Undefined
    cookiecutter.main.generate_context = cookiecutter.generate.generate_context = generate_context_wrapper
    cookiecutter.main.prompt_for_config = cookiecutter.prompt.prompt_for_config = prompt_for_config
    try:
        yield
    finally:
        for (module, name), original in zip(saved, originals):
            setattr(module, name, original)


def _fetch(location: str, into: Path) -> Path:
    """The template's root directory: the local one, or a fresh clone of the git URL."""
    if not is_git_url(location):
        return Path(location)
    url = location.removeprefix("git+")
    clone = into / "template"
    done = subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", url, str(clone)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise TemplateError(f"template {location}: git clone failed: {done.stderr.strip()[-300:]}")
    if not ((clone / "cookiecutter.json").is_file() or (clone / "ccds.json").is_file()):
        raise TemplateError(f"template {location}: no cookiecutter.json at the repository's root")
    return clone


def _supplied(project: GeneratedProject, description: str, notebook_ref: str) -> dict:
    package = project.package
    return {
        "project_name": package.replace("_", "-"),
        "repo_name": package.replace("_", "-"),
        "project_slug": package.replace("_", "-"),
        "package_name": package,
        "module_name": package,
        "description": description,
        "project_short_description": description,
        "python_version": PYTHON_VERSION,
        "python_version_number": PYTHON_VERSION,
        "notebook": notebook_ref,
        "notebook_path": notebook_ref,
        "dependencies": ", ".join(project.dependencies),
    }


def render(location: str, supplied: dict, options: dict) -> tuple[Path, Path, dict, tempfile.TemporaryDirectory]:
    """(template root, rendered project root, context, the temporary directory holding both)."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    scratch = tempfile.TemporaryDirectory(prefix="promote-template-")
    work = Path(scratch.name)
    try:
        root = _fetch(location, work)
        ccds = (root / "ccds.json").is_file()
        declared = json.loads((root / ("ccds.json" if ccds else "cookiecutter.json")).read_text(encoding="utf-8"))
        extra = {key: value for key, value in supplied.items() if key in declared}
        if ccds:
            extra.update(CCDS_DEFAULTS)
        extra.update(options)
        config = work / "cookiecutter-config.yaml"  # keeps replay files and clones out of $HOME
        config.write_text(
            f"cookiecutters_dir: {json.dumps(str(work / 'cache'))}\nreplay_dir: {json.dumps(str(work / 'replay'))}\n",
            encoding="utf-8",
        )
        with _render_lock, _ccds_patches(ccds):
            rendered = cookiecutter(
                str(root), no_input=True, extra_context=extra, output_dir=str(work / "out"), config_file=str(config)
            )
        replay = work / "replay"
        contexts = list(replay.glob("*.json")) if replay.is_dir() else []
        context = json.loads(contexts[0].read_text(encoding="utf-8"))["cookiecutter"] if contexts else extra
    except CookiecutterException as error:
        scratch.cleanup()
        raise TemplateError(f"template {location} failed to render: {error}") from None
    except Exception as error:  # a hook's own failure (FailedHookException is a CookiecutterException too)
        scratch.cleanup()
        if isinstance(error, PromoteError):
            raise
        raise TemplateError(f"template {location} failed to render: {type(error).__name__}: {error}") from None
    return root, Path(rendered), context, scratch


def _tree(root: Path) -> tuple[dict[str, str], list[str]]:
    """The rendered tree as text files; binary files are listed apart (not committed)."""
    files, skipped = {}, []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative.split("/")[0] == ".git":
            continue
        try:
            files[relative] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(relative)
    return files, skipped


def _placement(template_root: Path, rendered: dict[str, str], context: dict, package: str) -> Placement:
    hook = template_root / HOOK_FILE
    if hook.is_file():
        import jinja2
        import yaml

        text = jinja2.Template(hook.read_text(encoding="utf-8")).render(cookiecutter=context)
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict) or not isinstance(data.get("source"), str):
            raise TemplateError(f"{HOOK_FILE} of the template must give `source:` (the package directory)")
        modules = {str(k): str(v) for k, v in (data.get("modules") or {}).items()}
        return Placement(
            data["source"].strip("/"), str(data.get("tests") or "tests").strip("/"), data.get("ci_command"), modules
        )
    tests = next((d for d in ("tests", "test") if any(p.startswith(d + "/") for p in rendered)), "tests")
    if (template_root / "ccds.json").is_file():
        return Placement(package, tests, None, dict(CCDS_MODULES), "inferred: cookiecutter-data-science v2 (ccds.json)")
    packages = sorted({p.rsplit("/", 1)[0] for p in rendered if re.fullmatch(r"(src/)?[A-Za-z_]\w*/__init__\.py", p)})
    packages = [p for p in packages if p.rsplit("/", 1)[-1] not in {"tests", "test", "docs"}]
    under_src = [p for p in packages if p.startswith("src/")]
    candidates = under_src or packages
    if len(candidates) == 1:
        return Placement(candidates[0], tests, None, {}, f"inferred: the package directory {candidates[0]}/")
    named = [p for p in candidates if p.rsplit("/", 1)[-1] == package]
    if len(named) == 1:
        return Placement(named[0], tests, None, {}, f"inferred: the package directory {named[0]}/")
    if candidates:
        raise TemplateError(
            f"the template renders several packages ({', '.join(candidates)}); say which in its {HOOK_FILE} (`source:`)"
        )
    source = f"src/{package}" if any(p.startswith("src/") for p in rendered) else package
    return Placement(source, tests, None, {}, f"inferred: no package in the template, so {source}/")


def apply_template(
    project: GeneratedProject, location: str, options: dict, *, description: str, notebook_ref: str
) -> Templated:
    """Render ``location`` and place ``project``'s files in it; ``project.files`` becomes the whole tree."""
    location = check_location(location)
    template_root, rendered_root, context, scratch = render(
        location, _supplied(project, description, notebook_ref), options
    )
    try:
        rendered, skipped = _tree(rendered_root)
        placement = _placement(template_root, rendered, context, project.package)
        files, notes = place(project, rendered, placement)
        files["promote.toml"] = files.get("promote.toml", "") + (
            "\n[template]\n"
            f"location = {toml_value(location)}\n"
            f"options = {toml_value(json.dumps(options, sort_keys=True))}\n"
        )
    finally:
        scratch.cleanup()
    where = f"code in {placement.source}/, tests in {placement.tests}/ ({placement.how})"
    notes.insert(0, where)
    if placement.modules:
        notes.append("modules renamed: " + ", ".join(f"{k} -> {v}" for k, v in placement.modules.items()))
    if placement.ci_command:
        notes.append(f"the template's CI runs: {placement.ci_command}")
    if skipped:
        notes.append(f"binary template files not committed: {', '.join(skipped)}")
    templated = GeneratedProject(
        package=project.package,
        files=files,
        dependencies=project.dependencies,
        torch=project.torch,
        runtime=project.runtime,
        stages=project.stages,
    )
    return Templated(templated, placement, notes)

"""Promotion into an organisation's project template (cookiecutter).

The built-in layout (``generate``) stays the default. With a template, :func:`apply_template`
renders it with the ``cookiecutter`` library (never a prompt: ``no_input=True``), supplying what
promotion knows where the template declares it, then maps the generated files into the rendered
tree. The result is again a ``GeneratedProject`` whose ``files`` are the whole tree (template +
code), which is what gitrepo.py commits on the pristine branch, so re-promotion merges hand edits
and template updates alike.

Where the code goes comes from ``promote.yaml`` at the template's root (beside cookiecutter.json)::

    source: "src/{{ cookiecutter.module_name }}"  # the package directory; our modules go in it
    tests: tests                                   # where our tests go
    ci_command: "make test"                        # how the template's CI runs tests and pipeline
    modules:                                       # optional: our module -> its name in this layout
      data: dataset
      pipeline: modeling.train

Its text is rendered with the template's context first. Without it, placement is inferred from
the rendered tree (a package directory under ``src/`` or at the root) and reported;
cookiecutter-data-science v2 (a template with ``ccds.json``) gets its own layout, see CCDS_MODULES.

Templates are code that runs (cookiecutter hooks): only a local directory or a git repository the
user names is accepted here; the server adds its allow-list (handlers.py).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PromoteError, UsageError
from .format_cache import cached_format
from .project import GeneratedProject, toml_value

HOOK_FILE = "promote.yaml"
# The oldest Python the generated code supports (its pyproject says requires-python >= 3.10).
PYTHON_VERSION = "3.10"
# cookiecutter-data-science v2: our module -> where that layout expects it (dotted, inside the package).
CCDS_MODULES = {"data": "dataset", "model": "modeling.model", "pipeline": "modeling.train"}
# What promotion supplies to CCDS unless --template-option says otherwise: CCDS's example modules
# (typer/loguru scaffolds reading CCDS's path constants) would clash with the notebook's own code.
CCDS_DEFAULTS = {"include_code_scaffold": "No"}
CI_FILES = (".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml", ".circleci/config.yml")
_GIT_URL = re.compile(r"^(git\+)?(https?|ssh|git|file)://\S+$|^[\w.-]+@[\w.-]+:\S+$")
_render_lock = threading.Lock()  # cookiecutter and the CCDS patches are process-global


class TemplateError(PromoteError):
    """The template cannot be used: not found, refused, or it failed to render."""

    status = 400


@dataclass
class Placement:
    """Where the generated code goes in the rendered tree."""

    source: str  # the package directory, relative to the project root
    tests: str = "tests"
    ci_command: str | None = None
    modules: dict[str, str] = field(default_factory=dict)  # our module -> dotted module inside the package
    how: str = "promote.yaml"  # promote.yaml | inferred: <why>


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


# --- moving our modules ----------------------------------------------------------------


def _new_module(old: str, modules: dict[str, str]) -> str:
    """Dotted module inside the package: ``data`` -> ``dataset``, ``data.x`` -> ``dataset.x``."""
    for ours, theirs in modules.items():
        if old == ours or old.startswith(ours + "."):
            return theirs + old[len(ours) :]
    return old


def _module_of(relative: str) -> str:
    """``modeling/train.py`` -> ``modeling.train``; ``modeling/__init__.py`` -> ``modeling``."""
    parts = relative[: -len(".py")].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _relative_import(target: str, package_of_file: str) -> str:
    """``from .x import`` text (dots + module) for ``target`` (package-relative) seen from ``package_of_file``."""
    here = package_of_file.split(".") if package_of_file else []
    there = target.split(".") if target else []
    common = 0
    while common < len(here) and common < len(there) and here[common] == there[common]:
        common += 1
    return "." * (len(here) - common + 1) + ".".join(there[common:])


def _rewrite_relative_imports(source: str, old_module: str, new_module: str, is_package: bool, modules: dict) -> str:
    """Relative imports of a moved module, re-aimed at where their targets now live."""
    if not modules and old_module == new_module:
        return source
    tree = ast.parse(source)
    old_pkg = old_module if is_package else old_module.rpartition(".")[0]
    new_pkg = new_module if is_package else new_module.rpartition(".")[0]
    lines = source.splitlines(keepends=True)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = old_pkg.split(".") if old_pkg else []
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        target = ".".join([*base, *([node.module] if node.module else [])])
        if not node.module and any(
            _new_module(".".join([*base, a.name]).strip("."), modules) != ".".join([*base, a.name]).strip(".")
            for a in node.names
        ):
            raise TemplateError(f"cannot move `from {'.' * node.level} import …` of a renamed module in {old_module}")
        new_target = _new_module(target, modules)
        text = _relative_import(new_target, new_pkg)
        line = lines[node.lineno - 1]
        head = re.compile(r"from\s+\.+[\w.]*\s+import")
        match = head.search(line, node.col_offset)
        lines[node.lineno - 1] = line[: match.start()] + f"from {text} import" + line[match.end() :]
    return _rewrite_sibling_paths("".join(lines), old_pkg, new_pkg, modules)


_SIBLING = re.compile(r'Path\(__file__\)\.with_name\("(\w+)\.py"\)')


def _rewrite_sibling_paths(source: str, old_pkg: str, new_pkg: str, modules: dict) -> str:
    """``Path(__file__).with_name("pipeline.py")`` still finds that module once either of them moved."""

    def aim(match: re.Match) -> str:
        target = _new_module(".".join(filter(None, [old_pkg, match.group(1)])), modules).split(".")
        here = new_pkg.split(".") if new_pkg else []
        if target[:-1] == here:
            return f'Path(__file__).with_name("{target[-1]}.py")'
        common = 0
        while common < min(len(here), len(target) - 1) and here[common] == target[common]:
            common += 1
        ups = "".join(".parent" for _ in range(len(here) - common))
        rest = "/".join(target[common:])
        return f'Path(__file__).parent{ups}.joinpath("{rest}.py")'

    return _SIBLING.sub(aim, source)


def _rename_references(text: str, package: str, src: str, placement: Placement, moved: dict[str, str]) -> str:
    """Paths (``src/pkg/data.py``) and dotted names (``pkg.data``) in any generated text."""
    for old, new in moved.items():
        text = text.replace(old, new)
    if src != placement.source:
        text = re.sub(rf"(?<![\w/]){re.escape(src)}(?=/|\b)", placement.source, text)
        top = placement.source.rpartition("/")[0] or placement.source  # the folder holding the code
        text = re.sub(r"(?<![\w/.])src \./src\b", f"{top} ./{top}", text)  # the Dockerfile's COPY
    for ours, theirs in placement.modules.items():
        text = re.sub(rf"\b{re.escape(package)}\.{re.escape(ours)}\b", f"{package}.{theirs}", text)
    return text


# --- merging the files the template also has -------------------------------------------------


def _merge_gitignore(theirs: str, ours: str) -> str:
    have = {line.strip() for line in theirs.splitlines()}
    missing = [line for line in ours.splitlines() if line.strip() and line.strip() not in have]
    if not missing:
        return theirs
    return theirs.rstrip("\n") + "\n\n# jupyterlab-promote\n" + "\n".join(missing) + "\n"


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _union(theirs: list, ours: list) -> list:
    names = {_requirement_name(r) for r in theirs}
    return list(theirs) + [r for r in ours if _requirement_name(r) not in names]


def _setdefault_deep(theirs: dict, ours: dict) -> None:
    for key, value in ours.items():
        if key not in theirs:
            theirs[key] = copy.deepcopy(value)
        elif isinstance(theirs[key], dict) and isinstance(value, dict):
            _setdefault_deep(theirs[key], value)


def _kebab_keys(table: dict) -> dict:
    return {key.replace("_", "-"): _kebab_keys(v) if isinstance(v, dict) else v for key, v in table.items()}


def _merge_pyproject(
    theirs_text: str, ours_text: str, placement: Placement, package: str, ours_only: bool = False
) -> str:
    """The template's pyproject plus what the generated code needs (dependencies, extras, pytest and ruff)."""
    import tomllib

    import tomli_w

    theirs, ours = tomllib.loads(theirs_text), tomllib.loads(ours_text)
    project, our_project = theirs.setdefault("project", {}), ours["project"]
    project["dependencies"] = _union(project.get("dependencies", []), our_project.get("dependencies", []))
    extras = project.setdefault("optional-dependencies", {})
    for extra, requirements in our_project.get("optional-dependencies", {}).items():
        extras[extra] = _union(extras.get(extra, []), requirements)
    for name, target in our_project.get("scripts", {}).items():
        project.setdefault("scripts", {}).setdefault(name, target)
    if "build-system" not in theirs:
        theirs["build-system"] = ours["build-system"]
    tool, our_tool = theirs.setdefault("tool", {}), ours["tool"]
    if ours_only:  # our own pyproject, re-aimed at the template's layout
        for key in ("pytest", "ruff", "hatch"):
            tool.pop(key, None)
        our_tool["hatch"]["build"]["targets"]["wheel"]["packages"] = [placement.source]
    if "hatchling" in theirs["build-system"].get("build-backend", ""):
        _setdefault_deep(tool, {"hatch": our_tool.get("hatch", {})})
    path_root = placement.source.rpartition("/")[0] or "."
    pytest_options = copy.deepcopy(our_tool["pytest"]["ini_options"])
    pytest_options["testpaths"], pytest_options["pythonpath"] = [placement.tests], [path_root]
    _setdefault_deep(tool, {"pytest": {"ini_options": pytest_options}})
    ruff = copy.deepcopy(our_tool.get("ruff", {}))
    ruff["src"] = [path_root]
    if "ruff" in tool:  # ruff refuses snake_case keys (CCDS writes known_first_party): its own spelling
        tool["ruff"] = _kebab_keys(tool["ruff"])
    _setdefault_deep(tool, {"ruff": ruff})
    return tomli_w.dumps(theirs)


def _black_mode(pyproject: str):
    """black's Mode as its command line reads the project's pyproject (target versions, line length, …)."""
    import tomllib

    import black
    from black.files import infer_target_version

    try:
        data = tomllib.loads(pyproject) if pyproject else {}
    except tomllib.TOMLDecodeError:
        data = {}
    options = data.get("tool", {}).get("black", {})
    declared = options.get("target-version", options.get("target_version"))
    if declared:  # as black's command line reads it: py310, ...
        targets = {black.TargetVersion[version.upper()] for version in declared}
    else:  # else from requires-python, as black's command line does
        targets = set(infer_target_version(data) or ())
    return black.Mode(
        target_versions=targets,
        line_length=int(options.get("line-length", options.get("line_length", black.DEFAULT_LINE_LENGTH))),
        string_normalization=not options.get("skip-string-normalization", False),
        magic_trailing_comma=not options.get("skip-magic-trailing-comma", False),
    )


def _reformat(files: dict[str, str], ours: list[str]) -> dict[str, str]:
    """Our Python files formatted as the template's ruff (isort) and black settings say."""
    from ruff.__main__ import find_ruff_bin

    targets = [p for p in ours if p.endswith(".py")]
    with tempfile.TemporaryDirectory(prefix="promote-format-") as scratch:
        root = Path(scratch)
        for path in [*targets, "pyproject.toml", "ruff.toml", ".ruff.toml"]:
            if path in files:
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_text(files[path], encoding="utf-8")
        command = [find_ruff_bin(), "check", "--no-cache", "--select", "I", "--fix", "--exit-zero", "-q", *targets]
        subprocess.run(command, cwd=root, capture_output=True, check=False)
        sorted_imports = {p: (root / p).read_text(encoding="utf-8") for p in targets}
    mode = _black_mode(files.get("pyproject.toml", ""))
    key = json.dumps(
        {
            "target_versions": sorted(v.name for v in mode.target_versions),
            "line_length": mode.line_length,
            "string_normalization": mode.string_normalization,
            "magic_trailing_comma": mode.magic_trailing_comma,
        },
        sort_keys=True,
    )
    return {**files, **{p: cached_format(text, key, _black_in_mode) for p, text in sorted_imports.items()}}


def _black_in_mode(source: str, key: str) -> str:
    """black with the Mode ``key`` (JSON) describes; memoised on disk by format_cache like our own formatting."""
    import black

    options = json.loads(key)
    options["target_versions"] = {black.TargetVersion[name] for name in options["target_versions"]}
    return black.format_str(source, mode=black.Mode(**options))


def place(
    project: GeneratedProject, rendered: dict[str, str], placement: Placement
) -> tuple[dict[str, str], list[str]]:
    """The generated files mapped into the rendered tree; returns (files, notes)."""
    package, src = project.package, f"src/{project.package}"
    if placement.source.rsplit("/", 1)[-1] != package:
        raise UsageError(
            f"the template's package directory {placement.source}/ is not named {package}; "
            f"promote with --name {placement.source.rsplit('/', 1)[-1]}"
        )
    notes: list[str] = []
    moved: dict[str, str] = {}  # our path -> its path in the template's tree
    for path in project.files:
        if path.startswith(src + "/") and path.endswith(".py"):
            old = _module_of(path[len(src) + 1 :])
            new = _new_module(old, placement.modules)
            tail = path.rsplit("/", 1)[-1] == "__init__.py"
            stem = "/".join(filter(None, [placement.source, *new.split(".")]))
            moved[path] = stem + ("/__init__.py" if tail else ".py")
        elif path.startswith(src + "/"):
            moved[path] = placement.source + path[len(src) :]
        elif path.startswith("tests/"):
            moved[path] = placement.tests + path[len("tests") :]
    template_ci = [p for p in rendered if p.startswith(".github/workflows/") or p in CI_FILES]
    files = dict(rendered)
    ours: list[str] = []
    for path, text in project.files.items():
        target = moved.get(path, path)
        if path.startswith(src + "/") and path.endswith(".py"):
            old = _module_of(path[len(src) + 1 :])
            is_package = path.endswith("/__init__.py")
            text = _rewrite_relative_imports(
                text, old, _new_module(old, placement.modules), is_package, placement.modules
            )
        text = _rename_references(text, package, src, placement, {k: v for k, v in moved.items() if k != v})
        if path == ".github/workflows/ci.yml" and template_ci:
            notes.append(f"the template's CI ({', '.join(template_ci)}) is kept; ours is not added")
            continue
        if path == "README.md" and "README.md" in rendered:
            target = "PIPELINE.md"
        elif path == ".gitignore" and ".gitignore" in rendered:
            text = _merge_gitignore(rendered[".gitignore"], text)
        elif path == "pyproject.toml" and "pyproject.toml" in rendered:
            text = _merge_pyproject(rendered["pyproject.toml"], text, placement, package)
        elif path == "pyproject.toml" and (placement.source, placement.tests) != (src, "tests"):
            text = _merge_pyproject(text, text, placement, package, ours_only=True)
        elif target in rendered and rendered[target] != text:
            notes.append(f"replaced the template's {target}")
        files[target] = text
        ours.append(target)
    # Every directory our modules moved into is a package.
    for target in list(files):
        if target.startswith(placement.source + "/") and target.endswith(".py"):
            parent = target.rsplit("/", 1)[0]
            while parent != placement.source and parent.startswith(placement.source + "/"):
                init = f"{parent}/__init__.py"
                if init not in files:
                    files[init] = ""
                parent = parent.rsplit("/", 1)[0]
    # As the project's own black and ruff will check them: its line length, isort options and (from
    # requires-python, as black's command line infers them inside a git repository) target versions.
    files = _reformat(files, [p for p in ours if p.endswith(".py")])
    return dict(sorted(files.items())), notes


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

"""Placing the generated package into a rendered project template (templating.py renders it).

Our modules move where the template's layout says (``Placement``) with their relative imports,
sibling paths and dotted names re-aimed; the files the template also has (README, .gitignore,
pyproject.toml) are merged rather than replaced; and our Python is formatted as the template's own
black and ruff settings say.
"""

from __future__ import annotations

import ast
import copy
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TemplateError, UsageError
from ..stages.literals import FOLDER as LITERALS
from .project import GeneratedProject
from .render import black_mode, format_black

# CI configurations of other services: a template that has one keeps it, and ours is not added.
CI_FILES = (".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml", ".circleci/config.yml")


@dataclass
class Placement:
    """Where the generated code goes in the rendered tree."""

    source: str  # the package directory, relative to the project root
    tests: str = "tests"
    ci_command: str | None = None
    modules: dict[str, str] = field(default_factory=dict)  # our module -> dotted module inside the package
    how: str = "promote.yaml"  # promote.yaml | inferred: <why>


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
    mode = black_mode(files.get("pyproject.toml", ""))
    return {**files, **{p: format_black(text, mode) for p, text in sorted_imports.items()}}


def place(
    project: GeneratedProject, rendered: dict[str, str], placement: Placement
) -> tuple[dict[str, str], list[str]]:
    """The generated files mapped into the rendered tree; returns (files, notes)."""
    package = project.package
    if placement.source.rsplit("/", 1)[-1] != package:
        raise UsageError(
            f"the template's package directory {placement.source}/ is not named {package}; "
            f"promote with --name {placement.source.rsplit('/', 1)[-1]}"
        )
    notes: list[str] = []
    moved = _destinations(project, placement)  # our path -> its path in the template's tree
    renamed = {k: v for k, v in moved.items() if k != v}
    template_ci = [p for p in rendered if p.startswith(".github/workflows/") or p in CI_FILES]
    files = dict(rendered)
    ours: list[str] = []
    for path, text in project.files.items():
        text = _re_aimed(path, text, package, placement, renamed)
        if path == ".github/workflows/ci.yml" and template_ci:
            notes.append(f"the template's CI ({', '.join(template_ci)}) is kept; ours is not added")
            continue
        target, text = _merged_with_template(path, moved.get(path, path), text, rendered, placement, package, notes)
        files[target] = text
        ours.append(target)
    _add_package_inits(files, placement.source)
    # As the project's own black and ruff will check them: its line length, isort options and (from
    # requires-python, as black's command line infers them inside a git repository) target versions.
    files = _reformat(files, [p for p in ours if p.endswith(".py")])
    return dict(sorted(files.items())), notes


def _destinations(project: GeneratedProject, placement: Placement) -> dict[str, str]:
    """Where each of our package modules and tests goes in the template's tree."""
    src = f"src/{project.package}"
    moved: dict[str, str] = {}
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
    return moved


def _re_aimed(path: str, text: str, package: str, placement: Placement, renamed: dict[str, str]) -> str:
    """A generated file with its relative imports, paths and dotted names pointing where things now are."""
    src = f"src/{package}"
    if path.startswith(f"{src}/{LITERALS}/") and not path.endswith(".py"):
        return text  # the notebook's own data (stages/literals.py): never rewritten
    if path.startswith(src + "/") and path.endswith(".py"):
        old = _module_of(path[len(src) + 1 :])
        is_package = path.endswith("/__init__.py")
        text = _rewrite_relative_imports(text, old, _new_module(old, placement.modules), is_package, placement.modules)
    return _rename_references(text, package, src, placement, renamed)


def _merged_with_template(
    path: str, target: str, text: str, rendered: dict[str, str], placement: Placement, package: str, notes: list[str]
) -> tuple[str, str]:
    """(where our file goes, its text) beside the template's own: README, .gitignore and pyproject are merged."""
    if path == "README.md" and "README.md" in rendered:
        return "PIPELINE.md", text
    if path == ".gitignore" and ".gitignore" in rendered:
        return target, _merge_gitignore(rendered[".gitignore"], text)
    if path == "pyproject.toml" and "pyproject.toml" in rendered:
        return target, _merge_pyproject(rendered["pyproject.toml"], text, placement, package)
    if path == "pyproject.toml" and (placement.source, placement.tests) != (f"src/{package}", "tests"):
        return target, _merge_pyproject(text, text, placement, package, ours_only=True)
    if target in rendered and rendered[target] != text:
        notes.append(f"replaced the template's {target}")
    return target, text


def _add_package_inits(files: dict[str, str], source: str) -> None:
    """Every directory our modules moved into is a package."""
    for target in list(files):
        if target.startswith(source + "/") and target.endswith(".py"):
            parent = target.rsplit("/", 1)[0]
            while parent != source and parent.startswith(source + "/"):
                init = f"{parent}/__init__.py"
                if init not in files:
                    files[init] = ""
                parent = parent.rsplit("/", 1)[0]

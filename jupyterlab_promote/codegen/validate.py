"""The last gate before anything is written: is the plan renderable, and does every generated file parse?

Each problem is a :class:`Diagnostic` (so it reaches the user like any other, naming the notebook and,
where known, the cell); a promotion with one is refused before a file is written or a commit made.
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
import sys
from collections.abc import Mapping

from ..analysis.diagnostics import Diagnostic, diagnostic, quoted
from ..errors import UsageError
from ..stages.plan import Parameter, Plan, package_name

# Values config.yaml and the generated CLI can carry (YAML scalars, lists and mappings).
_PLAIN = (type(None), bool, int, float, str)


def check_package_name(name: str) -> None:
    """Refuse a ``--name`` that is not usable as it is, suggesting one that is."""
    if package_name(name) != name:
        raise UsageError(
            f"--name {name!r} is not a valid package name (lower-case ASCII letters, digits and _,"
            f" not starting with a digit, not a Python keyword); try --name {package_name(name)}"
        )


def _supported(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_supported(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _supported(item) for key, item in value.items())
    return False


def _unsupported_kind(value: object) -> str:
    """What makes ``value`` no configurable parameter, in words: its own type, or the first part that is not."""
    if isinstance(value, dict) and not all(isinstance(key, str) for key in value):
        key = next(key for key in value if not isinstance(key, str))
        return f"a dict with a key that is no text ({quoted(repr(key), 20)})"
    if isinstance(value, (list, tuple, dict)):
        items = value.values() if isinstance(value, dict) else value
        inner = next((item for item in items if not _supported(item)), None)
        if inner is not None:
            return f"a {type(value).__name__} holding {_unsupported_kind(inner)}"
    return f"a {type(value).__name__} value" if not isinstance(value, float) else f"the float {value!r}"


def _parameter_error(plan: Plan, parameter: Parameter, message: str) -> Diagnostic:
    return diagnostic(plan.notebook, parameter.cell.cell, "error", "PRM019", message, parameter.line)


def _imported_modules(plan: Plan) -> set[str]:
    found = set()
    for text in plan.imports.values():
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


# What the templates import (``import optuna`` in tuning.py) and the project runs as ``python -m NAME`` or as a
# command (its README and CI: pytest, dvc, black): a package of one of these names would stand in for it, and the
# project's own tests or CI would fail. tests/test_reliability.py holds the templates to this list.
GENERATED_USES = frozenset(
    {
        *("cloudpickle", "fastapi", "joblib", "kfp", "lightning", "lightning_fabric", "litserve", "mlflow", "numpy"),
        *("onnx", "onnxruntime", "optuna", "pandas", "pyarrow", "pydantic", "pytorch_lightning", "scipy", "sklearn"),
        *("torch", "yaml", "pytest", "dvc", "pip", "black", "ruff"),
    }
)


def plan_problems(plan: Plan) -> list[Diagnostic]:
    """What the plan asks for that no generated project can hold."""
    problems = []
    shadowed = _imported_modules(plan) | set(sys.stdlib_module_names) | GENERATED_USES
    if plan.package in shadowed:
        problems.append(
            diagnostic(
                plan.notebook,
                None,
                "error",
                "PRM023",
                f"the package name {plan.package!r} would shadow the module {plan.package} that the generated"
                f" code imports; choose another with --name (e.g. --name {plan.package}_pipeline)",
            )
        )
    problems += _step_problems(plan) + _requirement_problems(plan)
    flags: dict[str, Parameter] = {}
    for parameter in plan.parameters:
        if not _supported(parameter.value):
            problems.append(
                _parameter_error(
                    plan,
                    parameter,
                    f"parameter {parameter.name} = {quoted(parameter.source)}: {_unsupported_kind(parameter.value)}"
                    " cannot be written to config.yaml or given as a flag; use a number, text, a list or a dict with"
                    " text keys",
                )
            )
        if (other := flags.setdefault(parameter.flag, parameter)) is not parameter:
            problems.append(
                _parameter_error(
                    plan,
                    parameter,
                    f"parameters {other.name} and {parameter.name} would both be the CLI flag {parameter.flag}; rename one",
                )
            )
    return problems


def _step_problems(plan: Plan) -> list[Diagnostic]:
    """Two tags that name one step (``step:prep`` and ``step:Prep``) would make one function twice."""
    problems, seen = [], {}
    for step in plan.steps:
        first = seen.setdefault(step.name, step)
        if first is not step and step.cells:
            message = f"two steps are both named {step.name!r} once made a Python name (tags differ only in case or accents?); rename one"
            problems.append(diagnostic(plan.notebook, step.cells[0].cell, "error", "PRM015", message))
    return problems


_PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")  # PEP 508's name: a requirement alone


def _requirement_problems(plan: Plan) -> list[Diagnostic]:
    """Drop what ``%pip install`` named that is no PEP 508 requirement (a bare wheel URL, a stray quote), saying so."""
    if all(_PROJECT_NAME.fullmatch(text) for text in plan.requirements):
        return []  # nearly every notebook: spare importing packaging (20 ms of a first promotion)
    from packaging.requirements import InvalidRequirement, Requirement

    problems, kept = [], []
    for text in plan.requirements:
        try:
            Requirement(text)
            kept.append(text)
        except InvalidRequirement:
            message = f"%pip install {text!r} is not a requirement pyproject.toml can hold (PEP 508); left out: add it by hand as NAME or NAME @ URL"
            problems.append(diagnostic(plan.notebook, None, "warning", "PRM021", message))
    plan.requirements[:] = kept
    return problems


def _parse(path: str, text: str) -> str | None:
    """Why ``text`` does not parse as the kind of file ``path`` names, or None."""
    kind = path.rsplit(".", 1)[-1]
    # Most files are those of the promotion before (the panel previews on every edit): their verdict is kept, by a
    # digest of the text (hashing costs a fraction of parsing), so no text is kept alive
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest() + kind.encode()
    if key not in _VERDICTS:
        if len(_VERDICTS) >= 4096:
            _VERDICTS.clear()
        _VERDICTS[key] = _parse_text(kind, text)
    return _VERDICTS[key]


_VERDICTS: dict[bytes, str | None] = {}


def _parse_text(kind: str, text: str) -> str | None:
    """Why ``text`` does not parse as a file of ``kind`` (its suffix), or None."""
    try:
        if kind == "py":
            compile(text, "<generated>", "exec", dont_inherit=True)  # compile, not ast.parse: duplicate arguments too
        elif kind == "toml":
            import tomllib

            tomllib.loads(text)
        elif kind in ("yml", "yaml"):
            import yaml

            yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml's: ~10x faster
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:  # TOMLDecodeError is a ValueError
        return str(exc) or type(exc).__name__
    except Exception as exc:  # yaml.YAMLError; yaml is imported lazily, so its type is not named here
        return f"{type(exc).__name__}: {exc}"
    return None


def file_problems(plan: Plan, files: Mapping[str, str]) -> list[Diagnostic]:
    """One error per generated file that does not parse; promotion writes nothing then."""
    problems = []
    for path, text in files.items():
        if (reason := _parse(path, text)) is not None:
            problems.append(
                diagnostic(
                    plan.notebook,
                    None,
                    "error",
                    "PRM024",
                    f"internal check failed: the generated {path} would not parse ({reason}); nothing was written."
                    " Please report this with the notebook",
                )
            )
    return problems

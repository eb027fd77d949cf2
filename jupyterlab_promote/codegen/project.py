"""The whole generated tree: package modules, tests, CI, README, config and provenance."""

from __future__ import annotations

import ast
import json
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .._version_info import tool_version
from ..plan import Parameter, Plan
from ..stages.paths import NOTEBOOK_DIR
from .dependencies import distributions, requirement
from .fingerprint import generation_key
from .format_cache import cached_format
from .inference import generate_inference, inference_operations, inference_readme
from .lightning import forward_test
from .lint import mark_author_lint
from .mlops import cli_flags, config_fields, config_yaml_section, generate_mlops
from .modules import definitions_module, module_imports, pipeline_module, runtime_kind
from .operate import operate_files, operate_modules, operate_operations

_EPOCHS = re.compile(r"epoch", re.IGNORECASE)


@dataclass
class GeneratedProject:
    package: str
    files: dict[str, str] = field(default_factory=dict)  # path relative to the output dir → text
    dependencies: list[str] = field(default_factory=list)
    torch: bool = False
    runtime: str = "plain"  # plain | fabric | lightning
    stages: list[dict] = field(default_factory=list)  # the MLOps stages, each with the config keys it reads


@lru_cache(maxsize=1)
def _templates():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("jupyterlab_promote.codegen", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # we render Python and TOML, not HTML
    )
    environment.filters["toml"] = toml_value
    return environment


def toml_value(value: object) -> str:
    """``value`` as a TOML literal: every string that reaches a TOML file goes through here (or tomli_w)."""
    import tomli_w

    return tomli_w.dumps({"v": value})[len("v = ") :].rstrip("\n")


def toml_key(key: str) -> str:
    """A TOML key: bare when TOML allows it, else a quoted string."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def _render(template: str, **context) -> str:
    return _templates().get_template(template).render(**context)


@lru_cache(maxsize=512)
def format_python(source: str, first_party: str = "", authored: bool = False) -> str:
    """isort (black profile) then black, memoised: most files are identical from one preview to the next.

    ``first_party`` is the generated package, so its imports sort in their own section exactly as
    ``ruff check --select I`` expects (the generated pyproject declares it first-party too).
    ``authored``: the module holds the notebook's statements, so their own lint is marked (lint.py).
    Remembered on disk too (format_cache), across processes and notebooks.
    """
    return cached_format(source, first_party, _format_authored if authored else _format_generated)


def _format_generated(source: str, first_party: str) -> str:
    import black  # imported where used: black and isort are slow to import
    import isort

    config = isort.Config(profile="black", known_first_party=[first_party] if first_party else [])
    return black.format_str(isort.code(source, config=config), mode=black.Mode())


def _format_authored(source: str, first_party: str) -> str:
    import black

    formatted = _format_generated(source, first_party)
    marked = mark_author_lint(formatted)
    return formatted if marked == formatted else black.format_str(marked, mode=black.Mode())


def _one_line(text: str) -> str:
    """A comment safe on one line of Python or YAML (YAML also breaks lines at U+0085, U+2028, U+2029)."""
    return "".join(char if char.isprintable() else " " for char in text)


def _parameter_context(parameter: Parameter) -> dict:
    value = parameter.value
    mutable = isinstance(value, (list, dict, set))
    annotation = {"NoneType": "Any"}.get(parameter.type_name, parameter.type_name)
    return {
        "name": parameter.name,
        "annotation": annotation,
        "default": f"field(default_factory=lambda: {parameter.source})" if mutable else parameter.source,
        "comment": _one_line(parameter.comment),
        "type_name": parameter.type_name,
        "flag": parameter.flag,
        "help_default": json.dumps(value, default=repr).replace('"', "'").replace("%", "%%"),
        "example": (
            json.dumps(value, default=repr)
            if not isinstance(value, (list, dict))
            else "'" + json.dumps(value, default=repr) + "'"
        ),
    }


def _module_source(docstring: str, imports: list[str], body: str, package: str) -> str:
    head = f'"""{docstring}"""\n\nfrom __future__ import annotations\n\n'
    return format_python(head + "\n".join(imports) + "\n\n\n" + body + "\n", package, authored=True)


def _model_output(plan: Plan) -> tuple[str | None, str | None]:
    """(step, variable) holding the model after the model step."""
    step = plan.step("model")
    if not step:
        return None, None
    candidates = step.outputs or [n for p in step.body if not p.stmt.is_definition for n in p.stmt.binds]
    candidates = [n for n in candidates if not any(p.stmt.is_definition and n in p.stmt.binds for p in step.body)]
    built = _built_from_notebook_classes(plan, step)
    ranked = sorted(candidates, key=lambda n: (n != "model", n not in built, not _MODEL_NAME.search(n)))
    return step.name, ranked[0] if ranked else None


_MODEL_NAME = re.compile(r"model|net|rnn|lstm|encoder|classifier", re.IGNORECASE)


def _built_from_notebook_classes(plan: Plan, step) -> set[str]:
    """Names the step binds by calling a class the notebook defines (``net = Net()``, ``m = MLP(...).to(d)``)."""
    classes = {
        stmt.binds[0]
        for cell in plan.cells
        if cell.names
        for stmt in cell.names.statements
        if isinstance(stmt.node, ast.ClassDef)
    }
    built = set()
    for placed in step.body:
        node = placed.stmt.node
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        if any(call.func.id in classes for call in calls):
            built.add(node.targets[0].id)
    return built


def _seed_lines(plan: Plan, torch: bool) -> list[str]:
    if not plan.seed:
        return []
    if torch:
        return [f"seed_everything(cfg.{plan.seed}, workers=True)"]
    lines = [f"random.seed(cfg.{plan.seed})"]
    if any(text.startswith("import numpy") for text in plan.imports.values()):
        lines.append(f"numpy.random.seed(cfg.{plan.seed})")
    return lines


def yaml_value(value: object) -> str:
    """A YAML scalar PyYAML reads back with the same type (it reads ``1e-05`` as a string)."""
    if isinstance(value, float):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        if exponent and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
        return text
    return json.dumps(value)


def _config_yaml(plan: Plan, torch: bool) -> str:
    lines = [f"# Parameters of {plan.notebook.name}; every key is also a flag of `python -m {plan.package}`."]
    for parameter in plan.parameters:
        comment = f"  # {_one_line(parameter.comment)}" if parameter.comment else ""
        lines.append(f"{parameter.name}: {yaml_value(parameter.value)}{comment}")
    if torch:
        lines += [
            "",
            "# Lightning: where and how to run.",
            'accelerator: "auto"',
            'devices: "auto"',
            'strategy: "auto"',
            "num_nodes: 1",
            'precision: "32-true"',
        ]
    return "\n".join(lines) + "\n"


def _provenance(plan: Plan, notebook_ref: str) -> str:
    lines = [
        "# Written by jupyterlab-promote: where each part of this package came from.",
        "# `jupyter promote NOTEBOOK --check` compares content_hash with the notebook.",
        "[notebook]",
        f"path = {toml_value(notebook_ref)}",
        f"content_hash = {toml_value(plan.content_hash)}",
        f"tool_version = {toml_value(tool_version())}",
        f"generation_key = {toml_value(generation_key(plan, notebook_ref))}",
        "",
    ]
    for step in plan.steps:
        lines += [
            f"[steps.{toml_key(step.name)}]",
            f"function = {toml_value(f'{plan.package}.pipeline.{plan.names.step_function(step.name)}')}",
            f"cells = {toml_value([c.cell.id for c in step.cells])}",
            "",
        ]
    lines.append("[definitions]")
    for module, placed in plan.hoisted.items():
        for item in placed:
            where = {"module": f"{plan.package}.{module}", "cell": item.cell.cell.id}
            lines.append(
                f"{toml_key(item.stmt.binds[0])} = {{ module = {toml_value(where['module'])}, cell = {toml_value(where['cell'])} }}"
            )
    return "\n".join(lines) + "\n"


def _notebook_dir(plan: Plan, notebook_ref: str) -> str | None:
    """The notebook's folder relative to the project, when the steps read files from there."""
    if not plan.paths or NOTEBOOK_DIR not in plan.paths.literals.values():
        return None
    return posixpath.dirname(notebook_ref) or "."


def generate(plan: Plan, notebook_ref: str | None = None) -> GeneratedProject:
    """Plan → files. ``notebook_ref`` is how promote.toml names the notebook (a relative path)."""
    kind = runtime_kind(plan)
    torch = kind != "plain"
    package = plan.package
    model_step, model_output = _model_output(plan)
    seed_lines = _seed_lines(plan, torch)
    description = f"Pipeline promoted from the notebook {plan.notebook.name}."
    src = f"src/{package}"
    files: dict[str, str] = {}

    modules: dict[str, str] = {}
    has_datamodule = False
    for module, docstring in (
        ("data", "Data: datasets and helpers from the notebook's data cells."),
        ("model", "Model: the notebook's model definitions."),
    ):
        text = definitions_module(plan, module)
        has_datamodule = has_datamodule or text.datamodule
        if text.body.strip():
            modules[module] = _module_source(
                docstring, module_imports(plan, module, text.body, kind), text.body, package
            )
    torch_model = torch and model_output is not None
    model_index = next((i for i, s in enumerate(plan.steps) if s.name == model_step), -1)
    available = {n for step in plan.steps[: model_index + 1] for p in step.body for n in p.stmt.binds}
    forward = (
        forward_test(plan, available)
        if torch_model and model_output == (plan.loop.mapping.model if plan.loop else None)
        else None
    )
    pipeline = pipeline_module(plan, kind, model_output, seed_lines, forward)
    pipeline_doc = f"The pipeline of {plan.notebook.name}: one function per step, wired by run()."
    modules["pipeline"] = _module_source(
        pipeline_doc, module_imports(plan, "pipeline", pipeline.body, kind), pipeline.body, package
    )

    parameters = [_parameter_context(p) for p in plan.parameters]
    notebook_dir = _notebook_dir(plan, notebook_ref or plan.notebook.name)
    epoch_parameters = [p.name for p in plan.parameters if _EPOCHS.search(p.name) and p.type_name == "int"]
    needs_field = any("default_factory" in p["default"] for p in parameters)
    files[f"{src}/__init__.py"] = format_python(f'"""{description}"""\n', package)
    files[f"{src}/config.py"] = format_python(
        _render(
            "config.py.j2",
            parameters=parameters,
            torch=torch,
            notebook_name=plan.notebook.name,
            epoch_parameters=epoch_parameters,
            needs_field=needs_field,
            mlops_fields=config_fields(plan),
            notebook_dir=notebook_dir,
        ),
        package,
    )
    files[f"{src}/runtime.py"] = format_python(
        _render("runtime.py.j2", torch=torch, lightning=kind == "lightning"), package
    )
    files[f"{src}/__main__.py"] = format_python(
        _render(
            "__main__.py.j2",
            package=package,
            names=plan.names,
            parameters=parameters,
            torch=torch,
            description=description,
            notebook_dir=notebook_dir,
            mlops_flags=cli_flags(plan),
            # (name, module) of the operations on a trained project: predict, serve, drift
            operations=inference_operations(plan, kind, model_output, forward) + operate_operations(plan),
        ),
        package,
    )
    for module, text in modules.items():
        files[f"{src}/{module}.py"] = text
    mlops_files, stages = generate_mlops(plan, kind, ["config", "runtime", *modules], model_output, forward, seed_lines)
    files.update(mlops_files)
    files.update(operate_modules(plan))  # drift.py
    files.update(generate_inference(plan, kind, model_output, forward))  # schema.py, predict.py, serve.py

    has_metrics = any(step.metrics or step.metric_tables for step in plan.steps)
    files["tests/test_pipeline.py"] = format_python(
        _render(
            "test_pipeline.py.j2",
            package=package,
            names=plan.names,
            torch=torch,
            has_metrics=has_metrics,
            model_output=model_output,
            model_step=model_step,
            torch_model=torch_model,
            forward=forward,
            datamodule=has_datamodule,
        ),
        package,
    )

    if has_metrics:  # what `jupyter promote --verify` recorded in fidelity.json, checked again (pytest -m slow)
        files["tests/test_fidelity.py"] = format_python(
            _render("test_fidelity.py.j2", package=package, names=plan.names, torch=torch, notebook_name=plan.notebook.name),
            package,
        )

    import_lines = sorted(
        {
            line
            for path, text in files.items()
            if path.endswith(".py")
            for line in text.splitlines()
            if line.startswith(("import ", "from ")) and not line.startswith(("from .", "from __future__"))
        }
    )
    needed = [d for d in distributions(import_lines) if d != package] + ["pyyaml"]
    dependencies = sorted(
        {requirement(name) for name in needed}
        | {requirement(r) if re.fullmatch(r"[\w.-]+", r) else r for r in plan.requirements}
    )
    distribution = package.replace("_", "-")
    context = dict(
        runtime=kind,
        has_program=forward is not None,
        has_lit=plan.loop is not None and has_datamodule,
        package=package,
        distribution=distribution,
        description=description,
        dependencies=dependencies,
        torch=torch,
        notebook_name=plan.notebook.name,
        tool_version=tool_version(),
        steps=[s.name for s in plan.steps],
        parameters=parameters,
        stages=stages,
        **inference_readme(plan, kind, model_output, forward),
    )
    files["pyproject.toml"] = _render("pyproject.toml.j2", **context)
    files["README.md"] = _render("README.md.j2", **context)
    files[".github/workflows/ci.yml"] = _render("ci.yml.j2", **context)
    files[".gitignore"] = _render("gitignore.j2", **context)
    files["config.yaml"] = _config_yaml(plan, torch) + config_yaml_section(plan)
    files["promote.toml"] = _provenance(plan, notebook_ref or plan.notebook.name)
    files.update(operate_files(plan, kind, stages, files["README.md"], notebook_dir))  # workflows, deploy/
    return GeneratedProject(
        package=package,
        files=dict(sorted(files.items())),
        dependencies=dependencies,
        torch=torch,
        runtime=kind,
        stages=[stage.to_json() for stage in stages],
    )

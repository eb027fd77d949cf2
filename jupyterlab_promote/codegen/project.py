"""The whole generated tree: package modules, tests, CI, README, config and provenance."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace

from .._version_info import tool_version
from ..stages.literals import FOLDER
from ..stages.local_modules import NOTEBOOK_MODULES
from ..stages.paths import NOTEBOOK_DIR
from ..stages.plan import Parameter, Plan
from .batch_call import kept_loop_forward
from .default_template import render_skeleton
from .dependencies import checker_requirements, distributions, requirement
from .example_chain import find_example_chain
from .fingerprint import generation_key
from .inference import (
    generate_inference,
    inference_operations,
    inference_readme,
    inference_refusal,
    text_input_column,
)
from .lightning import forward_test
from .mlops import cli_flags, config_fields, config_yaml_section
from .mlops_files import generate_mlops
from .mode import RenderMode, Runtime, runtime_kind
from .model_output import find_model
from .modules import (
    definitions_module,
    module_imports,
    pipeline_module,
)
from .notebook_modules import notebook_module_files
from .operate import (
    KUBEFLOW,
    operate_context,
    operate_files,
    operate_modules,
    operate_operations,
)
from .own_lightning import own_module_forward
from .render import (
    Unformatted,
    format_pending,
    render,
    toml_key,
    toml_value,
    yaml_value,
)

_EPOCHS = re.compile(r"epoch", re.IGNORECASE)


@dataclass
class GeneratedProject:
    package: str
    files: dict[str, str] = field(default_factory=dict)  # path relative to the output dir → text
    dependencies: list[str] = field(default_factory=list)
    torch: bool = False
    runtime: str = "plain"  # plain | fabric | lightning
    stages: list[dict] = field(default_factory=list)  # the MLOps stages, each with the config keys it reads


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


def _module_source(docstring: str, imports: list[str], body: str, package: str) -> Unformatted:
    head = f'"""{docstring}"""\n\nfrom __future__ import annotations\n\n'
    return Unformatted(head + "\n".join(imports) + "\n\n\n" + body + "\n", package, authored=True)


def _render_mode(plan: Plan) -> RenderMode:
    runtime = runtime_kind(plan)
    model_step, model_output = find_model(plan)
    example = _forward_example(plan, model_step, model_output, runtime.torch)
    chain = find_example_chain(plan, model_output) if runtime.torch and model_output and example is None else None
    mode = RenderMode(
        runtime=runtime,
        model_step=model_step,
        model_output=model_output,
        seed_lines=tuple(_seed_lines(plan, runtime.torch)),
        example=example,
        chain=chain,
    )
    # decided once: half a dozen generators ask whether the project predicts
    return replace(mode, inference_refusal=inference_refusal(plan, mode))


def _seed_lines(plan: Plan, torch: bool) -> list[str]:
    if not plan.seed:
        return []
    if torch:
        return [f"seed_everything(cfg.{plan.seed}, workers=True)"]
    lines = [f"random.seed(cfg.{plan.seed})"]
    if any(text.startswith("import numpy") for text in plan.imports.values()):
        lines.append(f"numpy.random.seed(cfg.{plan.seed})")
    return lines


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


def _notebook_dir(plan: Plan, notebook_ref: str, copy_anchors: set[str]) -> str | None:
    """The notebook's folder relative to the project, when the steps (or the copied modules) read files there."""
    anchors = {*plan.paths.literals.values(), *plan.paths.joined.values()} if plan.paths else set()
    anchors |= copy_anchors
    passed = " ".join(plan.paths.passed.values()) if plan.paths else ""  # ``os.listdir(path=cfg.notebook_dir)``
    if not anchors & {NOTEBOOK_DIR, plan.names.notebook_path} and NOTEBOOK_DIR not in passed:
        return None
    return posixpath.dirname(notebook_ref) or "."


def generate(plan: Plan, notebook_ref: str | None = None) -> GeneratedProject:
    """Plan → files. ``notebook_ref`` is how promote.toml names the notebook (a relative path)."""
    mode = _render_mode(plan)
    kind, torch, package = mode.runtime, mode.torch, plan.package
    src = f"src/{package}"

    modules, has_datamodule = _definition_modules(plan, kind)
    pipeline = pipeline_module(plan, mode)
    pipeline_doc = f"The pipeline of {plan.notebook.name}: one function per step, wired by run()."
    modules["pipeline"] = _module_source(
        pipeline_doc, module_imports(plan, "pipeline", pipeline.body, kind), pipeline.body, package
    )

    parameters = [_parameter_context(p) for p in plan.parameters]
    copies, copy_anchors = notebook_module_files(plan)  # notebook_modules/: the notebook's own modules, copied
    notebook_dir = _notebook_dir(plan, notebook_ref or plan.notebook.name, copy_anchors)
    literals = _literal_files(plan, src, modules)
    mlops_files, stages = generate_mlops(
        plan,
        mode,
        ["config", "runtime", *modules, *(["literals"] if literals else []), *([NOTEBOOK_MODULES] if copies else [])],
    )
    files = _entry_modules(plan, mode, parameters, notebook_dir, stages, copy_anchors)
    for module, text in modules.items():
        files[f"{src}/{module}.py"] = text
    files.update(mlops_files)
    text_column = text_input_column(plan, mode)
    files.update(operate_modules(plan, text_column))  # drift.py
    files.update(generate_inference(plan, mode))  # schema.py, predict.py, serve.py
    files.update(_test_modules(plan, mode, has_datamodule))
    files.update(literals)
    files.update(copies)
    operate = operate_context(plan, kind, stages, notebook_dir)
    files.update(operate_files(plan, operate))  # deploy/kubeflow.py
    formatted = format_pending(files)  # every module, the imports of all sorted by one ruff process

    # the package's own requirements: Kubeflow's client runs where the pipeline is compiled, not in the image
    dependencies = _dependencies(plan, {path: text for path, text in formatted.items() if path != KUBEFLOW})
    context = dict(
        runtime=kind,
        has_program=mode.example is not None,
        has_lit=plan.loop is not None and has_datamodule,
        package=package,
        distribution=package.replace("_", "-"),
        description=_description(plan),
        dependencies=dependencies,
        checkers=checker_requirements(),
        torch=torch,
        notebook_name=plan.notebook.name,
        tool_version=tool_version(),
        steps=[s.name for s in plan.steps],
        parameters=parameters,
        stages=stages,
        **inference_readme(plan, mode, text_column),
    )
    context["tracked_notebook"] = _tracked_notebook(notebook_ref)
    formatted.update(_project_files(plan, context, operate, stages, notebook_ref or plan.notebook.name))
    return GeneratedProject(
        package=package,
        files=dict(sorted(formatted.items())),
        dependencies=dependencies,
        torch=torch,
        runtime=kind,
        stages=[stage.to_json() for stage in stages],
    )


def _literal_files(plan: Plan, src: str, modules: dict[str, Unformatted]) -> dict[str, str | Unformatted]:
    """The literals the modules load (stages/literals.py), and their loader; none when no module loads one."""
    stored = {s.file: s.text for found in plan.literals.values() for _, s in found}
    used = {name: text for name, text in stored.items() if any(f'"{name}"' in m.source for m in modules.values())}
    if not used:
        return {}
    files: dict[str, str | Unformatted] = {f"{src}/{FOLDER}/{name}": text for name, text in sorted(used.items())}
    files[f"{src}/{FOLDER}/__init__.py"] = Unformatted(render("literals.py.j2"), plan.package)
    return files


def _description(plan: Plan) -> str:
    return f"Pipeline promoted from the notebook {plan.notebook.name}."


def _definition_modules(plan: Plan, kind: Runtime) -> tuple[dict[str, Unformatted], bool]:
    """data.py and model.py (those with definitions), and whether data.py holds a DataModule."""
    modules: dict[str, Unformatted] = {}
    has_datamodule = False
    for module, docstring in (
        ("data", "Data: datasets and helpers from the notebook's data cells."),
        ("model", "Model: the notebook's model definitions."),
    ):
        text = definitions_module(plan, module)
        has_datamodule = has_datamodule or text.datamodule
        if text.body.strip():
            modules[module] = _module_source(
                docstring, module_imports(plan, module, text.body, kind), text.body, plan.package
            )
    return modules, has_datamodule


def _forward_example(plan: Plan, model_step: str | None, model_output: str | None, torch: bool) -> dict | None:
    """A forward pass of the model on a real batch, for the schema, predict, serve, the export and their tests: the
    mapped loop's call, on Fabric the call in the loop the notebook keeps, or the ``training_step`` of the
    notebook's own LightningModule; None without one."""
    if not (torch and model_output is not None):
        return None
    model_index = next((i for i, s in enumerate(plan.steps) if s.name == model_step), -1)
    available = {n for step in plan.steps[: model_index + 1] for p in step.body for n in p.stmt.binds}
    if runtime_kind(plan) is Runtime.FABRIC:
        return kept_loop_forward(plan, model_output, available)
    if plan.loop is None and plan.lightning:
        return own_module_forward(plan, model_output, available)
    if model_output != (plan.loop.mapping.model if plan.loop else None):
        return None
    return forward_test(plan, available)


def _entry_modules(
    plan: Plan, mode: RenderMode, parameters: list[dict], notebook_dir: str | None, stages: list, copy_anchors: set[str]
) -> dict[str, str | Unformatted]:
    """The package's __init__.py, config.py, runtime.py and __main__.py (the CLI); ``copy_anchors``: the runtime's
    anchoring functions the copied modules call."""
    anchors = {*plan.paths.literals.values()} if plan.paths else set()
    anchors |= copy_anchors
    package, torch, kind = plan.package, mode.torch, mode.runtime
    src = f"src/{package}"
    files: dict[str, str | Unformatted] = {f"{src}/__init__.py": Unformatted(f'"""{_description(plan)}"""\n', package)}
    epoch_parameters = [p.name for p in plan.parameters if _EPOCHS.search(p.name) and p.type_name == "int"]
    files[f"{src}/config.py"] = Unformatted(
        render(
            "config.py.j2",
            parameters=parameters,
            torch=torch,
            notebook_name=plan.notebook.name,
            epoch_parameters=epoch_parameters,
            needs_field=any("default_factory" in p["default"] for p in parameters),
            mlops_fields=config_fields(plan),
            notebook_dir=notebook_dir,
        ),
        package,
    )
    files[f"{src}/runtime.py"] = Unformatted(
        render(
            "runtime.py.j2",
            torch=torch,
            lightning=kind is Runtime.LIGHTNING,
            definition_writes=plan.names.artifacts_path in anchors,
            definition_reads=plan.names.notebook_path in anchors,
        ),
        package,
    )
    files[f"{src}/__main__.py"] = Unformatted(
        render(
            "__main__.py.j2",
            package=package,
            names=plan.names,
            parameters=parameters,
            torch=torch,
            description=_description(plan),
            notebook_dir=notebook_dir,
            mlops_flags=cli_flags(plan),
            # (name, module) of the operations on a trained project: predict, serve, drift
            operations=inference_operations(plan, mode) + operate_operations(plan),
            stages=stages,
        ),
        package,
    )
    return files


def _test_modules(plan: Plan, mode: RenderMode, datamodule: bool) -> dict[str, str | Unformatted]:
    """tests/test_pipeline.py, and tests/test_fidelity.py when the notebook records metrics."""
    package, torch, forward = plan.package, mode.torch, mode.example
    model_step, model_output = mode.model_step, mode.model_output
    has_metrics = any(step.metrics or step.metric_tables for step in plan.steps)
    files: dict[str, str | Unformatted] = {
        "tests/test_pipeline.py": Unformatted(
            render(
                "test_pipeline.py.j2",
                package=package,
                names=plan.names,
                torch=torch,
                has_metrics=has_metrics,
                numeric_metrics=any(step.numeric_metrics or step.metric_tables for step in plan.steps),
                model_output=model_output,
                model_step=model_step,
                torch_model=torch and model_output is not None,
                forward=forward,
                datamodule=datamodule,
            ),
            package,
        )
    }
    if has_metrics:  # what `jupyter promote --verify` recorded in fidelity.json, checked again (pytest -m slow)
        files["tests/test_fidelity.py"] = Unformatted(
            render(
                "test_fidelity.py.j2", package=package, names=plan.names, torch=torch, notebook_name=plan.notebook.name
            ),
            package,
        )
    return files


def _dependencies(plan: Plan, files: dict[str, str]) -> list[str]:
    """Requirements: the distributions the generated modules import, and the notebook's %pip installs."""
    import_lines = sorted(
        {
            line
            for path, text in files.items()
            if path.endswith(".py")
            for line in text.splitlines()
            if line.startswith(("import ", "from ")) and not line.startswith(("from .", "from __future__"))
        }
    )
    needed = distributions(import_lines, local=frozenset({plan.package})) + ["pyyaml"]
    return sorted(
        {requirement(name) for name in needed}
        | {requirement(r) if re.fullmatch(r"[\w.-]+", r) else r for r in plan.requirements}
    )


def _tracked_notebook(notebook_ref: str | None) -> str | None:
    """The notebook's path when it lives inside the project (so in its repository): CI then checks that every
    change to it was promoted again. A notebook outside the project belongs to another tree, with its own CI."""
    if notebook_ref is None or ".." in notebook_ref.split("/"):
        return None
    return notebook_ref


def _project_files(plan: Plan, context: dict, operate: dict, stages: list, notebook_ref: str) -> dict:
    """The files around the package: our default template (skeleton/: pyproject.toml, README, CI, .gitignore,
    Dockerfile, deploy/), config.yaml and promote.toml."""
    # stages as JSON: the shape cookiecutter.json can hold
    files = render_skeleton({**context, **operate, "stages": [stage.to_json() for stage in stages]})
    files["config.yaml"] = _config_yaml(plan, context["torch"]) + config_yaml_section(plan)
    files["promote.toml"] = _provenance(plan, notebook_ref)
    return files

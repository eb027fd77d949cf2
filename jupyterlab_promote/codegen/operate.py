"""Operating a promoted project: the drift check, the CI/CD workflows, and the paths onto a cluster.

- ``src/PKG/drift.py``: the `drift` operation (the train stage samples the training features into
  ``artifacts/reference/`` for it: stages.py.j2);
- ``deploy/kubeflow.py`` (KFP v2);
- the variables of the default template's (skeleton/) ``.github/workflows/retrain.yml``, ``drift.yml``,
  ``Dockerfile``, ``deploy/slurm.sbatch`` (torch projects) and the README's "Operate" section (torchrun, SLURM,
  Kubeflow, Airflow).
"""

from __future__ import annotations

import re

from ..stages.plan import Plan
from .mlops import Stage, cli_flags, stage_name, train_step_name
from .mode import Runtime
from .render import Unformatted, black_string, call_statement, list_statement, render

# Devices per node and nodes of deploy/slurm.sbatch (--ntasks-per-node equals the devices, as Lightning expects).
SLURM_DEVICES = 4
SLURM_NODES = 2
# Types a KFP pipeline input can take, by the notebook parameter's type.
_KFP_TYPES = {"int": "int", "float": "float", "str": "str"}


def operate_operations(plan: Plan) -> list[tuple[str, str]]:
    """(name, module) of the operations this part adds to `python -m PKG`."""
    return [("drift", "drift")]


def operate_modules(plan: Plan, text_column: str | None) -> dict[str, str | Unformatted]:
    """The package modules (before the dependencies are read from the imports: drift.py needs numpy and scipy);
    ``text_column``: the model predicts from text (inference.py), so drift compares texts."""
    package = plan.package
    source = render("drift.py.j2", package=package, text_column=text_column)
    return {f"src/{package}/drift.py": Unformatted(source, package)}


def kfp_pipeline(plan: Plan, stages: list[Stage]) -> tuple[list[dict], list[dict]]:
    """(steps, pipeline inputs) of deploy/kubeflow.py: a step per stage, after the stages it reads."""
    flags = {p.name: (p.flag, _KFP_TYPES.get(p.type_name), _default(p.value)) for p in plan.parameters}
    defaults = {
        "trials": ("int", "20"),
        "final_data": ("str", black_string("train+val")),
        "tracking_uri": ("str", black_string("sqlite:///mlflow.db")),
    }
    for item in cli_flags(plan):
        if item["name"] in defaults:
            kind, default = defaults[item["name"]]
            flags[item["name"]] = (item["flag"], kind, default)
    used: dict[str, dict] = {}
    steps = []
    by_name = {stage.name: stage for stage in stages}
    for stage in stages:
        keys = list(stage.params) + (["tracking_uri"] if stage.name in ("register", "export") else [])
        params = []
        for key in keys:
            flag, kind, default = flags.get(key, (None, None, None))
            if flag and kind:  # lists, dicts, booleans and the keys without a flag stay in config.yaml
                params.append({"name": key, "flag": flag, "type": kind})
                used[key] = {"name": key, "type": kind, "default": default}
        function = _identifier(stage.name)
        reads = [
            {
                "argument": f"{_identifier(read)}_artifacts",
                "folder": by_name[read].folder,
                "task": f"{_identifier(read)}_task",
            }
            for read in stage.reads
        ]
        steps.append(
            {
                "name": stage.name,
                "help": stage.help,
                "function": function,
                "task": f"{function}_task",
                "params": params,
                "reads": reads,
                "container": _container_arguments(stage, reads, params),
            }
        )
    return steps, sorted(used.values(), key=lambda p: p["name"])


def _default(value: object) -> str:
    return black_string(value) if isinstance(value, str) else repr(value)


def _container_arguments(stage: Stage, reads: list[dict], params: list[dict]) -> str:
    """The ``command=`` and ``args=`` lines of a stage's ContainerSpec, as black writes them (black then confirms
    them in one pass: a list of a dozen flags no longer fits on a line)."""
    script = ("_script", [_json(stage.name), _json(stage.folder), _json([read["folder"] for read in reads])])
    command = list_statement("command=", ['"sh"', '"-c"', script, _json(stage.name)], 2, ",")
    flags = [text for p in params for text in (_json(p["flag"]), p["name"])]
    arguments = [f"{read['argument']}.path" for read in reads] + ["stage_output.path", *flags]
    return command + "\n" + list_statement("args=", arguments, 2, ",")


def pipeline_decorator(package_dashed: str, description: str) -> str:
    return call_statement("@dsl.pipeline", [f"name={_json(package_dashed)}", f"description={_json(description)}"], 0)


def _json(value: object) -> str:
    """A string (or list of strings) as the template's ``tojson`` writes it, so the module reads as it did."""
    from jinja2.utils import htmlsafe_json_dumps

    return str(htmlsafe_json_dumps(value))


def _identifier(name: str) -> str:
    """A stage's component function: a Python identifier, ``_stage`` so no name of the module is shadowed."""
    return re.sub(r"\W|^(?=\d)", "_", name) + "_stage"


def operate_context(plan: Plan, kind: Runtime, stages: list[Stage], notebook_dir: str | None) -> dict:
    """What the workflows, deploy/, Dockerfile and the README's Operate section say."""
    package = plan.package
    train = train_step_name(plan)
    train_stage = stage_name(train) if train else None
    step_stages = [s.name for s in stages if s.step]
    until_train = step_stages[: step_stages.index(train_stage) + 1] if train_stage in step_stages else step_stages
    kfp_stages, kfp_inputs = kfp_pipeline(plan, stages)
    dashed, description = package.replace("_", "-"), f"Pipeline promoted from the notebook {plan.notebook.name}."
    return dict(
        package=package,
        package_dashed=dashed,
        description=description,
        pipeline_decorator=pipeline_decorator(dashed, description),
        torch=kind.torch,
        train_stage=train_stage,
        until_train=until_train,
        image=f"{dashed}:0.1.0",
        devices=SLURM_DEVICES,
        nodes=SLURM_NODES,
        kfp_stages=kfp_stages,
        kfp_inputs=kfp_inputs,
        notebook_dir=notebook_dir,
    )


KUBEFLOW = "deploy/kubeflow.py"


def operate_files(plan: Plan, context: dict) -> dict[str, str | Unformatted]:
    """deploy/kubeflow.py, the Kubeflow pipeline (the rest is in skeleton/; this one is Python to format)."""
    return {KUBEFLOW: Unformatted(render("kubeflow.py.j2", **context), plan.package)}

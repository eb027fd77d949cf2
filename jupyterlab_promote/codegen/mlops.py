"""MLOps level 1 for every promoted project: the stages, their hand-offs, tuning, registry, export and dvc.yaml.

The notebook's steps become stages whose outputs are saved under ``artifacts/<stage>/``; around them come
``tune`` (before the train step), ``final``, ``register`` and ``export``. This module decides, from the plan,
what each stage reads (inputs, config keys, code) so that dvc.yaml re-runs exactly what a change touches.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..stages.local_modules import NOTEBOOK_MODULES
from ..stages.plan import Plan
from ..stages.search_space import search_space
from .model_output import find_model
from .render import yaml_value

MLOPS_STAGES = ("tune", "final", "register", "export")
# The words `python -m PKG WORD` reads before any stage: `run` runs every stage, and each operation on a trained
# project (inference.py, operate.py) takes its own name. A stage of that name could never run alone: DVC's
# `python -m PKG run` would run the whole pipeline from inside it, `python -m PKG drift` the operation.
CLI_WORDS = ("run", "predict", "serve", "drift")
_TUNE_KEYS = {"trials", "timeout", "val_fraction"}
_MAXIMISED = re.compile(r"acc|f1|auc|precision|recall|r2|score", re.IGNORECASE)
_MINIMISED = re.compile(r"loss|error|mae|mse|rmse", re.IGNORECASE)


@dataclass
class Stage:
    name: str
    help: str
    folder: str
    modules: list[str]  # the package modules its code lives in (dvc deps)
    params: list[str] = field(default_factory=list)  # config keys it reads (dvc params)
    reads: list[str] = field(default_factory=list)  # upstream stages whose outputs it reads (dvc deps)
    persist: bool = False
    code: list[str] = field(default_factory=list)  # the step functions it runs (artifacts/code/<name>.sha256)
    step: str | None = None  # the notebook step it runs
    inputs: dict[str, str] = field(default_factory=dict)  # input name → stage that makes it
    outputs: list[str] = field(default_factory=list)
    together: list[str] = field(default_factory=list)  # outputs that may share an object: also saved as one
    carried: list[str] = field(default_factory=list)  # inputs only loaded to be saved again (carried_along)

    def to_json(self) -> dict:
        return {"name": self.name, "help": self.help, "params": self.params, "reads": self.reads}


def _read_later(plan: Plan, step) -> set[str]:
    """The names the steps after ``step`` take in."""
    return {name for other in plan.steps[plan.steps.index(step) + 1 :] for name in other.inputs}


def handed_on(plan: Plan, step) -> list[str]:
    """What a step's stage saves: its outputs, and the inputs later steps read, since the step may have
    changed them in place (training updates the model it was given). The train step always saves the model it
    was given, read by no later step or not: register, export, predict and serve load the trained model."""
    later = _read_later(plan, step)
    model = find_model(plan)[1]
    if model is not None and step.name == train_step_name(plan):
        later.add(model)
    outputs = list(step.outputs) + ([plan.names.metrics] if step.metrics or step.metric_tables else [])
    outputs += [name for name in step.inputs if name in later and name not in outputs]
    # imported here: example_chain reads what each stage saves through this function
    from .example_chain import example_definitions

    return outputs + [n for n in (example_definitions(plan, step, model) if model else []) if n not in outputs]


def carried_along(plan: Plan, step, outputs: list[str], producer: dict[str, str]) -> list[str]:
    """Names an earlier stage saved that may share an object with an input this stage hands on, and that a later
    step reads: this stage loads them beside that input and saves them with it, never giving them to its step.

    A later stage then loads them from one place, as one object: ``opt = {"w": w}`` in the model step, ``w`` only
    read by a step in between, which hands it on, and a change through ``opt`` in the train step must reach the
    ``w`` it loads (from two stages' files they would be two objects, and the change would miss it)."""
    later = _read_later(plan, step)
    carried: list[str] = []
    pending = [name for name in outputs if name in step.inputs]
    while pending:
        for other in sorted(plan.shared_objects.get(pending.pop(), ())):
            if other in producer and other in later and other not in outputs and other not in carried:
                carried.append(other)
                pending.append(other)
    return carried


def stage_name(step: str) -> str:
    """A notebook step named like an MLOps stage (the notebook's own `export`) or a word of the command line
    (``step:run``, ``step:serve``) keeps a distinct stage name."""
    return f"notebook-{step}" if step in MLOPS_STAGES or step in CLI_WORDS else step


def primary_metric(plan: Plan) -> tuple[str, str]:
    """(metric, direction) from the evaluate metrics' names: acc/f1/auc… are maximised, loss/error/mse… minimised."""
    names = [m for step in plan.steps for m in step.metrics]
    for name in names:
        if _MAXIMISED.search(name):
            return name, "max"
        if _MINIMISED.search(name):
            return name, "min"
    # No telling name: the first metric that plainly is a number (none: register has nothing to compare).
    numeric = [m for step in plan.steps for m in step.numeric_metrics]
    return (numeric[0], "max") if numeric else ("", "max")


def train_step_name(plan: Plan) -> str | None:
    if plan.loop is not None:
        return plan.loop.step.name
    return next((s.name for s in plan.steps if s.role == "train"), None)


def build_stages(plan: Plan, modules: list[str], torch: bool) -> list[Stage]:
    """Every stage in order, with what it reads: the plan knows each step's inputs and parameters."""
    common = [m for m in ("config", "runtime", "stages") if m in modules]
    # pipeline.py holds every step: a stage depends on its steps' fingerprints (fingerprint.py), not the whole file
    step_code = common + [m for m in ("data", "model", NOTEBOOK_MODULES) if m in modules]
    stages, producer = _step_stages(plan, common, step_code)
    stages.append(_final_stage(plan, step_code))
    stages.append(_register_stage(plan, stages, common))
    stages.append(_export_stage(plan, producer, common, torch))
    return stages


def _seed(plan: Plan) -> list[str]:
    return [plan.seed] if plan.seed else []


def _before_train(plan: Plan) -> list:
    """The steps before the train step ([] without one): what tune and final run in memory before training."""
    train = train_step_name(plan)
    if train is None:
        return []
    names = [step.name for step in plan.steps]
    return plan.steps[: names.index(train)] if train in names else list(plan.steps)


def held_out_trial(plan: Plan) -> tuple[str, list[tuple[str, list[str]]]] | None:
    """How tune scores a loop kept on Fabric: (training loader, [(step, the DataLoaders it reads)]) from training
    to the step that measures the primary metric; None where there is no such loop, loader or metric.

    Each trial trains on the training loader less a seeded held-out part, and every other loader those steps read
    becomes that part, so the evaluate step scores the trial on training data it did not see, never the test data.
    """
    train = train_step_name(plan)
    metric = primary_metric(plan)[0]
    if plan.loop is not None or plan.lightning or not plan.torch or not plan.seed or train is None or not metric:
        return None
    names = [step.name for step in plan.steps]
    measuring = next((s.name for s in plan.steps if metric in s.metrics), None)
    if measuring is None or names.index(measuring) <= names.index(train):
        return None
    loaders = _dataloaders(plan)
    steps = [
        (s.name, [i for i in s.inputs if i in loaders])
        for s in plan.steps[names.index(train) : names.index(measuring) + 1]
    ]
    training = steps[0][1]
    if not training:
        return None
    chosen = next((name for name in training if "train" in name.lower()), training[0])
    return chosen, steps


def _dataloaders(plan: Plan) -> set[str]:
    """Names some step binds to ``DataLoader(...)`` (``torch.utils.data.DataLoader`` however it was imported)."""
    found = set()
    for step in plan.steps:
        for placed in step.body:
            node = placed.stmt.node
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            func = node.value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called == "DataLoader":
                found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return found


def _step_stages(plan: Plan, common: list[str], step_code: list[str]) -> tuple[list[Stage], dict[str, str]]:
    """A stage per notebook step, with tune just before the train step; and which stage makes each hand-off."""
    train = train_step_name(plan)
    stages: list[Stage] = []
    producer: dict[str, str] = {}
    for step in plan.steps:
        if step.name == train:
            stages.append(_tune_stage(plan, step, step_code))
        name = stage_name(step.name)
        inputs = {i: producer[i] for i in step.inputs if i in producer}
        outputs = handed_on(plan, step)
        carried = carried_along(plan, step, outputs, producer)
        inputs.update((other, producer[other]) for other in carried)
        reads = sorted(set(inputs.values()), key=[s.name for s in stages].index)
        stages.append(
            Stage(
                name,
                f"the notebook's {step.name} step ({step.cells_named})",
                name,
                step_code,
                params=sorted(set(step.params + _seed(plan))),
                reads=reads,
                step=step.name,
                code=["common", name],
                inputs=inputs,
                outputs=outputs + carried,
                carried=carried,
            )
        )
        saved = set(stages[-1].outputs)
        stages[-1].together = [name for name in stages[-1].outputs if plan.shared_objects.get(name, set()) & saved]
        for output in stages[-1].outputs:
            producer[output] = name
    if not any(s.name == "tune" for s in stages):  # no train step: tune is there, and says there is nothing to tune
        stages.append(
            Stage(
                "tune",
                "nothing to tune: the notebook has no train step",
                "tuning",
                common + ["tuning"],
                sorted(_TUNE_KEYS),
                persist=True,
            )
        )
    return stages, producer


def _tune_stage(plan: Plan, train, step_code: list[str]) -> Stage:
    before = _before_train(plan)
    space = sorted(search_space(plan)[0])
    trial = held_out_trial(plan)
    scored = [plan.step(name) for name, _ in trial[1][1:]] if trial else []  # the steps after training it runs
    params_until_train = [p for step in before + scored for p in step.params]
    keys = _TUNE_KEYS | ({"primary_metric", "direction"} if trial else set())
    scoring = "; trials scored by the evaluate step on held-out training data" if trial else ""
    return Stage(
        "tune",
        f"Optuna search over the `# tune:` space{scoring}; best parameters to artifacts/tuning/best_params.yaml",
        "tuning",
        step_code + ["tuning"],
        params=sorted((set(params_until_train + train.params + _seed(plan)) - set(space)) | keys),
        reads=[],
        persist=True,  # the study resumes: DVC must not delete optuna.db before a re-run
        code=["common", *(stage_name(step.name) for step in before + [train] + scored)],
    )


def _final_stage(plan: Plan, step_code: list[str]) -> Stage:
    train = train_step_name(plan)
    before = _before_train(plan)
    final_params = sorted(set([p for step in before for p in step.params] + _seed(plan) + ["final_data"]))
    if train is not None:
        final_params = sorted(set(final_params + (plan.step(train).params if plan.step(train) else [])))
    return Stage(
        "final",
        "refit with the best parameters on training + validation data (--final-data train+val|all)",
        "final",
        step_code + ["tuning"],
        params=final_params,
        reads=["tune"] if train else [],
        code=["common", *(stage_name(step.name) for step in before), *([stage_name(train)] if train else [])],
    )


def _register_stage(plan: Plan, stages: list[Stage], common: list[str]) -> Stage:
    """Register reads the final model, the train and data stages (hashes) and the first stage with metrics."""
    train = train_step_name(plan)
    reads_train = [stage_name(train)] if train else []
    evaluate = next((s.name for s in stages if s.step and plan.step(s.step).metrics), None)
    data_stages = [s.name for s in stages if s.step and plan.step(s.step).role in ("data", "preprocess")]
    order = [s.name for s in stages] + ["final", "register"]
    register_reads = {"final", *reads_train, *data_stages} | ({evaluate} if evaluate else set())
    return Stage(
        "register",
        "log the final model, parameters, metrics and hashes to MLflow; champion alias only if it is better",
        "register",
        common + ["registry"],
        params=["direction", "primary_metric"],
        reads=sorted(register_reads, key=order.index),
    )


def _export_stage(plan: Plan, producer: dict[str, str], common: list[str], torch: bool) -> Stage:
    loader_stage = [producer[train_loader]] if (train_loader := mapped_loaders(plan)[0]) in producer else []
    return Stage(
        "export",
        "the champion as a torch.export program (and ONNX when installed), verified on a real batch",
        "export",
        common + (["registry", "deploy"] if torch else []),
        reads=["register"] + loader_stage,
    )


def dvc_yaml(package: str, stages: list[Stage], literals: bool = False) -> str:
    """One DVC stage per pipeline stage: its command, code and upstream outputs, config keys and outputs;
    ``literals``: the package stores large literals, which the code fingerprints read too."""
    fingerprints = sorted({name for stage in stages for name in stage.code}, key=lambda n: (n != "common", n))
    lines = [
        f"# `dvc repro` (or `python -m {package} run`) re-runs only the stages whose code, inputs or parameters changed.",
        "stages:",
        "  code:  # a sha256 per step function of pipeline.py (fingerprint.py): parsing only, so it runs every time",
        f"    cmd: python -m {package}.fingerprint",
        "    always_changed: true",
        "    deps:",
        f"      - src/{package}/pipeline.py",
        f"      - src/{package}/fingerprint.py",
        *([f"      - src/{package}/literals"] if literals else []),
        "    outs:",
    ]
    for name in fingerprints:
        lines += [f"      - artifacts/code/{name}.sha256:", "          cache: false"]
    for stage in stages:
        lines += [f"  {stage.name}:", f"    cmd: python -m {package} {stage.name}", "    deps:"]
        # the notebook's own modules, copied (codegen/notebook_modules.py): a folder
        lines += [
            f"      - src/{package}/{module}{'' if module == NOTEBOOK_MODULES else '.py'}" for module in stage.modules
        ]
        lines += [f"      - artifacts/code/{name}.sha256" for name in stage.code]
        lines += [f"      - artifacts/{_folder(stages, read)}" for read in stage.reads]
        if stage.params:
            lines += ["    params:", "      - config.yaml:"] + [f"          - {key}" for key in stage.params]
        if stage.persist:
            lines += ["    outs:", f"      - artifacts/{stage.folder}:", "          persist: true"]
        else:
            lines += ["    outs:", f"      - artifacts/{stage.folder}"]
    return "\n".join(lines) + "\n"


def _folder(stages: list[Stage], name: str) -> str:
    return next(s.folder for s in stages if s.name == name)


def mapped_loaders(plan: Plan) -> tuple[str | None, str | None]:
    """(train loader, validation loader) names of the mapped loop, when they are plain names: the names an earlier
    step hands the train step where the loop reads an alias the step makes of one (``train_dl = loader``)."""
    loop = plan.loop
    if loop is None or not isinstance(loop.mapping.train_loader, ast.Name):
        return None, None
    aliases: dict[str, str] = {}
    for placed in loop.step.body[: loop.step.body.index(loop.placed)] if loop.placed in loop.step.body else []:
        node = placed.stmt.node
        for name in placed.stmt.binds:
            aliases.pop(name, None)  # bound again: no longer the alias it may have been
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if isinstance(node.value, ast.Name):
                aliases[node.targets[0].id] = aliases.get(node.value.id, node.value.id)
    val = loop.mapping.val_loader
    train = loop.mapping.train_loader.id
    return aliases.get(train, train), aliases.get(val.id, val.id) if isinstance(val, ast.Name) else None


def config_fields(plan: Plan) -> list[dict]:
    """The MLOps keys of Config and config.yaml (stages/plan.py's MLOPS_FIELDS: a parameter of the same name is
    refused, PRM023)."""
    metric, direction = primary_metric(plan)
    fields = [
        ("primary_metric", "str", metric, "the metric register compares (evaluate's)"),
        ("direction", "str", direction, "max or min: which primary_metric is better"),
        ("trials", "int", 20, "tune: Optuna trials per `tune` (the study resumes)"),
        ("timeout", "float | None", None, "tune: seconds, or null for no limit"),
        ("val_fraction", "float", 0.2, "tune: the share of training data held out when there is no validation split"),
        ("final_data", "str", "train+val", "final: train+val, or all (the test data too)"),
        (
            "tracking_uri",
            "str | None",
            None,
            "register: MLflow tracking URI (null: MLFLOW_TRACKING_URI or sqlite:///mlflow.db)",
        ),
    ]
    return [
        {"name": name, "annotation": annotation, "value": value, "comment": comment}
        for name, annotation, value, comment in fields
    ]


def config_yaml_section(plan: Plan) -> str:
    """The MLOps keys of config.yaml: dvc.yaml lists them as the stages' params, so they must be there."""
    lines = ["", f"# MLOps stages (python -m {plan.package} --help)."]
    for item in config_fields(plan):
        lines.append(
            f"{item['name']}: {'null' if item['value'] is None else yaml_value(item['value'])}  # {item['comment']}"
        )
    return "\n".join(lines) + "\n"


_FLAGS = {
    "trials": ("--trials", "int", "tune: trials to add to the study"),
    "timeout": ("--timeout", "float", "tune: stop after this many seconds"),
    "final_data": ("--final-data", "", "final: train+val or all"),
    "tracking_uri": (
        "--tracking-uri",
        "",
        "register: MLflow tracking URI (default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db)",
    ),
}


def cli_flags(plan: Plan) -> list[dict]:
    """The CLI flags of the MLOps keys (the others are set in config.yaml)."""
    kept = {item["name"] for item in config_fields(plan)}
    return [
        {"name": name, "flag": flag, "type": kind, "help": text}
        for name, (flag, kind, text) in _FLAGS.items()
        if name in kept and not any(p.flag == flag for p in plan.parameters)
    ]


def mlops_summary(plan: Plan) -> dict:
    """What the CLI and the panel show: the stages with the config keys each reads, and the search space."""
    from .mode import runtime_kind

    if not plan.steps or not plan.ok:
        return {"stages": [], "search_space": {}}
    stages = build_stages(plan, ["config", "runtime", "data", "model", "pipeline"], runtime_kind(plan).torch)
    space = {
        name: f"{kind}({', '.join(map(repr, arguments))})" for name, (kind, arguments) in search_space(plan)[0].items()
    }
    return {"stages": [stage.to_json() for stage in stages], "search_space": space}

"""The MLOps files of a promoted project: stages.py, tuning.py, registry.py, fingerprint.py, deploy.py, dvc.yaml
and tests/test_stages.py, rendered from the stages mlops.py decides."""

from __future__ import annotations

from ..stages.plan import Plan
from ..stages.search_space import search_space
from .inference import schema_stage
from .mlops import (
    Stage,
    build_stages,
    dvc_yaml,
    held_out_trial,
    mapped_loaders,
    primary_metric,
    stage_name,
    train_step_name,
)
from .mode import RenderMode, Runtime
from .render import Unformatted, render


def generate_mlops(
    plan: Plan, mode: RenderMode, modules: list[str]
) -> tuple[dict[str, str | Unformatted], list[Stage]]:
    """The stage modules, dvc.yaml and the generated tests of the MLOps stages."""

    torch = mode.torch
    package = plan.package
    stages = build_stages(plan, modules + ["stages", "tuning", "registry"] + (["deploy"] if torch else []), torch)
    context = _template_context(plan, mode, stages)
    context["literals"] = "literals" in modules  # the package stores large literals (stages/literals.py)
    src = f"src/{package}"
    files: dict[str, str | Unformatted] = {
        f"{src}/stages.py": Unformatted(render("stages.py.j2", **context), package),
        f"{src}/tuning.py": Unformatted(render("tuning.py.j2", **context), package),
        f"{src}/registry.py": Unformatted(render("registry.py.j2", **context), package),
        f"{src}/fingerprint.py": Unformatted(render("fingerprint.py.j2", **context), package),
        "dvc.yaml": dvc_yaml(package, stages, literals=context["literals"]),
    }
    if torch:
        files[f"{src}/deploy.py"] = Unformatted(render("deploy.py.j2", **context), package)
    context.update(torch_model=torch and mode.model_output is not None, primary_metric=primary_metric(plan)[0])
    files["tests/test_stages.py"] = Unformatted(render("test_stages.py.j2", **context), package)
    return files, stages


def _template_context(plan: Plan, mode: RenderMode, stages: list[Stage]) -> dict:
    """What the stage, tuning, registry, fingerprint and deploy templates are rendered with."""
    kind, torch, seed_lines = mode.runtime, mode.torch, list(mode.seed_lines)
    names = plan.names
    train = train_step_name(plan)
    step_stages = [s for s in stages if s.step]
    before = [s.name for s in step_stages[: [s.step for s in step_stages].index(train)]] if train else []
    space = search_space(plan)[0]
    return dict(
        package=plan.package,
        names=names,
        settings=bool(plan.settings),
        torch=torch,
        fabric=kind is Runtime.FABRIC,
        seed_lines=seed_lines,
        seed_import=_seed_import(kind, seed_lines),
        seed=plan.seed or "",
        stages=stages,
        stage_dirs={stage.name: stage.folder for stage in stages},
        step_stages=[
            {
                "name": s.name,
                "step": s.step,
                "function": names.step_function(s.step),
                "inputs": s.inputs,
                "outputs": s.outputs,
                "together": s.together,
                "carried": s.carried,
                "fabric": kind is Runtime.FABRIC,
                "shard": kind is Runtime.FABRIC and s.step == train,
            }
            for s in step_stages
        ],
        step_functions=sorted({names.step_function(s.step) for s in step_stages}),
        together=any(s.together for s in step_stages),
        carried=any(s.carried for s in step_stages),
        search_space={name: (k, repr(tuple(a))) for name, (k, a) in space.items()},
        train_stage=stage_name(train) if train else "",
        last_before_train=before[-1] if before else None,
        **_loader_context(plan, kind, step_stages),
        model_output=mode.model_output,
        content_hash=plan.content_hash,
        data_stages=[s.name for s in step_stages if plan.step(s.step).role in ("data", "preprocess")],
        flavor="pytorch" if torch else "sklearn",
        example=mode.example,
        chain=mode.chain,
        schema_stage=schema_stage(plan, mode),  # records artifacts/schema.json (inference.py)
        reference=_reference_data(plan, mode, step_stages, train),
    )


def _reference_data(plan: Plan, mode: RenderMode, step_stages: list[Stage], train: str | None) -> dict:
    """The data drift's reference is sampled from first: the mapped loop's training loader, else the loader (or
    DataModule) the forward example reads; ``built`` when the train step makes it itself, beside ``fit``."""
    name = mapped_loaders(plan)[0] or (mode.example or {}).get("loader") or ""
    outputs = next((s.outputs for s in step_stages if s.step == train), [])
    return {"name": name, "built": bool(name) and name in outputs}


def _seed_import(kind: Runtime, seed_lines: list[str]) -> str:
    """The import the seeding lines need."""
    if any("seed_everything" in line for line in seed_lines):
        return f"from {'pytorch_lightning' if kind == 'lightning' else 'lightning_fabric'} import seed_everything"
    if any(line.startswith("numpy.") for line in seed_lines):
        return "import random\n\nimport numpy"
    if seed_lines:
        return "import random"
    return ""


def _loader_context(plan: Plan, kind: Runtime, step_stages: list[Stage]) -> dict:
    """The mapped loop's loaders, whether tune can run it, and the evaluate stage with the loaders it reads."""
    train_loader, val_loader = mapped_loaders(plan)
    evaluate = next((s.name for s in step_stages if plan.step(s.step).metrics or plan.step(s.step).metric_tables), "")
    evaluate_inputs = plan.step(next(s.step for s in step_stages if s.name == evaluate)).inputs if evaluate else []
    trial = held_out_trial(plan) if kind is Runtime.FABRIC else None
    return dict(
        # trials and the refit hand the train step other loaders: only those an earlier step hands it can be
        tunable=kind is Runtime.LIGHTNING
        and plan.loop is not None
        and train_loader in plan.loop.step.inputs
        and (val_loader is None or val_loader in plan.loop.step.inputs)
        and bool(plan.seed),
        # a loop kept on Fabric: trials scored by the notebook's own evaluate step on held-out training data
        held_out={"loader": trial[0], "steps": {stage_name(s): loaders for s, loaders in trial[1]}} if trial else None,
        train_loader=train_loader,
        val_loader=val_loader,
        eval_loaders=[n for n in evaluate_inputs if n not in (train_loader, val_loader) and "loader" in n.lower()],
        evaluate_stage=evaluate or "evaluate",
    )

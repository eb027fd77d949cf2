"""Operating a promoted project (issue 9, the operate part): the drift check against the reference sample the
train stage saves, the GitHub workflows (schema-valid), the Kubeflow pipeline (compiled, the stage graph), SLURM,
and the README's torchrun command training on two CPU processes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest
import yaml

from jupyterlab_promote import api
from jupyterlab_promote.codegen import generate
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import TINY_TORCH, corpus_notebooks, run_in_project, write_notebook

DEMO = Path(__file__).parent.parent / "examples" / "demo.ipynb"
NOTEBOOKS = [DEMO, *corpus_notebooks()]


def _lint(project: Path, paths: list[str]) -> list[str]:
    """ruff (the generated project's rules) and black on the files this part generates."""
    found = []
    for command in (
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "--select", "E4,E7,E9,F,I"],
        [sys.executable, "-m", "black", "--check", "--quiet"],
    ):
        done = subprocess.run(command + paths, cwd=project, capture_output=True, text=True)
        if done.returncode:
            found.append(f"{command[2]}: {done.stdout}{done.stderr}")
    return found


def _written(notebook: Path, folder: Path):
    """The generated project's files under ``folder`` (no promotion, no git: generation only)."""
    project = generate(build_plan(read_notebook(notebook)))
    for path, text in project.files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return project


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny notebook promoted, trained by the README's torchrun command: two CPU processes (gloo DDP)."""
    root = tmp_path_factory.mktemp("operate")
    output = root / "out"
    assert api.promote(write_notebook(root / "tiny.ipynb", TINY_TORCH), output).ok
    command = next(line for line in (output / "README.md").read_text().splitlines() if line.startswith("torchrun "))
    assert command.split()[:5] == ["torchrun", "--standalone", "--nproc-per-node", "2", "-m"]
    done = run_in_project(output, "-m", "torch.distributed.run", *command.split()[1:], timeout=600)
    return output, done


def test_readme_torchrun_command_trains_on_two_cpu_processes(trained):
    output, done = trained
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "Starting with 2 processes" in log
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in log
    assert (output / "artifacts" / "train" / "model.pt").is_file()
    assert (
        _lint(output, ["deploy/kubeflow.py", "src/tiny/drift.py", "src/tiny/stages.py", "src/tiny/__main__.py"]) == []
    )


def test_reference_sample_is_written_at_training_time(trained):
    output, _ = trained
    reference = output / "artifacts" / "reference"
    rows = numpy.load(reference / "reference.npy")
    summary = yaml.safe_load((reference / "reference.json").read_text())
    assert rows.shape == (64, 3) and summary["source"] == "loader" and len(summary["columns"]) == 3
    # the sample is the training data itself (the notebook's X, seeded), read without using the random stream
    import torch

    torch.manual_seed(0)
    assert numpy.allclose(rows, torch.randn(64, 3).numpy())


def test_drift_passes_on_fresh_data_and_fails_on_shifted_data(trained):
    output, _ = trained
    generator = numpy.random.default_rng(1)
    fresh = generator.standard_normal((400, 3))
    numpy.save(output / "fresh.npy", fresh)
    shifted = fresh + numpy.array([2.0, 0.0, 1.5])
    lines = ["a,b,c"] + [",".join(repr(float(v)) for v in row) for row in shifted]
    (output / "shifted.csv").write_text("\n".join(lines) + "\n")

    started = time.perf_counter()
    done = run_in_project(output, "-m", "tiny", "drift", "--input", "fresh.npy")
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].split() == ["feature", "KS", "statistic", "p-value", "drifted"]
    assert ": no drift" in done.stdout
    print(f"drift check, 400 rows × 3 features against 64 reference rows: {elapsed:.2f}s wall (process included)")

    done = run_in_project(output, "-m", "tiny", "drift", "--input", "shifted.csv")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ": DRIFT" in done.stdout
    report = yaml.safe_load((output / "artifacts" / "drift" / "report.json").read_text())
    drifted = {f["feature"]: f["drifted"] for f in report["features"]}
    assert drifted["feature_0"] and drifted["feature_2"] and report["drift"] is True  # the two shifted columns
    assert "<table>" in (output / "artifacts" / "drift" / "report.html").read_text()
    # the threshold is the share of drifted features that fails the check
    assert run_in_project(output, "-m", "tiny", "drift", "--input", "shifted.csv", "--threshold", "0.9").returncode == 0

    (output / "narrow.csv").write_text("a,b\n1,2\n")
    done = run_in_project(output, "-m", "tiny", "drift", "--input", "narrow.csv")
    assert done.returncode == 2 and "2 features, the model was trained on 3" in done.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_workflows_are_schema_valid_and_one_concern_each(notebook, tmp_path):
    project = _written(notebook, tmp_path)
    workflows = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    assert [p.name for p in workflows] == ["ci.yml", "drift.yml", "retrain.yml"]
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    package = project.package
    ci, drift, retrain = (yaml.safe_load(p.read_text()) for p in workflows)
    # PyYAML reads the key `on` as True
    assert set(ci[True]) == {"push", "pull_request"}  # no schedule: retraining has its own file
    ci_steps = " ".join(str(step.get("run", "")) for step in ci["jobs"]["test"]["steps"])
    for command in ("ruff check", "black --check", "pytest", f"python -m {package} run --smoke"):
        assert command in ci_steps
    assert set(retrain[True]) == {"schedule", "workflow_dispatch", "repository_dispatch"}
    assert retrain[True]["repository_dispatch"] == {"types": ["drift"]}
    retrain_steps = retrain["jobs"]["retrain"]["steps"]
    assert any(step.get("run") == f"python -m {package} run" for step in retrain_steps)
    uploads = [
        step["with"]["name"] for step in retrain_steps if step.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert {"metrics", "drift-report"} <= set(uploads)
    assert "input" in drift[True]["workflow_dispatch"]["inputs"]
    drift_steps = drift["jobs"]["drift"]["steps"]
    assert any(f"python -m {package} drift" in step.get("run", "") for step in drift_steps)
    dispatch = next(step for step in drift_steps if "dispatches" in step.get("run", ""))
    assert dispatch["if"] == "steps.drift.outputs.drifted == 'true'" and "event_type=drift" in dispatch["run"]


def _task(stage: str) -> str:
    return re.sub(r"\W|^(?=\d)", "_", stage).lower().replace("_", "-") + "-stage"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_kubeflow_pipeline_compiles_to_the_stage_graph(notebook, tmp_path):
    project = _written(notebook, tmp_path)
    done = subprocess.run(
        [sys.executable, "deploy/kubeflow.py", "--output", "pipeline.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    spec = yaml.safe_load((tmp_path / "pipeline.yaml").read_text())
    tasks = spec["root"]["dag"]["tasks"]
    expected = {_task(stage["name"]): sorted(_task(read) for read in stage["reads"]) for stage in project.stages}
    assert {name: sorted(task.get("dependentTasks", [])) for name, task in tasks.items()} == expected
    executors = spec["deploymentSpec"]["executors"]
    for stage in project.stages:
        executor = executors[tasks[_task(stage["name"])]["componentRef"]["name"].replace("comp-", "exec-")]
        container = executor["container"]
        assert container["image"] == f"{project.package.replace('_', '-')}:0.1.0"
        assert f'python -m {project.package} {stage["name"]} "$@"' in container["command"][2]
    inputs = spec["root"]["inputDefinitions"]["parameters"]
    assert "tracking_uri" in inputs
    package = project.package
    assert _lint(tmp_path, ["deploy/kubeflow.py", f"src/{package}/drift.py", f"src/{package}/stages.py"]) == []
    # the image the steps run in: CPU base, the project installed
    dockerfile = (tmp_path / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile and "RUN pip install ." in dockerfile


def test_slurm_script_runs_one_task_per_device(tmp_path):
    _written(DEMO, tmp_path)
    script = (tmp_path / "deploy" / "slurm.sbatch").read_text()
    options = dict(re.findall(r"^#SBATCH --([\w-]+)=(\S+)", script, re.MULTILINE))
    assert options["ntasks-per-node"] == options["gres"].removeprefix("gpu:")
    command = script[script.index("srun ") :]
    assert '--devices "${SLURM_NTASKS_PER_NODE}"' in command and '--num-nodes "${SLURM_JOB_NUM_NODES}"' in command
    assert "python -m demo" in command and "--strategy ddp" in command
    done = subprocess.run(["bash", "-n", str(tmp_path / "deploy" / "slurm.sbatch")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if shutil.which("shellcheck"):
        assert subprocess.run(["shellcheck", str(tmp_path / "deploy" / "slurm.sbatch")]).returncode == 0


def test_ci_checks_that_a_notebook_in_the_repository_was_promoted_again(tmp_path, git_identity):
    """The notebook lives in the project's own repository: ci.yml runs ``jupyter promote NB --check``, and that step,
    run as written, passes after a promotion and fails once the notebook changes without one."""
    project = tmp_path / "project"
    notebook = write_notebook(project / "notebooks" / "tiny.ipynb", TINY_TORCH)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    assert api.promote(notebook, project).ok
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    schema = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    valid = subprocess.run([*schema, str(project / ".github" / "workflows" / "ci.yml")], capture_output=True, text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    step = next(s for s in ci["jobs"]["test"]["steps"] if s.get("name") == "Notebook promoted")
    assert step["env"] == {"NOTEBOOK": "notebooks/tiny.ipynb"}
    command = step["run"].splitlines()[-1]  # the line after `pip install jupyterlab-promote`
    assert command == 'jupyter promote "$NOTEBOOK" --check --output . --name tiny'
    app = [sys.executable, "-m", "jupyterlab_promote.app"]
    arguments = ["notebooks/tiny.ipynb", "--check", "--output", ".", "--name", "tiny"]
    assert subprocess.run(app + arguments, cwd=project, capture_output=True).returncode == 0
    write_notebook(notebook, [*TINY_TORCH[:-1], (TINY_TORCH[-1][0] + "\nprint(acc)", TINY_TORCH[-1][1])])
    drifted = subprocess.run(app + arguments, cwd=project, capture_output=True, text=True)
    assert drifted.returncode == 1 and "changed since its last promotion" in drifted.stdout + drifted.stderr
    outside = generate(build_plan(read_notebook(notebook)), "../elsewhere/tiny.ipynb")
    assert "jupyter promote" not in outside.files[".github/workflows/ci.yml"]  # another tree's notebook: its own CI

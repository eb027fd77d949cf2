"""The two runs that ``--verify`` compares: the notebook under nbclient, the promoted package as a subprocess.

Both start from a fresh scratch copy of the notebook's directory, so they read the same input files and
neither sees what the other wrote. Both run single-threaded (``OMP_NUM_THREADS=1``): thread counts change
floating-point reduction order, and 2-core machines are far faster that way.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

from ..errors import PromoteError
from ..stages.plan import Plan

Progress = Callable[[str], None]

# The probe cell prints one line starting with this marker, followed by the metrics as JSON.
PROBE_MARKER = "__jupyterlab_promote_metrics__"
_SEED_CALLS = {"manual_seed", "seed", "seed_everything", "set_seed", "manual_seed_all"}
# Folders not worth copying into the scratch directory (and never read by a notebook as input).
_NOT_COPIED = shutil.ignore_patterns(".git", ".ipynb_checkpoints", "__pycache__", "*_project", "artifacts")


class VerifyError(PromoteError):
    """The notebook or the package could not be run to the end, so nothing can be compared."""

    status = 422


def scratch_copy(notebook_dir: Path, scratch: Path) -> Path:
    """A copy of the notebook's directory: the inputs its relative paths read, and room to write."""
    shutil.copytree(notebook_dir, scratch, ignore=_NOT_COPIED, symlinks=True)
    return scratch


def run_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


# --- the notebook side -----------------------------------------------------------------


def _seed_calls(source: str) -> list[ast.Call]:
    """Seeding calls of the parameters cell (``torch.manual_seed(0)``), to replay with another seed."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and len(node.value.args) == 1:
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _SEED_CALLS:
                calls.append(node.value)
    return calls


def injected_source(plan: Plan, values: dict[str, object], parameters_source: str) -> str:
    """The cell papermill would inject after the parameters cell; a new seed also replays the seeding calls."""
    lines = ["# Parameters injected by jupyter promote --verify"]
    for name, value in values.items():
        if name == plan.seed and not _assigns(parameters_source, name):
            continue  # a seed promotion named after `torch.manual_seed(0)`: the replayed call below carries it
        lines.append(f"{name} = {value!r}")
    if plan.seed in values:
        for call in _seed_calls(parameters_source):
            replayed = ast.Call(func=call.func, args=[ast.Constant(values[plan.seed])], keywords=call.keywords)
            lines.append(ast.unparse(replayed))
    return "\n".join(lines)


def _assigns(source: str, name: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        for node in tree.body
    )


def probe_source(names: list[str], tables: list[str]) -> str:
    """A last cell that prints the metrics the package would record, read the way ``save_metrics`` reads them."""
    return f"""\
def __promote_probe(names, tables, scope):
    import json, numbers
    def scalar(value):
        if isinstance(value, bool):
            return None
        if isinstance(value, numbers.Real):
            return float(value)
        if tuple(getattr(value, "shape", (None,))) == () and hasattr(value, "item"):
            item = value.item()
            if isinstance(item, numbers.Real) and not isinstance(item, bool):
                return float(item)
        return None
    found = {{}}
    for name in names:
        if name in scope and (value := scalar(scope[name])) is not None:
            found[name] = value
    for table in tables:
        if table not in scope:
            continue
        rows = scope[table] if isinstance(scope[table], (list, tuple)) else [scope[table]]
        for row in rows:
            for key, value in dict(row).items():
                if (value := scalar(value)) is not None:
                    found[str(key)] = value
    print({PROBE_MARKER!r} + json.dumps(found))
__promote_probe({names!r}, {tables!r}, globals())
del __promote_probe"""


def recorder_source(name: str) -> str:
    """A first cell that keeps what a bare ``trainer.test(...)``/``validate(...)`` statement returns under ``name``,
    as the package's step does: the notebook discards that value (or only displays it), so it could not be read."""
    return f"""\
def __promote_install_recorder(name):
    import ast
    from IPython import get_ipython
    def keep(value):
        globals()[name] = value
        return value
    class KeepResults(ast.NodeTransformer):
        def visit_Module(self, module):
            for index, node in enumerate(module.body):
                call = node.value if isinstance(node, ast.Expr) else None
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("test", "validate"):
                    kept = ast.Call(ast.Name("__promote_keep", ast.Load()), [call], [])
                    module.body[index] = ast.copy_location(ast.Expr(kept), node)
            return ast.fix_missing_locations(module)
    get_ipython().user_ns["__promote_keep"] = keep
    get_ipython().ast_transformers.append(KeepResults())
__promote_install_recorder({name!r})
del __promote_install_recorder"""


# Around a left-out cell that draws random numbers (PRM043): the random state before it, put back after it, so the
# promoted cells draw what they draw in the package. Only modules that are installed are saved.
SAVE_RANDOM_STATE = """\
def __promote_random_state():
    import importlib.util, random
    state = {"random": random.getstate()}
    if importlib.util.find_spec("numpy"):
        import numpy
        state["numpy"] = numpy.random.get_state()
    if importlib.util.find_spec("torch"):
        import torch
        state["torch"] = torch.random.get_rng_state()
    return state
__promote_saved_random_state = __promote_random_state()
del __promote_random_state"""
RESTORE_RANDOM_STATE = """\
def __promote_restore(state):
    import random
    random.setstate(state["random"])
    if "numpy" in state:
        import numpy
        numpy.random.set_state(state["numpy"])
    if "torch" in state:
        import torch
        torch.random.set_rng_state(state["torch"])
__promote_restore(__promote_saved_random_state)
del __promote_restore, __promote_saved_random_state"""


def _probe_result(cell) -> dict[str, float]:
    for output in cell.get("outputs", []):
        for line in str(output.get("text", "")).splitlines():
            if line.startswith(PROBE_MARKER):
                return json.loads(line[len(PROBE_MARKER) :])
    raise VerifyError("the notebook ran, but its metrics could not be read back (no probe output)")


def _instrumented_cells(
    plan: Plan,
    cells: list,
    values: dict[str, object],
    names: list[str],
    tables: list[str],
    aligned: Sequence[int] = (),
) -> tuple[list, int]:
    """The notebook's cells with ours added: parameter overrides, the random state kept around the ``aligned``
    cells, the results recorder, the metrics probe. Returns them and the probe's index."""
    import nbformat

    original = list(cells)

    def ours(source: str, tag: str):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [tag]
        return cell

    def after(index: int) -> int:  # where the notebook's cell ``index`` now is, plus one
        return next(i for i, cell in enumerate(cells) if cell is original[index]) + 1

    for index in aligned:
        cells.insert(after(index) - 1, ours(SAVE_RANDOM_STATE, "random-state-save"))
        cells.insert(after(index), ours(RESTORE_RANDOM_STATE, "random-state-restore"))
    if values:
        index = _parameters_index(plan)
        source = injected_source(plan, values, "".join(original[index].source))
        cells.insert(after(index), ours(source, "injected-parameters"))
    # Read right after the cell that last records a metric: a skipped cell further down (wild10's second model)
    # may rebind `loss`; the notebook still runs to its end.
    probe = ours(probe_source(names, tables), "metrics-probe")
    cells.insert(after(_metrics_cell_index(plan, len(original))), probe)
    if plan.names.results in tables:
        cells.insert(0, ours(recorder_source(plan.names.results), "metrics-recorder"))
    return cells, next(i for i, cell in enumerate(cells) if cell is probe)


def run_notebook(
    plan: Plan,
    values: dict[str, object],
    names: list[str],
    tables: list[str],
    cwd: Path,
    *,
    timeout: int,
    progress: Progress,
    aligned: Sequence[int] = (),
) -> dict[str, float]:
    """Execute every cell (skip-tagged ones too) in a fresh kernel, then read the metrics from the kernel.

    ``aligned``: left-out cells whose random draws are undone (the random state is put back after each)."""
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import (
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
    )

    node = nbformat.read(str(plan.notebook.path), as_version=4)
    cells, probe = _instrumented_cells(plan, list(node.cells), values, names, tables, aligned)
    node.cells = cells
    kernel = (node.metadata.get("kernelspec") or {}).get("name") or "python3"
    client = NotebookClient(
        node, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": str(cwd)}}, allow_errors=False
    )
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    index = code[0]
    try:
        # The kernel's own log (transport warnings) is noise here; the cells' errors come back as outputs.
        with client.setup_kernel(env=run_env(), cwd=str(cwd), stderr=subprocess.DEVNULL):
            for done, index in enumerate(code, 1):
                progress(f"notebook: cell {done}/{len(code)}")
                client.execute_cell(cells[index], index)
    except CellExecutionError as error:
        raise VerifyError(
            f"{plan.notebook.name} failed when run top to bottom, in {_describe(plan, cells, index)}: "
            f"{error.ename}: {error.evalue}",
            details=[line for line in str(error).splitlines() if line.strip()][-8:],
        ) from None
    except (CellTimeoutError, TimeoutError):
        raise VerifyError(
            f"{plan.notebook.name}: {_describe(plan, cells, index)} ran longer than {timeout} s"
        ) from None
    except NoSuchKernel:
        raise VerifyError(
            f"{plan.notebook.name} asks for the kernel {kernel!r}, which is not installed here (`jupyter kernelspec list`)"
        ) from None
    except DeadKernelError as error:
        raise VerifyError(
            f"{plan.notebook.name}: the kernel died in {_describe(plan, cells, index)} ({error})"
        ) from None
    return _probe_result(cells[probe])


def _metrics_cell_index(plan: Plan, count: int) -> int:
    """The notebook index of the last promoted cell in a step that records metrics (the last cell without one)."""
    recording = [c.cell.index for step in plan.steps if step.metrics or step.metric_tables for c in step.cells]
    return max(recording, default=count - 1)


def _parameters_index(plan: Plan) -> int:
    cell = next((c for c in plan.cells if c.role == "parameters"), None)
    if cell is None:
        raise VerifyError(
            f"{plan.notebook.name} has no parameters cell, so --set and --seeds have nothing to override; tag one `parameters`"
        )
    return cell.cell.index


def _describe(plan: Plan, cells: list, index: int) -> str:
    """Where a failure happened, in the notebook's own cell numbering (the cells we add are not counted)."""
    added = {
        "injected-parameters": "the injected parameters cell",
        "metrics-probe": "the metrics probe",
        "metrics-recorder": "the recorder of trainer.test() results",
        "random-state-save": "the cell keeping the random state",
        "random-state-restore": "the cell putting the random state back",
    }
    tags = cells[index].get("metadata", {}).get("tags", [])
    for tag, described in added.items():
        if tag in tags:
            return described
    before = sum(1 for c in cells[:index] if set(c.get("metadata", {}).get("tags", [])) & set(added))
    return f"cell {index - before} (id {cells[index].get('id', '?')})"


# --- the package side ------------------------------------------------------------------


def package_command(plan: Plan, output: Path, values: dict[str, object], artifacts: Path, torch: bool) -> list[str]:
    """``python -m PKG run`` with the parameters as the generated CLI's own flags."""
    flags = {p.name: p.flag for p in plan.parameters}
    command = [sys.executable, "-m", plan.package, "run", "--config", str(output / "config.yaml")]
    for name, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        if isinstance(value, bool):
            command.append(flags[name] if value else "--no-" + flags[name][2:])
        else:
            command += [flags[name], text]
    if torch:
        command += ["--devices", "1"]  # "auto" would start DDP on a multi-GPU machine: another computation
    return command + ["--artifacts-dir", str(artifacts)]


def run_package(command: list[str], output: Path, cwd: Path, artifacts: Path, *, timeout: int) -> dict[str, float]:
    """Run the promoted package from the scratch copy (the notebook's inputs), ``src/`` on the path."""
    env = {
        **run_env(),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(output / "src"), os.environ.get("PYTHONPATH")])),
    }
    try:
        proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise VerifyError(f"the package run took longer than {timeout} s: {' '.join(command[1:])}") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
        raise VerifyError(
            f"the promoted package failed (exit {proc.returncode}): {' '.join(command[1:4])}",
            details=tail,
        )
    metrics = artifacts / "metrics.json"
    if not metrics.is_file():
        return {}
    return json.loads(metrics.read_text(encoding="utf-8"))

"""Training cost of a promoted project against the notebook's own loop, per epoch and fixed.

Used by bench_targets.py, or alone: ``python benchmarks/bench_epochs.py``. Each side runs at two epoch counts;
the slope is the steady-state cost of an epoch, the intercept what a run pays once (imports, data, export).

What is compared with the notebook's loop is the project's ``train`` stage: one training, as the notebook does.
``run`` is not: it trains many times (every Optuna trial of ``tune``, pruned early or not, then ``train``, then
``final`` on all the data), so its time per epoch is no measure of the training loop. The demo's network is tiny (about 1.5 ms of compute a batch), so Lightning's
fixed cost per step shows; the same notebook with a wider network (``hidden=512``) shows the ratio once the
model's own compute is most of a step.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_targets import GIT_IDENTITY, print_table, run_cpu

LOW, HIGH = 2, 102  # a long run: an epoch of the demo is tens of ms, a process start varies by a second
REPEAT = 2  # the least of each pair of runs: a run's first import reads torch from a cold disk


def _raw_script(notebook: Path, values: dict[str, int]) -> tuple[str, str]:
    """(the notebook's code as one script with ``values`` for its parameters, its import lines only)."""
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells if "promote:skip" not in c.get("metadata", {}).get("tags", [])]
    lines = [line for line in "\n".join(sources).splitlines() if not line.startswith(("%", "!"))]
    code = "\n".join(lines)
    for name, value in values.items():
        code = re.sub(rf"^{name} = \d+", f"{name} = {value}", code, flags=re.MULTILINE)
    imports = "\n".join(line for line in lines if line.startswith(("import ", "from ")))
    return code, imports


def _slopes(raw: dict[int, float], promoted: dict[int, float]) -> tuple[float, float]:
    return tuple((t[HIGH] - t[LOW]) / (HIGH - LOW) for t in (raw, promoted))  # type: ignore[return-value]


def _epochs(notebook, project, package, scratch, env, stage, extra):
    """CPU seconds of the raw script and of ``python -m PACKAGE STAGE`` at each epoch count, the least of REPEAT."""
    raw: dict[int, float] = {}
    promoted: dict[int, float] = {}
    for _ in range(REPEAT):
        for epochs in (LOW, HIGH):
            code, _ = _raw_script(notebook, {"epochs": epochs, **extra})
            (scratch / "raw.py").write_text(code)
            spent = run_cpu([sys.executable, "raw.py"], env, cwd=scratch)[0]
            raw[epochs] = min(raw.get(epochs, spent), spent)
            flags = [f"--{name.replace('_', '-')}={value}" for name, value in extra.items()]
            command = [sys.executable, "-m", package, stage, f"--epochs={epochs}", "--accelerator=cpu", *flags]
            spent = run_cpu(command, env, cwd=project)[0]
            promoted[epochs] = min(promoted.get(epochs, spent), spent)
    return raw, promoted


def per_epoch(notebook: Path, scratch: Path) -> list[tuple[str, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from jupyterlab_promote import api

    project = scratch / "train_project"
    result = api.promote(notebook, project, commit=False)
    package = result.plan.package
    env = {**os.environ, **GIT_IDENTITY, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(project / "src")}
    rows = []
    raw, promoted = _epochs(notebook, project, package, scratch, env, "train", {})
    slope_raw, slope_train = _slopes(raw, promoted)
    rows += [
        ("per epoch: raw loop / train stage", f"{slope_raw:6.3f} s {slope_train:6.3f} s"),
        ("per-epoch ratio (train stage / raw)", f"{slope_train / slope_raw:6.2f}x"),
    ]
    wide_raw, wide_promoted = _slopes(*_epochs(notebook, project, package, scratch, env, "train", {"hidden": 512}))
    rows += [
        ("per epoch, hidden=512: raw loop / train stage", f"{wide_raw:6.3f} s {wide_promoted:6.3f} s"),
        ("per-epoch ratio, hidden=512 (train stage / raw)", f"{wide_promoted / wide_raw:6.2f}x"),
    ]
    _, imports = _raw_script(notebook, {})
    raw_imports = run_cpu([sys.executable, "-c", imports], env, cwd=scratch)[0]
    project_imports = run_cpu([sys.executable, "-c", f"import {package}.pipeline"], env, cwd=project)[0]
    subprocess.run(["rm", "-rf", str(project)], check=False)
    fixed_raw, fixed_train = raw[LOW] - LOW * slope_raw, promoted[LOW] - LOW * slope_train
    return rows + [
        ("fixed cost per run: raw / train stage", f"{fixed_raw:6.2f} s {fixed_train:6.2f} s"),
        ("  of which imports: raw / promoted", f"{raw_imports:6.2f} s {project_imports:6.2f} s"),
        (
            "  rest (data, Trainer set-up, schema): raw / train stage",
            f"{fixed_raw - raw_imports:6.2f} s {fixed_train - project_imports:6.2f} s",
        ),
    ]


if __name__ == "__main__":
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"
    print_table("training, demo notebook (CPU s)", per_epoch(demo, Path(tempfile.mkdtemp(prefix="bench-epochs-"))))

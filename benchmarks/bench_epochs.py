"""Training cost of a promoted project against the notebook's own loop, per epoch and fixed.

Used by bench_targets.py. Each side runs at two epoch counts; the slope is the steady-state cost of an
epoch, the intercept what a run pays once (imports, data, export). Imports are also measured alone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from bench_targets import GIT_IDENTITY, run_cpu

LOW, HIGH = 2, 12


def _raw_script(notebook: Path, epochs: int) -> tuple[str, str]:
    """(the notebook's code as one script with ``epochs`` set, its import lines only)."""
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells if "promote:skip" not in c.get("metadata", {}).get("tags", [])]
    lines = [line for line in "\n".join(sources).splitlines() if not line.startswith(("%", "!"))]
    code = re.sub(r"^epochs = \d+", f"epochs = {epochs}", "\n".join(lines), flags=re.MULTILINE)
    imports = "\n".join(line for line in lines if line.startswith(("import ", "from ")))
    return code, imports


def per_epoch(notebook: Path, scratch: Path) -> list[tuple[str, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from jupyterlab_promote import api

    project = scratch / "train_project"
    result = api.promote(notebook, project, commit=False)
    package = result.plan.package
    env = {**os.environ, **GIT_IDENTITY, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(project / "src")}
    raw, promoted = {}, {}
    for epochs in (LOW, HIGH):
        code, imports = _raw_script(notebook, epochs)
        (scratch / "raw.py").write_text(code)
        raw[epochs] = run_cpu([sys.executable, "raw.py"], env, cwd=scratch)[0]
        command = [sys.executable, "-m", package, "run", "--epochs", str(epochs), "--accelerator", "cpu"]
        promoted[epochs] = run_cpu(command, env, cwd=project)[0]
    raw_imports = run_cpu([sys.executable, "-c", imports], env, cwd=scratch)[0]
    project_imports = run_cpu([sys.executable, "-c", f"import {package}.pipeline"], env, cwd=project)[0]
    subprocess.run(["rm", "-rf", str(project)], check=False)
    slope = {side: (t[HIGH] - t[LOW]) / (HIGH - LOW) for side, t in (("raw", raw), ("promoted", promoted))}
    fixed = {side: t[LOW] - LOW * slope[side] for side, t in (("raw", raw), ("promoted", promoted))}
    return [
        ("per epoch: raw loop / promoted project", f"{slope['raw']:6.3f} s {slope['promoted']:6.3f} s"),
        ("per-epoch ratio (promoted / raw)", f"{slope['promoted'] / slope['raw']:6.2f}x"),
        ("fixed cost per run: raw / promoted", f"{fixed['raw']:6.2f} s {fixed['promoted']:6.2f} s"),
        ("  of which imports: raw / promoted", f"{raw_imports:6.2f} s {project_imports:6.2f} s"),
        ("  rest (data, Trainer set-up, export): raw / promoted",
         f"{fixed['raw'] - raw_imports:6.2f} s {fixed['promoted'] - project_imports:6.2f} s"),
    ]

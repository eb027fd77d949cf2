"""The demo's MLOps path, timed (issue 8): a 5-trial tune, the first full `run` through `dvc repro`, then the
re-runs DVC decides (no change, an evaluate-only code change, a parameter change), each with the stages it ran.

    python benchmarks/bench_mlops.py                 # the demo at its own size (epochs 20, 2,000 samples)
    python benchmarks/bench_mlops.py --trials 5

Wall seconds of each command as a user types it (process start included); the load average is printed first.
Needs dvc and optuna installed (the generated project's [pipeline] extra). OMP_NUM_THREADS=1 throughout.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "examples" / "demo.ipynb"


def _run(project: Path, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH="src", OMP_NUM_THREADS="1")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=project, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, done


def _stages(log: str) -> str:
    ran = [line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage '")]
    return ", ".join(stage for stage in ran if stage != "code") or "none"


def _trial_values(study: Path) -> list[float]:
    with sqlite3.connect(study) as db:
        rows = db.execute("SELECT value FROM trial_values ORDER BY trial_id").fetchall()
    return [row[0] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    from jupyterlab_promote import api

    print(f"load average {os.getloadavg()[0]:.1f}")
    project = Path(tempfile.mkdtemp()) / "demo"
    if not api.promote(DEMO, project, commit=False).ok:
        raise SystemExit("the demo did not promote")
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("trials: 20", f"trials: {args.trials}"))
    rows = []

    seconds, _ = _run(project, "-m", "demo", "tune", "--trials", str(args.trials))
    values = _trial_values(project / "artifacts" / "tuning" / "optuna.db")
    rows.append((f"tune, {args.trials} trials", seconds, "tune"))
    print(f"tune: validation loss of the notebook's own values {values[0]:.4f}, best {min(values):.4f}")
    _run(project, "-m", "dvc", "init", "-q", "--no-scm")
    for label, change in (
        ("first full run (dvc repro)", None),
        ("re-run, nothing changed", None),
        ("evaluate code changed", "evaluate"),
        ("lr changed in config.yaml", "lr"),
    ):
        if change == "evaluate":
            pipeline = project / "src" / "demo" / "pipeline.py"
            text = pipeline.read_text()
            pipeline.write_text(text.replace("    test_acc = correct", '    print("evaluating")\n    test_acc = correct'))
        elif change == "lr":
            config.write_text(config.read_text().replace("lr: 0.01", "lr: 0.02"))
        seconds, done = _run(project, "-m", "demo", "run")
        rows.append((label, seconds, _stages(done.stdout)))
    print("| what | wall s | stages that ran |\n|---|---|---|")
    for label, seconds, stages in rows:
        print(f"| {label} | {seconds:.1f} | {stages} |")


if __name__ == "__main__":
    main()

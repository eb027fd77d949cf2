"""Per-notebook health of promotion over every real notebook we have: the report behind "develop against the wild".

    python benchmarks/corpus_report.py                       # ../shared/corpus, ../shared/corpus/wild, examples
    python benchmarks/corpus_report.py NB.ipynb ... --json   # chosen notebooks, one JSON object per line

For each notebook: promote (no git), ruff (E4,E7,E9,F,I: pyflakes' checks included) and black on the generated
project, the project's own generated tests (`pytest`, slow ones deselected as in its CI), then `--verify` (the
notebook top to bottom under nbclient against `python -m PKG run`, same parameters and seed, rtol 1e-6; where the
promotion warned that results can differ by chance, PRM043/PRM047, a difference is measured again against the
notebook's own spread over 3 seeds), and the time of each. Notebooks shipped inside installed packages
(site-packages/**/*.ipynb, e.g. a library's examples) are added auto-tagged: every untagged cell gets the role the
analysis suggests for it.

Slow (minutes per training notebook) and never part of the test suite. OMP_NUM_THREADS=1 throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))
os.environ["OMP_NUM_THREADS"] = "1"


def installed_example_notebooks(limit: int) -> list[Path]:
    """Notebooks that installed packages ship (outside their test folders)."""
    roots = {Path(p) for p in [*site.getsitepackages(), sysconfig.get_paths()["purelib"]] if Path(p).is_dir()}
    found = sorted(
        {
            path
            for root in roots
            for path in root.rglob("*.ipynb")
            if not {"tests", "test", ".ipynb_checkpoints"} & set(path.parts)
        }
    )
    return found[:limit]


def autotag(notebook: Path, folder: Path) -> Path:
    """A copy of ``notebook`` in which each untagged cell carries the role the analysis suggests."""
    import nbformat

    from jupyterlab_promote import api
    from jupyterlab_promote.analysis.roles import tag_for

    plan = api.analyze(notebook)
    node = nbformat.read(str(notebook), as_version=4)
    for cell in plan.cells:
        if cell.role is None and cell.suggested_role:
            node.cells[cell.cell.index].metadata.setdefault("tags", []).append(tag_for(cell.suggested_role))
    target = folder / notebook.name
    nbformat.write(node, str(target))
    return target


def _timed(action):
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def _lint(project: Path) -> str:
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "E4,E7,E9,F,I", "--no-cache", "-q", "."],
        cwd=project,
        capture_output=True,
        text=True,
    )
    black = subprocess.run([sys.executable, "-m", "black", "--check", "-q", "."], cwd=project, capture_output=True)
    problems = [line for line in ruff.stdout.splitlines() if line.strip()]
    if ruff.returncode == 0 and black.returncode == 0:
        return "clean"
    return f"{len(problems)} ruff" + ("" if black.returncode == 0 else " +black")


def _project_tests(project: Path, timeout: int) -> str:
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
    try:
        proc = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    last = (proc.stdout.strip().splitlines() or ["?"])[-1]
    return "green" if proc.returncode == 0 else "red: " + last.strip("= ")[:60]


# Warnings that the package draws other random numbers than the notebook (a skipped cell's draws, a new step order)
_BY_CHANCE = {"PRM043", "PRM047"}
CHANCE_SEEDS = 3


def report_one(notebook: Path, expected: dict, work: Path, timeout: int) -> dict:
    from jupyterlab_promote import api
    from jupyterlab_promote.errors import PromoteError

    row: dict = {"notebook": notebook.name}
    output = work / f"{notebook.stem}_project"
    try:
        result, row["promote_s"] = _timed(lambda: api.promote(notebook, output, commit=False))
    except PromoteError as error:
        return {**row, "promote": f"error: {error.message[:60]}"}
    row["promote"] = "ok" if result.ok else "errors"
    if not result.ok:
        return row
    row["lint"] = _lint(output)
    row["tests"], row["tests_s"] = _timed(lambda: _project_tests(output, timeout))
    try:
        verification, row["verify_s"] = _timed(lambda: api.verify(notebook, output, commit=False, timeout=timeout))
    except PromoteError as error:
        row["verify"] = f"error: {error.message[:90]}"
        return row
    report = verification.report
    if report is None or not report.metrics:
        row["verify"] = "no metric recorded" if report else "not promoted"
    else:
        row["verify"] = "ok" if verification.ok else "differs: " + ", ".join(report.differing)
        if not verification.ok and {d.code for d in result.diagnostics} & _BY_CHANCE:
            # the promotion said results can differ by chance: are they within the notebook's own seed-to-seed spread?
            spread = api.verify(notebook, output, seeds=CHANCE_SEEDS, commit=False, timeout=timeout)
            within = "within" if spread.ok else "beyond"
            row["verify"] += f"; {within} the notebook's spread over {CHANCE_SEEDS} seeds"
    row["metrics"] = len(report.metrics) if report else 0
    differences = [m.relative_difference for m in report.metrics if m.relative_difference is not None] if report else []
    row["worst_rel_diff"] = f"{max(differences):.1e}" if differences else None
    if report and expected:
        # Did the notebook itself, run here, give the values its curator recorded?
        values = {m.name: m.notebook for m in report.metrics if m.notebook is not None}
        same = [
            name
            for name, value in expected.items()
            if name in values and abs(values[name] - value) <= 1e-6 * max(1, abs(value))
        ]
        row["nb_vs_expected"] = f"{len(same)}/{len(expected)}"
    return row


def _notebooks(args) -> list[tuple[Path, dict]]:
    if args.notebooks:
        return [(Path(p), {}) for p in args.notebooks]
    chosen = []
    for folder in (CORPUS, CORPUS / "wild"):
        expected_file = folder / "expected.json"
        expected = json.loads(expected_file.read_text()) if expected_file.is_file() else {}
        chosen += [(path, expected.get(path.name, {})) for path in sorted(folder.glob("*.ipynb"))]
    return chosen


def _table(rows: list[dict]) -> str:
    columns = [
        "notebook",
        "promote",
        "lint",
        "tests",
        "verify",
        "worst_rel_diff",
        "nb_vs_expected",
        "promote_s",
        "tests_s",
        "verify_s",
    ]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths)), "-|-".join("-" * w for w in widths)]
    return "\n".join([*lines, *(" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells)])


def _cell(value) -> str:
    return "-" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to report on (default: the whole corpus)")
    parser.add_argument("--installed", type=int, default=3, help="how many site-packages notebooks to add")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per notebook run / package run / tests")
    parser.add_argument("--json", action="store_true", help="one JSON object per notebook instead of the table")
    args = parser.parse_args()
    if not args.notebooks and not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}; pass notebooks explicitly", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="corpus-report-") as tmp:
        work = Path(tmp)
        notebooks = _notebooks(args)
        if not args.notebooks:
            tagged = work / "autotagged"
            tagged.mkdir()
            installed = installed_example_notebooks(args.installed)
            notebooks += [(autotag(path, tagged), {}) for path in installed]
            print(f"site-packages example notebooks found: {len(installed)}", file=sys.stderr)
        for notebook, expected in notebooks:
            print(f"… {notebook.name}", file=sys.stderr, flush=True)
            try:
                row = report_one(notebook, expected, work, args.timeout)
            except Exception as error:  # a bug of the tool under test is a row of the report, not the end of it
                row = {"notebook": notebook.name, "promote": f"crash: {type(error).__name__}: {str(error)[:80]}"}
            rows.append(row)
            print(f"  {json.dumps(row)}", file=sys.stderr, flush=True)
            if args.json:
                print(json.dumps(row), flush=True)
    if not args.json:
        print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

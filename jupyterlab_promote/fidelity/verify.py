"""``--verify``: prove that the promoted package still computes what the notebook computed.

The notebook runs top to bottom as its author runs it (every cell, skip-tagged ones included), the package runs
with the same parameters and seed, and each metric of the plan is compared. The tolerance is ``rtol`` relative to
the notebook's value; with ``seeds`` > 1 it is widened to the notebook's own spread: max − min of the metric over
the notebook run with seeds ``seed, seed+1, …, seed+N−1`` (the package runs with the first seed).

The verdict is recorded in the project as ``fidelity.json`` (written only by verify, never by promotion, so a
promotion stays byte-identical when no verify ran); the generated ``tests/test_fidelity.py`` reads it.
"""

from __future__ import annotations

import ast
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import PromoteError
from ..stages.plan import Plan

Progress = Callable[[str], None]
FIDELITY_FILE = "fidelity.json"
DEFAULT_RTOL = 1e-6
ABSOLUTE_FLOOR = 1e-12  # two zeros, or values at round-off distance from zero, are equal


@dataclass
class MetricComparison:
    name: str
    notebook: float | None
    package: float | None
    tolerance: float  # absolute: max(rtol·|notebook|, seed spread, floor)
    spread: float | None = None  # max − min over the notebook's seeds (with seeds > 1)

    @property
    def difference(self) -> float | None:
        if self.notebook is None or self.package is None:
            return None
        return abs(self.package - self.notebook)

    @property
    def relative_difference(self) -> float | None:
        difference = self.difference
        if difference is None:
            return None
        return difference / abs(self.notebook) if self.notebook else (0.0 if difference == 0 else math.inf)

    @property
    def verdict(self) -> str:
        if self.notebook is None:
            return "only in package"
        if self.package is None:
            return "only in notebook"
        difference = self.difference
        return "ok" if difference is not None and difference <= self.tolerance else "differs"

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def to_json(self) -> dict:
        def number(value: float | None) -> float | None | str:
            return value if value is None or math.isfinite(value) else str(value)

        return {
            "name": self.name,
            "notebook": number(self.notebook),
            "package": number(self.package),
            "relative_difference": number(self.relative_difference),
            "tolerance": self.tolerance,
            "spread": self.spread,
            "verdict": self.verdict,
        }


@dataclass
class VerifyReport:
    notebook: Path
    output: Path
    package: str
    parameters: dict[str, object]
    rtol: float
    seeds: int
    metrics: list[MetricComparison] = field(default_factory=list)
    notebook_seconds: float = 0.0
    package_seconds: float = 0.0
    fidelity_file: str | None = None
    note: str = ""
    # When it differs and left-out cells draw random numbers (PRM043): those cells, and what still differs once
    # the notebook is run again with the random state put back after each of them.
    aligned_cells: list[int] = field(default_factory=list)
    aligned_differing: list[str] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.metrics) and all(m.ok for m in self.metrics)

    @property
    def differing(self) -> list[str]:
        return [m.name for m in self.metrics if not m.ok]

    @property
    def message(self) -> str:
        if not self.metrics:
            return "nothing to compare: neither run recorded a numeric metric (tag the cell that measures the model promote:evaluate)"
        band = f"rtol {self.rtol:g}" + (
            f", widened to the notebook's spread over {self.seeds} seeds" if self.seeds > 1 else ""
        )
        if self.ok:
            return f"the package reproduces the notebook: {len(self.metrics)} metric(s) within tolerance ({band})"
        return f"the package differs from the notebook in {', '.join(self.differing)} ({band})" + self._aligned_note()

    def _aligned_note(self) -> str:
        if self.aligned_differing is None:
            return ""
        cells = ", ".join(map(str, self.aligned_cells))
        if not self.aligned_differing:
            return (
                f"; run again with the random state put back after left-out cell(s) {cells} (PRM043), the notebook "
                "gives the package's values: the difference is those cells' random draws"
            )
        return f"; with the random draws of left-out cell(s) {cells} undone it still differs in {', '.join(self.aligned_differing)}"

    def table(self) -> str:
        """The side-by-side table the CLI prints."""
        rows = [("metric", "notebook", "package", "rel. diff", "verdict")]
        for m in self.metrics:
            rel = m.relative_difference
            rows.append(
                (m.name, _format(m.notebook), _format(m.package), "-" if rel is None else f"{rel:.2e}", m.verdict)
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "notebook": str(self.notebook),
            "output": str(self.output),
            "package": self.package,
            "parameters": self.parameters,
            "rtol": self.rtol,
            "seeds": self.seeds,
            "metrics": [m.to_json() for m in self.metrics],
            "differing": self.differing,
            "aligned": (
                None
                if self.aligned_differing is None
                else {"cells": self.aligned_cells, "differing": self.aligned_differing}
            ),
            "notebook_seconds": round(self.notebook_seconds, 1),
            "package_seconds": round(self.package_seconds, 1),
            "fidelity_file": self.fidelity_file,
            "message": self.message,
            "note": self.note,
        }


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def parse_overrides(items: list[str], plan: Plan) -> dict[str, object]:
    """``["epochs=2", "lr=0.01"]`` → typed values of the notebook's parameters (a flag name works too)."""
    by_name = {p.name: p for p in plan.parameters}
    by_flag = {p.flag.lstrip("-"): p for p in plan.parameters}
    values: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        parameter = by_name.get(key) or by_flag.get(key.lstrip("-"))
        if not sep or parameter is None:
            known = ", ".join(sorted(by_name)) or "none: the notebook has no parameters cell"
            raise PromoteError(
                f"--set {item!r}: expected NAME=VALUE with NAME a parameter of {plan.notebook.name} (parameters: {known})"
            )
        try:
            value: object = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()  # a bare word is a string, as on the generated CLI
        if isinstance(parameter.value, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[parameter.name] = value
    return values


def metric_sources(plan: Plan) -> tuple[list[str], list[str]]:
    """(names, tables) the evaluate steps record; tables are trainer.test()/validate() results."""
    names = [m for step in plan.steps for m in step.metrics]
    tables = [t for step in plan.steps for t in step.metric_tables]
    return list(dict.fromkeys(names)), list(dict.fromkeys(tables))


def compare(notebook_runs: list[dict[str, float]], package: dict[str, float], rtol: float) -> list[MetricComparison]:
    """One row per metric either side recorded; the band is the notebook's spread when there are several runs."""
    first = notebook_runs[0]
    rows = []
    for name in list(dict.fromkeys([*first, *package])):
        values = [run[name] for run in notebook_runs if name in run]
        spread = (max(values) - min(values)) if len(notebook_runs) > 1 and values else None
        reference = first.get(name)
        tolerance = max(rtol * abs(reference) if reference is not None else 0.0, spread or 0.0, ABSOLUTE_FLOOR)
        rows.append(MetricComparison(name, reference, package.get(name), tolerance, spread))
    return rows


def verify_plan(
    plan: Plan,
    output: Path,
    overrides: dict[str, object],
    *,
    rtol: float = DEFAULT_RTOL,
    seeds: int = 1,
    timeout: int = 1800,
    progress: Progress = lambda message: None,
) -> VerifyReport:
    """Run the notebook (``seeds`` times) and the package already generated in ``output``; compare."""
    from ..codegen.mode import runtime_kind
    from .runs import package_command, run_notebook, run_package, scratch_copy

    if seeds < 1:
        raise PromoteError(f"--seeds must be at least 1, got {seeds}")
    if not rtol >= 0:
        raise PromoteError(f"--rtol must be a non-negative number, got {rtol}")
    names, tables = metric_sources(plan)
    report = VerifyReport(plan.notebook.path, output, plan.package, dict(overrides), rtol, seeds)
    base_seed = overrides.get(plan.seed) if plan.seed else None
    if plan.seed and base_seed is None:
        base_seed = next(p.value for p in plan.parameters if p.name == plan.seed)
    if seeds > 1 and not isinstance(base_seed, int):
        report.note = "the notebook has no integer seed parameter: its spread comes from repeated unseeded runs"
    with tempfile.TemporaryDirectory(prefix="promote-verify-") as tmp:
        started = time.perf_counter()
        runs = [
            run_notebook(plan, values, names, tables, cwd, timeout=timeout, progress=progress)
            for values, cwd in _notebook_runs(plan, overrides, base_seed, seeds, Path(tmp), progress)
        ]
        report.notebook_seconds = time.perf_counter() - started
        progress("running the package")
        started = time.perf_counter()
        cwd = scratch_copy(plan.notebook.path.parent, Path(tmp) / "package")
        artifacts = Path(tmp) / "package-artifacts"
        project = output.resolve()  # the package runs from the scratch copy, not from here
        command = package_command(plan, project, overrides, artifacts, runtime_kind(plan).torch)
        package = run_package(command, project, cwd, artifacts, timeout=timeout)
        report.package_seconds = time.perf_counter() - started
        report.metrics = compare(runs, package, rtol)
        report.aligned_cells = drawing_left_out_cells(plan)
        if not report.ok and report.aligned_cells and seeds == 1:
            progress("running the notebook again, the random draws of left-out cells undone")
            cwd = scratch_copy(plan.notebook.path.parent, Path(tmp) / "notebook-aligned")
            aligned = run_notebook(
                plan,
                dict(overrides),
                names,
                tables,
                cwd,
                timeout=timeout,
                progress=progress,
                aligned=report.aligned_cells,
            )
            report.aligned_differing = [m.name for m in compare([aligned], package, rtol) if not m.ok]
    return report


def _notebook_runs(plan: Plan, overrides: dict, base_seed: object, seeds: int, tmp: Path, progress: Progress):
    """(parameter values, scratch folder) of each notebook run: one per seed, each in a fresh copy of its folder."""
    from .runs import scratch_copy

    for number in range(seeds):
        values = dict(overrides)
        if isinstance(base_seed, int) and seeds > 1:
            values[plan.seed] = base_seed + number  # type: ignore[index]
        progress(f"running the notebook ({number + 1}/{seeds})")
        yield values, scratch_copy(plan.notebook.path.parent, tmp / f"notebook-{number}")


def drawing_left_out_cells(plan: Plan) -> list[int]:
    """Left-out cells that shift the random stream promoted cells draw from (PRM043)."""
    promoted = {cell.cell.index for cell in plan.cells if cell.promoted}
    flagged = {d.cell_index for d in plan.all_diagnostics if d.code == "PRM043"}
    return sorted(index for index in flagged if index is not None and index not in promoted)


def fidelity_record(report: VerifyReport, plan: Plan, output: Path) -> str:
    """What tests/test_fidelity.py checks against: no timestamps, so an unchanged verdict changes no byte.

    ``inputs`` is the notebook's folder relative to the project: the test runs from a copy of it, as verify did.
    """
    inputs = Path(os.path.relpath(plan.notebook.path.resolve().parent, output.resolve())).as_posix()
    record = {
        "notebook": plan.notebook.name,
        "inputs": inputs,
        "content_hash": plan.content_hash,
        "parameters": report.parameters,
        "rtol": report.rtol,
        "seeds": report.seeds,
        "ok": report.ok,
        "metrics": {
            m.name: {"notebook": m.notebook, "package": m.package, "tolerance": m.tolerance}
            for m in report.metrics
            if m.notebook is not None
        },
    }
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def record_fidelity(report: VerifyReport, plan: Plan, output: Path, *, commit: bool) -> None:
    """Write fidelity.json into the project and commit that one path on the current branch.

    Nothing is lost: an uncommitted hand edit of fidelity.json is left alone (the report says so), and the
    earlier record stays in git history. Without ``commit`` (``--no-commit``) the file is only written.
    """
    from ..gitrepo.commands import commit_one_file

    text = fidelity_record(report, plan, output)
    message = (
        f"Record the fidelity of {plan.notebook.name} (jupyter promote --verify: {'ok' if report.ok else 'differs'})"
    )
    if commit_one_file(output, FIDELITY_FILE, text, message if commit else None):
        report.fidelity_file = FIDELITY_FILE
    else:
        report.note = f"{FIDELITY_FILE} has uncommitted changes, so the new record was not written over them"


@dataclass
class Verification:
    """A promotion followed by its fidelity check: what ``api.verify`` returns."""

    promotion: object  # api.PromoteResult
    report: VerifyReport | None

    @property
    def ok(self) -> bool:
        return bool(self.promotion.ok) and self.report is not None and self.report.ok  # type: ignore[attr-defined]

    @property
    def message(self) -> str:
        return self.report.message if self.report is not None else f"not verified: {self.promotion.message}"  # type: ignore[attr-defined]

    def to_json(self) -> dict:
        data = self.report.to_json() if self.report is not None else {"metrics": [], "differing": []}
        return {**data, "ok": self.ok, "message": self.message, "promotion": self.promotion.to_json()}  # type: ignore[attr-defined]

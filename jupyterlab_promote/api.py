"""The one API every front door uses: the CLI, the server handlers and (through them) the panel.

Each function is a straight pipeline of named stages —
read → plan → generate → write/commit — and returns plain data with a
``to_json()`` whose shape is documented in docs/architecture.md. For a promoted
project it also starts its smoke pipeline and tests (lifecycle/jobs.py) and reads its hand
edits and model registry (lifecycle/project_state.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .analysis.cells import cyclic_gc_paused
from .analysis.diagnostics import Diagnostic, Severity
from .codegen import GeneratedProject, generate
from .codegen.fingerprint import generation_key, notebook_generation_key
from .codegen.formatting_estimate import formatting_estimate
from .codegen.mlops import mlops_summary
from .codegen.render import toml_value
from .codegen.ruff_limits import LintTooCostlyError
from .codegen.unhanded_names import unhanded_names
from .codegen.validate import check_package_name, file_problems, plan_problems
from .errors import PromoteError
from .gitrepo import merge
from .lifecycle.jobs import Job, cancel_job, get_job, start_job
from .lifecycle.project_state import hand_edits, registered_versions
from .outputs import (
    FileChange,
    branch_for,
    changes,
    default_output,
    refuse_foreign_default_output,
    refuse_unmakeable_output,
)
from .read.notebook import Notebook, read_notebook
from .recorded_outcomes import RecordedPlan, recorded_plan, remember_outcome
from .stages import build_plan
from .stages.plan import Plan, package_name

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress sink."""


@dataclass
class Preview:
    plan: Plan
    output: Path
    files: list[FileChange]
    hand_edits: list[str] = field(default_factory=list)  # generated files edited by hand (merges keep them)

    @property
    def ok(self) -> bool:
        return self.plan.ok

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "output": str(self.output),
            "package": self.plan.package,
            "files": [f.to_json() for f in self.files],
            "hand_edits": self.hand_edits,
            "diagnostics": [d.to_json() for d in self.plan.all_diagnostics],
            **mlops_summary(self.plan),
        }


@dataclass
class PromoteResult:
    plan: Plan | RecordedPlan  # recorded: an unchanged notebook answered from the last promotion's record
    output: Path
    branch: str | None = None
    commit: str | None = None
    merged: bool = False
    files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    hand_edits: list[str] = field(default_factory=list)  # generated files whose hand edits the merge kept
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.plan.ok and not self.conflicts

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.plan.all_diagnostics

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "output": str(self.output),
            "package": self.plan.package,
            "branch": self.branch,
            "commit": self.commit,
            "merged": self.merged,
            "files": self.files,
            "conflicts": self.conflicts,
            "hand_edits": self.hand_edits,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "message": self.message,
            "seconds": round(self.seconds, 3),
            **(self.plan.summary if isinstance(self.plan, RecordedPlan) else mlops_summary(self.plan)),
        }


@dataclass
class DriftCheck:
    drifted: bool
    message: str
    recorded: str | None
    current: str

    def to_json(self) -> dict:
        return {
            "ok": not self.drifted,
            "drifted": self.drifted,
            "message": self.message,
            "recorded": self.recorded,
            "current": self.current,
        }


def _notebook_ref(notebook: Path, output: Path) -> str:
    return Path(os.path.relpath(notebook.resolve(), output.resolve())).as_posix()


def analyze(
    notebook: str | Path, name: str | None = None, *, strict: bool = False, content: dict | None = None
) -> Plan:
    """Read and analyse a notebook; nothing is written.

    ``content`` is the notebook as the editor holds it (unsaved edits included), so the panel can
    analyse while the user types; preview and promote always read the saved file.
    """
    return _analysed(_read_named(notebook, name, content), name, strict)


def _read_named(notebook: str | Path, name: str | None, content: dict | None = None) -> Notebook:
    """The notebook as read, once a package name given by the user is known to be one."""
    if name is not None:
        check_package_name(name)
    return read_notebook(notebook, content)


def _analysed(notebook: Notebook, name: str | None, strict: bool) -> Plan:
    plan = build_plan(notebook, name, strict=strict)
    plan.diagnostics.extend(plan_problems(plan))
    return plan


def _generate(plan: Plan, output: Path) -> GeneratedProject:
    """The generated files, each checked to parse; a problem is a diagnostic and leaves ``plan.ok`` False."""
    # Generation parses the modules it renders (imports, formatting, the last check): with the plan's trees in the
    # heap, each full collection those parses trigger would scan millions of nodes (10,000 cells: 1.2 s).
    with cyclic_gc_paused():
        try:
            project = generate(plan, _notebook_ref(plan.notebook.path, output))
        except LintTooCostlyError as exc:  # the author's code is beyond ruff (ruff_limits.py)
            project = GeneratedProject(plan.package)
            index, cell_id, line = exc.cell or (None, None, None)
            plan.diagnostics.append(
                Diagnostic(Severity.ERROR, "PRM045", exc.message, str(plan.notebook.path), index, cell_id, line)
            )
        except (RecursionError, MemoryError) as exc:  # formatting a pathologically nested statement
            project = GeneratedProject(plan.package)
            plan.diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    "PRM024",
                    f"the generated code is too deeply nested to format ({type(exc).__name__})",
                    str(plan.notebook.path),
                )
            )
        plan.diagnostics.extend(file_problems(plan, project.files) + unhanded_names(plan, project.files))
    return project


def _templated(
    plan: Plan, output: Path, project: GeneratedProject, template: str | None, options: dict | list | None
) -> tuple[GeneratedProject, list[str]]:
    """``project`` placed into the organisation's cookiecutter template (codegen/templating.py), if one is given."""
    if not template:
        return project, []
    # imported where used: cookiecutter is only needed with a template
    from .codegen import templating

    description = f"Pipeline promoted from the notebook {plan.notebook.name}."
    done = templating.apply_template(
        project,
        template,
        templating.parse_options(options),
        description=description,
        notebook_ref=_notebook_ref(plan.notebook.path, output),
    )
    return done.project, done.notes


def preview(
    notebook: str | Path,
    output: str | Path | None = None,
    name: str | None = None,
    *,
    strict: bool = False,
    template: str | None = None,
    template_options: dict | list | None = None,
) -> Preview:
    """What promotion would write, as diffs against the target directory; writes nothing."""
    plan = analyze(notebook, name, strict=strict)
    output = Path(output) if output else default_output(plan.notebook.path)
    if not plan.ok:
        return Preview(plan, output, [])
    project = _generate(plan, output)
    if not plan.ok:
        return Preview(plan, output, [])
    project, _ = _templated(plan, output, project, template, template_options)
    branch = branch_for(plan.notebook.path)
    previous = merge.files_on_branch(output, branch)
    return Preview(plan, output, changes(output, project.files, previous), hand_edits(output, branch))


def _up_to_date(plan: Plan, output: Path, result: PromoteResult) -> bool:
    """True (and ``result`` filled in) when the last promotion, merged, came from the same generation key.

    Generation is deterministic, so the full run would write the same tree and find nothing to commit;
    the same refusals (uncommitted work in the way, a merge in progress) still apply.
    """
    key = generation_key(plan, _notebook_ref(plan.notebook.path, output))
    return _merged_with_key(plan.notebook, output, key, result)


def _merged_with_key(notebook: Notebook, output: Path, key: str, result: PromoteResult) -> bool:
    if not output.is_dir():  # a first promotion into a new folder: nothing to ask git
        return False
    branch = branch_for(notebook.path)
    merged = merge.merged_promotion(output, branch, "promote.toml")
    if merged is None or f"generation_key = {toml_value(key)}\n" not in merged[1] or "\n[template]\n" in merged[1]:
        return False
    merge.preflight(output, merge.files_on_branch(output, branch))
    result.branch, result.commit = branch, merged[0]
    result.message = f"up to date: {notebook.name} has not changed since the last promotion"
    return True


def _recorded_up_to_date(notebook: Notebook, output: Path, name: str | None, strict: bool) -> PromoteResult | None:
    """The result of promoting an unchanged notebook, from the record of its last promotion (recorded_outcomes),
    before any analysis; None when there is no record or git does not confirm that promotion is merged."""
    ref = _notebook_ref(notebook.path, output)
    key = notebook_generation_key(notebook, package_name(name or notebook.stem), strict, ref)
    recorded = recorded_plan(key)
    if recorded is None:
        return None
    result = PromoteResult(plan=recorded, output=output)
    if not _merged_with_key(notebook, output, key, result):
        return None
    result.hand_edits = hand_edits(output, result.branch)
    return result


def promote(
    notebook: str | Path,
    output: str | Path | None = None,
    name: str | None = None,
    *,
    strict: bool = False,
    commit: bool = True,
    progress: Progress = _quiet,
    template: str | None = None,
    template_options: dict | list | None = None,
    recorded: bool = True,
) -> PromoteResult:
    """Analyse, generate, then commit on ``promote/<stem>`` and merge (or just write, with commit=False).

    ``recorded``: an unchanged notebook whose last promotion is merged may be answered from that promotion's record
    (recorded_outcomes), without analysing it; False always analyses (the result's plan is then a Plan)."""
    started = time.perf_counter()
    read = _read_named(notebook, name)
    output = Path(output) if output else default_output(read.path)
    refuse_unmakeable_output(output)
    early = _recorded_up_to_date(read, output, name, strict) if commit and not template and recorded else None
    if early is not None:
        early.seconds = time.perf_counter() - started
        return early
    progress("analysing notebook")
    plan = _analysed(read, name, strict)
    result = PromoteResult(plan=plan, output=output)
    if not plan.ok:
        result.message = "not promoted: fix the errors above first"
        return result
    if commit and not template and _up_to_date(plan, output, result):
        result.hand_edits = hand_edits(output, result.branch)
        result.seconds = time.perf_counter() - started
        return result
    estimate = formatting_estimate(plan)
    progress(f"generating package ({estimate})" if estimate else "generating package")
    project = _generate(plan, output)
    if not plan.ok:
        result.message = "not promoted: fix the errors above first"
        return result
    if template:
        progress("rendering the project template")
    project, notes = _templated(plan, output, project, template, template_options)
    if not commit:
        progress("writing files")
        result.files = merge.write_files(output, project.files)
        result.message = f"wrote {len(result.files)} file(s) to {output} (not committed)"
    else:
        progress("committing to git")
        _commit(plan, output, project, result)
    if notes:
        result.message += f" [template {template}: {'; '.join(notes)}]"
    result.seconds = time.perf_counter() - started
    return result


def _commit(plan: Plan, output: Path, project: GeneratedProject, result: PromoteResult) -> None:
    """Commit ``project`` on the notebook's promote branch and merge it; ``result`` says what happened."""
    branch = branch_for(plan.notebook.path)
    message = f"Promote {plan.notebook.name} (notebook {plan.content_hash})"
    outcome = merge.commit_generated(output, project.files, branch=branch, message=message)
    result.branch, result.commit = outcome.branch, outcome.commit
    result.merged = outcome.merge_commit is not None
    result.files, result.conflicts = outcome.changed, outcome.conflicts
    result.hand_edits = [] if outcome.created_repo else hand_edits(output, branch)  # a new repository has none
    result.message = _commit_message(plan, outcome)
    if result.ok:  # on the user's branch: an unchanged notebook is answered from this record next time
        remember_outcome(generation_key(plan, _notebook_ref(plan.notebook.path, output)), result.to_json())


def _commit_message(plan: Plan, outcome: merge.CommitOutcome) -> str:
    if outcome.no_change:
        return f"up to date: {plan.notebook.name} has not changed since the last promotion"
    if outcome.recovered and not outcome.conflicts:
        return (
            f"merged the promotion already committed on {outcome.branch} ({(outcome.commit or '')[:8]}), which had not"
            " reached your branch (an interrupted promotion, or a merge reset away)"
        )
    if outcome.conflicts:
        return (
            f"merge conflict in {len(outcome.conflicts)} file(s): your edits and the new generation touch the same lines. "
            "Resolve them and `git commit`, or `git merge --abort` to undo the merge."
        )
    return f"committed {len(outcome.changed)} changed file(s) on {outcome.branch} ({(outcome.commit or '')[:8]}) and merged"


def check(notebook: str | Path, output: str | Path | None = None, name: str | None = None) -> DriftCheck:
    """Has the notebook's promoted code changed since the last promotion? (The generated CI's check.)"""
    plan = analyze(notebook, name)
    output = Path(output) if output else default_output(plan.notebook.path)
    recorded_text = merge.read_from_branch(output, branch_for(plan.notebook.path), "promote.toml")
    if recorded_text is None and (output / "promote.toml").is_file():
        recorded_text = (output / "promote.toml").read_text(encoding="utf-8")
    if recorded_text is None:
        return DriftCheck(True, f"{plan.notebook.name} was never promoted to {output}", None, plan.content_hash)
    import tomllib

    try:
        recorded = tomllib.loads(recorded_text).get("notebook", {}).get("content_hash")
    except tomllib.TOMLDecodeError:
        recorded = None  # a promote.toml edited out of shape: the notebook counts as changed
    if recorded == plan.content_hash:
        return DriftCheck(False, f"{plan.notebook.name} is in sync with {output}", recorded, plan.content_hash)
    return DriftCheck(
        True,
        f"{plan.notebook.name} changed since its last promotion: run `jupyter promote {plan.notebook.path} --output {output}`",
        recorded,
        plan.content_hash,
    )


def verify(
    notebook: str | Path,
    output: str | Path | None = None,
    name: str | None = None,
    *,
    overrides: list[str] | tuple[str, ...] = (),
    seeds: int = 1,
    rtol: float | None = None,
    strict: bool = False,
    commit: bool = True,
    timeout: int = 1800,
    progress: Progress = _quiet,
):
    """Promote, then run the notebook and the package with the same parameters and compare their metrics.

    ``overrides`` are ``NAME=VALUE`` texts; returns a :class:`verify.Verification`. Executes code.
    """
    # imported where used: keeps CLI start fast
    from .fidelity import verify as fidelity

    plan = analyze(notebook, name, strict=strict)
    values = fidelity.parse_overrides(list(overrides), plan)  # bad --set fails before anything is written
    promotion = promote(notebook, output, name, strict=strict, commit=commit, progress=progress, recorded=False)
    if not promotion.ok:
        return fidelity.Verification(promotion, None)
    report = fidelity.verify_plan(
        promotion.plan,
        promotion.output,
        values,
        rtol=fidelity.DEFAULT_RTOL if rtol is None else rtol,
        seeds=seeds,
        timeout=timeout,
        progress=progress,
    )
    progress("recording fidelity.json")
    fidelity.record_fidelity(report, promotion.plan, promotion.output, commit=commit)
    return fidelity.Verification(promotion, report)


__all__ = [
    "PromoteError",
    "Preview",
    "PromoteResult",
    "DriftCheck",
    "analyze",
    "preview",
    "promote",
    "check",
    "verify",
    "Job",
    "start_job",
    "get_job",
    "cancel_job",
    "registered_versions",
    "hand_edits",
    "branch_for",
    "default_output",
    "refuse_foreign_default_output",
]

"""`jupyter promote`: the command-line front door to the core API.

A traitlets Application that reads Jupyter's config files as every Jupyter command does, so
`jupyter_promote_config.py` and `--Promoter.strict=True` work as users expect. The app parses arguments,
calls :mod:`jupyterlab_promote.api` and prints; it holds no promotion logic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from traitlets import Bool, Float, Int, List, Unicode
from traitlets.config.application import Application

from . import api
from ._version_info import tool_version
from .api import Diagnostic, Severity
from .errors import OutputNeededError, PromoteError
from .settings import Promoter

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_MARK = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


class PromoteApp(Application):
    name = "jupyter-promote"
    description = "Promote a tagged notebook to a tested, git-committed PyTorch Lightning package."
    examples = """
    jupyter promote experiment.ipynb                      # → experiment_project/, committed
    jupyter promote experiment.ipynb --output ../pkg --name churn
    jupyter promote experiment.ipynb --dry-run            # plan, diagnostics and diff only
    jupyter promote experiment.ipynb --check              # CI: exit 1 if the notebook drifted
    jupyter promote experiment.ipynb --verify --set epochs=2 --seeds 3   # run both, compare metrics
    jupyter promote experiment.ipynb --template ../acme-template --template-option org=acme  # organisation layout
    """
    version = tool_version()
    classes = [Promoter]

    output = Unicode("", help="Directory of the generated project (default: from Promoter.output_pattern).").tag(
        config=True
    )
    package_name = Unicode("", help="Python package name (default: the notebook's name).").tag(config=True)
    commit = Bool(True, help="Commit to git and merge; --no-commit only writes the files.").tag(config=True)
    check_only = Bool(False, help="Exit 1 when the notebook changed since the last promotion.").tag(config=True)
    dry_run = Bool(False, help="Print the plan, diagnostics and a diff; write nothing.").tag(config=True)
    json_output = Bool(False, help="Print one JSON object on stdout.").tag(config=True)
    verify = Bool(False, help="After promoting, run the notebook and the package and compare their metrics.").tag(
        config=True
    )
    overrides = List(Unicode(), help="--verify: NAME=VALUE parameter overrides for both runs (repeatable).").tag(
        config=True
    )
    seeds = Int(1, help="--verify: run the notebook with N seeds; its spread (max - min) widens the tolerance.").tag(
        config=True
    )
    rtol = Float(1e-6, help="--verify: relative tolerance per metric.").tag(config=True)

    aliases = {
        "output": "PromoteApp.output",
        "o": "PromoteApp.output",
        "name": "PromoteApp.package_name",
        "set": "PromoteApp.overrides",
        "seeds": "PromoteApp.seeds",
        "rtol": "PromoteApp.rtol",
        "template": "Promoter.template",
        "template-option": "Promoter.template_options",
        "log-level": "Application.log_level",
    }
    flags = {
        "no-commit": ({"PromoteApp": {"commit": False}}, "Write the files without committing."),
        "check": ({"PromoteApp": {"check_only": True}}, "Exit 1 when the notebook drifted from the promoted code."),
        "dry-run": (
            {"PromoteApp": {"dry_run": True}},
            "Print the plan, diagnostics and a unified diff; write nothing.",
        ),
        "strict": ({"Promoter": {"strict": True}}, "Code pulled in from untagged cells is an error."),
        "json": ({"PromoteApp": {"json_output": True}}, "Print one JSON object on stdout."),
        "verify": (
            {"PromoteApp": {"verify": True}},
            "Promote, then run notebook and package with the same parameters; exit 1 if a metric differs.",
        ),
    }

    exit_status = EXIT_OK

    def initialize(self, argv: list[str] | None = None) -> None:
        """The command line, then jupyter_config.py and jupyter_promote_config.py from Jupyter's config folders
        (`jupyter --paths`), the command line winning: what JupyterApp does, without importing it (it imports
        asyncio and ssl, 20 ms of a command that takes 600)."""
        self.parse_command_line(argv)
        from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

        folders = jupyter_config_path()
        if jupyter_config_dir() not in folders:
            folders.insert(0, jupyter_config_dir())
        for name in ("jupyter_config", "jupyter_promote_config"):
            self.load_config_file(name, path=folders)

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self._usage("give exactly one notebook, e.g. `jupyter promote experiment.ipynb`")
            return
        notebook = Path(self.extra_args[0])
        settings = Promoter(parent=self)
        name = self.package_name or None
        try:
            self._run(notebook, name, settings)
        except OutputNeededError as error:
            self._usage(error.message)
        except PromoteError as error:
            self._error(error)
        except OSError as error:  # a name longer than the file system allows, a permission denied, …
            where = error.filename if isinstance(error.filename, str) else "a path"
            self._error(PromoteError(f"{where}: {error.strerror or error}; nothing was written"))
        except Exception as error:  # a bug of ours: say so plainly; the traceback only on request
            self.log.debug("unexpected error", exc_info=True)
            self._error(
                PromoteError(
                    f"unexpected error ({type(error).__name__}: {error}); nothing was committed. Re-run with --log-level=DEBUG for details and please report it"
                )
            )

    def _run(self, notebook: Path, name: str | None, settings: Promoter) -> None:
        """The output directory, then the mode the flags ask for."""
        output = Path(self.output) if self.output else settings.default_output(notebook, name)
        if not self.output and not (self.check_only or self.dry_run):  # these two write nothing
            api.refuse_foreign_default_output(notebook, output)
        if self.check_only:
            self._check(notebook, output, name)
        elif self.verify and settings.template:
            self._usage("--verify with --template is not supported yet: verify the built-in layout")
        elif self.verify:
            self._verify(notebook, output, name, settings.strict)
        elif self.dry_run:
            self._dry_run(notebook, output, name, settings)
        else:
            self._promote(notebook, output, name, settings)

    # --- the three modes -------------------------------------------------------------

    def _check(self, notebook: Path, output: Path, name: str | None) -> None:
        drift = api.check(notebook, output, name)
        if self.json_output:
            self._print_json(drift.to_json())
        else:
            print(("drift: " if drift.drifted else "ok: ") + drift.message)
        self.exit_status = EXIT_FAILED if drift.drifted else EXIT_OK

    def _dry_run(self, notebook: Path, output: Path, name: str | None, settings: Promoter) -> None:
        preview = api.preview(notebook, output, name, strict=settings.strict, **settings.template_arguments())
        if self.json_output:
            self._print_json(preview.to_json())
        else:
            plan = preview.plan
            print(f"Plan for {plan.notebook.name} → {output} (package {plan.package})")
            for step in plan.steps:
                takes = f" takes {', '.join(step.inputs)}" if step.inputs else ""
                print(f"  step {step.name:<11} {step.cells_named}{takes}")
            self._print_stages(preview.to_json())
            self._print_diagnostics(plan.all_diagnostics)
            for change in preview.files:
                if change.diff:
                    sys.stdout.write(change.diff)
            changed = sum(1 for f in preview.files if f.status != "unchanged")
            print(f"dry run: {changed} file(s) would change; nothing written")
        self.exit_status = EXIT_OK if preview.ok else EXIT_FAILED

    def _promote(self, notebook: Path, output: Path, name: str | None, settings: Promoter) -> None:
        progress = (
            (lambda message: None) if self.json_output else (lambda message: print(f"… {message}", file=sys.stderr))
        )
        result = api.promote(
            notebook,
            output,
            name,
            strict=settings.strict,
            commit=self.commit,
            progress=progress,
            **settings.template_arguments(),
        )
        if self.json_output:
            self._print_json(result.to_json())
        else:
            self._print_diagnostics(result.diagnostics)
            for path in result.conflicts:
                print(f"conflict: {output / path}")
            print(
                ("✓ " if result.ok else "✗ ")
                + result.message
                + (f" (took {result.seconds:.1f} s)" if result.ok else "")
            )
            if result.ok:
                self._print_stages(result.to_json())
                print(f"next: cd {output} && pip install -e . && python -m {result.plan.package} run --smoke")
        self.exit_status = EXIT_OK if result.ok else EXIT_FAILED

    def _verify(self, notebook: Path, output: Path, name: str | None, strict: bool) -> None:
        progress = (
            (lambda message: None) if self.json_output else (lambda message: print(f"… {message}", file=sys.stderr))
        )
        verification = api.verify(
            notebook,
            output,
            name,
            overrides=self.overrides,
            seeds=self.seeds,
            rtol=self.rtol,
            strict=strict,
            commit=self.commit,
            progress=progress,
        )
        if self.json_output:
            self._print_json(verification.to_json())
        else:
            promotion, report = verification.promotion, verification.report
            self._print_diagnostics([d for d in promotion.diagnostics if d.severity is not Severity.INFO])
            if report is not None:
                print(report.table())
                timing = f"notebook {report.notebook_seconds:.1f} s, package {report.package_seconds:.1f} s"
                print(("✓ " if report.ok else "✗ ") + report.message + f" [{timing}]")
                if report.note:
                    print(f"note: {report.note}")
            else:
                print("✗ " + verification.message)
        self.exit_status = EXIT_OK if verification.ok else EXIT_FAILED

    # --- output ----------------------------------------------------------------------

    def _print_stages(self, reply: dict) -> None:
        """The generated project's stages (`python -m PKG STAGE`) with the config keys each reads."""
        if reply["stages"]:
            print("stages (python -m " + reply["package"] + " STAGE; `run` runs them all):")
        for stage in reply["stages"]:
            print(f"  {stage['name']:<16} reads {', '.join(stage['params']) or 'no config key'}")
        for name, space in reply["search_space"].items():
            print(f"  tune {name}: {space}")

    def _print_diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            stream = sys.stderr if diagnostic.severity is not Severity.INFO else sys.stdout
            print(diagnostic.format(), file=stream)
        counts = {s: sum(1 for d in diagnostics if d.severity is s) for s in Severity}
        if diagnostics:
            print(", ".join(f"{n} {_MARK[s]}{'s' if n != 1 else ''}" for s, n in counts.items() if n))

    def _print_json(self, data: dict) -> None:
        print(json.dumps(data, indent=2, default=str))

    def _error(self, error: PromoteError) -> None:
        if self.json_output:
            self._print_json(error.to_json())
        else:
            print(f"jupyter promote: {error.message}", file=sys.stderr)
            for line in error.details:
                if line not in error.message:  # a refusal's message already lists its files
                    print(f"  {line}", file=sys.stderr)
        self.exit_status = EXIT_FAILED

    def _usage(self, message: str) -> None:
        print(f"jupyter promote: {message}\n(see `jupyter promote --help`)", file=sys.stderr)
        self.exit_status = EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    app = PromoteApp()
    try:
        app.initialize(argv)
    except SystemExit as exc:  # --help / --version exit 0; traitlets' own usage errors exit non-zero
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    except Exception as exc:  # malformed options: a usage error, never a traceback
        print(f"jupyter promote: {exc}\n(see `jupyter promote --help`)", file=sys.stderr)
        return EXIT_USAGE
    app.start()
    return app.exit_status


if __name__ == "__main__":
    sys.exit(main())

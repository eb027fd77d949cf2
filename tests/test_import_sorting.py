"""Imports sorted by one ruff process for all of a promotion's modules (codegen/import_sorting.py, issue 12): each module
comes back as the generated project's own ``ruff check --select I --fix`` leaves it, whatever else is in the batch."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ruff.__main__ import find_ruff_bin

from jupyterlab_promote import api
from jupyterlab_promote.codegen import render
from jupyterlab_promote.codegen.import_sorting import sort_imports
from tests.helpers import FIXTURES

UNSORTED = (
    "import torch\nimport os\nfrom demo.config import Config\nimport numpy as np\n\n\ndef f():\n    import sys, json\n"
)
SORTED = (
    "import os\n\nimport numpy as np\nimport torch\n\nfrom demo.config import Config\n\n\n"
    "def f():\n    import json\n    import sys\n"
)


def test_each_module_is_sorted_as_if_it_were_alone() -> None:
    broken = "import os\nimport abc\nx = (\n"  # ruff cannot parse it: it comes back as it is
    alone = [sort_imports([source], "demo")[0] for source in (UNSORTED, broken, "import b\nimport a\n")]
    assert alone == [SORTED, broken, "import a\nimport b\n"]
    assert sort_imports([UNSORTED, broken, "import b\nimport a\n"], "demo") == alone
    assert sort_imports([], "demo") == []


def test_the_package_is_first_party_whatever_its_name() -> None:
    source = "import données_π\nimport zlib\nimport numpy\n"
    assert sort_imports([source], "données_π") == ["import zlib\n\nimport numpy\n\nimport données_π\n"]
    assert sort_imports([source], "") == ["import zlib\n\nimport données_π\nimport numpy\n"]


def test_line_ends_and_odd_text_come_back_as_written() -> None:
    crlf = "import b\r\nimport a\r\n\r\nx = 1\r\n"
    assert sort_imports([crlf], "demo") == ["import a\r\nimport b\r\n\r\nx = 1\r\n"]
    surrogate = 'import b\nimport a\ntext = "\ud800"\n'  # not UTF-8: ruff cannot read it, nothing is lost
    assert sort_imports([surrogate], "demo") == [surrogate]


def test_every_module_a_promotion_writes_passes_the_projects_own_import_check(tmp_path: Path, monkeypatch) -> None:
    """The project's ruff, with its own pyproject, finds nothing to sort in what the generator sorted."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    for notebook in sorted(FIXTURES.glob("*.ipynb"))[:3]:
        render.forget_formatted()
        result = api.promote(notebook, tmp_path / notebook.stem, commit=False)
        assert result.ok, result.diagnostics
        check = [find_ruff_bin(), "check", "--no-cache", "--select", "I", "."]
        process = subprocess.run(check, cwd=tmp_path / notebook.stem, capture_output=True, text=True)
        assert process.returncode == 0, process.stdout + process.stderr


def test_a_promotion_sorts_with_two_ruff_processes_at_most(tmp_path: Path, monkeypatch) -> None:
    """One for every module's imports, one for the notebook's lint in the modules holding its statements: ruff
    starts in milliseconds, isort imported and run module by module cost a tenth of a first promotion."""
    from jupyterlab_promote.codegen import import_sorting, lint, ruff_limits

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    render.forget_formatted()
    runs: list[tuple[str, int]] = []

    def counted(arguments: list[str], sources: list[str]):
        runs.append((arguments[arguments.index("--select") + 1], len(sources)))
        return ruff_limits.run_ruff(arguments, sources)

    for module in (import_sorting, lint):
        monkeypatch.setattr(module, "run_ruff", counted)
    notebook = sorted(FIXTURES.glob("*.ipynb"))[0]
    assert api.promote(notebook, tmp_path / "out", commit=False).ok
    assert [rules for rules, _ in runs] == ["I", "E4,E7,E9,F"] and runs[0][1] > 10


def test_a_ruff_that_fails_on_its_own_stops_the_promotion_with_its_message(tmp_path: Path, monkeypatch) -> None:
    """An old ruff that does not know an option exits 2: the imports would stay unsorted and the project would fail
    its own lint, so the promotion stops, saying what ruff said, and writes nothing."""
    import pytest
    import ruff.__main__

    from jupyterlab_promote.codegen.ruff_limits import RuffFailedError

    fake = tmp_path / "ruff"
    fake.write_text("#!/bin/sh\necho \"error: unexpected argument '--config' found\" >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr(ruff.__main__, "find_ruff_bin", lambda: str(fake))
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    render.forget_formatted()
    with pytest.raises(RuffFailedError, match="unexpected argument '--config'.*nothing was written"):
        api.promote(sorted(FIXTURES.glob("*.ipynb"))[0], tmp_path / "out", commit=False)
    assert not (tmp_path / "out").exists()

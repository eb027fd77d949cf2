"""The output pattern: one expansion (settings.expand_output_pattern) for the CLI, the server and the panel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyterlab_promote.errors import UsageError
from jupyterlab_promote.settings import expand_output_pattern

from .helpers import TINY_TORCH, write_notebook
from .test_cli import promote


def test_package_placeholder_is_the_package_promotion_uses():
    notebook = Path("work/My Model (v2).ipynb")
    assert expand_output_pattern("{notebook_dir}/{package}", notebook) == Path("work/my_model_v2")
    assert expand_output_pattern("out/{package}", notebook, "Given Name") == Path("out/given_name")
    assert expand_output_pattern("{notebook_stem}_project", notebook) == Path("My Model (v2)_project")


@pytest.mark.parametrize("pattern", ["{notebook_dir}/{pkg}", "{notebook_dir}/{", "{0}"])
def test_a_bad_pattern_is_a_usage_error_naming_the_placeholders(pattern):
    with pytest.raises(UsageError, match=r"\{package\}"):
        expand_output_pattern(pattern, Path("nb.ipynb"))


def test_cli_expands_package_in_the_pattern(tmp_path):
    notebook = write_notebook(tmp_path / "My Model (v2).ipynb", TINY_TORCH)
    done = promote(str(notebook), "--Promoter.output_pattern=built/{package}", "--dry-run", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["package"] == "my_model_v2" and Path(reply["output"]) == Path("built/my_model_v2")


def test_cli_reports_an_unknown_placeholder_without_a_traceback(tmp_path):
    notebook = write_notebook(tmp_path / "nb.ipynb", TINY_TORCH)
    done = promote(str(notebook), "--Promoter.output_pattern={notebook_dir}/{pkg}", "--dry-run", cwd=tmp_path)
    assert done.returncode == 1
    assert "unknown placeholder" in done.stderr + done.stdout and "Traceback" not in done.stderr

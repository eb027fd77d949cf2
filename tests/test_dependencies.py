"""Which distributions a generated project requires, read from its import lines."""

from __future__ import annotations

from pathlib import Path

from jupyterlab_promote.codegen import dependencies

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"


def test_the_generated_package_and_the_standard_library_are_no_requirements(monkeypatch):
    # Finding who ships an unknown import name reads every installed distribution's metadata (seconds in a big
    # environment): the project's own package must never get there.
    def scan_everything():
        raise AssertionError("scanned every installed distribution")

    monkeypatch.setattr(dependencies, "_installed_providers", scan_everything)
    lines = ["from demo.data import make_loaders", "import os", "import torch", "from sklearn import metrics"]
    assert dependencies.distributions(lines, local=frozenset({"demo"})) == ["torch", "scikit-learn"]


def test_an_import_name_that_is_no_distribution_name_is_found_by_what_ships_it():
    assert dependencies.distribution_of("markdown_it") == "markdown-it-py"  # installed here (jupyterlab needs it)
    assert dependencies.distribution_of("sklearn") == "scikit-learn"  # the table, no lookup


def test_the_project_checks_with_the_black_and_ruff_that_formatted_it():
    """black>=24 let a project made with black 26 be checked by black 27, whose new stable style fails its CI in
    January: the checkers are held to the generator's versions, up to the next release that may change a verdict."""
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement

    from jupyterlab_promote import api
    from jupyterlab_promote.codegen import project

    pyproject = tomllib.loads(project.generate(api.analyze(DEMO), "demo.ipynb").files["pyproject.toml"])
    checkers = {
        Requirement(text).name: Requirement(text) for text in pyproject["project"]["optional-dependencies"]["test"]
    }
    black, ruff = metadata.version("black"), metadata.version("ruff")
    assert checkers["black"].specifier.contains(black)
    assert not checkers["black"].specifier.contains(f"{int(black.split('.')[0]) + 1}.1.0")
    assert checkers["ruff"].specifier.contains(ruff)
    major, minor = ruff.split(".")[:2]
    assert not checkers["ruff"].specifier.contains(f"{major}.{int(minor) + 1}.0")


def test_mlflow_has_the_floor_of_its_api_whether_or_not_it_is_installed(monkeypatch):
    """The same project wherever it is promoted: where only mlflow-skinny is installed (as here and in CI), the full
    distribution the project asks for still gets MLflow 3's floor (its registry API), and no newer one, which pip
    could not go back from where a release is incomplete on an index."""
    versions = {"mlflow-skinny": "3.18.0"}

    monkeypatch.setattr(dependencies, "distribution_version", lambda name: versions.get(name, ""))
    assert dependencies.requirement("mlflow") == "mlflow>=3"
    versions["mlflow"] = "3.18.0"
    assert dependencies.requirement("mlflow") == "mlflow>=3.18.0"
    assert dependencies.requirement("not-installed") == "not-installed"

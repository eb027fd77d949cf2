"""Which distributions a generated project requires, read from its import lines."""

from __future__ import annotations

from jupyterlab_promote.codegen import dependencies


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

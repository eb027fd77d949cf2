"""The README's commands: what .ci/readme_commands.py runs on a fresh clone, and the order a newcomer needs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_starts_with_setup_then_tests_and_installs_the_project_before_running_it():
    commands = readme_commands()
    assert commands[:2] == [
        "bash scripts/setup.sh && jupyter promote examples/demo.ipynb --output ../demo_project",
        "bash scripts/test.sh",
    ]
    demo = next(c for c in commands if "python -m demo run" in c)
    assert demo.index("pip install -e .") < demo.index("python -m demo run")
    # Every promotion in the README names its output: the default would land inside this repository.
    assert all("--output" in c for c in commands if c.startswith("jupyter promote") or " jupyter promote" in c)


def test_readme_points_at_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in ("docs/promote-panel.png", "docs/reference.md", "docs/architecture.md"):
        assert f"({path})" in readme and (ROOT / path).is_file(), path
    assert "mybinder.org/v2/gh/" in readme and "urlpath=lab/tree/demo.ipynb" in readme

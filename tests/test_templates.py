"""Promotion into an organisation's project template (cookiecutter), issue 14.

Real templates rendered by the real cookiecutter library: a small organisation template written here
(pre-gen hook, its own CI, promote.yaml), cookiecutter-data-science v2 from ../shared, re-promotion
through git, and the server's allow-list.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.app import main
from jupyterlab_promote.codegen import generate, templating
from jupyterlab_promote.handlers import NAMESPACE

from .helpers import CORPUS, CORPUS_MISSING, lint_problems

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"
CCDS = Path(__file__).resolve().parents[2] / "shared" / "templates" / "cookiecutter-data-science"
CCDS_MISSING = f"cookiecutter-data-science template absent ({CCDS}); the organisation template covers templating"


def run(project: Path, *args: str, pythonpath: str, timeout: int = 300) -> subprocess.CompletedProcess:
    home = project.parent / "home"  # caches the run writes stay out of the project's git status
    env = {"PYTHONPATH": pythonpath, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HOME": str(home)}
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


ORG_CI = """\
# {{ cookiecutter.org }} CI for {{ cookiecutter.project_name }} (Python {{ cookiecutter.python_version }})
test:
  image: python:{{ cookiecutter.python_version }}
  script:
    - python -m pytest -q
"""


def write_org_template(root: Path) -> Path:
    """Acme's template: its own CI, README, owners file and logging module, a pre-gen hook and promote.yaml."""
    project = root / "{{cookiecutter.project_name}}"
    package = project / "src" / "{{cookiecutter.package_name}}"
    package.mkdir(parents=True)
    (root / "hooks").mkdir()
    (root / "cookiecutter.json").write_text(
        json.dumps(
            {
                "project_name": "project",
                "package_name": "{{ cookiecutter.project_name.replace('-', '_') }}",
                "description": "An Acme project.",
                "python_version": "3.12",
                "org": "acme",
                "notebook_path": "",
            }
        )
    )
    (root / "hooks" / "pre_gen_project.py").write_text(
        'import sys\n\nif not "{{ cookiecutter.org }}".isidentifier():\n'
        '    print("org must be an identifier", file=sys.stderr)\n    sys.exit(1)\n'
    )
    (root / "promote.yaml").write_text(
        'source: "src/{{ cookiecutter.package_name }}"\ntests: tests\nci_command: "python -m pytest -q"\n'
    )
    (project / ".gitlab-ci.yml").write_text(ORG_CI)
    (project / "README.md").write_text(
        "# {{ cookiecutter.project_name }}\n\n{{ cookiecutter.description }} Owned by {{ cookiecutter.org }}.\n\n"
        "Notebook: {{ cookiecutter.notebook_path }}\n"
    )
    (project / "OWNERS").write_text("@{{ cookiecutter.org }}/ml\n")
    (package / "acme_logging.py").write_text('"""Shared {{ cookiecutter.org }} logging setup."""\n\nLEVEL = "INFO"\n')
    return root


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """The demo promoted (and committed) into Acme's template, through the CLI."""
    base = tmp_path_factory.mktemp("org")
    template = write_org_template(base / "acme-template")
    notebook = base / "demo.ipynb"
    shutil.copy(DEMO, notebook)
    with pytest.MonkeyPatch.context() as patch:
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "Test Person")
            patch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
        output = base / "demo_project"
        args = [str(notebook), "--output", str(output), "--template", str(template)]
        assert main([*args, "--template-option", "org=acme", "--template-option", "python_version=3.11"]) == 0
        yield {"base": base, "template": template, "notebook": notebook, "output": output, "patch": patch}


def test_default_output_is_the_built_in_layout_unchanged(tmp_path):
    """No template: the files written are exactly what the built-in generator makes, nothing of templating."""
    notebook = tmp_path / "demo.ipynb"
    shutil.copy(DEMO, notebook)
    output = tmp_path / "demo_project"
    assert main([str(notebook), "--output", str(output), "--no-commit"]) == 0
    expected = generate(api.analyze(notebook), "../demo.ipynb").files
    assert tree(output) == {path: text.encode("utf-8") for path, text in expected.items()}
    assert "[template]" not in (output / "promote.toml").read_text()


def test_organisation_template_receives_the_demo(org):
    output = org["output"]
    files = tree(output)
    # the template's own files, rendered with what promotion supplied and the --template-option values
    assert files[".gitlab-ci.yml"].decode().startswith("# acme CI for demo (Python 3.11)\n")
    assert files["OWNERS"] == b"@acme/ml\n"
    assert "Notebook: ../demo.ipynb" in files["README.md"].decode()
    assert "src/demo/acme_logging.py" in files
    # our code where promote.yaml says; our CI is not added beside the organisation's, our README moves aside
    assert {"src/demo/pipeline.py", "src/demo/__main__.py", "tests/test_pipeline.py", "PIPELINE.md"} <= set(files)
    assert ".github/workflows/ci.yml" not in files
    assert '[template]\nlocation = "' in files["promote.toml"].decode()
    assert lint_problems(output) == []
    tests = run(output, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pipeline.py", pythonpath="src")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]


def test_a_failing_pre_gen_hook_stops_promotion_before_anything_is_written(org, capsys):
    output = org["base"] / "refused"
    args = [str(org["notebook"]), "--output", str(output), "--template", str(org["template"]), "--no-commit"]
    assert main([*args, "--template-option", "org=not an identifier"]) == 1
    assert "failed to render" in capsys.readouterr().err
    assert not output.exists()


def test_repromotion_merges_hand_edits_and_a_template_update(org):
    output, template = org["output"], org["template"]
    args = [str(org["notebook"]), "--output", str(output), "--template", str(template)]
    options = ["--template-option", "org=acme", "--template-option", "python_version=3.11"]
    # nothing changed: the same tree, so nothing to commit (templated promotion is deterministic); promoted
    # twice in a row here, since the fixture's promotion (the generator may have changed meanwhile)
    assert main([*args, *options]) == 0
    before = git(output, "rev-parse", "HEAD")
    assert main([*args, *options]) == 0
    assert git(output, "rev-parse", "HEAD") == before
    # the user edits a template file and a generated module, and commits
    readme = output / "README.md"
    readme.write_text(readme.read_text() + "\nHand-written notes survive.\n")
    pipeline = output / "src" / "demo" / "pipeline.py"
    pipeline.write_text(pipeline.read_text() + "\n\n# hand edit: keep me\n")
    git(output, "commit", "-qam", "hand edits")
    # the organisation ships a new template version: a lint job in its CI
    ci = template / "{{cookiecutter.project_name}}" / ".gitlab-ci.yml"
    ci.write_text(ci.read_text() + "lint:\n  script:\n    - ruff check .\n")
    assert main([*args, *options]) == 0
    assert not git(output, "diff", "--name-only", "--diff-filter=U")
    assert "lint:\n  script:\n    - ruff check .\n" in (output / ".gitlab-ci.yml").read_text()
    assert "Hand-written notes survive." in readme.read_text()
    assert pipeline.read_text().endswith("# hand edit: keep me\n")
    assert git(output, "status", "--porcelain") == ""
    # the pristine branch holds template + code, the template update included
    pristine = git(output, "show", f"{api.branch_for(org['notebook'])}:.gitlab-ci.yml")
    assert "ruff check ." in pristine


@pytest.mark.skipif(not (CCDS / "ccds.json").is_file(), reason=CCDS_MISSING)
def test_demo_in_cookiecutter_data_science_runs_its_pipeline_and_tests(tmp_path):
    pytest.importorskip("ccds", reason="cookiecutter-data-science (the `ccds` package) is not installed")
    notebook = tmp_path / "demo.ipynb"
    shutil.copy(DEMO, notebook)
    output = tmp_path / "demo_project"
    result = api.promote(notebook, output, commit=False, template=str(CCDS))
    assert result.ok, result.message
    assert "cookiecutter-data-science" in result.message
    files = tree(output)
    # CCDS's layout: the package at the root named module_name, our modules where CCDS expects them
    for path in ("Makefile", "requirements.txt", "setup.cfg", "models/.gitkeep", "reports/figures/.gitkeep"):
        assert path in files, path
    for path in ("config.py", "dataset.py", "modeling/__init__.py", "modeling/train.py", "modeling/predict.py"):
        assert f"demo/{path}" in files, path
    assert "demo/modeling/model.py" in files and "demo/predict.py" not in files
    assert not any(path.startswith("src/") for path in files)
    assert b"from ..dataset import" in files["demo/modeling/train.py"]
    assert b"src/" not in files["dvc.yaml"]
    if "Dockerfile" in files:
        assert b"COPY src" not in files["Dockerfile"] and b"COPY demo ./demo" in files["Dockerfile"]
    assert lint_problems(output) == []
    _runs_pipeline_and_tests(output, "demo")
    # the CLI finds predict where CCDS keeps it
    predicted = run(
        output,
        "-m",
        "demo",
        "predict",
        "--input",
        "artifacts/reference/reference.npy",
        "--output",
        "p.csv",
        pythonpath=".",
    )
    assert predicted.returncode == 0 and (output / "p.csv").read_text().count("\n") > 100, predicted.stderr[-2000:]


def _runs_pipeline_and_tests(output: Path, package: str) -> None:
    """The smoke pipeline, as the project's CI runs it, then its tests (less the smoke run just done)."""
    pipeline = run(output, "-m", package, "run", "--smoke", pythonpath=".")
    assert pipeline.returncode == 0, pipeline.stdout[-3000:] + pipeline.stderr[-3000:]
    assert json.loads((output / "artifacts" / "metrics.json").read_text())
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pipeline.py", "-k", "not smoke_run"]
    tests = run(output, *args, pythonpath=".")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]


# A torch notebook (a Lightning-mapped loop) and a scikit-learn one (no torch).
CCDS_CORPUS = ["dev04_pytorch_quickstart.ipynb", "dev05_sklearn_nested_cv.ipynb"]


@pytest.mark.slow  # ~50 s each: a torch install's first imports, two pytest runs
@pytest.mark.skipif(not (CCDS / "ccds.json").is_file(), reason=CCDS_MISSING)
@pytest.mark.skipif(not (CORPUS / "expected.json").is_file(), reason=CORPUS_MISSING)
@pytest.mark.parametrize("name", CCDS_CORPUS)
def test_corpus_notebook_in_cookiecutter_data_science_runs_its_pipeline_and_tests(name, tmp_path):
    pytest.importorskip("ccds", reason="cookiecutter-data-science (the `ccds` package) is not installed")
    output = tmp_path / "project"
    # promoted where it lies: the corpus notebooks read their data beside them
    result = api.promote(CORPUS / name, output, commit=False, template=str(CCDS))
    assert result.ok, result.message
    package = result.plan.package
    files = tree(output)
    for path in ("Makefile", "setup.cfg", f"{package}/config.py", f"{package}/modeling/train.py"):
        assert path in files, path
    assert not any(path.startswith("src/") for path in files)
    assert lint_problems(output) == []
    _runs_pipeline_and_tests(output, package)


def test_template_locations_are_local_directories_or_git_urls(tmp_path):
    with pytest.raises(templating.TemplateError):
        templating.check_location(str(tmp_path / "nowhere"))
    with pytest.raises(templating.TemplateError):
        templating.check_location("https://example.com/template.zip")
    assert templating.check_location("https://example.com/acme/template.git")
    assert templating.check_location("git@example.com:acme/template.git")
    assert templating.parse_options(["a=1", 'b={"s3": {"bucket": "x"}}']) == {"a": "1", "b": {"s3": {"bucket": "x"}}}


# --- the server: templates only from its allow-list -----------------------------------------


@pytest.fixture
def jp_server_config(tmp_path):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_promote": True}},
        "Promoter": {"template_allow_list": [str(tmp_path / "allowed-template")]},
    }


async def post(jp_fetch, route: str, body: dict):
    response = await jp_fetch(NAMESPACE, route, method="POST", body=json.dumps(body), raise_error=False)
    return response.code, json.loads(response.body)


async def test_rest_refuses_a_template_outside_the_allow_list(jp_fetch, jp_root_dir, isolated_git):
    shutil.copy(DEMO, jp_root_dir / "demo.ipynb")
    for route in ("promote", "preview"):
        status, reply = await post(jp_fetch, route, {"path": "demo.ipynb", "template": "/tmp/evil-template"})
        assert status == 403, reply
        assert reply["error"] == "Forbidden" and "allow-list" in reply["message"]
    status, reply = await post(
        jp_fetch, "promote", {"path": "demo.ipynb", "template_options": {"org": '"; import os; os.system("x") #'}}
    )
    assert status == 403, reply
    assert not (jp_root_dir / "demo_project").exists()


@pytest.mark.skipif(not (CCDS / "ccds.json").is_file(), reason=CCDS_MISSING)
def test_a_module_of_the_notebook_s_own_follows_the_template_s_layout(tmp_path):
    """The demo with its model class in ``nets.py`` beside it: the copy lands in ``demo/notebook_modules/``, and the
    modules CCDS moves (``modeling/train.py``) import it from there."""
    pytest.importorskip("ccds", reason="cookiecutter-data-science (the `ccds` package) is not installed")
    document = json.loads(DEMO.read_text())
    for cell in document["cells"]:
        if "promote:model" in cell["metadata"].get("tags", []):
            source = "".join(cell["source"])
            model_class = source[source.index("class MoonNet") : source.index("model = ")]
            (tmp_path / "nets.py").write_text("from torch import nn\n\n\n" + model_class.rstrip() + "\n")
            cell["source"] = 'device = "cuda" if torch.cuda.is_available() else "cpu"\nfrom nets import MoonNet\n'
            cell["source"] += "model = MoonNet(hidden).to(device)"
    notebook = tmp_path / "demo.ipynb"
    notebook.write_text(json.dumps(document))
    output = tmp_path / "demo_project"
    result = api.promote(notebook, output, commit=False, template=str(CCDS))
    assert result.ok, result.message
    files = tree(output)
    assert "demo/notebook_modules/nets.py" in files
    assert (
        b"from ..notebook_modules.nets import MoonNet"
        in files["demo/modeling/model.py"] + files["demo/modeling/train.py"]
    )
    assert lint_problems(output) == []
    _runs_pipeline_and_tests(output, "demo")

"""Promotion stays fast without changing what it writes (issue 12; figures in benchmarks/README.md).

No timings here: each test proves that a shortcut gives the same result as the long way, or that an
input once too big for promotion now goes through.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyterlab_promote.read import magics
from jupyterlab_promote.read.magics import to_python

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _through_ipython(body: str) -> str:
    return magics._transform(magics._transformer_manager(), body)


TRICKY = [
    "x = 1",
    "\n\nx = 1\n",
    "  # indented comment\nx = 1\n",
    "x = (1,\n... )\n",
    ">>> x = 1\n",
    "d = {\n    ...: 1}\n",
    "In [1]: x = 1\n",
    "def f():\n    '''\n>>> f()\n'''\n",
    "s = 'a?'\nt = '%s' % s  # 50%?\n",
    "x = 1 \\\n    % 2\n",
    "...\n",
    "",
    "%time x = 1\n",
    "!ls\n",
    "y = !ls\n",
    "x?\n",
    "for i in range(2):\n    %time f(i)\n",
]


def _corpus_sources() -> list[str]:
    sources = []
    for path in sorted(CORPUS.glob("*.ipynb")) + sorted(CORPUS.glob("wild/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                source = cell["source"]
                sources.append("".join(source) if isinstance(source, list) else source)
    return sources


@pytest.mark.parametrize("body", TRICKY + _corpus_sources())
def test_plain_python_skips_ipython_only_where_ipython_would_change_nothing(body: str) -> None:
    tree = magics._plain_python(body)
    if tree is not None:
        assert _through_ipython(body) == (body if body.endswith("\n") else body + "\n")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "x = 1",
                "",
                "  ",
                "    y = 2",
                "...",
                ">>> z",
                "... )",
                "%time a",
                "!ls",
                "if x:",
                "    pass",
                "f(",
                ")",
                "'''",
                "# c",
                "In [2]: q",
                "  ...: r",
                "a = (1,",
                "\t",
                "b?",
                "# %%",
            ]
        ),
        max_size=6,
    )
)
def test_the_shortcut_agrees_with_ipython_on_generated_cells(lines: list[str]) -> None:
    body = "\n".join(lines)
    if magics._plain_python(body) is not None:
        assert _through_ipython(body) == (body if body.endswith("\n") else body + "\n")


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "x = 1",
                "%time x = 1",
                "%matplotlib inline  ",
                "!pip install 'a b' # c",
                "!!ls -l",
                "! ls",
                "%  time",
                "%%time",
                "!= 2",
                "%time x?",
                "%load_ext \\",
                "if x:",
                "for i in y:",
                "else:",
                "else: \\",
                "    %time f(i)",
                '    !echo "q"',
                "    pass",
                "    y = (1,",
                "f(",
                ")",
                "'''",
                's = """',
                "",
                "  ",
                "# c",
                "x = 1 \\",
                "def g():",
                "    return 1",
                "%cd ..",
                "\t%time z",
            ]
        ),
        min_size=1,
        max_size=7,
    )
)
def test_escaped_lines_are_rewritten_as_ipython_rewrites_them(lines: list[str]) -> None:
    body = "\n".join(lines)
    escaped = magics._escaped_lines(body)
    if escaped is not None:
        assert escaped[0] == _through_ipython(body)
        assert ast.dump(escaped[1]) == ast.dump(ast.parse(escaped[0]))


def test_to_python_hands_its_parse_on_unless_it_rewrote_the_code() -> None:
    plain = to_python("x = 1\n")
    assert plain.tree is not None and plain.code == "x = 1\n"
    rewritten = to_python("%time x = 1\n")
    assert rewritten.tree is None and rewritten.code == "x = 1\n"


def test_reading_and_analysing_import_neither_nbformat_nor_the_ipython_package(tmp_path: Path) -> None:
    """nbformat (jsonschema) and IPython cost seconds to import: promotion needs neither."""
    import subprocess
    import sys

    from tests.helpers import write_notebook

    notebook = write_notebook(tmp_path / "nb.ipynb", [("%time xs = [1, 2]\n!echo hi", ["promote:data"]), "y = 2"])
    probe = (
        "import sys; from jupyterlab_promote import api; api.analyze(sys.argv[1]); "
        "print(sorted(m for m in ('nbformat', 'jsonschema', 'IPython') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", probe, str(notebook)], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_an_unchanged_notebook_is_up_to_date_without_regenerating(tmp_path: Path, monkeypatch) -> None:
    """The early stop answers exactly what the full run answers, and only when nothing that matters changed."""
    import nbformat

    from jupyterlab_promote import api
    from jupyterlab_promote.errors import RefusedError
    from tests.helpers import write_notebook

    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "T")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "t@example.com")
    cells = [
        ("lr = 0.1", ["parameters"]),
        ("xs = [1.0, 2.0]", ["promote:data"]),
        ("w = sum(xs) * lr", ["promote:train"]),
    ]
    notebook, output = write_notebook(tmp_path / "nb.ipynb", cells), tmp_path / "out"
    first = api.promote(notebook, output)
    assert first.ok and first.commit
    generated = []
    monkeypatch.setattr(api, "generate", lambda *a, **k: generated.append(1) or pytest.fail("generated again"))
    again = api.promote(notebook, output)
    assert (again.ok, again.commit, again.files, generated) == (True, first.commit, [], [])
    assert "up to date" in again.message
    (output / "promote.toml").write_text("edited\n")
    with pytest.raises(RefusedError):  # uncommitted work in the way is refused, as by the full run
        api.promote(notebook, output)
    monkeypatch.undo()
    (output / "promote.toml").unlink()
    import subprocess

    subprocess.run(["git", "-C", str(output), "checkout", "--", "promote.toml"], check=True)
    node = nbformat.read(str(notebook), as_version=4)
    node.cells[2].metadata["tags"] = ["promote:evaluate"]  # a tag only: the sources (content_hash) are unchanged
    nbformat.write(node, str(notebook))
    retagged = api.promote(notebook, output)
    assert retagged.ok and retagged.commit != first.commit
    renamed = api.promote(notebook, output, name="other_name")
    assert renamed.ok and renamed.commit != retagged.commit


def test_an_unchanged_notebook_is_answered_from_its_record_without_analysis(tmp_path: Path, monkeypatch) -> None:
    """The record of the last merged promotion answers what the analysis would show; git still decides: a promotion
    reset away, a broken record or no cache at all take the full run."""
    import subprocess

    from jupyterlab_promote import api
    from tests.helpers import write_notebook

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "T")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "t@example.com")
    cells = [("lr = 0.1", ["parameters"]), ("xs = [1.0, 2.0]\nimport os", ["promote:data"]), ("w = sum(xs) * lr", [])]
    repository = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    notebook, output = write_notebook(repository / "nb.ipynb", cells), repository / "out"
    subprocess.run(["git", "-C", str(repository), "add", "nb.ipynb"], check=True)
    subprocess.run(["git", "-C", str(repository), "commit", "-qm", "notebook"], check=True)
    first = api.promote(notebook, output)
    shown = ("ok", "package", "diagnostics", "stages", "search_space", "commit", "output")
    assert first.ok and first.diagnostics and first.to_json()["stages"]
    analysed: list[int] = []
    real_build_plan = api.build_plan
    monkeypatch.setattr(api, "build_plan", lambda *a, **k: analysed.append(1) or real_build_plan(*a, **k))
    again = api.promote(notebook, output)
    assert analysed == [] and "up to date" in again.message
    assert {k: again.to_json()[k] for k in shown} == {k: first.to_json()[k] for k in shown}
    assert api.promote(notebook, output, recorded=False).plan.cells and analysed == [1]  # verify's way
    subprocess.run(["git", "-C", str(repository), "reset", "-q", "--hard", "HEAD~1"], check=True)
    recovered = api.promote(notebook, output)  # the record is there, but the promotion is not merged
    assert recovered.ok and analysed == [1, 1] and (output / "promote.toml").is_file()
    for record in (tmp_path / "cache" / "outcomes").glob("*.json"):
        record.write_text("{not json")
    assert api.promote(notebook, output).ok and analysed == [1, 1, 1]
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    assert api.promote(notebook, output).ok and analysed == [1, 1, 1, 1]


def test_the_format_cache_gives_what_formatting_gives_and_formats_once(tmp_path: Path, monkeypatch) -> None:
    from jupyterlab_promote.codegen import format_cache, render

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path))
    source = "import os\nimport sys\ndef f( x ):\n  l = lambda: x\n  return os.sep,sys.path\n"
    calls = []

    def counted(text: str, first_party: str) -> str:
        calls.append(text)
        return render._format_generated(text, first_party)

    first = format_cache.cached_format(source, "pkg", counted)
    again = format_cache.cached_format(source, "pkg", counted)
    assert first == again == render._format_generated(source, "pkg") and len(calls) == 1
    assert format_cache.cached_format(source, "other", counted) == first and len(calls) == 2  # keyed by package too
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    assert format_cache.cached_format(source, "pkg", counted) == first and len(calls) == 3  # "": no cache

"""black one top-level definition at a time (codegen/piecewise_black.py) must give black's output for the whole
module, byte for byte; and the generated project's own black must agree with the Mode the generator formats with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyterlab_promote.codegen import piecewise_black, render
from jupyterlab_promote.codegen.piecewise_black import (
    formatted_input,
    join_pieces,
    pieces_of,
    reformat_pieces,
    split_at_definitions,
)

MODE = render.project_mode()
EXAMPLES = int(os.environ.get("JUPYTERLAB_PROMOTE_FUZZ_EXAMPLES", "300"))
DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.ipynb"
LONG = "argument_number_one, argument_number_two, argument_number_three, argument_four"

# Top-level statements chosen for black's blank-line rules: definitions with and without decorators, leading
# comments and docstrings, one-line ("dummy") bodies, imports, module docstrings, blocks holding definitions.
STATEMENTS = [
    '"""A docstring."""',
    "import os",
    "from collections import (OrderedDict,\n    defaultdict)",
    "x = 1",
    "values=[1,\n  2,]",
    f"result = compute({LONG})",
    "def f(): ...",
    "def f():\n    ...",
    "class A:\n    def m(self):\n        ...",
    "class A:\n    pass\n# cell 3 (id x)",
    "def f():\n    return 1",
    "def f(a,b):\n  x=a+b\n  return x",
    f"def long_name({LONG}):\n    pass",
    "async def f():\n    await g()",
    "def f():\n    x = 1\n    # the end of f",
    "def f():\n    def inner(): ...",
    "class A: ...",
    "class A:\n    '''Doc.'''",
    "class A:\n    def m(self): ...",
    "class A(B):\n    x = 1\n    def m(self):\n        pass",
    "@dec\ndef f(): pass",
    "@dec(1)\n@other\nclass C:\n    pass",
    "@overload\ndef f(x: int) -> int: ...",
    "@dec\n# between\ndef f():\n    pass",
    "# a comment",
    "#tight comment\n# second line",
    "    # an indented comment",
    "if x:\n    def f(): pass",
    "if x:\n    def f():\n        pass\nelse:\n    f = None",
    "try:\n    import y\nexcept ImportError:\n    y = None",
    "for i in range(3):\n    print(i)\nelse:\n    pass",
    "with open(p) as first_file_handle, open(q) as second_file_handle, open(r) as third_handle:\n    pass",
    "while False: pass",
    "x = '''a\ndef not_a_def():\n'''",
    "print( 'spaced' )",
    "parser.add_argument('--n', type=int,\n    default=1)",
    "text = open(path, encoding='utf-8').read()",
    "match = re.match(pattern, text)",
    "match command:\n    case 'go':\n        pass",
    "type Vector = list[float]",
]
SEPARATORS = ["\n", "\n\n", "\n\n\n", "\n\n\n\n\n", "\n  \n", "\n\t\n\n"]

modules = st.lists(st.tuples(st.sampled_from(STATEMENTS), st.sampled_from(SEPARATORS)), min_size=1, max_size=14).map(
    lambda parts: "".join(statement + separator for statement, separator in parts)
)


def _black(source: str) -> str:
    return black.format_str(source, mode=MODE)


def format_by_definition(source: str, mode, format_piece) -> str:
    """The pieces of ``source`` each formatted by ``format_piece``, joined as render.format_black joins them."""
    pieces = pieces_of(source, mode)
    return join_pieces(pieces, [format_piece(formatted_input(piece)) for piece in pieces])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(modules)
def test_pieces_formatted_apart_are_black_of_the_whole(source: str) -> None:
    assert format_by_definition(source, MODE, _black) == _black(source)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(modules, st.data())
def test_formatting_again_the_pieces_holding_changed_lines_is_black_of_the_whole(source: str, data) -> None:
    lines = _black(source).split("\n")
    # As the lint marks do: a comment appended to some lines, which may push them past the line length.
    chosen = data.draw(st.sets(st.integers(1, len(lines)), max_size=4))
    marked = "\n".join(
        line + "  # noqa: F841 a long explanation of why" if number in chosen and line.strip() else line
        for number, line in enumerate(lines, start=1)
    )
    ranges = [(number, number) for number in sorted(chosen)]
    assert reformat_pieces(marked, ranges, MODE, _black) == _black(marked)


# Statements of a long function's body, chosen for what black decides across a cut inside it: imports (a blank line
# after them), strings (a block's first reads as its docstring), `...` (a dummy body), comments, nested blocks.
BODY_STATEMENTS = [
    "x = 1",
    "total=total+1",
    f"result = compute({LONG})",
    "import os",
    "from a import (b,\n    c)",
    '"""A docstring-like string."""',
    'f"{x} as an f-string"',
    "...",
    "pass",
    "# a comment",
    "y = 2  # a trailing comment",
    "def inner():\n    return 1",
    "class Inner:\n    pass",
    "if x:\n    y = 1\nelse:\n    y = 2",
    "for i in range(3):\n    total += i",
    "return_value = (yield)",
    "global counter",
    "a = 1; b = 2",
    "value = first + \\\n    second",
    "print( 'spaced' )",
    "del (a)",
    "with open(p) as first_file_handle, open(q) as second_file_handle, open(r) as third_handle:\n    pass",
    "values = [\n    1,\n    2,\n]",
    "await something()",
    "return x",
]
BODY_SEPARATORS = ["\n", "\n", "\n", "\n\n", "\n\n\n"]

long_functions = st.tuples(
    st.sampled_from(["def step(cfg):\n", "async def step(cfg):\n", "@decorated\ndef step(\n    cfg):\n"]),
    st.lists(st.tuples(st.sampled_from(BODY_STATEMENTS), st.sampled_from(BODY_SEPARATORS)), min_size=2, max_size=30),
    st.sampled_from(["", "x = 1\n\n\n", "import os\n"]),
    st.sampled_from(["", "\n\ndef after():\n    pass\n", "\nvalue = step(1)\n"]),
).map(
    lambda parts: parts[2]
    + parts[0]
    + "".join(
        "\n".join("    " + line if line else line for line in statement.split("\n")) + separator
        for statement, separator in parts[1]
    )
    + parts[3]
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(long_functions, st.integers(1, 200))
def test_a_long_function_formatted_in_parts_is_black_of_the_whole(source: str, long_body: int) -> None:
    try:
        _black(source)
    except black.InvalidInput:  # `await` in a plain def, `return` outside one: no Python, nothing to compare
        return
    saved, piecewise_black.LONG_BODY = piecewise_black.LONG_BODY, long_body
    try:
        assert format_by_definition(source, MODE, _black) == _black(source)
        lines = _black(source).split("\n")
        chosen = {number for number in (2, 3, len(lines) - 2) if 0 < number <= len(lines) and lines[number - 1].strip()}
        marked = "\n".join(
            line + "  # noqa: F841 a long explanation of why" if number in chosen else line
            for number, line in enumerate(lines, start=1)
        )
        ranges = [(number, number) for number in sorted(chosen)]
        assert reformat_pieces(marked, ranges, MODE, _black) == _black(marked)
    finally:
        piecewise_black.LONG_BODY = saved


def test_a_long_function_is_formatted_in_parts_and_an_edit_formats_one_part_again(tmp_path, monkeypatch) -> None:
    """A step holding a 5 MB cell is one function: cut inside, an edit of one statement formats about LONG_BODY
    characters again, not the whole step."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    # ``**options``: no plain statement (plain_lines), so black formats every part
    body = "".join(f"    value_{i} = compute(value_{i - 1}, scale={i}, **options)\n" for i in range(1, 5000))
    source = f"def step(compute, options):\n    value_0 = 0\n{body}    return value_4999\n"
    pieces = pieces_of(source, MODE)
    assert len(pieces) == len(source) // piecewise_black.LONG_BODY + 1 > 2
    assert all(piece.opener == "def _():\n" for piece in pieces[1:])
    formatted: list[str] = []
    real = black.format_str
    monkeypatch.setattr(black, "format_str", lambda text, **kw: formatted.append(text) or real(text, **kw))
    assert render.format_black(source, MODE) == real(source, mode=MODE)
    assert len(formatted) == len(pieces)
    edited = source.replace("scale=4000,", "scale=4000 ,")
    assert render.format_black(edited, MODE) == real(edited, mode=MODE)
    assert len(formatted) == len(pieces) + 1 and "scale=4000 ," in formatted[-1]


def test_the_parts_of_plain_statements_of_a_long_function_are_not_formatted(tmp_path, monkeypatch) -> None:
    """A cell of ordinary statements already written as black writes them: black formats the function's last
    part, which holds its ``return``, and none of the others: the first holds a plain signature
    (plain_definitions), the others plain statements (plain_lines); the output is black's."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    body = "".join(f"    value_{i} = compute(value_{i - 1}, scale={i})  # step {i}\n" for i in range(1, 6000))
    source = f"def step(compute):\n    value_0 = 0\n{body}    return value_5999\n"
    pieces = pieces_of(source, MODE)
    assert len(pieces) > 2
    formatted: list[str] = []
    real = black.format_str
    monkeypatch.setattr(black, "format_str", lambda text, **kw: formatted.append(text) or real(text, **kw))
    assert render.format_black(source, MODE) == real(source, mode=MODE)
    assert formatted == [formatted_input(pieces[-1])]


def test_under_another_year_s_black_the_plain_parts_are_formatted(tmp_path, monkeypatch) -> None:
    """plain_lines holds to the black release the tests ran with: under another year's, black formats every part."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(render, "black_release", lambda: "27.1.0")
    body = "".join(f"    value_{i} = compute(value_{i - 1}, scale={i})\n" for i in range(1, 6000))
    source = f"def step(compute):\n    value_0 = 0\n{body}    return value_5999\n"
    formatted: list[str] = []
    real = black.format_str
    monkeypatch.setattr(black, "format_str", lambda text, **kw: formatted.append(text) or real(text, **kw))
    assert render.format_black(source, MODE) == real(source, mode=MODE)
    assert len(formatted) == len(pieces_of(source, MODE)) > 2


PLAIN_STATEMENTS = ["x = f(a, b=-1)  # why", "y = x.y[0] if x not in z else None", "total += 1.5e-3", "print(*args)"]


@settings(max_examples=max(EXAMPLES // 3, 30), deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    st.lists(
        st.tuples(st.sampled_from(BODY_STATEMENTS + PLAIN_STATEMENTS * 4), st.sampled_from(BODY_SEPARATORS)),
        min_size=2,
        max_size=30,
    ),
    st.integers(1, 200),
)
def test_a_long_function_with_plain_parts_is_black_of_the_whole(tmp_path_factory, statements, long_body: int) -> None:
    """render.format_black, where parts made of plain statements skip black, against black on the whole."""
    body = "".join(
        "\n".join("    " + line if line else line for line in statement.split("\n")) + separator
        for statement, separator in statements
    )
    source = "def step(cfg):\n" + body
    try:
        whole = _black(source)
    except black.InvalidInput:
        return
    saved, piecewise_black.LONG_BODY = piecewise_black.LONG_BODY, long_body
    cache = os.environ.get("JUPYTERLAB_PROMOTE_CACHE_DIR")
    os.environ["JUPYTERLAB_PROMOTE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    try:
        assert render.format_black(source, MODE) == whole
    finally:
        piecewise_black.LONG_BODY = saved
        if cache is None:
            os.environ.pop("JUPYTERLAB_PROMOTE_CACHE_DIR")
        else:
            os.environ["JUPYTERLAB_PROMOTE_CACHE_DIR"] = cache


def test_a_promoted_module_is_cut_before_each_definition_and_its_provenance_comment() -> None:
    source = (
        "import os\n\n\n# cell 3 (id a)\ndef first():\n    return os.sep\n\n\n# cell 4 (id b)\n@decorated\n"
        "class Second:\n    pass\n\n\nvalue = first()\n\n\ndef third():\n    pass\n"
    )
    starts = [piece.start for piece in split_at_definitions(source)]
    assert starts == [1, 4, 9, 18]
    assert format_by_definition(source, MODE, _black) == _black(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Doc."""\n\n@dec\ndef f():\n    pass\n',  # one blank line after the module docstring, not two
        "def f(): ...\ndef g():\n    pass\n",  # no blank line after a dummy body: black keeps none
        "x = 1\n# a comment\n\ndef f():\n    pass\n",  # a comment between, not leading the definition
        "x = 1\n\n# fmt: off\ndef f():\n  pass\n# fmt: on\n",
        "x = 1\n\nmatch x:\n    case 1:\n        pass\n\ndef f():\n    pass\n",
        "x = 1\n\ntype Alias = int\n\ndef f():\n    pass\n",
        "# -*- coding: utf-8 -*-\nx = 1\n\ndef f():\n    pass\n",
        "x = 1\r\n\r\ndef f():\r\n    pass\r\n",
    ],
)
def test_where_black_looks_across_statements_the_module_stays_whole(source: str) -> None:
    assert len(split_at_definitions(source)) == 1
    assert format_by_definition(source, MODE, _black) == _black(source)


def test_keyword_arguments_and_names_that_look_like_soft_keywords_do_not_keep_a_module_whole() -> None:
    source = "x = open(p, encoding='utf-8')\nmatch = 1\nparser.add_argument('--n', type=int)\n\n\ndef f():\n    pass\n"
    assert len(split_at_definitions(source)) == 2


def test_a_mode_that_infers_its_target_versions_is_never_cut() -> None:
    source = "x = 1\n\n\ndef f():\n    pass\n"
    calls: list[str] = []
    format_by_definition(source, black.Mode(), lambda piece: calls.append(piece) or piece)
    assert calls == [source]


def test_the_generated_project_s_black_formats_as_the_generator_did(tmp_path: Path) -> None:
    """A long `with` of two context managers: black writes it in parentheses only for Python ≥ 3.9 targets, which
    the project's black reads from requires-python. The project passes its own `black --check`, inside a git
    repository, outside one, and copied into another project that has a black configuration of its own."""
    notebook = json.loads(DEMO.read_text())
    cell = next(c for c in notebook["cells"] if "promote:data" in c["metadata"].get("tags", []))
    cell["source"] = "".join(cell["source"]) + (
        "\nwith open('first_input_file_name.txt') as first_handle, "
        "open('second_input_file_name.txt') as second_handle:\n    header = first_handle.read(1)\n"
    )
    source = tmp_path / "withs.ipynb"
    source.write_text(json.dumps(notebook))
    out = tmp_path / "project"
    promote = [sys.executable, "-m", "jupyterlab_promote.app", str(source), "-o", str(out), "--no-commit"]
    assert subprocess.run(promote, capture_output=True, text=True).returncode == 0
    assert "with (\n" in (out / "src" / "withs" / "pipeline.py").read_text()

    def black_check(folder: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "black", "--check", "-q", "."]
        return subprocess.run(command, cwd=folder, capture_output=True, text=True)

    assert black_check(out).returncode == 0, "outside a git repository"
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    assert black_check(out).returncode == 0, "inside a git repository"
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "pyproject.toml").write_text('[tool.black]\nline-length = 120\ntarget-version = ["py38"]\n')
    shutil.copytree(out, outer / "project", ignore=shutil.ignore_patterns(".git"))
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    assert black_check(outer / "project").returncode == 0, "inside another project"


def test_after_an_edit_black_formats_again_only_the_definition_that_changed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    formatted: list[str] = []
    real = black.format_str
    monkeypatch.setattr(black, "format_str", lambda source, **kw: formatted.append(source) or real(source, **kw))
    helpers = [f"# cell {i}\ndef helper_{i}(values):\n    return [v*{i} for v in values]\n" for i in range(5)]
    first = render.format_black("import os\n\n" + "".join(helpers), MODE)
    assert len(formatted) == 6  # the imports, then one piece per definition
    helpers[3] = helpers[3].replace("v*3", "v*33")
    edited = render.format_black("import os\n\n" + "".join(helpers), MODE)
    assert len(formatted) == 7 and "def helper_3" in formatted[-1] and "helper_2" not in formatted[-1]
    assert edited == first.replace("v * 3 ", "v * 33 ") == real("import os\n\n" + "".join(helpers), mode=MODE)


def test_a_template_s_preview_style_is_read_and_formatted_whole() -> None:
    """A template whose pyproject asks black for its preview style gets it, and no cutting (preview rules may look
    across statements)."""
    pyproject = '[project]\nrequires-python = ">=3.10"\n[tool.black]\npreview = true\nline-length = 100\n'
    mode = render.black_mode(pyproject)
    assert mode.preview and mode.line_length == 100 and mode.target_versions
    calls: list[str] = []
    source = "x = 1\n\n\ndef f():\n    pass\n"
    format_by_definition(source, mode, lambda piece: calls.append(piece) or piece)
    assert calls == [source]


def test_the_static_definitions_of_the_templates_are_written_as_black_writes_them() -> None:
    """And the Jinja-free statements of the other definitions: a first promotion does not pay black to rewrite
    them (scripts/format_templates.py writes them)."""
    from .golden.generate import RECORD, formatter_versions

    recorded = json.loads(RECORD.read_text())["<formatters>"]
    if formatter_versions() != recorded:
        pytest.skip(f"templates written with {recorded}, here {formatter_versions()}")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from format_templates import TEMPLATES, black_output_record, format_template, static_definitions

    from jupyterlab_promote.codegen.black_output import RECORD

    counted, texts = 0, []
    for path in sorted(TEMPLATES.glob("*.py.j2")):
        text = path.read_text(encoding="utf-8")
        counted += len(static_definitions(text.split("\n")))
        texts.append(text)
        assert format_template(text) == text, f"{path.name}: run python scripts/format_templates.py"
    assert counted > 50
    # The record black_output reads: each definition hashed there is black's output (the script ran black on it)
    assert RECORD.read_text(encoding="utf-8") == black_output_record(texts), "run python scripts/format_templates.py"


def test_the_templates_static_definitions_are_not_formatted_again(tmp_path: Path, monkeypatch) -> None:
    """A first promotion hands black none of the definitions the record holds, and the files are as black writes
    them; under another black release, black formats them all again."""
    import black

    from jupyterlab_promote import api
    from jupyterlab_promote.codegen import black_output, render
    from jupyterlab_promote.codegen.black_output import text_digest

    recorded = black_output._recorded()[2]
    if black_output._recorded()[0] != black.__version__:
        pytest.skip(f"the record is for black {black_output._recorded()[0]}, here {black.__version__}")
    formatted = _black_calls(monkeypatch)
    files = _python_files(api.promote(DEMO, tmp_path / "first", commit=False).output)
    assert formatted and not {text_digest(text) for text in formatted} & recorded
    for path, text in files.items():
        assert black.format_str(text, mode=render.project_mode()) == text, path

    kept = len(formatted)
    formatted.clear()
    render.forget_formatted()
    other_release = ("0.0", *black_output._recorded()[1:])
    monkeypatch.setattr(black_output, "_recorded", lambda: other_release)
    assert _python_files(api.promote(DEMO, tmp_path / "second", commit=False).output) == files
    assert len(formatted) >= kept + 50


@pytest.mark.parametrize("package", ["q", "demo", "loan_default_risk_model", "p" * 70, "match"])
def test_pieces_alike_but_for_the_package_name_are_black_s_output_at_the_lengths_recorded(
    tmp_path: Path, monkeypatch, package: str
) -> None:
    """The record's pieces with the package's name taken out (black_output.canonical_text) are kept as they are only
    at the name lengths black leaves them at: the project is the same bytes as with black on every piece, for a
    short, a long, an over-long (past the record's 64) and a soft-keyword name; and fewer pieces reach black."""
    import black

    from jupyterlab_promote import api
    from jupyterlab_promote.codegen import black_output, render

    if black_output._recorded()[0] != black.__version__:
        pytest.skip(f"the record is for black {black_output._recorded()[0]}, here {black.__version__}")
    formatted = _black_calls(monkeypatch)
    files = _python_files(api.promote(DEMO, tmp_path / "named", name=package, commit=False).output)
    for path, text in files.items():
        assert black.format_str(text, mode=render.project_mode()) == text, path
    with_names = len(formatted)

    formatted.clear()
    render.forget_formatted()
    unnamed = (*black_output._recorded()[:3], {})
    monkeypatch.setattr(black_output, "_recorded", lambda: unnamed)
    assert _python_files(api.promote(DEMO, tmp_path / "unnamed", name=package, commit=False).output) == files
    if package.isidentifier() and len(package) <= 64 and package != "match":
        assert with_names + 5 <= len(formatted)
    else:
        assert with_names == len(formatted)


def _black_calls(monkeypatch) -> list[str]:
    """The texts black formats from now on, in this process (no workers, no format cache), as black formats them."""
    import black

    from jupyterlab_promote.codegen import black_workers, render

    formatted: list[str] = []

    def spy(source: str, key: str) -> str:
        formatted.append(source)
        return black.format_str(source, mode=black_workers.mode_of(key))

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    monkeypatch.setattr(render, "_black_in_mode", spy)
    monkeypatch.setattr(black_workers, "format_in_workers", lambda texts, key: None)
    render.forget_formatted()
    return formatted


def _python_files(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*.py"))}


def test_worker_processes_give_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    """Definitions not formatted before go to worker processes when there are many; the module is the same."""
    from jupyterlab_promote.codegen import black_workers

    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_FORMAT_WORKERS", "2")
    monkeypatch.setattr(black_workers, "PARALLEL_CHARACTERS", 0)
    helpers = [f"# cell {i}\ndef helper_{i}(values):\n    return [v*{i} for v in values]\n" for i in range(40)]
    source = "import os\n\n" + "".join(helpers)
    pieces = [piece.text for piece in split_at_definitions(source)]
    assert black_workers.format_in_workers(pieces, black_workers.mode_key(MODE)) == [_black(p) for p in pieces]
    assert render.format_black(source, MODE) == _black(source)
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_FORMAT_WORKERS", "1")
    assert (
        black_workers.format_in_workers(pieces, black_workers.mode_key(MODE)) is None
    )  # one worker: formatted in this process

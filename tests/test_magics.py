import pytest

from jupyterlab_promote.read.magics import to_python


def test_pip_magic_and_shell_pip_become_dependencies():
    result = to_python("%pip install -q torchmetrics==1.9\n!pip install rich>=13\nx = 1")
    assert result.requirements == ["torchmetrics==1.9", "rich>=13"]
    assert result.code.strip() == "x = 1"


def test_session_magics_are_dropped_and_lines_kept():
    result = to_python("import numpy as np\n%matplotlib inline\n%load_ext autoreload\ny = np.ones(2)")
    assert "matplotlib" not in result.code and "load_ext" not in result.code
    assert result.code.splitlines()[3] == "y = np.ones(2)"  # line numbers preserved
    assert {n.line for n in result.notes} == {2, 3}


def test_time_magic_keeps_its_statement():
    assert to_python("%time model = fit(data)").code.strip() == "model = fit(data)"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("%timeit -n1 -r1 sum([1])", "sum([1])"),
        ("%timeit -n 10 -r 2 -q x = -t", "x = -t"),
        ("%timeit -qo f(x)", "f(x)"),
        ("%prun -s cumulative -q fit(model)", "fit(model)"),
        ("%timeit -1", "-1"),
    ],
)
def test_a_wrapping_magic_s_options_are_not_kept_as_code(line: str, code: str):
    plain = to_python(line)
    assert plain.syntax_error is None and plain.code.strip() == code


@pytest.mark.parametrize(
    ("line", "code", "replaced"),
    [
        ("x = %time f(y) + 1", "x = f(y) + 1", False),
        ("x = %time 1, 2", "x = 1, 2", False),
        ("x = %time y = 3", "x = None", True),  # a statement timed: IPython's value is None too
        ("x = %timeit -o f()", "x = None", True),  # a TimeitResult: nothing outside IPython gives one
    ],
)
def test_time_magic_used_as_a_value_gives_the_value_of_what_it_times(line: str, code: str, replaced: bool):
    plain = to_python(line)
    assert plain.code.strip() == code
    assert any("replaced by None" in note.message for note in plain.notes) is replaced


def test_capture_cell_magic_keeps_body_with_line_offset():
    result = to_python("%%capture\nprint(1)\nz = 2\n")
    assert result.code == "print(1)\nz = 2\n"
    assert result.line_offset == 1


def test_shell_command_becomes_subprocess_with_warning():
    result = to_python("for name in names:\n    !echo hello")
    assert "subprocess.run(['echo', 'hello'], check=True)" in result.code
    assert result.modules == ["subprocess"]
    assert [n.code for n in result.notes] == ["PRM009"]
    assert result.notes[0].line == 2


def test_foreign_cell_magic_is_not_promoted():
    result = to_python("%%bash\nls -la\n")
    assert result.code == ""
    assert result.notes[0].code == "PRM020"


def test_syntax_error_reports_the_line():
    result = to_python("x = 1\ny = (\n")
    assert result.syntax_error is not None
    assert result.syntax_error.code == "PRM001"
    assert result.syntax_error.line == 2


def test_magic_never_crashes_on_odd_input():
    for source in ["%", "!!", "%%", "%unknownmagic arg", "a = %who_ls", "?x", "x?"]:
        to_python(source)  # must not raise


def test_a_magic_used_as_a_value_after_non_ascii_text_is_replaced_exactly():
    # ast counts columns in UTF-8 bytes: "é" shifted the replacement by one and left "gsubprocess.run(...)" behind
    result = to_python('label = "hé"; files = get_ipython().getoutput("ls")\nprint(files)')
    assert result.code.splitlines()[0] == (
        "label = \"hé\"; files = subprocess.run(['ls'], capture_output=True, text=True, check=True).stdout.splitlines()"
    )
    compile(result.code, "<cell>", "exec")


def test_the_magic_rewriter_walks_nodes_in_ast_walk_order():
    """One list of the nodes serves both passes of the rewriter: the same nodes, in ast.walk's order."""
    import ast
    import sysconfig
    from pathlib import Path

    from jupyterlab_promote.read.magics import _walk

    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:30]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert [id(node) for node in _walk(tree)] == [id(node) for node in ast.walk(tree)], path.name


@pytest.mark.parametrize(
    ("line", "code", "note"),
    [
        ("%env MY_FACTOR=3", "os.environ['MY_FACTOR'] = '3'\n", None),
        ("%env MY_FACTOR 3", "os.environ['MY_FACTOR'] = '3'\n", None),
        ("%set_env GREETING=hello world", "os.environ['GREETING'] = 'hello world'\n", None),
        ("%env", "\n", "%env only shows the environment; dropped"),
        ("%env HOME", "\n", "%env only shows the environment; dropped"),
        ("%env DATA=$root/data", "\n", "%env DATA=$root/data: set os.environ in Python instead; dropped"),
    ],
)
def test_env_magic_sets_the_variable_as_ipython_splits_it(line, code, note):
    """``%env VAR=value`` was dropped as having "no meaning outside IPython", and a later cell reading
    ``os.environ['VAR']`` died with KeyError in the package. It sets the variable, split as IPython splits it; a
    value IPython would expand (``$name``) is left to the author, said."""
    result = to_python(line)
    assert result.code == code
    assert result.modules == (["os"] if note is None else [])
    assert [n.message for n in result.notes] == ([] if note is None else [note])

"""A literal too large for the code is stored beside it (stages/literals.py): every kind of literal reads back
exactly as the notebook evaluated it, what cannot move stays, and the project runs, tests and lints as generated."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyterlab_promote import api
from jupyterlab_promote.stages.literals import LIMIT

from .helpers import lint_problems, metrics_of, run_in_project, write_notebook
from .test_fuzz import FUZZ_EXAMPLES
from .test_templates import CCDS, CCDS_MISSING

ROWS = 2_000  # each literal below is well over LIMIT characters
TABLE = "[" + ", ".join(f"{i % 97 / 7:.4f}" for i in range(ROWS)) + "]"
PAIRS = "(" + ", ".join(f"({i}, 'label {i}')" for i in range(ROWS)) + ")"
BY_ID = "{" + ", ".join(f"{i}: {i * 3}" for i in range(ROWS)) + "}"
COMMENTED = "[\n" + "".join(f"    {i},  # row {i}\n" for i in range(ROWS)) + "]"
NESTED = "{'rows': [" + ", ".join(f"[{i}, {i + 1}]" for i in range(ROWS)) + "], 'name': 'grid'}"
TEXT = '"""' + "a,b,c\\n" * ROWS + '"""'

CELLS = [
    ("import math", []),
    ("scale = 2.0", ["parameters"]),
    (
        f"table = {TABLE}\n"
        f"pairs = {PAIRS}\n"
        f"by_id = {BY_ID}\n"
        f"commented = {COMMENTED}\n"
        f"nested = {NESTED}\n"
        f"csv_text = {TEXT}\n"
        f"mixed = [scale, {TABLE}]\n"
        "small = [1, 2, 3]",
        ["promote:data"],
    ),
    (
        f"def lookup(i, codes={BY_ID}):\n    return codes[i]",
        ["promote:functions"],
    ),
    (
        "total = math.fsum(table) * scale + len(pairs) + sum(by_id.values()) + sum(commented)\n"
        "total += sum(r[1] for r in nested['rows']) + csv_text.count('b') + math.fsum(mixed[1]) + lookup(5)\n"
        "score = total / 1000",
        ["promote:evaluate"],
    ),
]


def _expected_score() -> float:
    """What the notebook computes: the evaluate cell run on the literals as written."""
    scope: dict = {}
    for source, _ in CELLS:
        exec(compile(source, "<cell>", "exec"), scope)
    return scope["score"]


def _pipeline(project: Path, package: str) -> str:
    return (project / "src" / package / "pipeline.py").read_text()


def test_each_large_literal_moves_to_a_file_that_reads_back_as_written(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "tables.ipynb", CELLS)
    result = api.promote(notebook, tmp_path / "out", commit=False)
    assert result.ok, [d.message for d in result.plan.all_diagnostics]
    project, folder = result.output, result.output / "src" / "tables" / "literals"
    stored = sorted(path.name for path in folder.iterdir() if path.name != "__init__.py")
    # JSON where JSON holds the value exactly; the literal's own text for tuples, int keys and comments
    kinds = sorted((name.split("-")[0], name.rsplit(".", 1)[1]) for name in stored)
    assert kinds == [
        ("by_id", "txt"),
        ("commented", "txt"),
        ("csv_text", "json"),
        ("literal", "json"),  # the large list inside `mixed`, which itself holds a name
        ("literal", "txt"),  # lookup's default, in the functions module
        ("nested", "json"),
        ("pairs", "txt"),
        ("table", "json"),
    ], stored
    assert "# row 7" in next(folder.glob("commented-*.txt")).read_text()
    pipeline = _pipeline(project, "tables")
    assert "small = [1, 2, 3]" in pipeline and "mixed = [scale, load_literal(" in pipeline
    assert "codes=load_literal(" in "".join(p.read_text() for p in (project / "src" / "tables").glob("*.py"))
    assert max(len(line) for line in pipeline.splitlines()) < 100  # no literal left in the code
    # each file reads back as the literal evaluated in the notebook
    done = run_in_project(
        project,
        "-c",
        "import ast, json, sys; from tables.literals import load_literal; "
        "print(json.dumps({n: repr(load_literal(n)) for n in sys.argv[1:]}))",
        *stored,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    written = {"table": TABLE, "pairs": PAIRS, "by_id": BY_ID, "commented": COMMENTED, "nested": NESTED}
    written |= {"csv_text": TEXT, "literal.json": TABLE, "literal.txt": BY_ID}
    for name in stored:
        key = name.split("-")[0]
        key = f"{key}.{name.rsplit('.', 1)[1]}" if key == "literal" else key
        assert loaded[name] == repr(ast.literal_eval(written[key])), name


def test_the_project_runs_and_tests_and_lints_as_generated(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "tables.ipynb", CELLS)
    result = api.promote(notebook, tmp_path / "out", commit=True)
    assert result.ok
    project = result.output
    assert lint_problems(project) == []
    run = run_in_project(project, "-m", "tables", "run")
    assert run.returncode == 0, run.stderr[-2000:]
    assert metrics_of(project)["score"] == _expected_score()
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:]
    again = api.promote(notebook, project)
    assert again.commit == result.commit and "up to date" in again.message
    # a hand edit of stored data survives the next promotion, like any hand edit
    (table,) = (project / "src" / "tables" / "literals").glob("table-*.json")
    table.write_text(table.read_text().replace("\n0.0,\n", "\n0.5,\n", 1))
    subprocess.run(["git", "commit", "-qam", "hand edit"], cwd=project, check=True)
    write_notebook(notebook, [*CELLS, ("print(score)", [])])
    third = api.promote(notebook, project)
    assert third.ok and third.commit != result.commit
    assert "\n0.5,\n" in table.read_text()


def test_what_cannot_move_stays_in_the_code(tmp_path: Path) -> None:
    big = "[" + ", ".join(str(i) for i in range(ROWS * 2)) + "]"
    files = '["' + '", "'.join(f"image {i}" for i in range(ROWS)) + '"]'
    cells = [
        ("x = 1", ["parameters"]),
        (
            f'"""{"documentation " * ROWS}"""\n'  # a docstring-like bare string
            f"{big}\n"  # a bare literal: displayed, never kept
            f"names = {files}\n"  # plain strings: stored
            f'with open("out/{"x" * LIMIT}.txt", "w") as f:\n    f.write("a")\n'  # a path: anchored in the code
            f"match x:\n    case 1:\n        y = {big}\n"
            "sizes = [len(n) for n in names]\n"
            "score = float(len(sizes))",
            ["promote:evaluate"],
        ),
    ]
    notebook = write_notebook(tmp_path / "kept.ipynb", cells)
    result = api.promote(notebook, tmp_path / "out", commit=False)
    assert result.ok
    folder = result.output / "src" / "kept" / "literals"
    stored = sorted(p.name.split("-")[0] for p in folder.glob("*-*"))
    assert stored == ["names", "y"]
    pipeline = _pipeline(result.output, "kept")
    assert f'f"{{cfg.artifacts_dir}}/out/{"x" * LIMIT}.txt"' in pipeline
    assert "documentation documentation" not in pipeline  # displayed only: dropped, as before


def test_a_loader_name_the_notebook_uses_gives_way(tmp_path: Path) -> None:
    cells = [
        ("def load_literal(x):\n    return x", ["promote:functions"]),
        (f"table = {TABLE}\nscore = load_literal(sum(table))", ["promote:evaluate"]),
    ]
    result = api.promote(write_notebook(tmp_path / "named.ipynb", cells), tmp_path / "out", commit=False)
    assert result.ok
    pipeline = _pipeline(result.output, "named")
    assert "from .literals import load_literal as load_stored_literal" in pipeline
    assert 'table = load_stored_literal("table-' in pipeline
    run = run_in_project(result.output, "-m", "named", "run")
    assert run.returncode == 0, run.stderr[-2000:]
    assert metrics_of(result.output)["score"] == sum(ast.literal_eval(TABLE))


def test_small_literals_and_small_cells_are_left_alone(tmp_path: Path) -> None:
    just_under = "[" + ", ".join(["1"] * ((LIMIT - 2) // 3)) + "]"
    assert len(just_under) < LIMIT
    cells = [("x = 1", ["parameters"]), (f"table = {just_under}\nscore = float(sum(table))", ["promote:evaluate"])]
    result = api.promote(write_notebook(tmp_path / "small.ipynb", cells), tmp_path / "out", commit=False)
    assert result.ok
    assert not (result.output / "src" / "small" / "literals").exists()


def test_same_notebook_same_bytes_and_file_names_follow_content(tmp_path: Path) -> None:
    first = write_notebook(tmp_path / "a" / "tables.ipynb", CELLS)
    second = write_notebook(tmp_path / "b" / "tables.ipynb", CELLS)
    one = api.promote(first, tmp_path / "out1", commit=False).output
    two = api.promote(second, tmp_path / "out2", commit=False).output
    names = sorted(p.name for p in (one / "src/tables/literals").iterdir())
    assert names == sorted(p.name for p in (two / "src/tables/literals").iterdir())
    for name in names:
        assert (one / "src/tables/literals" / name).read_bytes() == (two / "src/tables/literals" / name).read_bytes()
    changed = [(source.replace("0.1429", "0.1430"), tags) for source, tags in CELLS]
    three = api.promote(write_notebook(tmp_path / "c" / "tables.ipynb", changed), tmp_path / "out3", commit=False)
    table_names = {p.name for p in (three.output / "src/tables/literals").glob("table-*")}
    assert table_names.isdisjoint(names)  # new data, new name: the code that reads it changes too


def test_a_literal_handed_to_a_call_is_named_after_what_the_call_binds(tmp_path: Path) -> None:
    """``frame = np.array([...], dtype=...)`` stores ``frame-<hash>.json``, as ``frame = [...]`` would, and so do a
    keyword argument and an argument of a call among the arguments; a literal in an operand stays ``literal-<hash>``."""
    first, second, third, fourth = (TABLE.replace("[", f"[{n}, ", 1) for n in (1, 2, 3, 4))
    cells = [
        ("import numpy as np\nscale = 2.0", ["parameters"]),
        (
            f"frame = np.array({first}, dtype=float)\nnamed = dict(pairs={second})\nweights = sorted(list({third}))\n"
            f"shifted = np.array({fourth}) + 1",
            ["promote:data"],
        ),
        ("total = len(frame) + sum(weights) * scale + len(named) + len(shifted)", ["promote:evaluate"]),
    ]
    result = api.promote(write_notebook(tmp_path / "calls.ipynb", cells), tmp_path / "out", commit=False)
    stems = sorted(p.name.split("-")[0] for p in (result.output / "src/calls/literals").glob("*-*"))
    assert stems == ["frame", "literal", "named", "weights"]


@pytest.mark.skipif(not (CCDS / "ccds.json").is_file(), reason=CCDS_MISSING)
def test_stored_literals_move_with_the_package_into_a_template(tmp_path: Path) -> None:
    pytest.importorskip("ccds", reason="cookiecutter-data-science (the `ccds` package) is not installed")
    notebook = write_notebook(tmp_path / "tables.ipynb", CELLS)
    result = api.promote(notebook, tmp_path / "out", commit=False, template=str(CCDS))
    assert result.ok, result.message
    folder = result.output / "tables" / "literals"
    assert (folder / "__init__.py").is_file() and len(list(folder.glob("*-*"))) == 8
    assert lint_problems(result.output) == []
    run = run_in_project(result.output, "-m", "tables", "run", env={"PYTHONPATH": "."})
    assert run.returncode == 0, run.stderr[-2000:]
    assert metrics_of(result.output)["score"] == _expected_score()


def test_dvc_reruns_the_steps_when_stored_data_changes(tmp_path: Path) -> None:
    """The stored literals are part of the steps' code for DVC: an edit of the data re-runs them, nothing else does."""
    notebook = write_notebook(tmp_path / "tables.ipynb", CELLS)
    result = api.promote(notebook, tmp_path / "out")
    assert result.ok
    project = result.output
    assert "src/tables/literals" in (project / "dvc.yaml").read_text()
    assert run_in_project(project, "-m", "dvc", "init", "-q", "--no-scm").returncode == 0
    first = run_in_project(project, "-m", "tables", "run", timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert {"data", "evaluate"} <= set(_ran_stages(first.stdout))
    assert _ran_stages(run_in_project(project, "-m", "tables", "run").stdout) == ["code"]
    (table,) = (project / "src" / "tables" / "literals").glob("table-*.json")
    table.write_text(table.read_text().replace("\n0.0,\n", "\n0.5,\n", 1))
    edited = run_in_project(project, "-m", "tables", "run", timeout=900)
    assert edited.returncode == 0, edited.stdout[-3000:] + edited.stderr[-3000:]
    assert {"data", "evaluate"} <= set(_ran_stages(edited.stdout))
    assert metrics_of(project)["score"] == pytest.approx(_expected_score() + 0.5 * 2.0 / 1000)


def _ran_stages(log: str) -> list[str]:
    return [line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage '")]


# Literals read by json instead of Python's parser (read/large_literals.py)
NUMBERS = "[" + ", ".join(f"{i % 89 / 3:.5g}" for i in range(ROWS)) + "]"
GRID = "[\n" + ",\n".join(f"    [{i}, {-i}, {i * 1.5:g}, 1e-{i % 9 + 1}]" for i in range(ROWS)) + "\n]"
# as written between the double quotes of the cell: escapes JSON and Python read alike, a "#", brackets, a path
WORDS = ["the", "naïve", "C#", r"a \"quote\"", r"tab\there", "[not, a, list]", "data/x.csv", r"\u00e9t\u00e9", "日本語"]
VOCABULARY = "[" + ", ".join(f'"{WORDS[i % len(WORDS)]} {i}"' for i in range(ROWS)) + "]"
LABELS = "{\n" + "".join(f'    "{WORDS[i % len(WORDS)]}{i}": {i},\n' for i in range(ROWS)) + '    "last é": -1\n}'
BLACK_VOCABULARY = (
    "[\n" + "".join(f'    "{WORDS[i % len(WORDS)]} {i}",\n' for i in range(ROWS)) + "]"
)  # as black writes it
BLACK_RECORDS = "{\n" + "".join(f'    "row {i}": [\n        {i},\n        "a, ]",\n    ],\n' for i in range(ROWS)) + "}"
RECORDS = "[" + ", ".join(f'["name {i}", {i / 4}, {{"tag": "é{i}", "ok": [1, 2]}}]' for i in range(ROWS)) + "]"
# As Python prints data: None, True, False, strings in single quotes, tuples
PRINTED = repr([[None if i % 7 == 0 else i / 8, i % 3 == 0, f"w{i} it's é" if i % 5 else f"w{i}"] for i in range(ROWS)])
NESTED_TUPLES = repr([(i, (i / 3, "a, (b)"), ()) for i in range(ROWS)])  # tuples, one of them empty


def _reading_of(code: str) -> int:
    """How many lists parse_code read by json; asserts its tree is the parser's in every other respect."""
    from jupyterlab_promote.read.large_literals import literal_value, parse_code

    with warnings.catch_warnings():  # "\/" is an invalid escape to Python
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        tree, original = parse_code(code), ast.parse(code)
    places = [(type(s), s.lineno, s.col_offset, s.end_lineno, s.end_col_offset) for s in tree.body]
    assert places == [(type(s), s.lineno, s.col_offset, s.end_lineno, s.end_col_offset) for s in original.body]
    held = 0
    for mine, parsed in zip(tree.body, original.body):
        if isinstance(mine, ast.Assign):  # the literal as the value, or as the first argument of the call that is
            calls = isinstance(mine.value, ast.Call) and mine.value.args
            for holder, parsed_holder, field in [(mine, parsed, "value")] + (
                [(mine.value, parsed.value, "args")] if calls else []
            ):
                node = getattr(holder, field)[0] if field == "args" else getattr(holder, field)
                if hasattr(node, "promote_literal"):
                    literal = getattr(parsed_holder, field)[0] if field == "args" else getattr(parsed_holder, field)
                    value, expected = literal_value(node), ast.literal_eval(literal)
                    assert value == expected and type(value) is type(expected)
                    assert repr(value) == repr(expected)  # key order, and str versus int, too
                    if field == "args":
                        parsed_holder.args[0] = node
                    else:
                        parsed_holder.value = node
                    held += 1
        # every other node, and every position, the parser's
        assert ast.dump(mine, include_attributes=True) == ast.dump(parsed, include_attributes=True)
    return held


@pytest.mark.parametrize(
    ("code", "held"),
    [
        (f"data = {NUMBERS}\n", 1),
        (f"grid = {GRID}  # measured\nafter = len(grid)\n", 1),
        (f"a = {NUMBERS}\nb = 2\nc={GRID}\n", 2),
        (f"big = [{'1e999, ' * 3000}1]\n", 1),  # inf in both readings
        (f"words = {VOCABULARY}\n", 1),
        (f"labels = {LABELS}\nn = len(labels)\n", 1),  # a dict, its last line holding a two-byte letter
        (f"records = {RECORDS}\n", 1),
        (f"x = np.array({GRID}, dtype=np.float32)\n", 1),  # a call's first argument
        ("x = torch.tensor(\n" + NUMBERS + "\n)\n", 0),  # not right after the bracket
        (f"x = np.array({NUMBERS})[0]\n", 0),  # the call is not the whole value
        (f"x = f({VOCABULARY})\n", 1),  # strings in an argument
        (f"frame = pd.DataFrame({RECORDS}, columns=['id', 'name'])\n", 1),
        (f"x = f({NUMBERS} + [1])\n", 0),
        (f"words = {BLACK_VOCABULARY}\n", 1),  # trailing commas where black writes them
        (f"rows = {BLACK_RECORDS}\nafter = 1\n", 1),
        (f"words = {BLACK_VOCABULARY[:-1]}  ]\n", 0),  # the closing bracket not at the start of its line
        (f"words = {BLACK_VOCABULARY}".replace('",\n', '",\n# a comment\n', 1) + "\n", 0),
        (f"x = 1; words = {VOCABULARY}\n", 0),  # not at the start of a line
        (f'doc = """\nx = {NUMBERS}\n"""\n', 0),  # inside a string: the parse of the blanked text says so
        (f"x = {NUMBERS} + [3]\n", 0),  # not the whole value
        (f"x = {NUMBERS}; y = 1\n", 0),
        (f"x = {NUMBERS[:-1]}, inf]\n", 0),  # a name is no number
        (f"x = {NUMBERS[:-1]}, True, None, False]\n", 1),  # Python's data words read as JSON's
        (f"printed = {PRINTED}\n", 1),
        (f"pairs = {NESTED_TUPLES}\n", 1),  # holding tuples: the literal's own text is its value
        (f"pairs = {NESTED_TUPLES[1:-1]}\n", 0),  # a tuple without parentheses: the parser's way
        (f"pairs = ({NESTED_TUPLES[1:-1]})\n", 1),  # a tuple in parentheses
        (f"x = np.array({NESTED_TUPLES.replace(', ()', '').replace(chr(39) + 'a, (b)' + chr(39), '1')})\n", 1),
        (f"x = ({NUMBERS})\n", 0),  # parentheses that group: a list, no tuple
        (f"x = {NUMBERS[:-1]}, (7)]\n", 0),
        (f"x = {NUMBERS[:-1]}, (())]\n", 0),  # an empty tuple, grouped
        (f"x = {NUMBERS[:-1]}, ([1, 2])]\n", 0),
        (f"x = {NUMBERS[:-1]}, (1,)]\n", 0),  # a tuple of one: a trailing comma JSON refuses
        (f"x = {PRINTED}".replace("'w5'", "'w\\'5'") + "\n", 0),  # a backslash in single quotes
        (f"x = {PRINTED}".replace("'w5'", "'\"w5'") + "\n", 0),  # a double quote in single quotes
        (f"x = {NUMBERS[:-1]}, 1]\n".replace("[", "[true, ", 1), 0),  # JSON's true is a name to Python
        (f"x = {NUMBERS[:-1]},]\n", 0),  # a trailing comma: not JSON
        (f"x = {VOCABULARY}".replace('"the 0"', "'the 0'") + "\n", 1),  # single quotes: Python's spelling
        (f"x = {VOCABULARY}".replace("the", "a\\/b", 1) + "\n", 0),  # "\/": "/" in JSON, "\\/" in Python
        (f"x = {VOCABULARY}".replace("the", "\\ud83d\\ude00", 1) + "\n", 0),  # one character in JSON, two here
        (f"x = {VOCABULARY}".replace("the", "a\\x41", 1) + "\n", 0),  # an escape JSON has not
        (f'x = {VOCABULARY}'.replace('"the', '"a" "the', 1) + "\n", 0),  # strings joined by Python alone
        ("x = {" + ", ".join(f"{i}: {i}" for i in range(ROWS)) + "}\n", 1),  # number keys: kept as text
        ("x = [{" + ", ".join(f"{i / 2}: (None, '{i}')" for i in range(ROWS)) + "}, {True: 1}]\n", 1),
        ("x = {\n" + "".join(f"    {i}: [{i}],\n" for i in range(ROWS)) + "}\n", 1),  # as black writes it
        ("x = {" + ", ".join(f"{i}" for i in range(ROWS)) + "}\n", 0),  # a set
        ("x = {" + ", ".join(f"{i}: {i}" for i in range(ROWS)) + ", (1, 2): 3}\n", 0),  # a tuple key
        (f"x = y = {NUMBERS}\n", 0),
        (f"if True:\n    x = {NUMBERS}\n", 0),  # not top level
        ("x = " + "[" * 150 + NUMBERS + "]" * 150 + "\n", 0),  # deeper than json's way takes
        ("x = " + '{"a": [' * 60 + NUMBERS + "]}" * 60 + "\n", 0),  # 120 deep, lists and dicts together
    ],
    ids=[
        "flat", "grid", "two", "inf", "strings", "dict", "records", "call", "call_next_line", "call_subscript",
        "call_strings", "call_records_keywords", "call_operand", "black_list", "black_dict", "indented_close",
        "comment_line", "after_semicolon", "in_string", "operand",
        "semicolon", "name", "python_words", "printed", "tuples", "bare_tuple", "tuple", "call_tuples", "grouped",
        "grouped_number", "grouped_empty_tuple", "grouped_list", "one_tuple", "single_quote_backslash",
        "single_quote_double", "json_true", "comma", "single_quotes", "slash_escape", "surrogate_pair", "hex_escape",
        "joined", "int_keys", "float_and_word_keys", "black_int_keys", "set", "tuple_key", "chain", "nested", "deep", "deep_mixed",
    ],
)  # fmt: skip
def test_only_whole_top_level_literals_json_reads_alike_are_read_by_json(code: str, held: int) -> None:
    assert _reading_of(code) == held


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=3).map(tuple)  # JSON writes a list, repr a tuple
    | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    | st.dictionaries(st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none(), inner, max_size=3),
    max_leaves=12,
)
# What people paste, and what makes JSON and Python part ways
_EDITS = ["\\/", "\\x41", "\\ud83d\\ude00", "'", "#", "True", ", ", ",", "\n", "]", "{", '" "', "é", "\u2028", "\\"]
_EDITS += ["(", ")", "()", "None", "(1)", "'a'", '"', ":", "1: ", "{1, 2}", "{(1, 2): 3}", "{[1]: 2}"]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    value=_JSON_VALUES,
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 1, 4]),
    trailing_commas=st.booleans(),
    called=st.booleans(),
    printed=st.booleans(),
    edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(_EDITS)), max_size=3),
)
def test_parse_code_reads_what_the_parser_reads(
    value, ascii_only: bool, indent, trailing_commas: bool, called: bool, printed: bool, edits
) -> None:
    """Any large literal, JSON-written or printed by Python, and then edited as people do: parse_code's tree, values and errors are the
    parser's."""
    written = json.dumps([value, json.loads(NUMBERS)], ensure_ascii=ascii_only, indent=indent)
    if printed:  # as Python prints it: None, True, single quotes, tuples
        written = repr([value, json.loads(NUMBERS)])
    elif trailing_commas:  # as black writes a literal split over lines
        written = re.sub(r"(?<=[^\[{\s])(\n *[\]}])", r",\1", written)
    for place, text in edits:
        at = int(place * len(written))
        written = written[:at] + text + written[at:]
    code = f"data = np.array({written}, dtype=float)\nafter = 1\n" if called else f"data = {written}\nafter = 1\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            ast.parse(code)
    except SyntaxError as parsed:
        from jupyterlab_promote.read.large_literals import parse_code

        with pytest.raises(SyntaxError) as mine, warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            parse_code(code)
        assert (mine.value.msg, mine.value.lineno) == (parsed.msg, parsed.lineno)
        return
    _reading_of(code)


def test_a_list_too_deep_for_python_is_the_parsers_error() -> None:
    from jupyterlab_promote.read.large_literals import parse_code

    code = "x = " + "[" * 250 + NUMBERS + "]" * 250 + "\n"
    with pytest.raises(SyntaxError) as parsed:
        ast.parse(code)
    with pytest.raises(SyntaxError) as mine:
        parse_code(code)
    assert (mine.value.msg, mine.value.lineno) == (parsed.value.msg, parsed.value.lineno)


@pytest.mark.parametrize(
    "ending", [", 7}", ", 1: 2: 3}", ", 1:}", ", :1}", ", 1: 2, 3: 4,,}", ", 5: (1: 2)}", ", 5: [1: 2]}"]
)
def test_a_dict_json_reads_as_a_list_but_python_refuses_is_the_parsers_error(ending: str) -> None:
    from jupyterlab_promote.read.large_literals import parse_code

    code = "x = {" + ", ".join(f"{i}: {i}" for i in range(ROWS)) + ending + "\nafter = 1\n"
    with pytest.raises(SyntaxError) as parsed:
        ast.parse(code)
    with pytest.raises(SyntaxError) as mine:
        parse_code(code)
    assert (mine.value.msg, mine.value.lineno, mine.value.offset) == (
        parsed.value.msg,
        parsed.value.lineno,
        parsed.value.offset,
    )


def test_a_large_list_of_numbers_is_a_handful_of_nodes() -> None:
    from jupyterlab_promote.read.large_literals import parse_code

    tree = parse_code("data = [" + ", ".join(["0.5"] * 500_000) + "]\n")
    assert sum(1 for _ in ast.walk(tree)) < 10


def test_lists_read_by_json_give_the_project_the_parser_gives(tmp_path: Path, monkeypatch) -> None:
    """Byte for byte, with the literal in a step, in a parameters cell, and beside a syntax error's line number."""
    from jupyterlab_promote.read import large_literals

    cells = [
        (f"weights = {NUMBERS}\nscale = 2.0", ["parameters"]),
        (
            f"grid = {GRID}  # measured\nrows = len(grid)\ncolumns = [{NUMBERS}, [1]]\narray = list({GRID})",
            ["promote:data"],
        ),
        (f"words = {VOCABULARY}\nlabels = {LABELS}\nrecords = {RECORDS}\nrows = {BLACK_RECORDS}", ["promote:data"]),
        (f"printed = {PRINTED}\npairs = {NESTED_TUPLES}", ["promote:data"]),
        (f"named = dict({LABELS})\ntable = list({RECORDS}, )\nby_id = {BY_ID}", ["promote:data"]),
        (
            "score = rows * scale + sum(weights) + len(columns) + len(words[3]) + labels['last é']"
            " + len(printed) + pairs[3][1][0] + named['last é'] + len(table) + by_id[7]",
            ["promote:evaluate"],
        ),
    ]
    broken = cells[:5] + [(f"table = {VOCABULARY}\nscore = (", ["promote:evaluate"])]

    def promoted(name: str, notebook_cells: list) -> tuple[dict, list]:
        result = api.promote(write_notebook(tmp_path / f"{name}.ipynb", notebook_cells), tmp_path / name, commit=False)
        files = {str(p.relative_to(result.output)): p.read_bytes() for p in result.output.rglob("*") if p.is_file()}
        return files, [(d.cell_index, d.line, d.message) for d in result.plan.all_diagnostics]

    by_json, broken_by_json = promoted("nb", cells), promoted("broken", broken)
    assert by_json[0] and not broken_by_json[0]
    monkeypatch.setattr(large_literals, "_json_literals", lambda code: [])
    for name in ("nb", "broken"):
        shutil.rmtree(tmp_path / name, ignore_errors=True)
    assert promoted("nb", cells) == by_json
    assert promoted("broken", broken) == broken_by_json


@settings(
    max_examples=max(FUZZ_EXAMPLES // 10, 30), deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(value=_JSON_VALUES, edit=st.just("") | st.sampled_from(_EDITS), place=st.floats(0, 1), called=st.booleans())
def test_printed_data_gives_the_project_the_parser_gives(
    tmp_path_factory, monkeypatch, value, edit, place, called
) -> None:
    """Data as Python prints it (tuples, None, single quotes), edited or not, alone or a call's first argument: the
    same files and diagnostics whether read by json or by the parser. 30 examples in CI; a separate campaign of 200 random notebooks of 2,000
    printed rows each found all alike, 47 of them read by json."""
    from jupyterlab_promote.read import large_literals

    printed = repr([value, json.loads(NUMBERS)])
    at = int(place * len(printed))
    written = printed[:at] + edit + printed[at:]
    written = f"sorted({written}, key=str)" if called else written
    folder = tmp_path_factory.mktemp("printed")
    notebook = write_notebook(
        folder / "printed.ipynb",
        [
            ("lr = 0.1", ["parameters"]),
            (f"rows = {written}\nn = len(rows)", ["promote:data"]),
            ("w = n * lr", ["promote:train"]),
        ],
    )

    def promoted(name: str) -> tuple[dict, list]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            result = api.promote(notebook, folder / name, commit=False)
        files = {str(p.relative_to(result.output)): p.read_bytes() for p in result.output.rglob("*") if p.is_file()}
        return files, [(d.cell_index, d.line, d.message) for d in result.plan.all_diagnostics]

    by_json = promoted("json")
    monkeypatch.setattr(large_literals, "_json_literals", lambda code: [])
    assert promoted("parser") == by_json


def test_a_call_holding_a_large_literal_is_no_example_prediction_either_way(tmp_path: Path, monkeypatch) -> None:
    """The example chain (codegen/example_chain.py) follows a call given the model and one text; a large list of
    texts beside them makes the call too large to follow, whether json or the parser read the list."""
    from jupyterlab_promote.read import large_literals

    from .test_inference_text import _cells, _chain

    helper = "\n\ndef classify(texts, net, word, encode, labels):\n    return decode(net(encode(word)), labels)\n\n\n"
    small = _chain(tmp_path, _cells(helper + 'print(classify([1, 2], reader, "bean", encode, labels))'))
    assert small is not None and small.value == "bean"
    cells = _cells(helper + f'guess = classify({VOCABULARY}, reader, "bean", encode, labels)')
    assert _chain(tmp_path, cells) is None
    monkeypatch.setattr(large_literals, "_json_literals", lambda code: [])
    assert _chain(tmp_path, cells) is None

"""The plan: roles, data flow between steps, and each diagnostic with its location."""

from __future__ import annotations

import json

import pytest

from jupyterlab_promote import api
from jupyterlab_promote.api import analyze

from .helpers import (
    TINY_TORCH,
    corpus_notebooks,
    metrics_of,
    requires_corpus,
    run_in_project,
    write_notebook,
)


def codes(plan, code):
    return [d for d in plan.all_diagnostics if d.code == code]


def test_tiny_notebook_steps_and_data_flow(tmp_path):
    plan = analyze(write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH))
    assert plan.ok
    assert [s.name for s in plan.steps] == ["data", "model", "train", "evaluate"]
    train = plan.step("train")
    assert set(train.inputs) == {"model", "loader"}
    assert set(train.params) == {"lr", "epochs"}
    assert plan.step("evaluate").metrics == ["acc"]

    assert plan.seed == "seed"
    assert [p.name for p in plan.parameters] == ["epochs", "batch_size", "lr", "seed"]


def test_mutation_makes_the_mutating_step_the_provider(tmp_path):
    cells = [
        ("from sklearn.linear_model import LogisticRegression\nclf = LogisticRegression()", ["promote:model"]),
        ("clf.fit([[0], [1]], [0, 1])", ["promote:train"]),
        ("score = clf.score([[0], [1]], [0, 1])", ["promote:evaluate"]),
    ]
    plan = analyze(write_notebook(tmp_path / "m.ipynb", cells))
    assert "clf" in plan.step("train").outputs
    assert plan.step("evaluate").inputs == ["clf"]


def test_untagged_definition_is_pulled_in_with_a_warning_naming_both_cells(tmp_path):
    cells = ["helper_value = 41", ("answer = helper_value + 1", ["promote:data"])]
    plan = analyze(write_notebook(tmp_path / "u.ipynb", cells))
    [warning] = codes(plan, "PRM003")
    assert warning.severity.value == "warning"
    assert (warning.cell_index, warning.cell_id, warning.line) == (1, "cell-1", 1)
    assert warning.related_cells == [{"index": 0, "id": "cell-0"}]
    assert warning.suggestion["cell_id"] == "cell-0"
    assert [p.origin for p in plan.step("data").body] == ["pulled", "tagged"]
    assert not analyze(tmp_path / "u.ipynb", strict=True).ok


def test_undefined_name_and_syntax_error(tmp_path):
    cells = [("total = missing_name + 1", ["promote:data"]), ("def broken(:\n    pass", ["promote:model"])]
    plan = analyze(write_notebook(tmp_path / "bad.ipynb", cells))
    [syntax] = codes(plan, "PRM001")
    assert (syntax.cell_index, syntax.line, syntax.severity.value) == (1, 1, "error")
    assert not plan.ok


def test_name_defined_nowhere(tmp_path):
    plan = analyze(write_notebook(tmp_path / "u.ipynb", [("total = missing_name + 1", ["promote:data"])]))
    [undefined] = codes(plan, "PRM002")
    assert "missing_name" in undefined.message and undefined.line == 1


def test_a_name_a_loop_reads_before_binding_it_is_named_with_the_line_that_binds_it(tmp_path):
    """``if epoch == 0 or val < best: best = val``: the cell does define it, below the read; the warning says
    where, at the line of the read (it said "defined in no cell", at the binding's line)."""
    loop = "for epoch in range(3):\n    val = 1.0 / (epoch + 1)\n    if epoch == 0 or val < best:\n        best = val"
    plan = analyze(write_notebook(tmp_path / "loop.ipynb", [(loop, ["promote:train"])]))
    [undefined] = codes(plan, "PRM002")
    assert (undefined.line, undefined.severity.value) == (3, "warning")
    assert "before this cell binds it at line 4" in undefined.message and "no cell" not in undefined.message


def test_a_step_order_that_moves_random_draws_is_a_warning_at_the_draw_that_moves(tmp_path):
    """The model cell seeds and draws above the data cell's draw; the data step runs first, so the data cell draws
    the seed's first number, not its second. Tagged in notebook order, nothing is said."""
    seeded = ("import random\nrandom.seed(0)\nw = random.random()", ["promote:model"])
    drawn = ("d = random.random()", ["promote:data"])
    scored = ("score = w * 10 + d", ["promote:evaluate"])
    plan = analyze(write_notebook(tmp_path / "moved.ipynb", [seeded, drawn, scored]))
    [moved] = codes(plan, "PRM047")
    assert (moved.cell_index, moved.line, moved.severity.value) == (1, 1, "warning")
    assert "before cell 0" in moved.message and plan.ok
    in_order = [(seeded[0], ["promote:data"]), (drawn[0], ["promote:model"]), scored]
    assert not codes(analyze(write_notebook(tmp_path / "kept.ipynb", in_order)), "PRM047")


def test_hidden_state_from_execution_counts(tmp_path):
    path = write_notebook(tmp_path / "h.ipynb", [("a = 1", ["promote:data"]), ("b = a", ["promote:model"])])
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells[0].execution_count, notebook.cells[1].execution_count = 5, 2
    nbformat.write(notebook, str(path))
    [hidden] = codes(analyze(path), "PRM004")
    assert hidden.cell_index == 1


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("path = '/home/alice/data.csv'", True),
        ('path = "/data/train.csv"', True),
        ('frame = read(f"x", "/mnt/share/y.csv")', True),
        ('path = "C:\\\\Users\\\\alice\\\\y.csv"', True),  # the cell's text holds two backslashes
        ("rows = ['/tmp/a', 1]", True),
        ('path = "data/train.csv"', False),
        ('path = "/not/a/known/root"', False),
        ("value = 1  # '/home/alice' in a comment", False),
        ('path = r"C:\\Users"', False),  # a raw string: the pattern wants a quote alone before the drive
    ],
)
def test_absolute_paths_are_found_in_each_spelling_and_only_there(tmp_path, line: str, found: bool) -> None:
    cells = [("x = 1", ["parameters"]), (f"{line}\nscore = 1.0", ["promote:evaluate"])]
    plan = analyze(write_notebook(tmp_path / "paths.ipynb", cells))
    assert [d.line for d in codes(plan, "PRM007")] == ([1] if found else [])


def test_lambda_in_data_cell_cuda_absolute_path_and_mixed_lightning(tmp_path):
    cells = [
        "import pytorch_lightning as pl\nimport lightning.pytorch as lp\nimport torch",
        ("transform = lambda x: x * 2\npath = '/home/alice/data.csv'", ["promote:data"]),
        ("net = torch.nn.Linear(2, 2).cuda()", ["promote:model"]),
    ]
    plan = analyze(write_notebook(tmp_path / "d.ipynb", cells))
    assert codes(plan, "PRM005")[0].line == 1
    assert codes(plan, "PRM007")[0].line == 2
    assert codes(plan, "PRM006")[0].cell_index == 2
    assert codes(plan, "PRM008")


def test_evaluate_without_metric_warns_and_tag_contradiction_is_suggested(tmp_path):
    cells = [
        ("import torch\nnet = torch.nn.Linear(1, 1)", ["promote:data"]),
        ("print('done')", ["promote:evaluate"]),
    ]
    plan = analyze(write_notebook(tmp_path / "e.ipynb", cells))
    assert codes(plan, "PRM012")
    [contradiction] = codes(plan, "PRM011")
    assert contradiction.suggestion == {"action": "set-role", "cell_index": 0, "cell_id": "cell-0", "role": "model"}


def test_role_suggestions_for_untagged_cells(tmp_path):
    cells = [
        "import torch",
        "loader = torch.utils.data.DataLoader(range(4))",
        "class Net(torch.nn.Module):\n    pass",
        "for x in loader:\n    loss = net(x)\n    loss.backward()\n    opt.step()",
        "print(loss)",
    ]
    plan = analyze(write_notebook(tmp_path / "s.ipynb", cells))
    assert [c.suggested_role for c in plan.cells] == ["imports", "data", "model", "train", "skip"]


def test_kale_notebook_untagged_cells_join_the_step_above(tmp_path):
    cells = [
        ("import math", ["imports"]),
        ("x = 2", ["block:load"]),
        "y = x * 2",
        ("z = math.sqrt(y)", ["step:compute", "prev:load"]),
    ]
    plan = analyze(write_notebook(tmp_path / "k.ipynb", cells))
    assert [(s.name, [c.cell.index for c in s.cells]) for s in plan.steps] == [("load", [1, 2]), ("compute", [3])]
    assert plan.step("compute").inputs == ["y"]


def test_skipped_definitions_do_not_count(tmp_path):
    cells = [("lr = 0.1", ["parameters"]), ("lr = 99", ["promote:skip"]), ("rate = lr", ["promote:train"])]
    plan = analyze(write_notebook(tmp_path / "k.ipynb", cells))
    assert plan.step("train").params == ["lr"]


@requires_corpus
def test_corpus_deliberate_dependencies_are_reported():
    found = {}
    for path in corpus_notebooks():
        plan = analyze(path)
        assert plan.ok, [d.format() for d in plan.all_diagnostics]
        found[path.name] = {d.message.split("'")[1] for d in codes(plan, "PRM003")}
    assert found["dev01_mwml_utilities.ipynb"] == {"get_performance"}
    assert found["dev02_nyu_spiral.ipynb"] == {"device"}
    assert found["dev03_udacity_mnist_mlp_validation.ipynb"] == set()


def test_class_reading_notebook_state_in_a_data_cell_is_reported(tmp_path):
    cells = [
        ("import torch\nscale = 2.0", ["promote:data"]),
        (
            "class Scaled(torch.utils.data.Dataset):\n    def __getitem__(self, i):\n        return i * scale\n    def __len__(self):\n        return 4\nds = Scaled()",
            ["promote:data"],
        ),
    ]
    plan = analyze(write_notebook(tmp_path / "c.ipynb", cells))
    [local] = codes(plan, "PRM005")
    assert (local.cell_index, local.line) == (1, 1) and "scale" in local.message


def test_tag_problems_parameters_and_moved_definitions(tmp_path):
    cells = [
        ("lr = 0.1\nsteps = int('3')", ["parameters"]),
        ("x = 1", ["promote:dta"]),
        ("y = lr * 2", ["promote:data", "promote:model"]),
        ("def score(v):\n    return v + lr", ["promote:evaluate"]),  # reads a parameter: stays in a step
        ("trained = score(y)", ["promote:train"]),
    ]
    plan = analyze(write_notebook(tmp_path / "t.ipynb", cells))
    assert codes(plan, "PRM015")[0].cell_index == 1 and "promote:dta" in codes(plan, "PRM015")[0].message
    assert codes(plan, "PRM016")[0].cell_index == 2
    assert (codes(plan, "PRM019")[0].cell_index, codes(plan, "PRM019")[0].line) == (0, 2)
    [moved] = codes(plan, "PRM017")
    assert moved.cell_index == 3 and "'score' is defined in the evaluate step" in moved.message
    assert plan.step("train").body[0].origin == "moved"


def test_the_state_a_moved_function_keeps_moves_with_it(tmp_path):
    """``ledger = []`` above ``def noted()`` in a later step's cell, called first by an earlier step: the list moves
    with the function (was PRM002 "'ledger' is used here but only step 'prep' defines it, and that step runs later",
    exit 1 on a notebook that runs; 9 of 300 random notebooks once such helpers took any role)."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        ("first = scale", ["promote:train"]),
        ("ledger = []\ndef note(v):\n    ledger.append(v)\ndef noted():\n    return sum(ledger)", ["step:prep"]),
        ("note(first)\ntotal = noted()", ["promote:train"]),
        ("later = first + 1", ["step:prep"]),
        ("score = total", ["promote:evaluate"]),
    ]
    plan = analyze(write_notebook(tmp_path / "state.ipynb", cells))
    assert plan.ok, [d.format() for d in plan.all_diagnostics]
    moved = [d.message for d in codes(plan, "PRM017")]
    assert any("'ledger' is defined in the prep step" in m for m in moved), moved
    assert [p.origin for p in plan.step("train").body].count("moved") == 3


def test_notebook_without_promoted_cells_is_an_error(tmp_path):
    plan = analyze(write_notebook(tmp_path / "none.ipynb", ["x = 1", ("plot(x)", ["promote:skip"])]))
    assert [d.severity.value for d in codes(plan, "PRM018")] == ["error"] and not plan.ok


def test_reserved_names_are_errors_with_their_line(tmp_path):
    cells = [("precision = 0.5", ["parameters"]), ("cfg = {'a': 1}", ["promote:data"])]
    plan = analyze(write_notebook(tmp_path / "r.ipynb", cells))
    assert [(d.cell_index, d.line) for d in codes(plan, "PRM023")] == [(0, 1), (1, 1)]
    assert not plan.ok


@pytest.mark.parametrize("name", ["trials", "timeout", "val_fraction", "final_data", "tracking_uri", "direction"])
def test_a_parameter_named_like_a_setting_of_the_mlops_stages_is_an_error(tmp_path, name):
    """The stages would read the notebook's value with their own meaning (a request timeout as Optuna's limit)."""
    cells = [(f"lr = 0.1\n{name} = 3", ["parameters"]), ("x = lr", ["promote:data"])]
    plan = analyze(write_notebook(tmp_path / "r.ipynb", cells))
    [refused] = codes(plan, "PRM023")
    assert (refused.cell_index, refused.line) == (0, 2) and "the MLOps stages read" in refused.message
    assert not plan.ok


KALE = [
    ("import torch\nfrom torch import nn", ["imports"]),
    ("epochs = 2\nlr = 0.1", ["pipeline-parameters"]),
    ("X = torch.randn(32, 3)\ny = (X.sum(1) > 0).long()", ["block:load_data"]),
    "loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=8)",
    (
        "model = nn.Linear(3, 2)\noptimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()",
        ["step:fit", "prev:load_data"],
    ),
    "for epoch in range(epochs):\n    for xb, yb in loader:\n        optimizer.zero_grad()\n        loss = loss_fn(model(xb), yb)\n        loss.backward()\n        optimizer.step()",
    ("acc = (model(X).argmax(1) == y).float().mean().item()", ["pipeline-metrics"]),
]


def test_kale_only_notebook_promotes_without_retagging(tmp_path):
    plan = analyze(write_notebook(tmp_path / "kale.ipynb", KALE))
    assert plan.ok
    assert [(s.name, s.role) for s in plan.steps] == [("load_data", "data"), ("fit", "train"), ("evaluate", "evaluate")]
    assert plan.loop is not None and plan.loop.step.name == "fit"
    assert plan.step("evaluate").metrics == ["acc"]


def test_kale_only_notebook_runs_after_promotion(tmp_path, git_identity):
    result = api.promote(write_notebook(tmp_path / "kale.ipynb", KALE), tmp_path / "out")
    assert result.ok
    done = run_in_project(tmp_path / "out", "-m", "kale", "run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert 0.0 <= metrics_of(tmp_path / "out")["acc"] <= 1.0


@pytest.mark.parametrize(
    ("tag", "meant"),
    [
        ("PROMOTE:TRAIN", "promote:train"),
        ("Promote:Train", "promote:train"),
        ("promote-train", "promote:train"),
        ("promote_train", "promote:train"),
        ("promote train", "promote:train"),
        ("promote:trian", "promote:train"),
        ("Parameters", "parameters"),
        ("STEP:prep", "step:prep"),
    ],
)
def test_a_tag_meant_as_ours_is_named_with_the_tag_it_means(tmp_path, tag, meant):
    cells = [("lr = 0.1", ["parameters"]), ("x = lr", ["promote:data"]), ("y = x", [tag])]
    plan = analyze(write_notebook(tmp_path / "t.ipynb", cells))
    [warning] = codes(plan, "PRM015")
    assert warning.cell_index == 2 and f"unknown tag '{tag}'; did you mean '{meant}'?" in warning.message


@pytest.mark.parametrize("tag", ["promoted", "todo", "hide-input", "remove-cell", "train", "papermill-error"])
def test_a_tag_of_another_tool_stays_silent(tmp_path, tag):
    cells = [("lr = 0.1", ["parameters"]), ("x = lr", ["promote:data", tag])]
    assert codes(analyze(write_notebook(tmp_path / "t.ipynb", cells)), "PRM015") == []


@pytest.mark.parametrize("cell_type", ["markdown", "raw"])
def test_a_role_tag_on_a_markdown_or_raw_cell_is_named_there(tmp_path, cell_type):
    path = write_notebook(tmp_path / "t.ipynb", [("lr = 0.1", ["parameters"]), ("x = lr", ["promote:data"])])
    document = json.loads(path.read_text())
    document["cells"].insert(
        1,
        {
            "cell_type": cell_type,
            "id": "heading",
            "metadata": {"tags": ["promote:train", "todo"]},
            "source": "## Train",
        },
    )
    path.write_text(json.dumps(document))
    [warning] = codes(analyze(path), "PRM015")
    assert (warning.cell_index, warning.cell_id) == (1, "heading")
    assert f"'promote:train' on a {cell_type} cell does nothing" in warning.message


def test_a_function_rebinding_a_notebook_variable_through_global_is_refused_at_its_line(tmp_path):
    """In the package the notebook's variables are each step's locals: ``global total`` in a function cannot reach
    them. State the functions keep among themselves (``_cache``) stays a module global, as in the notebook."""
    data = (
        "total = 0\ndef bump():\n    global total\n    total += 1\n"
        "def remember(v):\n    global _cache\n    _cache = v\nbump()\nremember(total)"
    )
    plan = analyze(write_notebook(tmp_path / "g.ipynb", [(data, ["promote:data"]), ("y = total", ["promote:train"])]))
    [refused] = [d for d in codes(plan, "PRM001")]
    assert (refused.cell_index, refused.line) == (0, 3) and "`global total` in bump" in refused.message
    assert not plan.ok


def test_code_that_makes_names_at_run_time_is_named(tmp_path):
    cells = [
        ("exec('k = 5')\nsettings = vars(object())", ["promote:data"]),
        ("w = eval('k') + len(settings)", ["promote:train"]),
    ]
    plan = analyze(write_notebook(tmp_path / "d.ipynb", cells))
    assert [(d.cell_index, d.line, d.message.split("(")[0]) for d in codes(plan, "PRM046")] == [
        (0, 1, "exec"),
        (1, 1, "eval"),
    ]
    assert plan.ok


def test_a_lambda_used_up_where_it_is_written_is_no_pickling_risk(tmp_path):
    """PRM005 is for a lambda a DataLoader worker may have to pickle: not for ``sorted(..., key=lambda ...)`` or a
    lambda called where it is written, which no object keeps."""
    data = (
        "files = sorted(['b10', 'a2'], key=lambda name: int(name[1:]))\n"
        "scale = (lambda v: v * 2)(3)\n"
        "transform = lambda v: v * scale"
    )
    plan = analyze(
        write_notebook(tmp_path / "l.ipynb", [(data, ["promote:data"]), ("y = transform(1)", ["promote:train"])])
    )
    assert [d.line for d in codes(plan, "PRM005")] == [3]


def test_steps_run_so_that_each_reader_sees_the_binding_above_it_in_the_notebook(tmp_path):
    """The steps hand values on by name, so the order of the steps that bind one name matters: ``x = 1.0`` tagged
    train above ``x = 2.0`` tagged data puts data after train; two train cells around a preprocess cell that reads
    what the first bound and the second rebinds cannot be separated, and fuse in notebook order (PRM026)."""
    cells = [("x = 1.0", ["promote:train"]), ("x = 2.0", ["promote:data"]), ("score = x", ["promote:evaluate"])]
    plan = analyze(write_notebook(tmp_path / "waw.ipynb", cells))
    assert [s.name for s in plan.steps] == ["train", "data", "evaluate"]
    cells = [
        ("y = 1.0", ["promote:train"]),
        ("z = y * 2", ["promote:preprocess"]),
        ("y = 5.0", ["promote:train"]),
        ("score = y + z", ["promote:evaluate"]),
    ]
    plan = analyze(write_notebook(tmp_path / "war.ipynb", cells))
    assert [s.name for s in plan.steps] == ["preprocess_train", "evaluate"] and codes(plan, "PRM026")

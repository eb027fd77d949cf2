"""Promotion end to end through the core API, with real git and real (tiny) Lightning Fabric training."""

from __future__ import annotations

import shutil
import subprocess

import nbformat
import pytest
import torch

from jupyterlab_promote import api
from jupyterlab_promote.errors import RefusedError

from .helpers import (
    TINY_TORCH,
    lint_problems,
    metrics_of,
    run_in_project,
    write_notebook,
)


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def set_epochs(notebook, value):
    node = nbformat.read(str(notebook), as_version=4)
    node.cells[1].source = node.cells[1].source.replace("epochs = 2", f"epochs = {value}")
    nbformat.write(node, str(notebook))


def test_hand_edit_survives_a_second_promotion(tmp_path, git_identity):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    output = tmp_path / "out"
    first = api.promote(notebook, output)
    assert first.ok and first.merged
    readme = output / "README.md"
    readme.write_text(readme.read_text() + "\nHand-written note.\n")
    git(output, "commit", "-qam", "document the project")

    set_epochs(notebook, 3)
    second = api.promote(notebook, output)
    assert second.ok and second.merged and not second.conflicts
    assert "Hand-written note." in readme.read_text()
    assert "epochs: 3" in (output / "config.yaml").read_text()
    assert git(output, "status", "--porcelain") == ""


def test_dirty_tree_is_refused_and_nothing_changes(tmp_path, git_identity):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    output = tmp_path / "out"
    api.promote(notebook, output)
    pipeline = output / "src" / "tiny" / "pipeline.py"
    pipeline.write_text(pipeline.read_text() + "# work in progress\n")
    head = git(output, "rev-parse", "HEAD")
    set_epochs(notebook, 4)
    with pytest.raises(RefusedError) as refused:
        api.promote(notebook, output)
    assert "src/tiny/pipeline.py" in " ".join([refused.value.message, *refused.value.details])
    assert git(output, "rev-parse", "HEAD") == head
    assert pipeline.read_text().endswith("# work in progress\n")


def test_preview_lists_changes_and_writes_nothing(tmp_path):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    preview = api.preview(notebook, tmp_path / "out")
    assert {f.status for f in preview.files} == {"added"}
    assert not (tmp_path / "out").exists()
    assert preview.to_json()["files"][0]["diff"].startswith("--- /dev/null")


def test_generated_tiny_project_runs_its_cli_with_a_flag(tmp_path, git_identity):
    notebook = write_notebook(tmp_path / "tiny.ipynb", TINY_TORCH)
    output = tmp_path / "out"
    api.promote(notebook, output)
    done = run_in_project(output, "-m", "tiny", "run", "--epochs", "1", "--accelerator", "cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    assert 0.0 <= metrics_of(output)["acc"] <= 1.0
    assert (output / "artifacts" / "train" / "model.pt").is_file()  # the train stage's hand-off
    program = torch.export.load(output / "artifacts" / "export" / "model.pt2")  # the export stage's, any batch size
    assert program.module()(torch.randn(5, 3)).shape == (5, 2)


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["lightning", "fabric"])
def test_generated_project_runs_unchanged_under_ddp_on_two_cpu_processes(tmp_path, git_identity, runtime):
    """The same package on a cluster: Lightning's own DDP strategy (gloo on CPU here), two processes."""
    cells = list(TINY_TORCH)
    if runtime == "fabric":  # a loop inside a function is kept as written, on Fabric
        source, tags = cells[4]
        cells[4] = ("def fit():\n" + "\n".join("    " + line for line in source.splitlines()) + "\nfit()", tags)
    notebook = write_notebook(tmp_path / "tiny.ipynb", cells)
    output = tmp_path / "out"
    assert api.promote(notebook, output).ok
    done = run_in_project(output, "-m", "tiny", "run", "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Starting with 2 processes" in done.stderr + done.stdout
    assert 0.0 <= metrics_of(output)["acc"] <= 1.0


def test_preview_shows_files_a_new_promotion_would_delete(tmp_path, git_identity):
    cells = list(TINY_TORCH)
    cells[3] = (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(3, 2)\n    def forward(self, x):\n        return self.fc(x)\nmodel = Net()",
        ["promote:model"],
    )
    notebook = write_notebook(tmp_path / "tiny.ipynb", cells)
    output = tmp_path / "out"
    api.promote(notebook, output)
    assert (output / "src" / "tiny" / "model.py").exists()
    # Without the model class and the mappable loop, model.py (LitModel) and data.py (DataModule) go, and so
    # do predict/serve and their schema (generated only where the loop says how the model is called).
    cells[3] = ("model = nn.Linear(3, 2)", ["promote:model"])
    cells[4] = ("def fit():\n    pass\nfit()", ["promote:train"])
    write_notebook(notebook, cells)
    preview = api.preview(notebook, output)
    deleted = [f for f in preview.files if f.status == "deleted"]
    assert [f.path for f in deleted] == [
        f"src/tiny/{name}.py" for name in ("data", "model", "predict", "schema", "serve")
    ]
    assert deleted[1].diff.startswith("--- a/src/tiny/model.py\n+++ /dev/null")
    assert api.promote(notebook, output).ok
    assert not (output / "src" / "tiny" / "model.py").exists()


def test_notebook_without_evaluate_step_gets_passing_generated_tests(tmp_path, git_identity):
    cells = [
        "import torch",
        ("X = torch.randn(20, 3)", ["promote:data"]),
        ("model = torch.nn.Linear(3, 1)", ["promote:model"]),
        ("out = model(X)", ["promote:train"]),
    ]
    result = api.promote(write_notebook(tmp_path / "noeval.ipynb", cells), tmp_path / "out")
    assert result.ok and [d.code for d in result.diagnostics] == ["PRM012"]
    done = run_in_project(tmp_path / "out", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-2000:]


KITCHEN_SINK = [
    "import functools\nimport math\nfrom dataclasses import dataclass\nfrom pathlib import Path",
    ("SIZE = 4\nNAMES = ['a', 'b']\nCONFIG = {'depth': 2, 'rate': 1e-3}\nVERBOSE = False", ["parameters"]),
    (
        "@dataclass\nclass Item:\n    name: str\n    weight: float = 1.0\n\n"
        "@functools.lru_cache(maxsize=None)\ndef square(v):\n    return v * v\n\n"
        "items = [Item(n, square(i)) for i, n in enumerate(NAMES)]\n"
        "if (total := sum(i.weight for i in items)) > 0:\n    share = {i.name: i.weight / total for i in items}\n"
        "try:\n    Path('nothing-here').read_text()\nexcept FileNotFoundError as missing:\n    reason = str(missing)\n"
        "match CONFIG:\n    case {'depth': depth}:\n        levels = list(range(depth))\n    case _:\n        levels = []\n"
        "scale = lambda v, k=SIZE: v * k\n"
        "del square",
        ["promote:data"],
    ),
    (
        "%%time\nweights = [scale(i.weight) for i in items]\n!echo promoted\nresult = math.fsum(weights) + len(levels)",
        ["promote:train"],
    ),
    ('score = f"{result:.2f}"\nvalue = float(score)', ["promote:evaluate"]),
]


def test_kitchen_sink_python_promotes_to_valid_black_clean_code(tmp_path, git_identity):
    notebook = write_notebook(tmp_path / "sink.ipynb", KITCHEN_SINK)
    result = api.promote(notebook, tmp_path / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    assert lint_problems(tmp_path / "out") == []
    done = run_in_project(tmp_path / "out", "-m", "sink", "run", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(tmp_path / "out")["value"] == pytest.approx(6.0)  # weights 0 and 1, scaled by 4, two levels


def test_a_builtin_name_the_notebook_rebinds_is_its_value_in_every_later_step(tmp_path, git_identity):
    """``input = ...`` (PyTorch's own examples), a parameter ``id``: the steps after the binding read the notebook's
    value, handed on like any other; a ``max(...)`` above a later ``max = ...`` stays the builtin."""
    cells = [
        ("id = 3\nscale = 2.0", ["parameters"]),
        ("top = max([1.0, 4.0])\ninput = [1.0, 2.0, 3.0]", ["promote:data"]),
        ("def weigh(values):\n    return sum(values) * id", ["promote:functions"]),
        ("w = weigh(input) * scale + top", ["promote:train"]),
        ("max = 10\nvalue = float(w) + max", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "shadow.ipynb", cells), output)
    assert result.ok and not [d for d in result.plan.all_diagnostics if d.severity.value != "info"]
    done = run_in_project(output, "-m", "shadow", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["value"] == pytest.approx((1.0 + 2.0 + 3.0) * 3 * 2.0 + 4.0 + 10)
    assert lint_problems(output) == []


def test_names_bound_by_a_walrus_an_except_clause_or_a_match_pattern_reach_the_next_step(tmp_path, git_identity):
    """``(n := len(xs))`` is no display to drop; ``except E as err`` binds err for its handler alone; a mapping
    pattern's ``**rest`` and captures are bound like assignments."""
    data = (
        "xs = [1.0, 2.0]\n(n := len(xs))\n"
        "try:\n    import not_installed_anywhere\nexcept ImportError as err:\n    why = str(err)\n"
        "match {'a': 3.0, 'b': 4.0}:\n    case {'a': a, **others}:\n        extra = a + len(others)"
    )
    cells = [
        ("scale = 2.0", ["parameters"]),
        (data, ["promote:data"]),
        ("w = sum(xs) * n * scale + extra", ["promote:train"]),
        ("value = float(w)", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "bindings.ipynb", cells), output)
    assert result.ok and not [d for d in result.plan.all_diagnostics if d.severity.value != "info"]
    done = run_in_project(output, "-m", "bindings", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["value"] == pytest.approx(3.0 * 2 * 2.0 + 4.0)


def _run_as_notebook(cells: list[tuple[str, list[str]]]) -> dict:
    """The notebook's own run: every cell in order in one namespace."""
    namespace: dict = {}
    for source, _ in cells:
        exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 - the test's own notebook
    return namespace


def test_the_package_computes_what_the_notebook_computed_where_names_are_rebound(tmp_path, git_identity):
    """Found by running random notebooks both ways: a parameter changed in place then read again by its step (it
    was asked of the step as its own input), a function that reads a name its step rebinds after calling it (the
    closure saw an unbound local), ``(n := n + 1)`` (read before bound)."""
    cells = [
        ("scale = 2.0\nsizes = [1.0, 2.0]", ["parameters"]),
        ("sizes.append(3.0)\ntotal = sum(sizes)\nb = 4.0", ["promote:data"]),
        ("def g(v):\n    return v + b\nb = g(total)\n(n := b + 1)\n(n := n * scale)", ["promote:train"]),
        ("score = float(n + len(sizes))", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "rebound.ipynb", cells), output).ok
    done = run_in_project(output, "-m", "rebound", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["score"] == _run_as_notebook(cells)["score"] == ((6.0 + 4.0) + 1) * 2.0 + 3


def test_a_name_both_imported_and_assigned_is_the_value_the_notebook_had_there(tmp_path, git_identity):
    """``math = 1.5`` in a cell, ``import math`` in another: a function reading math is no import-only helper to
    move to a module of its own, and a step that reads the handed-in math before rebinding it reads its argument,
    not the import."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        ("math = 1.5\nclass Scaler:\n    def apply(self, v):\n        return v * math", ["promote:data"]),
        ("n = Scaler().apply(math * scale)\nmath = n + 1", ["promote:train"]),
        ("score = float(math)", ["promote:evaluate"]),
        ("import math", ["promote:skip"]),
    ]
    output = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "both.ipynb", cells), output).ok
    done = run_in_project(output, "-m", "both", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["score"] == _run_as_notebook(cells)["score"] == 1.5 * 2.0 * 1.5 + 1


def test_steps_see_the_changes_definitions_and_imports_the_notebook_had_where_they_run(tmp_path, git_identity):
    """Found by running random notebooks both ways: a change in place below a reader in another step (the reader's
    step ran after it), a helper a step reads from a later step's cell while an untagged cell below redefines it (the
    untagged one was pulled in), and ``import math`` after ``math = 1.5`` (the import went to the module's top,
    under the assignment, and a later step was handed the float)."""
    cells = [
        ("scale = 2.0\nsizes = [1.0, 2.0]", ["parameters"]),
        ("base = scale * 2", ["promote:data"]),
        ("weight = sum(sizes) + base", ["promote:model"]),
        ("sizes[0] = 10.0", ["promote:data"]),
        ("def helper(v):\n    return v + scale", ["step:prep"]),
        ("early = helper(1.0)", ["promote:data"]),
        ("prepped = early + 1.0", ["step:prep"]),
        ("math = 1.5\nm = math * scale\nimport math\nm = m + math.sqrt(4.0)", ["promote:preprocess"]),
        ("def helper(v):\n    return v * 100", []),
        ("late = helper(prepped)", ["promote:train"]),
        ("score = float(weight + late + m + math.floor(sum(sizes)))", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "seen", cells) == _run_as_notebook(cells)["score"] == 7.0 + 400.0 + 5.0 + 12


def test_steps_see_changes_made_through_an_alias_or_a_function_and_the_list_a_loop_reads(tmp_path, git_identity):
    """Found by running random notebooks both ways: ``alias = sizes; alias.append(v)``, ``record(v)`` (a def that
    appends to the global) and ``grow(sizes)`` (a def that appends to its parameter) change ``sizes``, so the model
    cell reads three items, not two or four (the steps ran in pipeline order); ``for b in [b * 2]`` reads b before
    binding it (it was not handed in)."""
    cells = [
        ("scale = 2.0\nsizes = [1.0, 2.0]", ["parameters"]),
        ("alias = sizes\nalias.append(4.0)", ["promote:train"]),
        ("n = float(len(sizes))", ["promote:model"]),
        ("def record(v):\n    sizes.append(v)\nrecord(0.5)", ["promote:train"]),
        ("def grow(seq):\n    seq.append(scale)\ngrow(sizes)", ["promote:data"]),
        ("b = sum(sizes)", ["promote:preprocess"]),
        ("for b in [b * 2]:\n    pass", ["step:extra"]),
        ("score = n + b + len(sizes)", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "indirect", cells) == _run_as_notebook(cells)["score"] == 3.0 + 19.0 + 5


def test_a_stage_run_alone_sees_changes_made_through_what_holds_the_object(tmp_path, git_identity):
    """A dict of models fitted in a loop, a list changed through a tuple holding it, an instance of the notebook's
    class that keeps the list: the train step hands on the objects it changed under other names, saved together
    where they may be one object, so each stage run alone (as ``dvc repro`` runs them) computes the notebook's
    score (was the model step's unfitted model in the evaluate stage, and the train stage fitting a copy)."""
    model = (
        "class Mean:\n    def __init__(self):\n        self.w = 0.0\n    def fit(self, xs):\n        self.w = sum(xs)"
    )
    keeper = "class Keeper:\n    def __init__(self, seq):\n        self.seq = seq\n    def grow(self, v):\n        self.seq.append(v)"
    cells = [
        ("scale = 2.0\nsizes = [1.0, 2.0]", ["parameters"]),
        (model + "\n" + keeper, ["promote:functions"]),
        ("xs = [1.0, 2.0, 3.0]\npair = (xs, scale)\nkept = [1.0, 2.0]\nkeeper = Keeper(kept)", ["promote:data"]),
        ("small = Mean()\nlarge = Mean()\nmodels = {'small': small, 'large': large}", ["promote:model"]),
        ("pair[0].append(4.0)\nkeeper.grow(5.0)\nfor name, m in models.items():\n    m.fit(xs)", ["promote:train"]),
        ("score = large.w * scale + sum(kept) + models['small'].w", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "held", cells) == expected == 20.0 + 8.0 + 10.0
    assert _score_stage_by_stage(tmp_path, "held", ("data", "model", "train", "evaluate")) == expected


def test_a_dataloader_yields_what_a_later_step_changed_in_its_dataset_when_stages_run_alone(tmp_path, git_identity):
    """``DataLoader(TensorDataset(X, y))`` keeps ``X`` and ``y`` themselves: centring them in place in a later step
    changes what the loader yields. Stage by stage the train stage loaded the data stage's loader, a copy holding the
    raw tensors, and trained on them (0.0047 against the notebook's 0.0393). A loop over a loader still takes fresh
    batches: moving a batch to a device changes neither the loader nor the dataset."""
    cells = [
        ("import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset", []),
        ("seed = 0\nlr = 0.01", ["parameters"]),
        (
            "torch.manual_seed(seed)\nX = torch.randn(64, 3) * 5 + 3\ny = X.sum(1, keepdim=True)\n"
            "loader = DataLoader(TensorDataset(X, y), batch_size=16)",
            ["promote:data"],
        ),
        ("X -= X.mean(0)\ny -= y.mean(0)", ["promote:preprocess"]),
        ("model = nn.Linear(3, 1)\noptimizer = torch.optim.SGD(model.parameters(), lr=lr)", ["promote:model"]),
        (
            "for _ in range(5):\n    for xb, yb in loader:\n        optimizer.zero_grad()\n"
            "        loss = ((model(xb) - yb) ** 2).mean()\n        loss.backward()\n        optimizer.step()",
            ["promote:train"],
        ),
        ("with torch.no_grad():\n    score = round(float(((model(X) - y) ** 2).mean()), 6)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "centred", cells) == expected
    stages = ("data", "preprocess", "model", "train", "evaluate")
    assert _score_stage_by_stage(tmp_path, "centred", stages) == expected


def test_the_parts_random_split_made_see_a_change_made_through_either_when_stages_run_alone(tmp_path, git_identity):
    """``train_ds, val_ds = random_split(full, ...)`` hold one dataset; setting a transform through one part
    (``train_ds.dataset.transform = ...``, the well-known way it leaks into the validation part) changes what the
    other yields. Neither part was bound to the other, so the change reached ``full`` but not ``val_ds``, the parts
    were saved apart, and stage by stage the evaluate stage read untransformed items (-7.02 against -14.04)."""
    dataset = (
        "class Points(Dataset):\n    def __init__(self, X, y):\n        self.X, self.y, self.transform = X, y, None\n\n"
        "    def __len__(self):\n        return len(self.X)\n\n    def __getitem__(self, i):\n        x = self.X[i]\n"
        "        return (self.transform(x) if self.transform else x), self.y[i]"
    )
    split = "train_ds, val_ds = random_split(full, [48, 16], generator=torch.Generator().manual_seed(seed))"
    cells = [
        ("import torch\nfrom torch.utils.data import Dataset, random_split", []),
        ("seed = 0\nscale = 2.0", ["parameters"]),
        (dataset, ["promote:functions"]),
        (
            "torch.manual_seed(seed)\nX = torch.randn(64, 3)\ny = X.sum(1)\nfull = Points(X, y)\n" + split,
            ["promote:data"],
        ),
        ("train_ds.dataset.transform = lambda x: x * scale", ["promote:preprocess"]),
        ("model = torch.nn.Linear(3, 1)", ["promote:model"]),
        ("score = round(float(sum(float(x.sum()) for x, _ in val_ds)), 4)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "parts", cells) == expected
    assert _score_stage_by_stage(tmp_path, "parts", ("data", "preprocess", "model", "evaluate")) == expected


def test_a_name_changed_only_by_augmented_assignment_is_saved_together_with_its_holder(tmp_path, git_identity):
    """``sizes += [v]`` changes the list ``pair`` holds, in place, but binds ``sizes`` too, so ``sizes`` was left
    out of the names whose changes make two names one object on disk: the steps saved ``sizes`` and ``pair``
    apart, and stage by stage a second ``+=`` reached one copy (12.0 against the notebook's 14.0)."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        ("sizes = [1.0, 2.0]\npair = (sizes, 1.0)", ["promote:data"]),
        ("sizes += [scale]", ["promote:preprocess"]),
        ("sizes += [5.0]", ["promote:model"]),
        ("score = float(sum(sizes) + len(pair[0]))", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "augmented", cells) == expected == 14.0
    assert _score_stage_by_stage(tmp_path, "augmented", ("data", "preprocess", "model", "evaluate")) == expected


def test_a_change_reaches_a_container_filled_after_it_was_put_into_another(tmp_path, git_identity):
    """``outer = [inner]``, then ``inner["k"] = sizes``: outer holds sizes now, through inner. The links between names
    were one hop: a change of ``sizes`` reached ``inner`` only, so stage by stage the evaluate stage loaded ``outer``
    as the step that filled ``inner`` saved it, before the change (1.0 against the notebook's 3.0)."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        ("inner = {}\nouter = [inner]\nsizes = [1.0]", ["promote:data"]),
        ("inner['k'] = sizes", ["promote:preprocess"]),
        ("sizes.append(scale)", ["promote:model"]),
        ("score = float(sum(outer[0]['k']))", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "nested", cells) == expected == 3.0
    assert _score_stage_by_stage(tmp_path, "nested", ("data", "preprocess", "model", "evaluate")) == expected


@pytest.mark.parametrize(
    "definition",
    [
        "def late(v):\n    return v * lr",
        "late = lambda v: v * lr",
        "def rate():\n    return lr\ndef late(v):\n    return v * rate()",  # through another of its functions
    ],
)
def test_a_function_defined_above_reads_the_global_a_later_step_rebound_when_that_step_calls_it(
    tmp_path, git_identity, definition
):
    """In the notebook ``late`` reads ``lr`` when it runs, so the call below ``lr = 0.5`` reads 0.5. In the package
    ``late``, defined in the model step and handed on, closed over the model step's ``lr`` and kept reading 0.1, and
    nothing said so (3.0 against the notebook's 15.0). The train step now repeats the definition (PRM048)."""
    cells = [
        ("n = 30.0", ["parameters"]),
        (f"lr = 0.1\n{definition}\nfirst = late(n)", ["promote:model"]),
        ("lr = 0.5\nsecond = late(n)", ["promote:train"]),
        ("score = first + second", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "late", cells) == expected == 18.0
    assert _score_stage_by_stage(tmp_path, "late", ("model", "train", "evaluate")) == expected


def test_a_definition_moved_to_an_earlier_step_is_the_last_one_above_the_reader(tmp_path, git_identity):
    """A cell of a step that runs later (train) defines ``f`` twice, a def and then a lambda; the data step below it
    calls ``f``. The definition moved to the data step was the cell's first (the def: 4.0 against the notebook's
    30.0): two definitions in one cell compared as equal, and a lambda was no definition that could move."""
    cells = [
        ("n = 3.0", ["parameters"]),
        ("def f(v):\n    return v + 1.0\nf = lambda v: v * 10.0", ["promote:train"]),
        ("x = f(n)", ["promote:data"]),
        ("score = float(x)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "last_above", cells) == expected == 30.0


@pytest.mark.parametrize("first", ["promote:preprocess", "promote:data"])
def test_a_def_another_step_makes_between_two_cells_of_a_step_is_the_one_the_second_calls(
    tmp_path, git_identity, first
):
    """``def f`` in a preprocess (or data) cell, ``def f`` again in a train cell below it, then a preprocess cell
    calling ``f``: the notebook's call uses the train cell's. The steps are ordered by what a definition reads, not
    where it is (a definition moves to the step that first uses it), so the preprocess step used the first (10.0
    against the notebook's 20.0; a variable or a lambda in its place was already ordered right)."""
    cells = [
        ("n = 10.0", ["parameters"]),
        ("def f(v):\n    return v * 1.0", [first]),
        ("def f(v):\n    return v * 2.0", ["promote:train"]),
        ("b = f(n)", ["promote:preprocess"]),
        ("score = float(b + f(1.0))", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "between", cells) == expected == 22.0
    stages = ("data",) * (first == "promote:data") + ("preprocess", "train", "evaluate")
    assert _score_stage_by_stage(tmp_path, "between", stages) == expected


@pytest.mark.parametrize("earlier", [[], ["promote:data"]], ids=["untagged", "another-step"])
def test_a_definition_moved_to_a_step_that_runs_first_is_not_what_a_call_above_it_reads(
    tmp_path, git_identity, earlier
):
    """``helper`` is defined in a cell (untagged, or of the data step), called by a prep cell, defined again below in
    a cell the model step calls it from. The second definition moves to the model step, which runs before prep and
    handed prep its ``helper``: the prep call used the definition below it (27.0 against the notebook's 18.0, found
    by the differential campaign, seed 7140). The prep call now reads the definition above it."""
    cells = [
        ("n = 1.0", ["parameters"]),
        ("b = 5.0", ["promote:model"]),
        ("def helper(v):\n    return v + b", earlier),
        ("x = helper(n)", ["step:prep"]),
        ("def helper(v):\n    return v * 100.0", []),
        ("y = helper(n)", ["promote:model"]),
        ("score = float(x + y)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "moved_first", cells) == expected == 106.0
    stages = ("data",) * bool(earlier) + ("model", "prep", "evaluate")
    assert _score_stage_by_stage(tmp_path, "moved_first", stages) == expected


@pytest.mark.parametrize(
    ("made", "changed", "used"),
    [
        # a default the calls fill: each call is a change of the function
        ("def acc(v, seen=[]):\n    seen.append(v)\n    return float(len(seen))", "a = acc(1.0)", "acc(2.0) + a"),
        # a class attribute a later step sets, read by a def when called
        ("class Config:\n    rate = 1.0\ndef rated(v):\n    return v * Config.rate", "Config.rate = 3.0", "rated(2.0)"),
        # a class whose constructor counts its instances
        (
            "class Counter:\n    made = 0\n    def __init__(self):\n        Counter.made += 1",
            "c = Counter()",
            "Counter.made",
        ),
        # a partial holding a list a later step fills
        (
            "import functools\nbase = [1.0]\nadd = functools.partial(lambda xs, v: sum(xs) + v, base)",
            "base.append(10.0)",
            "add(1.0)",
        ),
        # an instance made before a later step changes the class its method reads
        (
            "class Config:\n    rate = 1.0\nclass M:\n    def go(self, v):\n        return v * Config.rate\nm = M()",
            "Config.rate = 3.0",
            "m.go(2.0)",
        ),
    ],
    ids=["default", "class-attribute", "class-counter", "partial", "instance-of-a-class-reading-it"],
)
def test_a_definition_a_later_step_changes_is_changed_for_the_stages_after_it(
    tmp_path, git_identity, made, changed, used
):
    """Each stage runs in a process of its own and loads what it is handed from the stage that last changed it. These
    definitions were hoisted to module level (each stage imported them as written: the change was lost) or handed on
    from the step that made them (the calls or the list changed later were not theirs): run stage by stage, the
    package computed the value before the change (the default: 11.0 against 21.0)."""
    cells = [
        ("n = 1.0", ["parameters"]),
        (made, ["promote:data"]),
        (changed, ["promote:preprocess"]),
        (f"x = float({used})", ["promote:train"]),
        ("score = x * n", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "changed", cells) == expected
    assert _score_stage_by_stage(tmp_path, "changed", ("data", "preprocess", "train", "evaluate")) == expected


def test_code_an_object_holds_that_reads_a_global_rebound_since_is_a_warning_where_the_object_is_used(tmp_path):
    """A dict holding a lambda, an instance of the notebook's class whose method reads a global, a list holding a
    def, a closure a def returned, a generator, and the class itself (an instance made after the change still runs
    the old methods): made in one step, used in a later one after that global was rebound. Only a new object could
    read the new value, so each use is a warning (PRM049) naming what is read (the package computed 2.0 where the
    notebook computed 7.0, silently); an object whose code reads nothing rebound says nothing."""
    cells = [
        ("n = 1.0", ["parameters"]),
        (
            "k = 2.0\nops = {'f': lambda v: v * k}\n"
            "class Scaler:\n    def go(self, v):\n        return v * k\nscaler = Scaler()\n"
            "def report(v):\n    return v + k\nhandlers = [report]\n"
            "def make():\n    return lambda v: v * k\nmade = make()\n"
            "def gen():\n    yield k\nlazy = gen()\n"
            "steady = {'f': lambda v: v * n}",
            ["promote:data"],
        ),
        ("k = 7.0", ["promote:preprocess"]),
        (
            "x = ops['f'](1.0) + scaler.go(1.0) + handlers[0](1.0) + steady['f'](1.0) + made(1.0) + next(lazy)"
            "\nlater = Scaler().go(1.0)",
            ["promote:train"],
        ),
        ("score = x", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "held.ipynb", cells))
    warned = {d.message.split("'")[1]: d.message for d in plan.all_diagnostics if d.code == "PRM049"}
    assert sorted(warned) == ["Scaler", "handlers", "lazy", "made", "ops", "scaler"]
    assert "holds a lambda that reads k" in warned["ops"] and "holds Scaler, which reads k" in warned["scaler"]
    assert "holds report, which reads k" in warned["handlers"] and all(
        d.cell_index == 3 for d in plan.all_diagnostics if d.code == "PRM049"
    )


@pytest.mark.parametrize(
    ("made", "filled"),
    [
        (
            "registry = {}\ndef register(f):\n    registry[f.__name__] = f\n    return f",
            "@register\ndef f(v):\n    return v * k",
        ),
        ("registry = []\ndef f(v):\n    return v * k", "registry.append(f)"),
        ("registry = {}\ndef f(v):\n    return v * k", "registry['f'] = f"),
        ("registry = []", "registry.append(lambda v: v * k)"),
    ],
    ids=["decorator", "append", "item", "lambda"],
)
def test_a_registry_filled_after_it_is_made_warns_when_its_code_reads_a_global_rebound_since(
    tmp_path, git_identity, made, filled
):
    """A registry made in the data step and filled by a later step (a decorator registering a def, ``append``, an
    item, a lambda), then called after ``k`` was rebound: in the notebook the call reads the new ``k``, in the
    package the code the registry holds keeps the old one (2.0 against 10.0). Only the object's own statement was
    looked at, so nothing was said; now it is PRM049, naming what is read. The decorator's registration is a change
    of the registry too: stage by stage, the evaluate stage loads the registry the preprocess stage filled."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (f"k = 1.0\n{made}", ["promote:data"]),
        (filled, ["promote:preprocess"]),
        ("k = 5.0", ["promote:train"]),
        ("first = next(iter(registry.values())) if isinstance(registry, dict) else registry[0]", ["step:extra"]),
        ("score = float(first(n))", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "registry.ipynb", cells))
    warned = [d for d in plan.all_diagnostics if d.code == "PRM049"]
    assert [d.message.split("'")[1] for d in warned] == ["registry"] and warned[0].cell_index == 4
    assert "reads k when called, rebound since" in warned[0].message
    assert _run_as_notebook(cells)["score"] == 10.0
    assert _promoted_score(tmp_path, "registry", cells) == 2.0  # the warned difference, nothing else
    stages = ("data", "preprocess", "train", "extra", "evaluate")
    assert _score_stage_by_stage(tmp_path, "registry", stages) == 2.0


@pytest.mark.parametrize(
    ("made", "changed", "read"),
    [
        ("import numpy as np\nX = np.ones(4)\nhead = X[:2]", "X += n", "head.sum()"),
        ("import numpy as np\nX = np.ones((2, 2))\ncolumn = X.T[0]", "X *= n", "column.sum()"),
        ("import numpy as np\nimport torch\nX_np = np.ones(4)\nX = torch.from_numpy(X_np)", "X_np *= n", "X.sum()"),
        ("import torch\nX = torch.ones(4)\nX_np = X.numpy()", "X.mul_(n)", "X_np.sum()"),
        ("d = {'a': 1.0}\nkeys = d.keys()", "d['b'] = n", "len(keys)"),
        (
            "import numpy as np\nX = np.ones(4, dtype=[('a', 'f8'), ('b', 'i4')])\nhead = X[:2]",
            "X['a'] += n",
            "head['a'].sum()",
        ),
    ],
    ids=["numpy-slice", "numpy-transposed", "torch-from-numpy", "tensor-numpy", "dict-keys", "numpy-structured"],
)
def test_a_view_of_an_array_a_later_step_changes_in_place_sees_the_change_when_stages_run_alone(
    tmp_path, git_identity, made, changed, read
):
    """``head = X[:2]`` (or ``torch.from_numpy(X_np)``, ``X.numpy()``) in the data step, ``X`` changed in place by
    the preprocess step, ``head`` read by the evaluate step. The full run was right; stage by stage, the data stage
    saved ``X`` and ``head`` together, but pickled, a view is a copy: the preprocess stage changed its ``X`` only,
    and the evaluate stage read the old ``head`` (2.0 against the notebook's 6.0; ``keys()`` and a tensor's or an
    array's view methods linked nothing either). The stage now saves a view as its recipe over its owner's memory."""
    cells = [
        ("n = 3.0", ["parameters"]),
        (made, ["promote:data"]),
        (changed, ["promote:preprocess"]),
        (f"score = float({read})", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "views", cells) == expected
    assert _score_stage_by_stage(tmp_path, "views", ("data", "preprocess", "evaluate")) == expected


@pytest.mark.parametrize(
    ("block", "call"),
    [
        ("try:\n    def h(v):\n        return v * k\nexcept ImportError:\n    pass", "h(n)"),
        ("if n > 1:\n    def h(v):\n        return v * k", "h(n)"),
        ("import contextlib\nwith contextlib.suppress(ImportError):\n    def h(v):\n        return v * k", "h(n)"),
        ("if n > 1:\n    class H:\n        def go(self, v):\n            return v * k", "H().go(n)"),
        ("fs = []\nfor i in range(2):\n    def h(v, i=i):\n        return v * k + i\n    fs.append(h)", "fs[1](n)"),
    ],
    ids=["try", "if", "with", "class-in-if", "for"],
)
def test_a_def_made_inside_a_block_reads_what_its_body_reads_from_other_steps(tmp_path, git_identity, block, call):
    """A def (or a class) made inside a ``try``, ``if``, ``with`` or ``for`` block of the preprocess step reads
    ``k``, bound by the data step, when called by the evaluate step. Only a top-level def's body counted as read,
    so the step was never handed ``k``: the promotion exited 0 and the package died with ``NameError: name 'k' is
    not defined`` (marked ``# noqa: F821`` in the generated module). The block's defs now read it when called."""
    cells = [
        ("n = 3.0", ["parameters"]),
        ("k = 2.0", ["promote:data"]),
        (block, ["promote:preprocess"]),
        (f"score = float({call})", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "block", cells) == expected
    assert _score_stage_by_stage(tmp_path, "block", ("data", "preprocess", "evaluate")) == expected


def test_a_def_made_inside_a_block_that_reads_a_global_rebound_since_is_a_warning(tmp_path):
    """``if …: def f(v): return v * k`` in the data step, ``k`` rebound by the train step, ``f`` called by the
    evaluate step: the package's ``f`` keeps the data step's ``k`` (2.0 against 10.0), and said nothing. The block is
    no definition to repeat, so the call is PRM049."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (
            "k = 1.0\nif n > 1:\n    def f(v):\n        return v * k\nelse:\n    def f(v):\n        return v",
            ["promote:data"],
        ),
        ("k = 5.0", ["promote:train"]),
        ("score = float(f(n))", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "block.ipynb", cells))
    warned = [d for d in plan.all_diagnostics if d.code == "PRM049"]
    assert (
        len(warned) == 1 and warned[0].cell_index == 3 and "the f its block defines, which reads k" in warned[0].message
    )


@pytest.mark.parametrize(
    ("setting", "read"),
    [
        ("%env MY_FACTOR=3", "import os\nf = float(os.environ['MY_FACTOR'])"),
        ("import sys\nsys.setrecursionlimit(5000)", "import sys\nf = sys.getrecursionlimit() / 1000"),
        (
            "import decimal\ndecimal.getcontext().prec = 5",
            "import decimal\nf = float(len(str(decimal.Decimal(1) / decimal.Decimal(7))) - 2)",
        ),
    ],
    ids=["env-magic", "recursion-limit", "decimal-context"],
)
def test_a_process_setting_one_step_makes_holds_in_every_later_stage(tmp_path, git_identity, setting, read):
    """``%env MY_FACTOR=3`` in the data cell was dropped ("no meaning outside IPython"): the preprocess step died
    with KeyError. ``sys.setrecursionlimit`` was no process setting: a stage run alone read 1000; nor was
    ``decimal.getcontext().prec = 5`` (the settings object a module hands back, changed in place: 28 digits). Each is
    made again before every later stage, as the notebook's kernel still held them."""
    cells = [("n = 2.0", ["parameters"]), (setting, ["promote:data"]), (read, ["promote:preprocess"])]
    cells.append(("score = f * n", ["promote:evaluate"]))
    expected = 6.0 if "env" in setting else 10.0
    assert _promoted_score(tmp_path, "setting", cells) == expected
    assert _score_stage_by_stage(tmp_path, "setting", ("data", "preprocess", "evaluate")) == expected


def test_a_class_a_later_step_changes_through_an_attribute_s_method_stays_in_its_step(tmp_path, git_identity):
    """``class Registry: items = []`` in the data step, ``Registry.items.append(n)`` in the preprocess step: the
    class read only imports, so it went to module level, where each stage run alone imports it unchanged (0.0
    against the notebook's 2.0). A call of a part's method changes the class as a store through it does; PRM005
    says why it stays in the step."""
    cells = [
        ("n = 2.0", ["parameters"]),
        ("class Registry:\n    items = []", ["promote:data"]),
        ("Registry.items.append(n)", ["promote:preprocess"]),
        ("score = float(sum(Registry.items))", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "registry.ipynb", cells))
    [kept] = [d for d in plan.all_diagnostics if d.code == "PRM005"]
    assert "is changed by the notebook after it is defined" in kept.message
    assert _promoted_score(tmp_path, "registry", cells) == 2.0
    assert _score_stage_by_stage(tmp_path, "registry", ("data", "preprocess", "evaluate")) == 2.0


@pytest.mark.parametrize(
    ("parameters", "written", "read"),
    [
        (
            "n = 2.0",
            "import os\nout_dir = 'results'\nos.makedirs(out_dir, exist_ok=True)\n"
            "open(os.path.join(out_dir, 'v.txt'), 'w').write(str(n))",
            "score = float(open(os.path.join(out_dir, 'v.txt')).read())",
        ),
        (
            "n = 2.0\nOUTPUT_DIR = 'results'",
            "import os\nos.makedirs(OUTPUT_DIR, exist_ok=True)\nopen(f'{OUTPUT_DIR}/v.txt', 'w').write(str(n))",
            "score = float(open(f'{OUTPUT_DIR}/v.txt').read())",
        ),
        (
            "n = 2.0\nOUTPUT_DIR = 'results'",
            "from pathlib import Path\nPath(OUTPUT_DIR).mkdir(exist_ok=True)\n(Path(OUTPUT_DIR) / 'v.txt').write_text(str(n))",
            "import os\nscore = float(open(os.path.join(OUTPUT_DIR, 'v.txt')).read())",
        ),
    ],
    ids=["variable", "parameter-f-string", "parameter-pathlib"],
)
def test_a_folder_a_name_holds_is_written_under_the_artifacts_directory(
    tmp_path, git_identity, parameters, written, read
):
    """``out_dir = 'results'`` (or a parameter ``OUTPUT_DIR = 'results'``), then ``os.makedirs(out_dir)`` and a file
    written into it: a folder name is no file-like literal, so nothing anchored it, and the package wrote
    ``results/`` into the project's root, outside its artifacts directory. The folder a name holds is anchored as a
    written literal is; a parameter read only as a path is joined to ``cfg.artifacts_dir`` where a step reads it."""
    cells = [(parameters, ["parameters"]), (written, ["promote:train"]), (read, ["promote:evaluate"])]
    assert _promoted_score(tmp_path, "folders", cells) == 2.0
    assert _score_stage_by_stage(tmp_path, "folders", ("train", "evaluate")) == 2.0
    output = tmp_path / "out"
    assert (output / "artifacts" / "results" / "v.txt").is_file() and not (output / "results").exists()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (
            "print(MODEL_NAME)\nopen(f'{MODEL_NAME}.txt', 'w').write(str(n))",
            "score = float(open(f'{MODEL_NAME}.txt').read())",
        ),
        (
            "print(MODEL_NAME)\nopen(MODEL_NAME + '.txt', 'w').write(str(n))",
            "score = float(open(MODEL_NAME + '.txt').read())",
        ),
        ("path = f'{MODEL_NAME}_best.txt'\nopen(path, 'w').write(str(n))", "score = float(open(path).read())"),
        ("for k in ['a', 'mlp']:\n    open(f'{k}.txt', 'w').write(str(n))", "score = float(open(f'{k}.txt').read())"),
    ],
    ids=["f-string", "concatenation", "through-a-name", "loop-variable"],
)
def test_a_file_named_by_a_value_is_written_under_the_artifacts_directory(tmp_path, git_identity, written, read):
    """``torch.save(state, f"{MODEL_NAME}.pt")`` with ``MODEL_NAME`` also read as a value: the file's name starts
    with a value, so it has no literal to anchor, and the package wrote ``mlp.pt`` into the project's root. The
    steps' path expression is joined to the artifacts directory where they write it and where they read it back."""
    cells = [
        ("n = 2.0\nMODEL_NAME = 'mlp'", ["parameters"]),
        (written, ["promote:train"]),
        (read, ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "named", cells) == 2.0
    assert _score_stage_by_stage(tmp_path, "named", ("train", "evaluate")) == 2.0
    output = tmp_path / "out"
    assert not list(output.glob("*.txt")) and list((output / "artifacts").glob("mlp*.txt"))


def test_a_file_named_by_a_constant_and_only_read_is_read_beside_the_notebook(tmp_path, git_identity):
    """``open(f"{SPLIT}.csv")`` with ``SPLIT = "train"``: the notebook read ``train.csv`` from its own folder; the
    package, run from its project, died with FileNotFoundError after exit 0. It reads it from the notebook's folder,
    as it reads a literal path there."""
    (tmp_path / "train.csv").write_text("2.0\n")
    cells = [
        ("SPLIT = 'train'", ["parameters"]),
        ("v = float(open(f'{SPLIT}.csv').read())", ["promote:data"]),
        ("score = v", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "split", cells) == 2.0
    assert 'os.path.join(cfg.notebook_dir, f"{SPLIT}.csv")' in (tmp_path / "out/src/split/pipeline.py").read_text()


@pytest.mark.parametrize(
    ("data", "evaluate"),
    [
        ("import os\nbase = os.getcwd()\nv = float(open(os.path.join(base, 'in.txt')).read())", "score = v * n"),
        ("from pathlib import Path\nv = float((Path.cwd() / 'in.txt').read_text())", "score = v * n"),
        ("import glob\nfiles = sorted(glob.glob('*.txt'))\nv = float(open(files[0]).read())", "score = v * n"),
        (
            "import os\nbase = os.path.abspath('')\nv = float(open(os.path.join(base, 'in.txt')).read())",
            "score = v * n",
        ),
        ("import os\nbase = os.path.realpath('.')\nv = float(open(base + '/in.txt').read())", "score = v * n"),
        (
            "from pathlib import Path\nbase = Path('.').resolve()\nv = float((base / 'in.txt').read_text())",
            "score = v * n",
        ),
        ("from pathlib import Path\nv = float((Path().absolute() / 'in.txt').read_text())", "score = v * n"),
        (
            "import os\nout = os.path.join(os.getcwd(), 'results')\nos.makedirs(out, exist_ok=True)\n"
            "open(os.path.join(out, 'v.txt'), 'w').write(str(3.0 * n))",
            "score = float(open(os.path.join(out, 'v.txt')).read())",
        ),
    ],
    ids=[
        "getcwd-read",
        "path-cwd-read",
        "glob-pattern-read",
        "abspath-empty",
        "realpath-dot",
        "path-resolve",
        "path-absolute",
        "getcwd-written",
    ],
)
def test_the_working_folder_is_the_notebook_s_folder_or_the_artifacts_directory(tmp_path, git_identity, data, evaluate):
    """``os.getcwd()``, ``Path.cwd()``, ``glob.glob('*.txt')``, ``os.path.abspath('')`` (a notebook's stand-in for
    ``__file__``) and ``Path('.').resolve()`` named the notebook's folder in the notebook; in the package they named
    wherever it ran (exit 0, FileNotFoundError, or an empty list). They are the folder ``"."``
    names: the notebook's folder for what the steps read, the artifacts directory where they write."""
    (tmp_path / "in.txt").write_text("3.0\n")
    cells = [("n = 2.0", ["parameters"]), (data, ["promote:data"]), (evaluate, ["promote:evaluate"])]
    assert _promoted_score(tmp_path, "cwd", cells) == 6.0
    assert _score_stage_by_stage(tmp_path, "cwd", ("data", "evaluate")) == 6.0
    assert not (tmp_path / "out" / "results").exists()


@pytest.mark.parametrize(
    "data",
    [
        "from pathlib import Path\nfiles = sorted(Path('data').glob('*.txt'))\nv = float(files[0].read_text())",
        "from pathlib import Path\nfiles = sorted(Path('data').rglob('*.txt'))\nv = float(files[0].read_text())",
        "from pathlib import Path\nfiles = sorted(Path('.').glob('data/*.txt'))\nv = float(files[0].read_text())",
        "from pathlib import Path\nfiles = sorted(Path().glob('data/*.txt'))\nv = float(files[0].read_text())",
        "from pathlib import Path\nfiles = sorted(p for p in Path('data').iterdir() if p.suffix == '.txt')\n"
        "v = float(files[0].read_text())",
        "import os\nfound = [os.path.join(d, f) for d, _, fs in os.walk('data') for f in fs]\nv = float(open(found[0]).read())",
        "import os\nentries = [e for e in os.scandir('data') if e.name.endswith('.txt')]\nv = float(open(entries[0].path).read())",
        "import os\nv = float(open('data/in.txt').read()) if os.path.isdir('data') else 0.0",
        "import os\nv = float(open('data/in.txt').read()) if os.path.exists('data/in.txt') else 0.0",
        "from pathlib import Path\nv = float(Path('data/in.txt').read_text('ascii'))",
    ],
    ids=["glob", "rglob", "dot-glob", "empty-path-glob", "iterdir", "walk", "scandir", "isdir", "exists", "encoding"],
)
def test_a_folder_the_steps_list_or_look_at_is_the_notebook_s_folder(tmp_path, git_identity, data):
    """``Path('data').glob('*.txt')``, ``os.walk('data')``, ``os.path.isdir('data')``: a listing or a look at a path
    was no read, so the package listed ``data/`` where it ran (exit 0, then IndexError, or 0.0 in place of the
    value). ``Path('.').glob('*.txt')`` was worse: its pattern's letters read as ``open``'s mode (``x``: a write), and
    so did ``read_text('ascii')``'s encoding. Each is a read of the folder it is given, in the notebook's folder."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("3.0\n")
    cells = [("n = 2.0", ["parameters"]), (data, ["promote:data"]), ("score = v * n", ["promote:evaluate"])]
    assert _promoted_score(tmp_path, "listing", cells) == 6.0
    assert _score_stage_by_stage(tmp_path, "listing", ("data", "evaluate")) == 6.0


@pytest.mark.parametrize(
    "clear",
    [
        "import shutil\nshutil.rmtree('outputs', ignore_errors=True)",
        "import os\nif os.path.isdir('outputs'):\n    for name in os.listdir('outputs'):\n        os.remove(os.path.join('outputs', name))\n    os.rmdir('outputs')",
    ],
    ids=["rmtree", "remove-and-rmdir"],
)
def test_a_folder_the_steps_delete_is_deleted_under_the_artifacts_directory(tmp_path, git_identity, clear):
    """``shutil.rmtree('outputs')`` before writing into ``outputs/``: the deletion was no write, so it deleted
    ``outputs/`` where the package ran (a folder of the user's in the project) while the writes went under
    artifacts/, and a second run stopped with FileExistsError. A deletion is a write: under artifacts/ too."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (
            clear + "\nimport os\nos.makedirs('outputs')\nopen('outputs/v.txt', 'w').write(str(3.0 * n))",
            ["promote:train"],
        ),
        ("score = float(open('outputs/v.txt').read())", ["promote:evaluate"]),
    ]
    mine = tmp_path / "out" / "outputs" / "keep.txt"
    assert _promoted_score(tmp_path, "clear", cells) == 6.0
    mine.parent.mkdir()
    mine.write_text("mine")
    done = run_in_project(tmp_path / "out", "-m", "clear", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert mine.read_text() == "mine" and metrics_of(tmp_path / "out")["score"] == 6.0


@pytest.mark.parametrize(
    "data",
    [
        "v = float(open('../data/in.txt').read())",
        "import os\nDATA = '../data'\nv = float(open(os.path.join(DATA, 'in.txt')).read())",
        "import pandas as pd\nv = float(pd.read_csv('../data/table.csv')['a'][0])",
        "from pathlib import Path\nv = float((Path('..') / 'data' / 'in.txt').read_text())",
        "v = float(open(f'../data/{NAME}').read())",
    ],
    ids=["literal", "through-a-name", "pandas", "path-parts", "f-string"],
)
def test_a_file_beside_the_notebook_s_folder_is_read_from_there(tmp_path, git_identity, data):
    """A notebook in ``notebooks/`` reading ``../data/in.txt`` (cookiecutter-data-science's layout): the ``..`` was
    dropped as a write's is, so the package looked for ``notebooks/data/in.txt`` (exit 0, FileNotFoundError). A read
    keeps its ``..``; a write still lands under artifacts/."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("3.0\n")
    (tmp_path / "data" / "table.csv").write_text("a\n3.0\n")
    (tmp_path / "notebooks").mkdir()
    cells = [
        ("n = 2.0\nNAME = 'in.txt'", ["parameters"]),
        (data, ["promote:data"]),
        ("score = v * n", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "notebooks" / "beside.ipynb", cells), output)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert lint_problems(output) == []
    done = run_in_project(output, "-m", "beside", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["score"] == 6.0


def test_a_folder_above_the_notebook_written_into_stays_under_the_artifacts_directory(tmp_path, git_identity):
    """``../models/v.txt`` written and read back: the write drops the ``..`` and lands under artifacts/, and the
    read that shares its root follows it there."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (
            "import os\nos.makedirs('../models', exist_ok=True)\nopen('../models/v.txt', 'w').write(str(3.0 * n))",
            ["promote:train"],
        ),
        ("score = float(open('../models/v.txt').read())", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "above", cells) == 6.0
    assert (tmp_path / "out" / "artifacts" / "models" / "v.txt").is_file()
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize(
    "data",
    [
        "import os\nnames = sorted(f for f in os.listdir() if f.endswith('.txt'))\n"
        "v = float(open(os.path.join('.', names[0])).read())",
        "import os\nnames = sorted(f for f in os.listdir('.') if f.endswith('.txt'))\n"
        "v = float(open(os.path.join('.', names[0])).read())",
    ],
    ids=["no-folder", "dot"],
)
def test_a_listing_of_the_working_folder_lists_the_notebook_s_folder_and_warns_of_bare_names(
    tmp_path, git_identity, data
):
    """``os.listdir()`` listed wherever the package ran (its project: no ``.txt`` there, IndexError after exit 0).
    It lists the notebook's folder, as ``"."`` names it; a name from it joined to ``"."`` is read there too. The
    names are bare, so PRM054 says that one opened as it is would be looked for where the package runs."""
    (tmp_path / "in.txt").write_text("3.0\n")
    cells = [("n = 2.0", ["parameters"]), (data, ["promote:data"]), ("score = v * n", ["promote:evaluate"])]
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "listed.ipynb", cells), output)
    assert result.ok
    assert [(d.code, d.line) for d in result.diagnostics if d.code == "PRM054"] == [("PRM054", 2)]
    done = run_in_project(output, "-m", "listed", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["score"] == 6.0


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (
            "for name in ['a.txt', 'v.txt']:\n    with open(name, 'w') as f:\n        f.write(str(3.0 * n))",
            "score = float(open('v.txt').read())",
        ),
        (
            "[open(name, 'w').write(str(3.0 * n)) for name in ('a.txt', 'v.txt')]",
            "score = float(open('v.txt').read())",
        ),
        (
            "import pandas as pd\npd.DataFrame({'a': [3.0 * n]}).to_csv('all.csv' if n > 5 else 'v.csv', index=False)",
            "import pandas as pd\nscore = float(pd.read_csv('v.csv')['a'][0])",
        ),
    ],
    ids=["loop-over-names", "comprehension-over-names", "conditional-name"],
)
def test_a_file_a_loop_or_a_condition_names_is_written_under_the_artifacts_directory(
    tmp_path, git_identity, written, read
):
    """``for name in ['a.txt', 'v.txt']: open(name, 'w')`` and ``to_csv('all.csv' if full else 'v.csv')``: the name
    written was a loop variable or a choice, no literal, so the files landed in the project's root while the later
    step read ``v.txt`` beside the notebook (exit 0, FileNotFoundError). A loop over a literal list names each of
    its elements, a choice either branch."""
    cells = [("n = 2.0", ["parameters"]), (written, ["promote:train"]), (read, ["promote:evaluate"])]
    assert _promoted_score(tmp_path, "choices", cells) == 6.0
    assert not {p.name for p in (tmp_path / "out").iterdir()} & {"a.txt", "v.txt", "v.csv"}


def test_a_metric_loaded_from_a_file_is_recorded_and_a_loaded_table_is_not(tmp_path, git_identity):
    """``score = pickle.load(f)`` in an evaluate cell was taken for "loaded data" by its call's name and left out
    of metrics.json (PRM012: "binds no value"). What a load gives is known only at run time, where metrics.json keeps
    the numeric scalars: ``score`` is recorded, the dict ``state`` is not."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (
            "import json, pickle\npickle.dump(3.0 * n, open('m.pkl', 'wb'))\njson.dump({'a': 1}, open('s.json', 'w'))",
            ["promote:train"],
        ),
        (
            "import json, pickle\nscore = pickle.load(open('m.pkl', 'rb'))\nstate = json.load(open('s.json'))",
            ["promote:evaluate"],
        ),
    ]
    assert _promoted_score(tmp_path, "loaded", cells) == 6.0
    assert "state" not in metrics_of(tmp_path / "out")


@pytest.mark.parametrize(
    "written",
    [
        "open('v.txt', 'w').write(str(3.0 * n)) if n > 0 else None",
        "n > 0 and open('v.txt', 'w').write(str(3.0 * n))",
        "[open('v.txt', 'w').write(str(3.0 * n)) for _ in range(1)]",
        "import os\nos.makedirs('m', exist_ok=True) or open('v.txt', 'w').write(str(3.0 * n))",
    ],
    ids=["conditional", "and", "comprehension", "or"],
)
def test_an_expression_statement_that_calls_for_an_effect_is_kept(tmp_path, git_identity, written):
    """A bare expression that is not itself a call read as a display (``df``, ``x.shape``) and was dropped, calls
    inside it included: ``save() if ok else None`` wrote nothing, exit 0, FileNotFoundError in the next step. An
    expression with a call other than a display method's is code."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (written, ["promote:train"]),
        ("score = float(open('v.txt').read())", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "effects", cells) == 6.0


@pytest.mark.parametrize(
    ("data", "evaluate"),
    [
        (
            "import zipfile\nzipfile.ZipFile('data.zip').extractall('unpacked')",
            "v = float(open('unpacked/v.txt').read())",
        ),
        (
            "import zipfile\nwith zipfile.ZipFile('data.zip') as z:\n    z.extractall(path='unpacked')",
            "v = float(open('unpacked/v.txt').read())",
        ),
        (
            "import os, shutil\nos.makedirs('a', exist_ok=True)\nopen('a/v.txt', 'w').write('3.0')\n"
            "shutil.copytree('a', 'b', dirs_exist_ok=True)",
            "v = float(open('b/v.txt').read())",
        ),
        (
            "import shutil\nopen('tmp.txt', 'w').write('3.0')\nshutil.move('tmp.txt', 'final.txt')",
            "v = float(open('final.txt').read())",
        ),
    ],
    ids=["zip-extractall", "zip-extractall-keyword", "copytree", "move"],
)
def test_an_archive_unpacked_or_a_file_copied_lands_under_the_artifacts_directory(
    tmp_path, git_identity, data, evaluate
):
    """``ZipFile('data.zip')`` (beside the notebook) was read from wherever the package ran, ``extractall('unpacked')``
    and ``shutil.copytree('a', 'b')`` were no writes: exit 0, then FileNotFoundError. An archive is read beside the
    notebook, what it unpacks into and what a copy or move makes is written under artifacts/."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "data.zip", "w") as archive:
        archive.writestr("v.txt", "3.0")
    cells = [
        ("n = 2.0", ["parameters"]),
        (data, ["promote:data"]),
        (evaluate + "\nscore = v * n", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "unpack", cells) == 6.0
    assert _score_stage_by_stage(tmp_path, "unpack", ("data", "evaluate")) == 6.0
    stray = {p.name for p in (tmp_path / "out").iterdir()} & {"unpacked", "a", "b", "tmp.txt", "final.txt"}
    assert not stray


@pytest.mark.parametrize(
    "data",
    [
        "import os\nbase = os.environ.get('PROMOTE_TEST_UNSET', 'data')\nv = float(open(os.path.join(base, 'in.txt')).read())",
        "import os\nv = float(open(os.path.join(os.getenv('PROMOTE_TEST_UNSET', 'data'), 'in.txt')).read())",
    ],
    ids=["environ-get", "getenv"],
)
def test_a_folder_an_unset_environment_variable_defaults_to_is_read_beside_the_notebook(tmp_path, git_identity, data):
    """``os.environ.get('DATA_DIR', 'data')`` in a path's place: the default was no path literal, so the package
    looked for ``data/`` where it ran (exit 0, FileNotFoundError). The default is anchored as any path literal; the
    variable, when set, still wins."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("3.0\n")
    cells = [("n = 2.0", ["parameters"]), (data, ["promote:data"]), ("score = v * n", ["promote:evaluate"])]
    assert _promoted_score(tmp_path, "environ", cells) == 6.0
    assert "cfg.notebook_dir" in (tmp_path / "out" / "src" / "environ" / "pipeline.py").read_text()


def test_a_file_named_by_a_url_or_an_absolute_folder_is_left_as_it_is(tmp_path):
    """A value that is a URL or an absolute path names no file of the project: nothing is joined to it."""
    cells = [
        ("BASE = 'https://example.org/data/'\nOUT = '/tmp/promote-never-written/'", ["parameters"]),
        (
            "import pandas as pd\nframe = pd.read_csv(BASE + 'train.csv')\nframe.to_csv(f'{OUT}copy.csv')",
            ["promote:data"],
        ),
        ("score = float(len(frame))", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "remote.ipynb", cells))
    assert plan.paths is not None and plan.paths.joined == {}


_SAVER_BY_BODY = "def save(v):\n    open('saved.txt', 'w').write(str(v))"
_SAVER_BY_DEFAULT = (
    "class Saver:\n    def __init__(self, scale=1.0, path='saved.txt'):\n        self.path = path\n"
    "    def __call__(self, v):\n        open(self.path, 'w').write(str(v))"
)


@pytest.mark.parametrize(
    ("definition", "train"),
    [
        (_SAVER_BY_BODY, "save(n)"),
        (_SAVER_BY_BODY, "in_artifacts = n\nsave(in_artifacts)"),
        (_SAVER_BY_DEFAULT, "Saver(scale=2.0)(n)"),
    ],
    ids=["literal-in-the-body", "its-name-taken", "parameter-default"],
)
def test_a_file_a_module_level_definition_writes_lands_under_the_artifacts_directory(
    tmp_path, git_identity, definition, train
):
    """A def or class moved to module level has no ``cfg``: ``open('saved.txt', 'w')`` in its body, or a default
    ``path='saved.txt'`` (the much-copied ``EarlyStopping(path='checkpoint.pt')``), wrote into the folder the
    package ran from. The body's literal reads the run's artifacts directory (``in_artifacts``, which gives way to
    a notebook name); a step's call that leaves the default out passes it; the steps read the file there."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (definition, ["promote:model"]),
        (train, ["promote:train"]),
        ("score = float(open('saved.txt').read())", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "saver", cells) == 2.0
    assert _score_stage_by_stage(tmp_path, "saver", ("model", "train", "evaluate")) == 2.0
    output = tmp_path / "out"
    assert not (output / "saved.txt").exists() and (output / "artifacts" / "saved.txt").is_file()
    if "in_artifacts = n" in train:
        assert "from .runtime import in_artifacts as in_artifacts_dir" in (output / "src/saver/model.py").read_text()
    done = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (output / "saved.txt").exists()


@pytest.mark.parametrize(
    ("definition", "train", "evaluate"),
    [
        (
            "def save_ckpt(v, name):\n    open(f'{name}.txt', 'w').write(str(v))",
            "save_ckpt(n, 'best')",
            "score = float(open('best.txt').read())",
        ),
        (
            "import os\ndef save_ckpt(v, folder):\n    os.makedirs(folder, exist_ok=True)\n"
            "    open(os.path.join(folder, 'v.txt'), 'w').write(str(v))",
            "save_ckpt(n, 'ckpt')",
            "score = float(open('ckpt/v.txt').read())",
        ),
        ("def load():\n    return float(open('in.txt').read())", "v = load()", "score = v * n / 3.0"),
        (
            "def save(v, name):\n    open(name + '.txt', 'w').write(str(v))",
            "stem = 'x'\nsave(n, stem)",
            "score = float(open(stem + '.txt').read())",
        ),
    ],
    ids=["a-stem-it-completes", "a-folder-it-fills", "a-file-it-reads", "a-stem-a-name-holds"],
)
def test_a_path_a_step_gives_a_notebook_function_lands_where_the_steps_look(
    tmp_path, git_identity, definition, train, evaluate
):
    """``save_ckpt(n, 'best')`` where the function writes ``f'{name}.txt'``, or fills the folder it is given: the
    argument was no path literal, so it stayed relative (``best.txt`` in the project's root, or a FileNotFoundError
    where the evaluate step looked under artifacts/). A module-level function reading ``in.txt`` read it where the
    package ran: it reads it in the notebook's folder (``in_notebook_dir``), where the notebook found it."""
    (tmp_path / "in.txt").write_text("3.0\n")
    cells = [
        ("n = 2.0", ["parameters"]),
        (definition, ["promote:model"]),
        (train, ["promote:train"]),
        (evaluate, ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "given", cells) == 2.0
    assert _score_stage_by_stage(tmp_path, "given", ("model", "train", "evaluate")) == 2.0
    output = tmp_path / "out"
    assert not {p.name for p in output.iterdir()} & {"best.txt", "ckpt", "in.txt", "x.txt"}
    done = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-2000:]


def test_a_definition_default_a_call_outside_the_steps_leaves_out_stays_as_written(tmp_path, git_identity):
    """A module-level ``def run_saver(v): Saver()(v)`` leaves the default out where no ``cfg`` exists: the default
    stays as written, and so does every mention of its file, in the steps too (one folder for writer and reader)."""
    cells = [
        ("n = 2.0", ["parameters"]),
        (_SAVER_BY_DEFAULT + "\ndef run_saver(v):\n    Saver()(v)", ["promote:model"]),
        ("run_saver(n)", ["promote:train"]),
        ("score = float(open('saved.txt').read())", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "left.ipynb", cells))
    assert plan.definition_writes is not None and plan.definition_writes.left == {"saved.txt"}
    assert _promoted_score(tmp_path, "left", cells) == 2.0


def test_a_folder_name_also_read_as_a_value_keeps_its_value(tmp_path):
    """``NAME = 'run1'`` names a folder the train step writes into and is also a value (``len(NAME)``,
    ``load_dataset(NAME)``): joined to the artifacts directory it would be another value, so it is left as it is;
    ``OUTPUT_DIR``, read only as a path, is joined."""
    cells = [
        ("n = 2.0\nNAME = 'run1'\nOUTPUT_DIR = 'results'\nlabel = 'plain'", ["parameters"]),
        (
            "import os\nos.makedirs(NAME, exist_ok=True)\nos.makedirs(OUTPUT_DIR, exist_ok=True)\n"
            "tag = 'tags'\nos.makedirs(tag, exist_ok=True)\nprint(len(NAME), tag)",
            ["promote:train"],
        ),
        ("score = n", ["promote:evaluate"]),
    ]
    result = api.promote(write_notebook(tmp_path / "named.ipynb", cells), tmp_path / "out", commit=False)
    assert result.ok
    pipeline = (tmp_path / "out" / "src" / "named" / "pipeline.py").read_text()
    assert "OUTPUT_DIR = os.path.join(cfg.artifacts_dir, cfg.OUTPUT_DIR)" in pipeline
    assert "NAME = cfg.NAME" in pipeline and 'tag = "tags"' in pipeline


def test_a_function_changing_a_global_list_changes_the_list_a_later_step_bound_to_that_name(tmp_path, git_identity):
    """``def note(v): log.append(v)`` in the data step; the train step binds ``log = []`` anew and calls ``note``: in
    the notebook the call appends to the new list. The repeat was skipped because the step that last changed
    ``note`` (through ``log``) made no definition of it (0.0 against the notebook's 5.0)."""
    cells = [
        ("n = 1.0", ["parameters"]),
        ("log = []\ndef note(v):\n    log.append(v)", ["promote:data"]),
        ("note(1.0)\nnote(2.0)", ["promote:preprocess"]),
        ("log = []\nnote(5.0 * n)", ["promote:train"]),
        ("score = float(sum(log))", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "ledger", cells) == expected == 5.0
    assert _score_stage_by_stage(tmp_path, "ledger", ("data", "preprocess", "train", "evaluate")) == expected


def test_a_def_reading_a_name_its_own_cell_binds_orders_the_step_that_calls_it(tmp_path, git_identity):
    """A train cell binds ``steps_done`` and defines ``late`` reading it; a model cell below calls ``late``. The
    steps were ordered by what the def's body reads *above its cell*, which missed ``steps_done``: the def moved to
    the model step, which runs first, and the notebook was refused (PRM002 "only step 'train' defines it, and that
    step runs later", exit 1, on a notebook that runs). The body's reads count where the call is."""
    cells = [
        ("n = 2.0", ["parameters"]),
        ("base = n * 3", ["promote:model"]),
        ("steps_done = base + 1.0\ndef late(v):\n    return v + steps_done", ["promote:train"]),
        ("metric = late(9.0)", ["promote:model"]),
        ("score = float(metric)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "own_cell", cells) == expected == 16.0


def test_a_name_a_step_deletes_is_not_handed_on(tmp_path, git_identity):
    """``del a`` in a data cell below a preprocess cell whose def reads ``a`` when called (and is never called): the
    data step runs first, deleted ``a`` and still handed it on, so the package died with UnboundLocalError in its
    ``return`` (the promotion exited 0). A deleted name is no step's output; the def's read is PRM002, a warning."""
    cells = [
        ("n = 1.0", ["parameters"]),
        ("a = 2.0 * n\nb = a * 3", ["promote:data"]),
        ("def f(v):\n    return v + a", ["promote:preprocess"]),
        ("del a", ["promote:data"]),
        ("score = float(b)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "deleted", cells) == expected == 6.0
    assert _score_stage_by_stage(tmp_path, "deleted", ("data", "preprocess", "evaluate")) == expected


def test_a_lambda_s_body_reads_order_the_steps_where_it_is_called(tmp_path, git_identity):
    """``late = lambda v: v * run`` in a data cell, ``run`` rebound by a model cell, then a preprocess cell calling
    ``late``: the model step must run before the preprocess step. A lambda's body counted as read where it is
    written, so nothing ordered the two: the model step ran later, in pipeline order, and the call read the data
    step's ``run`` (300.0 against the notebook's 12.0; 1 of 250 random notebooks)."""
    cells = [
        ("n = 1.0", ["parameters"]),
        ("run = 50.0 * n\nlate = lambda v: v * run", ["promote:data"]),
        ("run = 2.0", ["promote:model"]),
        ("c = late(6.0)", ["promote:preprocess"]),
        ("score = float(c)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "lambda_order", cells) == expected == 12.0


def test_a_second_training_phase_with_a_new_optimizer_runs_on_fabric_whole_and_stage_by_stage(tmp_path, git_identity):
    """A training function defined in the model cell (so the loop stays as written, on Fabric) reads ``optimizer``;
    a fine-tuning cell builds a new optimizer for the same model and calls it again. The package set the model up
    twice (``ValueError: A model should be passed only once to the setup method``, the promotion exited 0); stage
    by stage, the function, saved by value with Fabric's optimizer wrapper inside, loaded back broken
    (``RecursionError``). Now the second setup sets up the optimizer alone, and what holds Fabric's wrappers is
    rebuilt rather than saved."""
    cells = [
        ("import torch\nfrom torch import nn", []),
        ("seed = 0\nlr = 0.1", ["parameters"]),
        ("torch.manual_seed(seed)\nX = torch.randn(64, 3)\ny = X.sum(1, keepdim=True)", ["promote:data"]),
        (
            "model = nn.Linear(3, 1)\ncriterion = nn.MSELoss()\noptimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "def train_epoch():\n    optimizer.zero_grad()\n    loss = criterion(model(X), y)\n    loss.backward()\n"
            "    optimizer.step()\n    return loss.item()",
            ["promote:model"],
        ),
        ("for _ in range(5):\n    train_epoch()", ["promote:train"]),
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr / 10)\nfor _ in range(5):\n    train_epoch()",
            ["step:finetune"],
        ),
        ("with torch.no_grad():\n    score = round(float(criterion(model(X), y)), 6)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "phases", cells) == expected
    assert "fabric_setup_again(fabric, model, optimizer)" in (tmp_path / "out/src/phases/pipeline.py").read_text()
    stages = ("data", "model", "train", "finetune", "evaluate")
    assert _score_stage_by_stage(tmp_path, "phases", stages) == expected


def test_a_definition_is_repeated_only_where_that_gives_the_notebook_s_function(tmp_path):
    """A decorated def (its registration would run again), one whose default reads a name rebound since (the copy
    would evaluate it anew) and one changed in place since (``changed.calls = 1``) stay single, each a warning
    (PRM049); one whose globals nothing rebound stays single, silently. Only the plain one is repeated."""
    cells = [
        ("n = 3.0", ["parameters"]),
        (
            "import functools\nlr = 0.1\nk = 1.0\n"
            "def plain(v):\n    return v * lr\n"
            "@functools.lru_cache\ndef cached(v):\n    return v * lr\n"
            "def defaulted(v, scale=k):\n    return v * lr * scale\n"
            "def changed(v):\n    return v * lr\n"
            "changed.calls = 1\n"
            "def steady(v):\n    return v * n",
            ["promote:model"],
        ),
        ("lr = 0.5\nk = 2.0", ["promote:train"]),
        ("score = plain(n) + cached(n) + defaulted(n) + changed(n) + steady(n)", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "limits.ipynb", cells))
    evaluate = plan.step("evaluate")
    assert [p.stmt.binds[0] for p in evaluate.body if p.origin == "repeated"] == ["plain"]
    found = {d.code: [] for d in plan.all_diagnostics}
    for d in plan.all_diagnostics:
        found[d.code].append(d.message.split("'")[1])
    assert found["PRM048"] == ["plain"] and sorted(found["PRM049"]) == ["cached", "changed", "defaulted"]


def _regression_cells(model: str, between: list[tuple[str, list[str]]], trained: str) -> list:
    """A linear regression in PyTorch: ``model`` builds ``model`` and its ``optimizer``, ``trained`` is what the loop
    calls, the evaluate step scores ``model`` (0.0 when trained, about 4.9 untrained)."""
    return [
        ("import torch\nfrom torch import nn", []),
        ("seed = 0\nlr = 0.5", ["parameters"]),
        ("torch.manual_seed(seed)\nX = torch.randn(32, 3)\ny = X.sum(1, keepdim=True)", ["promote:data"]),
        (model, ["promote:model"]),
        *between,
        (
            f"for _ in range(20):\n    optimizer.zero_grad()\n    loss = (({trained}(X) - y) ** 2).mean()\n"
            "    loss.backward()\n    optimizer.step()",
            ["promote:train"],
        ),
        ("with torch.no_grad():\n    score = round(float(((model(X) - y) ** 2).mean()), 4)", ["promote:evaluate"]),
    ]


def test_objects_one_step_reads_together_come_from_one_stage_when_a_step_between_hands_one_on(tmp_path, git_identity):
    """The optimizer holds the model's parameters; a step between the model and train steps reads the model alone
    (and, as any step, saves what it was handed for the steps after it). Stage by stage, the train stage loaded the
    model from that step's folder and the optimizer from the model step's: two copies, so ``optimizer.step()``
    trained a model nothing read again and the evaluate stage scored an untrained one (found by the differential
    test's held-object notebooks). That step now carries the optimizer along, saved together with the model."""
    model = "model = nn.Linear(3, 1)\noptimizer = torch.optim.SGD(model.parameters(), lr=lr)"
    between = [("n_weights = sum(p.numel() for p in model.parameters())", ["step:inspect"])]
    cells = _regression_cells(model, between, "model")
    expected = _run_as_notebook(cells)["score"]
    assert expected < 0.01  # trained: an untrained model scores far above
    assert _promoted_score(tmp_path, "carried", cells) == expected
    assert _score_stage_by_stage(tmp_path, "carried", ("data", "model", "inspect", "train", "evaluate")) == expected
    stages = (tmp_path / "out" / "src" / "carried" / "stages.py").read_text()
    assert '"carried": ("optimizer",)' in stages


def test_a_model_trained_through_a_library_wrapper_is_the_model_the_next_stage_loads(tmp_path, git_identity):
    """``wrapped = nn.DataParallel(model)`` (``torch.compile``, peft's ``get_peft_model``, Hugging Face's
    ``Trainer(model=...)`` alike) holds the very model it wraps: training through the wrapper trains ``model``.
    Stage by stage the train step did not hand ``model`` on, and the evaluate stage scored the model step's untrained
    one (4.88 against the notebook's 0.0)."""
    model = "model = nn.Linear(3, 1)\nwrapped = nn.DataParallel(model)\n"
    model += "optimizer = torch.optim.SGD(wrapped.parameters(), lr=lr)"
    cells = _regression_cells(model, [], "wrapped")
    expected = _run_as_notebook(cells)["score"]
    assert expected < 0.01
    assert _promoted_score(tmp_path, "wrapping", cells) == expected
    assert _score_stage_by_stage(tmp_path, "wrapping", ("data", "model", "train", "evaluate")) == expected


def test_scikit_learn_models_held_in_a_dict_a_list_or_a_pipeline_are_fitted_in_every_stage(tmp_path, git_identity):
    """Realistic forms of the same class: estimators fitted through the dict, list or pipeline holding them, and read
    by their own names (was 31 of 40 random scikit-learn notebooks failing stage by stage with ``NotFittedError`` or
    a missing ``coef_``, while the full run passed)."""
    imports = (
        "from sklearn.datasets import make_classification\nfrom sklearn.ensemble import RandomForestClassifier\n"
        "from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler"
    )
    cells = [
        (imports, []),
        ("seed = 3\nC = 0.5", ["parameters"]),
        ("X, y = make_classification(n_samples=120, n_features=5, random_state=seed)", ["promote:data"]),
        (
            "lr = LogisticRegression(C=C)\nrf = RandomForestClassifier(n_estimators=5, random_state=seed)\n"
            "models = {'lr': lr, 'rf': rf}\nscaler = StandardScaler()\nscaled_lr = LogisticRegression()\n"
            "pipe = make_pipeline(scaler, scaled_lr)\nextra = []\nextra.append(pipe)",
            ["promote:model"],
        ),
        ("for name, m in models.items():\n    m.fit(X, y)\nfor p in extra:\n    p.fit(X, y)", ["promote:train"]),
        (
            "score = rf.score(X, y) + float(lr.coef_.sum()) + float(scaled_lr.coef_.sum() + scaler.mean_.sum())",
            ["promote:evaluate"],
        ),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "fitted", cells) == expected
    assert _score_stage_by_stage(tmp_path, "fitted", ("data", "model", "train", "evaluate")) == expected


def test_helpers_sharing_state_see_a_later_steps_change_in_every_stage(tmp_path, git_identity):
    """``add`` changes the dict ``size`` reads (both closures of the step that holds the functions cell): the step
    that calls ``add`` hands ``size`` on, so the evaluate stage run alone counts three words, not the two it counted
    after rebuilding ``size`` from the data step (found by running the stages of such a notebook one by one)."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        (
            "VOCAB = {}\ndef add(w):\n    VOCAB[w] = len(VOCAB)\ndef size():\n    return float(len(VOCAB))",
            ["promote:functions"],
        ),
        ("add('a')\nadd('b')\nxs = [1.0]", ["promote:data"]),
        ("add('c')", ["promote:train"]),
        ("score = size() * scale + sum(xs)", ["promote:evaluate"]),
    ]
    expected = _run_as_notebook(cells)["score"]
    assert _promoted_score(tmp_path, "shared_state", cells) == expected == 7.0
    assert _score_stage_by_stage(tmp_path, "shared_state", ("data", "train", "evaluate")) == expected


def _score_stage_by_stage(tmp_path, package: str, stages: tuple[str, ...]) -> float:
    """The score of the project _promoted_score wrote when each stage runs alone, as ``dvc repro`` runs them: every
    input loaded from what an earlier stage saved (the full run hands one object from step to step)."""
    output = tmp_path / "out"
    shutil.rmtree(output / "artifacts")
    for stage in stages:
        done = run_in_project(output, "-m", package, stage, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    return metrics_of(output)["score"]


def _promoted_score(tmp_path, package: str, cells: list[tuple[str, list[str]]]) -> float:
    """The score the promoted package's full run computes; its code lint-clean."""
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / f"{package}.ipynb", cells), output)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert lint_problems(output) == []
    done = run_in_project(output, "-m", package, "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return metrics_of(output)["score"]


def _write_own_modules(folder, helpers: str = "") -> None:
    (folder / "helpers.py").write_text(
        '"""Helpers."""\nimport numpy as np\nfrom mathutils import triple\n\n\ndef scale(values, factor):\n'
        "    return [float(np.float64(triple(v))) * factor for v in values]\n" + helpers
    )
    (folder / "mathutils.py").write_text("def triple(v):\n    return 3.0 * v\n")


def test_the_notebook_s_own_modules_are_copied_into_the_package(tmp_path, git_identity):
    """``import helpers`` with ``helpers.py`` beside the notebook (which imports ``mathutils.py`` beside it too) was
    refused (PRM052): the package had no such module. Both are copied into ``notebook_modules/``, the imports read
    the copies, the copy's own third-party imports are requirements, and its lint is marked as the notebook's is. A
    file it reads is read beside the notebook, one its functions write lands under artifacts/."""
    _write_own_modules(
        tmp_path,
        helpers="\n\ndef unused():\n    import json\n    l = 1\n\n\ndef save(v):\n    import os\n"
        "    os.makedirs('results', exist_ok=True)\n    open('results/v.txt', 'w').write(str(v))\n\n\n"
        "def load():\n    return float(open('results/v.txt').read()) * float(open('in.txt').read())\n",
    )
    (tmp_path / "in.txt").write_text("1.0\n")
    cells = [
        ("n = 2.0", ["parameters"]),
        (
            "import helpers\nfrom mathutils import triple as t\nhelpers.save(helpers.scale([1.0], n)[0])",
            ["promote:data"],
        ),
        ("score = helpers.load() + t(0.0)", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "own", cells) == 6.0
    assert _score_stage_by_stage(tmp_path, "own", ("data", "evaluate")) == 6.0
    package = tmp_path / "out" / "src" / "own"
    copy = (package / "notebook_modules" / "helpers.py").read_text()
    assert "from .mathutils import triple" in copy and 'open(in_artifacts("results/v.txt"), "w")' in copy
    assert (
        'open(in_notebook_dir("in.txt"))' in copy and (tmp_path / "out" / "artifacts" / "results" / "v.txt").is_file()
    )
    assert "from .notebook_modules import helpers" in (package / "pipeline.py").read_text()
    assert '"numpy' in (tmp_path / "out" / "pyproject.toml").read_text()
    assert "      - src/own/notebook_modules\n" in (tmp_path / "out" / "dvc.yaml").read_text()  # a change re-runs
    result = api.promote(tmp_path / "own.ipynb", tmp_path / "again", commit=False)
    assert [d.code for d in result.diagnostics if d.code.startswith("PRM05")] == ["PRM055"]


@pytest.mark.parametrize(
    ("files", "data"),
    [
        ({"helpers.py": "def three():\n    return 3.0\n"}, "from helpers import *\nv = three()"),
        ({"data.py": "def three():\n    return 3.0\n"}, "import data\nv = data.three()"),
        (
            {"helpers.py": "def three():\n    return 3.0\n"},
            "def get():\n    import helpers\n    return helpers.three()\nv = get()",
        ),
        (
            {"helpers.py": "def load(path='v.txt'):\n    return float(open(path).read())\n", "v.txt": "3.0"},
            "import helpers\nv = helpers.load()",
        ),
        (
            {
                "helpers.py": "import os\nHERE = os.path.dirname(os.path.abspath(__file__))\n\n\ndef load():\n"
                "    return float(open(os.path.join(HERE, 'v.txt')).read())\n",
                "v.txt": "3.0",
            },
            "import helpers\nv = helpers.load()",
        ),
    ],
    ids=["star-import", "named-as-a-generated-module", "imported-inside-a-def", "default-path", "beside-its-file"],
)
def test_a_copied_module_is_imported_and_reads_as_in_the_notebook(tmp_path, git_identity, files, data):
    """The forms a notebook imports its own module in, and the ways the module finds its files: ``from helpers
    import *`` and an import inside a def were neither copied nor refused (exit 0, ModuleNotFoundError); a default
    path and a file beside ``__file__`` were looked for where the package ran."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    cells = [("n = 2.0", ["parameters"]), (data, ["promote:data"]), ("score = v * n", ["promote:evaluate"])]
    assert _promoted_score(tmp_path, "forms", cells) == 6.0


def test_a_module_in_a_folder_a_cell_adds_to_sys_path_is_copied(tmp_path, git_identity):
    """cookiecutter-data-science's notebooks: ``sys.path.append('../src')`` then ``from features import build``, the
    notebook in ``notebooks/``. The module is copied as one beside the notebook is; its ``__file__`` and the files it
    reads stay where the notebook found them."""
    (tmp_path / "src").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "v.txt").write_text("3.0")
    (tmp_path / "src" / "features.py").write_text(
        "import os\n\nHERE = os.path.dirname(os.path.abspath(__file__))\n\n\ndef build():\n"
        "    return float(open(os.path.join(HERE, '..', 'data', 'v.txt')).read())\n"
    )
    cells = [
        ("n = 2.0", ["parameters"]),
        ("import sys\nsys.path.append('../src')\nfrom features import build\nv = build()", ["promote:data"]),
        ("score = v * n", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "notebooks" / "added.ipynb", cells), output)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert [d.message.split(",")[0] for d in result.diagnostics if d.code == "PRM055"] == ["../src/features.py"]
    assert lint_problems(output) == []
    done = run_in_project(output, "-m", "added", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert metrics_of(output)["score"] == 6.0


@pytest.mark.parametrize("on_disk", [None, "def f(x):\n    return 0.0\n"], ids=["never-run", "run-before-an-edit"])
@pytest.mark.parametrize("tags", [None, ["promote:data"]], ids=["untagged", "tagged"])
def test_a_module_a_writefile_cell_writes_is_copied_from_the_cell(tmp_path, git_identity, on_disk, tags):
    """``%%writefile helper.py`` then ``import helper``, as tutorials do: the package had no ``helper`` (exit 0,
    ModuleNotFoundError) unless the notebook had run before promotion, and then held whatever the file held. The
    copy is the cell's text (``-a`` appending to it), the notebook's own word on the module."""
    if on_disk is not None:
        (tmp_path / "helper.py").write_text(on_disk)
    cells = [
        ("n = 2.0", ["parameters"]),
        ("%%writefile helper.py\ndef f(x):\n    return x * 2\n", tags),
        ('%%writefile -a "helper.py"\n\n\ndef g(x):\n    return x + 0.0\n', None),
        ("import helper\nv = helper.g(helper.f(1.5))", ["promote:data"]),
        ("score = v * n", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "written", cells) == 6.0
    copy = (tmp_path / "out" / "src" / "written" / "notebook_modules" / "helper.py").read_text()
    assert "return x * 2" in copy and "def g(x)" in copy


@pytest.mark.parametrize(("tags", "score"), [(None, 6.0), (["promote:skip"], 3.0)], ids=["untagged", "skipped"])
def test_a_parameter_set_again_below_the_parameters_cell_has_the_value_the_notebook_ran_with(
    tmp_path, git_identity, tags, score
):
    """``n = 2.0`` in an untagged cell below the parameters cell's ``n = 1.0``: the notebook ran with 2.0, the
    package read ``cfg.n`` (1.0) without a word. That line is pulled in now, saying so (PRM003); a skipped cell's is
    left out, as the user asked."""
    cells = [
        ("n = 1.0", ["parameters"]),
        ("n = 2.0", tags),
        ("v = 3.0", ["promote:data"]),
        ("score = v * n", ["promote:evaluate"]),
    ]
    assert _promoted_score(tmp_path, "again", cells) == score


def test_a_class_in_the_parameters_cell_is_said_to_stay_in_the_step_for_that_reason(tmp_path):
    cells = [
        ("class Args:\n    n = 2.0\n\n\nargs = Args()", ["parameters"]),
        ("v = 3.0", ["promote:data"]),
        ("score = v * args.n", ["promote:evaluate"]),
    ]
    plan = api.analyze(write_notebook(tmp_path / "args.ipynb", cells))
    [kept] = [d.message for d in plan.all_diagnostics if d.code == "PRM005"]
    assert "is defined in the parameters cell" in kept and "more than once" not in kept


def test_a_change_to_a_copied_module_is_promoted_again(tmp_path, git_identity):
    """The generation key holds the copied modules' contents: after ``mathutils.py`` changed beside the notebook, a
    promotion is no longer "up to date", and it commits the new copy."""
    _write_own_modules(tmp_path)
    cells = [("n = 2.0", ["parameters"]), ("import helpers\nvs = helpers.scale([1.0], n)", ["promote:data"])]
    notebook = write_notebook(tmp_path / "kept.ipynb", cells)
    output = tmp_path / "out"
    first = api.promote(notebook, output)
    assert first.ok and api.promote(notebook, output).commit == first.commit
    (tmp_path / "mathutils.py").write_text("def triple(v):\n    return 4.0 * v\n")
    second = api.promote(notebook, output)
    assert second.ok and second.commit != first.commit
    assert "4.0 * v" in (output / "src" / "kept" / "notebook_modules" / "mathutils.py").read_text()


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"helpers.py": "def scale(:\n"}, "helpers.py cannot be read as Python (SyntaxError)"),
        ({"helpers.py": "import inner\nscale = inner.f\n", "inner/__init__.py": "f = 1\n"}, "'inner' is a package"),
    ],
    ids=["does-not-parse", "imports-a-package-folder"],
)
def test_a_module_that_cannot_be_copied_is_refused_saying_why(tmp_path, git_identity, files, says):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    cells = [("n = 2.0", ["parameters"]), ("import helpers\nvs = helpers.scale", ["promote:data"])]
    result = api.promote(write_notebook(tmp_path / "bad.ipynb", cells), tmp_path / "out", commit=False)
    refused = [d.format() for d in result.diagnostics if d.code == "PRM052"]
    assert not result.ok and len(refused) == 1 and says in refused[0], refused
    assert not (tmp_path / "out").exists()


def test_a_model_no_later_step_reads_is_still_handed_on_for_the_generated_tests(tmp_path, git_identity):
    """The generated test of the model step reads the model from the pipeline's state: the step returns it even
    when no later step reads it (found by running random notebooks' generated tests)."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        ("xs = [1.0, 2.0]", ["promote:data"]),
        ("model = {'weight': scale}", ["promote:model"]),
        ("score = sum(xs) * scale", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "unread.ipynb", cells), output).ok
    done = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pipeline.py")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "test_model_step_builds_the_model" in (output / "tests" / "test_pipeline.py").read_text()


@pytest.mark.parametrize(
    "model_cell",
    [
        "import contextlib\nwith contextlib.suppress(ValueError):\n    model = 7.0",
        "model = 300.0\nwhile model > 100:\n    model = model / 2",
    ],
    ids=["with", "while"],
)
def test_the_generated_tests_read_no_model_the_model_step_may_not_hold(tmp_path, git_identity, model_cell):
    """A model no later step reads, last bound in a block (a ``with``, a loop): the step does not hand it on, so
    the generated test of the model step must not read it (its tests failed with KeyError; random notebooks)."""
    cells = [
        ("scale = 2.0", ["parameters"]),
        ("xs = [1.0, 2.0]", ["promote:data"]),
        (model_cell, ["promote:model"]),
        ("score = sum(xs) * scale", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "blocks.ipynb", cells), output).ok
    done = run_in_project(output, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pipeline.py")
    assert done.returncode == 0, done.stdout[-2000:]


def test_a_star_import_is_kept_and_supplies_the_names_no_cell_defines(tmp_path, git_identity):
    """``from math import *`` (fastai notebooks start with one): the package imports it the same way, ruff's
    F403/F405 marked, instead of NameError placeholders for every name it supplies."""
    cells = [
        "from math import *",
        ("scale = 2.0", ["parameters"]),
        ("def rounded(v):\n    return floor(v * scale)", ["promote:functions"]),
        ("xs = [sqrt(16.0), pi]", ["promote:data"]),
        ("score = rounded(sum(xs)) + e", ["promote:evaluate"]),
    ]
    output = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "starred.ipynb", cells), output)
    assert result.ok and [d.code for d in result.diagnostics if d.severity.value != "info"] == ["PRM002"]
    assert lint_problems(output) == []
    done = run_in_project(output, "-m", "starred", "run", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    namespace = _run_as_notebook([(cell, []) if isinstance(cell, str) else cell for cell in cells])
    assert metrics_of(output)["score"] == namespace["score"]

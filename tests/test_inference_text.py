"""Predict and serve for a model whose training loop builds its own data (issue 9): a character-level RNN, as in
wild03. No saved loader says what a row is; the notebook's own example prediction does, and each row of a file (or
of a request) is one text run through it: the notebook's encoding, the trained model, the notebook's decoding.

One small notebook of that shape is promoted, trained and asked to predict and to serve, end to end; the reading of
the example is checked on its variants (a helper given the model, the most processed prediction, what is refused).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import torch

from jupyterlab_promote import api
from jupyterlab_promote.codegen.project import _render_mode
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import lint_problems, run_in_project, serving, write_notebook
from .test_inference import _free_port, _post

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORDS = ["apple", "avocado", "banana", "blueberry", "cherry", "apricot", "bean", "cabbage"]
DATA = (
    f"letters = {LETTERS!r}\nwords = {WORDS!r}\nlabels = ['a', 'b', 'c']\n\n\n"
    "def encode(word):\n"
    "    tensor = torch.zeros(len(word), 1, len(letters))\n"
    "    for i, ch in enumerate(word):\n"
    "        tensor[i, 0, max(letters.find(ch), 0)] = 1\n"
    "    return tensor"
)
MODEL = (
    "class Reader(nn.Module):\n"
    "    def __init__(self, size, hidden, classes):\n"
    "        super().__init__()\n"
    "        self.rnn = nn.RNN(size, hidden)\n"
    "        self.head = nn.Linear(hidden, classes)\n\n"
    "    def forward(self, line):\n"
    "        out, _ = self.rnn(line)\n"
    "        return self.head(out[-1])\n\n\n"
    "def decode(output, labels):\n"
    "    return labels[int(output.argmax(1))]\n\n\n"
    "reader = Reader(len(letters), hidden, len(labels))\n"
)
EXAMPLE = 'line = encode("avocado")\noutput = reader(line)\nprint(output)\nprint(decode(output, labels))'
TRAIN = (
    "optimizer = torch.optim.SGD(reader.parameters(), lr=0.1)\nloss_fn = nn.CrossEntropyLoss()\n"
    "for epoch in range(epochs):\n"
    "    for word in words:\n"
    "        optimizer.zero_grad()\n"
    "        loss = loss_fn(reader(encode(word)), torch.tensor([labels.index(word[0])]))\n"
    "        loss.backward()\n"
    "        optimizer.step()"
)
EVALUATE = "accuracy = sum(decode(reader(encode(w)), labels) == w[0] for w in words) / len(words)"


def _cells(example: str = EXAMPLE, data: str = DATA) -> list:
    return [
        ("import torch\nfrom torch import nn", []),
        ("epochs = 3\nhidden = 8\ntorch.manual_seed(0)", ["parameters"]),
        (data, ["promote:data"]),
        (MODEL + example, ["promote:model"]),
        (TRAIN, ["promote:train"]),
        (EVALUATE, ["promote:evaluate"]),
    ]


def _chain(tmp_path: Path, cells: list):
    plan = build_plan(read_notebook(write_notebook(tmp_path / "nb.ipynb", cells)))
    return _render_mode(plan).chain


def test_the_example_chain_is_the_notebooks_encoding_model_and_most_processed_decoding(tmp_path):
    chain = _chain(tmp_path, _cells())
    assert (chain.column, chain.value, chain.stage) == ("word", "avocado", "model")
    # print(output) shows the raw output; decode(output, labels) is the prediction the notebook reads
    assert chain.lines == ["features = encode(value)", "output = model(features)", "return decode(output, labels)"]
    assert (chain.saved, chain.globals) == (["encode", "labels"], ["decode"])


def test_a_helper_given_the_model_and_a_text_is_a_chain_too(tmp_path):
    helper = "\n\ndef classify(net, word, encode, labels):\n    return decode(net(encode(word)), labels)\n\n\n"
    chain = _chain(tmp_path, _cells(helper + 'print(classify(reader, "bean", encode, labels))'))
    assert chain.column == "word" and chain.value == "bean"
    assert chain.lines == ["return classify(model, value, encode, labels)"]
    assert chain.globals == ["classify"]


@pytest.mark.parametrize(
    "example",
    [
        'print(reader(encode("a") + encode("b")))',  # two texts
        "print(reader(encode(words[0])))",  # no text literal: no row to stand for
        'suffix = "x"\nprint(reader(encode("avocado" + suffix)))',  # followed to two texts
        'for names in [labels]:\n    pass\nprint(decode(reader(encode("avocado")), names))',  # a value no stage saves
    ],
    ids=["two_texts", "no_literal", "two_literals", "unsaved_value"],
)
def test_examples_predict_cannot_repeat_are_refused(tmp_path, example):
    assert _chain(tmp_path, _cells(example)) is None
    files = api.preview(write_notebook(tmp_path / "nb.ipynb", _cells(example)), tmp_path / "out").files
    assert not any(f.path.endswith("predict.py") for f in files)


def _reference(project: Path, words: list[str]) -> list[str]:
    """The trained model called directly, with the notebook's own encoding and decoding written out again."""
    # the pickled model's class lives in this project's package `nb`, not in another test's of the same name
    stale = [name for name in sys.modules if name == "nb" or name.startswith("nb.")]
    for name in stale:
        del sys.modules[name]
    sys.path.insert(0, str(project / "src"))
    try:
        model = torch.load(project / "artifacts" / "train" / "reader.pt", weights_only=False).eval()
    finally:
        sys.path.remove(str(project / "src"))
        for name in [name for name in sys.modules if name == "nb" or name.startswith("nb.")]:
            del sys.modules[name]
    labels, found = ["a", "b", "c"], []
    with torch.no_grad():
        for word in words:
            tensor = torch.zeros(len(word), 1, len(LETTERS))
            for i, ch in enumerate(word):
                tensor[i, 0, max(LETTERS.find(ch), 0)] = 1
            found.append(labels[int(model(tensor).argmax(1))])
    return found


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("text")
    project = root / "out"
    assert api.promote(write_notebook(root / "nb.ipynb", _cells()), project, commit=False).ok
    assert lint_problems(project) == []
    done = run_in_project(project, "-m", "nb", "train", "--accelerator", "cpu")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return project


def test_train_records_a_text_schema_from_the_notebooks_example(trained):
    schema = json.loads((trained / "artifacts" / "schema.json").read_text())
    assert schema["kind"] == "text" and schema["input"]["columns"] == ["word"]
    assert schema["prediction"]["example"] == _reference(trained, ["avocado"])[0]
    assert "## Predict and serve" in (trained / "README.md").read_text()


def test_predict_runs_each_text_through_the_notebooks_code(trained):
    words = [*WORDS, "zebra", "a, b", 'quote"d'] * 3  # commas and quotes: CSV quoting both ways
    with open(trained / "words.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["word"], *([w] for w in words)])
    done = run_in_project(
        trained, "-m", "nb", "predict", "--input", "words.csv", "--output", "pred.csv",
        "--model", "artifacts/train/reader.pt", "--batch-size", "4",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = (trained / "pred.csv").read_text().splitlines()
    assert lines[0] == "prediction" and lines[1:] == _reference(trained, words)


def test_predict_names_a_row_without_text(trained):
    (trained / "gap.csv").write_text("word\napple\n\nbean\n")
    done = run_in_project(
        trained, "-m", "nb", "predict", "--input", "gap.csv", "--output", "gap_out.csv",
        "--model", "artifacts/train/reader.pt",
    )  # fmt: skip
    assert done.returncode == 2 and "row 1 holds no text in column word" in done.stderr


@pytest.fixture(scope="module")
def server(trained):
    with serving(trained, _free_port(), "nb", "--model", "artifacts/train/reader.pt") as port:
        yield port


def test_serve_answers_texts_as_predict_does_and_refuses_what_is_no_text(trained, server):
    status, reply = _post(server, json.dumps({"inputs": ["banana", ["cherry"]]}).encode())
    assert status == 200 and reply == {"predictions": _reference(trained, ["banana", "cherry"])}
    malformed = {
        "no rows": {"inputs": []},
        "empty text": {"inputs": [""]},
        "a number": {"inputs": [3]},
        "two values in a row": {"inputs": [["a", "b"]]},
        "null": {"inputs": [None]},
        "no inputs": {"rows": ["a"]},
    }
    for why, body in malformed.items():
        status, reply = _post(server, json.dumps(body).encode())
        assert status == 422 and reply["error"], why
    assert _post(server, b"{not json")[0] == 422
    # the server is still up after every refusal
    assert _post(server, json.dumps({"inputs": ["apple"]}).encode())[0] == 200


def test_drift_compares_texts_by_their_descriptors(trained):
    reference = json.loads((trained / "artifacts" / "reference" / "reference.json").read_text())
    assert reference["source"] == "words" and reference["columns"][0] == "length"
    with open(trained / "fresh.csv", "w", newline="") as handle:  # the training texts again, in another order
        csv.writer(handle).writerows([["word"], *([w] for w in sorted(WORDS * 3))])
    with open(trained / "shifted.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["word"], *([f"Order {n} shipped, 2 boxes"] for n in range(24))])
    fresh = run_in_project(trained, "-m", "nb", "drift", "--input", "fresh.csv")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    shifted = run_in_project(trained, "-m", "nb", "drift", "--input", "shifted.csv")
    assert shifted.returncode == 1 and "DRIFT" in shifted.stdout, shifted.stdout + shifted.stderr


CLASSIFY = (
    "def classify(net, word):\n    return decode(net(encode(word)), labels)\n\n\n"  # reads the notebook's state
    'print(classify(reader, "bean"))'
)


def _with_evaluate(evaluate: str, tags: list[str]) -> list:
    return [*_cells(example=""), (evaluate, tags)]


def test_an_example_after_training_is_saved_by_its_stage_and_predicted_with_the_trained_model(tmp_path):
    cells = _with_evaluate(CLASSIFY, ["promote:evaluate"])
    chain = _chain(tmp_path, cells)
    assert (chain.stage, chain.saved) == ("evaluate", ["classify"])
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "nb.ipynb", cells), project, commit=False).ok
    assert lint_problems(project) == []
    for stage in ("train", "evaluate"):  # the schema is recorded once the stage that defines `classify` ran
        done = run_in_project(project, "-m", "nb", stage, "--accelerator", "cpu")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert (project / "artifacts" / "evaluate" / "classify.pt").is_file()
    schema = json.loads((project / "artifacts" / "schema.json").read_text())
    assert schema["prediction"]["example"] == _reference(project, ["bean"])[0]
    (project / "words.csv").write_text("word\n" + "\n".join(WORDS) + "\n")
    done = run_in_project(
        project, "-m", "nb", "predict", "--input", "words.csv", "--output", "pred.csv",
        "--model", "artifacts/train/reader.pt",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert (project / "pred.csv").read_text().splitlines()[1:] == _reference(project, WORDS)


def test_an_example_in_a_cell_no_step_holds_is_named_in_the_readme(tmp_path):
    cells = _with_evaluate(EVALUATE, ["promote:evaluate"]) + [(CLASSIFY, ["promote:skip"])]
    # the training loop builds its own data, and the only example is in a skipped cell
    files = api.preview(write_notebook(tmp_path / "nb.ipynb", cells), tmp_path / "out").files
    readme = next(f for f in files if f.path == "README.md").diff
    assert not any(f.path.endswith("predict.py") for f in files)
    assert "cell 7 (id" in readme and "tries it on an example text, `classify(reader, 'bean')`" in readme

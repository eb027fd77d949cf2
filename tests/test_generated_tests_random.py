"""Random tabular, text and Lightning notebooks: the promoted project lints clean, passes its own generated tests as
generated, and its pipeline computes the notebook's metric.

The differential test (test_differential.py) holds the package's numbers to the notebook's on plain Python; this one
runs what a user runs next: `pytest` in the generated project (predict and serve on the training rows, every stage
alone, tune, register), on the two shapes of notebook people promote most. Each example is seeded, so a failure names
its seed. The campaigns behind it (about 300 notebooks) found the classes of docs/reliability.md that name this file
or its neighbours: a Trainer told `accelerator='cpu'` taken for device boilerplate, `get_dummies`' booleans refused
by predict, the predict test reading raw categories, missing values refused by an imputing pipeline, imports sorted
by where the user stood, text pipelines' column of texts not found (and told apart from text labels).

CI runs 3 tabular, 2 text and 2 Lightning examples (about 2 minutes on 2 cores); more on demand:
``JUPYTERLAB_PROMOTE_RANDOM_TABULAR=100``, ``JUPYTERLAB_PROMOTE_RANDOM_TEXT=50``,
``JUPYTERLAB_PROMOTE_RANDOM_LIGHTNING=50``.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from jupyterlab_promote import api

from .helpers import lint_problems, metrics_of, run_in_project, write_notebook

TABULAR = int(os.environ.get("JUPYTERLAB_PROMOTE_RANDOM_TABULAR", "3"))
TEXT = int(os.environ.get("JUPYTERLAB_PROMOTE_RANDOM_TEXT", "2"))
LIGHTNING = int(os.environ.get("JUPYTERLAB_PROMOTE_RANDOM_LIGHTNING", "2"))

# the estimator, and the import it needs
ESTIMATORS = {
    "LogisticRegression(max_iter=500)": "from sklearn.linear_model import LogisticRegression",
    "RandomForestClassifier(n_estimators=20, random_state=seed)": "from sklearn.ensemble import RandomForestClassifier",
    "GradientBoostingClassifier(n_estimators=20, random_state=seed)": (
        "from sklearn.ensemble import GradientBoostingClassifier"
    ),
}
REGRESSORS = {
    "Ridge(alpha=1.0)": "from sklearn.linear_model import Ridge",
    "RandomForestRegressor(n_estimators=20, random_state=seed)": "from sklearn.ensemble import RandomForestRegressor",
}
METRICS = {  # the metric, its function's name, and how the evaluate cell computes it
    "accuracy": ("accuracy_score", "preds = model.predict(X_test)\naccuracy = accuracy_score(y_test, preds)"),
    "f1": ("f1_score", "preds = model.predict(X_test)\nf1 = f1_score(y_test, preds)"),
    "auc": ("roc_auc_score", "proba = model.predict_proba(X_test)[:, 1]\nauc = roc_auc_score(y_test, proba)"),
    "r2": ("r2_score", "r2 = r2_score(y_test, model.predict(X_test))"),
}


def tabular_notebook(rng: random.Random) -> tuple[list, str]:
    """pandas and scikit-learn: categories encoded by dummies, a map, codes or a ColumnTransformer, missing incomes
    filled or dropped, an optional scaler; a classification (three estimators, three metrics) or a regression."""
    regression = rng.random() < 0.3
    imports = ["import numpy as np", "import pandas as pd", "from sklearn.model_selection import train_test_split"]
    colors = rng.choice([["red", "green", "blue"], ["a", "b"]])
    data = (
        "rng = np.random.default_rng(seed)\ndf = pd.DataFrame({\n    'age': rng.integers(18, 80, n_rows),\n"
        f"    'income': rng.normal(50, 10, n_rows).round(2),\n    'color': rng.choice({colors!r}, n_rows),\n"
        "    'score_a': rng.random(n_rows),\n})\ndf['target'] = ((df['income'] > 50) ^ (df['score_a'] > 0.7)).astype(int)"
    )
    if regression:
        data += "\ndf['target'] = df['income'] * 0.1 + df['score_a'] + rng.normal(scale=0.1, size=n_rows)"
    missing = rng.random() < 0.3
    if missing:
        data += "\ndf.loc[df.index % 17 == 0, 'income'] = np.nan"
    encoding = rng.choice(["dummies", "map", "codes", "column_transformer"])
    lines = [rng.choice(["df['income'] = df['income'].fillna(df['income'].median())", "df = df.dropna()"])]
    lines = lines if missing else []
    lines += {
        "dummies": ["df = pd.get_dummies(df, columns=['color'], drop_first=True)"],
        "map": [f"df['color'] = df['color'].map({ {c: i for i, c in enumerate(colors)}!r})"],
        "codes": ["df['color'] = df['color'].astype('category').cat.codes"],
        "column_transformer": [],
    }[encoding]
    lines += ["X = df.drop(columns=['target'])", "y = df['target']"]
    lines.append("X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)")
    if encoding != "column_transformer" and rng.random() < 0.5:
        imports.append("from sklearn.preprocessing import StandardScaler")
        lines += [
            "scaler = StandardScaler()",
            "X_train = scaler.fit_transform(X_train)",
            "X_test = scaler.transform(X_test)",
        ]
    estimators = REGRESSORS if regression else ESTIMATORS
    estimator = rng.choice(sorted(estimators))
    imports.append(estimators[estimator])
    model = f"model = {estimator}"
    if encoding == "column_transformer":
        imports += [
            "from sklearn.compose import ColumnTransformer",
            "from sklearn.pipeline import Pipeline",
            "from sklearn.preprocessing import OneHotEncoder, StandardScaler",
        ]
        model = (
            "pre = ColumnTransformer([\n    ('num', StandardScaler(), ['age', 'income', 'score_a']),\n"
            "    ('cat', OneHotEncoder(handle_unknown='ignore'), ['color']),\n])\n"
            f"model = Pipeline([('pre', pre), ('clf', {estimator})])"
        )
    metric = "r2" if regression else rng.choice(["accuracy", "auc", "f1"])
    imports.append(f"from sklearn.metrics import {METRICS[metric][0]}")
    cells = [
        "\n".join(imports),
        (f"seed = {rng.randint(0, 9)}\nn_rows = {rng.choice([120, 200])}", ["parameters"]),
        (data, ["promote:data"]),
        ("\n".join(lines), ["promote:preprocess"]),
        (model, ["promote:model"]),
        ("model.fit(X_train, y_train)", ["promote:train"]),
        (METRICS[metric][1], ["promote:evaluate"]),
    ]
    return cells, metric


def text_notebook(rng: random.Random) -> tuple[list, str]:
    """scikit-learn on one text per row: a vectorizer (counts, TF-IDF, hashing) first, a classifier (optionally
    after an SVD, optionally in a grid search), labels as numbers or text, texts split as a Series, a list or an
    array, or the frame split and its column handed to ``fit``."""
    vectorizer = rng.choice(["TfidfVectorizer()", "CountVectorizer()", "HashingVectorizer(n_features=64)"])
    classifier = rng.choice(["LogisticRegression(max_iter=500)", "LinearSVC()", "SVD"])
    if classifier == "SVD":
        classifier = "TruncatedSVD(n_components=3, random_state=seed), LogisticRegression(max_iter=500)"
    model = f"make_pipeline({vectorizer}, {classifier})"
    if rng.random() < 0.3:
        model = f"GridSearchCV({model}, {{}}, cv=2)"
    imports = (
        "import numpy as np\nimport pandas as pd\n"
        f"from sklearn.feature_extraction.text import {vectorizer.split('(')[0]}\n"
        "from sklearn.decomposition import TruncatedSVD\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import accuracy_score\nfrom sklearn.model_selection import GridSearchCV, train_test_split\n"
        "from sklearn.pipeline import make_pipeline\nfrom sklearn.svm import LinearSVC"
    )
    data = (
        "rng = np.random.default_rng(seed)\nlabels = rng.integers(0, 2, n_docs)\n"
        "pos, neg = ['good', 'great', 'fine', 'love'], ['bad', 'awful', 'poor', 'sad']\n"
        "texts = [' '.join(rng.choice(pos if y else neg, 3)) + ' ' + rng.choice(pos + neg) for y in labels]\n"
        "df = pd.DataFrame({'text': texts, 'label': labels})"
    )
    if rng.random() < 0.5:
        data += "\ndf['label'] = df['label'].map({0: 'neg', 1: 'pos'})"
    split = "test_size=0.25, random_state=seed"
    shape = rng.choice(["series", "list", "array", "frame"])
    if shape == "frame":
        prepare = f"train_df, test_df = train_test_split(df, {split})"
        fit = "model.fit(train_df['text'], train_df['label'])"
        evaluate = "accuracy = accuracy_score(test_df['label'], model.predict(test_df['text']))"
    else:
        texts = {"series": "df['text']", "list": "list(df['text'])", "array": "df['text'].to_numpy()"}[shape]
        prepare = f"X_train, X_test, y_train, y_test = train_test_split({texts}, df['label'], {split})"
        fit = "model.fit(X_train, y_train)"
        evaluate = "accuracy = accuracy_score(y_test, model.predict(X_test))"
    cells = [
        imports,
        (f"seed = {rng.randint(0, 9)}\nn_docs = {rng.choice([80, 120])}", ["parameters"]),
        (data, ["promote:data"]),
        (prepare, ["promote:preprocess"]),
        (f"model = {model}", ["promote:model"]),
        (fit, ["promote:train"]),
        (evaluate, ["promote:evaluate"]),
    ]
    return cells, "accuracy"


def lightning_notebook(rng: random.Random) -> tuple[list, str]:
    """The notebook's own LightningModule and Trainer: a split or not, validation or not, callbacks, the Trainer
    told its accelerator or not, evaluated by hand or by ``trainer.validate``."""
    task = rng.choice(["classify", "regress"])
    data = ["pl.seed_everything(seed)", "X = torch.randn(256, 4)"]
    data.append("y = (X[:, 0] > 0).long()" if task == "classify" else "y = X.sum(1, keepdim=True)")
    if rng.random() < 0.5:
        data += [
            "train_set, val_set = random_split(TensorDataset(X, y), [200, 56], "
            "generator=torch.Generator().manual_seed(seed))",
            "train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)",
            "val_loader = DataLoader(val_set, batch_size=batch_size)",
        ]
    else:
        data += [
            "train_loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)",
            "val_loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)",
        ]
    loss = "nn.functional.cross_entropy" if task == "classify" else "nn.functional.mse_loss"
    validates = rng.random() < 0.6
    module = [
        "class LitNet(pl.LightningModule):",
        "    def __init__(self, hidden, lr):",
        "        super().__init__()",
        *(["        self.save_hyperparameters()"] if rng.random() < 0.5 else []),
        "        self.lr = lr",
        f"        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, {2 if task == 'classify' else 1}))",
        "",
        "    def forward(self, x):",
        "        return self.net(x)",
        "",
        "    def training_step(self, batch, batch_idx):",
        "        x, y = batch",
        f"        loss = {loss}(self(x), y)",
        "        self.log('train_loss', loss)",
        "        return loss",
        "",
    ]
    if validates:
        module += [
            "    def validation_step(self, batch, batch_idx):",
            "        x, y = batch",
            f"        self.log('val_loss', {loss}(self(x), y), prog_bar=True)",
            "",
        ]
    optimizer = rng.choice(["Adam", "SGD"])
    module += [
        "    def configure_optimizers(self):",
        f"        return torch.optim.{optimizer}(self.parameters(), lr=self.lr)",
    ]
    module += ["", "", "model = LitNet(hidden, lr)"]
    arguments = rng.choice(
        [
            "max_epochs=epochs, logger=False, enable_checkpointing=False",
            "max_epochs=epochs, enable_progress_bar=False, logger=False",
            "max_epochs=epochs, accelerator='cpu', devices=1, logger=False, enable_checkpointing=False",
        ]
    )
    if validates and rng.random() < 0.4:
        arguments += ", callbacks=[pl.callbacks.EarlyStopping(monitor='val_loss', patience=1)]"
    fit = rng.choice(["trainer.fit(model, train_loader, val_loader)", "trainer.fit(model, train_loader)"])
    if "EarlyStopping" in arguments:  # it stops the notebook itself without the metric it monitors (seed 1003)
        fit = "trainer.fit(model, train_loader, val_loader)"
    if validates and "EarlyStopping" not in arguments and rng.random() < 0.3:
        evaluate, metric = (
            "results = trainer.validate(model, val_loader)\nval_loss = results[0]['val_loss']",
            "val_loss",
        )
    elif task == "classify":
        evaluate = "model.eval()\nwith torch.no_grad():\n    accuracy = (model(X).argmax(1) == y).float().mean().item()"
        metric = "accuracy"
    else:
        evaluate, metric = (
            "model.eval()\nwith torch.no_grad():\n    mse = nn.functional.mse_loss(model(X), y).item()",
            "mse",
        )
    imports = (
        "import torch\nfrom torch import nn\nfrom torch.utils.data import DataLoader, TensorDataset, random_split\n"
    )
    cells = [
        imports + "import pytorch_lightning as pl",
        (
            f"epochs = {rng.choice([1, 2])}\nlr = {rng.choice([0.01, 0.05])}\nbatch_size = {rng.choice([16, 32])}\n"
            f"hidden = {rng.choice([8, 16])}\nseed = {rng.randint(0, 9)}",
            ["parameters"],
        ),
        ("\n".join(data), ["promote:data"]),
        ("\n".join(module), ["promote:model"]),
        (f"trainer = pl.Trainer({arguments})\n{fit}", ["promote:train"]),
        (evaluate, ["promote:evaluate"]),
    ]
    return cells, metric


def run_as_notebook(cells: list, metric: str, folder: Path) -> float:
    """The cells in one namespace in a fresh process, as a kernel runs them."""
    sources = folder / "cells.json"
    sources.write_text(json.dumps([cell if isinstance(cell, str) else cell[0] for cell in cells]))
    code = "import json, sys\nns = {}\nfor source in json.load(open(sys.argv[1])):\n    exec(source, ns)\n"
    code += f"print(json.dumps(ns[{metric!r}]))"
    done = run_in_project(folder, "-c", code, str(sources))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(cells: list, metric: str, seed: int, tmp_path: Path, package: str) -> None:
    expected = run_as_notebook(cells, metric, tmp_path)
    project = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / f"{package}.ipynb", cells), project, commit=False)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert lint_problems(project) == [], f"seed {seed}"
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", timeout=900)
    assert tests.returncode == 0, f"seed {seed}: " + tests.stdout[-3000:]
    # the pipeline's steps, as the notebook's cells (the MLOps stages after them are the generated tests' part)
    options = "{'accelerator': 'cpu'}" if package.startswith("lightning") else "{}"
    code = f"from {package}.config import load_config\nfrom {package}.pipeline import run\n"
    done = run_in_project(project, "-c", code + f"run(load_config('config.yaml', {options}))", timeout=900)
    assert done.returncode == 0, f"seed {seed}: " + done.stderr[-2000:]
    assert metrics_of(project)[metric] == expected, f"seed {seed}"


@pytest.mark.parametrize("seed", range(TABULAR))
def test_a_random_tabular_notebook_gives_a_project_that_passes_its_own_tests(seed: int, tmp_path: Path) -> None:
    cells, metric = tabular_notebook(random.Random(seed))
    _check(cells, metric, seed, tmp_path, f"tabular_{seed}")


@pytest.mark.parametrize("seed", range(LIGHTNING))
def test_a_random_lightning_notebook_gives_a_project_that_passes_its_own_tests(seed: int, tmp_path: Path) -> None:
    cells, metric = lightning_notebook(random.Random(seed))
    _check(cells, metric, seed, tmp_path, f"lightning_{seed}")


@pytest.mark.parametrize("seed", range(TEXT))
def test_a_random_text_notebook_gives_a_project_that_predicts_one_text_per_row(seed: int, tmp_path: Path) -> None:
    cells, metric = text_notebook(random.Random(seed))
    _check(cells, metric, seed, tmp_path, f"text_{seed}")
    # the generated predict test passes without a schema too (it checks the refusal): the schema must be there
    trained = run_in_project(tmp_path / "out", "-m", f"text_{seed}", "train", timeout=900)
    schema = json.loads((tmp_path / "out" / "artifacts" / "schema.json").read_text())["input"]
    assert schema["columns"] == ["text"] and schema["text_per_row"], f"seed {seed}: " + trained.stdout[-2000:]
    # drift's reference: the training texts' descriptors (four words each), not the labels'
    reference = json.loads((tmp_path / "out" / "artifacts" / "reference" / "reference.json").read_text())
    assert reference["columns"][1] == "words" and reference["mean"][1] == 4.0, f"seed {seed}: {reference}"

"""sklearn pipelines fitted on tables with text columns (issue 9): the adult-census shape of data.

A ``ColumnTransformer`` encodes the categories itself, so predict and serve must hand it the text as text: the
schema records which columns were text when the estimator was fitted, predict reads them from CSV (or Parquet)
as text, and serve accepts rows of numbers and text. Numeric columns are still checked as numbers.
"""

from __future__ import annotations

import json

import numpy as np

from jupyterlab_promote import api

from .helpers import lint_problems, run_in_project, write_notebook

CATEGORIES = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.compose import ColumnTransformer\n"
    "from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
    "from sklearn.preprocessing import OneHotEncoder",
    ("n = 300", ["parameters"]),
    (
        "rng = np.random.default_rng(0)\n"
        "data = pd.DataFrame({'age': rng.integers(18, 80, n), 'job': rng.choice([' clerk', ' nurse', ' pilot'], n),"
        " 'hours': rng.normal(40, 8, n)})\n"
        "target = ((data['job'] == ' pilot') | (data['age'] > 60)).map({True: ' >50K', False: ' <=50K'})",
        ["promote:data"],
    ),
    (
        "encode = ColumnTransformer([('job', OneHotEncoder(handle_unknown='ignore'), ['job'])], remainder='passthrough')\n"
        "model = make_pipeline(encode, LogisticRegression(max_iter=500))",
        ["promote:model"],
    ),
    ("model.fit(data, target)", ["promote:train"]),
    ("accuracy = model.score(data, target)", ["promote:evaluate"]),
]


def serving_code(package: str, rows: list) -> str:
    """Code that serves ``rows`` in process with the trained model and prints the answer after ``SERVED``."""
    return (
        f"import json, os\nfrom {package} import serve\nfrom {package}.config import load_config\n"
        "os.environ[serve.SCHEMA_ENV] = 'artifacts/schema.json'\n"
        "api = serve.ModelAPI(load_config('config.yaml', {}), 'artifacts/train/model.joblib', 1, 0.0)\napi.setup('cpu')\n"
        f"request = serve.PredictRequest(inputs={rows!r})\n"
        "print('SERVED', json.dumps(api.encode_response(api.predict(api.decode_request(request)))))\n"
    )


def test_text_columns_are_read_as_text_by_predict_and_serve(tmp_path):
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "tables.ipynb", CATEGORIES), project).ok
    assert lint_problems(project) == []
    (project / "new.csv").write_text("hours,job,age\n41.5, pilot,30\n38, clerk,65\n40, nurse,22\n45, astronaut,50\n")
    (project / "bad.csv").write_text("hours,job,age\nforty, pilot,30\n")
    np.save(project / "new.npy", np.zeros((2, 3)))
    code = (
        "import json, os, sys\nfrom tables.__main__ import main\n"
        "def run(argv):\n    try:\n        return main(argv)\n    except SystemExit as error:\n"
        "        print(error, file=sys.stderr)\n        return 1\n"
        "model = ['--model', 'artifacts/train/model.joblib']\n"
        "print('CODES', [run(['train']), run(['predict', '--input', 'new.csv', '--output', 'pred.csv', *model]),\n"
        "    run(['predict', '--input', 'bad.csv', '--output', 'x.csv', *model]),\n"
        "    run(['predict', '--input', 'new.npy', '--output', 'x.csv', *model])])\n"
        # the fitted pipeline called directly on the same rows
        "import joblib, pandas\n"
        "rows = pandas.read_csv('new.csv', dtype={'job': str})[['age', 'job', 'hours']]\n"
        "print('DIRECT', json.dumps(joblib.load('artifacts/train/model.joblib').predict(rows).tolist()))\n"
        # serve, in process: rows of numbers and text in the schema's column order
        + serving_code("tables", [[30, " pilot", 41.5], [65, " clerk", 38]])
        + "try:\n    serve.PredictRequest(inputs=[['thirty', ' pilot', 41.5]])\n"
        "except Exception as error:\n    print('REFUSED', error.errors()[0]['msg'])\n"
    )
    done = run_in_project(project, "-c", code)
    assert "CODES [0, 0, 2, 2]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    schema = json.loads((project / "artifacts" / "schema.json").read_text())
    assert schema["input"]["columns"] == ["age", "job", "hours"] and schema["input"]["text_columns"] == ["job"]
    direct = json.loads(done.stdout.split("DIRECT", 1)[1].splitlines()[0])
    predicted = (project / "pred.csv").read_text().splitlines()
    assert predicted[0] == "prediction" and predicted[1:] == direct and len(direct) == 4  # an unseen job included
    assert "column(s) hours hold non-numeric values" in done.stderr
    assert "the model takes text columns (job): give a .csv or .parquet file" in done.stderr
    served = json.loads(done.stdout.split("SERVED", 1)[1].splitlines()[0])
    assert served == {"predictions": direct[:2]}
    assert "column(s) age hold non-numeric values" in done.stdout.split("REFUSED", 1)[1]


DUMMIES = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
    ("n = 200", ["parameters"]),
    (
        "rng = np.random.default_rng(1)\n"
        "data = pd.DataFrame({'age': rng.integers(18, 80, n), 'color': rng.choice(['red', 'green', 'blue'], n)})\n"
        "data['label'] = ((data['color'] == 'red') | (data['age'] > 60)).astype(int)",
        ["promote:data"],
    ),
    (
        "data = pd.get_dummies(data, columns=['color'], drop_first=True)\n"
        "X = data.drop(columns=['label'])\ny = data['label']",
        ["promote:preprocess"],
    ),
    ("model = LogisticRegression(max_iter=500)", ["promote:model"]),
    ("model.fit(X, y)", ["promote:train"]),
    ("accuracy = model.score(X, y)", ["promote:evaluate"]),
]


def test_columns_of_booleans_are_read_as_numbers_by_predict(tmp_path):
    """``pd.get_dummies`` makes columns of booleans: a CSV of such rows (``True``/``False`` next to numbers) was
    refused by predict ("values must be numbers (found object data)"), and the generated predict test failed: 4 of
    31 random tabular notebooks. Found by running random notebooks' generated tests."""
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "dummies.ipynb", DUMMIES), project).ok
    (project / "new.csv").write_text("age,color_green,color_red\n30,False,True\n70,True,False\n25,True,False\n")
    code = (
        "import json, joblib, pandas\nfrom dummies.__main__ import main\n"
        "main(['train'])\n"
        "main(['predict', '--input', 'new.csv', '--output', 'pred.csv', '--model', 'artifacts/train/model.joblib'])\n"
        "rows = pandas.read_csv('new.csv')\n"
        "print('DIRECT', json.dumps(joblib.load('artifacts/train/model.joblib').predict(rows).tolist()))\n"
    )
    done = run_in_project(project, "-c", code)
    assert done.returncode == 0, done.stderr[-3000:]
    direct = json.loads(done.stdout.split("DIRECT", 1)[1].splitlines()[0])
    assert (project / "pred.csv").read_text().splitlines() == ["prediction", *map(str, direct)]
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stages.py")
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_the_generated_predict_test_takes_rows_as_the_model_took_them(tmp_path):
    """Categories turned into codes under the same column name, and missing incomes filled in, by preprocess: the
    generated predict test took its rows from the data step's frame (text, missing values), and failed
    ("could not convert string to float", "row 0 has a missing … value"): 2 of 3 random tabular notebooks."""
    cells = [
        DUMMIES[0],
        DUMMIES[1],
        (DUMMIES[2][0] + "\ndata['age'] = data['age'].astype(float)\ndata.loc[0, 'age'] = np.nan", ["promote:data"]),
        (
            "data['color'] = data['color'].astype('category').cat.codes\n"
            "data['age'] = data['age'].fillna(data['age'].median())\n"
            "X = data.drop(columns=['label'])\ny = data['label']",
            ["promote:preprocess"],
        ),
        *DUMMIES[4:],
    ]
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "codes.ipynb", cells), project).ok
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stages.py")
    assert tests.returncode == 0, tests.stdout[-3000:]


IMPUTED = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.impute import SimpleImputer\n"
    "from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline",
    ("n = 200", ["parameters"]),
    (
        "rng = np.random.default_rng(1)\n"
        "data = pd.DataFrame({'age': rng.integers(18, 80, n).astype(float), 'hours': rng.normal(40, 8, n)})\n"
        "data['label'] = (data['age'] > 50).astype(int)\ndata.loc[::9, 'hours'] = np.nan",
        ["promote:data"],
    ),
    ("X = data.drop(columns=['label'])\ny = data['label']", ["promote:preprocess"]),
    ("model = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))", ["promote:model"]),
    ("model.fit(X, y)", ["promote:train"]),
    ("accuracy = model.score(X, y)", ["promote:evaluate"]),
]


def test_missing_values_reach_an_estimator_that_imputes_them(tmp_path):
    """A pipeline with an imputer was fitted on rows with missing values, yet predict and serve refused every such
    row ("row 0 has a missing or infinite value"). The schema now records whether the fitted estimator predicts a
    row of missing numbers; then an empty CSV cell and a JSON null reach it. Infinite values are still refused, and
    an estimator that cannot take missing values still has them refused."""
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "imputed.ipynb", IMPUTED), project).ok
    (project / "new.csv").write_text("age,hours\n30,\n70,41\n")
    (project / "inf.csv").write_text("age,hours\n30,inf\n")
    code = (
        "import json, os, sys, joblib, pandas\nfrom imputed.__main__ import main\n"
        "def run(argv):\n    try:\n        return main(argv)\n    except SystemExit as error:\n"
        "        print(error, file=sys.stderr)\n        return 1\n"
        "model = ['--model', 'artifacts/train/model.joblib']\n"
        "print('CODES', [run(['train']), run(['predict', '--input', 'new.csv', '--output', 'pred.csv', *model]),\n"
        "    run(['predict', '--input', 'inf.csv', '--output', 'x.csv', *model])])\n"
        "rows = pandas.read_csv('new.csv')\n"
        "print('DIRECT', json.dumps(joblib.load('artifacts/train/model.joblib').predict(rows).tolist()))\n"
    ) + serving_code("imputed", [[30, None], [70, 41]])
    done = run_in_project(project, "-c", code)
    assert "CODES [0, 0, 2]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    assert json.loads((project / "artifacts" / "schema.json").read_text())["input"]["missing"] is True
    direct = json.loads(done.stdout.split("DIRECT", 1)[1].splitlines()[0])
    assert (project / "pred.csv").read_text().splitlines() == ["prediction", *map(str, direct)]
    assert json.loads(done.stdout.split("SERVED", 1)[1].splitlines()[0]) == {"predictions": direct}
    assert "row 0 has an infinite value" in done.stderr

    plain = tmp_path / "plain"  # no imputer: LogisticRegression refuses missing values, and so do predict and serve
    cells = [IMPUTED[0], IMPUTED[1], (IMPUTED[2][0].rsplit("\n", 1)[0], ["promote:data"]), IMPUTED[3]]
    cells += [("model = LogisticRegression(max_iter=500)", ["promote:model"]), *IMPUTED[5:]]
    assert api.promote(write_notebook(tmp_path / "plain.ipynb", cells), plain).ok
    (plain / "new.csv").write_text("age,hours\n30,\n")
    code = (
        "import sys\nfrom plain.__main__ import main\nmain(['train'])\n"
        "try:\n    main(['predict', '--input', 'new.csv', '--output', 'p.csv', '--model', 'artifacts/train/model.joblib'])\n"
        "except SystemExit as error:\n    print(error, file=sys.stderr)\n"
    )
    done = run_in_project(plain, "-c", code)
    assert json.loads((plain / "artifacts" / "schema.json").read_text())["input"]["missing"] is False
    assert "row 0 has a missing or infinite value" in done.stderr, done.stderr[-2000:]


def test_a_table_of_booleans_only_is_served_as_predict_reads_it(tmp_path):
    """Every feature a dummy column (categorical data, the mushrooms dataset's shape): predict read such rows, but
    serve refused them ("values must be numbers (found true/false)")."""
    cells = [
        DUMMIES[0],
        DUMMIES[1],
        (
            "rng = np.random.default_rng(1)\ndata = pd.DataFrame({'color': rng.choice(['red', 'green', 'blue'], n)})\n"
            "data['label'] = (data['color'] == 'red').astype(int)",
            ["promote:data"],
        ),
        *DUMMIES[3:],
    ]
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "flags.ipynb", cells), project).ok
    (project / "new.csv").write_text("color_green,color_red\nFalse,True\nTrue,False\nFalse,False\n")
    code = (
        "import json, os, joblib, pandas\nfrom flags.__main__ import main\nmain(['train'])\n"
        "main(['predict', '--input', 'new.csv', '--output', 'pred.csv', '--model', 'artifacts/train/model.joblib'])\n"
        "print('DIRECT', json.dumps(joblib.load('artifacts/train/model.joblib').predict(pandas.read_csv('new.csv')).tolist()))\n"
    ) + serving_code("flags", [[False, True], [True, False], [False, False]])
    done = run_in_project(project, "-c", code)
    assert done.returncode == 0, done.stderr[-3000:]
    direct = json.loads(done.stdout.split("DIRECT", 1)[1].splitlines()[0])
    assert (project / "pred.csv").read_text().splitlines() == ["prediction", *map(str, direct)]
    assert json.loads(done.stdout.split("SERVED", 1)[1].splitlines()[0]) == {"predictions": direct}


def test_a_regression_s_generated_predict_test_allows_the_last_bit(tmp_path):
    """A linear regression predicted 4 rows at a time gives numbers that may differ in their last bit from all
    rows at once (BLAS blocks the product by size): the generated predict test compared them exactly, and failed."""
    cells = [
        "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import Ridge\n"
        "from sklearn.metrics import r2_score\nfrom sklearn.model_selection import train_test_split",
        ("seed = 3\nalpha = 1.0\nn_rows = 150", ["parameters"]),
        (
            "rng = np.random.default_rng(seed)\n"
            "df = pd.DataFrame({'x1': rng.normal(size=n_rows), 'x2': rng.normal(size=n_rows), "
            "'kind': rng.choice(['u', 'v'], n_rows)})\n"
            "df['y'] = 2 * df['x1'] - df['x2'] + (df['kind'] == 'u') + rng.normal(scale=0.1, size=n_rows)\n"
            "df.loc[::11, 'x2'] = np.nan",
            ["promote:data"],
        ),
        (
            "df = pd.get_dummies(df, columns=['kind'])\nX = df.drop(columns='y')\ny = df['y']\n"
            "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)\n"
            "X_train = X_train.fillna(0)\nX_test = X_test.fillna(0)",
            ["promote:preprocess"],
        ),
        ("model = Ridge(alpha=alpha)", ["promote:model"]),
        ("model.fit(X_train, y_train)", ["promote:train"]),
        ("r2 = r2_score(y_test, model.predict(X_test))", ["promote:evaluate"]),
    ]
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "ridge.ipynb", cells), project).ok
    tests = run_in_project(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stages.py")
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_a_text_pipeline_fitted_on_one_text_per_row_is_predicted_served_and_registered(tmp_path):
    """``make_pipeline(TfidfVectorizer(), LogisticRegression())`` fitted on a Series of texts has no
    ``n_features_in_``: the schema once refused it ("takes no table of features"). Now the train stage finds the
    column of texts it predicts on, predict reads that column (a cell "NA" is a text), serve takes one text per row,
    and the registered model's signature makes MLflow hand it texts (a named string column would reach it as a
    DataFrame, read as the one text "text"). A table with a text column (a ColumnTransformer) is a table."""
    words = "pos, neg = ['good', 'great', 'fine'], ['bad', 'poor', 'sad']\nlabels = rng.integers(0, 2, n)\n"
    words += "texts = [' '.join(rng.choice(pos if y else neg, 3)) for y in labels]\n"
    cells = [
        "import numpy as np\nimport pandas as pd\nfrom sklearn.compose import ColumnTransformer\n"
        "from sklearn.feature_extraction.text import TfidfVectorizer\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline",
        ("n = 60", ["parameters"]),
        (
            "rng = np.random.default_rng(0)\n" + words + "df = pd.DataFrame({'text': texts, 'label': labels})",
            ["promote:data"],
        ),
        ("model = make_pipeline(TfidfVectorizer(), LogisticRegression())", ["promote:model"]),
        ("model.fit(df['text'], df['label'])", ["promote:train"]),
        ("accuracy = model.score(df['text'], df['label'])", ["promote:evaluate"]),
    ]
    series = tmp_path / "series"
    assert api.promote(write_notebook(tmp_path / "series.ipynb", cells), series).ok
    (series / "new.csv").write_text('text\ngood great\nNA\n"poor, sad"\n')
    (series / "other.csv").write_text("review\ngood\n")
    code = (
        "import json, sys\nfrom series.__main__ import main\n"
        "def run(argv):\n    try:\n        return main(argv)\n    except SystemExit as error:\n"
        "        print(error, file=sys.stderr)\n        return 1\n"
        "print('CODES', [run(['run']), run(['predict', '--input', 'new.csv', '--output', 'pred.csv']),\n"
        "    run(['predict', '--input', 'other.csv', '--output', 'x.csv'])])\n"
        "import joblib, mlflow, numpy, pandas\n"
        "direct = joblib.load('artifacts/train/model.joblib').predict(['good great', 'NA', 'poor, sad']).tolist()\n"
        "print('DIRECT', json.dumps(direct))\n"
        "mlflow.set_tracking_uri('sqlite:///mlflow.db')\n"
        "registered = mlflow.pyfunc.load_model('models:/series@champion')\n"
        "frame = pandas.DataFrame({'text': ['good great', 'NA', 'poor, sad']})\n"
        "print('MLFLOW', json.dumps(numpy.asarray(registered.predict(frame)).tolist()))\n"
        + serving_code("series", ["good great", ["NA"], "poor, sad"])
        + "try:\n    serve.PredictRequest(inputs=[3])\n"
        "except Exception as error:\n    print('REFUSED', error.errors()[0]['msg'])\n"
    )
    done = run_in_project(series, "-c", code)
    assert "CODES [0, 0, 2]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    schema = json.loads((series / "artifacts" / "schema.json").read_text())["input"]
    assert schema["columns"] == ["text"] and schema["text_per_row"] is True
    direct = json.loads(done.stdout.split("DIRECT", 1)[1].splitlines()[0])
    assert (series / "pred.csv").read_text().splitlines() == ["prediction", *map(str, direct)]
    assert json.loads(done.stdout.split("MLFLOW", 1)[1].splitlines()[0]) == direct
    assert json.loads(done.stdout.split("SERVED", 1)[1].splitlines()[0]) == {"predictions": direct}
    assert "missing column(s) text; the model takes text" in done.stderr
    assert "row 0 is not a text (int)" in done.stdout.split("REFUSED", 1)[1]
    tests = run_in_project(series, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stages.py")
    assert tests.returncode == 0, tests.stdout[-3000:]

    cells[3] = (
        "model = make_pipeline(ColumnTransformer([('words', TfidfVectorizer(), 'text')]), LogisticRegression())",
        ["promote:model"],
    )
    cells[4] = ("model.fit(df[['text']], df['label'])", ["promote:train"])
    cells[5] = ("accuracy = model.score(df[['text']], df['label'])", ["promote:evaluate"])
    table = tmp_path / "table"
    assert api.promote(write_notebook(tmp_path / "table.ipynb", cells), table).ok
    assert run_in_project(table, "-m", "table", "train").returncode == 0
    schema = json.loads((table / "artifacts" / "schema.json").read_text())
    assert schema["input"]["text_columns"] == ["text"] and schema["input"]["missing"] is False
    done = run_in_project(table, "-c", serving_code("table", [["good great"], ["poor sad"]]))
    assert json.loads(done.stdout.split("SERVED", 1)[1].splitlines()[0])["predictions"] == [1, 0], done.stderr[-2000:]


def test_the_column_of_texts_is_told_from_a_column_of_text_labels(tmp_path):
    """Labels that are text ("pos", "neg") make a second text column, which a text pipeline also predicts on: the
    schema once named neither ("not clear: label, text"). The labels the classifier predicts are not its input. Drift
    compares the texts' descriptors (it said "no table of numeric features; drift will not run")."""
    cells = [
        "import numpy as np\nimport pandas as pd\nfrom sklearn.feature_extraction.text import HashingVectorizer\n"
        "from sklearn.svm import LinearSVC\nfrom sklearn.pipeline import make_pipeline",
        ("n = 40", ["parameters"]),
        (
            "rng = np.random.default_rng(0)\nlabels = rng.integers(0, 2, n)\n"
            "texts = [' '.join(rng.choice(['good', 'fine'] if y else ['bad', 'poor'], 3)) for y in labels]\n"
            "df = pd.DataFrame({'text': texts, 'label': np.where(labels == 1, 'pos', 'neg')})",
            ["promote:data"],
        ),
        ("model = make_pipeline(HashingVectorizer(n_features=64), LinearSVC())", ["promote:model"]),
        ("model.fit(df['text'], df['label'])", ["promote:train"]),
        ("accuracy = model.score(df['text'], df['label'])", ["promote:evaluate"]),
    ]
    project = tmp_path / "labels"
    assert api.promote(write_notebook(tmp_path / "labels.ipynb", cells), project).ok
    trained = run_in_project(project, "-m", "labels", "train")
    schema = json.loads((project / "artifacts" / "schema.json").read_text())["input"]
    assert schema["columns"] == ["text"] and schema["text_per_row"] is True, trained.stdout[-2000:]
    # drift compares texts (the pipeline starts with a vectorizer), sampled from the texts, not the labels
    reference = json.loads((project / "artifacts" / "reference" / "reference.json").read_text())
    assert reference["columns"][:2] == ["length", "words"] and reference["mean"][1] == 3.0, reference
    (project / "new.csv").write_text("label,text\npos,good fine good\nneg,bad poor bad\n")
    drift = run_in_project(project, "-m", "labels", "drift", "--input", "new.csv")
    assert drift.returncode == 0 and "0 of 5 features drifted" in drift.stdout, drift.stdout + drift.stderr


def test_a_pipeline_that_starts_with_a_text_vectorizer_is_read_from_the_notebook():
    """Drift compares texts for these (inference.starts_with_text_vectorizer): a vectorizer made in place or bound
    to a name first; not one inside a ColumnTransformer (a table, whose numbers drift too) nor after another step."""
    from jupyterlab_promote.codegen.inference import starts_with_text_vectorizer

    texts = [
        "model = make_pipeline(TfidfVectorizer(), LogisticRegression())",
        "vec = TfidfVectorizer(min_df=2)\nmodel = make_pipeline(vec, LogisticRegression())",
        "model = Pipeline([('tfidf', text.CountVectorizer()), ('clf', MultinomialNB())])",
        "search = GridSearchCV(Pipeline(steps=[('v', vec)]), grid)\nvec = HashingVectorizer()",
    ]
    tables = [
        "model = make_pipeline(StandardScaler(), TfidfVectorizer())",
        "model = make_pipeline(ColumnTransformer([('w', TfidfVectorizer(), 'text')]), LogisticRegression())",
        "v = CountVectorizer()\nX = v.fit_transform(df.text)\nmodel = make_pipeline(vector, LogisticRegression())",
    ]
    assert [starts_with_text_vectorizer(source) for source in texts] == [True] * 4
    assert [starts_with_text_vectorizer(source) for source in tables] == [False] * 3

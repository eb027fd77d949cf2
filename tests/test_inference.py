"""Inference in promoted projects (issue 9): the recorded input schema, `predict` on files, `serve` over real HTTP.

One tiny torch project is promoted and trained once (its train stage, then register: a champion with a signature);
every test below uses it, through the project's own command line, as a user would.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from jupyterlab_promote import api
from jupyterlab_promote.codegen.postprocessing import postprocessing
from jupyterlab_promote.read.notebook import read_notebook
from jupyterlab_promote.stages import build_plan

from .helpers import TINY_TORCH, lint_problems, run_in_project, serving, write_notebook


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inference")
    notebook = write_notebook(root / "tiny.ipynb", TINY_TORCH)
    project = root / "out"
    assert api.promote(notebook, project).ok
    # train (data and model rebuilt in memory), then register: the champion; one process, as `python -m tiny STAGE`
    done = _cli(project, ["train", "--accelerator", "cpu"], ["register"])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return project


def _cli(project: Path, *commands: list[str], package: str = "tiny") -> subprocess.CompletedProcess:
    """``python -m PACKAGE COMMAND`` for each command, in one process (torch and Lightning import once); the exit
    codes are printed as the last line (a SystemExit's message goes to stderr, as Python prints it)."""
    code = (
        f"import sys\nfrom {package}.__main__ import main\n"
        "def run(argv):\n    try:\n        return main(argv)\n    except SystemExit as error:\n"
        "        print(error, file=sys.stderr)\n        return 1\n"
        f"print('CODES', [run(argv) for argv in {list(commands)!r}])"
    )
    return run_in_project(project, "-c", code)


@pytest.fixture(scope="module")
def predicted(trained) -> np.ndarray:
    """predict on a held-out CSV (the champion) and .npy (a model file, odd chunks): both outputs, as written."""
    values = _held_out(100, seed=1)
    _write_csv(trained / "held.csv", values)
    np.save(trained / "held.npy", values)
    done = _cli(
        trained,
        ["predict", "--input", "held.csv", "--output", "out/pred.csv"],
        [
            "predict",
            "--input",
            "held.npy",
            "--output",
            "pred.npy",
            "--model",
            "artifacts/train/model.pt",
            "--batch-size",
            "7",
        ],
    )
    assert done.returncode == 0 and "CODES [0, 0]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    return values


def _model(project: Path) -> torch.nn.Module:
    return torch.load(project / "artifacts" / "train" / "model.pt", weights_only=False).eval()


def _held_out(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, 3)).astype(np.float32)


def _write_csv(path: Path, values: np.ndarray, header: str = "x0,x1,x2") -> Path:
    np.savetxt(path, values, delimiter=",", header=header, comments="", fmt="%.9g")
    return path


def test_generated_inference_code_is_lint_clean_and_documented(trained):
    package = trained / "src" / "tiny"
    ours = [str(package / f"{name}.py") for name in ("schema", "predict", "serve", "stages", "registry", "__main__")]
    for command in (["ruff", "check", "--no-cache", "--select", "E4,E7,E9,F,I"], ["black", "--check", "--quiet"]):
        done = subprocess.run(
            [sys.executable, "-m", *command, *ours], cwd=trained, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert {"schema.py", "predict.py", "serve.py"} <= {p.name for p in package.iterdir()}
    main = (package / "__main__.py").read_text()
    assert "from .predict import main" in main and "from .serve import main" in main  # imported when used
    assert "litserve" in (trained / "pyproject.toml").read_text()
    assert "jupyterlab_promote" not in "".join(p.read_text() for p in package.glob("*.py"))
    readme = (trained / "README.md").read_text()
    assert "## Predict and serve" in readme and "`argmax`" in readme


def test_train_records_the_schema_and_register_logs_it_as_the_signature(trained):
    schema = json.loads((trained / "artifacts" / "schema.json").read_text())
    assert schema["input"] == {"shape": [3], "dtype": "float32", "columns": None}
    assert schema["output"] == {"shape": [2], "dtype": "float32"}
    assert (schema["postprocess"], schema["prediction"]) == ("argmax", {"shape": [], "dtype": "int64"})
    mlmodels = list((trained / "artifacts" / "mlruns").rglob("MLmodel"))
    assert mlmodels, "register logged no model"
    signature = yaml.safe_load(mlmodels[0].read_text())["signature"]
    inputs, outputs = json.loads(signature["inputs"]), json.loads(signature["outputs"])
    assert inputs == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]
    assert outputs == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]


def test_postprocessing_is_read_from_the_evaluate_step(tmp_path):
    def post(evaluate: str) -> str:
        cells = list(TINY_TORCH)
        cells[-1] = (evaluate, ["promote:evaluate"])
        plan = build_plan(read_notebook(write_notebook(tmp_path / "nb.ipynb", cells)))
        return postprocessing(plan, "model")

    assert post("with torch.no_grad():\n    acc = (model(X).argmax(1) == y).float().mean().item()") == "argmax"
    assert post("out = model(X)\n_, pred = torch.max(out, 1)\nacc = (pred == y).float().mean().item()") == "argmax"
    assert post("p = torch.sigmoid(model(X))[:, 1]\nacc = ((p > 0.5).long() == y).float().mean().item()") == "sigmoid"
    assert post("acc = (model(X)[:, 1] > 0).long().eq(y).float().mean().item()") == "none"  # not recognised: raw
    # in a function the step calls with the model (the quickstart's test(dataloader, model, loss_fn))
    assert (
        post("def check(net):\n    return (net(X).argmax(1) == y).float().mean().item()\nacc = check(model)")
        == "argmax"
    )


def test_an_argmax_the_step_applies_to_what_its_evaluation_function_returns_is_the_postprocessing(tmp_path):
    def post(evaluate: str) -> str:
        cells = list(TINY_TORCH)
        cells[-1] = ("import numpy as np\n" + evaluate, ["promote:evaluate"])
        plan = build_plan(read_notebook(write_notebook(tmp_path / "nb.ipynb", cells)))
        return postprocessing(plan, "model")

    collect = (
        "def collect(net):\n    losses, probs = [], []\n    with torch.no_grad():\n"
        "        z = net(X)\n        losses.append(float(((z - 1) ** 2).mean()))\n"
        "        p = torch.sigmoid(z).numpy()\n        probs.extend(p)\n"
        "    return sum(losses), np.vstack(probs), y.numpy()\n"
    )
    # the sigmoid inside, then the step's argmax over classes: the winning class (dev01's Trainer.eval_step)
    argmaxed = "loss, prob, truth = collect(model)\npred = np.argmax(prob, axis=1)\nacc = float((pred == truth).mean())"
    assert post(collect + argmaxed) == "argmax"
    # an argmax of the returned truth, not of the output, is no post-processing of it: the sigmoid stands
    truth = (
        "loss, prob, truth = collect(model)\npred = np.argmax(truth.reshape(-1, 1), axis=1)\nacc = float(pred.mean())"
    )
    assert post(collect + truth) == "sigmoid"
    # the step argmaxes a whole returned tensor; flattening (no axis) is not over classes
    logits = "def run(net):\n    return torch.cat([net(X[:4]), net(X[4:])])\n"
    assert post(logits + "out = run(model)\nacc = (out.argmax(1) == y).float().mean().item()") == "argmax"
    assert post(logits + "out = run(model)\nacc = float(np.argmax(out.numpy()))") == "none"


def test_predict_on_a_held_out_file_equals_the_model_called_directly(trained, predicted):
    values = predicted
    lines = (trained / "out" / "pred.csv").read_text().splitlines()
    assert lines[0] == "prediction" and len(lines) == 1 + len(values)  # one row per row, champion by default
    with torch.no_grad():
        expected = _model(trained)(torch.from_numpy(values)).argmax(1).numpy()
    assert np.array_equal(np.array(lines[1:], dtype=np.int64), expected)
    assert np.array_equal(np.load(trained / "pred.npy"), expected)


BAD_FILES = {
    "short.csv": ("x0,x1\n1,2\n", "each row must have 3 value(s)"),
    "missing.csv": ("x0,x1,x2\n1,2,3\n1,,3\n", "row 1 has a missing or infinite value"),
    "text.csv": ("x0,x1,x2\n1,a,3\n", "column(s) x1 hold non-numeric values"),
}


def test_predict_names_what_is_wrong_with_the_input(trained):
    for name, (content, _) in BAD_FILES.items():
        (trained / name).write_text(content)
    model = ["--model", "artifacts/train/model.pt"]
    commands = [["predict", "--input", name, "--output", "bad.csv", *model] for name in BAD_FILES]
    parquet = importlib.util.find_spec("pyarrow") is None  # Parquet needs pyarrow: without it, an error naming it
    if parquet:
        commands.append(["predict", "--input", "short.csv", "--output", "p.parquet", *model])
    done = _cli(trained, *commands)
    codes = [2, 2, 2] + ([1] if parquet else [])
    assert done.returncode == 0 and f"CODES {codes}" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    for name, (_, message) in BAD_FILES.items():
        assert f"predict: {name}: {message}" in done.stderr, done.stderr[-2000:]
    assert not parquet or "Parquet files need the pyarrow package (pip install pyarrow)" in done.stderr
    assert "Traceback" not in done.stderr


SKLEARN = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
    ("n = 200\nC = 1.0", ["parameters"]),
    (
        (
            "rng = np.random.default_rng(0)\nX = pd.DataFrame(rng.normal(size=(n, 3)), columns=['a', 'b', 'c'])\n"
            "y = (X['a'] + X['b'] > 0).astype(int)"
        ),
        ["promote:data"],
    ),
    ("model = LogisticRegression(C=C)", ["promote:model"]),
    ("model.fit(X, y)", ["promote:train"]),
    ("acc = model.score(X, y)", ["promote:evaluate"]),
]


def test_sklearn_projects_predict_with_the_estimator_by_column_name(tmp_path):
    project = tmp_path / "out"
    assert api.promote(write_notebook(tmp_path / "sk.ipynb", SKLEARN), project).ok
    values = np.random.default_rng(5).normal(size=(50, 3))
    # the columns in another order, and one the model does not take: picked by name
    frame = "c,extra,a,b\n" + "".join(f"{c!r},{i},{a!r},{b!r}\n" for i, (a, b, c) in enumerate(values.tolist()))
    (project / "new.csv").write_text(frame)
    (project / "unnamed.csv").write_text("x,y\n1,2\n")
    model = ["--model", "artifacts/train/model.joblib"]
    done = _cli(
        project,
        ["train"],
        ["predict", "--input", "new.csv", "--output", "pred.csv", *model],
        ["predict", "--input", "unnamed.csv", "--output", "bad.csv", *model],
        package="sk",
    )
    assert "CODES [0, 0, 2]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    assert "missing column(s) a, b, c; the model takes a, b, c" in done.stderr
    schema = json.loads((project / "artifacts" / "schema.json").read_text())
    assert schema["kind"] == "sklearn" and schema["input"]["columns"] == ["a", "b", "c"]
    import joblib
    import pandas as pd

    estimator = joblib.load(project / "artifacts" / "train" / "model.joblib")
    expected = estimator.predict(pd.DataFrame(values, columns=["a", "b", "c"]))
    lines = (project / "pred.csv").read_text().splitlines()
    assert lines[0] == "prediction" and [int(v) for v in lines[1:]] == expected.tolist()


def _peak_predict(project: Path, source: str, target: str) -> tuple[float, int]:
    """(seconds, peak RSS in MiB) of one predict, measured inside its own process."""
    code = (
        "import resource, sys, time; from tiny.__main__ import main; start = time.perf_counter();"
        f"rc = main(['predict', '--input', '{source}', '--output', '{target}', '--model', 'artifacts/train/model.pt',"
        " '--batch-size', '8192']); elapsed = time.perf_counter() - start;"
        "print('PEAK', elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)"
    )
    done = run_in_project(project, "-c", code)
    assert done.returncode == 0, done.stderr[-3000:]
    seconds, peak = done.stdout.split("PEAK")[-1].split()
    return float(seconds), int(peak) // 1024


def test_predict_keeps_memory_flat_on_large_files(trained):
    """A file 10x the training set (64 rows), then one of 1M rows: the peak memory barely moves."""
    small = _write_csv(trained / "ten_times.csv", _held_out(640, seed=2))
    large = trained / "large.csv"
    rng = np.random.default_rng(3)
    with open(large, "w") as handle:
        handle.write("x0,x1,x2\n")
        for _ in range(5):  # written in parts: the test itself stays small too
            np.savetxt(handle, rng.standard_normal((200_000, 3)).astype(np.float32), delimiter=",", fmt="%.6g")
    _, small_peak = _peak_predict(trained, small.name, "ten_times_pred.csv")
    assert len((trained / "ten_times_pred.csv").read_text().splitlines()) == 641
    seconds, large_peak = _peak_predict(trained, large.name, "large_pred.npy")
    predictions = np.load(trained / "large_pred.npy", mmap_mode="r")
    assert predictions.shape == (1_000_000,)
    print(
        f"\npredict: 1M CSV rows in {seconds:.1f} s ({1_000_000 / seconds:,.0f} rows/s); peak RSS {large_peak} MiB (640 rows: {small_peak} MiB)"
    )
    # the whole file in memory would add its parsed values (1M x 3 x 8 bytes), their float32 copy and the outputs
    assert large_peak - small_peak < 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def server(trained):
    # a model file: the registry's champion is predict's default, tested above (and MLflow is slow to import)
    args = ["tiny", "--max-rows", "1000", "--max-body-bytes", "50000", "--model", "artifacts/train/model.pt"]
    with serving(trained, _free_port(), *args) as port:
        yield port


def test_serve_answers_real_requests_as_predict_does(trained, predicted, server):
    values = predicted
    expected = [int(line) for line in (trained / "out" / "pred.csv").read_text().splitlines()[1:]]
    status, reply = _post(server, json.dumps({"inputs": values.tolist()}).encode())
    assert (status, reply) == (200, {"predictions": expected})
    status, reply = _post(server, json.dumps({"inputs": values[:1].tolist()}).encode())  # one row
    assert (status, reply) == (200, {"predictions": expected[:1]})
    latencies = []
    for row in values[:30]:
        start = time.perf_counter()
        assert _post(server, json.dumps({"inputs": [row.tolist()]}).encode())[0] == 200
        latencies.append(time.perf_counter() - start)
    print(
        f"\nserve: single-row latency p50 {np.percentile(latencies, 50) * 1000:.1f} ms over {len(latencies)} requests"
    )


MALFORMED = [
    ("not JSON", b"{inputs: [[1, 2, 3]]", "JSON"),
    ("no inputs key", b'{"rows": [[1, 2, 3]]}', "inputs"),
    ("empty", b'{"inputs": []}', "empty"),
    ("row too short", b'{"inputs": [[1, 2]]}', "3 value(s)"),
    ("flat row", b'{"inputs": [1, 2, 3]}', "3 value(s)"),
    ("ragged rows", b'{"inputs": [[1, 2, 3], [1, 2]]}', "same number of values"),
    ("strings", b'{"inputs": [["a", "b", "c"]]}', "numbers"),
    ("booleans", b'{"inputs": [[true, false, true]]}', "numbers"),
    ("null", b'{"inputs": [[null, 1, 2]]}', "numbers"),
    ("NaN", b'{"inputs": [[NaN, 1, 2]]}', "missing or infinite"),
    ("Infinity", b'{"inputs": [[1e400, 1, 2]]}', "missing or infinite"),
    ("nested object", b'{"inputs": [{"a": 1}]}', "numbers"),
    ("body is a list", b"[[1, 2, 3]]", "object"),
    ("too many rows", json.dumps({"inputs": [[1, 2, 3]] * 1001}).encode(), "at most 1000"),
    # Past --max-body-bytes (50 kB here). Small enough that the client has sent it all before the server refuses:
    # a body still streaming when the 413 comes back meets a reset connection (any HTTP server), not an answer.
    ("oversized body", b'{"inputs": [' + b"[1, 2, 3], " * 6_000 + b"[1, 2, 3]]}", "too large"),
]


def test_serve_answers_malformed_requests_with_4xx_naming_the_problem(server):
    answers = {name: _post(server, body) for name, body, _ in MALFORMED}
    for name, _, words in MALFORMED:
        status, reply = answers[name]
        assert 400 <= status < 500, (name, status, reply)
        assert words.lower() in json.dumps(reply).lower(), (name, reply)
    status, reply = _post(server, b'{"inputs": [[1, 2, 3]]}')  # the worker lives on
    assert status == 200 and len(reply["predictions"]) == 1


# A loop the Lightning mapping leaves as written (it unpacks the batch itself, reshapes it and prints progress): the
# project runs it on Fabric, and predict/serve take the model's call from the loop (codegen/batch_call.py).
KEPT = [
    *TINY_TORCH[:2],
    (
        (
            "X = torch.randn(64, 1, 3)\ny = (X.sum((1, 2)) > 0).long()\n"
            "loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)"
        ),
        ["promote:data"],
    ),
    TINY_TORCH[3],
    (
        (
            "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()\n"
            "for epoch in range(epochs):\n"
            "    for i, batch in enumerate(loader):\n"
            "        xb, yb = batch\n"
            "        xb = xb.view(xb.shape[0], -1)\n"
            "        optimizer.zero_grad()\n"
            "        loss = loss_fn(model(xb), yb)\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "        if i % 100 == 0:\n"
            "            print(epoch, i, loss.item())"
        ),
        ["promote:train"],
    ),
    (
        "with torch.no_grad():\n    acc = (model(X.view(len(X), -1)).argmax(1) == y).float().mean().item()",
        ["promote:evaluate"],
    ),
]


def test_a_loop_kept_on_fabric_predicts_and_serves_through_its_own_batch_call(tmp_path):
    project = tmp_path / "out"
    result = api.promote(write_notebook(tmp_path / "kept.ipynb", KEPT), project)
    assert result.ok and result.plan.loop is None  # kept as written, not mapped
    package = project / "src" / "kept"
    assert "fabric.setup" in (package / "pipeline.py").read_text()
    # the call as the loop makes it: the reshape before it is part of the model's input
    assert "xb, yb = next(iter(loader))\n    return xb.view(xb.shape[0], -1)" in (package / "schema.py").read_text()
    assert "class Predictor(pl.LightningModule)" in (package / "predict.py").read_text()
    assert lint_problems(project) == []
    values = _held_out(40, seed=4)
    _write_csv(project / "held.csv", values)
    model = ["--model", "artifacts/train/model.pt"]
    done = _cli(
        project,
        ["train", "--accelerator", "cpu"],
        ["predict", "--input", "held.csv", "--output", "pred.csv", *model, "--batch-size", "16"],
        package="kept",
    )
    assert done.returncode == 0 and "CODES [0, 0]" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    schema = json.loads((project / "artifacts" / "schema.json").read_text())
    assert schema["input"]["shape"] == [3] and schema["postprocess"] == "argmax"
    lines = (project / "pred.csv").read_text().splitlines()
    assert lines[0] == "prediction" and len(lines) == 1 + len(values)  # one output row per input row
    with torch.no_grad():
        expected = _model(project)(torch.from_numpy(values)).argmax(1).numpy()
    assert np.array_equal(np.array(lines[1:], dtype=np.int64), expected)
    # serve: requests checked against the schema, then the same predictions (in process: no HTTP server needed here)
    code = (
        "import json, os, pydantic\nfrom kept import serve\nfrom kept.config import load_config\n"
        "os.environ[serve.SCHEMA_ENV] = 'artifacts/schema.json'\n"
        "try:\n    serve.PredictRequest(inputs=[[1.0, 2.0]])\nexcept pydantic.ValidationError as error:\n"
        "    print('REFUSED', error.errors()[0]['msg'])\n"
        "api = serve.ModelAPI(load_config('config.yaml', {}), 'artifacts/train/model.pt', 1, 0.0)\napi.setup('cpu')\n"
        f"request = serve.PredictRequest(inputs={values[:5].tolist()!r})\n"
        "print('SERVED', json.dumps(api.encode_response(api.predict(api.decode_request(request)))))"
    )
    done = run_in_project(project, "-c", code)
    assert "REFUSED Value error, each row must have 3 value(s)" in done.stdout, done.stdout + done.stderr[-3000:]
    served = json.loads(done.stdout.split("SERVED", 1)[1])
    assert served == {"predictions": expected[:5].tolist()}


def _step(indent: int) -> str:
    """The optimisation lines after the model's call, at the loop body's indentation."""
    lines = ["loss = loss_fn(out, yb)", "optimizer.zero_grad()", "loss.backward()", "optimizer.step()"]
    return "".join(" " * indent + line + "\n" for line in lines)


KEPT_LOOPS = {
    # tqdm around enumerate around the loader; the batch unpacked in the target
    "for epoch in range(epochs):\n    for i, (xb, yb) in tqdm(enumerate(loader)):\n        out = model(xb)\n"
    + _step(8): ("xb, yb", "xb"),
    # a function the cell defines and calls with the loader and the model; the device move dropped
    "def fit(dl, net):\n    for xb, yb in dl:\n        xb, yb = xb.to(device), yb.to(device)\n        out = net(xb)\n"
    + _step(8)
    + "for epoch in range(epochs):\n    fit(loader, model)": ("xb, yb", "xb"),
    # several outputs: predict and serve take the first (test_inference_calls.py has the other kept-loop calls)
    "for xb, yb in loader:\n    out, extra = model(xb)\n" + _step(4): ("xb, yb", "xb", "model(features)[0]"),
    # a rebinding under a condition: which input the model sees is not the batch's alone
    "for xb, yb in loader:\n    if lr > 1:\n        xb = -xb\n    out = model(xb)\n" + _step(4): None,
    # a comprehension's own variable, not the batch, though it has the batch's name
    "for xb, yb in loader:\n    out = torch.cat([model(xb) for xb in xb.split(8)])\n" + _step(4): None,
    # a name from outside the batch
    "noise = torch.randn(3)\nfor xb, yb in loader:\n    out = model(xb + noise)\n" + _step(4): None,
}


def test_the_model_call_is_read_from_the_loop_the_notebook_keeps(tmp_path):
    from jupyterlab_promote.codegen.batch_call import kept_loop_forward

    for index, (loop, expected) in enumerate(KEPT_LOOPS.items()):
        train = "optimizer = torch.optim.SGD(model.parameters(), lr=lr)\nloss_fn = nn.CrossEntropyLoss()\n" + loop
        model = "device = 'cuda' if torch.cuda.is_available() else 'cpu'\nmodel = nn.Linear(3, 2)"
        cells = [TINY_TORCH[0] + "\nfrom tqdm import tqdm", *TINY_TORCH[1:3], (model, ["promote:model"])]
        cells.append((train, ["promote:train"]))
        plan = build_plan(read_notebook(write_notebook(tmp_path / f"nb{index}.ipynb", cells)))
        found = kept_loop_forward(plan, "model", {"X", "y", "loader", "device", "model"})
        forward = expected[2] if expected and len(expected) > 2 else "model(features)"
        wanted = expected and {
            "loader": "loader",
            "batch_target": expected[0],
            "arguments": expected[1],
            "input": expected[1],
            "forward": forward,
        }
        assert found == wanted, loop

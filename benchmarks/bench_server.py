"""Latency of the server extension's routes on the shared notebook corpus, over real HTTP.

    python benchmarks/bench_server.py                       # launches a throwaway `jupyter server`
    python benchmarks/bench_server.py --url URL --token T --root DIR   # uses a running one

Each corpus notebook is copied into the server root; the script reports the
median of 5 analyze and 5 preview calls and of 3 promotes (a fresh output
directory each) in milliseconds. It stops early rather than run past --budget.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
REPEATS = {"analyze": 5, "preview": 5, "promote": 3}


def request(url: str, token: str, route: str, body: dict | None = None, timeout: float = 120) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{url.rstrip('/')}/jupyterlab-promote/{route}", data=data, method="GET" if body is None else "POST"
    )
    req.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_server(root: Path, workdir: Path) -> tuple[subprocess.Popen, str, str]:
    """`jupyter server` on a free loopback port, with only this extension and a known token."""
    port, token = free_port(), os.urandom(8).hex()
    config = workdir / "bench_config.py"
    config.write_text(
        "c.ServerApp.jpserver_extensions = {'jupyterlab_promote': True}\n"
        "c.ServerApp.open_browser = False\n"
        f"c.IdentityProvider.token = {token!r}\n"
    )
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"), "JUPYTER_RUNTIME_DIR": str(workdir / "runtime")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for role in ("AUTHOR", "COMMITTER"):  # promote commits; a bench machine may have no git identity
        env.setdefault(f"GIT_{role}_NAME", "Bench")
        env.setdefault(f"GIT_{role}_EMAIL", "bench@example.com")
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--config={config}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--allow-root",
    ]
    log = open(workdir / "server.log", "wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"jupyter server exited early; see {workdir / 'server.log'}")
        try:
            if request(url, token, "version", timeout=2)[0] == 200:
                return server, url, token
        except OSError:
            pass
        time.sleep(0.25)
    server.terminate()
    raise SystemExit(f"jupyter server did not answer within 60 s; see {workdir / 'server.log'}")


def timed(url: str, token: str, route: str, body: dict) -> tuple[float, int, dict]:
    started = time.perf_counter()
    status, reply = request(url, token, route, body)
    return (time.perf_counter() - started) * 1000, status, reply


def bench_notebook(url: str, token: str, root: Path, notebook: Path, deadline: float) -> dict:
    rel = f"bench/{notebook.name}"
    (root / "bench").mkdir(exist_ok=True)
    shutil.copy(notebook, root / rel)
    row: dict = {"notebook": notebook.name}
    for route, repeats in REPEATS.items():
        times, outcome = [], ""
        for i in range(repeats):
            if time.monotonic() > deadline:
                break
            body = {"path": rel}
            if route == "promote":
                body["output"] = f"bench/{notebook.stem}_out{i}"  # fresh output each time
            ms, status, reply = timed(url, token, route, body)
            times.append(ms)
            outcome = str(status) if status != 200 else ("ok" if reply.get("ok") else "not ok")
        row[route] = (statistics.median(times) if times else None, outcome)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="URL of a running server (with --token and --root)")
    parser.add_argument("--token")
    parser.add_argument("--root", type=Path, help="that server's root_dir: notebooks are copied into ROOT/bench")
    parser.add_argument("--budget", type=float, default=170, help="seconds before stopping early (default 170)")
    args = parser.parse_args()
    notebooks = sorted(CORPUS.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks in {CORPUS}")
    deadline = time.monotonic() + args.budget
    with tempfile.TemporaryDirectory(prefix="promote-bench-") as tmp:
        server = None
        if args.url:
            if not (args.token and args.root):
                raise SystemExit("--url needs --token and --root")
            url, token, root = args.url, args.token, args.root
        else:
            root = Path(tmp, "root")
            root.mkdir()
            server, url, token = launch_server(root, Path(tmp))
        try:
            rows = [bench_notebook(url, token, root, nb, deadline) for nb in notebooks if time.monotonic() < deadline]
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    print(f"{'notebook':<46}" + "".join(f"{route + ' ms':>20}" for route in REPEATS))
    for row in rows:
        cells = [f"{row[r][0]:.0f} ({row[r][1]})" if row[r][0] is not None else "-" for r in REPEATS]
        print(f"{row['notebook']:<46}" + "".join(f"{cell:>20}" for cell in cells))
    if len(rows) < len(notebooks) or time.monotonic() > deadline:
        print(f"(stopped early: --budget {args.budget:.0f} s reached)")
    print("medians of 5 analyze, 5 preview, 3 promote calls; status: ok / not ok (plan errors) / HTTP code")


if __name__ == "__main__":
    main()

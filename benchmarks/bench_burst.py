"""A burst against the server extension: N concurrent previews of one notebook and N contents GETs of it.

Used by bench_targets.py; latencies are wall seconds per request, all 2N requests started together.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import bench_server


def _timed(url: str, token: str, data: bytes | None, into: list[float]) -> None:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Authorization", f"token {token}")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
    into.append(time.perf_counter() - started)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def burst(tree: Path, notebook: Path, n: int) -> list[tuple[str, str]]:
    """[(label, value)] rows: p50/p95 of previews and of contents GETs, and the p95 ratio."""
    with tempfile.TemporaryDirectory(prefix="burst-") as tmp:
        root = Path(tmp, "root")
        (root / "bench").mkdir(parents=True)
        shutil.copy(notebook, root / "bench" / notebook.name)
        bench_server.REPO = tree  # the server imports the extension from this tree
        server, url, token = bench_server.launch_server(root, Path(tmp))
        try:
            preview = f"{url}jupyterlab-promote/preview"
            contents = f"{url}api/contents/bench/{notebook.name}"
            body = ('{"path": "bench/%s"}' % notebook.name).encode()
            _timed(preview, token, body, [])  # warm-up: imports (black, jinja2) paid once, as in a running server
            _timed(contents, token, None, [])
            previews: list[float] = []
            gets: list[float] = []
            threads = [threading.Thread(target=_timed, args=(preview, token, body, previews)) for _ in range(n)]
            threads += [threading.Thread(target=_timed, args=(contents, token, None, gets)) for _ in range(n)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return [
        (f"{n} previews p50 / p95", f"{statistics.median(previews):6.2f} s {_p95(previews):6.2f} s"),
        (f"{n} contents GETs p50 / p95", f"{statistics.median(gets):6.2f} s {_p95(gets):6.2f} s"),
        ("preview p95 / contents p95", f"{_p95(previews) / _p95(gets):6.2f}x"),
    ]

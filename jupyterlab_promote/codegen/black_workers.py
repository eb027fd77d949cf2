"""black over many pieces at once, in worker processes: a first promotion of a large notebook waits on black.

Worth it only for a lot of code (starting a worker and importing black in it costs ~0.3 s): below
``PARALLEL_CHARACTERS`` of code not yet formatted, or with one core, the pieces are formatted in this process.
The output is the same either way: each piece is black's output for that piece alone (piecewise_black).
``JUPYTERLAB_PROMOTE_FORMAT_WORKERS`` sets the number of workers (1: never).

A worker is ``python -m jupyterlab_promote.codegen.black_workers``, reading JSON on stdin and writing JSON on
stdout; not multiprocessing, whose spawned children import the caller's ``__main__`` again (a user's script
calling ``api.promote`` without a main guard would run again in each of them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

PARALLEL_CHARACTERS = 300_000  # about 2 s of black
_MOST_WORKERS = 8


def mode_key(mode) -> str:
    """black's Mode as JSON, for cache keys and workers (the fields black_mode sets)."""
    options = {
        "target_versions": sorted(version.name for version in mode.target_versions),
        "line_length": mode.line_length,
        "string_normalization": mode.string_normalization,
        "magic_trailing_comma": mode.magic_trailing_comma,
        "preview": mode.preview,
        "unstable": mode.unstable,
    }
    return json.dumps(options, sort_keys=True)


@lru_cache(maxsize=8)
def mode_of(key: str):
    import black

    options = json.loads(key)
    options["target_versions"] = {black.TargetVersion[name] for name in options["target_versions"]}
    return black.Mode(**options)


def workers() -> int:
    configured = os.environ.get("JUPYTERLAB_PROMOTE_FORMAT_WORKERS", "")
    if configured.isdigit():
        return max(1, int(configured))
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may use (a container's share)
    except AttributeError:
        cores = os.cpu_count() or 1
    return min(cores, _MOST_WORKERS)


def format_in_workers(pieces: list[str], key: str) -> list[str] | None:
    """black's output for each piece under the Mode ``key`` describes, from worker processes; None when not worth
    it or a worker failed (the caller formats them itself, and meets there any error black raises)."""
    count = min(workers(), len(pieces))
    if count < 2 or sum(len(piece) for piece in pieces) < PARALLEL_CHARACTERS:
        return None
    batches = _balanced(pieces, count)
    with ThreadPoolExecutor(max_workers=count) as threads:
        done = list(threads.map(lambda batch: _run_worker([pieces[i] for i in batch], key), batches))
    if any(texts is None for texts in done):
        return None
    formatted: list[str] = [""] * len(pieces)
    for batch, texts in zip(batches, done):
        for index, text in zip(batch, texts):
            formatted[index] = text
    return formatted


def _balanced(pieces: list[str], count: int) -> list[list[int]]:
    """Piece indexes in ``count`` batches of about equal size: the largest first, each to the lightest batch."""
    batches: list[list[int]] = [[] for _ in range(count)]
    sizes = [0] * count
    for index in sorted(range(len(pieces)), key=lambda i: -len(pieces[i])):
        lightest = sizes.index(min(sizes))
        batches[lightest].append(index)
        sizes[lightest] += len(pieces[index])
    return batches


def _run_worker(texts: list[str], key: str) -> list[str] | None:
    request = json.dumps({"mode": key, "texts": texts})
    command = [sys.executable, "-m", "jupyterlab_promote.codegen.black_workers"]
    # this very package, wherever the caller imported it from (a checkout on sys.path, not the installed one)
    here = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(command, input=request, capture_output=True, text=True, env=env, check=False)
    except OSError:  # no process can start here
        return None
    if done.returncode != 0:
        return None
    try:
        formatted = json.loads(done.stdout)
    except ValueError:
        return None
    return formatted if isinstance(formatted, list) and len(formatted) == len(texts) else None


def main() -> int:
    import gc

    import black

    gc.disable()  # a short-lived process: collecting black's trees (webs of cycles) as they grow is half its time
    request = json.loads(sys.stdin.read())
    mode = mode_of(request["mode"])
    json.dump([black.format_str(text, mode=mode) for text in request["texts"]], sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Reproduce the Binder build and launch as closely as this machine allows, then promote the demo in Chromium.

Usage: python3 .ci/binder_build.py [REPO]   (REPO defaults to this checkout; its HEAD is cloned)

repo2docker puts the repository in the user's home directory, installs binder/environment.yml, runs
binder/postBuild there, and starts `jupyter lab`; Binder's link opens urlpath=lab/tree/demo.ipynb. Here: a fresh
clone as $HOME, a plain virtual environment with pip's equivalents of environment.yml (python, nodejs and git
come from the machine), postBuild run as-is (`set -e`: any error fails), a real `jupyter lab`, and the panel
driven by Playwright in Chromium (ui-tests/binder), ending with the promotion's commit checked on disk and the
promoted project's tests passing in that environment. Prints each stage's wall time with the load average after it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pip_requirements(environment_yml: str) -> list[str]:
    """environment.yml's conda dependencies that pip can install (python, nodejs and git are the machine's)."""
    machine = {"python", "nodejs", "git"}
    found = re.findall(r"^\s*-\s*([A-Za-z0-9_.\-]+)\s*([<>=!][^#\n]*)?$", environment_yml, re.MULTILINE)
    return [
        name + (spec or "").strip()
        for name, spec in found
        if name not in machine and name not in {"conda-forge", "nodefaults"}
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: int = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"jupyter lab did not answer at {url} within {seconds} s")
            time.sleep(1)


def stage(name: str, started: float) -> float:
    now = time.perf_counter()
    print(f"binder simulation: {name} took {now - started:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    return now


def main(repo: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="binder-") as tmp:
        home, venv = Path(tmp) / "home", Path(tmp) / "venv"
        begin = t = time.perf_counter()
        subprocess.run(["git", "clone", "-q", str(repo), str(home)], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "VIRTUAL_ENV", "PYTHON", "JUPYTER"))}
        env.update(
            HOME=str(home),
            PATH=f"{venv / 'bin'}:{env['PATH']}",
            VIRTUAL_ENV=str(venv),
            GIT_CONFIG_NOSYSTEM="1",
            OMP_NUM_THREADS="1",
            # The new $HOME would hide the caches a CI machine keeps; the build is the same either way.
            PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            YARN_CACHE_FOLDER=os.environ.get("YARN_CACHE_FOLDER", str(Path.home() / ".yarn" / "berry" / "cache")),
            YARN_GLOBAL_FOLDER=os.environ.get("YARN_GLOBAL_FOLDER", str(Path.home() / ".yarn" / "berry")),
            # pip's compiling of every installed module is two thirds of an install here (torch: 39 s, 15 s
            # without); Python compiles what is imported when it is first imported instead. Same packages.
            PIP_COMPILE="0",
        )
        requirements = pip_requirements((home / "binder" / "environment.yml").read_text())
        print(f"binder simulation: environment.yml as pip: {requirements}", flush=True)
        # --upgrade: conda gives the environment its current pip, not the one this Python's venv starts with.
        subprocess.run(
            [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--upgrade", *requirements],
            env=env,
            check=True,
        )
        t = stage("environment", t)
        subprocess.run(["bash", "binder/postBuild"], cwd=home, env=env, check=True)
        t = stage("postBuild", t)

        port, token = free_port(), secrets.token_hex(16)
        lab_log = Path(tmp) / "lab.log"
        with open(lab_log, "w") as lab_stderr:
            lab = subprocess.Popen(
                [
                    "jupyter",
                    "lab",
                    "--no-browser",
                    "--ip=127.0.0.1",
                    f"--port={port}",
                    f"--IdentityProvider.token={token}",
                    "--allow-root",
                    f"--ServerApp.root_dir={home}",
                ],
                cwd=home,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=lab_stderr,
            )
            try:
                wait_for(f"http://127.0.0.1:{port}/api/status?token={token}")
                t = stage("jupyter lab start", t)
                result_file = Path(tmp) / "result.json"
                ui_env = dict(
                    os.environ,
                    BINDER_LAB_URL=f"http://127.0.0.1:{port}/lab/tree/demo.ipynb?token={token}",
                    BINDER_RESULT_FILE=str(result_file),
                    CI="1",
                )
                done = subprocess.run(
                    ["jlpm", "playwright", "test", "-c", "binder.config.js"],
                    cwd=ROOT / "ui-tests",
                    env=ui_env,
                    check=False,
                )
                t = stage("promote from the panel in Chromium", t)
            finally:
                lab.terminate()
                lab.wait(timeout=60)
        if done.returncode != 0:
            print(lab_log.read_text()[-5000:])
            return 1
        answer = json.loads(result_file.read_text())
        project = home / answer["output"]
        log = subprocess.run(
            ["git", "-C", str(project), "log", "--all", "--oneline"], capture_output=True, text=True, check=True
        ).stdout
        assert answer["sha"] in log, (answer, log)
        assert (project / "src" / "demo" / "pipeline.py").is_file(), project
        print(f"binder simulation: commit {answer['sha']} in {project}", flush=True)
        # postBuild installs the demo extra, not the test suite's: the promoted project's own tests (what the panel's
        # Tests job runs) must pass on it.
        subprocess.run(
            [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env, check=True
        )
        stage("the promoted project's tests", t)
        print(f"binder simulation: total {time.perf_counter() - begin:.1f} s")
        print("binder simulation: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))

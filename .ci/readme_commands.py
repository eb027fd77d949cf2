"""Run every command of the README exactly as written, as a newcomer would: fresh clone, fresh venv, no ../shared.

Usage: python3 .ci/readme_commands.py [REPO]   (REPO defaults to this checkout; its HEAD is cloned)

Each fenced ```bash block of README.md is pasted line by line into a shell that starts at the clone's root
(a reader's fresh terminal there), with the virtual environment active and no global git identity (so the
setup's demo-repository identity is what promotion uses). Prints the wall time of each command; exits 1 on the
first command that fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FENCE = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_commands(readme: str) -> list[str]:
    """The command lines of every ```bash block, in order (blank lines and comments left out)."""
    return [
        line
        for block in FENCE.findall(readme)
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def newcomer_env(scratch: Path, venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "VIRTUAL_ENV", "PYTHON"))}
    empty = scratch / "empty.gitconfig"
    empty.touch()
    env.update(
        PATH=f"{venv / 'bin'}:{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        GIT_CONFIG_GLOBAL=str(empty),  # a machine where nobody ran `git config --global` yet
        GIT_CONFIG_NOSYSTEM="1",
        OMP_NUM_THREADS="1",
    )
    return env


def main(repo: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="readme-") as tmp:
        scratch = Path(tmp)
        clone = scratch / "jupyterlab-promote"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        venv = scratch / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = newcomer_env(scratch, venv)
        commands = readme_commands((clone / "README.md").read_text(encoding="utf-8"))
        assert commands, "README.md has no ```bash block"
        timings = []
        for number, command in enumerate(commands, 1):
            print(f"\n=== README command {number}/{len(commands)}: {command}", flush=True)
            started = time.perf_counter()
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=clone, env=env)
            seconds = time.perf_counter() - started
            timings.append((seconds, command))
            if done.returncode != 0:
                print(f"README command {number} failed (exit {done.returncode}) after {seconds:.0f} s: {command}")
                return 1
        print("\nREADME commands on a fresh clone (wall time):")
        for seconds, command in timings:
            print(f"  {seconds:7.1f} s  {command}")
        print(f"README commands: {len(timings)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]))

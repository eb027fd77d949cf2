"""Run every command of the README exactly as written, as a newcomer would: fresh clone, fresh venv, no ../shared.

Usage: python3 .ci/readme_commands.py [REPO]   (REPO defaults to this checkout; its HEAD is cloned)

Each fenced ```bash block of README.md is pasted into a shell of its own that starts at the clone's root (a
reader's fresh terminal there), so a `cd` holds for the rest of its block; the virtual environment is active and
there is no global git identity (so the setup's demo-repository identity is what promotion uses). The first
command that fails stops the run (exit 1). Prints the wall time of each command and the load average after it.

`bash scripts/test.sh` runs as written, with pytest narrowed through PYTEST_ADDOPTS to the README and corpus-skip
tests: the whole suite runs in the same CI on the main checkout, and on this 2-core machine it would take CI's
budget twice. What the narrowing leaves out of this environment is checked another way: after the README, the
whole suite must collect here (every test module's imports are in what setup.sh installed).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FENCE = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
TEST_COMMAND = "bash scripts/test.sh"
TEST_SELECTION = "tests/test_readme.py tests/test_corpus.py"


def readme_blocks(readme: str) -> list[list[str]]:
    """The command lines of each ```bash block, block by block (blank lines and comments left out)."""
    return [
        [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        for block in FENCE.findall(readme)
    ]


def readme_commands(readme: str) -> list[str]:
    """Every README command line, in order."""
    return [line for block in readme_blocks(readme) for line in block]


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
        # pip's compiling of every installed module is two thirds of an install here (torch: 39 s, 15 s without);
        # Python compiles what is imported when it is first imported instead. Same packages, same outcome.
        PIP_COMPILE="0",
    )
    return env


def block_script(block: list[str], first_number: int, total: int, marks: Path) -> str:
    """One shell script for a block: each command as written, announced, then its end time and the load average
    appended to `marks`."""
    lines = ["set -euo pipefail"]
    for number, command in enumerate(block, first_number):
        announce = f"=== README command {number}/{total}: {command}"
        run = command
        if command == TEST_COMMAND:
            announce += f"   (pytest narrowed: PYTEST_ADDOPTS={TEST_SELECTION!r})"
            run = f"PYTEST_ADDOPTS={shlex.quote(TEST_SELECTION)} {command}"
        lines += [
            f"printf '\\n%s\\n' {shlex.quote(announce)}",
            run,
            f'echo "$EPOCHREALTIME $(cut -d " " -f 1 /proc/loadavg)" >> {shlex.quote(str(marks))}',
        ]
    return "\n".join(lines) + "\n"


def main(repo: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="readme-") as tmp:
        scratch = Path(tmp)
        clone = scratch / "jupyterlab-promote"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        venv = scratch / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = newcomer_env(scratch, venv)
        blocks = readme_blocks((clone / "README.md").read_text(encoding="utf-8"))
        total = sum(map(len, blocks))
        assert total, "README.md has no ```bash block"
        timings: list[tuple[float, str, str]] = []
        for block in blocks:
            marks = scratch / "marks"
            marks.write_text("")
            started = time.time()
            script = block_script(block, len(timings) + 1, total, marks)
            done = subprocess.run(["bash", "-c", script], cwd=clone, env=env, check=False)
            ends = [line.split() for line in marks.read_text().splitlines()]
            for command, (end, load) in zip(block, ends):
                timings.append((float(end) - started, command, load))
                started = float(end)
            if done.returncode != 0:
                failed = block[len(ends)]
                print(
                    f"README command {len(timings) + 1} failed (exit {done.returncode}) after "
                    f"{time.time() - started:.0f} s: {failed}"
                )
                return 1
        started = time.time()
        # The narrowed test run left most modules unrun: each must at least import in what setup.sh installed.
        subprocess.run(
            [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co"],
            cwd=clone,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"\nthe whole suite collects in the README's environment ({time.time() - started:.1f} s)")
        print("\nREADME commands on a fresh clone (wall time, load average after):")
        for seconds, command, load_after in timings:
            print(f"  {seconds:7.1f} s  load {load_after:>5}  {command}")
        print(f"README commands: {len(timings)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]))

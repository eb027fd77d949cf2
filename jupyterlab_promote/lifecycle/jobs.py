"""Background jobs in a promoted project: its smoke pipeline and its tests, as the generated CI runs them.

A job is one process (``sys.executable``, an argument list: no shell) in its own process group, so that
cancelling it also stops what it started (dataloader workers, MLflow's helpers). A thread reads its output as
it comes, keeping the last ``OUTPUT_LIMIT`` characters; nothing here blocks the caller for longer than a fork.
Plain Python with no server imports: the REST route (lifecycle_handlers.py) and tests use it alike.
"""

from __future__ import annotations

import atexit
import codecs
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PromoteError, UsageError
from .project_state import project_package

OUTPUT_LIMIT = 200_000  # characters of output kept per job (the tail: pytest's summary is last)
KEPT_JOBS = 32  # finished jobs remembered for polling; older ones are forgotten
MAX_RUNNING = 4  # jobs at once, all projects together: each may train a model
TIMEOUT_S = 3600
CANCEL_GRACE_S = 5.0  # SIGTERM first, SIGKILL for the group if it is still there after this


def job_commands(package: str) -> dict[str, list[str]]:
    """The generated CI's own steps (ci.yml, README): the smoke pipeline and the project's tests."""
    return {
        "smoke": ["-m", package, "run", "--smoke"],
        "tests": ["-m", "pytest", "-q"],
    }


class JobConflictError(PromoteError):
    """A job already runs in this project, or too many run at once."""

    status = 409


@dataclass
class Job:
    id: str
    kind: str
    output: Path
    arguments: list[str]  # after the interpreter
    state: str = "running"  # running | passed | failed | cancelled
    exit_code: int | None = None
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    _text: str = ""
    _dropped: int = 0  # characters dropped from the front beyond OUTPUT_LIMIT
    _process: subprocess.Popen | None = None
    _cancelled: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, text: str) -> None:
        with self._lock:
            self._text += text
            excess = len(self._text) - OUTPUT_LIMIT
            if excess > 0:
                self._text, self._dropped = self._text[excess:], self._dropped + excess

    def to_json(self, since: int = 0) -> dict:
        """The job with its output from character ``since`` on (what a poller has not seen yet)."""
        with self._lock:
            start = max(since, self._dropped)
            text = self._text[start - self._dropped :]
            end = self._dropped + len(self._text)
        elapsed = self.seconds if self.seconds is not None else time.monotonic() - self.started
        return {
            "ok": True,
            "job": self.id,
            "kind": self.kind,
            "output": str(self.output),
            "command": " ".join(["python", *self.arguments]),
            "state": self.state,
            "exit_code": self.exit_code,
            "seconds": round(elapsed, 3),
            "text": text,
            "offset": start,
            "next": end,
            "skipped": start - since if start > since else 0,
        }


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def _environment(output: Path) -> dict[str, str]:
    """The server's environment, the project's ``src`` first on the path (as its README and pytest config say)."""
    paths = [str(output / "src"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths)), "PYTHONUNBUFFERED": "1"}


def _refuse_busy(output: Path) -> None:
    running = [job for job in _jobs.values() if job.state == "running"]
    for job in running:
        if job.output == output:
            raise JobConflictError(f"a {job.kind} job is already running in {output}: wait for it or cancel it.")
    if len(running) >= MAX_RUNNING:
        raise JobConflictError(f"{len(running)} jobs are running already; wait for one to finish.")


def _forget_old_jobs() -> None:
    finished = [job for job in _jobs.values() if job.state != "running"]
    for job in finished[:-KEPT_JOBS]:
        _jobs.pop(job.id, None)


def start_job(output: str | Path, kind: str) -> Job:
    """Start ``kind`` (``smoke`` or ``tests``) in the promoted project at ``output``; returns at once."""
    output = Path(output).resolve()
    commands = job_commands(project_package(output))
    if kind not in commands:
        raise UsageError(f"unknown job kind {kind!r}: one of {', '.join(commands)}.")
    with _jobs_lock:
        _refuse_busy(output)
        job = Job(secrets.token_hex(16), kind, output, commands[kind])
        job._process = subprocess.Popen(
            [sys.executable, *job.arguments],
            cwd=output,
            env=_environment(output),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: cancel stops the children too
        )
        _jobs[job.id] = job
        _forget_old_jobs()
    threading.Thread(target=_follow, args=(job,), name=f"promote-job-{job.id[:8]}", daemon=True).start()
    return job


def _follow(job: Job) -> None:
    """Read the output as it comes until the process ends (or the timeout stops it), then record the end."""
    process = job._process
    assert process is not None and process.stdout is not None
    timer = threading.Timer(TIMEOUT_S, _stop, args=(job, f"\n[stopped: still running after {TIMEOUT_S} s]\n"))
    timer.daemon = True
    timer.start()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := process.stdout.read1(65536):
        job.append(decoder.decode(chunk))
    job.append(decoder.decode(b"", final=True))
    job.exit_code = process.wait()
    timer.cancel()
    job.seconds = time.monotonic() - job.started
    job.state = "cancelled" if job._cancelled else "passed" if job.exit_code == 0 else "failed"


def _signal_group(job: Job, signum: int) -> None:
    try:
        os.killpg(job._process.pid, signum)
    except (ProcessLookupError, PermissionError):  # already gone
        pass


def _kill_if_running(job: Job) -> None:
    """Still running means something in the group still holds the output open: SIGKILL it all."""
    if job.state == "running":
        _signal_group(job, signal.SIGKILL)


def _stop(job: Job, note: str) -> None:
    """SIGTERM to the job's process group, SIGKILL after a grace period if anything is left."""
    if job.state != "running" or job._process is None:
        return
    job.append(note)
    _signal_group(job, signal.SIGTERM)
    killer = threading.Timer(CANCEL_GRACE_S, _kill_if_running, args=(job,))
    killer.daemon = True
    killer.start()


def get_job(job_id: str) -> Job | None:
    return _jobs.get(job_id)


def cancel_job(job_id: str) -> Job | None:
    """Stop a running job (its whole process group); a finished job is left as it is. None: no such job."""
    job = _jobs.get(job_id)
    if job is not None and job.state == "running":
        job._cancelled = True
        _stop(job, "\n[cancelled]\n")
    return job


@atexit.register
def _stop_running_jobs() -> None:
    """Jobs run in their own sessions, so they would outlive the server: stop them with it."""
    for job in list(_jobs.values()):
        if job.state == "running":
            _signal_group(job, signal.SIGTERM)

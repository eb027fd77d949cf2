"""What a promoted project holds now, read for the panel: the hand edits merges kept, its package and its registry.

Read-only: nothing here writes to the project. MLflow is imported inside :func:`registered_versions` only, since
it takes seconds to import and is an optional dependency of the server (the generated project depends on it).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import PromoteError

# Variables that would point git at another repository or index than the project's.
_SCRUBBED_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
REGISTRY_FILE = "mlflow.db"
CHAMPION_ALIAS = "champion"


class NotAProjectError(PromoteError):
    """The directory is not a project that jupyter promote generated."""

    status = 404


def hand_edits(output: Path, branch: str) -> list[str]:
    """Generated files whose working copy differs from the pristine promote branch, relative to ``output``.

    The promote branch holds only generated text, so these are the hand edits (changes and deletions) that the
    last merge kept. Files the user added are not generated files and are not listed. One git call, outside
    gitrepo's journal: it only reads.
    """
    if not output.is_dir():
        return []
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_GIT_ENV}
    env.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1"})
    command = ["git", "--no-optional-locks", "diff", "--name-only", "-z", "--relative", "--diff-filter=MDT"]
    try:
        done = subprocess.run(
            [*command, f"refs/heads/{branch}", "--"], cwd=output, env=env, capture_output=True, check=False
        )
    except OSError:  # no git: promotion would have said so already
        return []
    if done.returncode != 0:  # not a repository, or never promoted on this branch
        return []
    return sorted(name.decode("utf-8", "surrogateescape") for name in done.stdout.split(b"\0") if name)


def project_package(output: Path) -> str:
    """The package of a generated project: the one ``src/PKG/__main__.py`` beside its ``promote.toml``."""
    if not (output / "promote.toml").is_file():
        raise NotAProjectError(f"{output} is not a promoted project (no promote.toml): promote the notebook first.")
    # identifiers only: the name goes into an MLflow search filter and a `python -m` argument
    found = sorted(
        main.parent.name for main in (output / "src").glob("*/__main__.py") if main.parent.name.isidentifier()
    )
    if len(found) != 1:
        raise NotAProjectError(
            f"{output} has {len(found)} runnable packages under src/ (expected one, as jupyter promote generates)."
        )
    return found[0]


def _version_json(client, version, champion: str | None) -> dict:
    """One registered version with its run's metrics; a run that is gone leaves the metrics empty."""
    # registered_versions has imported mlflow already
    from mlflow.exceptions import MlflowException

    try:
        metrics = dict(client.get_run(version.run_id).data.metrics) if version.run_id else {}
    except MlflowException:  # a deleted run: the version itself is still worth listing
        metrics = {}
    return {
        "version": str(version.version),
        "run_id": version.run_id or "",
        "created": int(version.creation_timestamp or 0),
        "champion": str(version.version) == champion,
        "reason": (version.tags or {}).get("champion_reason", ""),
        "metrics": {name: value for name, value in sorted(metrics.items())},
    }


def registered_versions(output: Path) -> dict:
    """The project's MLflow registry (``mlflow.db``, model = package name): versions, metrics and the champion.

    ``available`` is False, with a ``reason``, when there is no registry yet or mlflow cannot be imported.
    """
    package = project_package(output)
    reply = {"ok": True, "output": str(output), "model": package, "available": False, "reason": "", "champion": None}
    database = output / REGISTRY_FILE
    if not database.is_file():
        return {**reply, "versions": [], "reason": f"no {REGISTRY_FILE} yet: run the pipeline (its register stage)"}
    try:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
    except ImportError as exc:
        return {**reply, "versions": [], "reason": f"mlflow cannot be imported by the server ({exc})"}
    uri = f"sqlite:///{database.resolve()}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        champion = str(client.get_model_version_by_alias(package, CHAMPION_ALIAS).version)
    except MlflowException:
        champion = None
    try:
        versions = client.search_model_versions(f"name = '{package}'")
    except MlflowException as exc:
        return {**reply, "versions": [], "reason": f"the registry cannot be read: {str(exc)[:200]}"}
    listed = [_version_json(client, version, champion) for version in versions]
    listed.sort(key=lambda item: int(item["version"]) if item["version"].isdigit() else 0, reverse=True)
    return {**reply, "available": True, "champion": champion, "versions": listed}

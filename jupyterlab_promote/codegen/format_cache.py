"""Formatted files remembered on disk, by content: black runs only on code it has not formatted before.

Formatting (isort, black, the lint marks) is most of a promotion's time, and most generated files are
the same from one promotion to the next (templates, unchanged steps), across notebooks and processes.
An entry is keyed by a hash of the source, the first-party package, the formatter versions and the
formatting code itself, so it is never stale. The cache is an optimisation only: an unreadable or
unwritable cache directory just means formatting again.

Location: ``$JUPYTERLAB_PROMOTE_CACHE_DIR``, else ``$XDG_CACHE_HOME/jupyterlab-promote`` (``~/.cache``);
``JUPYTERLAB_PROMOTE_CACHE_DIR=""`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..installed import distribution_version

_FORMATTING_CODE = ("lint.py", "render.py", "format_cache.py", "piecewise_black.py", "import_sorting.py")


def cache_dir() -> Path | None:
    configured = os.environ.get("JUPYTERLAB_PROMOTE_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "format" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jupyterlab-promote" / "format"


@lru_cache(maxsize=1)
def _formatter_fingerprint() -> bytes:
    digest = hashlib.sha256()
    for distribution in ("black", "ruff"):
        digest.update(f"{distribution}={distribution_version(distribution) or '?'}\0".encode())
    here = Path(__file__).resolve().parent
    for name in _FORMATTING_CODE:
        digest.update((here / name).read_bytes() + b"\0")
    return digest.digest()


def cached_format(source: str, setting: str, formatter: Callable[[str, str], str]) -> str:
    """``formatter(source, setting)``, from the disk cache when it formatted the same input before.

    ``setting`` is what else the output depends on: the first-party package (isort), black's Mode."""
    formatted = remembered(source, setting, formatter)
    if formatted is None:
        formatted = formatter(source, setting)
        remember(source, setting, formatter, formatted)
    return formatted


def remembered(source: str, setting: str, formatter: Callable[[str, str], str]) -> str | None:
    """What ``formatter(source, setting)`` gave before, or None."""
    entry = _entry(source, setting, formatter)
    if entry is None:
        return None
    try:
        return entry.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def remember(source: str, setting: str, formatter: Callable[[str, str], str], formatted: str) -> None:
    entry = _entry(source, setting, formatter)
    if entry is None:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_name(f".{entry.name}.{secrets.token_hex(4)}.tmp")
        partial.write_text(formatted, encoding="utf-8")
        os.replace(partial, entry)  # readers see a whole entry or none
    except OSError:
        pass


def _entry(source: str, setting: str, formatter: Callable[[str, str], str]) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(_formatter_fingerprint())
    digest.update(formatter.__name__.encode() + b"\0" + setting.encode() + b"\0")
    digest.update(source.encode("utf-8", "surrogatepass"))
    return folder / digest.hexdigest()[:2] / digest.hexdigest()

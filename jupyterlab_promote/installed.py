"""Versions of installed distributions, read from their metadata's headers only.

``importlib.metadata.version`` parses a distribution's whole METADATA file as an email message: black's holds its
changelog (110 KB, 9 ms a call). A first promotion reads black's version three times (the format cache's key, the
record of black's output, the generated project's requirements), so this reads the header it needs and stops.
"""

from __future__ import annotations

import functools
from importlib import metadata


@functools.lru_cache(maxsize=256)
def distribution_version(distribution: str) -> str:
    """The installed version of ``distribution`` as its metadata says it (local tags such as +cpu kept), or ""
    when it is not installed. Kept for the process: finding a distribution scans every folder of sys.path."""
    try:
        found = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return ""
    text = found.read_text("METADATA") or found.read_text("PKG-INFO") or ""
    headers = text.replace("\r\n", "\n").partition("\n\n")[0]
    for line in headers.split("\n"):
        if line.startswith("Version:"):
            return line.partition(":")[2].strip()
    return found.version or ""

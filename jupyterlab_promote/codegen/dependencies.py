"""Which distributions a generated project needs, from the modules its code imports."""

from __future__ import annotations

import functools
import sys
from importlib import metadata

from ..installed import distribution_version

# Import name → distribution name, where they differ.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "IPython": "ipython",
    "pytorch_lightning": "pytorch-lightning",
    "lightning_fabric": "pytorch-lightning",  # pytorch-lightning ships lightning_fabric
    "dateutil": "python-dateutil",
    "attr": "attrs",
    "mlflow": "mlflow",  # the full distribution (tracking server, UI), even where only mlflow-skinny is installed
}
# Floors whatever is installed here: Lightning 2.6.2 and 2.6.3 were malicious releases (removed from PyPI); the
# registry code uses MLflow 3's API (`name=`, aliases), and only mlflow-skinny may be installed here.
MINIMUM = {"pytorch-lightning": "2.6.4", "mlflow": "3"}


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def installed_version(distribution: str) -> str:
    """The version installed here, local tags like +cpu dropped, or "" when none is. Kept for the process (a
    package upgraded under a running server only makes the floor it writes lower than it could be)."""
    return distribution_version(distribution).split("+")[0]


def requirement(distribution: str) -> str:
    """``name>=installed``, or the bare name when not installed here."""
    installed = installed_version(distribution)
    floor = MINIMUM.get(distribution, "")
    if installed and (not floor or _version_key(installed) >= _version_key(floor)):
        floor = installed
    return f"{distribution}>={floor}" if floor else distribution


def checker_requirements() -> list[str]:
    """black and ruff as the generated project's tests need them: the versions that formatted and marked its code,
    up to the next release allowed to change their verdicts (black's stable style changes only in its first release
    of a year; ruff's rules only in a minor release), so the project's own CI agrees with its generator."""
    found = []
    for name, width in (("black", 1), ("ruff", 2)):
        installed = installed_version(name)
        if not installed:
            found.append(name)
            continue
        parts = [int(part) if part.isdigit() else 0 for part in installed.split(".")[:width]]
        parts += [0] * (width - len(parts))
        parts[-1] += 1
        found.append(f"{name}>={installed},<{'.'.join(map(str, parts))}")
    return found


def distribution_of(root: str) -> str:
    """The distribution that provides the top-level module ``root``: the table above, a distribution of that very
    name, else whichever installed distribution ships it (``imblearn`` → imbalanced-learn), else ``root``."""
    if root in DISTRIBUTIONS:
        return DISTRIBUTIONS[root]
    try:
        metadata.distribution(root)
        return root
    except metadata.PackageNotFoundError:
        providers = _installed_providers().get(root)
        return sorted(providers)[0] if providers else root


@functools.lru_cache(maxsize=1)
def _installed_providers() -> dict[str, list[str]]:
    # Scans every installed distribution (~0.8 s): only for an import name that is no distribution's name.
    return metadata.packages_distributions()


def distributions(import_lines: list[str], local: frozenset[str] = frozenset()) -> list[str]:
    """Third-party distributions behind import statements (standard library and the ``local`` packages left out:
    the generated package's own name is no distribution, and looking it up would scan every installed one)."""
    found: list[str] = []
    for line in import_lines:
        root = line.split()[1].split(".")[0]
        if root in sys.stdlib_module_names or root.startswith("_") or root == "__future__" or root in local:
            continue
        name = distribution_of(root)
        if name not in found:
            found.append(name)
    return found

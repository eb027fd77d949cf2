"""The nested imports handed to isort as placeholders change nothing: isort's output, byte for byte (issue 12)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import isort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyterlab_promote import api
from jupyterlab_promote.codegen import render
from jupyterlab_promote.codegen.import_sorting import _settled_lines, sort_imports
from tests.helpers import FIXTURES

CONFIGS = [
    isort.Config(profile="black", src_paths=()),
    isort.Config(profile="black", known_first_party=["demo"], src_paths=()),
]


def _outcome(sort, *args, **kwargs) -> str:
    try:
        return sort(*args, **kwargs)
    except Exception as error:  # isort's refusals (a skip_file comment) must be the same too
        return f"{type(error).__name__}: {error}"


def _same_as_isort(source: str) -> None:
    for config in CONFIGS:
        assert _outcome(sort_imports, source, config, isort) == _outcome(isort.code, source, config=config)


def test_the_modules_a_promotion_formats_sort_as_isort_sorts_them(tmp_path: Path, monkeypatch) -> None:
    """Every module promoting the fixtures hands to isort, the templates' nested imports among them."""
    monkeypatch.setenv("JUPYTERLAB_PROMOTE_CACHE_DIR", "")
    render.format_python.cache_clear()
    handed: list[str] = []
    real = render.sort_imports
    monkeypatch.setattr(render, "sort_imports", lambda source, *rest: handed.append(source) or real(source, *rest))
    for notebook in sorted(FIXTURES.glob("*.ipynb"))[:4]:
        api.promote(notebook, tmp_path / notebook.stem, commit=False)
    render.format_python.cache_clear()
    assert len(handed) > 20
    assert sum(len(_settled_lines(source.split("\n"))) for source in handed) > 20  # the shortcut is taken
    for source in handed:
        _same_as_isort(source)


STANDARD_LIBRARY = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize("package", ["json", "email", "importlib", "asyncio", "unittest"])
def test_the_standard_librarys_modules_sort_as_isort_sorts_them(package: str) -> None:
    modules = sorted((STANDARD_LIBRARY / package).rglob("*.py"))
    if not modules:
        pytest.skip(f"no sources of the standard library's {package} here")
    for module in modules:
        _same_as_isort(module.read_text(encoding="utf-8", errors="surrogateescape"))


EXAMPLES = int(os.environ.get("JUPYTERLAB_PROMOTE_FUZZ_EXAMPLES", "300"))  # 3,000 a run here: 0 failures
_LINES = [
    "import os",
    "import os.path",
    "from a import b",
    "from . import b",
    "from .a.b import c",
    "from a import c, b",
    "import sys as system",
    "from a import (b)",
    "import os  # why",
    "import os; x = 1",
    "# a comment",
    "",
    "x = 1",
    "def f():",
    "if x:",
    "try:",
    "except ImportError:",
    '"""',
    "x = (",
    ")",
    "y = 2 \\",
    "@decorator",
    "pass",
    "# isort: off",
    "# isort: on",
    "# isort: skip_file",
    "\timport os",
    "import os\r",
]


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(_LINES)), min_size=1, max_size=10))
def test_generated_modules_sort_as_isort_sorts_them(lines: list[tuple[int, str]]) -> None:
    """Any mix of imports (nested or not, alone or in blocks), comments, blank lines, strings and continuations."""
    _same_as_isort("\n".join("    " * depth + text if text else "" for depth, text in lines) + "\n")


def test_a_source_holding_the_marker_is_sorted_by_isort_alone() -> None:
    source = "def f():\n    import os\n    x = 1  # isort-settled-import 1\n"
    _same_as_isort(source)

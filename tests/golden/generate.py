"""What promotion generates for each golden notebook, as file → sha256: the golden record and its check.

    python -m tests.golden.generate        # rewrite tests/golden/generated.json after an intended change

The record covers the demo, our fixture notebooks and, when ../shared sits beside the clone, every corpus
notebook. promote.toml is hashed without its `generation_key` and `tool_version` lines: they change with
any change to this code, which is what the record is there to show does not change the output. Requirement
floors (``torch>=2.13.0``) are hashed as ``>=FLOOR``: they are the versions installed here.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ..helpers import CORPUS, FIXTURES

ROOT = Path(__file__).resolve().parents[2]
RECORD = Path(__file__).resolve().parent / "generated.json"
_VOLATILE = re.compile(r"^(generation_key|tool_version) = .*\n", re.MULTILINE)
# A requirement's floor is the version installed where promotion runs (codegen/dependencies.requirement): a fresh
# environment resolves newer ones. The record holds what promotion writes, not what pip resolved.
_FLOOR = re.compile(r">=\d[\w.]*(?:,<\d[\w.]*)?")  # with the ceiling of black and ruff


def golden_notebooks() -> dict[str, Path]:
    """Record key → notebook; corpus keys start with 'corpus/' and exist only where ../shared does."""
    found = {"examples/demo": ROOT / "examples" / "demo.ipynb"}
    found |= {f"fixtures/{path.stem}": path for path in sorted(FIXTURES.glob("*.ipynb"))}
    for path in sorted([*CORPUS.glob("*.ipynb"), *CORPUS.glob("wild/*.ipynb")]):
        found[f"corpus/{path.relative_to(CORPUS).with_suffix('')}"] = path
    return found


def generated_hashes(notebook: Path) -> dict[str, str]:
    from jupyterlab_promote import api
    from jupyterlab_promote.codegen import generate

    plan = api.analyze(notebook)
    if not plan.ok:
        return {"<refused>": ",".join(sorted({d.code for d in plan.all_diagnostics if d.severity.value == "error"}))}
    hashes = {}
    for name, text in sorted(generate(plan, notebook.name).files.items()):
        if name == "promote.toml":
            text = _VOLATILE.sub("", text)
        text = _FLOOR.sub(">=FLOOR", text)
        hashes[name] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return hashes


def formatter_versions() -> str:
    """The formatters whose output the record holds: another version may format the same code otherwise."""
    from importlib import metadata

    return ", ".join(f"{name} {metadata.version(name)}" for name in ("black", "ruff"))


def main() -> None:
    record = json.loads(RECORD.read_text()) if RECORD.is_file() else {}
    record["<formatters>"] = formatter_versions()
    for key, notebook in golden_notebooks().items():
        record[key] = generated_hashes(notebook)
        print(f"{key}: {len(record[key])} files")
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

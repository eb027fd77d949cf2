"""Promotion speed and generated-code overhead, side by side with the anchors.

    python benchmarks/bench_promote.py            # corpus from ../shared/corpus, demo from examples/

Columns (median of --repeat runs, milliseconds, in-process so imports are paid once):
  promote   analyse + generate (black included), no git          — this tool
  +git      the same plus commit and merge into a fresh repository — this tool
  nbconvert `ScriptExporter` (notebook → one .py)                 — anchor
  jupytext  `jupytext.writes(nb, "py:percent")`                    — anchor
  nbdev     `nbdev.export.nb_export` of the same cells, each marked `#| export` — anchor
Then training: the demo's raw PyTorch loop (the notebook's own code as a script) against the
promoted Lightning project (`python -m demo run`), wall time of whole processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))


def median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_notebook(path: Path, repeat: int) -> dict[str, float]:
    import jupytext
    import nbformat
    from nbconvert import ScriptExporter
    from nbdev.export import nb_export

    from jupyterlab_promote import api
    from jupyterlab_promote.codegen import generate
    from jupyterlab_promote.codegen.render import forget_formatted

    node = nbformat.read(str(path), as_version=4)
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    marked = nbformat.from_dict(json.loads(json.dumps(node)))
    for cell in marked.cells:
        if cell.cell_type == "code" and any(t.startswith("promote:") and t != "promote:skip" for t in cell.metadata.get("tags", [])):
            cell.source = "#| export\n" + cell.source
    marked_path = scratch / path.name
    nbformat.write(marked, str(marked_path))
    counter = iter(range(10_000))

    def promote_with_git() -> None:
        forget_formatted()  # measure a first promotion, not the panel's memoised repeats
        api.promote(path, scratch / f"git-{next(counter)}")

    def promote_cold() -> None:
        forget_formatted()
        generate(api.analyze(path))

    row = {
        "promote": median_ms(promote_cold, repeat),
        "+git": median_ms(promote_with_git, repeat),
        "nbconvert": median_ms(lambda: ScriptExporter().from_notebook_node(node), repeat),
        "jupytext": median_ms(lambda: jupytext.writes(node, "py:percent"), repeat),
        "nbdev": median_ms(lambda: nb_export(str(marked_path), str(scratch / "lib"), name="module"), repeat),
    }
    shutil.rmtree(scratch, ignore_errors=True)
    return row


def bench_training(repeat: int) -> tuple[float, float]:
    """(raw loop script, promoted Lightning project) wall seconds for the demo notebook."""
    import nbformat
    from nbconvert import PythonExporter

    from jupyterlab_promote import api

    demo = ROOT / "examples" / "demo.ipynb"
    scratch = Path(tempfile.mkdtemp(prefix="bench-train-"))
    node = nbformat.read(str(demo), as_version=4)
    node.cells = [c for c in node.cells if "promote:skip" not in c.metadata.get("tags", [])]
    script, _ = PythonExporter().from_notebook_node(node)
    script = script.replace("get_ipython().run_line_magic('matplotlib', 'inline')", "")
    (scratch / "raw.py").write_text(script)
    api.promote(demo, scratch / "project")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH="src")

    def raw() -> None:
        subprocess.run([sys.executable, "raw.py"], cwd=scratch, env=env, check=True, capture_output=True)

    def promoted() -> None:
        subprocess.run([sys.executable, "-m", "demo", "run", "--accelerator", "cpu"], cwd=scratch / "project", env=env, check=True, capture_output=True)

    result = median_ms(raw, repeat) / 1000, median_ms(promoted, repeat) / 1000
    shutil.rmtree(scratch, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.com")
    os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.com")
    columns = ["promote", "+git", "nbconvert", "jupytext", "nbdev"]
    print(f"{'notebook':<42}" + "".join(f"{c:>11}" for c in columns) + f"{'promote/nbconvert':>19}{'promote/nbdev':>15}")
    for path in sorted(CORPUS.glob("*.ipynb")) + [ROOT / "examples" / "demo.ipynb"]:
        row = bench_notebook(path, args.repeat)
        ratios = f"{row['promote'] / row['nbconvert']:>18.1f}x{row['promote'] / row['nbdev']:>14.1f}x"
        print(f"{path.name:<42}" + "".join(f"{row[c]:>9.1f}ms" for c in columns) + ratios)
    raw, promoted = bench_training(max(1, args.repeat // 2))
    print(f"\ndemo training, whole process: raw PyTorch loop {raw:.1f}s, promoted Lightning project {promoted:.1f}s, ratio {promoted / raw:.2f}x")


if __name__ == "__main__":
    main()

"""The server shares work between identical requests: one computation per burst, analyses remembered by content."""

from __future__ import annotations

import asyncio
import threading
import time

from jupyterlab_promote import api
from tests.test_handlers import NOTEBOOK, call, git_identity, jp_server_config, notebook, write_notebook  # noqa: F401


def count_calls(monkeypatch, name: str) -> dict:
    """Counts calls of ``api.NAME``, each held a moment so that concurrent requests overlap."""
    original, counts, lock = getattr(api, name), {"calls": 0}, threading.Lock()

    def counted(*args, **kwargs):
        with lock:
            counts["calls"] += 1
        time.sleep(0.2)  # not a timing assert: only widens the window in which requests are in flight together
        return original(*args, **kwargs)

    monkeypatch.setattr(api, name, counted)
    return counts


async def test_a_burst_of_identical_previews_is_computed_once(jp_fetch, notebook, monkeypatch):
    counts = count_calls(monkeypatch, "preview")
    # within the client's 10 connections
    replies = await asyncio.gather(*(call(jp_fetch, "preview", {"path": NOTEBOOK}) for _ in range(8)))
    assert all(status == 200 and reply["ok"] for status, reply in replies), replies
    assert counts["calls"] == 1, counts
    assert len({str(reply) for _, reply in replies}) == 1


async def test_previews_of_different_notebooks_are_not_shared(jp_fetch, notebook, jp_root_dir, monkeypatch):
    write_notebook(jp_root_dir / "other.ipynb", "model = nn.Linear(4, 3)")
    counts = count_calls(monkeypatch, "preview")
    replies = await asyncio.gather(*(call(jp_fetch, "preview", {"path": p}) for p in (NOTEBOOK, "other.ipynb")))
    assert [reply["ok"] for _, reply in replies] == [True, True]
    assert counts["calls"] == 2


async def test_an_analysis_is_remembered_until_the_notebook_changes(jp_fetch, notebook, jp_root_dir, monkeypatch):
    counts = count_calls(monkeypatch, "analyze")
    first = await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    again = await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    assert first == again and first[0] == 200 and counts["calls"] == 1
    write_notebook(jp_root_dir / NOTEBOOK, "model = nn.Linear(4, 3)")
    changed = await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    assert changed[0] == 200 and counts["calls"] == 2
    assert any("nn.Linear(4, 3)" in cell["first_line"] for cell in changed[1]["cells"])


async def test_an_analysis_is_made_again_when_a_module_beside_the_notebook_changes(
    jp_fetch, notebook, jp_root_dir, monkeypatch
):
    """The analysis copies the modules the notebook imports from its folder (PRM055, or PRM052 for one that does
    not parse): a change to one of them, the notebook unchanged, is another analysis, not the remembered one."""
    counts = count_calls(monkeypatch, "analyze")
    await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    (jp_root_dir / "helpers.py").write_text("def scale(x):\n    return x\n")
    status, _ = await call(jp_fetch, "analyze", {"path": NOTEBOOK})
    assert status == 200 and counts["calls"] == 2

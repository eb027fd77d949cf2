"""How long a first promotion will wait on black, said before it starts (the CLI's and the panel's progress line)."""

from __future__ import annotations

from ..stages.plan import Plan
from . import black_workers
from .piecewise_black import LONG_BODY
from .plain_lines import is_plain_body
from .render import LINE_LENGTH

# black's pace on notebook code, first formatting, a core (benchmarks/README.md: 5 MB of statements, 25 s of black;
# 10,000 cells, 6 s); the plain statements of a long step skip it and cost only their recognition (plain_lines)
_BLACK_BYTES_PER_SECOND = 150_000
_PLAIN_BYTES_PER_SECOND = 2_000_000
_SAMPLED_LINES = 2_000


def formatting_estimate(plan: Plan) -> str | None:
    """What to tell a user about to wait on black: the promoted code's size and a first formatting's time, when
    that is over a few seconds; None otherwise. Stored literals (stages/literals.py) are not formatted, a long
    step's plain statements are not either (their share is sampled), and black runs in worker processes."""
    stored = sum(len(s.text) for found in plan.literals.values() for _, s in found)
    codes = [c.plain.code for c in plan.cells if c.promoted and c.plain]
    size = max(sum(len(code) for code in codes) - stored, 0)
    plain = _plain_size(codes)
    formatted = max(size - plain, 0)
    cores = black_workers.workers() if formatted >= black_workers.PARALLEL_CHARACTERS else 1
    seconds = formatted / _BLACK_BYTES_PER_SECOND / cores + plain / _PLAIN_BYTES_PER_SECOND
    if seconds < 5:
        return None
    return f"black formats {formatted / 2**20:.1f} MB of code: about {seconds:.0f} s the first time"


def _plain_size(codes: list[str]) -> float:
    """About how many characters of the long cells (a step cut in parts, piecewise_black) are plain statements
    black need not format, from a sample of their lines."""
    plain = 0.0
    for code in codes:
        if len(code) <= LONG_BODY:
            continue
        lines = code.split("\n")
        sample = lines[:: max(1, len(lines) // _SAMPLED_LINES)]
        share = sum(is_plain_body(f"    {line}\n", LINE_LENGTH) for line in sample) / len(sample)
        plain += share * len(code)
    return plain

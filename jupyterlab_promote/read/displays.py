"""Calls whose only effect is on the screen, in one place for every part that must recognise them."""

from __future__ import annotations

# IPython's own display functions: dropped from the package (codegen/statements.py).
DISPLAY_FUNCTIONS = {"display", "clear_output"}
# Methods whose call, as a bare statement, only shows its receiver (analysis/names.py: not a change of it).
DISPLAY_METHODS = {"head", "tail", "describe", "info", "show", "summary", "value_counts"}
# matplotlib's drawing calls: a cell of two or more of them is a plot (analysis/suggest.py).
PLOT_CALLS = {
    "scatter",
    "plot",
    "imshow",
    "contourf",
    "contour",
    "axis",
    "axvline",
    "axhline",
    "subplots",
    "figure",
    "rc",
    "hist",
    "bar",
    "legend",
}
# Everything that only shows something: a cell made of these alone is exploration (analysis/suggest.py).
OUTPUT_CALLS = {"print", "title", "xlabel", "ylabel"} | DISPLAY_FUNCTIONS | DISPLAY_METHODS | PLOT_CALLS

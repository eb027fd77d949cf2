"""``--verify``: the notebook and the promoted package run, and their metrics compared."""

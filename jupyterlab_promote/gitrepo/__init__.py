"""Where git is touched: the commit-and-merge flow, its undo journal, and the git commands they run."""

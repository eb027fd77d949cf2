"""Reading a notebook: its cells, their lines, and IPython syntax turned into plain Python."""

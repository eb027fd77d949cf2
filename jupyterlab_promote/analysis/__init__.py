"""Analysing each cell on its own: its role from its tags, its names, its loop, and the checks it fails."""

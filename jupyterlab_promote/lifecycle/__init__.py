"""A promoted project after promotion: background jobs in it, and what it holds now, read for the panel."""

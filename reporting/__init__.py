"""One self-contained HTML report of a run: the shared kit and sections (tasks add their own)."""

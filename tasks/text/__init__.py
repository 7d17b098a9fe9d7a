"""The text task: everything it owns (see its README.md)."""

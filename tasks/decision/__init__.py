"""The decision task: everything it owns (see its README.md)."""

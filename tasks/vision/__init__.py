"""The vision task: everything it owns (see its README.md)."""

"""The speech task: everything it owns (see its README.md)."""
